import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeKernel, runCli, writeFiles } from './test-support.js';

const GOOD = {
  name: 'touch',
  arena_pages: 64,
  ops: [
    { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
    { op: 'write', page: 0, pages: 2, byte: 7 },
    { op: 'read', page: 0, pages: 3 },
    { op: 'mprotect', page: 0, pages: 4, prot: 'r' },
    { op: 'write', page: 1, byte: 1 },
    { op: 'munmap', page: 0, pages: 0 },
  ],
};

/** Every misuse ends in exactly one stderr line, a non-zero status and no stack trace. */
function expectOneLineError(run: { status: number; stderr: string }, pattern: RegExp | string): void {
  expect(run.status).not.toBe(0);
  const lines = run.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^pagewalk: /);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toContain('(internal error)');
  if (typeof pattern === 'string') expect(lines[0]).toContain(pattern);
  else expect(lines[0]).toMatch(pattern);
}

describe('pagewalk misuse', () => {
  const directory = writeFiles({
    'good.json': GOOD,
    'broken.json': '{"name": "x", "arena_pages": ',
    'bad-field.json': { ...GOOD, ops: [{ op: 'madvise', page: 0, pages: 1, advice: 'dontneeed' }] },
    'not-object.json': '[1, 2]',
  });
  const at = (name: string) => join(directory, name);

  it.each([
    [[], 'missing command'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--frobnicate'], 'unknown option "--frobnicate"'],
    [['run'], '"pagewalk run" needs at least one scenario file'],
    [['run', '--json', 'x.json'], 'unknown option "--json" for "pagewalk run"'],
    [['run', '-x'], 'unknown option "-x"'],
    [['run', '/nonexistent/scenario.json'], '/nonexistent/scenario.json: no such file or directory'],
    [['demo', 'extra'], '"pagewalk demo" takes no arguments'],
    [['demo', '--json=yes'], 'option "--json" takes no value'],
    [['conform'], '"pagewalk conform" needs at least one scenario file or directory'],
    [['fuzz', '--count'], 'option "--count" needs a value'],
    [['fuzz', '--count', 'many'], 'option "--count" must be an integer'],
    [['fuzz', '--count', '0'], 'option "--count" must be an integer from 1'],
    [['fuzz', '--seed', '1.5'], 'option "--seed" must be an integer'],
    [['help', 'frobnicate'], 'unknown command "frobnicate"'],
    [['help', 'run', 'demo'], 'takes at most one command name'],
  ])('pagewalk %j', async (argv, message) => {
    expectOneLineError(await runCli(argv), message);
  });

  it('reports malformed JSON, a bad field and a non-object in one line naming the file', async () => {
    expectOneLineError(await runCli(['run', at('broken.json')]), new RegExp(`^pagewalk: ${at('broken.json')}: invalid JSON: `));
    expectOneLineError(await runCli(['run', at('bad-field.json')]), `${at('bad-field.json')}: op 0 (madvise): field "advice": unknown advice "dontneeed"`);
    expectOneLineError(await runCli(['run', at('not-object.json')]), 'a scenario must be a JSON object');
  });

  it('validates every file before running any', async () => {
    const run = await runCli(['run', at('good.json'), at('bad-field.json')]);
    expectOneLineError(run, 'dontneeed');
    expect(run.stdout).toBe('');
  });

  it('rejects a directory for run but not for conform', async () => {
    expectOneLineError(await runCli(['run', directory]), 'is a directory');
  });

  it('gives a clear error when the kernel is unavailable', async () => {
    expectOneLineError(await runCli(['fuzz', '--count', '1'], { kernel: fakeKernel(() => [], false), features: [] }), 'the real kernel cannot run scenarios here: fake kernel is switched off');
    expectOneLineError(await runCli(['conform', at('good.json')], { kernel: fakeKernel(() => [], false), features: [] }), 'the real kernel cannot run scenarios here');
  });

  it('prints one line marked as an internal error for a bug, with exit status 2', async () => {
    const kernel = fakeKernel(() => {
      throw new TypeError('boom\nsecond line');
    });
    const run = await runCli(['conform', at('good.json')], { kernel, features: [] });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('pagewalk: boom (internal error)\n');
  });
});

describe('pagewalk --help', () => {
  it.each([[['--help']], [['-h']], [['help']]])('%j prints the command list', async (argv) => {
    const run = await runCli(argv);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: pagewalk <command>');
    for (const command of ['run', 'demo', 'conform', 'fuzz']) expect(run.stdout).toContain(`  ${command}`);
  });

  it.each(['run', 'demo', 'conform', 'fuzz'])('pagewalk %s --help and pagewalk help %s', async (command) => {
    const viaOption = await runCli([command, '--help']);
    const viaHelp = await runCli(['help', command]);
    expect(viaOption.status).toBe(0);
    expect(viaOption.stdout).toMatch(new RegExp(`^usage: pagewalk ${command}`));
    expect(viaHelp.stdout).toBe(viaOption.stdout);
  });
});

describe('pagewalk kernel-profile', () => {
  const profile = {
    kernel: '6.18.44-test',
    zero_page: false,
    thp: 'madvise' as const,
    thp_zero_page: true,
    mthp: { '64kB': 'never' as const, '2048kB': 'inherit' as const },
    soft_dirty: false,
    swap: 'file' as const,
    hugetlb_pages: 2,
    root: false,
    userfaultfd: false,
  };

  it('prints the host profile, readable or as JSON', async () => {
    const kernel = { ...fakeKernel(() => []), profile: () => profile };
    const text = await runCli(['kernel-profile'], { kernel, features: [] });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('zero page    off (anonymous read faults allocate pages)');
    expect(text.stdout).toContain('swap         file');
    expect(text.stdout).toContain('mTHP         64kB=never 2048kB=inherit');
    expect(text.stdout).toContain('userfaultfd  not usable by this user');
    const json = await runCli(['kernel-profile', '--json'], { kernel, features: [] });
    expect(JSON.parse(json.stdout)).toEqual({ available: true, profile });
  });

  it('says why when no kernel runner can run', async () => {
    const off = await runCli(['kernel-profile'], { kernel: fakeKernel(() => [], false), features: [] });
    expect(off.status).toBe(1);
    expect(off.stdout).toBe('kernel runner: unavailable (fake kernel is switched off)\n');
    const json = await runCli(['kernel-profile', '--json'], { kernel: fakeKernel(() => [], false), features: [] });
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ available: false, reason: 'fake kernel is switched off' });
  });
});

