/**
 * Page-table navigation (the kernel's pgd_offset / p4d_offset / pud_offset
 * / pmd_offset / pte_offset helpers and the table-allocating lookups of
 * mm/memory.c): from an address to the slot of its entry at each level.
 * Slots index the one table pool (page-table.ts); every "table id × 512 +
 * index" computation of the simulator goes through the helpers here.
 */
import { P4D_SHIFT, PAGE_SHIFT, PAGE_SIZE, PMD_SHIFT, PTRS_PER_TABLE, PUD_SHIFT, addrEnd, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import { isTableEntry, mkTableEntry, pmdLeaf, tableIdOf } from './pgtable.js';
import { isMigrationEntry, isSwapPte } from './swapops.js';
import type { Vma } from './vma.js';
import { TABLES } from './readonly-pools.js';

/** The slot of `addr`'s entry in the table `tableId` whose entries each map 2^shift bytes. */
export function tableSlot(tableId: number, addr: number, shift: number): number {
  return tableId * PTRS_PER_TABLE + tableIndex(addr, shift);
}

/** The first slot of the PTE table a PMD table entry points to. */
export function pteTableBase(pmd: number): number {
  return tableIdOf(pmd) * PTRS_PER_TABLE;
}

/** pte_offset: the slot of the PTE for `addr` in the table the PMD `pmd` points to. */
export function pteOffset(pmd: number, addr: number): number {
  return tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, PAGE_SHIFT);
}

/** pmd_offset: the slot of the PMD for `addr` in the table the PUD `pud` points to. */
export function pmdOffset(pud: number, addr: number): number {
  return tableIdOf(pud) * PTRS_PER_TABLE + tableIndex(addr, PMD_SHIFT);
}

/** pud_offset: the slot of the PUD for `addr` in the table the P4D `p4d` points to. */
export function pudOffset(p4d: number, addr: number): number {
  return tableIdOf(p4d) * PTRS_PER_TABLE + tableIndex(addr, PUD_SHIFT);
}

/** p4d_offset (5-level paging): the slot of the P4D for `addr` in the table the PGD `pgd` points to. */
export function p4dOffset(pgd: number, addr: number): number {
  return tableIdOf(pgd) * PTRS_PER_TABLE + tableIndex(addr, P4D_SHIFT);
}

/** Calls `fn` for each PMD slot in [start, end) that exists and is not none. */
export function forEachPmd(mm: Mm, _vma: Vma, start: number, end: number, fn: (pmdSlot: number, addr: number, next: number) => void): void {
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const slot = pmdSlotOf(mm, addr, false);
    if (slot < 0 || mm.kernel[TABLES].entries[slot] === 0) continue;
    fn(slot, addr, next);
  }
}

/** Calls `fn` with the slot of each PTE in [addr, next) under the PMD at pmdSlot (a table). */
export function forEachPte(mm: Mm, pmdSlot: number, addr: number, next: number, fn: (slot: number, addr: number) => void): void {
  const pmd = mm.kernel[TABLES].entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return;
  const base = pteOffset(pmd, addr);
  const count = (next - addr) / PAGE_SIZE;
  for (let i = 0; i < count; i++) fn(base + i, addr + i * PAGE_SIZE);
}

/** Visits every non-none leaf entry (PTE or huge PMD) in [start, end). */
export function forEachEntry(mm: Mm, start: number, end: number, fn: (slot: number, entry: number) => void): void {
  const tables = mm.kernel[TABLES];
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const pmdSlot = pmdSlotOf(mm, addr, false);
    if (pmdSlot < 0) continue;
    const pmd = tables.entries[pmdSlot]!;
    if (pmd === 0) continue;
    if (pmdLeaf(pmd) || (isSwapPte(pmd) && isMigrationEntry(pmd))) {
      fn(pmdSlot, pmd);
      continue;
    }
    if (!isTableEntry(pmd)) continue;
    const base = pteOffset(pmd, addr);
    const count = (next - addr) / PAGE_SIZE;
    for (let i = 0; i < count; i++) {
      const entry = tables.entries[base + i]!;
      if (entry !== 0) fn(base + i, entry);
    }
  }
}

/** pgd_offset: the slot of the PGD entry for addr. */
export function pgdOffset(mm: Mm, addr: number): number {
  return tableSlot(mm.pgd, addr, mm.geometry.pgdShift);
}

/** Allocates a table below the (empty) entry at `slot`. Returns 0 or -ENOMEM. */
export function allocTableAt(mm: Mm, slot: number): number {
  const tables = mm.kernel[TABLES];
  if (tables.entries[slot] !== 0) return 0;
  const id = tables.alloc();
  tables.entries[slot] = mkTableEntry(id);
  return 0;
}

/** Slot of the PUD entry for addr, or -1 when a table above is missing and `alloc` is false. */
export function pudSlotOf(mm: Mm, addr: number, alloc: boolean): number {
  const tables = mm.kernel[TABLES];
  let slot = pgdOffset(mm, addr);
  if (mm.geometry.levels === 5) {
    if (tables.entries[slot] === 0) {
      if (!alloc) return -1;
      allocTableAt(mm, slot);
    }
    slot = p4dOffset(tables.entries[slot]!, addr);
  }
  if (tables.entries[slot] === 0) {
    if (!alloc) return -1;
    allocTableAt(mm, slot);
  }
  return pudOffset(tables.entries[slot]!, addr);
}

/** Slot of the PMD entry for addr, or -1 when a table above is missing and `alloc` is false. */
export function pmdSlotOf(mm: Mm, addr: number, alloc: boolean): number {
  const tables = mm.kernel[TABLES];
  const pudSlot = pudSlotOf(mm, addr, alloc);
  if (pudSlot < 0) return -1;
  const pud = tables.entries[pudSlot]!;
  if (pud === 0) {
    if (!alloc) return -1;
    allocTableAt(mm, pudSlot);
  } else if (!isTableEntry(pud)) {
    return -1;
  }
  return pmdOffset(tables.entries[pudSlot]!, addr);
}

/**
 * Slot of the PTE for addr, or -1 when there is no PTE table (a table is
 * missing and `alloc` is false, or the PMD is a huge / non-present leaf).
 */
export function pteSlotOf(mm: Mm, addr: number, alloc: boolean): number {
  const tables = mm.kernel[TABLES];
  const pmdSlot = pmdSlotOf(mm, addr, alloc);
  if (pmdSlot < 0) return -1;
  const pmd = tables.entries[pmdSlot]!;
  if (pmd === 0) {
    if (!alloc) return -1;
    allocTableAt(mm, pmdSlot);
  } else if (!isTableEntry(pmd)) {
    return -1;
  }
  return pteOffset(tables.entries[pmdSlot]!, addr);
}

/** The entry mapping addr: its PTE, or the PMD when that is a leaf or non-present; 0 if none. */
export function leafEntryOf(mm: Mm, addr: number): number {
  const pmdSlot = pmdSlotOf(mm, addr, false);
  if (pmdSlot < 0) return 0;
  // eslint-disable-next-line no-restricted-syntax -- two reads, nothing allocates between them
  const entries = mm.kernel[TABLES].entries;
  const pmd = entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return pmd;
  return entries[pteOffset(pmd, addr)]!;
}
