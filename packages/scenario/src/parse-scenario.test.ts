import { describe, expect, it } from 'vitest';
import { ScenarioError, parseResults, parseScenario, skipReason, unknownProfileKeys, type Scenario } from './index.js';

const FILE = 'bad.json';

function scenarioText(ops: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: 'test', arena_pages: 64, ops, ...extra });
}

function parseOps(ops: unknown[], extra: Record<string, unknown> = {}): Scenario {
  return parseScenario(scenarioText(ops, extra), FILE);
}

/** The one-line message of the ScenarioError thrown by parsing these ops. */
function errorOf(ops: unknown[], extra: Record<string, unknown> = {}): string {
  try {
    parseOps(ops, extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ScenarioError');
}

describe('parseScenario: scenario fields', () => {
  it('accepts the SCENARIO.md example and fills defaults', () => {
    const scenario = parseScenario(
      JSON.stringify({
        name: 'guard-then-scan',
        arena_pages: 1024,
        ops: [
          { op: 'mmap', page: 0, pages: 16, prot: 'rw' },
          { op: 'write', page: 0, pages: 4, byte: 7 },
          { op: 'madvise', page: 8, pages: 2, advice: 'guard_install' },
          { op: 'scan', page: 0, pages: 16, return_mask: ['all'] },
        ],
      }),
      'example.json',
    );
    expect(scenario.name).toBe('guard-then-scan');
    expect(scenario.ops[0]).toEqual({ op: 'mmap', page: 0, pages: 16, prot: 'rw', map: 'private', backing: 'anon', populate: false, hugetlb: false });
    expect(scenario.ops[3]).toEqual({
      op: 'scan',
      page: 0,
      pages: 16,
      flags: [],
      category_mask: [],
      category_anyof_mask: [],
      category_inverted: [],
      return_mask: ['all'],
      max_pages: 0,
      vec_len: 4096,
    });
  });

  it('reports malformed JSON in one line naming the file', () => {
    expect(() => parseScenario('{"name": ', 'broken.json')).toThrow(/^broken\.json: invalid JSON: /);
  });

  it.each([
    [[1, 2], 'a scenario must be a JSON object'],
    [{ arena_pages: 1, ops: [] }, 'field "name": missing'],
    [{ name: '', arena_pages: 1, ops: [] }, 'field "name": must be a non-empty string'],
    [{ name: 'x', ops: [] }, 'field "arena_pages": missing'],
    [{ name: 'x', arena_pages: 0, ops: [] }, 'field "arena_pages": must be between 1 and'],
    [{ name: 'x', arena_pages: 1.5, ops: [] }, 'field "arena_pages": must be an integer'],
    [{ name: 'x', arena_pages: '4', ops: [] }, 'field "arena_pages": must be an integer'],
    [{ name: 'x', arena_pages: 2 ** 40, ops: [] }, 'field "arena_pages": must be between'],
    [{ name: 'x', arena_pages: 1 }, 'field "ops": missing'],
    [{ name: 'x', arena_pages: 1, ops: {} }, 'field "ops": must be a list'],
    [{ name: 'x', arena_pages: 1, ops: [], colour: 'red' }, 'field "colour": unknown field'],
    [{ name: 'x', arena_pages: 1, ops: [], known_failing: 3 }, 'field "known_failing": must be a non-empty string'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: [] }, 'field "profile": must be an object'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { thp: 'sometimes' } }, 'field "profile.thp": unknown thp mode "sometimes"'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { thp_zero_page: 1 } }, 'field "profile.thp_zero_page": must be true or false'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { soft_dirty: 'yes' } }, 'field "profile.soft_dirty": must be true or false'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { swap: null } }, 'field "profile.swap": must be true, false, "file" or "zram", got null'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { swap: 'nfs' } }, 'field "profile.swap": must be true, false, "file" or "zram", got "nfs"'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { zero_page: 1 } }, 'field "profile.zero_page": must be true or false'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { mthp: { '48kB': 'always' } } }, 'field "profile.mthp": unknown mTHP size "48kB"'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { mthp: { '64kB': 'sometimes' } } }, 'field "profile.mthp.64kB": unknown mTHP mode "sometimes"'],
    [{ name: 'x', arena_pages: 1, ops: [], profile: { hugetlb_pages: -1 } }, 'field "profile.hugetlb_pages": must be between 0'],
  ])('rejects scenario %j', (value, message) => {
    expect(() => parseScenario(JSON.stringify(value), FILE)).toThrow(message);
    expect(() => parseScenario(JSON.stringify(value), FILE)).toThrow(new RegExp(`^${FILE}: `));
  });

  it('accepts every known profile key and known_failing', () => {
    const scenario = parseOps([], {
      profile: { thp: 'always', thp_zero_page: false, soft_dirty: true, swap: true, hugetlb_pages: 8 },
      known_failing: 'simulator lacks swap readahead',
    });
    expect(scenario.profile).toEqual({ thp: 'always', thp_zero_page: false, soft_dirty: true, swap: true, hugetlb_pages: 8 });
    expect(scenario.known_failing).toBe('simulator lacks swap readahead');
    expect(skipReason(scenario)).toBeNull();
  });

  it('keeps an unknown profile key and reports it as a skip reason, not an error', () => {
    const scenario = parseOps([], { profile: { thp: 'never', numa_nodes: 2 } });
    expect(unknownProfileKeys(scenario)).toEqual(['numa_nodes']);
    expect(skipReason(scenario)).toBe('unknown profile key "numa_nodes"');
  });
});