describe('mTHP profiles', () => {
  it('runs a scenario that enables mTHP sizes: one write fault maps a whole 64 KiB folio', async () => {
    const directory = writeFiles({
      'mthp.json': {
        name: 'mthp',
        arena_pages: 16,
        profile: { mthp: { '64kB': 'always' } },
        ops: [
          { op: 'mmap', page: 0, pages: 16, prot: 'rw' },
          { op: 'write', page: 3, byte: 1 },
          { op: 'scan', page: 0, pages: 16, category_anyof_mask: ['present'], return_mask: ['present'] },
        ],
      },
    });
    const run = await runCli(['run', join(directory, 'mthp.json')]);
    expect(JSON.parse(run.stdout.split('\n')[0]!).results[2]).toEqual({ op: 'scan', ret: 1, walk_end: 16, regions: [[0, 16, ['present']]] });
  });
});

describe('pagewalk --version, byte-order marks and unknown profile keys', () => {
  it('prints the version', async () => {
    const run = await runCli(['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^pagewalk \d+\.\d+\.\d+\n$/);
    expect((await runCli(['-V'])).stdout).toBe(run.stdout);
  });

  it('accepts a scenario file that starts with a byte-order mark', async () => {
    const directory = writeFiles({ 'bom.json': `\uFEFF${JSON.stringify({ name: 'bom', arena_pages: 4, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }] })}` });
    const run = await runCli(['run', join(directory, 'bom.json')], { features: [] });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ name: 'bom', results: [{ op: 'mmap', ret: 0 }] });
  });

  it('exits 1 when a scenario is skipped for an unknown profile key, unless --allow-skips', async () => {
    const directory = writeFiles({ 'typo.json': { name: 'typo', arena_pages: 4, profile: { thp_zero_pages: true }, ops: [] } });
    const run = await runCli(['run', join(directory, 'typo.json')], { features: [] });
    expect(run.stdout).toBe('{"name":"typo","skipped":"unknown profile key \\"thp_zero_pages\\""}\n');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`pagewalk: 1 scenario skipped for an unknown profile key (${join(directory, 'typo.json')}); pass --allow-skips to accept\n`);
    const allowed = await runCli(['run', '--allow-skips', join(directory, 'typo.json')], { features: [] });
    expect(allowed.status).toBe(0);
    const conform = await runCli(['conform', join(directory, 'typo.json')], { features: [], kernel: fakeKernel(() => []) });
    expect(conform.status).toBe(1);
    expect((await runCli(['conform', '--allow-skips', join(directory, 'typo.json')], { features: [], kernel: fakeKernel(() => []) })).status).toBe(0);
  });
});
