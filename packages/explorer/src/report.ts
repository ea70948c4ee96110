// The node side of `pagewalk explore`: the page is the built app
// (dist/app/explorer.js, one IIFE script) inlined into one HTML file with
// the scenario (and its kernel recording) embedded as JSON, so the same
// file is what the local server sends and what --out writes.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportData } from './model/report-data.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the built app script is (dist/app/explorer.js), from src/ or dist/. */
export function appScriptPath(): string {
  for (const candidate of [join(here, 'app/explorer.js'), join(here, '../dist/app/explorer.js')]) if (existsSync(candidate)) return candidate;
  throw new Error('the explorer app is not built (run the build: node scripts/setup.mjs)');
}

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const escapeHtml = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The whole self-contained page for these data. */
export function renderReport(data: ReportData, script = readFileSync(appScriptPath(), 'utf8')): string {
  const title = `pagewalk explore: ${basename(data.file)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="pagewalk-data">${scriptJson(data)}</script>
<script>${script.replace(/<\/script/gi, '<\\/script')}</script>
</body>
</html>
`;
}

/** `name.json` -> `name.kernel.json` next to it, when it exists. */
export function recordingPathOf(scenarioPath: string): string | null {
  const path = scenarioPath.replace(/\.json$/, '.kernel.json');
  return path !== scenarioPath && existsSync(path) ? path : null;
}

/** Reads a scenario file and its kernel recording (if any) into report data. */
export function loadReportData(scenarioPath: string, options: { recording?: string | null } = {}): ReportData {
  const scenarioText = readFileSync(scenarioPath, 'utf8');
  const recordingPath = options.recording === undefined ? recordingPathOf(scenarioPath) : options.recording;
  if (recordingPath === null) return { file: scenarioPath, scenarioText };
  return { file: scenarioPath, scenarioText, recording: { file: recordingPath, value: JSON.parse(readFileSync(recordingPath, 'utf8')) } };
}
