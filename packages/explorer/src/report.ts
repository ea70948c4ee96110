// The node side of `pagewalk explore`: the page is the built app
// (dist/app/explorer.js, one IIFE script) inlined into one HTML file with
// the scenario (and its kernel recordings) embedded as JSON, so the same
// file is what the local server sends and what --out writes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordingTagOf } from '@pagewalk/scenario';
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

/**
 * The recording files of `name.json`: `name.kernel.json` first, then
 * `name.TAG.kernel.json` by tag (docs/SCENARIO.md, "Recordings").
 */
export function recordingPathsOf(scenarioPath: string): { path: string; tag: string }[] {
  if (!scenarioPath.endsWith('.json')) return [];
  const directory = dirname(scenarioPath);
  const stem = basename(scenarioPath).slice(0, -'.json'.length);
  let names: string[];
  try {
    names = readdirSync(directory).sort();
  } catch {
    return [];
  }
  const out: { path: string; tag: string }[] = [];
  for (const name of names) {
    const tag = recordingTagOf(stem, name);
    if (tag === '') out.unshift({ path: join(directory, name), tag });
    else if (tag !== null) out.push({ path: join(directory, name), tag });
  }
  return out;
}

/** Reads a scenario file and every kernel recording of it (or the given ones) into report data. */
export function loadReportData(scenarioPath: string, options: { recordings?: readonly { path: string; tag: string }[] } = {}): ReportData {
  const scenarioText = readFileSync(scenarioPath, 'utf8');
  const recordings = (options.recordings ?? recordingPathsOf(scenarioPath)).map(({ path, tag }) => ({ file: path, tag, value: JSON.parse(readFileSync(path, 'utf8')) as unknown }));
  return recordings.length === 0 ? { file: scenarioPath, scenarioText } : { file: scenarioPath, scenarioText, recordings };
}
