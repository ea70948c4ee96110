// khugepaged.ts: MADV_COLLAPSE's scan and collapse of a PTE table into a THP.
import { describe, expect, it } from 'vitest';
import { tablesOf } from './kernel.js';
import { Errno } from './errno.js';
import { HPAGE_PMD_NR, PMD_SIZE } from './geometry.js';
import { pmdLeaf, ptePfn, pteWrite } from './pgtable.js';
import { makeGuardPte } from './swapops.js';
import { AccessKind, MADV_NOHUGEPAGE, MADV_PAGEOUT, PROT_READ, PROT_WRITE } from './uapi.js';
import { madviseCollapse } from './khugepaged.js';
import { P, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';

function collapse(mm: ReturnType<typeof createTestMm>['mm'], addr: number, len = PMD_SIZE): number {
  return madviseCollapse(mm, mm.vmas.lookup(addr)!, addr, addr + len);
}

describe('madviseCollapse', () => {
  it('copies the 512 small pages into one THP mapped by a PMD, keeping every byte and freeing the old pages', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'never' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    for (let i = 0; i < HPAGE_PMD_NR; i += 3) mm.access(addr + i * P + 1, AccessKind.Write, i % 251);
    const used = kernel.frames.used;
    expect(collapse(mm, addr)).toBe(0);
    const pmd = mm.leafEntry(addr);
    expect(pmdLeaf(pmd) && pteWrite(pmd)).toBe(true);
    expect(kernel.frames.folioPages(ptePfn(pmd))).toBe(HPAGE_PMD_NR);
    // 171 small pages and one PTE table gone, one 512-page folio in.
    expect(kernel.frames.used).toBe(used - Math.ceil(HPAGE_PMD_NR / 3) + HPAGE_PMD_NR);
    for (let i = 0; i < HPAGE_PMD_NR; i++) expect(mm.access(addr + i * P + 1, AccessKind.Read)).toBe(i % 3 === 0 ? i % 251 : 0);
    assertInvariants(kernel);
  });

  it('an already huge PMD counts as collapsed; swapped-out pages are faulted back in first', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'never', swap: true } });
    const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
    writePages(mm, addr, 2 * HPAGE_PMD_NR, 6);
    mm.madvise(addr + PMD_SIZE, 8 * P, MADV_PAGEOUT);
    expect(collapse(mm, addr)).toBe(0);
    expect(collapse(mm, addr, 2 * PMD_SIZE)).toBe(0);
    expect(pmdLeaf(mm.leafEntry(addr + PMD_SIZE))).toBe(true);
    expect(kernel.swap!.used).toBe(0);
    expect(mm.access(addr + PMD_SIZE + 3 * P, AccessKind.Read)).toBe(6);
    assertInvariants(kernel);
  });

  it('EINVAL for VM_NOHUGEPAGE, a VMA without anon_vma, or a range within one 2 MiB block', () => {
    const { mm } = createTestMm();
    const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
    expect(collapse(mm, addr)).toBe(-Errno.EINVAL); // never faulted: no anon_vma
    mm.access(addr, AccessKind.Write, 1);
    // Inside one 2 MiB block without reaching a boundary: EINVAL; up to the boundary: nothing to do.
    expect(madviseCollapse(mm, mm.vmas.lookup(addr)!, addr + P, addr + 2 * P)).toBe(-Errno.EINVAL);
    expect(madviseCollapse(mm, mm.vmas.lookup(addr)!, addr + P, addr + PMD_SIZE)).toBe(0);
    expect(mm.madvise(addr, 2 * PMD_SIZE, MADV_NOHUGEPAGE)).toBe(0);
    expect(collapse(mm, addr)).toBe(-Errno.EINVAL);
  });

  it('a guard marker in the table fails the collapse (SCAN_FAIL → EINVAL) and changes nothing', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'never' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR, { prot: PROT_READ | PROT_WRITE });
    writePages(mm, addr, 4, 1);
    tablesOf(kernel).entries[mm.pteSlot(addr + 100 * P, false)] = makeGuardPte();
    const pfn = ptePfn(mm.leafEntry(addr));
    expect(collapse(mm, addr)).toBe(-Errno.EINVAL);
    expect(ptePfn(mm.leafEntry(addr))).toBe(pfn);
  });
});
