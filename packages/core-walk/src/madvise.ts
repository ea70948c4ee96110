/**
 * madvise(2) (mm/madvise.c): validation, the per-VMA walk with its ENOMEM
 * for gaps, and the core advice. Feature packages add advice (guard
 * regions) through MadviseBehaviorToken.
 */
import type { PageCacheIndex } from './shmem.js';
import { Errno, NOT_MODELLED } from './errno.js';
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_LRU, PG_SWAPBACKED, PG_ZERO, NO_FRAME } from './frames.js';
import { accountPteUnmap, handleMmFault, mapUnusedToZeropage, splitHugePmd } from './fault.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SHIFT, PMD_SIZE, PTRS_PER_TABLE, addrEnd, isPageAligned, pageAlignUp, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import {
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_WRITE,
  isTableEntry,
  mkHugeLeaf,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteDirty,
  pteSoftDirty,
  pteSpecial,
  pteUffdWp,
  pteWrite,
  tableIdOf,
} from './pgtable.js';
import {
  isGuardPteMarker,
  isHwpoisonEntry,
  isPoisonedPteMarker,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  makeSwapEntry,
  pteSwpMksoftDirty,
  pteSwpMkuffdWp,
  pteSwpUffdWpAny,
  swpOffset,
} from './swapops.js';
import {
  FAULT_FLAG_FORCE,
  FAULT_FLAG_WRITE,
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_DONTNEED_LOCKED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_WIPEONFORK,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
} from './uapi.js';
import {
  VM_DONTCOPY,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_MAYSHARE,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_SPECIAL,
  VM_UFFD_FLAGS,
  VM_WIPEONFORK,
  VM_WRITE,
  type Vma,
} from './vma.js';
import { installUffdWpMarkerIfNeeded, zapVmaRange, ZAP_FILE_PAGES_ONLY } from './zap.js';

const MADV_DONTDUMP_FLAG = 0; // VM_DONTDUMP is not modelled: it has no effect on memory.

/** Advice the core knows (madvise_behavior_valid, less what features add). */
const CORE_ADVICE = new Set([
  MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_REMOVE,
  MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_WIPEONFORK, MADV_KEEPONFORK,
  MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_DONTNEED_LOCKED,
  MADV_COLLAPSE, MADV_DONTDUMP, MADV_DODUMP,
]);

export function doMadvise(mm: Mm, start: number, lengthIn: number, advice: number): number {
  const feature = mm.kernel.madviseBehaviors.get(advice);
  if (!CORE_ADVICE.has(advice) && feature === undefined) return -Errno.EINVAL;
  if (!isPageAligned(start)) return -Errno.EINVAL;
  const len = pageAlignUp(lengthIn);
  if (lengthIn !== 0 && len === 0) return -Errno.EINVAL;
  const end = start + len;
  if (end >= 2 ** 64) return -Errno.EINVAL;
  if (len === 0) return 0;
  if (advice === MADV_POPULATE_READ || advice === MADV_POPULATE_WRITE) {
    if (!mm.lock.tryReadLock()) return -Errno.EDEADLK;
    try {
      return madvisePopulate(mm, start, end, advice === MADV_POPULATE_WRITE);
    } finally {
      mm.lock.readUnlock();
    }
  }
  const writeLocked = advice === MADV_HUGEPAGE || advice === MADV_NOHUGEPAGE || advice === MADV_DONTFORK || advice === MADV_DOFORK || advice === MADV_WIPEONFORK || advice === MADV_KEEPONFORK || advice === MADV_NORMAL || advice === MADV_RANDOM || advice === MADV_SEQUENTIAL || advice === MADV_DONTDUMP || advice === MADV_DODUMP;
  // Called from inside a walk or fault on this mm: the kernel would deadlock.
  if (!(writeLocked ? mm.lock.tryWriteLock() : mm.lock.tryReadLock())) return -Errno.EDEADLK;
  try {
    const visit = (vma: Vma, from: number, to: number): number =>
      feature !== undefined ? feature.applyToVma(mm, vma, from, to) : madviseVma(mm, vma, from, to, advice);
    const result = madviseWalkVmas(mm, start, end, visit);
    if (writeLocked) mm.vmas.mergeAround(start, end);
    return result;
  } finally {
    if (writeLocked) mm.lock.writeUnlock();
    else mm.lock.readUnlock();
  }
}

