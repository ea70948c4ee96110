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

// The explorer's browser tests and benchmark drive the system's Chromium
// (Debian's chromium package; playwright-core downloads no browser). Install
// it where it is missing and we can (root with apt-get); elsewhere those
// tests are skipped with the reason. PAGEWALK_SKIP_CHROMIUM=1 opts out.
function ensureChromium() {
  const path = process.env.PAGEWALK_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(path) || process.env.PAGEWALK_SKIP_CHROMIUM === '1') return;
  const isRoot = process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    process.stderr.write(`setup: no Chromium at ${path} and no root apt-get to install it: the explorer's browser tests will be skipped\n`);
    return;
  }
  process.stderr.write('setup: installing Debian\'s chromium for the explorer\'s browser tests (apt-get)\n');
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'], env: aptEnv });
    execFileSync('apt-get', ['-qq', 'install', '-y', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env: aptEnv });
  } catch (error) {
    process.stderr.write(`setup: could not install chromium (exit ${error.status ?? '?'}): the explorer's browser tests will be skipped\n`);
  }
}
ensureChromium();

const lock = join(root, 'pnpm-lock.yaml');
const args = ['-y', pnpmSpec, 'install', '--reporter=append-only'];
if (existsSync(lock)) args.push('--frozen-lockfile');
run('npx', args);
run(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only']);
