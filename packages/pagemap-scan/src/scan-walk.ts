/**
 * The PAGEMAP_SCAN walk ops (fs/proc/task_mmu.c: pagemap_scan_ops):
 * per-VMA filtering, THP and hugetlb entries, holes, and the PTE loop of
 * scan-pte.ts. The state and the output side are in scan-state.ts.
 *
 * A reader on the public walker: callbacks see read-only copies of the
 * entries. What PM_SCAN_WP_MATCHING changes in the page tables — uffd-wp
 * bits and markers, a THP split — goes through the userfaultfd provider
 * registered under core-walk's UffdWpRangeToken (p.env.wp), as the
 * kernel's pagemap_scan calls into userfaultfd and THP code.
 */
import {
  Errno,
  PMD_SIZE,
  VM_PFNMAP,
  VM_SOFTDIRTY,
  VM_UFFD_WP,
  WalkAction,
  WalkLock,
  pmdLeaf,
  isSwapPte,
  type MmWalkOps,
  type Pmd,
  type Vma,
} from '@pagewalk/core-walk';
import type { UffdWpAsyncQuery } from './uffd-wp-async-query.js';
import {
  backoutRange,
  hugetlbCategory,
  isInterestingPage,
  isInterestingVma,
  scanOutput,
  thpCategory,
  type PagemapScanState,
  type Walk,
} from './scan-state.js';
import { buildCategoryTable, categoryTableFits, pagemapScanPteBatch } from './scan-pte.js';
import {
  PAGE_IS_SOFT_DIRTY,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
} from './uapi.js';

export { createPagemapScanState } from './scan-state.js';
export type { PagemapScanState, RegionSink, ScanEnv } from './scan-state.js';

/** The huge page size the kernel compares against (HPAGE_SIZE, 2 MiB on x86-64). */
const HPAGE_SIZE = PMD_SIZE;
/** Internal: the THP was split, process its range at PTE level (the kernel's -ENOENT). */
const THP_SPLIT = -Errno.ENOENT;

/** userfaultfd_wp_async(vma) && userfaultfd_wp_use_markers(vma). */
export function vmaWpAllowed(query: UffdWpAsyncQuery | null, vma: Vma): boolean {
  return query !== null && (vma.flags & VM_UFFD_WP) !== 0 && query.isWpAsync(vma) && query.useMarkers(vma);
}

/**
 * pagemap_scan_test_walk. WP_MATCHING also needs the provider's
 * write-protect operations: without them a VMA is skipped, as one that is
 * not WP-allowed is.
 */
function pagemapScanTestWalk(_start: number, _end: number, walk: Walk): number {
  const p = walk.state;
  const env = p.env;
  const vma = walk.vma!;
  const wpAllowed = vmaWpAllowed(env.wpQuery, vma);
  if (!wpAllowed) {
    if ((p.flags & PM_SCAN_CHECK_WPASYNC) !== 0) return -Errno.EPERM;
    if ((p.flags & PM_SCAN_WP_MATCHING) !== 0) return 1;
  }
  if ((p.flags & PM_SCAN_WP_MATCHING) !== 0 && env.wp === null) return 1;
  if ((vma.flags & VM_PFNMAP) !== 0) return 1;
  let category = 0;
  if (wpAllowed) category |= PAGE_IS_WPALLOWED;
  if ((vma.flags & VM_SOFTDIRTY) !== 0) category |= PAGE_IS_SOFT_DIRTY;
  if (!isInterestingVma(category, p)) return 1;
  p.curVmaCategory = category;
  if (!categoryTableFits(p, category)) buildCategoryTable(p, walk.mm.kernel.frames);
  return 0;
}

