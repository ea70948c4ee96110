/**
 * Issue 18: a first write at a non-zero offset inside a page must behave as
 * one at offset 0 — same data, same page-cache membership, same counts.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  MADV_DONTNEED,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  checkInvariants,
  createKernel,
  type KernelProfile,
} from './index.js';
import { P, RW } from './testing.js';

const OFFSETS = [0, 1, 100, 2048, 4095];
const PROFILES: Partial<KernelProfile>[] = [
  { swap: true },
  { swap: false },
  { thp: 'never' },
  { thp: 'always', swap: true },
];

describe.each(PROFILES)('first write at a non-zero offset (profile %o)', (profile) => {
  it.each(OFFSETS)('shared anonymous, +%i: the data survives MADV_DONTNEED', (off) => {
    const k = createKernel({ profile });
    const mm = k.createMm();
    const a = mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS);
    expect(mm.access(a + off, AccessKind.Write, 26)).toBe(0);
    expect(checkInvariants(k)).toEqual([]);
    expect(mm.madvise(a, P, MADV_DONTNEED)).toBe(0);
    expect(mm.access(a + off, AccessKind.Read)).toBe(26);
    expect(checkInvariants(k)).toEqual([]);
  });

  it.each(OFFSETS)('two MAP_SHARED mappings of one memfd, +%i', (off) => {
    const k = createKernel({ profile });
    const mm = k.createMm();
    const file = k.memfdCreate('f', 2 * P);
    if (typeof file === 'number') throw new Error('memfd');
    const a = mm.mmap(0, 2 * P, RW, MAP_SHARED, file);
    const b = mm.mmap(0, 2 * P, RW, MAP_SHARED, file);
    expect(mm.access(a + P + off, AccessKind.Write, 77)).toBe(0);
    expect(mm.access(b + P + off, AccessKind.Read)).toBe(77);
    expect(mm.access(b + off, AccessKind.Write, 5)).toBe(0);
    expect(mm.access(a + off, AccessKind.Read)).toBe(5);
    expect(checkInvariants(k)).toEqual([]);
    mm.munmap(a, 2 * P);
    mm.munmap(b, 2 * P);
    k.closeFile(file);
    expect(checkInvariants(k)).toEqual([]);
    expect(k.frames.used).toBe(1); // only the zero page
  });

  it.each(OFFSETS)('private file mapping written at +%i: no leak, the file keeps its data', (off) => {
    const k = createKernel({ profile });
    const mm = k.createMm();
    const file = k.memfdCreate('f', P);
    if (typeof file === 'number') throw new Error('memfd');
    const shared = mm.mmap(0, P, RW, MAP_SHARED, file);
    const priv = mm.mmap(0, P, RW, MAP_PRIVATE, file);
    expect(mm.access(shared + off, AccessKind.Write, 9)).toBe(0);
    expect(mm.access(priv + off, AccessKind.Write, 10)).toBe(0);
    expect(mm.access(shared + off, AccessKind.Read)).toBe(9);
    expect(mm.access(priv + off, AccessKind.Read)).toBe(10);
    expect(checkInvariants(k)).toEqual([]);
    mm.exit();
    k.closeFile(file);
    expect(checkInvariants(k)).toEqual([]);
    expect(k.frames.used).toBe(1);
  });

  it.each(OFFSETS)('read fault at +%i on a file mapping with fault-around, then swap-in', (off) => {
    const k = createKernel({ profile });
    const mm = k.createMm();
    const file = k.memfdCreate('f', 32 * P);
    if (typeof file === 'number') throw new Error('memfd');
    const w = mm.mmap(0, 32 * P, RW, MAP_SHARED, file);
    for (let i = 0; i < 32; i++) expect(mm.access(w + i * P + off, AccessKind.Write, i + 1)).toBe(0);
    const r = mm.mmap(0, 32 * P, PROT_READ, MAP_PRIVATE, file);
    expect(mm.access(r + 5 * P + off, AccessKind.Read)).toBe(6);
    expect(checkInvariants(k)).toEqual([]);
    expect(mm.madvise(w, 32 * P, MADV_PAGEOUT)).toBe(0);
    expect(mm.madvise(r, 32 * P, MADV_PAGEOUT)).toBe(0);
    for (let i = 0; i < 32; i++) expect(mm.access(r + i * P + off, AccessKind.Read)).toBe(i + 1);
    expect(checkInvariants(k)).toEqual([]);
  });

  it.each(OFFSETS)('anonymous private, fork and COW at +%i', (off) => {
    const k = createKernel({ profile });
    const mm = k.createMm();
    const a = mm.mmap(0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    expect(mm.access(a + P + off, AccessKind.Write, 1)).toBe(0);
    const child = mm.fork();
    expect(child.access(a + P + off, AccessKind.Write, 2)).toBe(0);
    expect(mm.access(a + P + off, AccessKind.Read)).toBe(1);
    expect(child.access(a + P + off, AccessKind.Read)).toBe(2);
    expect(mm.madvise(a, 4 * P, MADV_PAGEOUT)).toBe(0);
    expect(mm.access(a + P + off, AccessKind.Read)).toBe(1);
    expect(checkInvariants(k)).toEqual([]);
  });
});

describe('hugetlb and THP at non-zero offsets', () => {
  it.each(OFFSETS)('two mappings of a hugetlb memfd, +%i in a later 4 KiB page, then fork and COW', (off) => {
    const k = createKernel({ profile: { hugetlbPages: 4 } });
    const mm = k.createMm();
    const file = k.memfdCreate('h', 2 * 1024 * 1024, { hugetlb: true });
    if (typeof file === 'number') throw new Error('memfd');
    const a = mm.mmap(0, 2 * 1024 * 1024, RW, MAP_SHARED, file);
    const b = mm.mmap(0, 2 * 1024 * 1024, RW, MAP_SHARED, file);
    const priv = mm.mmap(0, 2 * 1024 * 1024, RW, MAP_PRIVATE | MAP_ANONYMOUS | 0x40000 /* MAP_HUGETLB */);
    expect(mm.access(a + 7 * P + off, AccessKind.Write, 31)).toBe(0);
    expect(mm.access(b + 7 * P + off, AccessKind.Read)).toBe(31);
    expect(mm.access(priv + 3 * P + off, AccessKind.Write, 4)).toBe(0);
    const child = mm.fork();
    expect(child.access(priv + 3 * P + off, AccessKind.Write, 5)).toBe(0);
    expect(mm.access(priv + 3 * P + off, AccessKind.Read)).toBe(4);
    expect(child.access(priv + 3 * P + off, AccessKind.Read)).toBe(5);
    expect(checkInvariants(k)).toEqual([]);
  });

  it.each(OFFSETS)('THP always: first write at +%i, fork, COW on both sides, swap out and in', (off) => {
    const k = createKernel({ profile: { thp: 'always', swap: true } });
    const mm = k.createMm();
    const a = mm.mmap(0, 4 * 1024 * 1024, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    const base = a + ((2 * 1024 * 1024 - (a % (2 * 1024 * 1024))) % (2 * 1024 * 1024));
    expect(mm.access(base + 9 * P + off, AccessKind.Write, 1)).toBe(0);
    const child = mm.fork();
    expect(child.access(base + 9 * P + off, AccessKind.Write, 2)).toBe(0);
    expect(mm.access(base + 10 * P + off, AccessKind.Write, 3)).toBe(0);
    expect(mm.access(base + 9 * P + off, AccessKind.Read)).toBe(1);
    expect(child.access(base + 9 * P + off, AccessKind.Read)).toBe(2);
    expect(child.access(base + 10 * P + off, AccessKind.Read)).toBe(0);
    expect(mm.madvise(a, 4 * 1024 * 1024, MADV_PAGEOUT)).toBe(0);
    expect(mm.access(base + 10 * P + off, AccessKind.Read)).toBe(3);
    expect(checkInvariants(k)).toEqual([]);
  });
});
