// Every corpus scenario of this package's area (it uses scan or pagemap)
// that needs nothing beyond the core ops plus scan / pagemap runs on the
// shared scenario runner with ONLY this feature installed, and must
// reproduce the recorded kernel results exactly. Scenarios that also need
// userfaultfd or guard advice are left to packages/conformance, which runs
// the whole corpus with every feature.
import { describe, expect, it } from 'vitest';
import { canonicalResults, firstDifference, skipReason } from '@pagewalk/scenario';
import { checkInvariants } from '@pagewalk/core-walk';
import { loadCorpus, missingCapabilities, recordedResults, runScenario, usesAnyOp } from '@pagewalk/scenario-runner';
import { plugin } from './index.js';

const features = [plugin];
const ours = loadCorpus().filter((entry) => usesAnyOp(entry.scenario, ['scan', 'pagemap']));
const runnable = ours.filter(
  (entry) => recordedResults(entry) !== null && skipReason(entry.scenario) === null && missingCapabilities(entry.scenario, features).length === 0,
);

describe('kernel-recorded corpus (core ops + scan/pagemap, only this feature installed)', () => {
  it('finds scenarios', () => {
    expect(runnable.length).toBeGreaterThan(20);
  });
  for (const entry of runnable) {
    it(entry.file, () => {
      const { results, kernel } = runScenario(entry.scenario, { features });
      const difference = firstDifference(canonicalResults(recordedResults(entry)!), canonicalResults(results));
      expect(difference, JSON.stringify(difference)).toBeNull();
      expect(checkInvariants(kernel)).toEqual([]);
    });
  }
});
