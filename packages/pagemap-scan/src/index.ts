/**
 * @pagewalk/pagemap-scan — PAGEMAP_SCAN, /proc/pid/pagemap and clear_refs
 * on the pagewalk simulator (fs/proc/task_mmu.c). A consumer of the public
 * walker only: no mm-internal import.
 */
export { pagemapScan, pagemapScanIoctl, pmScanArgRaw, regionCategoryNames, PageRegionVec } from './pagemap-scan.js';
export type { PageRegion, PmScanArg, PmScanArgRaw, PmScanCategories, PmScanRegion, PmScanResult, PmScanNamedRegion } from './pagemap-scan.js';
export { pagemapScanWalkOps, createPagemapScanState, vmaWpAllowed } from './scan-walk.js';
export type { PagemapScanState, RegionSink } from './scan-walk.js';
export { pagemapRead, readPagemap, pagemapWalkOps, PagemapEntries } from './pagemap-read.js';
export type { PagemapReadOptions, PagemapReadState } from './pagemap-read.js';
export { clearRefs } from './clear-refs.js';
export { UffdWpAsyncQuery, uffdWpAsyncQueryOf } from './uffd-wp-async-query.js';
export { plugin } from './plugin.js';
export { pagemapScanFeature, PagemapScanServiceToken } from './register.js';
export type { PagemapScanService } from './register.js';
export { scenarioOps, scanOpArg } from './scenario-ops.js';
export type { ScenarioOpContext, ScenarioOpHandler } from './scenario-ops.js';
export * from './uapi.js';
