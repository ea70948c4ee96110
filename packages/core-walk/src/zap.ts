/**
 * Zapping (mm/memory.c unmap_page_range / zap_pte_range) and page-table
 * freeing (free_pgtables / free_pgd_range).
 */
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SHIFT, PMD_SIZE, PTRS_PER_TABLE, PUD_SHIFT, PUD_SIZE, addrEnd, tableIndex } from './geometry.js';
import { PG_DIRTY, PG_ZERO } from './frames.js';
import { accountPteUnmap } from './rmap.js';
import { splitHugePmd } from './huge-memory.js';
import type { Mm } from './mm.js';
import { isTableEntry, pmdLeaf, ptePfn, ptePresent, pteDirty, pteSpecial, pteUffdWp, tableIdOf } from './pgtable.js';
import {
  isDeviceExclusiveEntry,
  isDevicePrivateEntry,
  isGuardPteMarker,
  isMigrationEntry,
  isPoisonedPteMarker,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  makeUffdWpMarker,
  pteSwpUffdWpAny,
  swpOffset,
} from './swapops.js';
import { VM_UFFD_WP, type Vma } from './vma.js';
import { MmInvariantError } from './errno.js';
import { pteTableBase } from './pgtable-nav.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm, traceZap, zapSnapshot } from './trace.js';

/** munmap / exit: PTE markers go too. */
export const ZAP_DROP_MARKER = 1;
/** unmap_mapping_range without even_cows: only file pages, private COW copies stay. */
export const ZAP_FILE_PAGES_ONLY = 2;

/**
 * Clears the entries mapping [start, end) of `vma`, dropping their page
 * references, swap slots and (with ZAP_DROP_MARKER) PTE markers. Returns
 * the number of present pages unmapped.
 */
export function zapVmaRange(mm: Mm, vma: Vma, start: number, end: number, zapFlags: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  let zapped = 0;
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const pmdSlot = mm.pmdSlot(addr, false);
    if (pmdSlot < 0) {
      // No PMD table: skip to the next PUD boundary.
      next = addrEnd(addr, end, PUD_SHIFT);
      continue;
    }
    const pmd = tables.entries[pmdSlot]!;
    if (pmd === 0) continue;
    if (pmdLeaf(pmd) || isSwapPte(pmd)) {
      const whole = addr % PMD_SIZE === 0 && next - addr === PMD_SIZE;
      if (vma.isHugetlb || whole) {
        if ((zapFlags & ZAP_FILE_PAGES_ONLY) !== 0 && !vma.isHugetlb) continue;
        if (pmdLeaf(pmd)) {
          const head = ptePfn(pmd);
          if (!frames.has(head, PG_ZERO)) {
            const entire = (frames.entireMapcount.get(head) ?? 1) - 1;
            if (entire === 0) frames.entireMapcount.delete(head);
            else frames.entireMapcount.set(head, entire);
            if (pteDirty(pmd)) frames.set(head, PG_DIRTY);
            frames.put(head);
            zapped += HPAGE_PMD_NR;
          }
          tables.entries[pmdSlot] = 0;
          // __unmap_hugepage_range: a protected huge page leaves an uffd-wp marker (unless unmapping).
          if (vma.isHugetlb && pteUffdWp(pmd) && (zapFlags & ZAP_DROP_MARKER) === 0) tables.entries[pmdSlot] = makeUffdWpMarker();
          if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'zap', fn: vma.isHugetlb ? '__unmap_hugepage_range' : 'zap_huge_pmd', addr, end: next, result: 'zapped', pfn: ptePfn(pmd), order: 9, freed: frames.has(ptePfn(pmd), PG_ZERO) ? 0 : HPAGE_PMD_NR, markersInstalled: tables.entries[pmdSlot] === 0 ? 0 : 1 });
        } else if (isPteMarker(pmd)) {
          if ((zapFlags & ZAP_DROP_MARKER) !== 0 || (vma.isAnonymous && !vma.isHugetlb)) tables.entries[pmdSlot] = 0;
        } else {
          tables.entries[pmdSlot] = 0;
        }
        continue;
      }
      splitHugePmd(mm, vma, pmdSlot, addr);
    }
    if (!isTableEntry(tables.entries[pmdSlot]!)) continue;
    const base = pteTableBase(tables.entries[pmdSlot]!);
    const first = tableIndex(addr, 12);
    const count = (next - addr) / PAGE_SIZE;
    if (mm.kernel.tracer !== null) zapSnapshot(tables.entries, base + first, count);
    for (let i = 0; i < count; i++) {
      const slot = base + first + i;
      const pte = tables.entries[slot]!;
      if (pte === 0) continue;
      if (ptePresent(pte)) {
        if (pteSpecial(pte)) {
          if ((zapFlags & ZAP_FILE_PAGES_ONLY) !== 0) continue;
          tables.entries[slot] = 0;
        } else {
          const pfn = ptePfn(pte);
          if ((zapFlags & ZAP_FILE_PAGES_ONLY) !== 0 && frames.has(frames.folioOf(pfn), 1 << 1 /* PG_ANON */)) continue;
          if (pteDirty(pte)) frames.set(frames.folioOf(pfn), PG_DIRTY);
          tables.entries[slot] = 0;
          accountPteUnmap(mm, pfn);
          zapped++;
        }
        installUffdWpMarkerIfNeeded(mm, vma, slot, pteUffdWp(pte), zapFlags);
        continue;
      }
      // Non-present entries.
      if (isPteMarker(pte)) {
        if ((zapFlags & ZAP_DROP_MARKER) !== 0) {
          tables.entries[slot] = 0;
        } else if (isGuardPteMarker(pte)) {
          // Guards survive every zap but unmapping.
        } else if (isPoisonedPteMarker(pte)) {
          // Poison goes with any zap that also drops private COW pages (should_zap_cows).
          if ((zapFlags & ZAP_FILE_PAGES_ONLY) === 0) tables.entries[slot] = 0;
        } else if (vma.isAnonymous) {
          tables.entries[slot] = 0;
        }
        continue;
      }
      if ((zapFlags & ZAP_FILE_PAGES_ONLY) !== 0) continue;
      if (isRealSwapEntry(pte)) {
        mm.kernel.swap?.free(swpOffset(pte));
      } else if (isDevicePrivateEntry(pte) || isDeviceExclusiveEntry(pte)) {
        // Both keep the page mapped (rmap + reference), like a present PTE.
        accountPteUnmap(mm, swpOffset(pte));
      } else if (isMigrationEntry(pte)) {
        // Nothing holds a mapping through a migration entry at rest.
      }
      tables.entries[slot] = 0;
      installUffdWpMarkerIfNeeded(mm, vma, slot, pteSwpUffdWpAny(pte), zapFlags);
    }
    if (mm.kernel.tracer !== null) traceZap(mm.kernel, addr, next, tables.entries, base + first, count);
  }
  return zapped;
}