/**
 * madvise_walk_vmas: applies `visit` to each VMA piece of [start, end).
 * A gap makes the result -ENOMEM, but the remaining VMAs are still
 * processed; an error from `visit` stops at once.
 */
export function madviseWalkVmas(mm: Mm, start: number, end: number, visit: (vma: Vma, from: number, to: number) => number): number {
  let unmappedError = 0;
  let vma = mm.vmas.find(start);
  for (;;) {
    if (vma === null) return -Errno.ENOMEM;
    if (start < vma.start) {
      unmappedError = -Errno.ENOMEM;
      start = vma.start;
      if (start >= end) break;
    }
    const to = Math.min(vma.end, end);
    const error = visit(vma, start, to);
    if (error) return error;
    start = to;
    if (start >= end) break;
    vma = mm.vmas.find(start);
  }
  return unmappedError;
}

function madviseVma(mm: Mm, vma: Vma, start: number, end: number, advice: number): number {
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED: {
      if (vma.isHugetlb) {
        if (advice !== MADV_DONTNEED && advice !== MADV_DONTNEED_LOCKED) return -Errno.EINVAL;
        const alignedEnd = Math.floor(end / PMD_SIZE) * PMD_SIZE;
        if (start % PMD_SIZE !== 0) return -Errno.EINVAL;
        if (alignedEnd > start) zapVmaRange(mm, vma, start, alignedEnd, 0);
        return 0;
      }
      const forbidden = VM_PFNMAP | (advice === MADV_DONTNEED_LOCKED ? 0 : VM_LOCKED);
      if ((vma.flags & forbidden) !== 0) return -Errno.EINVAL;
      zapVmaRange(mm, vma, start, end, 0);
      return 0;
    }
    case MADV_FREE:
      if ((vma.flags & (VM_PFNMAP | VM_LOCKED | VM_HUGETLB)) !== 0) return -Errno.EINVAL;
      if (!vma.isAnonymous) return -Errno.EINVAL;
      madviseFree(mm, vma, start, end);
      return 0;
    case MADV_REMOVE:
      return madviseRemove(mm, vma, start, end);
    case MADV_WILLNEED:
      return 0;
    case MADV_COLD:
    case MADV_PAGEOUT:
      if ((vma.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) !== 0) return -Errno.EINVAL;
      coldOrPageout(mm, vma, start, end, advice === MADV_PAGEOUT);
      return 0;
    case MADV_COLLAPSE:
      return madviseCollapse(mm, vma, start, end);
    case MADV_HUGEPAGE:
      return updateVmaFlags(mm, vma, start, end, VM_NOHUGEPAGE, VM_HUGEPAGE);
    case MADV_NOHUGEPAGE:
      return updateVmaFlags(mm, vma, start, end, VM_HUGEPAGE, VM_NOHUGEPAGE);
    case MADV_DONTFORK:
      if ((vma.flags & VM_IO) !== 0) return -Errno.EINVAL;
      return updateVmaFlags(mm, vma, start, end, 0, VM_DONTCOPY);
    case MADV_DOFORK:
      if ((vma.flags & VM_IO) !== 0) return -Errno.EINVAL;
      return updateVmaFlags(mm, vma, start, end, VM_DONTCOPY, 0);
    case MADV_WIPEONFORK:
      if (vma.file !== null || (vma.flags & VM_SHARED) !== 0) return -Errno.EINVAL;
      return updateVmaFlags(mm, vma, start, end, 0, VM_WIPEONFORK);
    case MADV_KEEPONFORK:
      return updateVmaFlags(mm, vma, start, end, VM_WIPEONFORK, 0);
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
      return updateVmaFlags(mm, vma, start, end, 0, MADV_DONTDUMP_FLAG);
    default:
      return -Errno.EINVAL;
  }
}

