// pgtable-nav.ts: from an address to its entry's slot at each level.
import { describe, expect, it } from 'vitest';
import { P4D_SHIFT, PAGE_SIZE, PMD_SIZE, PTRS_PER_TABLE, PUD_SIZE, pmdIndex, pteIndex, pudIndex } from './geometry.js';
import { isTableEntry, mkTableEntry, tableIdOf } from './pgtable.js';
import { allocTableAt, leafEntryOf, p4dOffset, pgdOffset, pmdOffset, pmdSlotOf, pteOffset, pteSlotOf, pteTableBase, pudOffset, pudSlotOf, tableSlot } from './pgtable-nav.js';
import { AccessKind } from './uapi.js';
import { TEST_ARENA_BASE as BASE, createTestMm, mapAnon } from './testing.js';

describe('offset helpers', () => {
  it('index the table a table entry points to', () => {
    const e = mkTableEntry(7);
    const addr = BASE + 3 * PUD_SIZE + 5 * PMD_SIZE + 9 * PAGE_SIZE;
    expect(pteOffset(e, addr)).toBe(7 * PTRS_PER_TABLE + 9);
    expect(pteOffset(e, addr)).toBe(7 * PTRS_PER_TABLE + pteIndex(addr));
    expect(pmdOffset(e, addr)).toBe(7 * PTRS_PER_TABLE + pmdIndex(addr));
    expect(pudOffset(e, addr)).toBe(7 * PTRS_PER_TABLE + pudIndex(addr));
    expect(p4dOffset(e, 2 ** P4D_SHIFT * 3)).toBe(7 * PTRS_PER_TABLE + 3);
    expect(pteTableBase(e)).toBe(7 * PTRS_PER_TABLE);
    expect(tableSlot(7, addr, 12)).toBe(pteOffset(e, addr));
  });
});

describe('table lookups', () => {
  it('without alloc, a missing level is -1; with alloc, each level gets a table once', () => {
    const { kernel, mm } = createTestMm();
    const addr = BASE + 17 * PAGE_SIZE;
    expect(pudSlotOf(mm, addr, false)).toBe(-1);
    expect(pteSlotOf(mm, addr, false)).toBe(-1);
    const live = kernel.tables.live;
    const slot = pteSlotOf(mm, addr, true);
    expect(kernel.tables.live).toBe(live + 3); // PUD, PMD and PTE tables (the P4D is folded)
    expect(pteSlotOf(mm, addr, true)).toBe(slot);
    expect(kernel.tables.live).toBe(live + 3);
    const pmdSlot = pmdSlotOf(mm, addr, false);
    expect(slot).toBe(pteOffset(kernel.tables.entries[pmdSlot]!, addr));
    const pgd = kernel.tables.entries[pgdOffset(mm, addr)]!;
    expect(isTableEntry(pgd)).toBe(true);
    expect(pudSlotOf(mm, addr, false)).toBe(pudOffset(pgd, addr));
    expect(tableIdOf(pgd)).toBeGreaterThan(0);
  });

  it('allocTableAt fills only an empty entry', () => {
    const { kernel, mm } = createTestMm();
    const slot = pgdOffset(mm, BASE);
    expect(allocTableAt(mm, slot)).toBe(0);
    const entry = kernel.tables.entries[slot];
    expect(allocTableAt(mm, slot)).toBe(0);
    expect(kernel.tables.entries[slot]).toBe(entry);
  });

  it('leafEntryOf is the PTE, or the PMD when that is a leaf', () => {
    const { mm } = createTestMm({ profile: { thp: 'always' } });
    const addr = mapAnon(mm, 0, 1024);
    expect(leafEntryOf(mm, addr)).toBe(0);
    mm.access(addr, AccessKind.Write, 1);
    expect(leafEntryOf(mm, addr + 5 * PAGE_SIZE)).toBe(mm.entryAt(addr + 5 * PAGE_SIZE).entry);
    expect(mm.entryAt(addr).level).toBe('pmd');
  });
});
