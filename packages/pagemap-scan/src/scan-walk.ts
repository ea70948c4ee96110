/**
 * The PAGEMAP_SCAN walker (fs/proc/task_mmu.c: pagemap_scan_ops and its
 * helpers): per-VMA filtering, categories of every kind of entry, the
 * masks, region coalescing with the max_pages / vec_len limits, and the
 * write-protection of what matched (PM_SCAN_WP_MATCHING).
 *
 * Only the public walker is used. PTEs come as whole table slices through
 * `pteBatch`; nothing is allocated per entry. Entries are changed in place,
 * like the kernel's callbacks do through their pte_t pointer.
 */
import {
  Errno,
  PAGE_SIZE,
  PG_ANON,
  PG_ZERO,
  PMD_SIZE,
  VM_PFNMAP,
  VM_SOFTDIRTY,
  VM_UFFD_WP,
  WalkAction,
  WalkLock,
  addrEnd,
  PMD_SHIFT,
  isGuardPteMarker,
  isHwpoisonEntry,
  isMigrationEntry,
  isPfnSwapEntry,
  isPteMarker,
  isSwapPte,
  makeUffdWpMarker,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteMkuffdWp,
  pteSoftDirty,
  pteSpecial,
  pteSwpMkuffdWp,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteSwpUffdWpAny,
  pteUffdWp,
  setEntry,
  swpOffset,
  type FramePool,
  type Mm,
  type MmWalk,
  type MmWalkOps,
  type Pmd,
  type Vma,
} from '@pagewalk/core-walk';
import type { UffdWpAsyncQuery } from './uffd-wp-async-query.js';
import {
  PAGE_IS_FILE,
  PAGE_IS_GUARD,
  PAGE_IS_HUGE,
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PM_SCAN_BOUNCE_REGIONS,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
} from './uapi.js';

/** The huge page size the kernel compares against (HPAGE_SIZE, 2 MiB on x86-64). */
const HPAGE_SIZE = PMD_SIZE;
/** Internal: the THP was split, process its range at PTE level (the kernel's -ENOENT). */
const THP_SPLIT = -Errno.ENOENT;

/** struct pagemap_scan_private: the validated argument plus the walk's bookkeeping. */
export interface PagemapScanState {
  flags: number;
  /** Page-aligned end of the scan. */
  end: number;
  /** Where an early stop left the walk; 0 until one happens. */
  walkEnd: number;
  /** Regions the user vector can still take (decremented at every flush). */
  vecLen: number;
  /** Page budget; Infinity for "no limit" (max_pages 0). */
  maxPages: number;
  categoryInverted: number;
  categoryMask: number;
  categoryAnyofMask: number;
  returnMask: number;
  /** category_mask | anyof | return_mask: decides whether FILE (a page lookup) is computed. */
  masksOfInterest: number;
  /** Categories of the VMA being walked (WPALLOWED, SOFT_DIRTY). */
  curVmaCategory: number;
  curVmaWpAllowed: boolean;
  /** A bounce buffer exists (vec_len was not 0): the kernel's non-NULL vec_buf / vec_out. */
  hasBuffer: boolean;
  bufLen: number;
  bufIndex: number;
  bufStart: Float64Array;
  bufEnd: Float64Array;
  bufCategories: Uint16Array;
  foundPages: number;
  /** End of the last output after trimming (pagemap_scan_output's `*end`). */
  outEnd: number;
  /** The userfaultfd provider, null when no feature answers. */
  wpQuery: UffdWpAsyncQuery | null;
}

/** A fresh state; `bufLen` etc. are set by the driver. */
export function createPagemapScanState(): PagemapScanState {
  return {
    flags: 0,
    end: 0,
    walkEnd: 0,
    vecLen: 0,
    maxPages: Infinity,
    categoryInverted: 0,
    categoryMask: 0,
    categoryAnyofMask: 0,
    returnMask: 0,
    masksOfInterest: 0,
    curVmaCategory: 0,
    curVmaWpAllowed: false,
    hasBuffer: false,
    bufLen: 0,
    bufIndex: 0,
    bufStart: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
    bufEnd: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
    bufCategories: new Uint16Array(PM_SCAN_BOUNCE_REGIONS),
    foundPages: 0,
    outEnd: 0,
    wpQuery: null,
  };
}

