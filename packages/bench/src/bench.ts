/**
 * The benchmark driver: runs the comparison cases and the simulator-only
 * figures, prints one line per figure and (on full runs) rewrites the
 * generated part of bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, type CaseDef, type SimInstance } from './cases.js';
import { loadFeature } from './features.js';
import { buildKbench, runKernelCase } from './kernel-side.js';
import { contentFigures, growthFigures, rssFigures, walkFigures, type GrowthFigures, type RssFigures, type WalkFigures } from './sim-only.js';
import { fmt, median } from './stats.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RESULTS_PATH = join(REPO_ROOT, 'bench', 'RESULTS.md');

export interface BenchOptions {
  quick?: boolean;
  /** Case selectors: '1'..'7' for comparison cases, 'sim' for the simulator-only figures. Empty: all. */
  cases?: readonly string[];
  /** Run the real-kernel side (default true). */
  kernel?: boolean;
  /** Where to write the markdown results; null to skip. Default: bench/RESULTS.md on full runs only. */
  results?: string | null;
  out?: (line: string) => void;
  /** Progress messages (default: stderr). */
  log?: (line: string) => void;
}

export interface CaseResult {
  def: CaseDef;
  pages: number;
  simReps: number;
  kernelReps: number;
  simMs: number | null;
  kernelMs: number | null;
  ratio: number | null;
  reason: string | null;
  kernelExtra: Record<string, unknown>;
}

export interface BenchReport {
  cases: CaseResult[];
  walk: WalkFigures | null;
  rss: RssFigures | null;
  growth: GrowthFigures | null;
  lines: string[];
  /** 1-minute load average when the run started and when it ended (a shared machine makes figures noisy). */
  load: [number, number];
  targets: { name: string; value: string; target: string; met: boolean | null }[];
}

/** Warm-up for a read-only or resettable simulator op: at least `warmup` runs and WARMUP_MS of them (JIT tiering), at most WARMUP_MAX runs. */
const WARMUP_MS = 300;
const WARMUP_MAX = 2000;

function timeSim(def: CaseDef, pages: number, reps: number, warmup: number, mods: Record<string, Record<string, unknown>>, inner = 1): number[] {
  if (inner > 1 && def.fresh) throw new Error(`${def.id}: inner repetitions need a read-only case`);
  const out: number[] = [];
  let shared: SimInstance | null = null;
  const once = (): number => {
    let inst: SimInstance;
    if (def.fresh) inst = def.prepare(pages, mods);
    else {
      if (shared === null) shared = def.prepare(pages, mods);
      else shared.reset?.();
      inst = shared;
    }
    const t0 = process.hrtime.bigint();
    let result = inst.op();
    for (let i = 1; i < inner; i++) result = inst.op();
    const t1 = process.hrtime.bigint();
    const problem = result < 0 ? `operation returned ${result}` : inst.check(result);
    if (def.fresh) inst.dispose?.();
    if (problem !== null) throw new Error(problem);
    return Number(t1 - t0) / inner;
  };
  try {
    const warmStart = Date.now();
    for (let r = 0; r < warmup || (!def.fresh && Date.now() - warmStart < WARMUP_MS && r < WARMUP_MAX); r++) once();
    for (let r = 0; r < reps; r++) out.push(once());
  } finally {
    (shared as SimInstance | null)?.dispose?.();
  }
  return out;
}

