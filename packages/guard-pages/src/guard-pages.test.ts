import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  VM_DONTEXPAND,
  VM_IO,
  VM_LOCKED,
  VM_MIXEDMAP,
  VM_PFNMAP,
  createKernel,
  isGuardPteMarker,
  isTableEntry,
  makeGuardPte,
  pmdLeaf,
  ptePresent,
  pteSwpMkuffdWp,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { TEST_ARENA_BASE, assertInvariants, createTestMm, mapAnon, writePages, P } from '@pagewalk/core-walk/testing';
import { guardInstallWalkOps, guardPages, guardRemoveWalkOps, type GuardInstallState } from './index.js';

const { anonVmaPrepare, framesOf, pteSlotOf, tablesOf, walkPageRangeMm, writableVma } = claimMmInternal();

const at = (page: number) => TEST_ARENA_BASE + page * P;

function setup(options: { profile?: { thp?: 'always' | 'madvise' | 'never'; hugetlbPages?: number } } = {}) {
  return createTestMm({ features: [guardPages], profile: options.profile ?? {} });
}

const read = (mm: ReturnType<typeof setup>['mm'], page: number) => mm.access(at(page), AccessKind.Read);
const write = (mm: ReturnType<typeof setup>['mm'], page: number, value: number) => mm.access(at(page), AccessKind.Write, value);
const entry = (mm: ReturnType<typeof setup>['mm'], page: number) => mm.entryAt(at(page)).entry;

