#!/usr/bin/env node
// Records the real kernel's output for every corpus scenario next to it
// (corpus/<area>/<name>.kernel.json), or with --check compares live kernel
// output with the recordings and reports drift (exit status 1).
//
//   node packages/kernel-runner/scripts/record.mjs [--check] [--twice] [filter...]
//
// --twice runs every scenario twice and fails if the two runs differ
// (determinism check). A filter keeps only scenario paths containing it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const pkgRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(pkgRoot, '..', '..');
const corpusDir = join(repoRoot, 'corpus');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

// Build the TypeScript (dist/) when it is missing or older than src/.
const distIndex = join(pkgRoot, 'dist', 'index.js');
if (!existsSync(distIndex) || statSync(distIndex).mtimeMs < newestMtime(join(pkgRoot, 'src'))) {
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-b', pkgRoot], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('record: building @pagewalk/kernel-runner failed');
    process.exit(2);
  }
}
const { runOnKernel, kernelSupport, machineProfile } = await import(distIndex);

const args = process.argv.slice(2);
const check = args.includes('--check');
const twice = args.includes('--twice');
const filters = args.filter((a) => !a.startsWith('--'));

export function listScenarios(dir = corpusDir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listScenarios(p));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.kernel.json')) out.push(p);
  }
  return out.sort();
}

/** The recording for one scenario: {name, results} or {name, skipped}. */
function record(scenario) {
  const r = runOnKernel(scenario);
  return 'skipped' in r ? { name: scenario.name, skipped: r.skipped } : { name: scenario.name, results: r.results };
}

/** One result per line: diff-friendly and still plain JSON. */
function format(rec) {
  if (!rec.results) return JSON.stringify(rec) + '\n';
  const body = rec.results.map((r) => '    ' + JSON.stringify(r)).join(',\n');
  return `{\n  "name": ${JSON.stringify(rec.name)},\n  "results": [\n${body}\n  ]\n}\n`;
}

const support = kernelSupport();
if (!support.available) {
  console.error(`record: the kernel runner is not available here: ${support.reason}`);
  process.exit(2);
}
console.log(`kernel ${machineProfile().kernel}, profile ${JSON.stringify(machineProfile())}`);

const files = listScenarios().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const names = new Map();
let drift = 0;
let skipped = 0;
for (const file of files) {
  const rel = relative(repoRoot, file);
  const scenario = JSON.parse(readFileSync(file, 'utf8'));
  if (names.has(scenario.name)) {
    console.error(`${rel}: duplicate scenario name "${scenario.name}" (also ${names.get(scenario.name)})`);
    drift++;
  }
  names.set(scenario.name, rel);
  let rec;
  try {
    rec = record(scenario);
  } catch (e) {
    console.error(`${rel}: ${e.message}`);
    drift++;
    continue;
  }
  if (rec.skipped) skipped++;
  if (twice) {
    const again = record(scenario);
    if (!isDeepStrictEqual(rec, again)) {
      console.error(`${rel}: NOT DETERMINISTIC\n  first:  ${JSON.stringify(rec)}\n  second: ${JSON.stringify(again)}`);
      drift++;
      continue;
    }
  }
  const out = file.replace(/\.json$/, '.kernel.json');
  if (check) {
    const want = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : undefined;
    if (!isDeepStrictEqual(want, rec)) {
      drift++;
      console.error(`${rel}: DRIFT`);
      const a = want?.results ?? [];
      const b = rec.results ?? [];
      for (let i = 0; i < Math.max(a.length, b.length); i++)
        if (!isDeepStrictEqual(a[i], b[i]))
          console.error(`  op ${i}:\n    recorded: ${JSON.stringify(a[i])}\n    live:     ${JSON.stringify(b[i])}`);
      if (want?.skipped !== rec.skipped)
        console.error(`  skipped: recorded ${JSON.stringify(want?.skipped)}, live ${JSON.stringify(rec.skipped)}`);
    }
  } else {
    writeFileSync(out, format(rec));
  }
  if (rec.skipped) console.log(`${rel}: skipped (${rec.skipped})`);
}
console.log(
  `${files.length} scenarios, ${skipped} skipped${check ? `, ${drift} drifted` : drift ? `, ${drift} failed` : ''}`,
);
process.exit(drift ? 1 : 0);