function updateVmaFlags(mm: Mm, vma: Vma, start: number, end: number, clear: number, set: number): number {
  const next = (vma.flags & ~clear) | set;
  if (next === vma.flags) return 0;
  if (vma.isHugetlb && (start % PMD_SIZE !== 0 || end % PMD_SIZE !== 0) && (start !== vma.start || end !== vma.end)) return -Errno.EINVAL;
  for (const piece of mm.vmas.splitRange(start, end)) piece.flags = (piece.flags & ~clear) | set;
  return 0;
}

/* ------------------------------------------------------------- populate */

/** MADV_POPULATE_(READ|WRITE): GUP without FOLL_FORCE; errors as madvise_populate maps them. */
function madvisePopulate(mm: Mm, start: number, end: number, write: boolean): number {
  let addr = start;
  while (addr < end) {
    const vma = mm.vmas.lookup(addr);
    if (vma === null) return -Errno.ENOMEM;
    if ((vma.flags & (VM_IO | VM_PFNMAP)) !== 0) return -Errno.EINVAL;
    if (write ? (vma.flags & VM_WRITE) === 0 : (vma.flags & VM_READ) === 0) return -Errno.EINVAL;
    const to = Math.min(end, vma.end);
    const result = populateRange(mm, vma, addr, to, write, false);
    if (result < 0) return result;
    addr = to;
  }
  return 0;
}

/**
 * Faults in every page of [start, end) of one VMA as get_user_pages does:
 * a page already mapped with the needed access is left alone. Returns 0 or
 * -EFAULT (SIGSEGV/SIGBUS), -ENOMEM (OOM), -EHWPOISON.
 */
export function populateRange(mm: Mm, vma: Vma, start: number, end: number, write: boolean, force: boolean): number {
  const flags = (write ? FAULT_FLAG_WRITE : 0) | (force ? FAULT_FLAG_FORCE : 0);
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    for (let attempt = 0; ; attempt++) {
      const entry = mm.leafEntry(addr);
      if (ptePresent(entry) && (!write || pteWrite(entry))) break;
      if (attempt >= 8) return -Errno.EFAULT;
      const fault = handleMmFault(mm, vma, addr, flags);
      if (fault & VM_FAULT_OOM) {
        mm.faultOom = true; // the caller runs the OOM killer once its locks are dropped
        return -Errno.ENOMEM;
      }
      if (fault & VM_FAULT_HWPOISON) return -Errno.EHWPOISON;
      if (fault & (VM_FAULT_SIGSEGV | VM_FAULT_SIGBUS)) return -Errno.EFAULT;
    }
  }
  return 0;
}

/* ----------------------------------------------------------- MADV_FREE */

