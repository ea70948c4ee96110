// Runs the kernel-recorded userfaultfd scenarios (corpus/uffd and the uffd
// scenarios of other areas) on the shared scenario runner with ONLY this
// feature installed, and compares with the recordings. Ops another feature
// provides (scan, pagemap, guard advice) are not available here: such a
// scenario is compared up to its first one, and listed in
// NEEDS_OTHER_FEATURES (packages/conformance runs it whole, with every
// feature).
import { assertInvariants } from '@pagewalk/core-walk/testing';
import { canonicalResults, firstDifference, type OpResult, type Scenario } from '@pagewalk/scenario';
import { createScenarioSession, loadCorpus, missingCapability, recordedResults } from '@pagewalk/scenario-runner';
import { afterAll, describe, expect, it } from 'vitest';
import { plugin } from './index.js';

const features = [plugin];

interface LocalRun {
  /** Results up to (not including) the first op this feature alone cannot run. */
  results: OpResult[];
  /** What that op needs, or null when every op ran. */
  stoppedAt: string | null;
}

export function runLocally(scenario: Scenario): LocalRun {
  const session = createScenarioSession(scenario, { features });
  const results: OpResult[] = [];
  for (const op of scenario.ops) {
    const missing = missingCapability(session, op);
    if (missing !== null) return { results, stoppedAt: missing };
    results.push(session.execute(op));
    assertInvariants(session.kernel);
  }
  return { results, stoppedAt: null };
}

const corpus = loadCorpus().filter((entry) => entry.file.startsWith('corpus/uffd/') || entry.scenario.ops.some((op) => op.op.startsWith('uffd_')));

/** Scenarios that need ops of other features, and the first such op. */
export const NEEDS_OTHER_FEATURES = new Map<string, string>();

describe('kernel-recorded userfaultfd scenarios', () => {
  afterAll(() => {
    if (process.env.UFFD_CONFORMANCE_REPORT) {
      for (const [name, op] of [...NEEDS_OTHER_FEATURES].sort()) console.log(`prefix only: ${name} (stops at ${op})`);
    }
  });
  it('finds the uffd scenarios', () => {
    expect(corpus.length).toBeGreaterThan(20);
  });
  for (const entry of corpus) {
    const recorded = recordedResults(entry);
    it.skipIf(recorded === null)(entry.scenario.name, () => {
      const run = runLocally(entry.scenario);
      if (run.stoppedAt !== null) NEEDS_OTHER_FEATURES.set(entry.scenario.name, run.stoppedAt);
      const difference = firstDifference(canonicalResults(recorded!.slice(0, run.results.length)), canonicalResults(run.results));
      if (process.env.UFFD_CONFORMANCE_REPORT) console.log(`${entry.scenario.name}: ${run.results.length}/${recorded!.length} ops compared`);
      expect(difference, JSON.stringify(difference)).toBeNull();
    });
  }
});
