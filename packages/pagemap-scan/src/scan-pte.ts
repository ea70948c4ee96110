/**
 * pagemap_scan_pmd_entry's PTE loop, twice:
 * - pteBatchPerPage, the straightforward one: every PTE classified on its
 *   own and reported through scanOutput, as the kernel's general loop does;
 * - pagemapScanPteBatch, the fast one the ioctl uses: a decision per PTE
 *   flag byte, looked up in a table built per VMA, with the current region
 *   kept in locals. scan-equivalence.property.test.ts checks that both give
 *   the same regions, walk_end and page tables.
 *
 * Both only read the slice (the public walker's copy of the table). Pages
 * WP_MATCHING write-protects are collected as runs and handed to the
 * userfaultfd provider once per slice (scan-state.ts, applyWpRuns).
 */
import { Errno, PTE_FLAG_BYTE_VALUES, isPfnSwapEntry, isPteMarker, pteFlagByte, ptePresent, pteWithFlagByte, type ReadonlyFramePool } from '@pagewalk/core-walk';
import {
  PAGE_BYTES,
  addWpRun,
  applyWpRuns,
  flushScanBuffer,
  isInterestingPage,
  pteCategory,
  scanOutput,
  type PagemapScanState,
  type Walk,
} from './scan-state.js';
import { PAGE_IS_FILE, PAGE_IS_PFNZERO, PAGE_IS_WRITTEN, PM_SCAN_WP_MATCHING } from './uapi.js';

/** pteFlagByte as a const of this module (see PAGE_BYTES): the compiled loop calls it without a module-cell check. */
const flagByteOf = pteFlagByte;

/* ------------------------------------------------ per-PTE decision table */

/** Decision bits: the low 16 bits are `categories & returnMask`. */
const T_CATEGORIES = 0xffff;
/** The page is not interesting (masks): skipped. */
const T_SKIP = 1 << 16;
/** WP_MATCHING is set and the page's categories include WRITTEN: write-protect it once reported. */
const T_WRITE_PROTECT = 1 << 17;
/** The flag byte does not decide the categories: classify the whole entry. */
const T_SLOW = 1 << 18;

/**
 * What the decision table depends on besides the VMA's categories: the four
 * masks (9 bits each) and WP_MATCHING, packed exactly into a double.
 */
export function categoryArgsKey(p: PagemapScanState): number {
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0 ? 1 : 0;
  return (((p.categoryMask * 512 + p.categoryAnyofMask) * 512 + p.categoryInverted) * 512 + p.returnMask) * 2 + wp;
}

/** The env's table holds `p`'s decisions for a VMA of `vmaCategory`. */
export function categoryTableFits(p: PagemapScanState, vmaCategory: number): boolean {
  const env = p.env;
  return env.catTableKey === env.catArgsKey * 512 + vmaCategory;
}

/** The decision for a page of `categories` (VMA categories included). */
function pteDecision(p: PagemapScanState, categories: number): number {
  if (!isInterestingPage(categories, p)) return T_SKIP;
  const protect = (p.flags & PM_SCAN_WP_MATCHING) !== 0 && (categories & PAGE_IS_WRITTEN) !== 0;
  return (categories & p.returnMask) | (protect ? T_WRITE_PROTECT : 0);
}

/**
 * Fills the env's table for the current VMA's categories: for each flag
 * byte, the decision shared by every entry with that byte, or T_SLOW where
 * the rest of the entry matters — a present entry when FILE or PFNZERO is
 * of interest (a frame lookup / the pfn), a PTE marker (its bits are in the
 * offset), a pfn-carrying swap entry when FILE is of interest, and byte 0
 * (none, or a type-0 swap entry without flags). Categories outside
 * category_mask | anyof | return_mask never change a decision, so the
 * byte's representative entry gives the right answer — and the table does
 * not depend on the frames (FILE and PFNZERO entries are slow).
 */
export function buildCategoryTable(p: PagemapScanState, frames: ReadonlyFramePool): void {
  const env = p.env;
  const table = env.catTable;
  const vmaCategory = p.curVmaCategory;
  const wantFile = (p.masksOfInterest & PAGE_IS_FILE) !== 0;
  const wantZero = (p.masksOfInterest & PAGE_IS_PFNZERO) !== 0;
  table[0] = T_SLOW;
  for (let byte = 1; byte < PTE_FLAG_BYTE_VALUES; byte++) {
    const pte = pteWithFlagByte(byte);
    let slow: boolean;
    if (ptePresent(pte)) slow = wantFile || wantZero;
    else slow = isPteMarker(pte) || (wantFile && isPfnSwapEntry(pte));
    table[byte] = slow ? T_SLOW : pteDecision(p, vmaCategory | pteCategory(p, frames, pte));
  }
  env.catNone = pteDecision(p, vmaCategory | pteCategory(p, frames, 0));
  env.catTableKey = env.catArgsKey * 512 + vmaCategory;
}

