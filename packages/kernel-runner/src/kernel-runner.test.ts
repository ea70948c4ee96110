import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecordingProfile, recordingTagOf, type RecordingProfile } from '@pagewalk/scenario';
import {
  adjustMachine,
  buildRunner,
  completeMthp,
  configHasSoftDirty,
  parseMthpMode,
  parseSwapDevices,
  reproduceReasons,
  swapKindOf,
  kernelSupport,
  PACKAGE_ROOT,
  parseSwaps,
  parseThpMode,
  profileMismatches,
  recheckRecording,
  runLines,
  runOnKernel,
  ScenarioInputError,
  translateScenario,
  type KernelProfile,
  type ProfilePaths,
} from './index.js';

const CORPUS = resolve(PACKAGE_ROOT, '..', '..', 'corpus');

function listScenarios(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listScenarios(p));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.kernel.json')) out.push(p);
  }
  return out.sort();
}

const support = process.platform === 'linux' ? kernelSupport() : { available: false, reason: 'not Linux' };
const skipReason = support.available ? '' : ` (skipped: ${support.reason})`;

describe('translation', () => {
  it('translates every op into the line protocol', () => {
    const t = translateScenario({
      name: 'x',
      arena_pages: 64,
      ops: [
        { op: 'mmap', page: 0, pages: 16, prot: 'rw', map: 'shared', backing: 'file', populate: true },
        { op: 'write', page: 1, byte: 7 },
        { op: 'read', page: 2, pages: 3 },
        { op: 'madvise', page: 0, pages: 2, advice: 'guard_install' },
        { op: 'uffd_open', features: ['wp_async'] },
        { op: 'uffd_register', page: 0, pages: 4, modes: ['wp', 'missing'] },
        { op: 'uffd_wp', page: 0, pages: 4, wp: true },
        { op: 'scan', page: 0, pages: 16, flags: ['wp_matching'], category_mask: ['written'], return_mask: ['all'] },
        { op: 'clear_soft_dirty' },
      ],
    });
    expect(t).toEqual({
      lines: [
        'arena 64',
        'mmap page=0 pages=16 prot=rw map=shared backing=file populate=1 hugetlb=0',
        'write page=1 pages=1 byte=7',
        'read page=2 pages=3',
        'madvise page=0 pages=2 advice=guard_install',
        'uffd_open features=wp_async',
        'uffd_register page=0 pages=4 modes=wp,missing',
        'uffd_wp page=0 pages=4 wp=1',
        'scan size=96 flags=1 start=0 end=65536 mask=2 anyof=0 inverted=0 return=511 max_pages=0 vec_len=4096',
        'clear_soft_dirty',
        '',
      ].join('\n'),
    });
  });

  it('passes raw overrides as exact 64-bit values', () => {
    const t = translateScenario({
      name: 'raw',
      arena_pages: 8,
      ops: [
        {
          op: 'scan',
          page: 0,
          pages: 8,
          raw: { flags: 2 ** 63, return_mask: 2 ** 62, start_byte_offset: -4096, end_byte_offset: 2 ** 63, vec: 0 },
        },
      ],
    });
    expect('lines' in t && t.lines.split('\n')[1]).toBe(
      'scan size=96 flags=9223372036854775808 start=-4096 end=-9223372036854775808 mask=0 anyof=0 inverted=0 ' +
        'return=4611686018427387904 max_pages=0 vec_len=4096 vec_null=1',
    );
  });

  it('skips scenarios with simulator-only device ops', () => {
    expect(translateScenario({ name: 'd', arena_pages: 8, ops: [{ op: 'dev_migrate', page: 0, pages: 1 }] })).toEqual({
      skipped: 'op 0 (dev_migrate) is a simulator-only device op',
    });
  });

  it('passes a read / write byte offset (version 2) only when one is given', () => {
    const t = translateScenario({
      name: 'o',
      arena_pages: 8,
      ops: [
        { op: 'write', page: 1, byte: 7, offset: 4095 },
        { op: 'read', page: 1, pages: 2, offset: 1 },
        { op: 'read', page: 1, offset: 0 },
        { op: 'write', page: 1, byte: 7, offset: 4094, length: 3 },
        { op: 'read', page: 1, length: 1 },
      ],
    });
    expect('lines' in t && t.lines.split('\n').slice(1, 6)).toEqual([
      'write page=1 pages=1 byte=7 offset=4095',
      'read page=1 pages=2 offset=1',
      'read page=1 pages=1',
      'write page=1 pages=1 byte=7 offset=4094 length=3',
      'read page=1 pages=1',
    ]);
    expect(() => translateScenario({ name: 'b', arena_pages: 8, ops: [{ op: 'read', page: 0, offset: 4096 }] })).toThrow(/op 0: field "offset"/);
  });

  it('names the op index and field of bad input', () => {
    expect(() => translateScenario({ name: 'b', arena_pages: 8, ops: [{ op: 'mmap', page: 0, pages: 4, prot: 'w' }] })).toThrow(
      /op 0: field "prot"/,
    );
    expect(() => translateScenario({ name: 'b', arena_pages: 8, ops: [{ op: 'frob' }] })).toThrow(ScenarioInputError);
    expect(() =>
      translateScenario({ name: 'b', arena_pages: 8, ops: [{ op: 'scan', page: 0, pages: 1, return_mask: ['bogus'] }] }),
    ).toThrow(/unknown category/);
  });
});

