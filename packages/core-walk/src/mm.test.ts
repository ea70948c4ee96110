import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  KernelConfigError,
  MADV_DONTNEED,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MADV_POPULATE_WRITE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MadviseBehaviorToken,
  PMD_SIZE,
  PROT_NONE,
  PROT_READ,
  SIGSEGV,
  createKernel,
  isRealSwapEntry,
  pmdLeaf,
  ptePresent,
  type Feature,
  type MadviseBehavior,
} from './index.js';
import { TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages, P, RW, ANON } from './testing.js';

describe('mmap / munmap / mprotect errnos', () => {
  it('mmap validates its arguments like the kernel', () => {
    const { mm } = createTestMm();
    expect(mm.mmap(BASE, 0, RW, ANON)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE + 1, P, RW, ANON)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE, P, 0x10, ANON)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE, P, RW, MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE, P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE)).toBe(-Errno.EBADF);
    expect(mm.mmap(2 ** 47, P, RW, ANON)).toBe(-Errno.ENOMEM);
    expect(mm.mmap(4096, P, RW, ANON)).toBe(-Errno.EPERM);
    expect(mm.mmap(BASE, P, RW, ANON)).toBe(BASE);
    expect(mm.mmap(BASE, P, RW, ANON)).toBe(-Errno.EEXIST);
    expect(mm.mmap(BASE, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(BASE);
    expect(mm.mmap(BASE + P, 2 * PMD_SIZE, RW, ANON | MAP_HUGETLB)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE + PMD_SIZE, PMD_SIZE, RW, ANON | MAP_HUGETLB)).toBe(-Errno.ENOMEM);
    const hinted = mm.mmap(0, 3 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    expect(hinted).toBeGreaterThan(0);
    expect(hinted % P).toBe(0);
  });

  it('munmap and mprotect', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 8);
    expect(mm.munmap(BASE + 1, P)).toBe(-Errno.EINVAL);
    expect(mm.munmap(BASE, 0)).toBe(-Errno.EINVAL);
    expect(mm.munmap(BASE + 100 * P, P)).toBe(0);
    expect(mm.mprotect(BASE + 1, P, PROT_READ)).toBe(-Errno.EINVAL);
    expect(mm.mprotect(BASE, P, 0x40)).toBe(-Errno.EINVAL);
    expect(mm.mprotect(BASE, 0, PROT_READ)).toBe(0);
    expect(mm.mprotect(BASE, 16 * P, PROT_READ)).toBe(-Errno.ENOMEM);
    // VMAs before the hole were changed.
    expect(mm.access(BASE, AccessKind.Write, 1)).toBe(-SIGSEGV);
    expect(mm.vmas.size).toBe(1);
    expect(mm.mprotect(BASE + 2 * P, P, RW)).toBe(0);
    expect(mm.vmas.size).toBe(3);
    expect(mm.mprotect(BASE + 2 * P, P, PROT_READ)).toBe(0);
    expect(mm.vmas.size).toBe(1);
    expect(mm.munmap(BASE + 2 * P, P)).toBe(0);
    expect(mm.vmas.size).toBe(2);
    assertInvariants(kernel);
  });

  it('a shared mapping of a file opened read-write can become writable; PROT_NONE faults every access', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('f', 4 * P);
    if (typeof file === 'number') throw new Error();
    expect(mm.mmap(BASE, 4 * P, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0)).toBe(BASE);
    expect(mm.mprotect(BASE, 4 * P, RW)).toBe(0);
    expect(mm.access(BASE, AccessKind.Write, 3)).toBe(0);
    expect(mm.mprotect(BASE, 4 * P, PROT_NONE)).toBe(0);
    expect(mm.access(BASE, AccessKind.Read)).toBe(-SIGSEGV);
    expect(mm.mprotect(BASE, 4 * P, PROT_READ)).toBe(0);
    expect(mm.access(BASE, AccessKind.Read)).toBe(3);
  });
});

