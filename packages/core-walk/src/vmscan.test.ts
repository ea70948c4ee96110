// vmscan.ts: reclaim of one page (try_to_unmap + pageout), as MADV_PAGEOUT drives it.
import { describe, expect, it } from 'vitest';
import { splitHugePmd } from './huge-memory.js';
import { HPAGE_PMD_NR } from './geometry.js';
import { PG_SWAPBACKED } from './frames.js';
import { pmdLeaf, ptePfn, ptePresent } from './pgtable.js';
import { isRealSwapEntry, swpOffset } from './swapops.js';
import { AccessKind, MADV_FREE, MAP_SHARED } from './uapi.js';
import { reclaimPte, splitForReclaim } from './vmscan.js';
import { P, RW, TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';

type TestMm = ReturnType<typeof createTestMm>['mm'];

function reclaim(mm: TestMm, addr: number): void {
  reclaimPte(mm, mm.pteSlot(addr, false), mm.vmas.lookup(addr)!, addr);
}

describe('reclaimPte', () => {
  it('swaps an exclusive anonymous page out: a swap entry, the bytes in the slot, the frame freed', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 1);
    mm.access(addr + 9, AccessKind.Write, 77);
    const used = kernel.frames.used;
    reclaim(mm, addr);
    const entry = mm.leafEntry(addr);
    expect(isRealSwapEntry(entry)).toBe(true);
    expect(kernel.swap!.count(swpOffset(entry))).toBe(1);
    expect(kernel.frames.used).toBe(used - 1);
    expect(mm.access(addr + 9, AccessKind.Read)).toBe(77);
    assertInvariants(kernel);
  });

  it('without a swap device, or for a page another process maps, leaves the page where it is', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: false } });
    const addr = mapAnon(mm, 0, 1);
    writePages(mm, addr, 1, 1);
    const pte = mm.leafEntry(addr);
    reclaim(mm, addr);
    expect(mm.leafEntry(addr)).toBe(pte);

    const withSwap = createTestMm({ profile: { swap: true } });
    const a2 = mapAnon(withSwap.mm, 0, 1);
    writePages(withSwap.mm, a2, 1, 1);
    withSwap.mm.fork();
    reclaim(withSwap.mm, a2);
    expect(ptePresent(withSwap.mm.leafEntry(a2))).toBe(true);
    assertInvariants(kernel);
  });

  it('discards a clean lazily freed page; one written again since MADV_FREE becomes swap-backed and stays', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 2);
    writePages(mm, addr, 2, 5);
    expect(mm.madvise(addr, 2 * P, MADV_FREE)).toBe(0);
    expect(kernel.frames.has(ptePfn(mm.leafEntry(addr)), PG_SWAPBACKED)).toBe(false);
    mm.access(addr + P, AccessKind.Write, 6);
    reclaim(mm, addr);
    reclaim(mm, addr + P);
    expect(mm.leafEntry(addr)).toBe(0);
    expect(mm.access(addr, AccessKind.Read)).toBe(0);
    const again = ptePfn(mm.leafEntry(addr + P));
    expect(kernel.frames.has(again, PG_SWAPBACKED)).toBe(true);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(6);
    assertInvariants(kernel);
  });

  it('unmaps a shmem page; with swap its cache entry becomes the swap slot, and a fault brings the bytes back', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const file = kernel.memfdCreate('f', P);
    if (typeof file === 'number') throw new Error(`memfd ${file}`);
    const addr = mm.mmap(BASE, P, RW, MAP_SHARED, file, 0);
    mm.access(addr, AccessKind.Write, 8);
    const pfn = ptePfn(mm.leafEntry(addr));
    reclaim(mm, addr);
    expect(mm.leafEntry(addr)).toBe(0);
    expect(file.cache.get(0)).toBeLessThan(0);
    expect(kernel.frames.isAllocated(pfn)).toBe(false);
    expect(mm.access(addr, AccessKind.Read)).toBe(8);
    assertInvariants(kernel);
  });
});

describe('splitForReclaim', () => {
  it('splits the THP; the subpages nobody wrote go to the shared zero page unless the whole folio goes to zram', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always', swap: true, swapDevice: 'file' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    mm.access(addr + 3 * P, AccessKind.Write, 1);
    const slot = mm.pmdSlot(addr, false);
    const head = ptePfn(kernel.tables.entries[slot]!);
    splitHugePmd(mm, mm.vmas.lookup(addr)!, slot, addr);
    splitForReclaim(mm, slot, addr, head, true);
    expect(pmdLeaf(mm.leafEntry(addr))).toBe(false);
    expect(ptePfn(mm.leafEntry(addr))).toBe(kernel.frames.zeroPfn);
    expect(ptePfn(mm.leafEntry(addr + 3 * P))).toBe(head + 3);
    assertInvariants(kernel);

    const zram = createTestMm({ profile: { thp: 'always', swap: true, swapDevice: 'zram' } });
    const a2 = mapAnon(zram.mm, 0, HPAGE_PMD_NR);
    zram.mm.access(a2 + 3 * P, AccessKind.Write, 1);
    const s2 = zram.mm.pmdSlot(a2, false);
    const h2 = ptePfn(zram.kernel.tables.entries[s2]!);
    splitHugePmd(zram.mm, zram.mm.vmas.lookup(a2)!, s2, a2);
    splitForReclaim(zram.mm, s2, a2, h2, true);
    expect(ptePfn(zram.mm.leafEntry(a2))).toBe(h2); // swapped out whole: no zero-page remap
    assertInvariants(zram.kernel);
  });
});