async function runCase(def: CaseDef, opts: Required<Pick<BenchOptions, 'quick' | 'kernel'>>, log: (s: string) => void): Promise<CaseResult> {
  const { pages, reps, warmup, inner = 1 } = def.sizes(opts.quick);
  const res: CaseResult = { def, pages, simReps: reps, kernelReps: reps, simMs: null, kernelMs: null, ratio: null, reason: null, kernelExtra: {} };
  const mods: Record<string, Record<string, unknown>> = {};
  for (const dir of def.needs) {
    const loaded = await loadFeature(dir);
    if (!loaded.ok) {
      res.reason = loaded.reason;
      return res;
    }
    mods[dir] = loaded.mod;
  }
  log(`bench: ${def.id}: simulator, ${pages} pages, ${reps} reps`);
  try {
    // The simulator gets more warm-up than the kernel (at least 3 runs and 300 ms): its first runs include JIT compilation.
    const simWarmup = def.fresh || opts.quick ? warmup : Math.max(warmup, 3);
    res.simMs = median(timeSim(def, pages, reps, simWarmup, mods, inner)) / 1e6;
  } catch (e) {
    res.reason = `simulator: ${(e as Error).message.split('\n')[0]}`;
    return res;
  }
  if (!opts.kernel) {
    res.reason = 'kernel side skipped (--no-kernel)';
    return res;
  }
  log(`bench: ${def.id}: kernel, ${pages} pages, ${reps} reps`);
  try {
    const run = runKernelCase(def.kernelCase, reps, pages, warmup, undefined, inner);
    const want = def.expectKernel(pages);
    if (run.result !== want) {
      res.reason = `kernel result ${run.result}, expected ${want}`;
      return res;
    }
    const { ns, case: _c, pages: _p, reps: _r, warmup: _w, inner: _i, result: _res, ...extra } = run;
    res.kernelExtra = extra;
    res.kernelMs = median(ns) / 1e6;
  } catch (e) {
    res.reason = `kernel helper: ${(e as Error).message.split('\n')[0]}`;
    return res;
  }
  res.ratio = res.simMs / res.kernelMs;
  return res;
}

export function ratioLine(r: CaseResult): string {
  if (r.ratio === null || r.simMs === null || r.kernelMs === null) return `ratio ${r.def.id} sim/kernel = n/a (${r.reason ?? 'not run'})`;
  return `ratio ${r.def.id} sim/kernel = ${fmt(r.ratio)} (sim ${fmt(r.simMs, 3)} ms, kernel ${fmt(r.kernelMs, 3)} ms)`;
}

function selected(cases: readonly string[] | undefined, key: string): boolean {
  return cases === undefined || cases.length === 0 || cases.includes(key);
}

function kernelVersion(): string {
  try {
    return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    return release();
  }
}

function thpMode(): string {
  try {
    const s = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    return /\[(\w+)\]/.exec(s)?.[1] ?? s.trim();
  } catch {
    return 'unknown';
  }
}