function hostLike(): KernelProfile {
  return {
    kernel: '6.18.44',
    zero_page: true,
    thp: 'madvise',
    thp_zero_page: true,
    mthp: { '64kB': 'never', '2048kB': 'inherit' },
    soft_dirty: false,
    swap: false,
    hugetlb_pages: 0,
    root: false,
    userfaultfd: true,
  };
}

describe('profile detection', () => {
  it('parses sysfs and procfs formats', () => {
    expect(parseThpMode('always [madvise] never\n')).toBe('madvise');
    expect(parseThpMode('[always] madvise never')).toBe('always');
    expect(parseThpMode('always madvise [never]')).toBe('never');
    expect(parseSwaps('Filename\tType\tSize\tUsed\tPriority\n')).toEqual([]);
    expect(parseSwaps('Filename\tType\n/dev/zram0  partition\t262140\t0\t-2\n')).toEqual(['/dev/zram0']);
    expect(configHasSoftDirty('CONFIG_X=y\n# CONFIG_MEM_SOFT_DIRTY is not set\n')).toBe(false);
    expect(configHasSoftDirty('CONFIG_MEM_SOFT_DIRTY=y\n')).toBe(true);
  });

  it('reports mismatches and unknown keys', () => {
    const machine: KernelProfile = { ...hostLike(), kernel: '6.18.44-fc' };
    expect(profileMismatches(undefined, machine)).toEqual([]);
    expect(profileMismatches({ thp: 'madvise', swap: false }, machine)).toEqual([]);
    expect(profileMismatches({ soft_dirty: true }, machine)).toEqual([
      'profile soft_dirty=true but the machine has false',
    ]);
    expect(profileMismatches({ numa: 2 }, machine)).toEqual(['unknown profile key "numa"']);
    expect(profileMismatches({ zero_page: false, swap: 'file' }, machine)).toEqual([
      'profile zero_page=false but the machine has true',
      'profile swap="file" but the machine has false',
    ]);
    expect(profileMismatches({ swap: true }, { ...machine, swap: 'zram' })).toEqual([]);
    expect(profileMismatches({ swap: 'zram' }, { ...machine, swap: 'file' })).toEqual(['profile swap="zram" but the machine has "file"']);
    expect(profileMismatches({ mthp: { '64kB': 'always' } }, machine)).toEqual([
      'profile mthp={"64kB":"always"} but the machine has {"64kB":"never"}',
    ]);
    expect(profileMismatches({ mthp: { '2048kB': 'inherit' } }, machine)).toEqual([]);
  });

  it('decides which recordings a host can reproduce', () => {
    const recording: KernelProfile = { ...hostLike(), zero_page: false };
    const host = hostLike();
    expect(reproduceReasons(recording, { ops: [] }, host)).toEqual(['profile zero_page=false but the machine has true']);
    expect(reproduceReasons({ ...host, kernel: '6.18.44-other-build' }, { ops: [] }, host)).toEqual([]);
    expect(reproduceReasons({ ...host, kernel: '6.19.1' }, { ops: [] }, host)).toEqual([
      'profile kernel="6.19.1" but the machine has "6.18.44"',
    ]);
    expect(reproduceReasons({ ...host, swap: 'file' }, { ops: [] }, { ...host, root: false })).toEqual([
      'profile swap="file" but the machine has false (not root, cannot adjust)',
    ]);
    expect(reproduceReasons({ ...host, swap: 'file' }, { ops: [] }, { ...host, root: true })).toEqual([]);
    expect(reproduceReasons(host, { ops: [{ op: 'uffd_open' }] }, { ...host, userfaultfd: false })).toEqual([
      'profile userfaultfd=true but the machine has false',
    ]);
    expect(reproduceReasons(host, { ops: [{ op: 'read' }] }, { ...host, userfaultfd: false })).toEqual([]);
  });

  it('reads swap kinds and mTHP modes', () => {
    expect(parseSwapDevices('Filename\tType\n/dev/zram0 partition 1 0 -2\n/var/tmp/sw file 1 0 -3\n/dev/vdb partition 1 0 -4\n')).toEqual([
      { name: '/dev/zram0', kind: 'zram' },
      { name: '/var/tmp/sw', kind: 'file' },
      { name: '/dev/vdb', kind: 'disk' },
    ]);
    expect(swapKindOf([])).toBe(false);
    expect(swapKindOf([{ name: 'a', kind: 'file' }])).toBe('file');
    expect(swapKindOf([{ name: 'a', kind: 'file' }, { name: 'b', kind: 'zram' }])).toBe('mixed');
    expect(parseMthpMode('always [inherit] madvise never')).toBe('inherit');
    expect(parseMthpMode(undefined)).toBeUndefined();
    expect(completeMthp({ '64kB': 'always' }, { '16kB': 'never', '64kB': 'never', '2048kB': 'always' })).toEqual({
      '16kB': 'never',
      '64kB': 'always',
      '2048kB': 'inherit',
    });
  });
});

