import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES, renderGenerated, runBench, type BenchReport } from './index.js';
import { logLogSlope, median, slope } from './stats.js';

// Shape checks only: this suite never asserts on a timing.
const RATIO = /^ratio (\S+) sim\/kernel = (?:\d+\.\d\d \(sim \d+\.\d{3} ms, kernel \d+\.\d{3} ms\)|n\/a \(.+\))$/;
const SIM = /^sim [a-z-]+(?: [a-z-]+)? = (?:\d+\.\d+|n\/a) .+$/;
const TARGETS = /^targets: .+$/;

describe('bench --quick (2^12 pages)', () => {
  let report: BenchReport;
  const out: string[] = [];

  it('runs every case and prints well-formed lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagewalk-bench-'));
    const results = join(dir, 'RESULTS.md');
    writeFileSync(results, '# kept\n\nhand-written notes\n');
    report = await runBench({ quick: true, results, out: (l) => out.push(l), log: () => {} });
    const ratios = out.filter((l) => l.startsWith('ratio '));
    expect(ratios.map((l) => RATIO.exec(l)?.[1])).toEqual(CASES.map((c) => c.id));
    const sims = out.filter((l) => l.startsWith('sim '));
    expect(sims).toHaveLength(8);
    for (const l of sims) expect(l).toMatch(SIM);
    expect(out[out.length - 1]).toMatch(TARGETS);
    expect(out).toHaveLength(ratios.length + sims.length + 1);
    const md = readFileSync(results, 'utf8');
    expect(md.startsWith('# kept\n\nhand-written notes\n')).toBe(true);
    expect(md).toContain('| case | layout | sim ms | kernel ms | sim/kernel | target | met |');
    expect(md).toContain(`Node | ${process.version}`);
  });

  it('only selected cases run with cases: [...]', async () => {
    const lines: string[] = [];
    await runBench({ quick: true, cases: ['6'], kernel: false, results: null, out: (l) => lines.push(l), log: () => {} });
    expect(lines).toEqual([expect.stringMatching(/^ratio 6-populate sim\/kernel = n\/a \(kernel side skipped/), 'targets: not judged (--quick sizes)']);
  });

  it('renders a table row per case', () => {
    const md = renderGenerated(report, true);
    for (const c of CASES) expect(md).toContain(`| ${c.id} |`);
  });
});

describe('stats', () => {
  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
  it('slope of a power law is its exponent', () => {
    expect(slope([0, 1, 2], [1, 3, 5])).toBeCloseTo(2);
    const sizes = [1, 2, 4, 8, 16];
    expect(logLogSlope(sizes, sizes.map((s) => 7 * s))).toBeCloseTo(1);
    expect(logLogSlope(sizes, sizes.map((s) => s * s))).toBeCloseTo(2);
  });
});
