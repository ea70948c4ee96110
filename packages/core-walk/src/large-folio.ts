/**
 * Large-folio handling that the order-generic paths call into: what
 * MADV_FREE does to an mTHP folio it covers whole, and the swap slots a
 * large folio takes when reclaim swaps it out whole (zram).
 *
 * Partial operations need nothing here: zap (munmap, MADV_DONTNEED, guard
 * install) unmaps single PTEs and leaves the folio large, as the kernel's
 * deferred split does until memory pressure; mprotect and uffd-wp change
 * PTE bits only; MADV_FREE / COLD / PAGEOUT split a folio they cover in
 * part (madvise.ts); a swap file takes no large folio, so reclaim splits it.
 */
import { FRAMES, TABLES } from './readonly-pools.js';
import { PG_ANON, PG_DIRTY, PG_SWAPBACKED } from './frames.js';
import { HPAGE_PMD_NR } from './geometry.js';
import type { Mm } from './mm.js';
import { PTE_ACCESSED, PTE_DIRTY, pteDirty } from './pgtable.js';

/**
 * madvise_free_pte_range on a PTE-mapped mTHP folio whose every page is
 * mapped, in order, from `slot` inside the range: the folio is marked
 * lazyfree whole (clean, not swap-backed) and its PTEs lose dirty and
 * young, when this mm maps each page once and nothing else holds it.
 * Returns the slot after the folio (or `skipUntil` when it was left alone).
 * PMD-order folios keep their existing handling (left alone).
 */
export function lazyfreeWholeMthp(mm: Mm, slot: number, head: number, skipUntil: number): number {
  const frames = mm.kernel[FRAMES];
  const nr = frames.folioPages(head);
  if (nr >= HPAGE_PMD_NR) return skipUntil;
  if (frames.folioMapcount(head) !== nr || frames.refcount[head] !== nr) return slot + nr;
  frames.clear(head, PG_SWAPBACKED | PG_DIRTY);
  // eslint-disable-next-line no-restricted-syntax -- no page table is allocated while this view is used (frame allocation grows only the frame arrays)
  const entries = mm.kernel[TABLES].entries;
  for (let i = 0; i < nr; i++) entries[slot + i] = (entries[slot + i]! & ~(PTE_DIRTY | PTE_ACCESSED)) >>> 0;
  return slot + nr;
}

/**
 * folio_alloc_swap for a large folio on zram: the folio's pages get one
 * naturally aligned run of slots (what lets zram swap it back in whole).
 * A swap file takes no large folio: reclaim splits it and allocates per page.
 */
export function alignSwapForFolio(mm: Mm, head: number): void {
  const swap = mm.kernel.swap;
  if (swap === null || mm.kernel.profile.swapDevice !== 'zram') return;
  swap.alignNext(mm.kernel[FRAMES].folioPages(head));
}

/**
 * Reclaim of a whole lazyfree (MADV_FREE) folio mapped from `slot`: when
 * any of its PTEs was written since (dirty), try_to_unmap_one gives up on
 * the whole folio and makes it swap-backed again, so it stays mapped and
 * whole (a later reclaim swaps it out). Returns true in that case; false
 * lets reclaim go on (a clean lazyfree folio is discarded).
 */
export function keepDirtyLazyfree(mm: Mm, slot: number, head: number): boolean {
  const frames = mm.kernel[FRAMES];
  if (frames.has(head, PG_SWAPBACKED) || !frames.has(head, PG_ANON)) return false;
  const nr = frames.folioPages(head);
  let dirty = frames.has(head, PG_DIRTY);
  for (let i = 0; i < nr && !dirty; i++) dirty = pteDirty(mm.kernel[TABLES].entries[slot + i]!);
  if (!dirty) return false;
  frames.set(head, PG_SWAPBACKED);
  return true;
}
