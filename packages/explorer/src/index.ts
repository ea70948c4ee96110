// @pagewalk/explorer: `pagewalk explore` — the report page and the local
// server (node), and the browser-safe model (also at ./model).
export { renderReport, loadReportData, recordingPathsOf, appScriptPath } from './report.js';
export { serveExplorer, EXPLORER_HOST, KERNEL_RUN_PATH, MAX_REQUEST_BYTES } from './serve.js';
export type { ExplorerServer, ServeOptions } from './serve.js';
export { kernelRunnerProcess } from './live-kernel.js';
export type { LiveKernel, LiveKernelProbe, LiveKernelRun } from './live-kernel.js';
export * from './model/index.js';
export { chromiumPath, chromiumSkipReason, launchChromium, CHROMIUM_FLAGS } from './browser.js';
export type { HeadlessChromium } from './browser.js';
export { benchExplorer, benchScenario } from './bench.js';
export type { ExplorerBenchFigures } from './bench.js';
