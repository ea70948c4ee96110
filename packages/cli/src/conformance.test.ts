import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioValue, type OpResult, type Scenario } from '@pagewalk/scenario';
import { checkScenario, describeOp, formatDifference } from './conformance.js';
import { fakeKernel, runCli, writeFiles } from './test-support.js';

const scenario = (ops: unknown[], extra: Record<string, unknown> = {}): Scenario =>
  parseScenarioValue({ name: 'fake', arena_pages: 64, ops, ...extra }, 'fake.json');

const MMAP_AND_MADVISE = [
  { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
  { op: 'madvise', page: 0, pages: 2, advice: 'dontneed' },
];

describe('checkScenario (fake simulator, fake kernel)', () => {
  const simulate = (): OpResult[] => [
    { op: 'mmap', ret: 0 },
    { op: 'madvise', ret: -1, errno: 'ENOMEM' },
  ];

  it('matches when both sides agree', async () => {
    const outcome = await checkScenario(scenario(MMAP_AND_MADVISE), simulate, fakeKernel(() => simulate()));
    expect(outcome).toEqual({ status: 'match', against: 'kernel' });
  });

  it('reports the first differing op and field', async () => {
    const kernel = fakeKernel(() => [
      { op: 'mmap', ret: 0 },
      { op: 'madvise', ret: 0 },
    ]);
    const outcome = await checkScenario(scenario(MMAP_AND_MADVISE), simulate, kernel);
    expect(outcome.status).toBe('mismatch');
    if (outcome.status !== 'mismatch') return;
    expect(outcome.difference).toMatchObject({ opIndex: 1, field: 'ret', expected: 0, actual: -1, reference: 'kernel' });
    expect(formatDifference(outcome.difference)).toEqual([
      'op 1: madvise page=0 pages=2 advice=dontneed',
      '  field ret: kernel 0, simulator -1',
      '  kernel     {"op":"madvise","ret":0}',
      '  simulator  {"op":"madvise","ret":-1,"errno":"ENOMEM"}',
    ]);
  });

  it('counts an op the simulator does not support as a mismatch', async () => {
    const ops = [{ op: 'mmap', page: 0, pages: 4, prot: 'rw' }, { op: 'pagemap', page: 0, pages: 1 }];
    const outcome = await checkScenario(scenario(ops), () => [{ op: 'mmap', ret: 0 }, { op: 'pagemap', unsupported: true }], fakeKernel(() => [{ op: 'mmap', ret: 0 }, { op: 'pagemap', ret: 0, entries: [[]] }]));
    expect(outcome.status).toBe('mismatch');
    if (outcome.status !== 'mismatch') return;
    expect(outcome.difference.opIndex).toBe(1);
    expect(formatDifference(outcome.difference)[1]).toContain('does not support "pagemap"');
  });

  it('skips a scenario with an unknown profile key without running the kernel', async () => {
    const kernel = fakeKernel(() => {
      throw new Error('must not run');
    });
    expect(await checkScenario(scenario([], { profile: { numa: 2 } }), () => [], kernel)).toEqual({ status: 'skipped', reason: 'unknown profile key "numa"' });
  });

  it('passes on the kernel runner skip reason', async () => {
    expect(await checkScenario(scenario(MMAP_AND_MADVISE), simulate, fakeKernel(() => ({ skipped: 'needs swap' })))).toEqual({ status: 'skipped', reason: 'kernel: needs swap' });
  });

  it('checks device-op scenarios against their expectations, not the kernel', async () => {
    const kernel = fakeKernel(() => {
      throw new Error('must not run');
    });
    const ops = [
      { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
      { op: 'dev_migrate', page: 0, pages: 4, expect: { ret: 0, migrated: 4 } },
    ];
    const good = () => [{ op: 'mmap', ret: 0 }, { op: 'dev_migrate', ret: 0, migrated: 4 }] as OpResult[];
    const bad = () => [{ op: 'mmap', ret: 0 }, { op: 'dev_migrate', ret: 0, migrated: 3 }] as OpResult[];
    expect(await checkScenario(scenario(ops), good, kernel)).toEqual({ status: 'match', against: 'expectations' });
    const outcome = await checkScenario(scenario(ops), bad, kernel);
    expect(outcome.status).toBe('mismatch');
    if (outcome.status !== 'mismatch') return;
    expect(formatDifference(outcome.difference)).toEqual([
      'op 1: dev_migrate page=0 pages=4',
      '  field migrated: expect 4, simulator 3',
      '  expect     {"ret":0,"migrated":4}',
      '  simulator  {"op":"dev_migrate","ret":0,"migrated":3}',
    ]);
  });
});

describe('describeOp', () => {
  it('writes lists and raw objects compactly', () => {
    const [op] = scenario([{ op: 'scan', page: 0, pages: 2, return_mask: ['all'], raw: { size: 95 } }]).ops;
    expect(describeOp(op!)).toBe('scan page=0 pages=2 flags=[] category_mask=[] category_anyof_mask=[] category_inverted=[] return_mask=all max_pages=0 vec_len=4096 raw={"size":95}');
  });
});

describe('pagewalk conform (fake kernel)', () => {
  const files = {
    'a-match.json': { name: 'a', arena_pages: 16, ops: [{ op: 'mmap', page: 0, pages: 4, prot: 'rw' }] },
    'b-differs.json': { name: 'b', arena_pages: 16, ops: [{ op: 'mmap', page: 0, pages: 4, prot: 'rw' }, { op: 'read', page: 0 }] },
    'c-known.json': { name: 'c', arena_pages: 16, known_failing: 'zero page not modelled', ops: [{ op: 'mmap', page: 0, pages: 4, prot: 'rw' }, { op: 'read', page: 0 }] },
    'd-skipped.json': { name: 'd', arena_pages: 16, profile: { numa: 1 }, ops: [] },
    'b-differs.kernel.json': '[]',
  };
  const directory = writeFiles(files);
  // The fake kernel reads 9 from fresh memory, so the simulator's 0 differs.
  const kernel = fakeKernel((scenario) =>
    scenario.ops.map((op): OpResult => (op.op === 'read' ? { op: 'read', ret: 0, bytes: [9] } : { op: op.op, ret: 0 })),
  );

  it('prints a diff per failing file, lists skipped and known-failing ones, and the score', async () => {
    const run = await runCli(['conform', directory], {
      kernel,
      features: [],
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines).toContain(`ok     ${join(directory, 'a-match.json')}`);
    expect(lines).toContain(`FAIL   ${join(directory, 'b-differs.json')}`);
    expect(lines).toContain('       op 1: read page=0 pages=1');
    expect(lines).toContain('         field bytes[0]: kernel 9, simulator 0');
    expect(lines).toContain('         kernel     {"op":"read","ret":0,"bytes":[9]}');
    expect(lines).toContain(`KNOWN  ${join(directory, 'c-known.json')}: known failing: zero page not modelled`);
    expect(lines).toContain(`SKIP   ${join(directory, 'd-skipped.json')}: unknown profile key "numa"`);
    expect(run.stdout).not.toContain('b-differs.kernel.json');
    expect(lines).toContain('skipped (1, not counted as matches):');
    expect(lines).toContain('known failing (1):');
    expect(lines.filter((line) => line !== '').at(-1)).toBe('conformance: 1/4 scenarios match the kernel');
  });

  it('exits 0 when the only mismatches are known failing', async () => {
    const run = await runCli(['conform', join(directory, 'a-match.json'), join(directory, 'c-known.json')], { kernel, features: [] });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('conformance: 1/2 scenarios match the kernel');
  });
});