/** madvise_free_pte_range: exclusive anon pages become lazily freeable; swap entries are dropped. */
function madviseFree(mm: Mm, vma: Vma, start: number, end: number): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  forEachPmd(mm, vma, start, end, (pmdSlot, addr, next) => {
    const pmd = tables.entries[pmdSlot]!;
    if (pmdLeaf(pmd)) {
      // madvise_free_huge_pmd: the huge zero page and shared folios are left alone.
      const head = ptePfn(pmd);
      if (frames.has(head, PG_ZERO) || !splittableExclusive(mm, head, true)) return;
      if (addr % PMD_SIZE === 0 && next - addr === PMD_SIZE) {
        frames.clear(head, PG_SWAPBACKED | PG_DIRTY);
        tables.entries[pmdSlot] = (pmd & ~(PTE_DIRTY | PTE_ACCESSED)) >>> 0;
        return;
      }
      // Part of the THP: split the folio so that only those pages are freed.
      splitHugePmd(mm, vma, pmdSlot, addr);
      frames.splitFolio(head);
      mapUnusedToZeropage(mm, pmdSlot, addr, head);
    }
    if (!isTableEntry(tables.entries[pmdSlot]!)) return;
    forEachPte(mm, pmdSlot, addr, next, (slot, pteAddr) => {
      const pte = tables.entries[slot]!;
      if (pte === 0) return;
      if (!ptePresent(pte)) {
        if (isRealSwapEntry(pte)) {
          mm.kernel.swap?.free(swpOffset(pte));
          tables.entries[slot] = 0;
        } else if (isHwpoisonEntry(pte) || isPoisonedPteMarker(pte)) {
          // madvise_free_pte_range also clears poison; guards and uffd-wp markers stay.
          tables.entries[slot] = 0;
        }
        return;
      }
      if (pteSpecial(pte)) return;
      const pfn = ptePfn(pte);
      const head = frames.folioOf(pfn);
      if (!frames.has(head, PG_ANON)) return;
      if (frames.isLarge(head)) {
        // A PTE-mapped THP: split unless all of it is mapped inside the range.
        if (!wholeFolioInRange(tables.entries, slot, pteAddr, next, head) && splittableExclusive(mm, head, false)) {
          frames.splitFolio(head);
          mapUnusedToZeropage(mm, pmdSlot, addr, head);
        } else {
          return;
        }
        if (pteSpecial(tables.entries[slot]!)) return; // now the zero page
      }
      if (frames.mapcount[pfn] !== 1) return;
      frames.clear(pfn, PG_SWAPBACKED | PG_DIRTY);
      tables.entries[slot] = (tables.entries[slot]! & ~(PTE_DIRTY | PTE_ACCESSED)) >>> 0;
    });
  });
}

/**
 * The folio is mapped by this mm only, once per page, with no other
 * reference (what folio_maybe_mapped_shared and split_folio's refcount
 * check allow, in the settled state): each mapping (a PMD, or a PTE of a
 * page) holds one reference.
 */
function splittableExclusive(mm: Mm, head: number, viaPmd: boolean): boolean {
  const frames = mm.kernel.frames;
  // A folio mapped by a PMD and by PTEs is mapped twice, which
  // folio_maybe_mapped_shared() calls "maybe shared": the caller's own PMD
  // must be the only mapping, and a caller holding a PTE mapping must see
  // no PMD mapping (another mm's, after fork and a partial munmap; issue
  // 19: splitting that folio threw).
  const entire = frames.entireMapcount.get(head) ?? 0;
  if (entire !== (viaPmd ? 1 : 0)) return false;
  let mappings = entire;
  const pages = frames.folioPages(head);
  for (let i = 0; i < pages; i++) {
    const mapcount = frames.mapcount[head + i]!;
    if (mapcount > 1 || (viaPmd && mapcount !== 0)) return false;
    mappings += mapcount;
  }
  return frames.refcount[head] === mappings;
}

/**
 * madvise_folio_pte_batch from `slot` (mapping `addr`): do the PTEs from
 * here to `end` map all of the large folio `head`, one page each, in order?
 */
function wholeFolioInRange(entries: Uint32Array, slot: number, addr: number, end: number, head: number): boolean {
  const first = ptePfn(entries[slot]!);
  if (first !== head) return false;
  if ((end - addr) / PAGE_SIZE < HPAGE_PMD_NR) return false;
  for (let i = 1; i < HPAGE_PMD_NR; i++) {
    const pte = entries[slot + i]!;
    if (!ptePresent(pte) || ptePfn(pte) !== head + i) return false;
  }
  return true;
}

/* ---------------------------------------------------------- MADV_REMOVE */

