import { describe, expect, it } from 'vitest';
import { describeResult, runDemo } from './demo.js';
import { runCli } from './test-support.js';

describe('pagewalk demo', () => {
  it('tells the story with aligned tables and skips steps whose feature is missing', async () => {
    const run = await runCli(['demo'], { features: [] });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('1. Map anonymous memory and touch it');
    expect(run.stdout).toMatch(/ {2}op +arguments +result +what happened/);
    expect(run.stdout).toMatch(/write +page=1 byte=7 +SIGSEGV at page 1 /);
    expect(run.stdout).toContain('(skipped: needs @pagewalk/guard-pages');
    expect(run.stdout).toContain('(skipped: needs @pagewalk/pagemap-scan');
    expect(run.stdout).toMatch(/\d of 8 steps ran\./);
  });

  it('prints the same steps as JSON with --json', async () => {
    const run = await runCli(['demo', '--json'], { features: [] });
    expect(run.status).toBe(0);
    const { demo } = JSON.parse(run.stdout);
    expect(demo).toEqual(JSON.parse(JSON.stringify(runDemo([]))));
    expect(demo[0].rows[0]).toMatchObject({ op: 'mmap', arguments: 'page=0 pages=16 prot=rw', result: { op: 'mmap', ret: 0 } });
  });

  it('shows the results the kernel would give for the core steps', () => {
    const [mapStep, readOnlyStep] = runDemo([]);
    expect(mapStep?.rows.map((row) => describeResult(row.result))).toEqual(['ok', 'ok bytes=[0,0]', 'ok', 'ok bytes=[42,42,42,42,0]']);
    expect(readOnlyStep?.rows.map((row) => describeResult(row.result))).toEqual(['ok', 'ok bytes=[42]', 'SIGSEGV at page 1', 'ok', 'SIGSEGV at page 5']);
  });
});

describe('describeResult', () => {
  it.each([
    [{ op: 'madvise', ret: -1, errno: 'EINVAL' }, '-1 EINVAL'],
    [{ op: 'read', signal: 'SIGBUS', page: 3, bytes: [1] }, 'SIGBUS at page 3 after bytes=[1]'],
    [{ op: 'scan', ret: 1, walk_end: 4, regions: [[0, 4, ['written', 'present']]] }, '1 regions [0,4) written+present'],
    [{ op: 'pagemap', ret: 0, entries: [['present'], []] }, 'ok present | -'],
    [{ op: 'write', ret: 0, uffd: [{ page: 2, flags: ['wp', 'write'] }] }, 'ok uffd: page 2 wp+write'],
    [{ op: 'dev_read', unsupported: true }, 'unsupported'],
  ])('%j → %s', (result, text) => {
    expect(describeResult(result as never)).toBe(text);
  });
});
