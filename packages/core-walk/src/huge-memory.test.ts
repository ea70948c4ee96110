// huge-memory.ts: THP allowance, huge faults and their copy-on-write, PMD splits.
import { describe, expect, it } from 'vitest';
import { HPAGE_PMD_NR, PMD_SIZE } from './geometry.js';
import { PG_ZERO } from './frames.js';
import { isTableEntry, pmdLeaf, ptePfn, ptePresent, pteWrite } from './pgtable.js';
import { AccessKind, MADV_HUGEPAGE, MADV_NOHUGEPAGE } from './uapi.js';
import { splitHugePmd, thpAllowed } from './huge-memory.js';
import { P, assertInvariants, createTestMm, mapAnon } from './testing.js';

describe('thpAllowed', () => {
  it('follows the sysfs mode and the VMA flags, and needs a whole aligned 2 MiB inside the VMA', () => {
    for (const [thp, plain, advised] of [['always', true, true], ['madvise', false, true], ['never', false, false]] as const) {
      const { mm } = createTestMm({ profile: { thp } });
      const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
      const vma = mm.vmas.lookup(addr)!;
      expect(thpAllowed(mm, vma, addr)).toBe(plain);
      mm.madvise(addr, 2 * PMD_SIZE, MADV_HUGEPAGE);
      expect(thpAllowed(mm, mm.vmas.lookup(addr)!, addr)).toBe(advised);
      mm.madvise(addr, 2 * PMD_SIZE, MADV_NOHUGEPAGE);
      expect(thpAllowed(mm, mm.vmas.lookup(addr)!, addr)).toBe(false);
    }
    const { mm } = createTestMm({ profile: { thp: 'always' } });
    const short = mapAnon(mm, 0, HPAGE_PMD_NR - 1);
    expect(thpAllowed(mm, mm.vmas.lookup(short)!, short)).toBe(false);
  });
});

describe('huge faults', () => {
  it('a write fault maps a whole THP with one PMD; a read fault maps the huge zero page', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always', thpZeroPage: true } });
    const addr = mapAnon(mm, 0, 2 * HPAGE_PMD_NR);
    expect(mm.access(addr + 5 * P, AccessKind.Write, 1)).toBe(0);
    const pmd = mm.leafEntry(addr);
    expect(pmdLeaf(pmd) && pteWrite(pmd)).toBe(true);
    expect(kernel.frames.folioPages(ptePfn(pmd))).toBe(HPAGE_PMD_NR);
    expect(mm.access(addr + PMD_SIZE, AccessKind.Read)).toBe(0);
    const zero = mm.leafEntry(addr + PMD_SIZE);
    expect(pmdLeaf(zero) && kernel.frames.has(ptePfn(zero), PG_ZERO)).toBe(true);
    expect(pteWrite(zero)).toBe(false);
    assertInvariants(kernel);
  });

  it('a write to a THP shared with a fork splits it and copies one page (do_huge_pmd_wp_page fallback)', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    mm.access(addr, AccessKind.Write, 3);
    const child = mm.fork();
    const head = ptePfn(mm.leafEntry(addr));
    expect(child.access(addr + P, AccessKind.Write, 4)).toBe(0);
    expect(child.access(addr, AccessKind.Read)).toBe(3);
    expect(child.access(addr + P, AccessKind.Read)).toBe(4);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(0);
    expect(ptePfn(mm.leafEntry(addr))).toBe(head);
    assertInvariants(kernel);
  });
});

describe('splitHugePmd', () => {
  it('turns one PMD mapping into 512 PTEs of the same folio, moving the mapping references to the pages', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    for (let i = 0; i < HPAGE_PMD_NR; i += 64) mm.access(addr + i * P, AccessKind.Write, i % 256);
    const slot = mm.pmdSlot(addr, false);
    const head = ptePfn(kernel.tables.entries[slot]!);
    expect(kernel.frames.entireMapcount.get(head)).toBe(1);
    splitHugePmd(mm, mm.vmas.lookup(addr)!, slot, addr);
    expect(isTableEntry(kernel.tables.entries[slot]!)).toBe(true);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const pte = mm.leafEntry(addr + i * P);
      expect(ptePresent(pte) && ptePfn(pte) === head + i && pteWrite(pte)).toBe(true);
      expect(kernel.frames.mapcount[head + i]).toBe(1);
    }
    expect(kernel.frames.entireMapcount.has(head)).toBe(false);
    expect(kernel.frames.refcount[head]).toBe(HPAGE_PMD_NR);
    for (let i = 0; i < HPAGE_PMD_NR; i += 64) expect(mm.access(addr + i * P, AccessKind.Read)).toBe(i % 256);
    assertInvariants(kernel);
  });

  it('a partial munmap of a THP splits it and keeps the rest mapped', () => {
    const { kernel, mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    mm.access(addr, AccessKind.Write, 1);
    expect(mm.munmap(addr + 256 * P, 256 * P)).toBe(0);
    expect(pmdLeaf(mm.leafEntry(addr))).toBe(false);
    expect(mm.access(addr, AccessKind.Read)).toBe(1);
    assertInvariants(kernel);
  });
});