/** pagemap_scan_thp_entry: a PMD leaf or PMD migration entry. Returns THP_SPLIT after splitting. */
function pagemapScanThpEntry(pmd: number, start: number, end: number, walk: Walk): number {
  const p = walk.state;
  const categories = p.curVmaCategory | thpCategory(p, walk.mm.kernel.frames, pmd);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, start, end);
  end = p.env.outEnd;
  if (start === end) return ret;
  const wp = p.env.wp;
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0 || (categories & PAGE_IS_WRITTEN) === 0 || wp === null) return ret;
  if (end !== start + HPAGE_SIZE) {
    // Only part of the huge page matched: split it and redo the range per PTE.
    wp.splitHugePmd(walk.mm, walk.vma!, start);
    backoutRange(p, start, end);
    return THP_SPLIT;
  }
  wp.wpPmd(walk.mm, walk.vma!, start);
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

/** pagemap_scan_hugetlb_entry: one hugetlb page (clipped to the range). */
function pagemapScanHugetlbEntry(pte: Pmd, _hmask: number, start: number, end: number, walk: Walk): number {
  const p = walk.state;
  const categories = p.curVmaCategory | hugetlbCategory(walk.mm.kernel.frames, pte);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, start, end);
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0) return ret;
  end = p.env.outEnd;
  if (start === end) return ret;
  if ((categories & PAGE_IS_WRITTEN) === 0) return ret;
  if (end !== start + HPAGE_SIZE) {
    // A hugetlb page cannot be write-protected in part: leave it out, not an error.
    backoutRange(p, start, end);
    p.walkEnd = start;
    return 0;
  }
  // make_uffd_wp_huge_pte (hwpoison and markers stay as they are).
  p.env.wp?.wpHugePte(walk.mm, walk.vma!, start);
  return ret;
}

/**
 * pagemap_scan_pte_hole: a range without page tables. Outside VMAs it is
 * never reported. Inside, it carries the VMA's categories, and WRITTEN in
 * any VMA registered for uffd-wp (sync or async, with or without
 * WP_UNPOPULATED; not hugetlb), as the 6.18.44 kernel reports it (6.18.2's
 * source gives the VMA's categories only): nothing there is write-protected.
 * WP_MATCHING protects the hole with uffd_wp_range (markers, in tables it
 * allocates).
 */
function pagemapScanPteHole(addr: number, end: number, _depth: number, walk: Walk): number {
  const p = walk.state;
  const vma = walk.vma;
  if (vma === null) return 0;
  const categories = p.curVmaCategory | ((vma.flags & VM_UFFD_WP) !== 0 && !vma.isHugetlb ? PAGE_IS_WRITTEN : 0);
  if (!isInterestingPage(categories, p)) return 0;
  const ret = scanOutput(p, categories, addr, end);
  end = p.env.outEnd;
  if (addr === end) return ret;
  const wp = p.env.wp;
  if ((p.flags & PM_SCAN_WP_MATCHING) === 0 || wp === null) return ret;
  const err = wp.wpRange(walk.mm, vma, addr, end - addr, true);
  return err < 0 ? err : ret;
}

/** The PAGEMAP_SCAN walk ops (pagemap_scan_ops). */
export const pagemapScanWalkOps: MmWalkOps<PagemapScanState> = Object.freeze({
  testWalk: pagemapScanTestWalk,
  pmdEntry: pagemapScanPmdEntry,
  pteBatch: pagemapScanPteBatch,
  pteHole: pagemapScanPteHole,
  hugetlbEntry: pagemapScanHugetlbEntry,
  walkLock: WalkLock.Read,
});

/**
 * The same ops without pteHole, for scans where no hole can match. Two
 * tables because the walker cannot be told per walk to skip holes: with a
 * pteHole op it calls it once per empty upper entry (a sparse range has
 * hundreds of thousands, each of which pagemapScanPteHole would return 0
 * for), without one it steps over runs of empty entries in one loop.
 */
export const pagemapScanWalkOpsNoHoles: MmWalkOps<PagemapScanState> = Object.freeze({
  testWalk: pagemapScanTestWalk,
  pmdEntry: pagemapScanPmdEntry,
  pteBatch: pagemapScanPteBatch,
  hugetlbEntry: pagemapScanHugetlbEntry,
  walkLock: WalkLock.Read,
});

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
