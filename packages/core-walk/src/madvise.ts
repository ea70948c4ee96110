/**
 * madvise(2) (mm/madvise.c): validation, the per-VMA walk with its ENOMEM
 * for gaps, and the core advice. Reclaim of a folio (MADV_PAGEOUT) is in
 * vmscan.ts, MADV_COLLAPSE in khugepaged.ts. Feature packages add advice
 * (guard regions) through MadviseBehaviorToken.
 */
import { Errno } from './errno.js';
import { PG_ANON, PG_DIRTY, PG_LRU, PG_SWAPBACKED, PG_ZERO, type FramePool } from './frames.js';
import { isPageAligned, PAGE_SIZE, pageAlignUp, PMD_SIZE } from './geometry.js';
import { populateRange } from './gup.js';
import { mapUnusedToZeropage, splitHugePmd } from './huge-memory.js';
import { madviseCollapse } from './khugepaged.js';
import { keepDirtyLazyfree, lazyfreeWholeMthp } from './large-folio.js';
import type { Mm } from './mm.js';
import { validUserRange } from './mmap.js';
import { forEachPmd, forEachPte } from './pgtable-nav.js';
import { isTableEntry, pmdLeaf, PTE_ACCESSED, PTE_DIRTY, ptePfn, ptePresent, pteSpecial } from './pgtable.js';
import { truncateRange } from './shmem.js';
import { isHwpoisonEntry, isPoisonedPteMarker, isRealSwapEntry, swpOffset } from './swapops.js';
import {
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
  VM_WIPEONFORK,
  VM_WRITE,
  type Vma,
  VMAS,
} from './vma.js';
import { reclaimPte, splitForReclaim } from './vmscan.js';
import { ZAP_FILE_PAGES_ONLY, zapVmaRange } from './zap.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm } from './trace.js';

const MADV_DONTDUMP_FLAG = 0;

 // VM_DONTDUMP is not modelled: it has no effect on memory.

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
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'madvise', fn: 'do_madvise', addr: start, end, result: 'advise', advice });
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
    if (writeLocked) mm[VMAS].mergeAround(start, end);
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
  for (const piece of mm[VMAS].splitRange(start, end)) piece.flags = (piece.flags & ~clear) | set;
  return 0;
}

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

/** madvise_free_pte_range: exclusive anon pages become lazily freeable; swap entries are dropped. */
function madviseFree(mm: Mm, vma: Vma, start: number, end: number): void {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  forEachPmd(mm, vma, start, end, (pmdSlot, addr, next) => {
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'madvise_free_pte_range', addr, end: next, result: 'lazyfree' });
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
    let skipUntil = -1;
    forEachPte(mm, pmdSlot, addr, next, (slot, pteAddr) => {
      if (slot < skipUntil) return;
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
        if (!wholeFolioInRange(frames, tables.entries, slot, pteAddr, next, head) && splittableExclusive(mm, head, false)) {
          frames.splitFolio(head);
          mapUnusedToZeropage(mm, pmdSlot, addr, head);
        } else {
          // mTHP hook (large-folio.ts): a whole mTHP folio in range becomes lazyfree.
          skipUntil = lazyfreeWholeMthp(mm, slot, head, skipUntil);
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
  const frames = mm.kernel[FRAMES];
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
function wholeFolioInRange(frames: FramePool, entries: Uint32Array, slot: number, addr: number, end: number, head: number): boolean {
  const first = ptePfn(entries[slot]!);
  if (first !== head) return false;
  const nr = frames.folioPages(head); // mTHP hook: any large order
  if ((end - addr) / PAGE_SIZE < nr) return false;
  for (let i = 1; i < nr; i++) {
    const pte = entries[slot + i]!;
    if (!ptePresent(pte) || ptePfn(pte) !== head + i) return false;
  }
  return true;
}

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

/**
 * madvise_cold_or_pageout_pte_range + reclaim_pages in the settled state:
 * only folios mapped exactly once are touched. Cold clears young bits;
 * pageout reclaims: lazily-freed clean anon pages are discarded, anon pages
 * go to swap (if any), shmem pages are unmapped and, with a swap device,
 * written out to it (without one they stay in the cache).
 */
function coldOrPageout(mm: Mm, vma: Vma, start: number, end: number, pageout: boolean): void {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  forEachPmd(mm, vma, start, end, (pmdSlot, addr, next) => {
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'reclaim', fn: 'madvise_cold_or_pageout_pte_range', addr, end: next, result: pageout ? 'pageout' : 'deactivate' });
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
        if (wholeFolioInRange(frames, tables.entries, slot, pteAddr, next, head)) {
          // All of it in range: cold leaves it whole; reclaim takes it whole.
          const nr = frames.folioPages(head); // mTHP hook: any large order
          if (!pageout) {
            for (let i = 0; i < nr; i++) tables.entries[slot + i] = (tables.entries[slot + i]! & ~PTE_ACCESSED) >>> 0;
            skipUntil = slot + nr;
            return;
          }
          if (frames.folioMapcount(head) !== nr || frames.refcount[head] !== nr) return;
          // mTHP hook (large-folio.ts): a lazyfree folio written again stays whole and mapped.
          if (keepDirtyLazyfree(mm, slot, head)) {
            skipUntil = slot + nr;
            return;
          }
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

/** madvise(2). */
export function sysMadvise(mm: Mm, addr: number, length: number, advice: number): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length) || !Number.isSafeInteger(advice)) return -Errno.EINVAL;
  let result = doMadvise(mm, addr, length, advice);
  // MADV_POPULATE_* ran out of memory: the OOM killer runs; if it freed another process, go on.
  while (mm.faultOom && mm.outOfMemory()) result = doMadvise(mm, addr, length, advice);
  return result;
}
