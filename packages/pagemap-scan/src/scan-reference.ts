/**
 * The PAGEMAP_SCAN walk ops with the straightforward PTE loop
 * (pteBatchPerPage: classify every PTE on its own and report it through
 * scanOutput, one page at a time, exactly as pagemap_scan_pmd_entry's
 * general loop does) and pteHole always present. scan-pte.ts's
 * pagemapScanPteBatch must give the same regions, walk_end and page
 * tables (it works from a per-flag-byte table, with the region in locals,
 * and flushes a full bounce buffer without ending the walk);
 * scan-equivalence.property.test.ts checks that on random layouts. Not
 * used by the ioctl.
 */
import type { MmWalkOps } from '@pagewalk/core-walk';
import { pagemapScanWalkOps, type PagemapScanState } from './scan-walk.js';
import { pteBatchPerPage } from './scan-pte.js';

/** pagemapScanWalkOps with the reference PTE loop (and pteHole always present). */
export const pagemapScanReferenceWalkOps: MmWalkOps<PagemapScanState> = Object.freeze({
  ...pagemapScanWalkOps,
  pteBatch: pteBatchPerPage,
});
