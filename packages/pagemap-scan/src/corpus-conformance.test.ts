// Every corpus scenario that needs only the core ops plus scan / pagemap
// must reproduce the recorded kernel results exactly.
import { describe, expect, it } from 'vitest';
import { canonicalResults, firstDifference, skipReason, type ScenarioOp } from '@pagewalk/scenario';
import { checkInvariants } from '@pagewalk/core-walk';
import { CORE_OPS, loadCorpus, runScenario } from './test-support/executor.js';

const OURS = new Set<string>([...CORE_OPS, 'scan', 'pagemap']);
/** Ops or fields another feature package provides (guard-pages for the guard advices). */
const needsOtherFeature = (op: ScenarioOp): boolean =>
  !OURS.has(op.op) || (op.op === 'madvise' && (op.advice === 'guard_install' || op.advice === 'guard_remove'));
const corpus = loadCorpus().filter(
  (entry) => entry.expected !== null && skipReason(entry.scenario) === null && !entry.scenario.ops.some(needsOtherFeature),
);
const usesOurOps = corpus.filter((entry) => entry.scenario.ops.some((op) => op.op === 'scan' || op.op === 'pagemap'));

/** Scenarios that differ because of the core simulator (not this package); see the package README. */
const KNOWN_CORE_DIFFERENCES: Record<string, string> = {
};

describe('kernel-recorded corpus (core ops + scan/pagemap)', () => {
  it('finds scenarios', () => {
    expect(usesOurOps.length).toBeGreaterThan(20);
  });
  for (const entry of usesOurOps) {
    const known = KNOWN_CORE_DIFFERENCES[entry.path];
    const test = known === undefined ? it : it.fails;
    test(entry.path, () => {
      const { results, kernel } = runScenario(entry.scenario);
      const difference = firstDifference(canonicalResults(entry.expected!), canonicalResults(results));
      expect(difference, JSON.stringify(difference)).toBeNull();
      expect(checkInvariants(kernel)).toEqual([]);
    });
  }
});
