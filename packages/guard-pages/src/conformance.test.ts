/**
 * Every corpus scenario that uses guard advice and needs nothing beyond the
 * core ops, guard advice and pagemap runs on the simulator with only the
 * guard-pages feature installed, and must match the kernel recording.
 * Scenarios needing scan / uffd ops (pagemap-scan, uffd-wp) are listed as
 * skipped with the ops they miss.
 */
import { describe, expect, it } from 'vitest';
import { firstDifference, skipReason } from '@pagewalk/scenario';
import { checkInvariants } from '@pagewalk/core-walk';
import { guardPages } from './index.js';
import { loadCorpus, missingOps, runLocal, usesGuards } from './test-support.js';

const corpus = loadCorpus().filter((entry) => usesGuards(entry.scenario));

/** Scenarios whose only missing op is a read-only `scan`: every other result is still compared. */
function scanOnly(missing: readonly string[], entry: (typeof corpus)[number]): boolean {
  return (
    missing.length === 1 &&
    missing[0] === 'scan' &&
    entry.scenario.ops.every((op) => op.op !== 'scan' || (op.flags ?? []).length === 0)
  );
}

describe('kernel-recorded guard scenarios', () => {
  it('the corpus has guard scenarios', () => {
    expect(corpus.length).toBeGreaterThan(20);
  });
  for (const entry of corpus) {
    const missing = missingOps(entry.scenario);
    const profileSkip = skipReason(entry.scenario);
    const partial = scanOnly(missing, entry);
    const reason =
      missing.length > 0 && !partial ? `needs ${missing.join(', ')}` : profileSkip !== null ? profileSkip : entry.kernel === null ? `no kernel results: ${entry.kernelSkipped}` : null;
    const note = reason !== null ? ` (skipped: ${reason})` : partial ? ' (scan results not compared: pagemap-scan)' : '';
    it.skipIf(reason !== null)(`${entry.path}${note}`, () => {
      const { results, kernel } = runLocal(entry.scenario, [guardPages]);
      const keep = (_: unknown, index: number) => entry.scenario.ops[index]!.op !== 'scan';
      const difference = firstDifference(entry.kernel!.filter(keep), results.filter(keep));
      expect(difference, JSON.stringify(difference)).toBeNull();
      expect(checkInvariants(kernel)).toEqual([]);
    });
  }
});
