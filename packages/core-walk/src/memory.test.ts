// memory.ts: handle_mm_fault down to the PTE, and the CPU access that takes it.
import { describe, expect, it } from 'vitest';
import { FAULT_FLAG_WRITE, MADV_PAGEOUT, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PROT_READ, VM_FAULT_SIGBUS, AccessKind } from './uapi.js';
import { VM_UFFD_MISSING, writableVma } from './vma.js';
import { PG_ANON, PG_ANON_EXCLUSIVE } from './frames.js';
import { ptePfn, ptePresent, pteSpecial, pteWrite, pteDirty } from './pgtable.js';
import { isRealSwapEntry } from './swapops.js';
import { handleMmFault } from './memory.js';
import { P, RW, TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon } from './testing.js';

describe('handle_mm_fault, anonymous memory', () => {
  it('a read fault maps the shared zero page read-only when the profile allows it, a fresh page when it does not', () => {
    const { kernel, mm } = createTestMm({ profile: { zeroPage: true } });
    const addr = mapAnon(mm, 0, 1);
    expect(handleMmFault(mm, mm.vmas.lookup(addr)!, addr, 0)).toBe(0);
    const pte = mm.leafEntry(addr);
    expect(ptePfn(pte)).toBe(kernel.frames.zeroPfn);
    expect(pteSpecial(pte)).toBe(true);
    expect(pteWrite(pte)).toBe(false);

    const off = createTestMm({ profile: { zeroPage: false } });
    const a2 = mapAnon(off.mm, 0, 1);
    expect(handleMmFault(off.mm, off.mm.vmas.lookup(a2)!, a2, 0)).toBe(0);
    const pte2 = off.mm.leafEntry(a2);
    expect(ptePfn(pte2)).not.toBe(off.kernel.frames.zeroPfn);
    // do_anonymous_page maps a writable VMA's fresh page writable and dirty, whichever access faulted.
    expect(pteWrite(pte2) && pteDirty(pte2)).toBe(true);
    assertInvariants(off.kernel);
  });

  it('a write fault maps an exclusive anonymous page, one reference and one mapping', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 1) + 123; // any byte of the page
    expect(handleMmFault(mm, mm.vmas.lookup(addr)!, addr, FAULT_FLAG_WRITE)).toBe(0);
    const pte = mm.leafEntry(addr);
    const pfn = ptePfn(pte);
    expect(ptePresent(pte) && pteWrite(pte)).toBe(true);
    expect(kernel.frames.has(pfn, PG_ANON) && kernel.frames.has(pfn, PG_ANON_EXCLUSIVE)).toBe(true);
    expect(kernel.frames.refcount[pfn]).toBe(1);
    expect(kernel.frames.mapcount[pfn]).toBe(1);
    expect(mm.vmas.lookup(addr)!.anonVma).not.toBeNull();
    assertInvariants(kernel);
  });

  it('a write to the zero page copies it (do_wp_page): a private page replaces it', () => {
    const { kernel, mm } = createTestMm({ profile: { zeroPage: true } });
    const addr = mapAnon(mm, 0, 1);
    expect(mm.access(addr, AccessKind.Read)).toBe(0);
    expect(ptePfn(mm.leafEntry(addr))).toBe(kernel.frames.zeroPfn);
    expect(mm.access(addr, AccessKind.Write, 7)).toBe(0);
    const pfn = ptePfn(mm.leafEntry(addr));
    expect(pfn).not.toBe(kernel.frames.zeroPfn);
    expect(mm.access(addr, AccessKind.Read)).toBe(7);
    assertInvariants(kernel);
  });

  it('copy-on-write after fork: the writer gets a copy, the other side keeps the old page and its bytes', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 1);
    mm.access(addr, AccessKind.Write, 1);
    const child = mm.fork();
    const shared = ptePfn(mm.leafEntry(addr));
    expect(kernel.frames.refcount[shared]).toBe(2);
    expect(child.access(addr, AccessKind.Write, 2)).toBe(0);
    expect(ptePfn(child.leafEntry(addr))).not.toBe(shared);
    expect(ptePfn(mm.leafEntry(addr))).toBe(shared);
    expect(kernel.frames.refcount[shared]).toBe(1);
    expect(mm.access(addr, AccessKind.Read)).toBe(1);
    expect(child.access(addr, AccessKind.Read)).toBe(2);
    // The parent's page is its own again: its write fault reuses it (no copy).
    expect(mm.access(addr, AccessKind.Write, 3)).toBe(0);
    expect(ptePfn(mm.leafEntry(addr))).toBe(shared);
    assertInvariants(kernel);
  });

  it('a swapped-out page comes back with its bytes, and its swap slot is freed', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 1);
    mm.access(addr + 5, AccessKind.Write, 42);
    expect(mm.madvise(addr, P, MADV_PAGEOUT)).toBe(0);
    expect(isRealSwapEntry(mm.leafEntry(addr))).toBe(true);
    expect(kernel.swap!.used).toBe(1);
    expect(mm.access(addr + 5, AccessKind.Read)).toBe(42);
    expect(ptePresent(mm.leafEntry(addr))).toBe(true);
    expect(kernel.swap!.used).toBe(0);
    assertInvariants(kernel);
  });

  it('a missing fault in a userfaultfd-registered range without a handler is SIGBUS', () => {
    const { mm } = createTestMm();
    const addr = mapAnon(mm, 0, 1);
    const vma = mm.vmas.lookup(addr)!;
    writableVma(vma).flags |= VM_UFFD_MISSING;
    expect(handleMmFault(mm, vma, addr, FAULT_FLAG_WRITE) & VM_FAULT_SIGBUS).toBeTruthy();
  });
});

describe('handle_mm_fault, shmem', () => {
  it('a read fault maps the page-cache page and the cached pages around it (fault-around), not beyond the VMA', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('t', 64 * P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const writer = mm.mmap(BASE, 64 * P, RW, MAP_SHARED, file, 0);
    for (let i = 0; i < 64; i++) mm.access(writer + i * P, AccessKind.Write, i);
    const reader = mm.mmap(BASE + 128 * P, 8 * P, PROT_READ, MAP_SHARED, file, 0);
    expect(mm.access(reader + 3 * P, AccessKind.Read)).toBe(3);
    let mapped = 0;
    for (let i = 0; i < 8; i++) if (ptePresent(mm.leafEntry(reader + i * P))) mapped++;
    expect(mapped).toBe(8); // the whole 8-page VMA lies inside the fault-around window
    expect(ptePfn(mm.leafEntry(reader))).toBe(ptePfn(mm.leafEntry(writer)));
    expect(pteWrite(mm.leafEntry(reader))).toBe(false);
    assertInvariants(kernel);
  });

  it('a private file mapping copies on write and leaves the file alone', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('t', P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const shared = mm.mmap(BASE, P, RW, MAP_SHARED, file, 0);
    mm.access(shared, AccessKind.Write, 9);
    const priv = mm.mmap(BASE + 4 * P, P, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE, file, 0);
    expect(priv).toBe(BASE + 4 * P);
    expect(mm.access(priv, AccessKind.Write, 10)).toBe(0);
    expect(mm.access(shared, AccessKind.Read)).toBe(9);
    expect(mm.access(priv, AccessKind.Read)).toBe(10);
    assertInvariants(kernel);
  });
});
