#!/usr/bin/env node
// Installs the workspace (pinned pnpm via npx) and builds every package.
// Used by the README's two commands and by .ci/run; safe to run repeatedly.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmSpec = pkg.packageManager; // e.g. pnpm@10.34.8
// Turbo looks for the package manager on PATH: the pinned pnpm is a root devDependency.
const env = {
  ...process.env,
  PATH: `${join(root, 'node_modules/.bin')}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  npm_config_update_notifier: 'false',
};

function run(cmd, args) {
  try {
    execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env });
  } catch (error) {
    process.stderr.write(`setup: '${cmd} ${args.join(' ')}' failed (exit ${error.status ?? '?'})\n`);
    process.exit(1);
  }
}

const lock = join(root, 'pnpm-lock.yaml');
const args = ['-y', pnpmSpec, 'install', '--reporter=append-only'];
if (existsSync(lock)) args.push('--frozen-lockfile');
run('npx', args);
run(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only']);
