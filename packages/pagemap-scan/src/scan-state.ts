/**
 * PAGEMAP_SCAN's walk state (fs/proc/task_mmu.c: struct
 * pagemap_scan_private), the page categories, the masks and the output
 * side: pagemap_scan_output into the bounce buffer and its flush to the
 * user vector.
 *
 * What the kernel finds elsewhere (the userfaultfd provider, the
 * out-parameter of pagemap_scan_output, do_pagemap_scan's region count)
 * and the fast PTE loop's cache live in a ScanEnv, one per kernel, hung on
 * the state: nothing here is module-global.
 */
import {
  Errno,
  PAGE_SIZE,
  PG_ANON,
  PG_ZERO,
  PTE_FLAG_BYTE_VALUES,
  PTRS_PER_TABLE,
  isGuardPteMarker,
  isPfnSwapEntry,
  isSwapPte,
  ptePfn,
  ptePresent,
  pteSoftDirty,
  pteSpecial,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteSwpUffdWpAny,
  pteUffdWp,
  swpOffset,
  type ReadonlyFramePool,
  type MmWalk,
  type UffdWpRange,
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
} from './uapi.js';

/**
 * PAGE_SIZE for the hot paths. An imported binding is read through its
 * module cell (a load and a hole check at every use, and a real division
 * where it divides); a const of this module is folded into the compiled
 * code (x / 4096 becomes a multiplication).
 */
export const PAGE_BYTES = PAGE_SIZE;

/** Where flushed regions go: the simulated user vector (PageRegionVec is one). */
export interface RegionSink {
  /** Regions it holds. */
  length: number;
  starts: Float64Array;
  ends: Float64Array;
  categories: Uint16Array;
  /** Makes room for `count` more regions (may replace the arrays). */
  reserve(count: number): void;
}

/**
 * The bounce buffer (the kernel's vec_buf): the slots from `base` on of
 * these arrays. During a scan they are the user vector's own arrays
 * (bindScanBuffer), so a flush only moves the window: the regions already
 * lie where copy_to_user would put them.
 */
export interface ScanBounceBuffer {
  starts: Float64Array;
  ends: Float64Array;
  categories: Uint16Array;
  base: number;
}

/**
 * The simulator's side of a scan, not part of pagemap_scan_private: what
 * the kernel gets from elsewhere, and the fast PTE loop's cache. One per
 * kernel (pagemap-scan.ts, scanStateOf), reused by every scan on it.
 */
export interface ScanEnv {
  /** The userfaultfd query (userfaultfd_wp_async, userfaultfd_wp_use_markers); null without a provider. */
  wpQuery: UffdWpAsyncQuery | null;
  /** The write-protect operations of WP_MATCHING (core-walk's UffdWpRange); null without a provider. */
  wp: UffdWpRange | null;
  /** pagemap_scan_output's `*end` out-parameter: the end of the last output after trimming. */
  outEnd: number;
  /** do_pagemap_scan's n_ranges_out: regions flushed to the user vector so far. */
  rangesOut: number;
  /** The bounce buffer's storage (vec_buf points at it while a buffer exists). */
  readonly buffer: ScanBounceBuffer;
  /**
   * The fast PTE loop's per-flag-byte decisions (scan-pte.ts,
   * buildCategoryTable), valid for `catTableKey` (catArgsKey * 512 + the
   * VMA's categories; -1: none). `catArgsKey` packs the scan's masks and
   * WP_MATCHING (set per scan), `catNone` is the decision for a none PTE.
   */
  readonly catTable: Int32Array;
  catTableKey: number;
  catArgsKey: number;
  catNone: number;
  /**
   * Pages of the current PTE slice to write-protect, as [from, to) page
   * offset pairs from the slice's start, handed to `wp.wpPtes` once the
   * slice is done. At most one run per two pages: 512 pairs is room enough.
   */
  readonly wpRuns: Int32Array;
  wpRunCount: number;
}