export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const kernel = options.kernel ?? true;
  const out = options.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const log = options.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const lines: string[] = [];
  const emit = (s: string) => {
    lines.push(s);
    out(s);
  };
  const report: BenchReport = { cases: [], walk: null, rss: null, growth: null, lines, load: [loadavg()[0]!, NaN], targets: [] };

  let kernelOk = kernel;
  if (kernel) {
    try {
      buildKbench();
    } catch (e) {
      kernelOk = false;
      log(`bench: kernel side unavailable: ${(e as Error).message}`);
    }
  }
  for (const def of CASES) {
    if (!selected(options.cases, String(def.number))) continue;
    const r = await runCase(def, { quick, kernel: kernelOk }, log);
    if (kernel && !kernelOk && r.reason === 'kernel side skipped (--no-kernel)') r.reason = 'kernel helper unavailable (see stderr)';
    report.cases.push(r);
    emit(ratioLine(r));
    report.targets.push({
      name: `ratio ${r.def.id}`,
      value: r.ratio === null ? 'n/a' : fmt(r.ratio),
      target: `<= ${fmt(r.def.target)}`,
      met: r.ratio === null || quick ? null : r.ratio <= r.def.target,
    });
  }

  if (selected(options.cases, 'sim')) {
    const walkPages = quick ? 1 << 12 : 1 << 20;
    log(`bench: simulator-only: walker over ${walkPages} populated PTEs`);
    const w = walkFigures(walkPages, quick ? 3 : 11, quick ? 1 : 5);
    report.walk = w;
    emit(`sim walk per-entry = ${fmt(w.perEntryNs)} ns/PTE (no-op pteEntry, ${w.pages} populated PTEs; target <= 10)`);
    emit(`sim walk per-entry-low-address = ${fmt(w.perEntryLowNs)} ns/PTE (same no-op walk, ${w.lowPages} PTEs mapped below 2 GiB so addresses are small integers; diagnostic, no target)`);
    emit(`sim walk batched = ${fmt(w.batchedNs)} ns/PTE (pteBatch reading every entry, ${w.pages} populated PTEs; target <= 2)`);
    emit(`sim metadata = ${fmt(w.metadataBytesPerPage)} bytes/populated page (tables ${w.tableBytes} B + frames ${w.frameBytes} B over ${w.pages} pages; target <= 16)`);
    report.targets.push(
      { name: 'walk per-entry ns/PTE', value: fmt(w.perEntryNs), target: '<= 10', met: quick ? null : w.perEntryNs <= 10 },
      { name: 'walk batched ns/PTE', value: fmt(w.batchedNs), target: '<= 2', met: quick ? null : w.batchedNs <= 2 },
      { name: 'metadata bytes/page', value: fmt(w.metadataBytesPerPage), target: '<= 16', met: quick ? null : w.metadataBytesPerPage <= 16 },
    );

    const contentPages = quick ? 1 << 12 : 1 << 20;
    const c = contentFigures(contentPages);
    emit(`sim written-page bytes = ${fmt(c.contentBytesPerPage)} bytes/written page (page-content store, ${c.pages} pages written once at offset 1234; ${fmt(c.totalBytesPerPage)} with tables and frame metadata; target <= 64)`);
    report.targets.push({ name: 'content bytes/written page', value: fmt(c.contentBytesPerPage), target: '<= 64', met: quick ? null : c.contentBytesPerPage <= 64 });

    const rssPages = quick ? 1 << 12 : 1 << 20;
    log(`bench: simulator-only: peak RSS, ${rssPages} pages MAP_POPULATE in a child process`);
    try {
      const rss = rssFigures(rssPages);
      report.rss = rss;
      const mib = rss.peakKiB / 1024;
      emit(`sim peak-rss = ${fmt(mib, 1)} MiB (${fmt((rssPages * 4096) / 2 ** 30, 3)} GiB MAP_POPULATE, no bytes written; bare node + core-walk ${fmt(rss.baselineKiB / 1024, 1)} MiB; target < 200)`);
      report.targets.push({ name: 'peak RSS, 4 GiB populated (MiB)', value: fmt(mib, 1), target: '< 200', met: quick ? null : mib < 200 });
    } catch (e) {
      emit(`sim peak-rss = n/a (${(e as Error).message.split('\n')[0]})`);
    }

    const [from, to] = quick ? [10, 14] : [16, 22];
    log(`bench: simulator-only: growth 2^${from}..2^${to} pages`);
    const g = growthFigures(from, to, quick ? 1 : 3);
    report.growth = g;
    emit(`sim growth slope = ${fmt(g.slope)} (populate + batched walk, 2^${from}..2^${to} pages: ${g.ms.map((m) => fmt(m, 1)).join(', ')} ms; 1.00 = linear)`);
    report.targets.push({ name: 'growth slope (log-log)', value: fmt(g.slope), target: '~1.00 (linear)', met: quick ? null : Math.abs(g.slope - 1) <= 0.15 });

    const explorePages = quick ? 1 << 16 : 1 << 20;
    log(`bench: explorer: ${explorePages}-page populated arena in headless Chromium`);
    try {
      const { benchExplorer } = await import('@pagewalk/explorer');
      const e = await benchExplorer({ pages: explorePages });
      emit(
        `sim explore map-render = ${fmt(e.renderMs, 1)} ms, step = ${fmt(e.stepMs, 1)} ms (max ${fmt(e.stepMaxMs, 1)}) (${e.pages}-page populated arena, ${e.ops} ops simulated in the page in ${fmt(e.simulateMs, 0)} ms, whole-arena map, headless Chromium; targets < 1000 / < 50)`,
      );
      report.targets.push(
        { name: 'explore map render ms', value: fmt(e.renderMs, 1), target: '< 1000', met: quick ? null : e.renderMs < 1000 },
        { name: 'explore step ms', value: fmt(e.stepMs, 1), target: '< 50', met: quick ? null : e.stepMs < 50 },
      );
    } catch (e) {
      emit(`sim explore = n/a (${(e as Error).message.split('\n')[0]})`);
    }
  }

  const met = report.targets.filter((t) => t.met === true).length;
  const missed = report.targets.filter((t) => t.met === false);
  const unjudged = report.targets.length - met - missed.length;
  emit(
    quick
      ? 'targets: not judged (--quick sizes)'
      : `targets: ${met} met, ${missed.length} missed${missed.length ? ` (${missed.map((t) => t.name).join('; ')})` : ''}, ${unjudged} n/a`,
  );

  report.load[1] = loadavg()[0]!;
  const fullRun = !quick && (options.cases === undefined || options.cases.length === 0);
  const resultsPath = options.results === undefined ? (fullRun ? RESULTS_PATH : null) : options.results;
  if (resultsPath !== null) {
    writeResults(resultsPath, report, quick);
    log(`bench: wrote ${resultsPath}`);
  }
  return report;
}

