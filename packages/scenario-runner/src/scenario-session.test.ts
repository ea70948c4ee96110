import { describe, expect, it } from 'vitest';
import { MADV_GUARD_INSTALL, SIGSEGV } from '@pagewalk/core-walk';
import { parseScenarioValue } from '@pagewalk/scenario';
import { DEFAULT_ARENA_BASE, createScenarioSession, kernelProfileOf, runScenario } from './index.js';

/** Every core op once, and one op no core handler runs. */
const CORE = parseScenarioValue(
  {
    name: 'core-ops',
    arena_pages: 32,
    ops: [
      { op: 'mmap', page: 8, pages: 8, prot: 'rw', populate: true },
      { op: 'write', page: 8, pages: 2, byte: 5 },
      { op: 'mlock', page: 8, pages: 2 },
      { op: 'madvise', page: 8, pages: 2, advice: 'dontneed' },
      { op: 'munlock', page: 8, pages: 8 },
      { op: 'madvise', page: 8, pages: 1, advice: 'dontneed' },
      { op: 'read', page: 8, pages: 2 },
      { op: 'clear_soft_dirty' },
      { op: 'mprotect', page: 9, pages: 1, prot: 'none' },
      { op: 'read', page: 8, pages: 2 },
      { op: 'munmap', page: 15, pages: 4 },
      { op: 'write', page: 15, byte: 1 },
      { op: 'mmap', page: 0, pages: 1, prot: 'r', backing: 'file', map: 'shared' },
      { op: 'madvise', page: 0, pages: 1, advice: 'guard_install' },
      { op: 'pagemap', page: 8, pages: 2 },
    ],
  },
  'core-ops.json',
);