describe('parseScenario: op fields', () => {
  it('names the file, op index, op and field in one line', () => {
    expect(errorOf([{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }, {}, {}, { op: 'madvise', page: 0, pages: 1, advice: 'dontneeed' }])).toBe(
      'bad.json: op 1: field "op": missing',
    );
    expect(errorOf([{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }, { op: 'read', page: 0 }, { op: 'read', page: 0 }, { op: 'madvise', page: 0, pages: 1, advice: 'dontneeed' }])).toBe(
      'bad.json: op 3 (madvise): field "advice": unknown advice "dontneeed"',
    );
  });

  it.each([
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', map: 'shared', backing: 'file', populate: true, hugetlb: true }],
    [{ op: 'mmap', page: 63, pages: 1, prot: 'none' }],
    [{ op: 'mmap', page: 0, pages: 0, prot: 'rwx' }],
    [{ op: 'munmap', page: 0, pages: 64 }],
    [{ op: 'mprotect', page: 1, pages: 2, prot: 'rx' }],
    [{ op: 'madvise', page: 1, pages: 2, advice: 'guard_remove' }],
    [{ op: 'mlock', page: 1, pages: 2 }],
    [{ op: 'munlock', page: 1, pages: 2 }],
    [{ op: 'write', page: 1, byte: 255 }],
    [{ op: 'read', page: 1, pages: 3 }],
    [{ op: 'uffd_open', features: ['wp_async', 'wp_unpopulated'] }],
    [{ op: 'uffd_open' }],
    [{ op: 'uffd_register', page: 0, pages: 4, modes: ['wp', 'missing'] }],
    [{ op: 'uffd_unregister', page: 0, pages: 4 }],
    [{ op: 'uffd_wp', page: 0, pages: 4, wp: false }],
    [
      {
        op: 'scan',
        page: 0,
        pages: 16,
        flags: ['wp_matching', 'check_wpasync'],
        category_mask: ['written'],
        category_anyof_mask: ['present', 'swapped'],
        category_inverted: ['written'],
        return_mask: ['all'],
        max_pages: 4,
        vec_len: 1,
        raw: { size: 95, flags: 4, start_byte_offset: -4096, end_byte_offset: 2 ** 63, return_mask: 2 ** 62 },
      },
    ],
    [{ op: 'pagemap', page: 0, pages: 16 }],
    [{ op: 'clear_soft_dirty' }],
    [{ op: 'dev_migrate', page: 0, pages: 4, expect: { ret: 0, migrated: 4 } }],
    [{ op: 'dev_migrate_back', page: 0, pages: 4 }],
    [{ op: 'dev_read', page: 0, pages: 2, expect: { op: 'dev_read', ret: 0, bytes: [1, 2] } }],
    [{ op: 'dev_write', page: 0, pages: 2, byte: 9 }],
    [{ op: 'dev_snapshot', page: 0, pages: 2, expect: { entries: [['write', 'dev_private_local'], ['none']] } }],
  ])('accepts %j', (op) => {
    const scenario = parseOps([op]);
    expect(scenario.ops).toHaveLength(1);
    expect(scenario.ops[0]).toMatchObject(op as object);
  });

  it('fills read/write pages with 1', () => {
    expect(parseOps([{ op: 'write', page: 2, byte: 1 }]).ops[0]).toEqual({ op: 'write', page: 2, pages: 1, byte: 1 });
    expect(parseOps([{ op: 'read', page: 2 }]).ops[0]).toEqual({ op: 'read', page: 2, pages: 1 });
  });

  it('takes a byte offset inside each page for read and write (version 2), absent meaning 0', () => {
    expect(parseOps([{ op: 'write', page: 2, byte: 1, offset: 4095 }]).ops[0]).toEqual({ op: 'write', page: 2, pages: 1, byte: 1, offset: 4095 });
    expect(parseOps([{ op: 'read', page: 2, pages: 2, offset: 1 }]).ops[0]).toEqual({ op: 'read', page: 2, pages: 2, offset: 1 });
    expect(parseOps([{ op: 'read', page: 2, offset: 4090, length: 4096 }]).ops[0]).toEqual({ op: 'read', page: 2, pages: 1, offset: 4090, length: 4096 });
  });

  it.each([
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }, ''],
    [7, 'field "op": must be an object'],
    [{ op: 'fork' }, 'op 0: field "op": unknown op "fork"'],
    [{ op: 3 }, 'field "op": must be a string'],
    [{ op: 'mmap', pages: 1, prot: 'rw' }, 'op 0 (mmap): field "page": missing'],
    [{ op: 'mmap', page: 0, prot: 'rw' }, 'field "pages": missing'],
    [{ op: 'mmap', page: 0, pages: 1 }, 'field "prot": missing'],
    [{ op: 'mmap', page: -1, pages: 1, prot: 'rw' }, 'field "page": must be between 0 and 64, got -1'],
    [{ op: 'mmap', page: 65, pages: 1, prot: 'rw' }, 'field "page": must be between 0 and 64'],
    [{ op: 'mmap', page: 0.5, pages: 1, prot: 'rw' }, 'field "page": must be an integer'],
    [{ op: 'mmap', page: 60, pages: 8, prot: 'rw' }, 'field "pages": page 60 + pages 8 goes past arena_pages 64'],
    [{ op: 'mmap', page: 0, pages: '1', prot: 'rw' }, 'field "pages": must be an integer'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'wx' }, 'field "prot": unknown prot "wx"'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', map: 'anon' }, 'field "map": unknown map "anon"'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', backing: 'shmem' }, 'field "backing": unknown backing "shmem"'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', populate: 'yes' }, 'field "populate": must be true or false'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', hugetlb: 1 }, 'field "hugetlb": must be true or false'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', advice: 'free' }, 'op 0 (mmap): field "advice": unknown field'],
    [{ op: 'munmap', page: 0 }, 'field "pages": missing'],
    [{ op: 'mprotect', page: 0, pages: 1, prot: 'x' }, 'field "prot": unknown prot "x"'],
    [{ op: 'madvise', page: 0, pages: 1 }, 'field "advice": missing'],
    [{ op: 'madvise', page: 0, pages: 1, advice: 'DONTNEED' }, 'field "advice": unknown advice "DONTNEED"'],
    [{ op: 'mlock', page: 0, pages: 1, onfault: true }, 'field "onfault": unknown field'],
    [{ op: 'munlock', pages: 1 }, 'field "page": missing'],
    [{ op: 'write', page: 0 }, 'field "byte": missing'],
    [{ op: 'write', page: 0, byte: 256 }, 'field "byte": must be between 0 and 255'],
    [{ op: 'write', page: 0, byte: -1 }, 'field "byte": must be between 0 and 255'],
    [{ op: 'read', page: 0, byte: 1 }, 'field "byte": unknown field'],
    [{ op: 'read', page: 0, offset: 4096 }, 'field "offset": must be between 0 and 4095'],
    [{ op: 'write', page: 0, byte: 1, offset: -1 }, 'field "offset": must be between 0 and 4095'],
    [{ op: 'write', page: 0, byte: 1, offset: 1.5 }, 'field "offset": must be an integer'],
    [{ op: 'write', page: 0, byte: 1, length: 0 }, 'field "length": must be between 1 and 4096'],
    [{ op: 'read', page: 0, length: 4097 }, 'field "length": must be between 1 and 4096'],
    [{ op: 'mmap', page: 0, pages: 1, prot: 'rw', offset: 1 }, 'field "offset": unknown field'],
    [{ op: 'uffd_open', features: 'wp_async' }, 'field "features": must be a list'],
    [{ op: 'uffd_open', features: ['wp_sync'] }, 'field "features[0]": unknown uffd feature "wp_sync"'],
    [{ op: 'uffd_open', features: ['wp_async', 'wp_async'] }, 'field "features[1]": duplicate uffd feature "wp_async"'],
    [{ op: 'uffd_register', page: 0, pages: 1 }, 'field "modes": missing'],
    [{ op: 'uffd_register', page: 0, pages: 1, modes: ['write'] }, 'field "modes[0]": unknown uffd mode "write"'],
    [{ op: 'uffd_unregister', page: 0, pages: 1, modes: ['wp'] }, 'field "modes": unknown field'],
    [{ op: 'uffd_wp', page: 0, pages: 1 }, 'field "wp": missing'],
    [{ op: 'uffd_wp', page: 0, pages: 1, wp: 'true' }, 'field "wp": must be true or false'],
    [{ op: 'scan', page: 0, pages: 1, flags: ['wp_match'] }, 'field "flags[0]": unknown scan flag "wp_match"'],
    [{ op: 'scan', page: 0, pages: 1, category_mask: ['dirty'] }, 'field "category_mask[0]": unknown category "dirty"'],
    [{ op: 'scan', page: 0, pages: 1, category_anyof_mask: 'present' }, 'field "category_anyof_mask": must be a list'],
    [{ op: 'scan', page: 0, pages: 1, category_inverted: [1] }, 'field "category_inverted[0]": must be a string'],
    [{ op: 'scan', page: 0, pages: 1, return_mask: ['present', 'present'] }, 'field "return_mask[1]": duplicate category'],
    [{ op: 'scan', page: 0, pages: 1, max_pages: -1 }, 'field "max_pages": must not be negative, got -1'],
    [{ op: 'scan', page: 0, pages: 1, vec_len: 1.5 }, 'field "vec_len": must be an integer'],
    [{ op: 'scan', page: 0, pages: 1, vec_len: -1 }, 'field "vec_len": must not be negative'],
    [{ op: 'scan', page: 0, pages: 1, max_pages: 2 ** 64 }, 'field "max_pages": must be below 2^64'],
    [{ op: 'scan', page: 0, pages: 1, raw: [] }, 'field "raw": must be an object'],
    [{ op: 'scan', page: 0, pages: 1, raw: { start: 0 } }, 'field "raw.start": unknown field'],
    [{ op: 'scan', page: 0, pages: 1, raw: { size: -1 } }, 'field "raw.size": must not be negative'],
    [{ op: 'scan', page: 0, pages: 1, raw: { flags: 0.5 } }, 'field "raw.flags": must be an integer'],
    [{ op: 'scan', page: 0, pages: 1, raw: { return_mask: 2 ** 64 } }, 'field "raw.return_mask": must be below 2^64'],
    [{ op: 'scan', page: 0, pages: 1, raw: { end_byte_offset: '0' } }, 'field "raw.end_byte_offset": must be an integer'],
    [{ op: 'pagemap', page: 0 }, 'field "pages": missing'],
    [{ op: 'clear_soft_dirty', page: 0 }, 'field "page": unknown field'],
    [{ op: 'dev_migrate', page: 0, pages: 100 }, 'field "pages": must be between 0 and 64'],
    [{ op: 'dev_migrate_back', page: 0 }, 'field "pages": missing'],
    [{ op: 'dev_read', page: 0, pages: 1, byte: 2 }, 'field "byte": unknown field'],
    [{ op: 'dev_write', page: 0, pages: 1 }, 'field "byte": missing'],
    [{ op: 'dev_snapshot', page: 0, pages: 1, expect: { entries: [['dirty']] } }, 'field "expect.entries[0][0]": unknown device flag "dirty"'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: [] }, 'field "expect": must be an object'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: { op: 'dev_read' } }, 'field "expect.op": must be "dev_migrate"'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: { moved: 1 } }, 'field "expect.moved": unknown field'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: { ret: -2 } }, 'field "expect.ret": must be between -1'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: { errno: 'EWHAT' } }, 'field "expect.errno": unknown errno "EWHAT"'],
    [{ op: 'dev_read', page: 0, pages: 1, expect: { bytes: [256] } }, 'field "expect.bytes[0]": must be between 0 and 255'],
    [{ op: 'dev_read', page: 0, pages: 1, expect: { signal: 'SIGKILL' } }, 'field "expect.signal": unknown signal "SIGKILL"'],
    [{ op: 'read', page: 0, pages: 1, expect: { uffd: [{ page: 0 }] } }, 'field "expect.uffd[0].flags": missing'],
    [{ op: 'read', page: 0, pages: 1, expect: { uffd: [{ page: 0, flags: ['read'] }] } }, 'field "expect.uffd[0].flags[0]": unknown uffd fault flag "read"'],
    [{ op: 'scan', page: 0, pages: 1, expect: { regions: [[0, 1]] } }, 'field "expect.regions[0]": must be [start, end, categories]'],
    [{ op: 'scan', page: 0, pages: 1, expect: { regions: [[0, 1, ['dirty']]] } }, 'field "expect.regions[0][2][0]": unknown category "dirty"'],
    [{ op: 'scan', page: 0, pages: 1, expect: { walk_end: 'end' } }, 'field "expect.walk_end": must be a page number'],
    [{ op: 'pagemap', page: 0, pages: 1, expect: { entries: [['dirty']] } }, 'field "expect.entries[0][0]": unknown pagemap flag "dirty"'],
    [{ op: 'pagemap', page: 0, pages: 1, expect: { unsupported: false } }, 'field "expect.unsupported": must be true'],
    [{ op: 'dev_migrate', page: 0, pages: 1, expect: { migrated: -1 } }, 'field "expect.migrated": must be between 0'],
  ])('rejects %j', (op, message) => {
    if (message === '') {
      expect(() => parseOps([op])).not.toThrow();
      return;
    }
    const line = errorOf([op]);
    expect(line).toContain(message);
    expect(line.startsWith('bad.json: op 0')).toBe(true);
  });
});

describe('parseResults', () => {
  it('accepts a full result list', () => {
    const results = parseResults(
      [
        { op: 'mmap', ret: 0 },
        { op: 'madvise', ret: -1, errno: 'EINVAL' },
        { op: 'write', signal: 'SIGSEGV', page: 3 },
        { op: 'read', ret: 0, bytes: [7], uffd: [{ page: 0, flags: ['wp', 'write'] }] },
        { op: 'scan', ret: 1, walk_end: 16, regions: [[0, 4, ['written', 'present']]] },
        { op: 'pagemap', ret: 0, entries: [['present', 'exclusive'], []] },
        { op: 'dev_migrate', unsupported: true },
      ],
      'kernel.json',
    );
    expect(results).toHaveLength(7);
  });

  it('requires op on every result and errno when ret is -1', () => {
    expect(() => parseResults([{ ret: 0 }], 'k.json')).toThrow('k.json: op 0: field "result.op": missing');
    expect(() => parseResults([{ op: 'mmap', ret: -1 }], 'k.json')).toThrow('field "result.errno": missing (ret is -1)');
    expect(() => parseResults({}, 'k.json')).toThrow('k.json: field "results": must be a list');
  });
});