function madviseRemove(mm: Mm, vma: Vma, start: number, end: number): number {
  if ((vma.flags & VM_LOCKED) !== 0) return -Errno.EINVAL;
  // A private hugetlb mapping has a (hugetlbfs) file in the kernel, so it gets as far as EACCES.
  if (vma.file === null && !vma.isHugetlb) return -Errno.EINVAL;
  if ((vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0 || (vma.flags & VM_SHARED) === 0) return -Errno.EACCES;
  const file = vma.file;
  if (file === null) return -Errno.EACCES;
  const first = vma.pageIndex(start);
  const last = Math.min(vma.pageIndex(end), file.pages);
  // Hole punch: unmap the file pages from every mapping (private COW copies stay), then drop them.
  for (const mapping of file.mappings(first, last)) {
    const from = Math.max(mapping.vma.start, mapping.vma.start + (first - mapping.vma.pgoff) * PAGE_SIZE);
    const to = Math.min(mapping.vma.end, mapping.vma.start + (last - mapping.vma.pgoff) * PAGE_SIZE);
    if (from < to) zapVmaRange(mapping.mm, mapping.vma, from, to, ZAP_FILE_PAGES_ONLY);
  }
  truncateRange(mm, file.cache, first, last);
  return 0;
}

function truncateRange(mm: Mm, cache: PageCacheIndex, first: number, last: number): void {
  const frames = mm.kernel.frames;
  for (const index of cache.stored(first, last)) {
    const value = cache.get(index);
    if (value > 0) {
      frames.clear(value, PG_LRU);
      frames.put(value);
    } else if (value < 0) {
      mm.kernel.swap?.free(-value);
    }
    cache.set(index, 0);
  }
}

/* ------------------------------------------------------ cold / pageout */

/**
 * madvise_cold_or_pageout_pte_range + reclaim_pages in the settled state:
 * only folios mapped exactly once are touched. Cold clears young bits;
 * pageout reclaims: lazily-freed clean anon pages are discarded, anon pages
 * go to swap (if any), shmem pages are unmapped and, with a swap device,
 * written out to it (without one they stay in the cache).
 */
function coldOrPageout(mm: Mm, vma: Vma, start: number, end: number, pageout: boolean): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  forEachPmd(mm, vma, start, end, (pmdSlot, addr, next) => {
    const pmd = tables.entries[pmdSlot]!;
    if (pmdLeaf(pmd)) {
      const head = ptePfn(pmd);
      if (frames.has(head, PG_ZERO)) return;
      if (frames.refcount[head] !== 1 || (frames.entireMapcount.get(head) ?? 0) !== 1) return;
      const whole = addr % PMD_SIZE === 0 && next - addr === PMD_SIZE;
      if (whole) {
        tables.entries[pmdSlot] = (pmd & ~PTE_ACCESSED) >>> 0;
        if (!pageout) return;
      }
      // Reclaim (or a partial range) works on base pages: split the PMD and the folio.
      splitHugePmd(mm, vma, pmdSlot, addr);
      splitForReclaim(mm, pmdSlot, addr, head, whole && pageout);
    }
    if (!isTableEntry(tables.entries[pmdSlot]!)) return;
    /** Entries up to here belong to a large folio already handled as a whole. */
    let skipUntil = -1;
    forEachPte(mm, pmdSlot, addr, next, (slot, pteAddr) => {
      if (slot < skipUntil) return;
      const pte = tables.entries[slot]!;
      if (!ptePresent(pte) || pteSpecial(pte)) return;
      const pfn = ptePfn(pte);
      const head = frames.folioOf(pfn);
      if (frames.isLarge(head)) {
        if (wholeFolioInRange(tables.entries, slot, pteAddr, next, head)) {
          // All of it in range: cold leaves it whole; reclaim takes it whole.
          if (!pageout) {
            for (let i = 0; i < HPAGE_PMD_NR; i++) tables.entries[slot + i] = (tables.entries[slot + i]! & ~PTE_ACCESSED) >>> 0;
            skipUntil = slot + HPAGE_PMD_NR;
            return;
          }
          if (frames.folioMapcount(head) !== HPAGE_PMD_NR || frames.refcount[head] !== HPAGE_PMD_NR) return;
          splitForReclaim(mm, pmdSlot, addr, head, true);
        } else {
          // Part of it in range: split it (madvise_cold_or_pageout_pte_range) when nothing else holds it.
          if (!splittableExclusive(mm, head, false)) return;
          frames.splitFolio(head);
          mapUnusedToZeropage(mm, pmdSlot, addr, head);
        }
        // This entry may now map the zero page (and the page be freed).
        if (pteSpecial(tables.entries[slot]!)) return;
      }
      if (frames.mapcount[pfn] !== 1 || !frames.has(pfn, PG_LRU)) return;
      tables.entries[slot] = (tables.entries[slot]! & ~PTE_ACCESSED) >>> 0;
      if (pageout) reclaimPte(mm, slot, vma, pteAddr);
    });
  });
}

