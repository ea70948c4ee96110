// The explorer's benchmark, measured in headless Chromium: a populated
// arena of 1,048,576 pages (4 GiB) simulated in the page, its whole-arena
// map drawn (target < 1 s) and op steps back and forth (target < 50 ms).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumSkipReason, launchChromium } from './browser.js';
import { renderReport } from './report.js';

export interface ExplorerBenchFigures {
  readonly pages: number;
  readonly ops: number;
  /** Simulating every op and snapshotting the state after it, in the page. */
  readonly simulateMs: number;
  /** Drawing the whole-arena map (median of the draws after steps). */
  readonly renderMs: number;
  /** First draw of the map, after the page loaded. */
  readonly firstRenderMs: number;
  /** One step (key press to the frame after the render), median over steps back and forth. */
  readonly stepMs: number;
  readonly stepMaxMs: number;
}

/** The benchmark scenario: populate everything, then guards, a discarded range and writes. */
export function benchScenario(pages: number): object {
  return {
    name: `explore-bench-${pages}`,
    arena_pages: pages,
    ops: [
      { op: 'mmap', page: 0, pages, prot: 'rw', populate: true },
      { op: 'write', page: 0, pages: Math.min(pages, 4096), byte: 1 },
      { op: 'madvise', page: pages / 4, pages: 64, advice: 'guard_install' },
      { op: 'madvise', page: pages / 2, pages: pages / 8, advice: 'dontneed' },
      { op: 'read', page: pages / 2, pages: 512 },
      { op: 'munmap', page: pages - pages / 16, pages: pages / 16 },
    ],
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** Runs the benchmark; throws with the reason when no browser can be had. */
export async function benchExplorer(options: { pages?: number; steps?: number } = {}): Promise<ExplorerBenchFigures> {
  const reason = chromiumSkipReason();
  if (reason !== null) throw new Error(reason);
  const pages = options.pages ?? 2 ** 20;
  const scenario = benchScenario(pages);
  const directory = mkdtempSync(join(tmpdir(), 'pagewalk-explore-bench-'));
  const file = join(directory, 'bench.html');
  writeFileSync(file, renderReport({ file: 'bench.json', scenarioText: JSON.stringify(scenario) }));
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(`file://${file}`, { timeout: 120_000 });
    await page.waitForSelector('canvas[data-testid=map]', { timeout: 120_000 });
    const first = await page.evaluate(() => {
      // Runs in the page (this package's node code has no DOM types).
      const api = globalThis as unknown as { __pagewalk: { explorer: { runMs: number; scenario: { ops: unknown[] } } }; __pagewalkMap: { renderMs: number } };
      return { simulateMs: api.__pagewalk.explorer.runMs, renderMs: api.__pagewalkMap.renderMs, ops: api.__pagewalk.explorer.scenario.ops.length };
    });
    const steps: number[] = [];
    const renders: number[] = [];
    const count = options.steps ?? 10;
    for (let i = 0; i < count; i++) {
      const key = i % 4 < 2 ? 'ArrowUp' : 'ArrowDown';
      const measured = await page.evaluate(
        (k) =>
          new Promise<{ step: number; render: number }>((resolve) => {
            const w = globalThis as unknown as {
              dispatchEvent(event: unknown): void;
              KeyboardEvent: new (type: string, init: { key: string }) => unknown;
              requestAnimationFrame(callback: () => void): void;
              __pagewalkMap: { renderMs: number };
            };
            const started = performance.now();
            w.dispatchEvent(new w.KeyboardEvent('keydown', { key: k }));
            w.requestAnimationFrame(() => setTimeout(() => resolve({ step: performance.now() - started, render: w.__pagewalkMap.renderMs }), 0));
          }),
        key,
      );
      steps.push(measured.step);
      renders.push(measured.render);
    }
    return {
      pages,
      ops: first.ops,
      simulateMs: first.simulateMs,
      renderMs: median(renders),
      firstRenderMs: first.renderMs,
      stepMs: median(steps),
      stepMaxMs: Math.max(...steps),
    };
  } finally {
    await browser.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