type Walk = MmWalk<PagemapScanState>;

/* ------------------------------------------------------------ categories */

function isAnonFolio(frames: FramePool, pfn: number): boolean {
  return (frames.flags[frames.folioOf(pfn)]! & PG_ANON) !== 0;
}

/** pagemap_page_category, plus the 6.18.44 rule that an empty PTE in a table is WRITTEN. */
function pteCategory(p: PagemapScanState, frames: FramePool, pte: number): number {
  if (pte === 0) return PAGE_IS_WRITTEN;
  let categories: number;
  if (ptePresent(pte)) {
    categories = PAGE_IS_PRESENT;
    if (!pteUffdWp(pte)) categories |= PAGE_IS_WRITTEN;
    const pfn = ptePfn(pte);
    if ((p.masksOfInterest & PAGE_IS_FILE) !== 0 && !pteSpecial(pte) && !isAnonFolio(frames, pfn)) categories |= PAGE_IS_FILE;
    if (pfn === frames.zeroPfn) categories |= PAGE_IS_PFNZERO;
    if (pteSoftDirty(pte)) categories |= PAGE_IS_SOFT_DIRTY;
    return categories;
  }
  categories = PAGE_IS_SWAPPED;
  if (!pteSwpUffdWpAny(pte)) categories |= PAGE_IS_WRITTEN;
  if (isGuardPteMarker(pte)) categories |= PAGE_IS_GUARD;
  else if ((p.masksOfInterest & PAGE_IS_FILE) !== 0 && isPfnSwapEntry(pte) && !isAnonFolio(frames, swpOffset(pte))) categories |= PAGE_IS_FILE;
  if (pteSwpSoftDirty(pte)) categories |= PAGE_IS_SOFT_DIRTY;
  return categories;
}

/** pagemap_thp_category: a PMD-mapped THP (or huge zero page) or a PMD migration entry. */
function thpCategory(p: PagemapScanState, frames: FramePool, pmd: number): number {
  let categories = PAGE_IS_HUGE;
  if (ptePresent(pmd)) {
    categories |= PAGE_IS_PRESENT;
    if (!pteUffdWp(pmd)) categories |= PAGE_IS_WRITTEN;
    const pfn = ptePfn(pmd);
    if ((p.masksOfInterest & PAGE_IS_FILE) !== 0 && !pteSpecial(pmd) && !isAnonFolio(frames, pfn)) categories |= PAGE_IS_FILE;
    if ((frames.flags[pfn]! & PG_ZERO) !== 0) categories |= PAGE_IS_PFNZERO;
    if (pteSoftDirty(pmd)) categories |= PAGE_IS_SOFT_DIRTY;
  } else if (isSwapPte(pmd)) {
    categories |= PAGE_IS_SWAPPED;
    if (!pteSwpUffdWp(pmd)) categories |= PAGE_IS_WRITTEN;
    if (pteSwpSoftDirty(pmd)) categories |= PAGE_IS_SOFT_DIRTY;
    if ((p.masksOfInterest & PAGE_IS_FILE) !== 0 && isPfnSwapEntry(pmd) && !isAnonFolio(frames, swpOffset(pmd))) categories |= PAGE_IS_FILE;
  }
  return categories;
}

/** pagemap_hugetlb_category: FILE is always computed for present pages, never for swap-type ones. */
function hugetlbCategory(frames: FramePool, pte: number): number {
  let categories = PAGE_IS_HUGE;
  if (ptePresent(pte)) {
    categories |= PAGE_IS_PRESENT;
    if (!pteUffdWp(pte)) categories |= PAGE_IS_WRITTEN;
    const pfn = ptePfn(pte);
    if (!isAnonFolio(frames, pfn)) categories |= PAGE_IS_FILE;
    if (pfn === frames.zeroPfn) categories |= PAGE_IS_PFNZERO;
    if (pteSoftDirty(pte)) categories |= PAGE_IS_SOFT_DIRTY;
  } else if (isSwapPte(pte)) {
    categories |= PAGE_IS_SWAPPED;
    if (!pteSwpUffdWpAny(pte)) categories |= PAGE_IS_WRITTEN;
    if (pteSwpSoftDirty(pte)) categories |= PAGE_IS_SOFT_DIRTY;
  }
  return categories;
}