/** struct pagemap_scan_private: the validated argument, the VMA's categories and the bounce buffer. */
export interface PagemapScanState {
  /* struct pm_scan_arg, as pagemap_scan_get_args leaves it. */
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
  /** masks_of_interest: category_mask | anyof | return_mask (decides whether FILE, a page lookup, is computed). */
  masksOfInterest: number;
  /** cur_vma_category: WPALLOWED, SOFT_DIRTY of the VMA being walked. */
  curVmaCategory: number;
  /** vec_buf: null when vec_len is 0. */
  vecBuf: ScanBounceBuffer | null;
  /** vec_buf_len: slots in the buffer's window. */
  vecBufLen: number;
  /** vec_buf_index: the current region's slot, as an index into vecBuf's arrays (the window starts at vecBuf.base). */
  vecBufIndex: number;
  /** found_pages */
  foundPages: number;
  /** vec_out: the user vector regions are flushed to (null outside a scan). */
  vecOut: RegionSink | null;
  /** Not the kernel's: see ScanEnv. */
  readonly env: ScanEnv;
}

export type Walk = MmWalk<PagemapScanState>;

/** A ScanEnv with no provider and an own bounce buffer. */
export function createScanEnv(wpQuery: UffdWpAsyncQuery | null, wp: UffdWpRange | null): ScanEnv {
  return {
    wpQuery,
    wp,
    outEnd: 0,
    rangesOut: 0,
    buffer: {
      starts: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
      ends: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
      categories: new Uint16Array(PM_SCAN_BOUNCE_REGIONS),
      base: 0,
    },
    catTable: new Int32Array(PTE_FLAG_BYTE_VALUES),
    catTableKey: -1,
    catArgsKey: 0,
    catNone: 0,
    wpRuns: new Int32Array(2 * PTRS_PER_TABLE),
    wpRunCount: 0,
  };
}

/** A fresh state (no buffer, no provider unless `env` brings one); the driver fills in the rest. */
export function createPagemapScanState(env: ScanEnv = createScanEnv(null, null)): PagemapScanState {
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
    vecBuf: null,
    vecBufLen: 0,
    vecBufIndex: 0,
    foundPages: 0,
    vecOut: null,
    env,
  };
}

/* ------------------------------------------------------------ categories */

function isAnonFolio(frames: ReadonlyFramePool, pfn: number): boolean {
  return (frames.flags[frames.folioOf(pfn)]! & PG_ANON) !== 0;
}

