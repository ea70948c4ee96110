// The explorer in a real browser: headless Chromium (Debian's package)
// driven by playwright-core. Skipped, with the reason, where there is none.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { kernelSupport } from '@pagewalk/kernel-runner';
import { CATEGORY_NAMES } from '@pagewalk/scenario';
import { chromiumSkipReason, launchChromium, type HeadlessChromium } from './browser.js';
import { CATEGORY_COLOR, KIND_COLORS, PageKind } from './model/index.js';
import { kernelRunnerProcess } from './live-kernel.js';
import type { ReportData } from './model/report-data.js';
import { loadReportData, renderReport } from './report.js';
import { serveExplorer } from './serve.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const reason = chromiumSkipReason();
if (reason !== null) console.warn(`explorer browser tests skipped: ${reason}`);
// Screenshots land here; PAGEWALK_EXPLORER_SCREENSHOTS=docs/explorer refreshes the committed ones.
const shots = process.env.PAGEWALK_EXPLORER_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'pagewalk-shots-'));
mkdirSync(shots, { recursive: true });

/** A corpus scenario's report data with the file names as in the repository (the page shows them). */
function reportData(scenario: string): ReportData {
  const data = loadReportData(join(root, scenario));
  const recordings = data.recordings?.map((recording) => ({ ...recording, file: relative(root, recording.file) }));
  return { ...data, file: scenario, ...(recordings === undefined ? {} : { recordings }) };
}

function writeReport(scenario: string | ReportData): string {
  const directory = mkdtempSync(join(tmpdir(), 'pagewalk-report-'));
  const file = join(directory, 'report.html');
  writeFileSync(file, renderReport(typeof scenario === 'string' ? reportData(scenario) : scenario));
  return file;
}

/** The RGB of a page's cell on the map canvas. */
async function pixelOf(page: Page, arenaPage: number): Promise<[number, number, number]> {
  await settle(page);
  return page.evaluate((p) => {
    const api = (window as unknown as { __pagewalk: { cellCenter(page: number): { x: number; y: number } | null } }).__pagewalk;
    const center = api.cellCenter(p);
    if (center === null) throw new Error(`page ${p} is not on screen`);
    const canvas = document.querySelector('canvas[data-testid=map]') as HTMLCanvasElement;
    const data = canvas.getContext('2d')!.getImageData(Math.floor(center.x), Math.floor(center.y), 1, 1).data;
    return [data[0]!, data[1]!, data[2]!] as [number, number, number];
  }, arenaPage);
}

/** Distinct colours in a PNG, counted by the browser (the screenshot is not blank when > 8). */
async function distinctColours(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d')!;
    context.drawImage(image, 0, 0);
    const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
    const seen = new Set<number>();
    for (let i = 0; i < pixels.length; i += 7) seen.add(pixels[i]!);
    return seen.size;
  }, png.toString('base64'));
}

async function shoot(page: Page, name: string, selector: string): Promise<void> {
  const png = await page.locator(selector).first().screenshot({ path: join(shots, name) });
  expect(await distinctColours(page, png)).toBeGreaterThan(8);
}

/** Lets Preact render (it batches updates) and the browser paint. */
const settle = (page: Page) => page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
const index = async (page: Page) => {
  await settle(page);
  return page.evaluate(() => Number(document.body.dataset.index));
};