/* ----------------------------------------------------------------- masks */

function isInterestingPage(categories: number, p: PagemapScanState): boolean {
  categories ^= p.categoryInverted;
  if ((categories & p.categoryMask) !== p.categoryMask) return false;
  if (p.categoryAnyofMask !== 0 && (categories & p.categoryAnyofMask) === 0) return false;
  return true;
}

/** Only WPALLOWED is known per VMA, so only it is filtered there. */
function isInterestingVma(categories: number, p: PagemapScanState): boolean {
  const required = p.categoryMask & PAGE_IS_WPALLOWED;
  return ((categories ^ p.categoryInverted) & required) === required;
}

/* ---------------------------------------------------------------- output */

/** pagemap_scan_push_range: extend the current region or start a new one; false when the buffer is full. */
function pushRange(p: PagemapScanState, categories: number, addr: number, end: number): boolean {
  let index = p.bufIndex;
  if (addr === p.bufEnd[index] && categories === p.bufCategories[index]) {
    p.bufEnd[index] = end;
    return true;
  }
  if (p.bufEnd[index] !== 0) {
    if (index >= p.bufLen - 1) return false;
    index = ++p.bufIndex;
  }
  p.bufStart[index] = addr;
  p.bufEnd[index] = end;
  p.bufCategories[index] = categories;
  return true;
}

/**
 * pagemap_scan_output: reports [addr, end) with `categories`, trimmed to
 * the max_pages budget and to the buffer. Returns 0 or -ENOSPC (early stop,
 * walkEnd set); the possibly trimmed end is left in `p.outEnd`.
 */
function scanOutput(p: PagemapScanState, categories: number, addr: number, end: number): number {
  p.outEnd = end;
  if (!p.hasBuffer) return 0;
  categories &= p.returnMask;
  let pages = (end - addr) / PAGE_SIZE;
  let ret = 0;
  const total = p.foundPages + pages;
  if (total > p.maxPages) {
    const tooMuch = total - p.maxPages;
    end -= tooMuch * PAGE_SIZE;
    pages -= tooMuch;
    ret = -Errno.ENOSPC;
  }
  if (!pushRange(p, categories, addr, end)) {
    end = addr;
    pages = 0;
    ret = -Errno.ENOSPC;
  }
  p.foundPages += pages;
  if (ret !== 0) p.walkEnd = end;
  p.outEnd = end;
  return ret;
}

/** pagemap_scan_backout_range: takes back the output of [addr, end) before it is redone at PTE level. */
function backoutRange(p: PagemapScanState, addr: number, end: number): void {
  if (!p.hasBuffer) return;
  const index = p.bufIndex;
  if (p.bufStart[index] !== addr) {
    p.bufEnd[index] = addr;
  } else {
    p.bufStart[index] = 0;
    p.bufEnd[index] = 0;
  }
  p.foundPages -= (end - addr) / PAGE_SIZE;
}

/* ---------------------------------------------------------- write-protect */

/** make_uffd_wp_pte: present → uffd-wp bit (and read-only), swap-type → swap uffd-wp bit, none → marker. */
function uffdWpPte(pte: number): number {
  if (ptePresent(pte)) return pteMkuffdWp(pte);
  if (pte !== 0) return pteSwpMkuffdWp(pte);
  return makeUffdWpMarker();
}

/** Already write-protected for userfaultfd (skipped by both fast paths). */
function isUffdWpProtected(pte: number): boolean {
  return ptePresent(pte) ? pteUffdWp(pte) : pteSwpUffdWpAny(pte);
}

/**
 * uffd_wp_range(vma, start, len, true) over a range without page tables:
 * the tables are allocated and every page gets an uffd-wp marker (a
 * hugetlb VMA gets one marker per huge page). Returns 0.
 */
