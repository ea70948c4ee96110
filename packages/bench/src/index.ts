/**
 * @pagewalk/bench — the simulator against the real kernel on the same
 * layouts (PAGEMAP_SCAN, pagemap reads, write faults, guard regions), plus
 * simulator-only walker, metadata, RSS and growth figures. Run it with
 * `pnpm bench` (root) or `node packages/bench/dist/run.js [--quick] [--case N]`.
 */
export { runBench, ratioLine, renderGenerated, RESULTS_PATH } from './bench.js';
export type { BenchOptions, BenchReport, CaseResult } from './bench.js';
export { CASES, BASE } from './cases.js';
export type { CaseDef, CaseSizes, SimInstance } from './cases.js';
export { buildKbench, runKernelCase, KernelBenchError } from './kernel-side.js';
export type { KernelCaseName, KernelRun } from './kernel-side.js';
export { walkFigures, rssFigures, growthFigures } from './sim-only.js';
export { median, slope, logLogSlope } from './stats.js';
export { loadFeature } from './features.js';
export type { FeatureDir, Loaded } from './features.js';
