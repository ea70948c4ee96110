/**
 * Reclaim of one folio (mm/vmscan.c shrink_folio_list with try_to_unmap
 * and pageout): what MADV_PAGEOUT does to each page it picks.
 */
import { PG_ANON, PG_DIRTY, PG_SWAPBACKED } from './frames.js';
import { mapUnusedToZeropage } from './huge-memory.js';
import { alignSwapForFolio } from './large-folio.js';
import type { Mm } from './mm.js';
import { pteDirty, ptePfn, pteSoftDirty, pteUffdWp } from './pgtable.js';
import { accountPteUnmap } from './rmap.js';
import { makeSwapEntry, pteSwpMksoftDirty, pteSwpMkuffdWp } from './swapops.js';
import type { Vma } from './vma.js';
import { installUffdWpMarkerIfNeeded } from './zap.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm } from './trace.js';

/**
 * Splits `head` (already PTE-mapped under `pmdSlot`) into base pages for
 * MADV_COLD / MADV_PAGEOUT. A whole THP being reclaimed to a block swap
 * device (zram) is swapped out as one folio: its zero-filled pages become
 * swap entries like the others, so they are not remapped. Otherwise the
 * kernel splits it (split_folio, or shrink_folio_list's fallback when
 * add_to_swap fails, as it always does on a swap file, which takes no THP
 * swap-out) and zero-filled subpages go to the shared zero page.
 */
export function splitForReclaim(mm: Mm, pmdSlot: number, addr: number, head: number, wholeReclaim: boolean): void {
  // mTHP hook (large-folio.ts): a whole folio going to zram takes aligned, consecutive slots.
  if (wholeReclaim) alignSwapForFolio(mm, head);
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'split', fn: 'split_folio', addr, end: addr, result: wholeReclaim && mm.kernel.swap !== null && mm.kernel.profile.swapDevice === 'zram' ? 'swapped-whole' : 'for-reclaim', pfn: head, order: Math.log2(mm.kernel[FRAMES].folioPages(head)) });
  mm.kernel[FRAMES].splitFolio(head);
  if (wholeReclaim && mm.kernel.swap !== null && mm.kernel.profile.swapDevice === 'zram') return;
  mapUnusedToZeropage(mm, pmdSlot, addr, head);
}

export function reclaimPte(mm: Mm, slot: number, vma: Vma, addr: number): void {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pte = tables.entries[slot]!;
  const pfn = ptePfn(pte);
  if (frames.has(pfn, PG_ANON)) {
    if (!frames.has(pfn, PG_SWAPBACKED)) {
      if (!pteDirty(pte) && !frames.has(pfn, PG_DIRTY)) {
        // A lazily freed page nobody wrote again: discard it.
        if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'shrink_folio_list', addr, end: addr + 4096, result: 'lazyfree-freed', pfn });
        tables.entries[slot] = 0;
        accountPteUnmap(mm, pfn);
        return;
      }
      // Written again since MADV_FREE: reclaim keeps it mapped and makes it
      // swap-backed again (try_to_unmap_one backs off from a dirty lazyfree
      // folio); only a later pass can swap it out.
      if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'shrink_folio_list', addr, end: addr + 4096, result: 'lazyfree-kept', pfn });
      frames.set(pfn, PG_SWAPBACKED);
      return;
    }
    const swap = mm.kernel.swap;
    if (mm.kernel.tracer !== null && (swap === null || frames.refcount[pfn] !== 1)) traceMm(mm.kernel, { type: 'reclaim', fn: 'shrink_folio_list', addr, end: addr + 4096, result: swap === null ? 'kept-no-swap' : 'kept-referenced', pfn });
    if (swap === null || frames.refcount[pfn] !== 1) return;
    const swapSlot = swap.alloc();
    if (swapSlot === 0) return;
    swap.contents.copyFrom(frames.contents, pfn, swapSlot);
    let entry = makeSwapEntry(0, swapSlot);
    if (pteSoftDirty(pte)) entry = pteSwpMksoftDirty(entry);
    if (pteUffdWp(pte)) entry = pteSwpMkuffdWp(entry);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'shrink_folio_list', addr, end: addr + 4096, result: 'swapped', pfn, slot: swapSlot, device: mm.kernel.profile.swapDevice });
    tables.entries[slot] = entry;
    accountPteUnmap(mm, pfn);
    return;
  }
  // A page-cache page: unmap it. With a swap device, shmem writes it out
  // (shmem_writeout): the cache then holds its swap slot and the page is
  // freed, so a later fault swaps it in and fault-around does not map it.
  // Without one the cache keeps the page.
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'shrink_folio_list', addr, end: addr + 4096, result: 'unmapped-file', pfn });
  if (pteDirty(pte)) frames.set(pfn, PG_DIRTY);
  tables.entries[slot] = 0;
  // try_to_unmap_one keeps a uffd-wp protection as a marker where the page was.
  installUffdWpMarkerIfNeeded(mm, vma, slot, pteUffdWp(pte), 0);
  accountPteUnmap(mm, pfn);
  const swap = mm.kernel.swap;
  const file = vma.file;
  if (swap === null || file === null || file.hugetlb || frames.refcount[pfn] !== 1) return;
  const index = vma.pageIndex(addr);
  if (file.cache.get(index) !== pfn) return;
  const swapSlot = swap.alloc();
  if (swapSlot === 0) return;
  swap.contents.copyFrom(frames.contents, pfn, swapSlot);
  file.cache.set(index, -swapSlot);
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'shmem_writeout', addr, end: addr + 4096, result: 'swapped', pfn, slot: swapSlot, device: mm.kernel.profile.swapDevice });
  frames.put(pfn);
}
