/**
 * Issue #3 (a): the simulator's output equals the recorded kernel output
 * for every corpus scenario. A scenario may be marked `known_failing` only
 * with a reason in the file; it must still fail (so the mark is removed
 * once it matches), and the run prints how many there are.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { checkScenario, formatDifference, loadScenarioFeatures, runScenario, type KernelExecutor } from '@pagewalk/cli';
import type { Scenario } from '@pagewalk/scenario';
import { loadCorpus, type CorpusEntry } from '@pagewalk/scenario-runner';

const corpus = loadCorpus();
const features = await loadScenarioFeatures();
const simulate = (scenario: Scenario) => runScenario(scenario, { features }).results;

/** A kernel executor that answers from the recording. */
function recordedKernel(entry: CorpusEntry): KernelExecutor {
  return { support: () => ({ available: true }), run: async () => entry.recorded };
}

const tally = { match: 0, knownFailing: 0, skipped: 0, total: corpus.length };

describe('corpus: simulator vs recorded kernel output', () => {
  it('has at least 80 scenarios, each with a recording', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(80);
    for (const entry of corpus) expect(entry.recorded, entry.file).toBeDefined();
  });

  it('pins both zero-page profiles and both swap devices with real recordings', () => {
    const profiles = corpus.flatMap((entry) => (entry.profile === undefined ? [] : [entry.profile]));
    expect(profiles.filter((p) => p.zero_page).length, 'recordings with the zero page on').toBeGreaterThanOrEqual(32);
    expect(profiles.filter((p) => !p.zero_page).length, 'recordings with the zero page off').toBeGreaterThanOrEqual(32);
    expect(profiles.filter((p) => p.swap === 'file').length, 'recordings on a swap file').toBeGreaterThanOrEqual(16);
    expect(profiles.filter((p) => p.swap === 'zram').length, 'recordings on zram').toBeGreaterThanOrEqual(16);
  });

  for (const entry of corpus) {
    const knownFailing = (entry.scenario as { known_failing?: string }).known_failing;
    it(`${entry.recording}${knownFailing ? ' (known failing)' : ''}`, async () => {
      const outcome = await checkScenario(entry.scenario, simulate, recordedKernel(entry));
      if (outcome.status === 'skipped') {
        tally.skipped++;
        // Only device-op scenarios may lack a kernel recording; anything else must have been recorded.
        expect(outcome.reason, `${entry.file} was not recorded on the kernel`).toMatch(/dev_|device/);
        return;
      }
      if (knownFailing !== undefined) {
        expect(knownFailing.length, 'a known_failing mark needs a reason').toBeGreaterThan(20);
        expect(outcome.status, `${entry.file} now matches: remove its known_failing mark`).toBe('mismatch');
        tally.knownFailing++;
        return;
      }
      if (outcome.status === 'mismatch') {
        throw new Error(`${entry.file}\n${formatDifference(outcome.difference).join('\n')}`);
      }
      tally.match++;
    });
  }

  afterAll(() => {
    process.stdout.write(
      `corpus: ${tally.match}/${tally.total} recordings (scenario × kernel profile) match the simulator, ${tally.knownFailing} known failing, ${tally.skipped} skipped\n`,
    );
  });
});
