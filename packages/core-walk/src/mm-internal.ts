/**
 * DO NOT IMPORT outside the mm-internal packages (guard-pages, uffd-wp,
 * hmm-migrate).
 *
 * This is the simulator's mm/internal.h: the PTE-installing walker
 * (the kernel's walk_page_range_mm, renamed walk_page_range_mm_unsafe) and
 * the helpers memory-management code uses to change page tables while
 * keeping refcounts, mapcounts and rmap consistent. Installing entries is
 * solely under the control of memory-management logic; ordinary walkers
 * use the public walkPageRange, which refuses installPte with -EINVAL.
 * The import is fenced by eslint (STYLE.md 2.5) and checked by a test.
 */
export { walkPageRangeUnsafe, walkPageRangeUnsafe as walkPageRangeMm } from './pagewalk.js';
export type { MmWalkOpsUnsafe } from './walk-ops.js';
export { accountPteMap, accountPteUnmap, faultTestHooks, handleMmFault, splitHugePmd, shmemGetPage, thpAllowed, wantsWriteNotify } from './fault.js';
export { zapVmaRange, freePgtables, ZAP_DROP_MARKER, ZAP_FILE_PAGES_ONLY } from './zap.js';
export { madviseWalkVmas, populateRange } from './madvise.js';
export { forEachEntry } from './mprotect.js';