function uffdWpHoleRange(mm: Mm, vma: Vma, start: number, end: number): number {
  const tables = mm.kernel.tables;
  let next: number;
  if (vma.isHugetlb) {
    for (let addr = Math.floor(start / HPAGE_SIZE) * HPAGE_SIZE; addr < end; addr += HPAGE_SIZE) {
      const slot = mm.pmdSlot(addr, true);
      if (slot >= 0 && tables.entries[slot] === 0) tables.entries[slot] = makeUffdWpMarker();
    }
    return 0;
  }
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const slot = mm.pteSlot(addr, true);
    if (slot < 0) continue;
    const entries = tables.entries;
    const count = (next - addr) / PAGE_SIZE;
    for (let i = 0; i < count; i++) if (entries[slot + i] === 0) entries[slot + i] = makeUffdWpMarker();
  }
  return 0;
}

/* ------------------------------------------------------------- callbacks */

/** userfaultfd_wp_async(vma) && userfaultfd_wp_use_markers(vma). */
export function vmaWpAllowed(query: UffdWpAsyncQuery | null, vma: Vma): boolean {
  return query !== null && (vma.flags & VM_UFFD_WP) !== 0 && query.isWpAsync(vma) && query.useMarkers(vma);
}

/** pagemap_scan_test_walk. */
function pagemapScanTestWalk(_start: number, _end: number, walk: Walk): number {
  const p = walk.state;
  const vma = walk.vma!;
  const wpAllowed = vmaWpAllowed(p.wpQuery, vma);
  if (!wpAllowed) {
    if ((p.flags & PM_SCAN_CHECK_WPASYNC) !== 0) return -Errno.EPERM;
    if ((p.flags & PM_SCAN_WP_MATCHING) !== 0) return 1;
  }
  if ((vma.flags & VM_PFNMAP) !== 0) return 1;
  let category = 0;
  if (wpAllowed) category |= PAGE_IS_WPALLOWED;
  if ((vma.flags & VM_SOFTDIRTY) !== 0) category |= PAGE_IS_SOFT_DIRTY;
  if (!isInterestingVma(category, p)) return 1;
  p.curVmaCategory = category;
  p.curVmaWpAllowed = wpAllowed;
  return 0;
}

/** pagemap_scan_thp_entry: a PMD leaf or PMD migration entry. Returns THP_SPLIT after splitting. */
function pagemapScanThpEntry(pmd: number, start: number, end: number, walk: Walk): number {
  const p = walk.state;
  const frames = walk.mm.kernel.frames;
  const categories = p.curVmaCategory | thpCategory(p, frames, pmd);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, start, end);
  end = p.outEnd;
  if (start === end) return ret;
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0 || (categories & PAGE_IS_WRITTEN) === 0) return ret;
  if (end !== start + HPAGE_SIZE) {
    // Only part of the huge page matched: split it and redo the range per PTE.
    walk.mm.splitHugePmd(walk.vma!, walk.slot, start);
    backoutRange(p, start, end);
    return THP_SPLIT;
  }
  if (ptePresent(pmd)) setEntry(walk, pteMkuffdWp(pmd));
  else if (isMigrationEntry(pmd)) setEntry(walk, pteSwpMkuffdWp(pmd));
  return ret;
}

/** pagemap_scan_pmd_entry, PMD part: huge entries here; page tables go to pteBatch. */
function pagemapScanPmdEntry(pmd: Pmd, start: number, end: number, walk: Walk): number {
  if (pmdLeaf(pmd) || isSwapPte(pmd)) {
    const ret = pagemapScanThpEntry(pmd, start, end, walk);
    if (ret !== THP_SPLIT) {
      walk.action = WalkAction.Continue;
      return ret;
    }
    // Split: the walker now finds a page table and hands it to pteBatch.
    walk.action = WalkAction.Subtree;
  }
  return 0;
}