/** pagemap_page_category, plus the 6.18.44 rule that an empty PTE in a table is WRITTEN. */
export function pteCategory(p: PagemapScanState, frames: ReadonlyFramePool, pte: number): number {
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
export function thpCategory(p: PagemapScanState, frames: ReadonlyFramePool, pmd: number): number {
  let categories = PAGE_IS_HUGE;
  if (ptePresent(pmd)) {
    categories |= PAGE_IS_PRESENT;
    if (!pteUffdWp(pmd)) categories |= PAGE_IS_WRITTEN;
    const pfn = ptePfn(pmd);
    if ((p.masksOfInterest & PAGE_IS_FILE) !== 0 && !pteSpecial(pmd) && !isAnonFolio(frames, pfn)) categories |= PAGE_IS_FILE;
    // is_huge_zero_pmd. Looked up only when PFNZERO can matter: a category
    // outside the masks of interest never changes the result.
    if ((p.masksOfInterest & PAGE_IS_PFNZERO) !== 0 && (frames.flags[pfn]! & PG_ZERO) !== 0) categories |= PAGE_IS_PFNZERO;
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
export function hugetlbCategory(frames: ReadonlyFramePool, pte: number): number {
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

/** pagemap_scan_is_interesting_page */
export function isInterestingPage(categories: number, p: PagemapScanState): boolean {
  categories ^= p.categoryInverted;
  if ((categories & p.categoryMask) !== p.categoryMask) return false;
  if (p.categoryAnyofMask !== 0 && (categories & p.categoryAnyofMask) === 0) return false;
  return true;
}

/** pagemap_scan_is_interesting_vma: only WPALLOWED is known per VMA, so only it is filtered there. */
export function isInterestingVma(categories: number, p: PagemapScanState): boolean {
  const required = p.categoryMask & PAGE_IS_WPALLOWED;
  return ((categories ^ p.categoryInverted) & required) === required;
}

/* ---------------------------------------------------------------- output */

/** pagemap_scan_push_range: extend the current region or start a new one; false when the buffer is full. */
function pushRange(p: PagemapScanState, buf: ScanBounceBuffer, categories: number, addr: number, end: number): boolean {
  let index = p.vecBufIndex;
  if (addr === buf.ends[index] && categories === buf.categories[index]) {
    buf.ends[index] = end;
    return true;
  }
  if (buf.ends[index] !== 0) {
    if (index >= buf.base + p.vecBufLen - 1) return false;
    index = ++p.vecBufIndex;
  }
  buf.starts[index] = addr;
  buf.ends[index] = end;
  buf.categories[index] = categories;
  return true;
}

/**
 * pagemap_scan_output: reports [addr, end) with `categories`, trimmed to
 * the max_pages budget and to the buffer. Returns 0 or -ENOSPC (early stop,
 * walkEnd set); the possibly trimmed end is left in `p.env.outEnd`.
 */
export function scanOutput(p: PagemapScanState, categories: number, addr: number, end: number): number {
  const env = p.env;
  env.outEnd = end;
  const buf = p.vecBuf;
  if (buf === null) return 0;
  categories &= p.returnMask;
  let pages = (end - addr) / PAGE_BYTES;
  let ret = 0;
  const total = p.foundPages + pages;
  if (total > p.maxPages) {
    const tooMuch = total - p.maxPages;
    end -= tooMuch * PAGE_BYTES;
    pages -= tooMuch;
    ret = -Errno.ENOSPC;
  }
  if (!pushRange(p, buf, categories, addr, end)) {
    end = addr;
    pages = 0;
    ret = -Errno.ENOSPC;
  }
  p.foundPages += pages;
  if (ret !== 0) p.walkEnd = end;
  env.outEnd = end;
  return ret;
}

/**
 * Places the bounce buffer right after the regions `p.vecOut` holds: the
 * window of vecBufLen slots (at least one, which a scan with an exhausted
 * vector never writes).
 */
export function bindScanBuffer(p: PagemapScanState): void {
  const sink = p.vecOut!;
  const buf = p.env.buffer;
  sink.reserve(Math.max(p.vecBufLen, 1));
  buf.starts = sink.starts;
  buf.ends = sink.ends;
  buf.categories = sink.categories;
  buf.base = sink.length;
  p.vecBuf = buf;
  p.vecBufIndex = buf.base;
}

/**
 * pagemap_scan_flush_buffer: hands the bounce buffer's regions to the user
 * vector (the current one counts unless it is empty) and starts an empty
 * buffer after them, no longer than the vector's remaining room. Only the
 * first slot's start and end are cleared, as the kernel clears them.
 * Returns the number of regions flushed.
 */
export function flushScanBuffer(p: PagemapScanState): number {
  const buf = p.vecBuf;
  if (buf === null) return 0;
  let n = p.vecBufIndex - buf.base;
  if (buf.ends[p.vecBufIndex] !== buf.starts[p.vecBufIndex]) n++;
  if (n === 0) return 0;
  p.vecOut!.length += n;
  p.vecLen -= n;
  p.env.rangesOut += n;
  p.vecBufLen = Math.min(p.vecBufLen, p.vecLen);
  bindScanBuffer(p);
  buf.starts[buf.base] = 0;
  buf.ends[buf.base] = 0;
  return n;
}

/** pagemap_scan_backout_range: takes back the output of [addr, end) before it is redone at PTE level. */
export function backoutRange(p: PagemapScanState, addr: number, end: number): void {
  const buf = p.vecBuf;
  if (buf === null) return;
  const index = p.vecBufIndex;
  if (buf.starts[index] !== addr) {
    buf.ends[index] = addr;
  } else {
    buf.starts[index] = 0;
    buf.ends[index] = 0;
  }
  p.foundPages -= (end - addr) / PAGE_BYTES;
}

/* ---------------------------------------------------------- write-protect */

/** Adds pages [from, to) (offsets in the current PTE slice) to the slice's write-protect runs. */
export function addWpRun(env: ScanEnv, from: number, to: number): void {
  const runs = env.wpRuns;
  const n = env.wpRunCount;
  if (n !== 0 && runs[2 * n - 1] === from) {
    runs[2 * n - 1] = to;
    return;
  }
  runs[2 * n] = from;
  runs[2 * n + 1] = to;
  env.wpRunCount = n + 1;
}

/**
 * make_uffd_wp_pte on the runs collected for the slice starting at `addr`,
 * through the provider (nothing without one), and empties the list.
 */
export function applyWpRuns(p: PagemapScanState, walk: Walk, addr: number): void {
  const env = p.env;
  const count = env.wpRunCount;
  env.wpRunCount = 0;
  if (env.wp !== null) env.wp.wpPtes(walk.mm, walk.vma!, addr, env.wpRuns, count);
}