/**
 * Splits `head` (already PTE-mapped under `pmdSlot`) into base pages for
 * MADV_COLD / MADV_PAGEOUT. A whole THP being reclaimed to a block swap
 * device (zram) is swapped out as one folio: its zero-filled pages become
 * swap entries like the others, so they are not remapped. Otherwise the
 * kernel splits it (split_folio, or shrink_folio_list's fallback when
 * add_to_swap fails, as it always does on a swap file, which takes no THP
 * swap-out) and zero-filled subpages go to the shared zero page.
 */
function splitForReclaim(mm: Mm, pmdSlot: number, addr: number, head: number, wholeReclaim: boolean): void {
  mm.kernel.frames.splitFolio(head);
  if (wholeReclaim && mm.kernel.swap !== null && mm.kernel.profile.swapDevice === 'zram') return;
  mapUnusedToZeropage(mm, pmdSlot, addr, head);
}

function reclaimPte(mm: Mm, slot: number, vma: Vma, addr: number): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const pte = tables.entries[slot]!;
  const pfn = ptePfn(pte);
  if (frames.has(pfn, PG_ANON)) {
    if (!frames.has(pfn, PG_SWAPBACKED)) {
      if (!pteDirty(pte) && !frames.has(pfn, PG_DIRTY)) {
        // A lazily freed page nobody wrote again: discard it.
        tables.entries[slot] = 0;
        accountPteUnmap(mm, pfn);
        return;
      }
      // Written again since MADV_FREE: reclaim keeps it mapped and makes it
      // swap-backed again (try_to_unmap_one backs off from a dirty lazyfree
      // folio); only a later pass can swap it out.
      frames.set(pfn, PG_SWAPBACKED);
      return;
    }
    const swap = mm.kernel.swap;
    if (swap === null || frames.refcount[pfn] !== 1) return;
    const swapSlot = swap.alloc();
    if (swapSlot === 0) return;
    swap.contents.copyFrom(frames.contents, pfn, swapSlot);
    let entry = makeSwapEntry(0, swapSlot);
    if (pteSoftDirty(pte)) entry = pteSwpMksoftDirty(entry);
    if (pteUffdWp(pte)) entry = pteSwpMkuffdWp(entry);
    tables.entries[slot] = entry;
    accountPteUnmap(mm, pfn);
    return;
  }
  // A page-cache page: unmap it. With a swap device, shmem writes it out
  // (shmem_writeout): the cache then holds its swap slot and the page is
  // freed, so a later fault swaps it in and fault-around does not map it.
  // Without one the cache keeps the page.
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
  frames.put(pfn);
}

/* ------------------------------------------------------------- collapse */