/** pagemap_scan_pmd_entry, PTE part: the two write-protect fast paths and the general loop. */
function pagemapScanPteBatch(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  const p = walk.state;
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0;
  const last = first + count;

  if (wp && !p.hasBuffer) {
    // Fast path A: exclusive write-protect, masks not consulted per PTE.
    for (let i = first; i < last; i++) {
      const pte = entries[i]!;
      if (!isUffdWpProtected(pte)) entries[i] = uffdWpPte(pte);
    }
    return 0;
  }

  let ret = 0;
  let addr = start;
  if (p.categoryAnyofMask === 0 && p.categoryInverted === 0 && p.categoryMask === PAGE_IS_WRITTEN && p.returnMask === PAGE_IS_WRITTEN) {
    // Fast path B: "written" pages only; an empty PTE counts as written.
    const categories = p.curVmaCategory | PAGE_IS_WRITTEN;
    for (let i = first; i < last; i++, addr += PAGE_SIZE) {
      const pte = entries[i]!;
      if (isUffdWpProtected(pte)) continue;
      const next = addr + PAGE_SIZE;
      // Inline extension of the current region (the common case).
      const index = p.bufIndex;
      if (p.hasBuffer && addr === p.bufEnd[index] && p.foundPages < p.maxPages && (categories & p.returnMask) === p.bufCategories[index]) {
        p.bufEnd[index] = next;
        p.foundPages++;
      } else {
        ret = scanOutput(p, categories, addr, next);
        if (p.outEnd === addr) break;
      }
      if (wp) entries[i] = uffdWpPte(pte);
    }
    return ret;
  }

  const frames = walk.mm.kernel.frames;
  for (let i = first; i < last; i++, addr += PAGE_SIZE) {
    const pte = entries[i]!;
    const categories = p.curVmaCategory | pteCategory(p, frames, pte);
    if (!isInterestingPage(categories, p)) continue;
    const next = addr + PAGE_SIZE;
    const index = p.bufIndex;
    if (p.hasBuffer && addr === p.bufEnd[index] && p.foundPages < p.maxPages && (categories & p.returnMask) === p.bufCategories[index]) {
      p.bufEnd[index] = next;
      p.foundPages++;
    } else {
      ret = scanOutput(p, categories, addr, next);
      if (p.outEnd === addr) break;
    }
    if (!wp || (categories & PAGE_IS_WRITTEN) === 0) continue;
    entries[i] = uffdWpPte(pte);
  }
  return ret;
}

/** pagemap_scan_hugetlb_entry: one hugetlb page (clipped to the range). */
function pagemapScanHugetlbEntry(pte: Pmd, _hmask: number, start: number, end: number, walk: Walk): number {
  const p = walk.state;
  const categories = p.curVmaCategory | hugetlbCategory(walk.mm.kernel.frames, pte);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, start, end);
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0) return ret;
  end = p.outEnd;
  if (start === end) return ret;
  if ((categories & PAGE_IS_WRITTEN) === 0) return ret;
  if (end !== start + HPAGE_SIZE) {
    // A hugetlb page cannot be write-protected in part: leave it out, not an error.
    backoutRange(p, start, end);
    p.walkEnd = start;
    return 0;
  }
  // make_uffd_wp_huge_pte: hwpoison and markers stay as they are.
  if (isHwpoisonEntry(pte) || isPteMarker(pte)) return ret;
  if (isMigrationEntry(pte)) setEntry(walk, pteSwpMkuffdWp(pte));
  else if (pte !== 0) setEntry(walk, pteMkuffdWp(pte));
  else setEntry(walk, makeUffdWpMarker());
  return ret;
}

/**
 * pagemap_scan_pte_hole: a range without page tables. Outside VMAs it is
 * never reported. Inside, it carries the VMA's categories, and WRITTEN in
 * a WP-async VMA (not hugetlb) as the 6.18.44 kernel reports it.
 */
function pagemapScanPteHole(addr: number, end: number, _depth: number, walk: Walk): number {
  const p = walk.state;
  const vma = walk.vma;
  if (vma === null) return 0;
  const categories = p.curVmaCategory | (p.curVmaWpAllowed && !vma.isHugetlb ? PAGE_IS_WRITTEN : 0);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, addr, end);
  end = p.outEnd;
  if (addr === end) return ret;
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0) return ret;
  const err = uffdWpHoleRange(walk.mm, vma, addr, end);
  return err < 0 ? err : ret;
}

/** The PAGEMAP_SCAN walk ops (pagemap_scan_ops). */
export const pagemapScanWalkOps: MmWalkOps<PagemapScanState> = {
  testWalk: pagemapScanTestWalk,
  pmdEntry: pagemapScanPmdEntry,
  pteBatch: pagemapScanPteBatch,
  pteHole: pagemapScanPteHole,
  hugetlbEntry: pagemapScanHugetlbEntry,
  walkLock: WalkLock.Read,
};