/* ------------------------------------------------------------- fast loop */

/**
 * pagemap_scan_pmd_entry, PTE part. Same results as classifying and
 * outputting PTE by PTE through scanOutput (pteBatchPerPage below), with
 * the common case cut down to a table lookup per entry: the decision comes
 * from the entry's flag byte (see buildCategoryTable). A region that goes
 * on takes the entries after it with the same decision as one run.
 *
 * Everything else leaves the fast loop for `generalPage`: an entry the
 * table cannot decide, a limit (max_pages, a full bounce buffer). The fast
 * loop itself makes no call, so the JIT keeps its arrays and counters in
 * registers.
 */
export function pagemapScanPteBatch(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  const ret = scanPtes(entries, first, count, start, walk);
  if (walk.state.env.wpRunCount !== 0) applyWpRuns(walk.state, walk, start);
  return ret;
}

function scanPtes(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  // Parameters are untyped to the JIT: `| 0` and unary `+` make the loop
  // variables derived from them plain integers and doubles (about 40 % of
  // this loop's time otherwise goes to checks and conversions).
  first |= 0;
  count |= 0;
  start = +start;
  const p = walk.state;
  const env = p.env;
  const last = first + count;

  if (p.vecBuf === null) {
    // Nothing is reported; only the exclusive write-protect has work to do.
    if ((p.flags & PM_SCAN_WP_MATCHING) !== 0) addWpRun(env, 0, count);
    return 0;
  }

  // pagemapScanTestWalk builds the table for each VMA: a call here, taken
  // once per scan, would have no JIT feedback yet when this loop gets
  // optimized and would deoptimize it. (Kept as a safety net only.)
  if (!categoryTableFits(p, p.curVmaCategory)) buildCategoryTable(p, walk.mm.kernel.frames);
  // An empty current region whose end (0) falls in this slice: only for a
  // slice at address 0, where the kernel would extend that empty region.
  // The per-page loop reproduces that exactly.
  if (p.vecBuf.ends[p.vecBufIndex] === 0 && slotOf(0, start, first, last) >= 0) return pteLoopPerPage(entries, first, count, start, walk);
  const table = env.catTable;
  const noneDecision = env.catNone;
  const runs = env.wpRuns;
  // Every loop variable is a small integer: addresses are `(page0 + i) * PAGE_BYTES`,
  // computed where needed, never carried from one iteration to the next (a
  // double carried by a loop is boxed on every step whenever V8 cannot keep
  // it unboxed, e.g. in on-stack-replaced code after a deoptimization).
  /** Page number of entry 0 of the slice's table (a double: page0 + i never overflows, unlike i * PAGE_BYTES). */
  const page0 = start / PAGE_BYTES - first;
  let i = first;
  for (;;) {
    // The bounce buffer, in locals. `index` is the current region's slot,
    // or the slot before it while the buffer is empty (so that a new
    // region always goes to index + 1).
    const buf = p.vecBuf;
    const bufStart = buf.starts;
    const bufEnd = buf.ends;
    const bufCategories = buf.categories;
    /** The window's last slot. */
    const bufLast = (buf.base + p.vecBufLen - 1) | 0;
    const base = p.vecBufIndex | 0;
    const empty = bufEnd[base] === 0;
    let index = empty ? base - 1 : base;
    let curCategories = bufCategories[base]!;
    /** The current region ends at entry `curEndSlot` of this slice (-1: elsewhere, so nothing here extends it). */
    let curEndSlot = empty ? -1 : slotOf(bufEnd[base]!, start, first, last);
    /** Pages this slice may still add under max_pages (at most 2^30: a slice has 512). */
    const room = pageRoom(p.maxPages, p.foundPages);
    let left = room;
    /** Write-protect runs, in locals too: their count and where the last one ends (an offset from `first`; -1: none). */
    let nRuns = env.wpRunCount | 0;
    let runEnd = nRuns === 0 ? -1 : runs[2 * nRuns - 1]! | 0;
    for (; i < last; i++) {
      const pte = entries[i]!;
      const decision = pte === 0 ? noneDecision : table[flagByteOf(pte)]!;
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
        if ((decision & T_WRITE_PROTECT) !== 0) {
          // Protect this page: extend the last run, or start one.
          const offset = i - first;
          if (offset !== runEnd) runs[2 * nRuns++] = offset;
          runEnd = offset + 1;
          runs[2 * nRuns - 1] = runEnd;
        }
        continue;
      }
      // The region goes on: so do the entries after this one with the
      // same decision (the same flag byte, or empty), taken as a run.
      let run = i + 1;
      if (pte === 0) {
        while (run < last && entries[run] === 0) run++;
      } else {
        const byte = flagByteOf(pte);
        while (run < last && flagByteOf(entries[run]!) === byte) run++;
      }
      if (run - i > left) run = i + left;
      left -= run - i;
      curEndSlot = run;
      bufEnd[index] = (page0 + run) * PAGE_BYTES;
      if ((decision & T_WRITE_PROTECT) !== 0) {
        const offset = i - first;
        if (offset !== runEnd) runs[2 * nRuns++] = offset;
        runEnd = run - first;
        runs[2 * nRuns - 1] = runEnd;
      }
      i = run - 1;
    }
    // Back to the state: the current region, the pages added, the runs.
    p.vecBufIndex = index < base ? base : index;
    p.foundPages += room - left;
    env.wpRunCount = nRuns;
    if (i >= last) return 0;
    const ret = generalPage(p, walk, entries, i, first, (page0 + i) * PAGE_BYTES);
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
function generalPage(p: PagemapScanState, walk: Walk, entries: Uint32Array, i: number, first: number, addr: number): number {
  const decision = decisionOf(p, walk, entries[i]!);
  if ((decision & T_SKIP) !== 0) return 1;
  const ret = scanOutput(p, decision & T_CATEGORIES, addr, addr + PAGE_BYTES);
  if (p.env.outEnd === addr) {
    // Not reported: max_pages reached (stop), or the buffer is full.
    if (p.foundPages >= p.maxPages || p.vecOut === null) return ret;
    flushScanBuffer(p);
    return p.vecLen === 0 ? -Errno.ENOSPC : 0;
  }
  if ((decision & T_WRITE_PROTECT) !== 0) addWpRun(p.env, i - first, i - first + 1);
  return 1;
}

/** The decision for one entry, from the table or, where it is T_SLOW, from the whole entry. */
function decisionOf(p: PagemapScanState, walk: Walk, pte: number): number {
  const env = p.env;
  const decision = pte === 0 ? env.catNone : env.catTable[flagByteOf(pte)]!;
  return (decision & T_SLOW) === 0 ? decision : pteDecision(p, p.curVmaCategory | pteCategory(p, walk.mm.kernel.frames, pte));
}

/* ------------------------------------------------------- reference loop */

/**
 * The straightforward PTE loop: every PTE classified on its own and
 * reported through scanOutput, one page at a time, as
 * pagemap_scan_pmd_entry's general loop does. pagemapScanPteBatch must
 * give the same results (scan-equivalence.property.test.ts).
 */
export function pteBatchPerPage(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  const ret = pteLoopPerPage(entries, first, count, start, walk);
  if (walk.state.env.wpRunCount !== 0) applyWpRuns(walk.state, walk, start);
  return ret;
}

function pteLoopPerPage(entries: Uint32Array, first: number, count: number, start: number, walk: Walk): number {
  const p = walk.state;
  const env = p.env;
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0;
  if (wp && p.vecBuf === null) {
    // The exclusive write-protect: every entry not protected yet (the provider skips those that are).
    addWpRun(env, 0, count);
    return 0;
  }
  const frames = walk.mm.kernel.frames;
  const last = first + count;
  let ret = 0;
  let addr = start;
  for (let i = first; i < last; i++, addr += PAGE_BYTES) {
    const categories = p.curVmaCategory | pteCategory(p, frames, entries[i]!);
    if (!isInterestingPage(categories, p)) continue;
    ret = scanOutput(p, categories, addr, addr + PAGE_BYTES);
    if (env.outEnd === addr) break;
    if (wp && (categories & PAGE_IS_WRITTEN) !== 0) addWpRun(env, i - first, i - first + 1);
  }
  return ret;
}

/* --------------------------------------------------------------- helpers */

/** max_pages - found as a small integer, capped at 2^30 (Infinity: no limit). */
function pageRoom(maxPages: number, found: number): number {
  const room = maxPages - found;
  return room > 0x40000000 ? 0x40000000 : room | 0;
}

/** The entry of the slice [first, last] at which `addr` falls, or -1. */
function slotOf(addr: number, start: number, first: number, last: number): number {
  // Slot indexes times PAGE_SIZE overflow 32 bits; offsets within a slice do not.
  const offset = (addr - start) / PAGE_BYTES;
  return offset >= 0 && offset <= last - first && Number.isInteger(offset) ? first + (offset | 0) : -1;
}
