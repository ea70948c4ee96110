// madvise.ts: argument checks, the VMA walk with its ENOMEM for gaps, and the core advice.
import { describe, expect, it } from 'vitest';
import { Errno } from './errno.js';
import { PMD_SIZE } from './geometry.js';
import { PG_SWAPBACKED } from './frames.js';
import { PTE_ACCESSED, ptePfn, ptePresent, pteWrite } from './pgtable.js';
import {
  AccessKind,
  MADV_COLD,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MAP_SHARED,
  MLOCK_ONFAULT,
} from './uapi.js';
import { VM_HUGEPAGE } from './vma.js';
import { madviseWalkVmas } from './madvise.js';
import { P, RW, TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';

describe('madvise arguments and the VMA walk', () => {
  it('EINVAL for an unaligned start or unknown advice; a zero length is a no-op; ENOMEM over a gap, after advising what is mapped', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2);
    mapAnon(mm, 3, 1);
    writePages(mm, addr, 2, 1);
    expect(mm.madvise(addr + 1, P, MADV_DONTNEED)).toBe(-Errno.EINVAL);
    expect(mm.madvise(addr, P, 12345)).toBe(-Errno.EINVAL);
    expect(mm.madvise(addr, 0, MADV_DONTNEED)).toBe(0);
    expect(mm.madvise(addr, 4 * P, MADV_DONTNEED)).toBe(-Errno.ENOMEM);
    expect(mm.leafEntry(addr)).toBe(0);
    expect(mm.leafEntry(addr + P)).toBe(0);
    assertInvariants(kernel);
  });

  it('madviseWalkVmas visits each VMA piece of the range and reports the gap', () => {
    const { mm } = createTestMm();
    const a = mapAnon(mm, 0, 2);
    mapAnon(mm, 3, 2);
    const seen: [number, number][] = [];
    const r = madviseWalkVmas(mm, a + P, a + 4 * P, (_vma, from, to) => {
      seen.push([(from - a) / P, (to - a) / P]);
      return 0;
    });
    expect(seen).toEqual([[1, 2], [3, 4]]);
    expect(r).toBe(-Errno.ENOMEM);
  });
});

describe('core advice', () => {
  it('MADV_DONTNEED drops private pages (reads see zeros again); locked VMAs refuse it', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2);
    writePages(mm, addr, 2, 3);
    expect(mm.madvise(addr, P, MADV_DONTNEED)).toBe(0);
    expect(mm.access(addr, AccessKind.Read)).toBe(0);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(3);
    expect(mm.mlock(addr + P, P, MLOCK_ONFAULT)).toBe(0);
    expect(mm.madvise(addr + P, P, MADV_DONTNEED)).toBe(-Errno.EINVAL);
    assertInvariants(kernel);
  });

  it('MADV_FREE marks exclusive anonymous pages lazily freeable and is EINVAL on file mappings', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 1);
    writePages(mm, addr, 1, 3);
    expect(mm.madvise(addr, P, MADV_FREE)).toBe(0);
    const pfn = ptePfn(mm.leafEntry(addr));
    expect(kernel.frames.has(pfn, PG_SWAPBACKED)).toBe(false);
    const file = kernel.memfdCreate('f', P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const shared = mm.mmap(BASE + 8 * P, P, RW, MAP_SHARED, file, 0);
    expect(mm.madvise(shared, P, MADV_FREE)).toBe(-Errno.EINVAL);
    assertInvariants(kernel);
  });

  it('MADV_REMOVE punches a hole in a shared file: every mapping of it reads zeros', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('f', 2 * P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const a = mm.mmap(BASE, 2 * P, RW, MAP_SHARED, file, 0);
    const b = mm.mmap(BASE + 8 * P, 2 * P, RW, MAP_SHARED, file, 0);
    writePages(mm, a, 2, 4);
    expect(mm.access(b, AccessKind.Read)).toBe(4);
    expect(mm.madvise(a, P, MADV_REMOVE)).toBe(0);
    expect(file.cache.get(0)).toBe(0);
    expect(mm.access(b, AccessKind.Read)).toBe(0);
    expect(mm.access(b + P, AccessKind.Read)).toBe(4);
    assertInvariants(kernel);
  });

  it('MADV_POPULATE_READ / _WRITE fault pages in; MADV_HUGEPAGE sets VM_HUGEPAGE on just the range', () => {
    const { kernel, mm } = createTestMm({ profile: { zeroPage: true } });
    const addr = mapAnon(mm, 0, 4);
    expect(mm.madvise(addr, 2 * P, MADV_POPULATE_READ)).toBe(0);
    expect(ptePfn(mm.leafEntry(addr))).toBe(kernel.frames.zeroPfn);
    expect(mm.madvise(addr, 2 * P, MADV_POPULATE_WRITE)).toBe(0);
    expect(pteWrite(mm.leafEntry(addr + P))).toBe(true);
    expect(mm.leafEntry(addr + 2 * P)).toBe(0);
    expect(mm.madvise(addr + 2 * P, 2 * P, MADV_HUGEPAGE)).toBe(0);
    expect(mm.vmas.all().map((v) => (v.flags & VM_HUGEPAGE) !== 0)).toEqual([false, true]);
    assertInvariants(kernel);
  });

  it('MADV_COLD clears the accessed bit of exclusive pages and keeps them mapped', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, PMD_SIZE / P);
    writePages(mm, addr, 4, 1);
    expect(mm.leafEntry(addr) & PTE_ACCESSED).not.toBe(0);
    expect(mm.madvise(addr, 4 * P, MADV_COLD)).toBe(0);
    for (let i = 0; i < 4; i++) {
      const pte = mm.leafEntry(addr + i * P);
      expect(ptePresent(pte)).toBe(true);
      expect(pte & PTE_ACCESSED).toBe(0);
    }
    assertInvariants(kernel);
  });
});
