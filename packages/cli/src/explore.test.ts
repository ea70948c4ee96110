import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { explore } from './explore.js';
import { runCli, temporaryDirectory, writeFiles } from './test-support.js';

const corpus = fileURLToPath(new URL('../../../corpus/', import.meta.url));

describe('pagewalk explore', () => {
  it('--out writes one self-contained page with the scenario and its kernel recordings', async () => {
    const out = join(temporaryDirectory(), 'report.html');
    const run = await runCli(['explore', join(corpus, 'guard/guard-basic.json'), '--out', out]);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^pagewalk explore: wrote .*report\.html \(.*guard-basic\.json, with .*guard-basic\.kernel\.json, .*guard-basic\.nozero\.kernel\.json\)/);
    const page = readFileSync(out, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<script type="application/json" id="pagewalk-data">');
    expect(page).toContain('guard_install');
    expect(page).toContain('"tag":"nozero"');
    // Self-contained: no external script, stylesheet or fetch target.
    expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('without a file, shows the built-in example', async () => {
    const out = join(temporaryDirectory(), 'example.html');
    expect((await runCli(['explore', '--out', out])).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('explore-example');
  });

  it('a bad scenario is the usual one-line error', async () => {
    const directory = writeFiles({ 'bad.json': { name: 'bad', arena_pages: 4 } });
    const run = await runCli(['explore', join(directory, 'bad.json'), '--out', join(directory, 'x.html')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^pagewalk: .*bad\.json: field "ops": missing\n$/);
    expect((await runCli(['explore', 'a.json', 'b.json'])).stderr).toContain('takes at most one scenario file');
  });

  it('serves the page on 127.0.0.1 until told to stop', async () => {
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    let printed = '';
    const done = explore({ file: join(corpus, 'guard/guard-basic.json'), stdout: (text) => (printed += text), until });
    for (let i = 0; i < 100 && printed === ''; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1];
    expect(url).toBeDefined();
    const response = await fetch(url!);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('guard-basic');
    stop();
    expect(await done).toBe(0);
  });

  it('has help', async () => {
    expect((await runCli(['explore', '--help'])).stdout).toContain('usage: pagewalk explore [FILE]');
    expect((await runCli(['--help'])).stdout).toContain('explore [FILE]');
  });
});