describe('faults', () => {
  it('maps the zero page on a read and a private page on a write', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 2);
    expect(mm.access(BASE, AccessKind.Read)).toBe(0);
    expect(kernel.frames.used).toBe(1); // only the zero page
    expect(mm.access(BASE, AccessKind.Write, 9)).toBe(0);
    expect(mm.access(BASE + 5, AccessKind.Read)).toBe(0);
    expect(mm.access(BASE, AccessKind.Read)).toBe(9);
    expect(kernel.frames.used).toBe(2);
    assertInvariants(kernel);
  });

  it('private file mappings copy on write and leave the file alone; shared ones write through', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('f', 2 * P);
    if (typeof file === 'number') throw new Error();
    expect(mm.mmap(BASE, 2 * P, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0)).toBe(BASE);
    expect(mm.mmap(BASE + 4 * P, 2 * P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE, file, 0)).toBe(BASE + 4 * P);
    expect(mm.access(BASE, AccessKind.Write, 5)).toBe(0);
    expect(mm.access(BASE + 4 * P, AccessKind.Read)).toBe(5);
    expect(mm.access(BASE + 4 * P, AccessKind.Write, 6)).toBe(0);
    expect(mm.access(BASE, AccessKind.Read)).toBe(5);
    expect(mm.madvise(BASE + 4 * P, P, MADV_DONTNEED)).toBe(0);
    expect(mm.access(BASE + 4 * P, AccessKind.Read)).toBe(5);
    assertInvariants(kernel);
  });

  it('THP on fault when the profile and VMA allow it, split by a partial munmap', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'madvise' } });
    mapAnon(mm, 0, 1024);
    writePages(mm, BASE, 1, 1);
    expect(pmdLeaf(mm.entryAt(BASE).entry)).toBe(false);
    expect(mm.madvise(BASE + 512 * P, 512 * P, MADV_HUGEPAGE)).toBe(0);
    writePages(mm, BASE + 700 * P, 1, 2);
    expect(pmdLeaf(mm.entryAt(BASE + 512 * P).entry)).toBe(true);
    expect(mm.munmap(BASE + 600 * P, P)).toBe(0);
    expect(pmdLeaf(mm.entryAt(BASE + 512 * P).entry)).toBe(false);
    expect(mm.access(BASE + 700 * P, AccessKind.Read)).toBe(2);
    assertInvariants(kernel);
    const never = createTestMm({ profile: { thp: 'never' } });
    mapAnon(never.mm, 0, 512);
    never.mm.madvise(BASE, 512 * P, MADV_HUGEPAGE);
    writePages(never.mm, BASE, 1, 1);
    expect(pmdLeaf(never.mm.entryAt(BASE).entry)).toBe(false);
  });

  it('MAP_POPULATE and populate_write fault pages in; pageout swaps anon pages only with swap', () => {
    for (const swap of [false, true]) {
      const { kernel, mm } = createTestMm({ profile: { swap } });
      expect(mm.mmap(BASE, 4 * P, RW, ANON | MAP_POPULATE)).toBe(BASE);
      expect(ptePresent(mm.entryAt(BASE + 3 * P).entry)).toBe(true);
      writePages(mm, BASE, 4, 7);
      expect(mm.madvise(BASE, 4 * P, MADV_PAGEOUT)).toBe(0);
      expect(isRealSwapEntry(mm.entryAt(BASE).entry)).toBe(swap);
      expect(mm.access(BASE + 2 * P, AccessKind.Read)).toBe(7);
      expect(mm.madvise(BASE, 4 * P, MADV_POPULATE_WRITE)).toBe(0);
      assertInvariants(kernel);
    }
  });

  it('mlock populates and refuses PROT_NONE with ENOMEM; munlock over a hole is ENOMEM', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 4);
    expect(mm.mlock(BASE, 4 * P)).toBe(0);
    expect(ptePresent(mm.entryAt(BASE).entry)).toBe(true);
    expect(mm.madvise(BASE, P, MADV_DONTNEED)).toBe(-Errno.EINVAL);
    mapAnon(mm, 8, 2, { prot: PROT_NONE });
    expect(mm.mlock(BASE + 8 * P, 2 * P)).toBe(-Errno.ENOMEM);
    expect(mm.munlock(BASE, 10 * P)).toBe(-Errno.ENOMEM);
    assertInvariants(kernel);
  });
});

describe('features through dependency injection', () => {
  it('a kernel without features refuses guard advice with EINVAL, as a kernel lacking it', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    expect(mm.madvise(BASE, P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(mm.madvise(BASE, P, MADV_GUARD_REMOVE)).toBe(-Errno.EINVAL);
  });

  it('a feature registers an madvise behaviour in its own kernel only', () => {
    const calls: string[] = [];
    const feature: Feature = {
      name: 'test-advice',
      install(container) {
        const behavior: MadviseBehavior = { advice: 200, name: 'test', applyToVma: (_mm, _vma, s, e) => (calls.push(`${(s - BASE) / P}-${(e - BASE) / P}`), 0) };
        container.register(MadviseBehaviorToken, { useValue: behavior });
      },
    };
    const kernel = createKernel({ features: [feature] });
    const plain = createKernel();
    expect(kernel.hasFeature('test-advice')).toBe(true);
    expect(plain.hasFeature('test-advice')).toBe(false);
    const mm = kernel.createMm();
    mapAnon(mm, 0, 2);
    mapAnon(mm, 4, 2);
    expect(mm.madvise(BASE, 6 * P, 200)).toBe(-Errno.ENOMEM);
    expect(calls).toEqual(['0-2', '4-6']);
    const other = plain.createMm();
    mapAnon(other, 0, 2);
    expect(other.madvise(BASE, P, 200)).toBe(-Errno.EINVAL);
    expect(() => createKernel({ features: [feature, feature] })).toThrow(KernelConfigError);
  });

  it('rejects a malformed profile with a typed error naming the field', () => {
    expect(() => createKernel({ profile: { thp: 'sometimes' as never } })).toThrow(/profile\.thp/);
    expect(() => createKernel({ profile: { bogus: 1 } as never })).toThrow(/bogus/);
  });
});

describe('bad input never throws', () => {
  it('returns errnos for garbage numbers', () => {
    const { mm } = createTestMm();
    for (const bad of [Number.NaN, -1, 2 ** 64, Infinity, 1.5]) {
      expect(mm.mmap(bad, P, RW, ANON)).toBeLessThan(0);
      expect(mm.munmap(bad, P)).toBeLessThan(0);
      expect(mm.mprotect(bad, P, RW)).toBeLessThan(0);
      expect(mm.madvise(bad, P, MADV_DONTNEED)).toBeLessThan(0);
      expect(mm.mlock(bad, P)).toBeLessThan(0);
      expect(mm.access(bad, AccessKind.Read)).toBe(-SIGSEGV);
      expect(mm.clearRefs(bad)).toBe(-Errno.EINVAL);
    }
    expect(mm.clearRefs(4)).toBe(0);
  });
});