/**
 * thp_vma_allowable_order(vma, TVA_FORCED_COLLAPSE, PMD_ORDER): the sysfs
 * THP modes do not matter to MADV_COLLAPSE; VM_NOHUGEPAGE, special and
 * hugetlb VMAs do, and the VMA must hold an aligned 2 MiB block at its end
 * (a file VMA also with its file offset aligned). An anonymous VMA needs
 * its anon_vma (a fault happened); shmem allows the PMD order when forced.
 */
function collapseAllowed(vma: Vma): boolean {
  if ((vma.flags & (VM_NOHUGEPAGE | VM_SPECIAL | VM_HUGETLB)) !== 0) return false;
  const haddr = Math.floor((vma.end - PMD_SIZE) / PMD_SIZE) * PMD_SIZE;
  if (haddr < vma.start || haddr + PMD_SIZE > vma.end) return false;
  if (!vma.isAnonymous) return (vma.start / PAGE_SIZE - vma.pgoff) % HPAGE_PMD_NR === 0;
  return vma.anonVma !== null;
}

/**
 * MADV_COLLAPSE (madvise_collapse) on one VMA's part [start, end): each
 * aligned 2 MiB block becomes a PMD-mapped THP. A range holding no whole
 * block is 0 when its rounded bounds meet and -EINVAL when they cross (the
 * kernel counts the blocks unsigned). File (shmem) THPs are not modelled:
 * a file block with nothing in the page cache fails as the kernel's does
 * (-EINVAL), one with pages gives NOT_MODELLED.
 */
function madviseCollapse(mm: Mm, vma: Vma, start: number, end: number): number {
  if (!collapseAllowed(vma)) return -Errno.EINVAL;
  const hstart = Math.ceil(start / PMD_SIZE) * PMD_SIZE;
  const hend = Math.floor(end / PMD_SIZE) * PMD_SIZE;
  if (hstart > hend) return -Errno.EINVAL;
  if (hstart === hend) return 0;
  if (!vma.isAnonymous) {
    const file = vma.file;
    if (file === null) return NOT_MODELLED;
    const first = vma.pageIndex(hstart);
    for (let index = first; index < first + HPAGE_PMD_NR && index < file.pages; index++) {
      if (file.cache.get(index) !== 0) return NOT_MODELLED;
    }
    return -Errno.EINVAL;
  }
  let lastFail: Scan = Scan.Fail;
  let collapsed = 0;
  for (let addr = hstart; addr < hend; addr += PMD_SIZE) {
    const result = collapseScanPmd(mm, vma, addr);
    if (result === Scan.Succeed || result === Scan.PmdMapped) {
      collapsed++;
      continue;
    }
    lastFail = result;
    // madvise_collapse goes on to the next block only after these results.
    if (!SCAN_CONTINUES.has(result)) break;
  }
  return collapsed === (hend - hstart) / PMD_SIZE ? 0 : collapseErrno(lastFail);
}

/** The scan results of mm/khugepaged.c that decide MADV_COLLAPSE's outcome. */
const enum Scan {
  Succeed,
  Fail,
  PmdNull,
  PmdNone,
  PmdMapped,
  ExceedNonePte,
  PteUffdWp,
  PageNull,
  PageAnon,
  PageCount,
  AllocHugePageFail,
}

/** Results after which madvise_collapse tries the next block (the others end it). */
const SCAN_CONTINUES: ReadonlySet<Scan> = new Set([Scan.PmdNull, Scan.PteUffdWp, Scan.PageNull, Scan.PageCount]);

/** madvise_collapse_errno. */
function collapseErrno(result: Scan): number {
  switch (result) {
    case Scan.AllocHugePageFail:
      return -Errno.ENOMEM;
    case Scan.ExceedNonePte:
      return -Errno.EBUSY;
    case Scan.PageCount:
      return -Errno.EAGAIN;
    default:
      return -Errno.EINVAL;
  }
}

