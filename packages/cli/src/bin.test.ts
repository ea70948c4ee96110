import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const built = existsSync(BIN);

function pagewalk(...argv: string[]) {
  return spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 30_000 });
}

describe.skipIf(!built)('the built pagewalk binary (needs `tsc -b packages/cli` first)', () => {
  it('starts with a node shebang', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints help and exits 0', () => {
    const run = pagewalk('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: pagewalk <command>');
  });

  it.each([[['frobnicate']], [['run', '/nonexistent.json']], [[]]])('misuse %j: one line on stderr, no stack trace', (argv) => {
    const run = pagewalk(...argv);
    expect(run.status).not.toBe(0);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^pagewalk: /);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('runs the demo', () => {
    const run = pagewalk('demo');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('1. Map anonymous memory and touch it');
  });

  it('is reachable as node_modules/.bin/pagewalk at the repository root (the committed shim)', () => {
    const shim = fileURLToPath(new URL('../../../node_modules/.bin/pagewalk', import.meta.url));
    expect(existsSync(shim), 'run the install step first').toBe(true);
    const run = spawnSync(shim, ['--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: pagewalk <command>');
  });
});