describe('runScenario', () => {
  it('runs the core ops and returns the simulated process', () => {
    const run = runScenario(CORE);
    expect(run.results.slice(0, 14)).toEqual([
      { op: 'mmap', ret: 0 },
      { op: 'write', ret: 0 },
      { op: 'mlock', ret: 0 },
      { op: 'madvise', ret: -1, errno: 'EINVAL' },
      { op: 'munlock', ret: 0 },
      { op: 'madvise', ret: 0 },
      { op: 'read', ret: 0, bytes: [0, 5] },
      { op: 'clear_soft_dirty', ret: 0 },
      { op: 'mprotect', ret: 0 },
      { op: 'read', signal: 'SIGSEGV', page: 9, bytes: [0] },
      { op: 'munmap', ret: 0 },
      { op: 'write', signal: 'SIGSEGV', page: 15 },
      { op: 'mmap', ret: 0 },
      // Guard advice is the guard-pages feature's: without it, EINVAL as on a kernel without it.
      { op: 'madvise', ret: -1, errno: 'EINVAL' },
    ]);
    expect(run.arenaBase).toBe(DEFAULT_ARENA_BASE);
    expect(run.arenaBase % 2 ** 30).toBe(0);
    expect(run.mm.access(run.arenaBase + 9 * 4096, 0)).toBe(-SIGSEGV); // the returned mm is the process the ops ran in
    expect(run.mm.vmas.lookup(run.arenaBase)?.start).toBe(run.arenaBase);
  });

  it('reads and writes the byte at `offset` inside each page (format v2)', () => {
    const scenario = parseScenarioValue(
      {
        name: 'offsets',
        arena_pages: 8,
        ops: [
          { op: 'mmap', page: 0, pages: 2, prot: 'rw', map: 'shared' },
          { op: 'write', page: 0, pages: 2, byte: 26, offset: 1 },
          { op: 'madvise', page: 0, pages: 2, advice: 'dontneed' },
          { op: 'read', page: 0, pages: 2, offset: 1 },
          { op: 'read', page: 0, pages: 2 },
          { op: 'write', page: 0, pages: 1, byte: 3, offset: 4094, length: 4 },
          { op: 'read', page: 0, pages: 1, offset: 4093, length: 6 },
          { op: 'read', page: 1, pages: 1, offset: 4095, length: 2 },
        ],
      },
      'offsets.json',
    );
    const run = runScenario(scenario);
    expect(run.results.slice(3)).toEqual([
      { op: 'read', ret: 0, bytes: [26, 26] },
      { op: 'read', ret: 0, bytes: [0, 0] },
      { op: 'write', ret: 0 },
      { op: 'read', ret: 0, bytes: [0, 3, 3, 3, 3, 0] },
      { op: 'read', signal: 'SIGSEGV', page: 2, bytes: [0] },
    ]);
  });

  it('marks ops without a handler as unsupported', () => {
    expect(runScenario(CORE).results[14]).toEqual({ op: 'pagemap', unsupported: true });
  });

  it('uses handlers of the given features', () => {
    const run = runScenario(CORE, {
      // Answers with the arena page of the op's first byte, through the context's address mapping.
      features: [
        {
          name: 'fake-pagemap',
          summary: 'a fake pagemap',
          install: () => undefined,
          ops: { pagemap: (op, context) => ({ op: op.op, ret: context.pageOf(context.addressOf(9) - 4096), entries: [] }) },
        },
      ],
    });
    expect(run.results[14]).toEqual({ op: 'pagemap', ret: 8, entries: [] });
  });

  it('attaches the userfaultfd faults a handler records to that op', () => {
    const session = createScenarioSession(CORE, {
      features: [
        {
          name: 'fake-uffd',
          summary: 'a fake userfaultfd',
          install: () => undefined,
          ops: {
            uffd_open: (op, context) => {
              context.recordUffdFault({ page: 3, flags: ['missing'] });
              return { op: op.op, ret: 0 };
            },
          },
        },
      ],
    });
    expect(session.execute({ op: 'uffd_open', features: [] })).toEqual({ op: 'uffd_open', ret: 0, uffd: [{ page: 3, flags: ['missing'] }] });
    expect(session.execute({ op: 'mmap', page: 0, pages: 1, prot: 'rw', backing: 'anon', map: 'private', populate: false, hugetlb: false })).toEqual({ op: 'mmap', ret: 0 });
  });

  it('installs the kernel half of the features', () => {
    const installed: string[] = [];
    const session = createScenarioSession(CORE, { features: [{ name: 'no-op', summary: 'nothing', install: () => installed.push('no-op') }] });
    expect(installed).toEqual(['no-op']);
    expect(session.kernel.hasFeature('no-op')).toBe(true);
    expect(session.supports('mmap')).toBe(true);
    expect(session.supports('scan')).toBe(false);
    expect(session.kernel.madviseBehaviors.has(MADV_GUARD_INSTALL)).toBe(false);
  });

  it('rejects an arena base that is not 1 GiB aligned', () => {
    expect(() => createScenarioSession(CORE, { arenaBase: DEFAULT_ARENA_BASE + 4096 })).toThrow(RangeError);
  });
});

describe('kernelProfileOf', () => {
  it('maps the profile keys it knows and leaves the rest to the default', () => {
    expect(kernelProfileOf(undefined)).toEqual({});
    expect(kernelProfileOf({ thp: 'madvise', thp_zero_page: false, soft_dirty: false, swap: true, hugetlb_pages: 4 })).toEqual({
      thp: 'madvise',
      thpZeroPage: false,
      softDirty: false,
      swap: true,
      hugetlbPages: 4,
    });
  });
});

describe('cases the simulator does not model', () => {
  it('reports MADV_COLLAPSE of a shmem range with pages as unsupported; an empty one gives the kernel EINVAL', () => {
    const scenario = parseScenarioValue(
      {
        name: 'collapse-file',
        arena_pages: 1024,
        ops: [
          { op: 'mmap', page: 0, pages: 512, prot: 'rw', map: 'shared', backing: 'file' },
          { op: 'madvise', page: 0, pages: 512, advice: 'collapse' },
          { op: 'write', page: 3, byte: 4 },
          { op: 'madvise', page: 0, pages: 512, advice: 'collapse' },
        ],
      },
      'collapse-file.json',
    );
    const { results } = runScenario(scenario);
    expect(results[1]).toEqual({ op: 'madvise', ret: -1, errno: 'EINVAL' });
    expect(results[3]).toEqual({ op: 'madvise', unsupported: true });
  });
});
