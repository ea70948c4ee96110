/**
 * Every corpus scenario that uses guard advice runs on the shared scenario
 * runner with the guard-pages feature installed, plus @pagewalk/pagemap-scan
 * (a devDependency) as the observer for its read-only `pagemap` / `scan`
 * ops, and must match the kernel recording. Scenarios that need more (the
 * uffd ops of @pagewalk/uffd-wp) are compared up to their first such op;
 * packages/conformance runs them whole with every feature.
 */
import { describe, expect, it } from 'vitest';
import { canonicalResults, firstDifference, skipReason } from '@pagewalk/scenario';
import { checkInvariants } from '@pagewalk/core-walk';
import { plugin as pagemapScan } from '@pagewalk/pagemap-scan';
import {
  describeMissing,
  featureAdvice,
  loadCorpus,
  missingCapabilities,
  recordedResults,
  runScenario,
} from '@pagewalk/scenario-runner';
import { plugin as guardPages } from './index.js';

const features = [guardPages, pagemapScan];
const guardAdvice = featureAdvice([guardPages]);
const corpus = loadCorpus().filter((entry) => entry.scenario.ops.some((op) => op.op === 'madvise' && guardAdvice.includes(op.advice)));

describe('kernel-recorded guard scenarios', () => {
  it('the corpus has guard scenarios', () => {
    expect(corpus.length).toBeGreaterThan(20);
  });
  for (const entry of corpus) {
    const missing = missingCapabilities(entry.scenario, features);
    const expected = recordedResults(entry);
    // Ops from the first one this package cannot run on are left to packages/conformance,
    // which runs every scenario with every feature; the prefix before it is compared here.
    const prefix = missing.length > 0 ? missing[0]!.index : entry.scenario.ops.length;
    const label = missing.length > 0 ? ` (first ${prefix} ops; then needs ${describeMissing(missing)})` : '';
    it(`${entry.file}${label}`, () => {
      expect(skipReason(entry.scenario)).toBeNull();
      expect(expected, `${entry.file} has no kernel results`).not.toBeNull();
      expect(prefix, 'nothing of this scenario runs with guard-pages alone').toBeGreaterThan(0);
      const { results, kernel } = runScenario({ ...entry.scenario, ops: entry.scenario.ops.slice(0, prefix) }, { features });
      const difference = firstDifference(canonicalResults(expected!.slice(0, prefix)), canonicalResults(results));
      expect(difference, JSON.stringify(difference)).toBeNull();
      expect(checkInvariants(kernel)).toEqual([]);
    });
  }
});