describe('profile adjustment', () => {
  // Fake sysfs / procfs files: adjustMachine takes the paths it reads and writes.
  function fakeMachine(): ProfilePaths {
    const dir = mkdtempSync(join(tmpdir(), 'pagewalk-profile-'));
    const file = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    mkdirSync(join(dir, 'hugepages-64kB'));
    file('hugepages-64kB/enabled', 'always inherit madvise [never]\n');
    return {
      thpEnabled: file('enabled', 'always [madvise] never\n'),
      thpZeroPage: file('use_zero_page', '1\n'),
      thpDir: dir,
      swapFile: join(dir, 'swapfile'),
      configGz: join(dir, 'no-config.gz'),
      swaps: file('swaps', 'Filename\tType\tSize\tUsed\tPriority\n'),
      hugeFree: file('free_hugepages', '0\n'),
      hugeTotal: file('nr_hugepages', '0\n'),
    };
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

  it.skipIf(!isRoot)('sets the THP mode and huge zero page, and restores them', () => {
    const paths = fakeMachine();
    const adjusted = adjustMachine({ thp: 'always', thp_zero_page: false, mthp: { '64kB': 'always' } }, '/nonexistent-runner', paths);
    expect(adjusted).toEqual({ changes: [expect.anything(), expect.anything(), expect.anything()] });
    expect(readFileSync(join(paths.thpDir, 'hugepages-64kB', 'enabled'), 'utf8')).toBe('always');
    // The kernel shows "[always]" after a write of "always"; the fake file keeps what was written.
    expect(readFileSync(paths.thpEnabled, 'utf8')).toBe('always');
    expect(readFileSync(paths.thpZeroPage, 'utf8')).toBe('0');
    for (const change of (adjusted as { changes: { restore(): void }[] }).changes.reverse()) change.restore();
    expect(readFileSync(paths.thpEnabled, 'utf8')).toBe('madvise');
    expect(readFileSync(paths.thpZeroPage, 'utf8')).toBe('1');
    expect(readFileSync(join(paths.thpDir, 'hugepages-64kB', 'enabled'), 'utf8')).toBe('never');
  });

  it('refuses a bad THP mode and leaves soft_dirty to the build', () => {
    const paths = fakeMachine();
    if (isRoot) expect(adjustMachine({ thp: 'sometimes' as 'never' }, '/nonexistent-runner', paths)).toEqual({ skipped: expect.stringContaining('profile thp must be') });
    expect(adjustMachine({ soft_dirty: true }, '/nonexistent-runner', paths)).toEqual({ skipped: 'profile soft_dirty=true but the machine has false' });
    expect(adjustMachine({ zero_page: false }, '/nonexistent-runner', paths, { zero_page: true, userfaultfd: true })).toEqual({
      skipped: 'profile zero_page=false but the machine has true',
    });
    expect(readFileSync(paths.thpEnabled, 'utf8')).toBe('always [madvise] never\n');
  });
});

describe('runner binary', () => {
  it.skipIf(process.platform !== 'linux')('builds with cc', () => {
    const bin = buildRunner();
    expect(existsSync(bin)).toBe(true);
  });

  it.skipIf(process.platform !== 'linux')('rejects malformed input with one line on stderr', () => {
    const bin = buildRunner();
    for (const input of ['mmap page=0\n', 'arena 8\nfrob page=0\n', 'arena 8\nmmap page=x pages=1\n', 'arena 8\nmmap page=0 pages=99\n']) {
      const r = spawnSync(bin, [], { input, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it.skipIf(!support.available)(`runs a scenario${skipReason}`, () => {
    expect(runLines('arena 16\nmmap page=0 pages=2 prot=rw\nread page=0 pages=3\n')).toEqual([
      { op: 'mmap', ret: 0 },
      { op: 'read', signal: 'SIGSEGV', page: 2, bytes: [0, 0] },
    ]);
    // The byte offset inside each page reaches the real kernel: a shared page keeps a byte written at +4095.
    expect(
      runLines('arena 16\nmmap page=0 pages=2 prot=rw map=shared\nwrite page=0 pages=2 byte=9 offset=4095\nmadvise page=0 pages=2 advice=dontneed\nread page=0 pages=2 offset=4095\nread page=0 pages=1 offset=4094\n'),
    ).toEqual([
      { op: 'mmap', ret: 0 },
      { op: 'write', ret: 0 },
      { op: 'madvise', ret: 0 },
      { op: 'read', ret: 0, bytes: [9, 9] },
      { op: 'read', ret: 0, bytes: [0] },
    ]);
    // A run of bytes that crosses into the next page, and one that runs off the mapping.
    expect(
      runLines('arena 16\nmmap page=0 pages=2 prot=rw map=shared\nwrite page=0 pages=1 byte=4 offset=4094 length=4\nread page=0 pages=1 offset=4093 length=6\nread page=1 pages=1 offset=4095 length=2\n'),
    ).toEqual([
      { op: 'mmap', ret: 0 },
      { op: 'write', ret: 0 },
      { op: 'read', ret: 0, bytes: [0, 4, 4, 4, 4, 0] },
      { op: 'read', signal: 'SIGSEGV', page: 2, bytes: [0] },
    ]);
    expect(runOnKernel({ name: 'u', arena_pages: 4, profile: { no_such_key: 1 }, ops: [] })).toEqual({
      skipped: 'unknown profile key "no_such_key"',
    });
  });
});

/** The recordings of a scenario file: name.kernel.json and name.<tag>.kernel.json. */
function recordingsOf(file: string): string[] {
  const dir = dirname(file);
  const stem = basename(file).replace(/\.json$/, '');
  return readdirSync(dir)
    .filter((name) => recordingTagOf(stem, name) !== null)
    .sort()
    .map((name) => join(dir, name));
}

describe('corpus recordings', () => {
  const files = listScenarios(CORPUS);

  it('has unique names and a recording next to every scenario, each stating its profile', () => {
    const names = new Set<string>();
    for (const f of files) {
      const s = JSON.parse(readFileSync(f, 'utf8')) as { name: string };
      expect(names.has(s.name), `duplicate name ${s.name}`).toBe(false);
      names.add(s.name);
      expect(existsSync(f.replace(/\.json$/, '.kernel.json')), `${f} has no recording`).toBe(true);
      for (const r of recordingsOf(f)) {
        const rec = JSON.parse(readFileSync(r, 'utf8')) as { name: string; results?: unknown[]; profile?: unknown };
        expect(rec.name, r).toBe(s.name);
        if (rec.results !== undefined) expect(() => parseRecordingProfile(rec.profile, r), r).not.toThrow();
      }
    }
    expect(files.length).toBeGreaterThanOrEqual(80);
  });

  // Re-runs every recording this host can reproduce under that recording's
  // profile; the others are listed with the reason (another kernel, zero-page
  // or soft-dirty setting, no userfaultfd, not root). Never fails because the
  // host is a different kernel.
  it.skipIf(!support.available)(`live kernel output equals every recording this host can reproduce${skipReason}`, () => {
    const drift: string[] = [];
    const skipped: string[] = [];
    let checked = 0;
    let total = 0;
    for (const f of files) {
      const scenario = JSON.parse(readFileSync(f, 'utf8')) as { name: string };
      for (const r of recordingsOf(f)) {
        const recorded = JSON.parse(readFileSync(r, 'utf8')) as { skipped?: string; results?: unknown[]; profile?: RecordingProfile };
        if (recorded.results === undefined || recorded.profile === undefined) {
          // A recording of a scenario the kernel cannot run (device ops): it must still be unrunnable.
          const live = runOnKernel(scenario);
          if (!('skipped' in live) || live.skipped !== recorded.skipped) drift.push(relative(CORPUS, r));
          continue;
        }
        total++;
        const outcome = recheckRecording(scenario, { profile: recorded.profile, results: recorded.results });
        if (outcome.status === 'skipped') skipped.push(`${relative(CORPUS, r)}: ${outcome.reason}`);
        else {
          checked++;
          if (outcome.status === 'drift') drift.push(relative(CORPUS, r));
        }
      }
    }
    console.info(`drift check: ${checked}/${total} kernel recordings re-checked on the live kernel, ${skipped.length} skipped`);
    if (skipped.length > 0) console.info(`skipped (this host cannot reproduce their profile):\n  ${skipped.join('\n  ')}`);
    expect(drift, 'recordings whose live kernel output differs').toEqual([]);
  });
});
