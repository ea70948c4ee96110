// zap.ts: zapping page-table ranges (zap_page_range_single, unmap_page_range) and free_pgtables.
import { describe, expect, it } from 'vitest';
import { tablesOf } from './kernel.js';
import { HPAGE_PMD_NR, PMD_SIZE } from './geometry.js';
import { ptePresent } from './pgtable.js';
import { isGuardPteMarker, isPoisonedPteMarker, isRealSwapEntry, makeGuardPte, makePoisonedMarker } from './swapops.js';
import { AccessKind, MADV_PAGEOUT } from './uapi.js';
import { ZAP_DROP_MARKER, ZAP_FILE_PAGES_ONLY, freePgtables, zapVmaRange } from './zap.js';
import { P, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';

describe('zapVmaRange', () => {
  it('unmaps present pages and frees the ones nobody else holds; returns how many pages it unmapped', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 8);
    const before = kernel.frames.used;
    writePages(mm, addr, 8, 1);
    expect(kernel.frames.used).toBe(before + 8);
    expect(zapVmaRange(mm, mm.vmas.lookup(addr)!, addr + 2 * P, addr + 6 * P, 0)).toBe(4);
    for (let i = 0; i < 8; i++) expect(ptePresent(mm.leafEntry(addr + i * P))).toBe(i < 2 || i >= 6);
    expect(kernel.frames.used).toBe(before + 4);
    assertInvariants(kernel);
  });

  it('frees the swap slots of swapped-out pages', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 4);
    writePages(mm, addr, 4, 1);
    mm.madvise(addr, 4 * P, MADV_PAGEOUT);
    expect(isRealSwapEntry(mm.leafEntry(addr))).toBe(true);
    expect(kernel.swap!.used).toBe(4);
    zapVmaRange(mm, mm.vmas.lookup(addr)!, addr, addr + 4 * P, 0);
    expect(kernel.swap!.used).toBe(0);
    expect(mm.leafEntry(addr)).toBe(0);
    assertInvariants(kernel);
  });

  it('keeps guard markers unless told to drop markers (munmap, exit); poison goes with any zap of private pages', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2);
    writePages(mm, addr, 2, 1);
    const vma = mm.vmas.lookup(addr)!;
    zapVmaRange(mm, vma, addr, addr + 2 * P, 0);
    const guard = mm.pteSlot(addr, false);
    const poison = mm.pteSlot(addr + P, false);
    tablesOf(kernel).entries[guard] = makeGuardPte();
    tablesOf(kernel).entries[poison] = makePoisonedMarker();
    zapVmaRange(mm, vma, addr, addr + 2 * P, ZAP_FILE_PAGES_ONLY);
    expect(isGuardPteMarker(kernel.tables.entries[guard]!)).toBe(true);
    expect(isPoisonedPteMarker(kernel.tables.entries[poison]!)).toBe(true);
    zapVmaRange(mm, vma, addr, addr + 2 * P, 0);
    expect(isGuardPteMarker(kernel.tables.entries[guard]!)).toBe(true);
    expect(kernel.tables.entries[poison]).toBe(0);
    zapVmaRange(mm, vma, addr, addr + 2 * P, ZAP_DROP_MARKER);
    expect(kernel.tables.entries[guard]).toBe(0);
  });

  it('ZAP_FILE_PAGES_ONLY leaves private anonymous pages mapped', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2);
    writePages(mm, addr, 2, 5);
    expect(zapVmaRange(mm, mm.vmas.lookup(addr)!, addr, addr + 2 * P, ZAP_FILE_PAGES_ONLY)).toBe(0);
    expect(mm.access(addr, AccessKind.Read)).toBe(5);
    assertInvariants(kernel);
  });

  it('zaps a whole THP by its PMD, and splits one only partly covered', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
    mm.access(addr, AccessKind.Write, 1);
    mm.access(addr + PMD_SIZE, AccessKind.Write, 1);
    const vma = mm.vmas.lookup(addr)!;
    expect(zapVmaRange(mm, vma, addr, addr + PMD_SIZE, 0)).toBe(HPAGE_PMD_NR);
    expect(mm.pmdSlot(addr, false) >= 0 && kernel.tables.entries[mm.pmdSlot(addr, false)]).toBe(0);
    expect(zapVmaRange(mm, vma, addr + PMD_SIZE, addr + PMD_SIZE + 16 * P, 0)).toBe(16);
    expect(ptePresent(mm.leafEntry(addr + PMD_SIZE + 16 * P))).toBe(true);
    assertInvariants(kernel);
  });
});

describe('freePgtables', () => {
  it('releases the tables that only covered the freed range, and no more', () => {
    const { kernel, mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
    writePages(mm, addr, 1, 1);
    mm.access(addr + PMD_SIZE, AccessKind.Write, 1);
    const live = kernel.tables.live;
    const vma = mm.vmas.lookup(addr)!;
    zapVmaRange(mm, vma, addr, addr + PMD_SIZE, 0);
    // The neighbour (the second 2 MiB) still maps: only the first PTE table may go.
    freePgtables(mm, addr, addr + PMD_SIZE, 0, addr + PMD_SIZE);
    expect(kernel.tables.live).toBe(live - 1);
    expect(mm.pteSlot(addr, false)).toBe(-1);
    expect(mm.access(addr + PMD_SIZE, AccessKind.Read)).toBe(1);
    assertInvariants(kernel);
  });
});
