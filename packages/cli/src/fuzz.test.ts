import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScenario, type OpName, type OpResult, type Scenario } from '@pagewalk/scenario';
import { runFuzz, scenarioArbitrary } from './fuzz.js';
import { runScenario } from '@pagewalk/scenario-runner';
import { fakeKernel, runCli, temporaryDirectory } from './test-support.js';

const ALL_KERNEL_OPS: OpName[] = ['mmap', 'munmap', 'mprotect', 'madvise', 'mlock', 'munlock', 'write', 'read', 'clear_soft_dirty', 'scan', 'pagemap', 'uffd_open', 'uffd_register', 'uffd_unregister', 'uffd_wp'];

/** A stand-in simulator: every op succeeds. */
const simulate = (scenario: Scenario): OpResult[] => scenario.ops.map((op) => ({ op: op.op, ret: 0 }));
/** A stand-in kernel that disagrees on every MADV_PAGEOUT of more than 3 pages. */
const disagreeOnBigPageout = fakeKernel((scenario) =>
  scenario.ops.map((op): OpResult => (op.op === 'madvise' && op.advice === 'pageout' && op.pages > 3 ? { op: op.op, ret: -1, errno: 'EINVAL' } : { op: op.op, ret: 0 })),
);

describe('scenarioArbitrary', () => {
  it('generates scenarios that parse back to themselves', () => {
    fc.assert(
      fc.property(scenarioArbitrary({ ops: ALL_KERNEL_OPS }), (scenario) => {
        expect(scenario.arena_pages).toBeGreaterThanOrEqual(64);
        expect(scenario.arena_pages).toBeLessThanOrEqual(1024);
        const parsed = parseScenario(JSON.stringify(scenario), 'generated.json');
        expect(parsed).toEqual(scenario);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('draws byte offsets inside the page for reads and writes, edges included', () => {
    const samples = fc.sample(scenarioArbitrary({ ops: ['mmap', 'write', 'read'] }), { numRuns: 200, seed: 3 });
    const offsets = new Set(samples.flatMap((scenario) => scenario.ops.flatMap((op) => ('offset' in op && op.offset !== undefined ? [op.offset] : []))));
    expect(offsets.has(4095)).toBe(true);
    expect(offsets.has(1)).toBe(true);
    expect([...offsets].some((offset) => offset !== 1 && offset !== 2048 && offset !== 4095)).toBe(true);
  });

  it('uses only the ops it is given', () => {
    const samples = fc.sample(scenarioArbitrary({ ops: ['mmap', 'read'] }), { numRuns: 50, seed: 2 });
    const used = new Set(samples.flatMap((scenario) => scenario.ops.map((op) => op.op)));
    expect([...used].sort()).toEqual(['mmap', 'read']);
  });
});

describe('runFuzz', () => {
  it('reports no mismatch when both sides agree', async () => {
    const report = await runFuzz({ count: 30, seed: 3, ops: ALL_KERNEL_OPS, simulate, kernel: fakeKernel((scenario) => simulate(scenario)) });
    expect(report).toMatchObject({ runs: 30, mismatch: null });
  });

  it('shrinks a mismatch to a minimal scenario', async () => {
    const report = await runFuzz({ count: 500, seed: 4, ops: ALL_KERNEL_OPS, simulate, kernel: disagreeOnBigPageout });
    expect(report.mismatch).not.toBeNull();
    const scenario = report.mismatch!.scenario;
    expect(scenario.ops).toHaveLength(1);
    expect(scenario.ops[0]).toMatchObject({ op: 'madvise', advice: 'pageout', page: 0, pages: 4 });
    expect(scenario.arena_pages).toBe(64);
    expect(report.mismatch!.difference).toMatchObject({ opIndex: 0, field: 'ret' });
  });
});

describe('pagewalk fuzz (fake kernel)', () => {
  it('writes the shrunk scenario and exits 1', async () => {
    const out = temporaryDirectory();
    const features = [{ name: 'fake', summary: 'nothing', install: () => undefined, ops: {} }];
    const run = await runCli(['fuzz', '--count', '300', '--seed', '4', '--out', out], { kernel: disagreeOnBigPageout, features });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const [file] = readdirSync(out);
    expect(file).toBe('fuzz-seed-4.json');
    const scenario = parseScenario(readFileSync(join(out, file!), 'utf8'), file!);
    expect(scenario.name).toBe('fuzz-seed-4');
    expect(run.stdout).toContain('fuzz: mismatch found, shrinking it');
    expect(run.stdout).toMatch(/fuzz: 30\/300|fuzz: \d+\/300/);
  });

  // A "kernel" that is the simulator itself never disagrees.
  const mirror = fakeKernel((scenario) => runScenario(scenario).results);

  it('exits 0 with plain progress lines when nothing differs', async () => {
    const run = await runCli(['fuzz', '--count', '20', '--seed', '5'], { kernel: mirror, features: [] }, false);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).toContain('fuzz: 20/20\n');
    expect(run.stdout).toContain('fuzz: 20 scenarios, no mismatch');
  });

  it('draws a progress bar on a terminal', async () => {
    const run = await runCli(['fuzz', '--count', '10', '--seed', '6'], { kernel: mirror, features: [] }, true);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('\rfuzz [');
    expect(run.stdout).toContain('] 10/10');
  });
});
