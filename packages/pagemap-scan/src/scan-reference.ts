/**
 * The straightforward PAGEMAP_SCAN PTE loop: classify every PTE on its own
 * and report it through scanOutput, one page at a time, exactly as
 * pagemap_scan_pmd_entry's general loop does. scan-walk.ts's
 * pagemapScanPteBatch must give the same regions, walk_end and page tables
 * (it works in runs, from a per-flag-byte table, with the region in
 * locals); scan-equivalence.property.test.ts checks that on random
 * layouts. Not used by the ioctl.
 */
import { PAGE_SIZE, type MmWalk, type MmWalkOps } from '@pagewalk/core-walk';
import {
  isInterestingPage,
  isUffdWpProtected,
  pagemapScanWalkOps,
  pteCategory,
  scanOutput,
  uffdWpPte,
  type PagemapScanState,
} from './scan-walk.js';
import { PAGE_IS_WRITTEN, PM_SCAN_WP_MATCHING } from './uapi.js';

function referencePteBatch(entries: Uint32Array, first: number, count: number, start: number, walk: MmWalk<PagemapScanState>): number {
  const p = walk.state;
  const wp = (p.flags & PM_SCAN_WP_MATCHING) !== 0;
  const last = first + count;
  if (wp && !p.hasBuffer) {
    for (let i = first; i < last; i++) {
      const pte = entries[i]!;
      if (!isUffdWpProtected(pte)) entries[i] = uffdWpPte(pte);
    }
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

/** pagemapScanWalkOps with the reference PTE loop (and pteHole always present). */
export const pagemapScanReferenceWalkOps: MmWalkOps<PagemapScanState> = Object.freeze({
  ...pagemapScanWalkOps,
  pteBatch: referencePteBatch,
});
