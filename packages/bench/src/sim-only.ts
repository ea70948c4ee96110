/**
 * Simulator-only figures: walker cost per PTE (per-entry and batched),
 * metadata bytes per populated page, peak RSS of a populated 4 GiB space,
 * and how populate + walk time grows with size.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  AccessKind,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  createKernel,
  walkPageRange,
  type Mm,
  type MmWalkOps,
} from '@pagewalk/core-walk';
import { BASE } from './cases.js';
import { logLogSlope, median, timeReps } from './stats.js';

function populated(pages: number, base = BASE): { mm: Mm; kernel: ReturnType<typeof createKernel> } {
  const kernel = createKernel();
  const mm = kernel.createMm();
  const r = mm.mmap(base, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE);
  if (r !== base) throw new Error(`simulator mmap returned ${r}`);
  return { mm, kernel };
}

interface Count {
  n: number;
}

/** 1 MiB: a layout of up to 2^18 pages here stays below 2^31. */
const LOW_BASE = 1 << 20;

/** The no-op per-entry walk of issue #2: one callback per PTE that does nothing. */
const noopEntryOps: MmWalkOps<Count> = {
  pteEntry() {},
};

/** The batched walk: one callback per PTE table, reading every entry (counts the present ones). */
const countBatchOps: MmWalkOps<Count> = {
  pteBatch(entries, first, count, _addr, walk) {
    let n = 0;
    const end = first + count;
    for (let i = first; i < end; i++) n += entries[i]! & 1;
    walk.state.n += n;
  },
};

export interface WalkFigures {
  pages: number;
  perEntryNs: number;
  /** The same no-op walk over pages mapped below 2 GiB, where every address is a small integer (diagnostic). */
  perEntryLowNs: number;
  lowPages: number;
  batchedNs: number;
  metadataBytesPerPage: number;
  tableBytes: number;
  frameBytes: number;
  reps: number;
}

export function walkFigures(pages: number, reps: number, warmup: number): WalkFigures {
  const { mm, kernel } = populated(pages);
  const end = BASE + pages * PAGE_SIZE;
  const state: Count = { n: 0 };
  const perEntry = timeReps(reps, warmup, () => state, (s) => {
    walkPageRange(mm, BASE, end, noopEntryOps, s);
  });
  const batched = timeReps(reps, warmup, () => ((state.n = 0), state), (s) => {
    walkPageRange(mm, BASE, end, countBatchOps, s);
  });
  if (state.n !== pages) throw new Error(`batched walk counted ${state.n} present PTEs, expected ${pages}`);
  const tableBytes = kernel.tables.bytesInUse;
  const frameBytes = kernel.frames.metadataBytesInUse;
  mm.exit();
  // Diagnostic: below 2^31 addresses are V8 small integers, so passing them to a callback allocates nothing.
  const lowPages = Math.min(pages, 1 << 18);
  const low = populated(lowPages, LOW_BASE);
  const perEntryLow = timeReps(reps, warmup, () => state, (s) => {
    walkPageRange(low.mm, LOW_BASE, LOW_BASE + lowPages * PAGE_SIZE, noopEntryOps, s);
  });
  low.mm.exit();
  const figures: WalkFigures = {
    pages,
    perEntryNs: median(perEntry) / pages,
    perEntryLowNs: median(perEntryLow) / lowPages,
    lowPages,
    batchedNs: median(batched) / pages,
    metadataBytesPerPage: (tableBytes + frameBytes) / pages,
    tableBytes,
    frameBytes,
    reps,
  };
  return figures;
}

export interface RssFigures {
  pages: number;
  peakKiB: number;
  baselineKiB: number;
}

/** Runs `body` in a fresh Node process that imported core-walk; returns that process's peak RSS (KiB). */
function childPeakRss(pages: number): number {
  const coreUrl = pathToFileURL(createRequire(import.meta.url).resolve('@pagewalk/core-walk')).href;
  const code = `
    import * as cw from ${JSON.stringify(coreUrl)};
    import { readFileSync } from 'node:fs';
    const pages = ${pages};
    if (pages > 0) {
      const k = cw.createKernel();
      const mm = k.createMm();
      const r = mm.mmap(${BASE}, pages * cw.PAGE_SIZE, cw.PROT_READ | cw.PROT_WRITE,
        cw.MAP_PRIVATE | cw.MAP_ANONYMOUS | cw.MAP_FIXED_NOREPLACE | cw.MAP_POPULATE);
      if (r !== ${BASE} || k.frames.used < pages) { console.error('populate failed', r); process.exit(1); }
    }
    const hwm = /VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS, vmHWM: hwm ? Number(hwm[1]) : null }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`RSS child failed: ${r.stderr || r.error?.message}`);
  const out = JSON.parse(r.stdout.trim()) as { maxRSS: number; vmHWM: number | null };
  return out.vmHWM ?? out.maxRSS;
}

export function rssFigures(pages: number): RssFigures {
  return { pages, peakKiB: childPeakRss(pages), baselineKiB: childPeakRss(0) };
}

export interface GrowthFigures {
  sizes: number[];
  ms: number[];
  slope: number;
  reps: number;
}

/** Populate (MAP_POPULATE) + one batched walk, at each size; slope of log(time) over log(pages). */
export function growthFigures(log2From: number, log2To: number, reps: number): GrowthFigures {
  const sizes: number[] = [];
  const ms: number[] = [];
  // one untimed pass at the smallest size warms the JIT for every path
  timeReps(1, 1, () => 1 << log2From, (p) => populateAndWalk(p));
  for (let s = log2From; s <= log2To; s++) {
    const pages = 2 ** s;
    const t = timeReps(reps, 0, () => pages, (p) => populateAndWalk(p));
    sizes.push(pages);
    ms.push(median(t) / 1e6);
  }
  return { sizes, ms, slope: logLogSlope(sizes, ms), reps };
}

function populateAndWalk(pages: number): void {
  const { mm } = populated(pages);
  const state: Count = { n: 0 };
  walkPageRange(mm, BASE, BASE + pages * PAGE_SIZE, countBatchOps, state);
  if (state.n !== pages) throw new Error(`growth walk counted ${state.n}, expected ${pages}`);
}

export interface ContentFigures {
  pages: number;
  /** Host bytes of the page-content store per page written once at one offset. */
  contentBytesPerPage: number;
  /** The same plus page tables and frame metadata (everything a written page costs). */
  totalBytesPerPage: number;
}

/** Writes one byte at one offset of each of `pages` pages (no populate) and measures what the contents cost the host. */
export function contentFigures(pages: number): ContentFigures {
  const kernel = createKernel();
  const mm = kernel.createMm();
  const r = mm.mmap(BASE, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
  if (r !== BASE) throw new Error(`simulator mmap returned ${r}`);
  for (let i = 0; i < pages; i++) mm.access(BASE + i * PAGE_SIZE + 1234, AccessKind.Write, (i % 255) + 1);
  if (kernel.frames.contents.stored !== pages) throw new Error(`${kernel.frames.contents.stored} pages hold contents, expected ${pages}`);
  const content = kernel.frames.contents.hostBytes;
  const figures = {
    pages,
    contentBytesPerPage: content / pages,
    totalBytesPerPage: (content + kernel.tables.bytesInUse + kernel.frames.metadataBytesInUse) / pages,
  };
  mm.exit();
  return figures;
}
