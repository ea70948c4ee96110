// @pagewalk/explorer: `pagewalk explore` — the report page and the local
// server (node), and the browser-safe model (also at ./model).
export { renderReport, loadReportData, recordingPathOf, appScriptPath } from './report.js';
export { serveExplorer, EXPLORER_HOST } from './serve.js';
export type { ExplorerServer } from './serve.js';
export * from './model/index.js';
export { chromiumPath, chromiumSkipReason, launchChromium, CHROMIUM_FLAGS } from './browser.js';
export type { HeadlessChromium } from './browser.js';
export { benchExplorer, benchScenario } from './bench.js';
export type { ExplorerBenchFigures } from './bench.js';