describe('without the feature', () => {
  it('madvise 102 and 103 are unknown advice (EINVAL)', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    expect(mm.madvise(at(0), P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(mm.madvise(at(0), P, MADV_GUARD_REMOVE)).toBe(-Errno.EINVAL);
    expect(read(mm, 0)).toBe(0);
  });
});

describe('MADV_GUARD_INSTALL', () => {
  it('writes guard PTE markers in the core encoding, allocating page tables', () => {
    const { kernel, mm } = setup();
    mapAnon(mm, 0, 4);
    expect(mm.pteSlot(at(0), false)).toBe(-1); // no tables yet
    expect(mm.madvise(at(1), 2 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(entry(mm, 0)).toBe(0);
    expect(entry(mm, 1)).toBe(makeGuardPte());
    expect(entry(mm, 2)).toBe(makeGuardPte());
    expect(entry(mm, 3)).toBe(0);
    assertInvariants(kernel);
  });

  it('every access to a guard page raises SIGSEGV at that page, others work', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 4, { prot: PROT_READ | PROT_WRITE | 4 });
    mm.madvise(at(2), P, MADV_GUARD_INSTALL);
    expect(read(mm, 2)).toBe(-SIGSEGV);
    expect(write(mm, 2, 1)).toBe(-SIGSEGV);
    expect(mm.access(at(2) + 100, AccessKind.Exec)).toBe(-SIGSEGV);
    expect(mm.access(at(2) + 4095, AccessKind.Read)).toBe(-SIGSEGV);
    expect(write(mm, 1, 5)).toBe(0);
    expect(read(mm, 3)).toBe(0);
    expect(entry(mm, 2)).toBe(makeGuardPte()); // the fault did not change it
  });

  it('zaps populated pages first and then installs (data is gone after removal)', () => {
    const { kernel, mm } = setup();
    mapAnon(mm, 0, 8);
    writePages(mm, at(0), 8, 7);
    const before = framesOf(kernel).used;
    expect(mm.madvise(at(2), 3 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(framesOf(kernel).used).toBe(before - 3);
    for (const page of [2, 3, 4]) expect(isGuardPteMarker(entry(mm, page))).toBe(true);
    expect(mm.madvise(at(0), 8 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect([0, 1, 2, 3, 4, 5].map((p) => read(mm, p))).toEqual([7, 7, 0, 0, 0, 7]);
    assertInvariants(kernel);
  });

  it('is idempotent: existing guards are counted, not zapped (nrPages covers the whole range)', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 8);
    mm.madvise(at(0), 4 * P, MADV_GUARD_INSTALL);
    const state: GuardInstallState = { nrPages: 0 };
    const vma = mm.vmas.lookup(at(0))!;
    anonVmaPrepare(mm, vma);
    expect(walkPageRangeMm(mm, at(0), at(8), guardInstallWalkOps, state)).toBe(0);
    expect(state.nrPages).toBe(8);
    expect(mm.madvise(at(0), 8 * P, MADV_GUARD_INSTALL)).toBe(0);
  });

  it('the install walk stops with 1 at the first populated PTE', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 8);
    write(mm, 5, 1);
    const state: GuardInstallState = { nrPages: 0 };
    expect(walkPageRangeMm(mm, at(0), at(8), guardInstallWalkOps, state)).toBe(1);
    expect(state.nrPages).toBe(5);
    expect(ptePresent(entry(mm, 5))).toBe(true);
  });

  it('refuses VMAs that cannot have guards with EINVAL before changing anything', () => {
    for (const flag of [VM_IO, VM_PFNMAP, VM_MIXEDMAP, VM_DONTEXPAND, VM_LOCKED]) {
      const { mm } = setup();
      mapAnon(mm, 0, 4);
      write(mm, 0, 9);
      writableVma(mm.vmas.lookup(at(0))!).flags |= flag;
      expect(mm.madvise(at(0), 4 * P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
      expect(ptePresent(entry(mm, 0))).toBe(true);
      expect(mm.vmas.lookup(at(0))!.anonVma).not.toBeNull(); // from the write fault only
    }
  });

  it('refuses hugetlb (install and remove), and mlocked VMAs for install only', () => {
    const { mm } = setup({ profile: { hugetlbPages: 2 } });
    const addr = mm.mmap(TEST_ARENA_BASE + 512 * P, 512 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE);
    expect(addr).toBe(at(512));
    expect(mm.madvise(addr, 512 * P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(mm.madvise(addr, 512 * P, MADV_GUARD_REMOVE)).toBe(-Errno.EINVAL);
    // The walker itself refuses installPte on hugetlb too.
    expect(walkPageRangeMm(mm, addr, addr + 512 * P, guardInstallWalkOps, { nrPages: 0 })).toBe(-Errno.EINVAL);

    mapAnon(mm, 0, 4);
    mm.madvise(at(0), P, MADV_GUARD_INSTALL);
    expect(mm.mlock(at(1), 3 * P)).toBe(0);
    expect(mm.madvise(at(1), P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(mm.mlock(at(0), 4 * P)).toBe(-Errno.ENOMEM); // population fails on the guard
    expect(mm.madvise(at(0), 4 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(read(mm, 0)).toBe(0);
  });

  it('gaps give ENOMEM but every VMA in the range is still guarded; an error stops at that VMA', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 4);
    mapAnon(mm, 8, 4);
    mapAnon(mm, 16, 4);
    expect(mm.madvise(at(0), 20 * P, MADV_GUARD_INSTALL)).toBe(-Errno.ENOMEM);
    for (const page of [0, 3, 8, 11, 16, 19]) expect(read(mm, page)).toBe(-SIGSEGV);
    expect(mm.madvise(at(0), 20 * P, MADV_GUARD_REMOVE)).toBe(-Errno.ENOMEM);
    for (const page of [0, 3, 8, 11, 16, 19]) expect(read(mm, page)).toBe(0);
    writableVma(mm.vmas.lookup(at(8))!).flags |= VM_LOCKED;
    expect(mm.madvise(at(0), 20 * P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(read(mm, 0)).toBe(-SIGSEGV);
    expect(read(mm, 16)).toBe(0);
    expect(mm.madvise(at(100), 4 * P, MADV_GUARD_INSTALL)).toBe(-Errno.ENOMEM);
  });

  it('validates arguments like any madvise', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 4);
    expect(mm.madvise(at(0) + 1, P, MADV_GUARD_INSTALL)).toBe(-Errno.EINVAL);
    expect(mm.madvise(at(0), 0, MADV_GUARD_INSTALL)).toBe(0);
    expect(mm.madvise(at(0), 1, MADV_GUARD_INSTALL)).toBe(0); // rounded up to a page
    expect(read(mm, 0)).toBe(-SIGSEGV);
    expect(read(mm, 1)).toBe(0);
  });

  it('does not split or merge VMAs, but gives every VMA type an anon_vma', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    const file = kernel.memfdCreate('f', 8 * P);
    if (typeof file === 'number') throw new Error('memfd');
    mm.mmap(at(0), 8 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0);
    const vma = mm.vmas.lookup(at(0))!;
    expect(vma.anonVma).toBeNull();
    expect(mm.madvise(at(2), 2 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(mm.vmas.size).toBe(1);
    expect(vma.anonVma).not.toBeNull();
  });

  it('THP: a partial install zaps (splitting the PMD) only the guarded pages', () => {
    const { kernel, mm } = setup({ profile: { thp: 'madvise' } });
    mapAnon(mm, 512, 512);
    mm.madvise(at(512), 512 * P, MADV_HUGEPAGE);
    write(mm, 512, 3);
    write(mm, 700, 4);
    const pmdSlot = mm.pmdSlot(at(512), false);
    expect(pmdLeaf(tablesOf(kernel).entries[pmdSlot]!)).toBe(true);
    expect(mm.madvise(at(513), P, MADV_GUARD_INSTALL)).toBe(0);
    expect(isTableEntry(tablesOf(kernel).entries[pmdSlot]!)).toBe(true);
    expect(read(mm, 512)).toBe(3);
    expect(read(mm, 513)).toBe(-SIGSEGV);
    expect(read(mm, 700)).toBe(4);
    assertInvariants(kernel);
  });

  it('THP: a whole-PMD install zaps the huge page without splitting it first', () => {
    const { kernel, mm } = setup({ profile: { thp: 'madvise' } });
    mapAnon(mm, 512, 512);
    mm.madvise(at(512), 512 * P, MADV_HUGEPAGE);
    write(mm, 512, 3);
    const before = framesOf(kernel).used;
    expect(mm.madvise(at(512), 512 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(framesOf(kernel).used).toBe(before - 512);
    expect(read(mm, 1023)).toBe(-SIGSEGV);
    expect(mm.madvise(at(512), 512 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(read(mm, 600)).toBe(0);
    assertInvariants(kernel);
  });

  it('a marker the zap keeps (file VMA, uffd-wp) cannot be replaced: bounded restarts, then EAGAIN', async () => {
    const { makeUffdWpMarker, VM_UFFD_WP } = await import('@pagewalk/core-walk');
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    const file = kernel.memfdCreate('f', 4 * P);
    if (typeof file === 'number') throw new Error('memfd');
    mm.mmap(at(0), 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0);
    writableVma(mm.vmas.lookup(at(0))!).flags |= VM_UFFD_WP;
    tablesOf(kernel).entries[pteSlotOf(mm, at(1), true)] = makeUffdWpMarker();
    expect(mm.madvise(at(0), 4 * P, MADV_GUARD_INSTALL)).toBe(-Errno.EAGAIN);
    expect(entry(mm, 1)).toBe(makeUffdWpMarker());
    // On anonymous memory the zap drops uffd-wp markers, so the install goes through.
    mapAnon(mm, 8, 4);
    writableVma(mm.vmas.lookup(at(8))!).flags |= VM_UFFD_WP;
    tablesOf(kernel).entries[pteSlotOf(mm, at(9), true)] = makeUffdWpMarker();
    expect(mm.madvise(at(8), 4 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(entry(mm, 9)).toBe(makeGuardPte());
  });
});

describe('MADV_GUARD_REMOVE', () => {
  it('clears only guard markers: data in other pages is untouched, removed anon guards read zero', () => {
    const { kernel, mm } = setup();
    mapAnon(mm, 0, 8);
    writePages(mm, at(0), 8, 0x78);
    mm.madvise(at(2), 2 * P, MADV_GUARD_INSTALL);
    const frames = framesOf(kernel).used;
    expect(mm.madvise(at(0), 8 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(framesOf(kernel).used).toBe(frames);
    expect([...Array(8).keys()].map((p) => read(mm, p))).toEqual([0x78, 0x78, 0, 0, 0x78, 0x78, 0x78, 0x78]);
    expect(mm.madvise(at(0), 8 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(read(mm, 0)).toBe(0x78);
  });

  it('clears a guard that also carries the swap uffd-wp bit (set by a WP_MATCHING scan)', () => {
    const { kernel, mm } = setup();
    mapAnon(mm, 0, 2);
    mm.madvise(at(0), P, MADV_GUARD_INSTALL);
    const slot = mm.pteSlot(at(0), false);
    tablesOf(kernel).entries[slot] = pteSwpMkuffdWp(makeGuardPte());
    expect(read(mm, 0)).toBe(-SIGSEGV);
    expect(mm.madvise(at(0), 2 * P, MADV_GUARD_INSTALL)).toBe(0); // counted as a guard, kept
    expect(tablesOf(kernel).entries[slot]).toBe(pteSwpMkuffdWp(makeGuardPte()));
    expect(mm.madvise(at(0), P, MADV_GUARD_REMOVE)).toBe(0);
    expect(tablesOf(kernel).entries[slot]).toBe(0);
  });

  it('skips THP leaves without splitting them', () => {
    const { kernel, mm } = setup({ profile: { thp: 'madvise' } });
    mapAnon(mm, 512, 512);
    mm.madvise(at(512), 512 * P, MADV_HUGEPAGE);
    write(mm, 512, 3);
    expect(mm.madvise(at(600), 3 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(pmdLeaf(tablesOf(kernel).entries[mm.pmdSlot(at(512), false)]!)).toBe(true);
  });

  it('the remove walk uses only public ops', () => {
    expect('installPte' in guardRemoveWalkOps).toBe(false);
    expect(Object.isFrozen(guardRemoveWalkOps) && Object.isFrozen(guardInstallWalkOps)).toBe(true);
  });

  it('works on mlocked VMAs; dontneed then keeps nothing but the guards', () => {
    const { mm } = setup();
    mapAnon(mm, 0, 4);
    mm.madvise(at(0), 2 * P, MADV_GUARD_INSTALL);
    expect(mm.mlock(at(2), 2 * P)).toBe(0);
    expect(mm.madvise(at(0), 4 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(read(mm, 0)).toBe(0);
    mm.munlock(at(0), 4 * P);
    mm.madvise(at(0), P, MADV_GUARD_INSTALL);
    expect(mm.madvise(at(0), 4 * P, MADV_DONTNEED)).toBe(0);
    expect(read(mm, 0)).toBe(-SIGSEGV);
  });
});
