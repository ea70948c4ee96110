#!/usr/bin/env node
// Records the real kernel's output for every corpus scenario next to it
// (corpus/<area>/<name>.kernel.json, or <name>.<tag>.kernel.json with --tag),
// with the whole kernel profile it was made under; or with --check re-runs
// every recording this host can reproduce (under the recording's profile)
// and reports drift (exit status 1), listing the others as skipped.
//
//   node packages/kernel-runner/scripts/record.mjs [--check] [--twice] [--tag TAG] [--profile JSON] [filter...]
//
// --profile JSON records under more requirements than the scenario states,
// e.g. --tag swapfile --profile '{"swap":"file"}' (the runner sets it up as root).
// --tag TAG writes <name>.TAG.kernel.json (e.g. nozero, swapfile): one
// scenario may have a recording per profile. --twice runs every scenario
// twice and fails if the two runs differ (determinism check). A filter keeps
// only scenario paths containing it.
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
const { runOnKernel, kernelSupport, hostProfile, recheckRecording } = await import(distIndex);
const { recordingTagOf } = await import('@pagewalk/scenario');

const args = process.argv.slice(2);
const check = args.includes('--check');
const twice = args.includes('--twice');
const tagIndex = args.indexOf('--tag');
const tag = tagIndex === -1 ? '' : args[tagIndex + 1] ?? '';
if (tagIndex !== -1 && !/^[a-z0-9-]+$/.test(tag)) {
  console.error('record: --tag takes a name of lower-case letters, digits and "-"');
  process.exit(2);
}
const profileIndex = args.indexOf('--profile');
let override = {};
if (profileIndex !== -1) {
  try {
    override = JSON.parse(args[profileIndex + 1] ?? '');
  } catch {
    console.error('record: --profile takes a JSON object, e.g. \'{"swap":"file"}\'');
    process.exit(2);
  }
}
const valueIndexes = new Set([tagIndex, profileIndex].filter((i) => i !== -1).map((i) => i + 1));
const filters = args.filter((a, i) => !a.startsWith('--') && !valueIndexes.has(i));

export function listScenarios(dir = corpusDir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listScenarios(p));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.kernel.json')) out.push(p);
  }
  return out.sort();
}

/** The recording files of a scenario file. */
function recordingsOf(file) {
  const dir = dirname(file);
  const stem = file.slice(dir.length + 1).replace(/\.json$/, '');
  return readdirSync(dir)
    .filter((name) => recordingTagOf(stem, name) !== null)
    .sort()
    .map((name) => join(dir, name));
}

/** The recording for one scenario: {name, profile, results} or {name, skipped}. */
function record(scenario) {
  const r = runOnKernel(profileIndex === -1 ? scenario : { ...scenario, profile: { ...scenario.profile, ...override } });
  return 'skipped' in r ? { name: scenario.name, skipped: r.skipped } : { name: scenario.name, profile: r.profile, results: r.results };
}

/** One result per line: diff-friendly and still plain JSON. */
function format(rec) {
  if (!rec.results) return JSON.stringify(rec) + '\n';
  const body = rec.results.map((r) => '    ' + JSON.stringify(r)).join(',\n');
  return `{\n  "name": ${JSON.stringify(rec.name)},\n  "profile": ${JSON.stringify(rec.profile)},\n  "results": [\n${body}\n  ]\n}\n`;
}

const support = kernelSupport();
if (!support.available) {
  console.error(`record: the kernel runner is not available here: ${support.reason}`);
  process.exit(2);
}
console.log(`host profile ${JSON.stringify(hostProfile())}`);

const files = listScenarios().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const names = new Map();
let drift = 0;
let skipped = 0;
let checked = 0;
for (const file of files) {
  const rel = relative(repoRoot, file);
  const scenario = JSON.parse(readFileSync(file, 'utf8'));
  if (names.has(scenario.name)) {
    console.error(`${rel}: duplicate scenario name "${scenario.name}" (also ${names.get(scenario.name)})`);
    drift++;
  }
  names.set(scenario.name, rel);
  if (check) {
    for (const recording of recordingsOf(file)) {
      const relRec = relative(repoRoot, recording);
      const want = JSON.parse(readFileSync(recording, 'utf8'));
      if (!want.results) continue;
      const outcome = recheckRecording(scenario, want);
      if (outcome.status === 'skipped') {
        skipped++;
        console.log(`${relRec}: skipped (${outcome.reason})`);
        continue;
      }
      checked++;
      if (outcome.status === 'drift') {
        drift++;
        console.error(`${relRec}: DRIFT`);
        for (let i = 0; i < Math.max(want.results.length, outcome.live.length); i++)
          if (!isDeepStrictEqual(want.results[i], outcome.live[i]))
            console.error(`  op ${i}:\n    recorded: ${JSON.stringify(want.results[i])}\n    live:     ${JSON.stringify(outcome.live[i])}`);
      }
    }
    continue;
  }
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
  // A skipped scenario (device ops) keeps one recording, the untagged one.
  if (rec.skipped && tag !== '') {
    console.log(`${rel}: skipped (${rec.skipped})`);
    continue;
  }
  writeFileSync(file.replace(/\.json$/, tag === '' ? '.kernel.json' : `.${tag}.kernel.json`), format(rec));
  if (rec.skipped) console.log(`${rel}: skipped (${rec.skipped})`);
}
console.log(
  check
    ? `${checked} recordings re-checked, ${skipped} skipped (profile not reproducible here), ${drift} drifted`
    : `${files.length} scenarios, ${skipped} skipped${drift ? `, ${drift} failed` : ''}`,
);
process.exit(drift ? 1 : 0);
