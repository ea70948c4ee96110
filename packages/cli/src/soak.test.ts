import { PageContents } from '@pagewalk/core-walk';
import { describe, expect, it } from 'vitest';
import { drawEpisode, loadSoakFeatures, runEpisode, runSoak } from './soak.js';
import { runCli } from './test-support.js';

describe('pagewalk soak', () => {
  it('runs 20,000 random ops over every installed feature with no violation', async () => {
    const features = await loadSoakFeatures();
    expect(Object.keys(features).sort()).toEqual(['guardPages', 'hmm', 'uffd']);
    const report = runSoak({ ops: 20_000, seed: 1, features });
    expect(report.failure).toBeNull();
    expect(report).toMatchObject({ ops: 20_000, episodes: 10, violations: 0 });
  }, 120_000);

  it('draws the same episode from the same seed (a reproduction replays)', async () => {
    const features = await loadSoakFeatures();
    expect(drawEpisode(5, 3, 200, features)).toEqual(drawEpisode(5, 3, 200, features));
    const ops = drawEpisode(5, 3, 2000, features).ops.map((op) => op.op);
    for (const name of ['mmap', 'munmap', 'madvise', 'write', 'read', 'fork', 'exit', 'uffd_register', 'uffd_wp', 'dev_migrate', 'dev_write']) expect(ops).toContain(name);
  });

  it('catches a byte lost at a non-zero offset, and shrinks it to a short reproduction', async () => {
    const features = await loadSoakFeatures();
    // The mutation: the first store into a never-written page is dropped unless it is at offset 0.
    const original = PageContents.prototype.writeByte;
    PageContents.prototype.writeByte = function (this: PageContents, key: number, offset: number, value: number): void {
      if (offset !== 0 && !this.has(key)) return;
      original.call(this, key, offset, value);
    };
    try {
      const report = runSoak({ ops: 4000, seed: 2, features });
      expect(report.violations).toBe(1);
      expect(report.failure!.message).toMatch(/kernel 0, model \d+|model/);
      expect(report.failure!.reproduction.ops.length).toBeLessThanOrEqual(6);
      expect(runEpisode(report.failure!.reproduction, features, 1)).not.toBeNull();
    } finally {
      PageContents.prototype.writeByte = original;
    }
  }, 120_000);

  it('is a CLI command that reports ops, ops/s and violations', async () => {
    const run = await runCli(['soak', '--ops', '3000', '--seed', '4', '--json']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^soak: 3000 ops, seed 4, features: core guard-pages uffd-wp hmm-migrate$/m);
    expect(run.stdout).toMatch(/^soak: 3000 ops in 2 episodes, [\d.]+ s \(\d+ ops\/s\), 0 violations$/m);
    const json = JSON.parse(run.stdout.split('\n').find((line) => line.startsWith('{'))!) as { ops: number; violations: number; seed: number };
    expect(json).toMatchObject({ ops: 3000, violations: 0, seed: 4 });
    const bad = await runCli(['soak', '--ops', '0']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--ops/);
  }, 60_000);
});