describe.skipIf(reason !== null)(`pagewalk explore in headless Chromium${reason === null ? '' : ` (skipped: ${reason})`}`, () => {
  let browser: HeadlessChromium;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('opens the static report of a corpus guard scenario from disk, colours pages as its scans report, and steps back and forth', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`file://${writeReport('corpus/guard/guard-scan-every-other.json')}`);
    await page.waitForSelector('canvas[data-testid=map]');
    const scenario = JSON.parse(readFileSync(join(root, 'corpus/guard/guard-scan-every-other.json'), 'utf8')) as { ops: unknown[] };
    expect(await index(page)).toBe(scenario.ops.length - 1);
    // Op 7 is a scan for guard pages: its regions, from the simulator in the page.
    const regions = await page.evaluate(
      () => ((window as unknown as { __pagewalk: { explorer: { results: { regions?: [number, number, string[]][] }[] } } }).__pagewalk.explorer.results[7]!.regions ?? []),
    );
    const guardPages = new Set(regions.flatMap(([start, end]) => Array.from({ length: end - start }, (_, i) => start + i)));
    expect([...guardPages]).toEqual([0, 2, 4, 6, 8]);
    for (let p = 0; p < 10; p++) expect(await pixelOf(page, p)).toEqual(guardPages.has(p) ? [...KIND_COLORS[PageKind.Guard]!] : [...KIND_COLORS[PageKind.None]!]);
    expect(await pixelOf(page, 10)).toEqual([...KIND_COLORS[PageKind.Unmapped]!]);
    // Coloured by the guard category: the same pages.
    await page.selectOption('select[data-testid=colour-by]', String(CATEGORY_NAMES.indexOf('guard')));
    for (let p = 0; p < 10; p++) expect((await pixelOf(page, p)).join()).toBe(guardPages.has(p) ? CATEGORY_COLOR.join() : '45,50,58');
    await page.selectOption('select[data-testid=colour-by]', '-1');
    await page.locator('h1').click();
    // Back to op 1 (before any guard): page 0 is an empty PTE; forward again: a guard marker.
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowUp');
    expect(await index(page)).toBe(1);
    expect(await pixelOf(page, 0)).toEqual([...KIND_COLORS[PageKind.None]!]);
    await page.keyboard.press('ArrowDown');
    expect(await index(page)).toBe(2);
    expect(await pixelOf(page, 0)).toEqual([...KIND_COLORS[PageKind.Guard]!]);
    expect(await pixelOf(page, 2)).toEqual([...KIND_COLORS[PageKind.None]!]);
    await page.click('[data-op="6"]');
    expect(await index(page)).toBe(6);
    // Steps back and forth, timed in the page: key press to the next frame after the render (median of 6).
    const stepMs = await page.evaluate(async () => {
      const times: number[] = [];
      for (const key of ['ArrowUp', 'ArrowUp', 'ArrowUp', 'ArrowDown', 'ArrowDown', 'ArrowDown']) {
        times.push(
          await new Promise<number>((resolve) => {
            const started = performance.now();
            window.dispatchEvent(new KeyboardEvent('keydown', { key }));
            requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - started), 0));
          }),
        );
      }
      return times.sort((a, b) => a - b)[3]!;
    });
    expect(await index(page)).toBe(6);
    expect(stepMs).toBeLessThan(50);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await index(page)).toBe(8);
    // Zoom down to single pages and back to the whole arena.
    const cell = () => page.evaluate(() => (window as unknown as { __pagewalkMap: { layout: { cell: number; pagesPerCell: number; rows: number; visibleRows: number } } }).__pagewalkMap.layout);
    const whole = await cell();
    expect(whole.rows).toBe(whole.visibleRows);
    await page.click('button:has-text("single pages")');
    await settle(page);
    expect(await cell()).toMatchObject({ cell: 32, pagesPerCell: 1 });
    expect(await pixelOf(page, 2)).toEqual([...KIND_COLORS[PageKind.Guard]!]);
    await page.click('button:has-text("whole arena")');
    await settle(page);
    expect(await cell()).toEqual(whole);
    await shoot(page, 'explorer-map.png', '.main > .panel');
    // The guard page's tree: a PTE marker with the GUARD bit.
    await page.locator('canvas[data-testid=map]').hover({ position: await page.evaluate(() => (window as any).__pagewalk.cellCenter(4)) });
    await page.waitForSelector('[data-testid=tree] [data-level=PTE]');
    const pte = await page.locator('[data-testid=tree] [data-level=PTE]').innerText();
    expect(pte).toContain('marker');
    expect(pte).toContain('markers=GUARD');
    expect(await page.locator('[data-testid=cellinfo]').innerText()).toContain('page 4: guard marker');
    // The kernel diff tab: the recording next to the scenario.
    await page.click('[data-testid=tab-diff]');
    expect(await page.locator('[data-testid=diff]').innerText()).toContain('matches the kernel on every op');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('opens the tree of a THP and traces a PAGEMAP_SCAN over the map', async () => {
    const page = await browser.context.newPage();
    await page.goto(`file://${writeReport('corpus/thp/thp-always-fault.json')}`);
    await page.waitForSelector('canvas[data-testid=map]');
    await page.click('[data-op="3"]');
    expect(await pixelOf(page, 100)).toEqual([...KIND_COLORS[PageKind.Thp]!]);
    await page.locator('canvas[data-testid=map]').click({ position: await page.evaluate(() => (window as any).__pagewalk.cellCenter(100)) });
    await page.waitForSelector('[data-testid=tree] [data-level=PMD]');
    const pmd = await page.locator('[data-testid=tree] [data-level=PMD]').innerText();
    expect(pmd).toContain('huge leaf');
    expect(await page.locator('[data-testid=tree] [data-level=PTE]').count()).toBe(0);
    expect(await page.locator('[data-testid=folio]').innerText()).toMatch(/order 9/);
    await shoot(page, 'explorer-tree.png', '[data-testid=tree]');
    await page.click('[data-testid=trace-run]');
    await page.waitForSelector('.events li');
    const trace = await page.locator('[data-testid=trace]').innerText();
    expect(trace).toContain('walk_page_range_mm');
    expect(trace).toContain('ops->test_walk');
    expect(trace).toContain('ops->pmd_entry');
    expect(trace).toContain('regions returned');
    // Stop the animation on the second pmd_entry: its PMD's pages are lit on the map.
    await page.waitForFunction(() => document.querySelectorAll('.events li').length >= 4);
    await page.locator('.events li').nth(3).click();
    await page.waitForTimeout(150);
    await page.locator('.trace button', { hasText: 'pause' }).click({ timeout: 1000 }).catch(() => undefined);
    await page.locator('.events li').nth(3).click();
    expect(await page.locator('.events li.current').innerText()).toContain('ops->pmd_entry(512..1024)');
    // The lit PMD is drawn on the next animation frame (later on a loaded machine): poll.
    await expect.poll(() => pixelOf(page, 700), { timeout: 5000 }).not.toEqual([...KIND_COLORS[PageKind.HugeZero]!]);
    expect(await pixelOf(page, 100)).toEqual([...KIND_COLORS[PageKind.Thp]!]);
    await shoot(page, 'explorer-trace.png', '.main');
    await page.close();
  }, 60_000);

  it('answers "why is this page what it is" from the mm trace of the ops up to the selected one', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`file://${writeReport('corpus/core/cold-then-pageout-swap.json')}`);
    await page.waitForSelector('canvas[data-testid=map]');
    // Op 3 is MADV_PAGEOUT: page 2 is swapped out.
    await page.click('[data-op="3"]');
    await page.click('button:has-text("single pages")');
    await page.locator('canvas[data-testid=map]').click({ position: await page.evaluate(() => (window as any).__pagewalk.cellCenter(2)) });
    await page.waitForSelector('[data-testid=why] .why-summary');
    const why = await page.locator('[data-testid=why] .why-summary').innerText();
    expect(why).toMatch(/swapped: op 3 madvise\(MADV_PAGEOUT\); .*shrink_folio_list swapped it out to zram slot \d+/);
    await page.locator('[data-testid=why] summary').click();
    const history = await page.locator('[data-testid=why] .why-history').innerText();
    expect(history).toContain('do_anonymous_page');
    expect(history).toContain('madvise_cold_or_pageout_pte_range');
    await shoot(page, 'explorer-why.png', '.main > .panel');
    // Back to op 1 (the writes): the answer follows the selected op.
    await page.click('[data-op="1"]');
    await settle(page);
    expect(await page.locator('[data-testid=why] .why-summary').innerText()).toContain('present anon: op 1 write-faulted it (handle_mm_fault); do_anonymous_page allocated a fresh private page');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows the CLI one-line errors in the playground and re-runs an edited scenario', async () => {
    const page = await browser.context.newPage();
    await page.goto(`file://${writeReport('corpus/guard/guard-basic.json')}`);
    await page.click('[data-testid=tab-playground]');
    const textarea = page.locator('[data-testid=playground] textarea');
    await textarea.fill('{"name": "x", "arena_pages": 4, "ops": [{"op": "mmap", "page": 0, "pages": 9, "prot": "rw"}, {"op": "nope"}]}');
    const error = await page.locator('[data-testid=playground-error]').innerText();
    expect(error).toMatch(/^pagewalk: scenario\.json: /);
    expect(error.split('\n')).toHaveLength(1);
    await textarea.fill('{"name": "x", "arena_pages": 4, "ops": [{"op": "mmap", "page": 0, "pages": 4, "prot": "rw"}, {"op": "write", "page": 1, "byte": 7}]}');
    await page.click('[data-testid=playground-run]');
    expect(await index(page)).toBe(1);
    expect(await pixelOf(page, 1)).toEqual([...KIND_COLORS[PageKind.Anon]!]);
    await page.close();
  }, 60_000);

  it('diffs against a tagged recording picked in the static report, under its profile, and draws a difference as two rows', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    // Two recordings: zero page on (NAME.kernel.json, first: the default without a host) and off (.nozero).
    await page.goto(`file://${writeReport('corpus/core/mlock-readonly-zero.json')}`);
    await page.click('[data-testid=tab-diff]');
    const pick = page.locator('select[data-testid=recording-pick]');
    expect(await pick.inputValue()).toBe('0');
    expect(await pick.locator('option').allInnerTexts()).toEqual(['mlock-readonly-zero.kernel.json', 'mlock-readonly-zero.nozero.kernel.json']);
    expect(await page.locator('[data-testid=recording-profile]').innerText()).toMatch(/zero_page on/);
    expect(await page.locator('[data-testid=live]').innerText()).toContain('need the local server: pagewalk explore corpus/core/mlock-readonly-zero.json');
    await pick.selectOption('1');
    await settle(page);
    const diff = page.locator('[data-testid=diff]');
    expect(await diff.locator('h2').innerText()).toBe('Kernel diff: corpus/core/mlock-readonly-zero.nozero.kernel.json');
    expect(await page.locator('[data-testid=recording-profile]').innerText()).toMatch(/zero_page off/);
    expect(await diff.innerText()).toContain('matches the kernel on every op');
    // The simulator ran under the .nozero profile: the read-faulted locked pages are exclusive anon pages.
    expect(await diff.locator('tr[data-diff-op="2"]').innerText()).toContain('exclusive');
    await shoot(page, 'explorer-diff-recording.png', '[data-testid=diff]');
    await page.close();

    // A recording that differs (its profile says zero page on, its results are the zero-page-off kernel's):
    // the first differing op, its pagemap entries as two rows, the differing pages marked.
    const data = reportData('corpus/core/mlock-readonly-zero.json');
    const [on, off] = data.recordings!;
    const crossed = { ...data, recordings: [{ file: 'crossed.kernel.json', tag: '', value: { ...(off!.value as object), profile: (on!.value as { profile: unknown }).profile } }] };
    const differs = await browser.context.newPage();
    differs.on('pageerror', (error) => errors.push(String(error)));
    await differs.goto(`file://${writeReport(crossed)}`);
    await differs.click('[data-testid=tab-diff]');
    expect(await differs.locator('[data-testid=diff-first]').innerText()).toMatch(/^First difference at op 2: pagemap page=0 pages=8, field entries/);
    expect(await differs.locator('[data-testid=regions-simulator] .region').getAttribute('title')).toBe('pages 0..8: present');
    expect(await differs.locator('[data-testid=regions-kernel] .region').getAttribute('title')).toBe('pages 0..8: exclusive present');
    expect(await differs.locator('[data-testid=regions-kernel] .region-differs').count()).toBe(1);
    expect(await differs.locator('[data-testid=timeline] li[data-op="2"] .kernel-mark').count()).toBe(1);
    await shoot(differs, 'explorer-diff.png', '[data-testid=diff]');
    await differs.click('button:has-text("show op 2 on the map")');
    expect(await index(differs)).toBe(2);
    await differs.close();
    expect(errors).toEqual([]);
  }, 60_000);

  it.skipIf(!kernelSupport().available)('runs the scenario, and an edited one, on this kernel through the local server', async () => {
    const server = await serveExplorer(() => reportData('corpus/core/mlock-readonly-zero.json'));
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(server.url);
      await page.click('[data-testid=tab-diff]');
      const host = await page.evaluate(() => (JSON.parse(document.getElementById('pagewalk-data')!.textContent!) as { live: { profile: { zero_page: boolean } } }).live.profile);
      // The default recording is the one made under this host's configuration.
      const pick = page.locator('select[data-testid=recording-pick]');
      expect(await pick.inputValue()).toBe(host.zero_page ? '0' : '1');
      expect(await pick.locator('option:checked').textContent()).toContain("(this host's configuration)");
      expect(await page.locator('[data-testid=host-profile]').innerText()).toContain(`zero_page ${host.zero_page ? 'on' : 'off'}`);
      await page.click('[data-testid=kernel-run]');
      await page.waitForFunction(() => (document.querySelector('select[data-testid=recording-pick]') as HTMLSelectElement).value === 'live', undefined, { timeout: 30_000 });
      const diff = page.locator('[data-testid=diff]');
      expect(await diff.locator('h2').innerText()).toMatch(/^Kernel diff: this kernel \(/);
      expect(await diff.innerText()).toContain('matches the kernel on every op');
      await shoot(page, 'explorer-diff-live.png', '[data-testid=diff]');
      // Under the other recording's profile (the zero page setting cannot be switched): the runner says why it skipped.
      await pick.selectOption(host.zero_page ? '1' : '0');
      await page.check('[data-testid=live] input[type=checkbox]');
      await page.click('[data-testid=kernel-run]');
      await page.waitForSelector('[data-testid=kernel-run-error]', { timeout: 30_000 });
      expect(await page.locator('[data-testid=kernel-run-error]').innerText()).toMatch(/skipped it: .*zero_page/);
      // An edited scenario from the playground: the recordings no longer apply; the live kernel does.
      await page.click('[data-testid=tab-playground]');
      await page.locator('[data-testid=playground] textarea').fill(
        '{"name": "edited", "arena_pages": 64, "ops": [{"op": "mmap", "page": 0, "pages": 32, "prot": "rw"}, {"op": "write", "page": 0, "pages": 4, "byte": 1}, {"op": "madvise", "page": 8, "pages": 2, "advice": "guard_install"}, {"op": "scan", "page": 0, "pages": 32, "return_mask": ["all"]}]}',
      );
      await page.click('[data-testid=playground-run]');
      await page.click('[data-testid=tab-diff]');
      expect(await page.locator('[data-testid=diff]').innerText()).toContain('the recordings are of the scenario as written');
      await page.click('[data-testid=kernel-run]');
      await page.waitForFunction(() => document.querySelector('[data-testid=diff-summary]') !== null, undefined, { timeout: 30_000 });
      expect(await page.locator('[data-testid=diff-summary]').innerText()).toContain('matches the kernel on every op');
      expect(await page.locator('[data-testid=diff] tr[data-diff-op="3"]').innerText()).toContain('guard');
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 90_000);

  it('says why the server cannot run on this kernel (PAGEWALK_KERNEL_RUNNER=unavailable)', async () => {
    const server = await serveExplorer(() => reportData('corpus/core/mlock-readonly-zero.json'), {
      kernel: kernelRunnerProcess({ env: { ...process.env, PAGEWALK_KERNEL_RUNNER: 'unavailable' } }),
    });
    try {
      const page = await browser.context.newPage();
      await page.goto(server.url);
      await page.click('[data-testid=tab-diff]');
      expect(await page.locator('[data-testid=live]').innerText()).toBe('This host cannot run scenarios on its kernel: PAGEWALK_KERNEL_RUNNER=unavailable is set.');
      expect(await page.locator('[data-testid=kernel-run]').count()).toBe(0);
      // Without a host profile the first recording is the default.
      expect(await page.locator('select[data-testid=recording-pick]').inputValue()).toBe('0');
      await page.close();
    } finally {
      await server.close();
    }
  }, 60_000);

  it('serves the same page on 127.0.0.1', async () => {
    const server = await serveExplorer(() => loadReportData(join(root, 'corpus/guard/guard-basic.json')));
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await browser.context.newPage();
      await page.goto(server.url);
      await page.waitForSelector('canvas[data-testid=map]');
      expect(await pixelOf(page, 0)).toEqual([...KIND_COLORS[PageKind.Zero]!]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 60_000);
});
