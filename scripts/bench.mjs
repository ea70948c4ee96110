#!/usr/bin/env node
// The root `bench` command: installs and builds (scripts/setup.mjs), then
// runs the bench package's task through turbo. Arguments go to
// packages/bench/dist/run.js:
//   npm run bench                          every case, rewrites bench/RESULTS.md
//   npm run bench -- --quick --no-results  a smoke run
//   node scripts/bench.mjs --skip-setup …  without the install/build step (and
//                                          without turbo's build tasks: --only)
//
// turbo is started by absolute path with the workspace's bin directory on
// PATH as an absolute path: turbo resolves the package manager once, from
// the root, and spawns it in each package directory, so a relative PATH
// entry (as `pnpm exec` adds) makes that spawn fail.
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', '.bin');
const args = process.argv.slice(2);
const skipSetup = args[0] === '--skip-setup';
const benchArgs = skipSetup ? args.slice(1) : args;
const absolute = (process.env.PATH ?? '').split(delimiter).filter((p) => p !== '' && p.startsWith('/'));
const env = { ...process.env, PATH: [bin, ...absolute].join(delimiter), TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    process.stderr.write(`bench: cannot run ${cmd}: ${r.error.message}\n`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!skipSetup) run(process.execPath, [join(root, 'scripts', 'setup.mjs')]);
const turboArgs = ['run', 'bench', '--output-logs=new-only', ...(skipSetup ? ['--only'] : [])];
run(join(bin, 'turbo'), [...turboArgs, ...(benchArgs.length > 0 ? ['--', ...benchArgs] : [])]);