/**
 * hpage_collapse_scan_pmd for MADV_COLLAPSE, then the collapse. The PTEs are
 * checked in address order and the first that refuses decides: a uffd-wp
 * swap entry or marker, then a none or zero-page PTE in a VMA armed with
 * userfaultfd (it must not gain pages it did not have: EBUSY), then a
 * uffd-wp PTE, then a page that is not a normal anonymous one.
 */
function collapseScanPmd(mm: Mm, vma: Vma, haddr: number): Scan {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const pmdSlot = mm.pmdSlot(haddr, false);
  if (pmdSlot < 0) return Scan.PmdNull;
  const pmd = tables.entries[pmdSlot]!;
  if (pmd === 0) return Scan.PmdNone;
  if (pmdLeaf(pmd) || isSwapPte(pmd)) return Scan.PmdMapped;
  if (!isTableEntry(pmd)) return Scan.PmdNull;
  const armed = (vma.flags & VM_UFFD_FLAGS) !== 0;
  const base = tableIdOf(pmd) * PTRS_PER_TABLE;
  // (6.18 collapses read-only and all-empty / zero-page tables too: no writability rule.)
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    if (pte !== 0 && isSwapPte(pte)) {
      if (pteSwpUffdWpAny(pte)) return Scan.PteUffdWp;
      continue;
    }
    if (pte === 0 || ptePfn(pte) === frames.zeroPfn) {
      if (armed) return Scan.ExceedNonePte;
      continue;
    }
    if (pteUffdWp(pte)) return Scan.PteUffdWp;
    if (pteSpecial(pte)) return Scan.PageNull;
    if (!frames.has(frames.folioOf(ptePfn(pte)), PG_ANON)) return Scan.PageAnon;
  }
  // __collapse_huge_page_swapin: fault in what is swapped out. A guard
  // marker faults with SIGSEGV (SCAN_FAIL); a migration entry leaves the
  // page busy (the isolation that follows finds it locked: try again).
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    if (pte === 0 || !isSwapPte(pte)) continue;
    if (isPteMarker(pte) || isGuardPteMarker(pte)) return Scan.Fail;
    if (!isRealSwapEntry(pte)) return Scan.PageCount;
    const fault = handleMmFault(mm, vma, haddr + i * PAGE_SIZE, 0);
    if (fault & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_OOM)) return Scan.Fail;
  }
  const head = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
  if (head === NO_FRAME) return Scan.AllocHugePageFail;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    frames.set(head + i, PG_ANON_EXCLUSIVE);
    if (ptePresent(pte) && !pteSpecial(pte)) {
      frames.contents.copyFrom(frames.contents, ptePfn(pte), head + i);
      accountPteUnmap(mm, ptePfn(pte));
    }
    tables.entries[base + i] = 0;
  }
  tables.release(tableIdOf(pmd));
  frames.refcount[head] = 1;
  frames.entireMapcount.set(head, 1);
  tables.entries[pmdSlot] = mkHugeLeaf(head, PTE_ACCESSED | PTE_DIRTY | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  return Scan.Succeed;
}

/* ------------------------------------------------------------- helpers */

/** Calls `fn` for each PMD slot in [start, end) that exists and is not none. */
function forEachPmd(mm: Mm, _vma: Vma, start: number, end: number, fn: (pmdSlot: number, addr: number, next: number) => void): void {
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const slot = mm.pmdSlot(addr, false);
    if (slot < 0 || mm.kernel.tables.entries[slot] === 0) continue;
    fn(slot, addr, next);
  }
}

/** Calls `fn` with the slot of each PTE in [addr, next) under the PMD at pmdSlot (a table). */
function forEachPte(mm: Mm, pmdSlot: number, addr: number, next: number, fn: (slot: number, addr: number) => void): void {
  const pmd = mm.kernel.tables.entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return;
  const base = tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, 12);
  const count = (next - addr) / PAGE_SIZE;
  for (let i = 0; i < count; i++) fn(base + i, addr + i * PAGE_SIZE);
}