/**
 * zap_install_uffd_wp_if_needed / pte_install_uffd_wp_if_needed: on a
 * file-backed VMA registered for uffd-wp, a protected entry leaves an
 * uffd-wp marker behind so the protection survives the zap or the unmap by
 * reclaim (anonymous memory has nothing to refault).
 */
export function installUffdWpMarkerIfNeeded(mm: Mm, vma: Vma, slot: number, wasProtected: boolean, zapFlags: number): void {
  if (!wasProtected || (zapFlags & ZAP_DROP_MARKER) !== 0) return;
  if (vma.isAnonymous || (vma.flags & VM_UFFD_WP) === 0) return;
  mm.kernel[TABLES].entries[slot] = makeUffdWpMarker();
}

/**
 * free_pgd_range: frees page tables that only covered [start, end) — a
 * table is released when its whole span lies within [floor, ceiling)
 * (ceiling 0 = top of the address space), as the kernel does after munmap.
 */
export function freePgtables(mm: Mm, start: number, end: number, floor: number, ceiling: number): void {
  const top = mm.geometry.taskSize + PAGE_SIZE;
  const ceil = ceiling === 0 ? top : ceiling;
  freeLevel(mm, start, end, floor, ceil, PMD_SHIFT);
  freeLevel(mm, start, end, floor, ceil, PUD_SHIFT);
  if (mm.geometry.levels === 5) freeLevel(mm, start, end, floor, ceil, 39);
}

/** Frees every table covering 2^shift bytes whose span lies inside [floor, ceiling) and intersects [start, end). */
function freeLevel(mm: Mm, start: number, end: number, floor: number, ceiling: number, shift: number): void {
  const tables = mm.kernel[TABLES];
  const size = 2 ** shift;
  let from = Math.floor(start / size) * size;
  if (from < floor) from += size;
  const lastEnd = Math.floor(ceiling / size) * size;
  let to = Math.ceil(end / size) * size;
  if (to > lastEnd) to = lastEnd;
  for (let addr = from; addr < to; addr += size) {
    const parentSlot = shift === PMD_SHIFT ? mm.pmdSlot(addr, false) : shift === PUD_SHIFT ? mm.pudSlot(addr, false) : mm.pgdSlot(addr);
    if (parentSlot < 0) {
      // No table above: skip what it would have covered (a PUD table spans 512 GiB, a PMD table 1 GiB).
      const missing = shift === PMD_SHIFT && mm.pudSlot(addr, false) >= 0 ? PUD_SIZE : PUD_SIZE * PTRS_PER_TABLE;
      if (shift !== 39) addr = Math.floor(addr / missing) * missing + missing - size;
      continue;
    }
    const entry = tables.entries[parentSlot]!;
    if (!isTableEntry(entry)) continue;
    const id = tableIdOf(entry);
    if (shift !== PMD_SHIFT && !tableEmpty(mm, id)) continue;
    clearPteTable(mm, id);
    tables.entries[parentSlot] = 0;
    tables.release(id);
  }
}

function tableEmpty(mm: Mm, id: number): boolean {
  // eslint-disable-next-line no-restricted-syntax -- a read-only scan, no call in it
  const entries = mm.kernel[TABLES].entries;
  const base = id * PTRS_PER_TABLE;
  for (let i = 0; i < PTRS_PER_TABLE; i++) if (entries[base + i] !== 0) return false;
  return true;
}

/** Table being freed must be empty of mappings; anything left is a bug in the zap. */
function clearPteTable(mm: Mm, id: number): void {
  // eslint-disable-next-line no-restricted-syntax -- a read-only scan, no allocation in it
  const entries = mm.kernel[TABLES].entries;
  const base = id * PTRS_PER_TABLE;
  for (let i = 0; i < PTRS_PER_TABLE; i++) {
    const e = entries[base + i]!;
    if (e !== 0 && !isPteMarker(e)) throw new MmInvariantError(`freeing a page table that still maps entry ${e.toString(16)}`);
  }
}
