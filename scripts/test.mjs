#!/usr/bin/env node
// The whole test suite: lint (including the mm-internal import fence), the
// type-check of every package's tests, then every vitest project. Prints a plain "tests: N passed, N failed" closing line.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules/.bin', name);

const lint = spawnSync(bin('eslint'), ['.'], { cwd: root, stdio: 'inherit' });
if (lint.status !== 0) {
  process.stderr.write('test: eslint failed\n');
  process.exit(1);
}

// Type-check every package's tests (vitest strips types without checking them).
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const config = join(root, 'packages', name, 'tsconfig.test.json');
  if (!existsSync(config)) continue;
  const check = spawnSync(bin('tsc'), ['-p', config], { cwd: root, stdio: 'inherit' });
  if (check.status !== 0) {
    process.stderr.write(`test: type errors in packages/${name} (tsc -p ${relative(root, config)})\n`);
    process.exit(1);
  }
}

const out = join(mkdtempSync(join(tmpdir(), 'pagewalk-test-')), 'vitest.json');
const extra = process.argv.slice(2);
const result = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
  cwd: root,
  stdio: 'inherit',
});
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(out, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  skipped = report.numPendingTests + report.numTodoTests;
} catch {
  failed = Math.max(failed, 1);
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(result.status === 0 && failed === 0 ? 0 : 1);