/* -------------------------------------------------------------- markdown */

/** A markdown table cell: pipes escaped, no newlines. */
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const BEGIN = '<!-- bench:generated:begin (rewritten by `pnpm bench`; edit outside these markers) -->';
const END = '<!-- bench:generated:end -->';

export function renderGenerated(report: BenchReport, quick: boolean): string {
  const cpu = cpus();
  const md: string[] = [BEGIN, ''];
  md.push(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (--quick: small sizes, figures not comparable)' : ''}.`, '');
  md.push('| machine | value |', '|---|---|');
  md.push(`| CPU | ${cpu[0]?.model ?? 'unknown'} × ${cpu.length} |`);
  md.push(`| RAM | ${fmt(totalmem() / 2 ** 30, 1)} GiB |`);
  md.push(`| kernel | Linux ${kernelVersion()} (THP ${thpMode()}) |`);
  md.push(`| Node | ${process.version} |`);
  md.push(`| load average (1 min) at start / end | ${fmt(report.load[0])} / ${fmt(report.load[1])} |`, '');
  if (report.cases.length > 0) {
    md.push('| case | layout | sim ms | kernel ms | sim/kernel | target | met |', '|---|---|---:|---:|---:|---:|---|');
    for (const r of report.cases) {
      const met = r.ratio === null ? 'n/a' : r.ratio <= r.def.target ? 'yes' : '**no**';
      const why = r.ratio === null ? ` (${cell(r.reason ?? 'not run')})` : '';
      md.push(
        `| ${r.def.id} | ${cell(`${r.def.title}; ${r.def.note}`)}; median of ${r.simReps} | ${r.simMs === null ? 'n/a' : fmt(r.simMs, 3)} | ${r.kernelMs === null ? 'n/a' : fmt(r.kernelMs, 3)} | ${r.ratio === null ? `n/a${why}` : fmt(r.ratio)} | ≤ ${fmt(r.def.target)} | ${met} |`,
      );
    }
    md.push('');
  }
  if (report.targets.some((t) => !t.name.startsWith('ratio'))) {
    md.push('| simulator-only figure | value | target | met |', '|---|---:|---|---|');
    for (const t of report.targets) {
      if (t.name.startsWith('ratio')) continue;
      md.push(`| ${t.name} | ${t.value} | ${t.target} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
    }
    md.push('');
  }
  if (report.growth !== null) {
    const g = report.growth;
    md.push('| pages (populate + batched walk) | ms |', '|---:|---:|');
    g.sizes.forEach((s, i) => md.push(`| 2^${Math.log2(s)} | ${fmt(g.ms[i]!, 1)} |`));
    md.push('', `log-log slope ${fmt(g.slope)} (median of ${g.reps} per size).`, '');
  }
  md.push('Output lines:', '', '```', ...report.lines, '```', '', END);
  return md.join('\n');
}

function writeResults(path: string, report: BenchReport, quick: boolean): void {
  const generated = renderGenerated(report, quick);
  let text: string;
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const b = old.indexOf(BEGIN.slice(0, 24));
    const e = old.indexOf(END);
    text = b >= 0 && e > b ? old.slice(0, b) + generated + old.slice(e + END.length) : `${old.trimEnd()}\n\n${generated}\n`;
  } else {
    text = `# pagewalk benchmark results\n\n\`pnpm bench\` (root: \`npm run bench\`) regenerates the block below.\n\n${generated}\n`;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
