import { describe, expect, it } from 'vitest';
import {
  CATEGORY_NAMES,
  canonicalResult,
  categoryMaskOf,
  categoryNamesOfMask,
  firstDifference,
  firstFieldDifference,
  resultsEqual,
  type OpResult,
} from './index.js';

describe('canonicalResult', () => {
  it('sorts categories in bit order and fields in result order', () => {
    const result = canonicalResult({ regions: [[0, 2, ['guard', 'present', 'wpallowed']]], walk_end: 2, ret: 1, op: 'scan' } as OpResult);
    expect(JSON.stringify(result)).toBe('{"op":"scan","ret":1,"walk_end":2,"regions":[[0,2,["wpallowed","present","guard"]]]}');
  });

  it('sorts pagemap flags in table order and device flags in their table order', () => {
    expect(canonicalResult({ op: 'pagemap', ret: 0, entries: [['guard', 'exclusive', 'present']] }).entries).toEqual([['present', 'exclusive', 'guard']]);
    expect(canonicalResult({ op: 'dev_snapshot', entries: [['dev_private_local', 'write', 'read']] }).entries).toEqual([['read', 'write', 'dev_private_local']]);
  });

  it('puts the fault kind before "write"', () => {
    expect(canonicalResult({ op: 'write', ret: 0, uffd: [{ page: 1, flags: ['write', 'wp'] }] }).uffd).toEqual([{ page: 1, flags: ['wp', 'write'] }]);
  });

  it('does not change its argument', () => {
    const result: OpResult = { op: 'scan', ret: 1, regions: [[0, 1, ['present', 'written']]] };
    canonicalResult(result);
    expect(result.regions?.[0]?.[2]).toEqual(['present', 'written']);
  });
});

describe('category masks', () => {
  it('round-trips every single bit and "all"', () => {
    CATEGORY_NAMES.forEach((name, bit) => {
      expect(categoryMaskOf([name])).toBe(1 << bit);
      expect(categoryNamesOfMask(1 << bit)).toEqual([name]);
    });
    expect(categoryMaskOf(['all'])).toBe(0x1ff);
    expect(categoryNamesOfMask(0x1ff)).toEqual([...CATEGORY_NAMES]);
    expect(categoryMaskOf([])).toBe(0);
  });
});

describe('firstDifference', () => {
  const base: OpResult[] = [
    { op: 'mmap', ret: 0 },
    { op: 'read', ret: 0, bytes: [1, 2, 3] },
    { op: 'scan', ret: 2, walk_end: 8, regions: [[0, 4, ['written', 'present']], [4, 8, ['present']]] },
  ];

  it('is null for results equal up to list order and key order', () => {
    const same: OpResult[] = [
      { ret: 0, op: 'mmap' },
      { op: 'read', bytes: [1, 2, 3], ret: 0 },
      { op: 'scan', regions: [[0, 4, ['present', 'written']], [4, 8, ['present']]], walk_end: 8, ret: 2 },
    ];
    expect(firstDifference(base, same)).toBeNull();
    expect(resultsEqual(base, same)).toBe(true);
  });

  it('names the op and the first differing field', () => {
    const other = structuredClone(base);
    other[0] = { op: 'mmap', ret: -1, errno: 'EEXIST' };
    expect(firstDifference(base, other)).toEqual({ opIndex: 0, field: 'ret', expected: 0, actual: -1 });
  });

  it('narrows to a list element', () => {
    const other = structuredClone(base);
    other[1] = { op: 'read', ret: 0, bytes: [1, 9, 3] };
    expect(firstDifference(base, other)).toEqual({ opIndex: 1, field: 'bytes[1]', expected: 2, actual: 9 });
    other[1] = { op: 'read', ret: 0, bytes: [1] };
    expect(firstDifference(base, other)).toEqual({ opIndex: 1, field: 'bytes', expected: [1, 2, 3], actual: [1] });
    const scan = structuredClone(base);
    scan[2] = { op: 'scan', ret: 2, walk_end: 8, regions: [[0, 4, ['present']], [4, 8, ['present']]] };
    expect(firstDifference(base, scan)).toEqual({ opIndex: 2, field: 'regions[0][2]', expected: ['written', 'present'], actual: ['present'] });
  });

  it('reports a field present on one side only', () => {
    const other = structuredClone(base);
    other[1] = { op: 'read', signal: 'SIGSEGV', page: 0, bytes: [] };
    expect(firstDifference(base, other)).toMatchObject({ opIndex: 1, field: 'ret', expected: 0, actual: undefined });
  });

  it('reports a missing result', () => {
    expect(firstDifference(base, base.slice(0, 2))).toMatchObject({ opIndex: 2, field: '(result)', actual: undefined });
  });

  it('checks only the expected fields of an expectation', () => {
    expect(firstFieldDifference({ migrated: 4 }, { op: 'dev_migrate', ret: 0, migrated: 4 }, { onlyExpectedFields: true })).toBeNull();
    expect(firstFieldDifference({ migrated: 4 }, { op: 'dev_migrate', ret: 0, migrated: 3 }, { onlyExpectedFields: true })).toEqual({
      field: 'migrated',
      expected: 4,
      actual: 3,
    });
  });
});
