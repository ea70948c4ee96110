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
/**
 * PAGE_SIZE for the hot paths. An imported binding is read through its
 * module cell (a load and a hole check at every use, and a real division
 * where it divides); a const of this module is folded into the compiled
 * code (x / 4096 becomes a multiplication).
 */
const PAGE_BYTES = PAGE_SIZE;
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
  /**
   * The bounce buffer is a window of `bufLen` slots of these arrays,
   * starting at `bufBase` (0 for a state's own arrays); `bufIndex`, the
   * current region, is an absolute index. While a scan runs the
   * arrays are the user vector's (see bindScanBuffer), so a flush only
   * moves the window: the regions are already where copy_to_user would
   * put them.
   */
  bufLen: number;
  bufBase: number;
  bufIndex: number;
  bufStart: Float64Array;
  bufEnd: Float64Array;
  bufCategories: Uint16Array;
  /** The user vector regions are flushed to (null outside a scan). */
  sink: RegionSink | null;
  /** Regions flushed to the user vector so far (do_pagemap_scan's n_ranges_out). */
  rangesOut: number;
  foundPages: number;
  /** End of the last output after trimming (pagemap_scan_output's `*end`). */
  outEnd: number;
  /** The userfaultfd provider, null when no feature answers. */
  wpQuery: UffdWpAsyncQuery | null;
  /**
   * The decisions of the per-flag-byte table (CAT_TABLE, see
   * buildCategoryTable) depend only on the masks, WP_MATCHING and the
   * VMA's categories: `catArgsKey` packs the first two (set per scan).
   * `catNone` is this state's decision for an empty PTE.
   */
  catArgsKey: number;
  catNone: number;
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
    bufBase: 0,
    bufIndex: 0,
    bufStart: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
    bufEnd: new Float64Array(PM_SCAN_BOUNCE_REGIONS),
    bufCategories: new Uint16Array(PM_SCAN_BOUNCE_REGIONS),
    sink: null,
    rangesOut: 0,
    foundPages: 0,
    outEnd: 0,
    wpQuery: null,
    catArgsKey: -1,
    catNone: 0,
  };
}

type Walk = MmWalk<PagemapScanState>;

/* ------------------------------------------------------------ categories */

function isAnonFolio(frames: FramePool, pfn: number): boolean {
  return (frames.flags[frames.folioOf(pfn)]! & PG_ANON) !== 0;
}

