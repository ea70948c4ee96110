// PM_SCAN_WP_MATCHING / CHECK_WPASYNC / WPALLOWED against the recorded
// kernel, with a TEST DOUBLE for the userfaultfd side (test-support/fake-uffd).
// This checks this package's half of the contract; real conformance of these
// scenarios needs the uffd-wp package.
import { describe, expect, it } from 'vitest';
import { canonicalResults, firstDifference, skipReason } from '@pagewalk/scenario';
import { checkInvariants } from '@pagewalk/core-walk';
import { loadCorpus, runScenario } from './test-support/executor.js';
import { fakeUffdFeature, fakeUffdOps } from './test-support/fake-uffd.js';

const candidates = loadCorpus().filter(
  (entry) =>
    entry.expected !== null &&
    skipReason(entry.scenario) === null &&
    entry.scenario.ops.some((op) => op.op === 'uffd_open') &&
    entry.scenario.ops.some((op) => op.op === 'scan' || op.op === 'pagemap') &&
    !entry.scenario.ops.some((op) => op.op === 'madvise' && op.advice.startsWith('guard')),
);

describe('WP scenarios with a uffd test double', () => {
  const ran: string[] = [];
  for (const entry of candidates) {
    const { results, kernel } = runScenario(entry.scenario, [fakeUffdFeature], fakeUffdOps());
    if (results.some((result) => result.unsupported)) continue; // needs more than the double models
    ran.push(entry.path);
    it(entry.path, () => {
      const difference = firstDifference(canonicalResults(entry.expected!), canonicalResults(results));
      expect(difference, JSON.stringify(difference)).toBeNull();
      expect(checkInvariants(kernel)).toEqual([]);
    });
  }
  it('covers the async scenarios', () => {
    expect(ran.length).toBeGreaterThanOrEqual(8);
  });
});