/** pagemap_page_category, plus the 6.18.44 rule that an empty PTE in a table is WRITTEN. */
export function pteCategory(p: PagemapScanState, frames: FramePool, pte: number): number {
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

export function isInterestingPage(categories: number, p: PagemapScanState): boolean {
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
    if (index >= p.bufBase + p.bufLen - 1) return false;
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
export function scanOutput(p: PagemapScanState, categories: number, addr: number, end: number): number {
  p.outEnd = end;
  if (!p.hasBuffer) return 0;
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
 * Places the bounce buffer right after the regions `p.sink` holds: the
 * window of bufLen slots (at least one, which a scan with an exhausted
 * vector never writes).
 */
export function bindScanBuffer(p: PagemapScanState): void {
  const sink = p.sink!;
  sink.reserve(Math.max(p.bufLen, 1));
  p.bufStart = sink.starts;
  p.bufEnd = sink.ends;
  p.bufCategories = sink.categories;
  p.bufBase = sink.length;
  p.bufIndex = p.bufBase;
}

/**
 * pagemap_scan_flush_buffer: hands the bounce buffer's regions to the user
 * vector (the current one counts unless it is empty) and starts an empty
 * buffer after them, no longer than the vector's remaining room. Only the
 * first slot's start and end are cleared, as the kernel clears them.
 * Returns the number of regions flushed.
 */
export function flushScanBuffer(p: PagemapScanState): number {
  if (!p.hasBuffer) return 0;
  let n = p.bufIndex - p.bufBase;
  if (p.bufEnd[p.bufIndex] !== p.bufStart[p.bufIndex]) n++;
  if (n === 0) return 0;
  p.sink!.length += n;
  p.vecLen -= n;
  p.rangesOut += n;
  p.bufLen = Math.min(p.bufLen, p.vecLen);
  bindScanBuffer(p);
  p.bufStart[p.bufBase] = 0;
  p.bufEnd[p.bufBase] = 0;
  return n;
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
  p.foundPages -= (end - addr) / PAGE_BYTES;
}

/* ---------------------------------------------------------- write-protect */

/** make_uffd_wp_pte: present → uffd-wp bit (and read-only), swap-type → swap uffd-wp bit, none → marker. */
export function uffdWpPte(pte: number): number {
  if (ptePresent(pte)) return pteMkuffdWp(pte);
  if (pte !== 0) return pteSwpMkuffdWp(pte);
  return makeUffdWpMarker();
}

/** Already write-protected for userfaultfd (skipped by the exclusive write-protect loop). */
export function isUffdWpProtected(pte: number): boolean {
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
    // eslint-disable-next-line no-restricted-syntax -- read after pteSlot allocated; the loop below allocates nothing
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
  if (!categoryTableFits(p, category)) buildCategoryTable(p, walk.mm.kernel.frames);
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

/* ------------------------------------------------ per-PTE decision table */

/** Decision bits: the low 16 bits are `categories & returnMask`; see also T_WP_XOR_SHIFT. */
const T_CATEGORIES = 0xffff;
/** The page is not interesting (masks): skipped. */
const T_SKIP = 1 << 16;
/** WP_MATCHING is set and the page's categories include WRITTEN: write-protect it once reported. */
const T_WRITE_PROTECT = 1 << 17;
/** The flag byte does not decide the categories: classify the whole entry. */
const T_SLOW = 1 << 18;
const PTE_FLAG_BYTE = 0xff;
/**
 * Table decisions with T_WRITE_PROTECT carry, from this bit on, what
 * uffdWpPte flips in the flag byte (never 0: it sets the uffd-wp bit, and
 * only the flag byte changes for an entry decided by its flag byte).
 */
const T_WP_XOR_SHIFT = 19;

/**
 * The per-flag-byte decisions for the VMA being walked. One table for the
 * module, not one per state: a module constant is known to the compiled
 * PTE loop, which then reads it without checking what it is at every
 * entry. `catTableKey` is the key it was built for (catArgsKey * 512 + the
 * VMA's categories; -1: none) and `catTableOwner` the state it was built
 * for (whose catNone goes with it), so repeated scans reuse it.
 */
const CAT_TABLE = new Int32Array(256);
let catTableKey = -1;
let catTableOwner: PagemapScanState | null = null;

/** CAT_TABLE holds `p`'s decisions for a VMA of `vmaCategory`. */
function categoryTableFits(p: PagemapScanState, vmaCategory: number): boolean {
  return catTableOwner === p && catTableKey === p.catArgsKey * 512 + vmaCategory;
}

/** The decision for a page of `categories` (VMA categories included). */
export function pteDecision(p: PagemapScanState, categories: number): number {
  if (!isInterestingPage(categories, p)) return T_SKIP;
  const protect = (p.flags & PM_SCAN_WP_MATCHING) !== 0 && (categories & PAGE_IS_WRITTEN) !== 0;
  return (categories & p.returnMask) | (protect ? T_WRITE_PROTECT : 0);
}

/**
 * Fills CAT_TABLE for the current VMA's categories: for each flag byte,
 * the decision shared by every entry with that byte, or T_SLOW where the
 * rest of the entry matters — a present entry when FILE or PFNZERO is of
 * interest (a frame lookup / the pfn), a PTE marker (its bits are in the
 * offset), a pfn-carrying swap entry when FILE is of interest, and byte 0
 * (none, or a type-0 swap entry without flags). Categories outside
 * category_mask | anyof | return_mask never change a decision, so the
 * byte's representative entry (offset 1) gives the right answer — and the
 * table does not depend on the frames (FILE and PFNZERO entries are slow).
 */
function buildCategoryTable(p: PagemapScanState, frames: FramePool): void {
  const table = CAT_TABLE;
  const vmaCategory = p.curVmaCategory;
  const wantFile = (p.masksOfInterest & PAGE_IS_FILE) !== 0;
  const wantZero = (p.masksOfInterest & PAGE_IS_PFNZERO) !== 0;
  table[0] = T_SLOW;
  for (let byte = 1; byte <= PTE_FLAG_BYTE; byte++) {
    const pte = byte + 256;
    let slow: boolean;
    if (ptePresent(pte)) slow = wantFile || wantZero;
    else slow = isPteMarker(pte) || (wantFile && isPfnSwapEntry(pte));
    let decision = slow ? T_SLOW : pteDecision(p, vmaCategory | pteCategory(p, frames, pte));
    if ((decision & T_WRITE_PROTECT) !== 0) decision |= ((uffdWpPte(pte) ^ pte) & PTE_FLAG_BYTE) << T_WP_XOR_SHIFT;
    table[byte] = decision;
  }
  const none = pteDecision(p, vmaCategory | pteCategory(p, frames, 0));
  // Write-protecting an empty PTE installs a marker, not a flag-byte flip: the slow path does it.
  p.catNone = (none & T_WRITE_PROTECT) !== 0 ? T_SLOW : none;
  catTableKey = p.catArgsKey * 512 + vmaCategory;
  catTableOwner = p;
}

/**
 * pagemap_scan_pmd_entry, PTE part. Same results as classifying and
 * outputting PTE by PTE through scanOutput (pteBatchPerPage below, which
 * scan-reference.ts also uses), with the common case cut down to a table
 * lookup per entry: the decision comes from the entry's flag byte (see
 * buildCategoryTable). A region that goes on takes the entries after it
 * with the same decision as one run.
 *
 * Everything else leaves the fast loop for `generalPage`: an entry the
 * table cannot decide, a limit (max_pages, a full bounce buffer). The fast
 * loop itself makes no call, so the JIT keeps its arrays and counters in
 * registers.
 */
function pagemapScanPteBatch(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  // Parameters are untyped to the JIT: `| 0` and unary `+` make the loop
  // variables derived from them plain integers and doubles (about 40 % of
  // this loop's time otherwise goes to checks and conversions).
  first |= 0;
  count |= 0;
  start = +start;
  const p = walk.state;
  const last = first + count;

  if (!p.hasBuffer) {
    // Nothing is reported; only an exclusive write-protect (fast path A) has work to do.
    if ((p.flags & PM_SCAN_WP_MATCHING) !== 0) writeProtectAll(entries, first, last);
    return 0;
  }

  // pagemapScanTestWalk builds the table for each VMA: a call here, taken
  // once per scan, would have no JIT feedback yet when this loop gets
  // optimized and would deoptimize it. (Kept as a safety net only.)
  if (!categoryTableFits(p, p.curVmaCategory)) buildCategoryTable(p, walk.mm.kernel.frames);
  // An empty current region whose end (0) falls in this slice: only for a
  // slice at address 0, where the kernel would extend that empty region.
  // The per-page loop reproduces that exactly.
  if (p.bufEnd[p.bufIndex] === 0 && slotOf(0, start, first, last) >= 0) return pteBatchPerPage(entries, first, count, start, walk);
  const table = CAT_TABLE;
  const noneDecision = p.catNone;
  // Every loop variable is a small integer: addresses are `(page0 + i) * PAGE_BYTES`,
  // computed where needed, never carried from one iteration to the next (a
  // double carried by a loop is boxed on every step whenever V8 cannot keep
  // it unboxed, e.g. in on-stack-replaced code after a deoptimization).
  /** Page number of entry 0 of the pool (a double: page0 + i never overflows, unlike i * PAGE_BYTES). */
  const page0 = start / PAGE_BYTES - first;
  let i = first;
  for (;;) {
    // The bounce buffer, in locals. `index` is the current region's slot,
    // or the slot before it while the buffer is empty (so that a new
    // region always goes to index + 1).
    const bufStart = p.bufStart;
    const bufEnd = p.bufEnd;
    const bufCategories = p.bufCategories;
    /** The window's last slot. */
    const bufLast = (p.bufBase + p.bufLen - 1) | 0;
    const base = p.bufIndex | 0;
    const empty = bufEnd[base] === 0;
    let index = empty ? base - 1 : base;
    let curCategories = bufCategories[base]!;
    /** The current region ends at entry `curEndSlot` of this slice (-1: elsewhere, so nothing here extends it). */
    let curEndSlot = empty ? -1 : slotOf(bufEnd[base]!, start, first, last);
    /** Pages this slice may still add under max_pages (at most 2^30: a slice has 512). */
    const room = pageRoom(p.maxPages, p.foundPages);
    let left = room;
    for (; i < last; i++) {
      const pte = entries[i]!;
      const decision = pte === 0 ? noneDecision : table[pte & PTE_FLAG_BYTE]!;
      if ((decision & (T_SKIP | T_SLOW)) !== 0) {
        if ((decision & T_SLOW) !== 0) break;
        continue;
      }
      if (left === 0) break;
      const categories = decision & T_CATEGORIES;
      if (i !== curEndSlot || categories !== curCategories) {
        // pagemap_scan_push_range: a new region after the current one.
        if (index >= bufLast) break;
        index++;
        const at = (page0 + i) * PAGE_BYTES;
        bufStart[index] = at;
        bufEnd[index] = at + PAGE_BYTES;
        bufCategories[index] = categories;
        curCategories = categories;
        curEndSlot = i + 1;
        left--;
        // WP_MATCHING: the table gives the flag-byte bits uffdWpPte flips.
        if ((decision & T_WRITE_PROTECT) !== 0) entries[i] = pte ^ ((decision >>> T_WP_XOR_SHIFT) & PTE_FLAG_BYTE);
        continue;
      }
      // The region goes on: so do the entries after this one with the
      // same decision (the same flag byte, or empty), taken as a run.
      let run = i + 1;
      if (pte === 0) {
        while (run < last && entries[run] === 0) run++;
      } else {
        const byte = pte & PTE_FLAG_BYTE;
        while (run < last && (entries[run]! & PTE_FLAG_BYTE) === byte) run++;
      }
      if (run - i > left) run = i + left;
      left -= run - i;
      curEndSlot = run;
      bufEnd[index] = (page0 + run) * PAGE_BYTES;
      if ((decision & T_WRITE_PROTECT) !== 0) {
        const flip = (decision >>> T_WP_XOR_SHIFT) & PTE_FLAG_BYTE;
        for (; i < run; i++) entries[i] = entries[i]! ^ flip;
      }
      i = run - 1;
    }
    // Back to the state: the current region and the pages added.
    p.bufIndex = index < base ? base : index;
    p.foundPages += room - left;
    if (i >= last) return 0;
    const ret = generalPage(p, walk, entries, i, (page0 + i) * PAGE_BYTES);
    if (ret < 0) return ret;
    i += ret;
  }
}

/**
 * One page the fast loop leaves alone, at entry `i` of `entries`, mapping
 * `addr`: classified in full and reported through scanOutput (which trims
 * it at max_pages or a full buffer), then write-protected if it matched.
 * Returns 1 (go on with the next entry), 0 (the bounce buffer was full and
 * has been flushed: try this entry again) or -ENOSPC (stop the walk).
 *
 * A full buffer is flushed here. The kernel ends the walk at this page
 * (-ENOSPC, walk_end = this page), flushes the buffer to the user vector
 * and walks again from this page; nothing between the two walks can change
 * what they see, so going on here gives the same regions, walk_end and
 * page tables. Without a user vector (a state driven by hand) the walk
 * stops as the kernel's does.
 */
function generalPage(p: PagemapScanState, walk: Walk, entries: Uint32Array, i: number, addr: number): number {
  const pte = entries[i]!;
  const decision = decisionOf(p, walk, pte);
  if ((decision & T_SKIP) !== 0) return 1;
  const ret = scanOutput(p, decision & T_CATEGORIES, addr, addr + PAGE_SIZE);
  if (p.outEnd === addr) {
    // Not reported: max_pages reached (stop), or the buffer is full.
    if (p.foundPages >= p.maxPages || p.sink === null) return ret;
    flushScanBuffer(p);
    return p.vecLen === 0 ? -Errno.ENOSPC : 0;
  }
  if ((decision & T_WRITE_PROTECT) !== 0) entries[i] = uffdWpPte(pte);
  return 1;
}

/** The exclusive write-protect of PM_SCAN_WP_MATCHING without a vector: every entry not yet protected. */
function writeProtectAll(entries: Uint32Array, first: number, last: number): void {
  for (let i = first; i < last; i++) {
    const pte = entries[i]!;
    if (!isUffdWpProtected(pte)) entries[i] = uffdWpPte(pte);
  }
}

/** The decision for one entry, from the table or, where it is T_SLOW, from the whole entry. */
function decisionOf(p: PagemapScanState, walk: Walk, pte: number): number {
  const decision = pte === 0 ? p.catNone : CAT_TABLE[pte & PTE_FLAG_BYTE]!;
  return (decision & T_SLOW) === 0 ? decision : pteDecision(p, p.curVmaCategory | pteCategory(p, walk.mm.kernel.frames, pte));
}

/**
 * The straightforward PTE loop: every PTE classified on its own and
 * reported through scanOutput, one page at a time, as
 * pagemap_scan_pmd_entry's general loop does. pagemapScanPteBatch must
 * give the same results (scan-equivalence.property.test.ts).
 */
export function pteBatchPerPage(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  const p = walk.state;
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0;
  const last = first + count;
  if (wp && !p.hasBuffer) {
    writeProtectAll(entries, first, last);
    return 0;
  }
  const frames = walk.mm.kernel.frames;
  let ret = 0;
  let addr = start;
  for (let i = first; i < last; i++, addr += PAGE_SIZE) {
    const pte = entries[i]!;
    const categories = p.curVmaCategory | pteCategory(p, frames, pte);
    if (!isInterestingPage(categories, p)) continue;
    ret = scanOutput(p, categories, addr, addr + PAGE_SIZE);
    if (p.outEnd === addr) break;
    if (wp && (categories & PAGE_IS_WRITTEN) !== 0) entries[i] = uffdWpPte(pte);
  }
  return ret;
}

/** max_pages - found as a small integer, capped at 2^30 (Infinity: no limit). */
function pageRoom(maxPages: number, found: number): number {
  const room = maxPages - found;
  return room > 0x40000000 ? 0x40000000 : room | 0;
}

/** The entry of the slice [first, last] at which `addr` falls, or -1. */
function slotOf(addr: number, start: number, first: number, last: number): number {
  // Slot indexes times PAGE_SIZE overflow 32 bits; offsets within a slice do not.
  const offset = (addr - start) / PAGE_SIZE;
  return offset >= 0 && offset <= last - first && Number.isInteger(offset) ? first + (offset | 0) : -1;
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
 * any VMA registered for uffd-wp (sync or async, with or without
 * WP_UNPOPULATED; not hugetlb), as the 6.18.44 kernel reports it (6.18.2's
 * source gives the VMA's categories only): nothing there is write-protected.
 */
function pagemapScanPteHole(addr: number, end: number, _depth: number, walk: Walk): number {
  const p = walk.state;
  const vma = walk.vma;
  if (vma === null) return 0;
  const categories = p.curVmaCategory | ((vma.flags & VM_UFFD_WP) !== 0 && !vma.isHugetlb ? PAGE_IS_WRITTEN : 0);
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

/**
 * The same ops without pteHole, for scans where no hole can match: then
 * pagemapScanPteHole would return 0 for every hole without doing
 * anything, and the walker need not call it once per empty upper entry
 * (a sparse range has hundreds of thousands).
 */
export const pagemapScanWalkOpsNoHoles: MmWalkOps<PagemapScanState> = Object.freeze({
  testWalk: pagemapScanTestWalk,
  pmdEntry: pagemapScanPmdEntry,
  pteBatch: pagemapScanPteBatch,
  hugetlbEntry: pagemapScanHugetlbEntry,
  walkLock: WalkLock.Read,
});

/**
 * What the decision table depends on besides the VMA's categories: the four
 * masks (9 bits each) and WP_MATCHING, packed exactly into a double.
 */
export function categoryArgsKey(p: PagemapScanState): number {
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0 ? 1 : 0;
  return (((p.categoryMask * 512 + p.categoryAnyofMask) * 512 + p.categoryInverted) * 512 + p.returnMask) * 2 + wp;
}

/** Every category a hole can carry: the VMA's (WPALLOWED, SOFT_DIRTY) and WRITTEN (uffd-wp registered). */
const HOLE_CATEGORIES = [
  0,
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_WRITTEN,
  PAGE_IS_WRITTEN | PAGE_IS_SOFT_DIRTY,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WPALLOWED | PAGE_IS_SOFT_DIRTY,
  PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN,
  PAGE_IS_WPALLOWED | PAGE_IS_WRITTEN | PAGE_IS_SOFT_DIRTY,
] as const;

/** Whether some hole can be interesting under the scan's masks (else pagemapScanWalkOpsNoHoles will do). */
export function holesMayMatch(p: PagemapScanState): boolean {
  for (const categories of HOLE_CATEGORIES) if (isInterestingPage(categories, p)) return true;
  return false;
}
