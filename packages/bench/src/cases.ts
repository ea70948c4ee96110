/**
 * The seven comparison cases: each builds its layout in the simulator (the
 * public core-walk API plus the feature packages) and in a real process
 * (native/kbench.c), and times the same operation on both.
 */
import {
  AccessKind,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  PAGE_SIZE,
  PMD_SIZE,
  PROT_READ,
  PROT_WRITE,
  createKernel,
  type Feature,
  type Kernel,
  type Mm,
} from '@pagewalk/core-walk';
import type { FeatureDir } from './features.js';
import type { KernelCaseName } from './kernel-side.js';
import { makeGuardApi, makePagemapApi, makeScanApi, makeUffdApi, type ScanApi } from './sim-apis.js';

/** Where every layout starts, in both worlds: 16 TiB, 1 GiB aligned. */
export const BASE = 2 ** 44;

/** PAGEMAP_SCAN constants (include/uapi/linux/fs.h); kept here so the bench needs no feature package to describe a case. */
export const PAGE_IS_WRITTEN = 1 << 1;
export const PAGE_IS_PRESENT = 1 << 3;
export const PAGE_IS_HUGE = 1 << 6;
export const PM_SCAN_WP_MATCHING = 1 << 0;
export const PM_SCAN_CHECK_WPASYNC = 1 << 1;

export interface CaseSizes {
  /** Pages in the layout (for scan-sparse: pages in the range). */
  pages: number;
  reps: number;
  warmup: number;
  /**
   * Operations run back to back in one timed sample, on both sides (the
   * sample is divided by it). For cases so short that one timer pair and one
   * call would otherwise weigh more than 5 % of the sample.
   */
  inner?: number;
}

/** A prepared simulator run: `op` is what gets timed; `check` validates its result. */
export interface SimInstance {
  op(): number;
  /** Returns an error message when the op's result is not what the layout implies. */
  check(result: number): string | null;
  /** Restores state the op changed (untimed); absent when the op is read-only. */
  reset?(): void;
  dispose?(): void;
}

export interface CaseDef {
  id: string;
  number: number;
  title: string;
  kernelCase: KernelCaseName;
  target: number;
  needs: FeatureDir[];
  sizes(quick: boolean): CaseSizes;
  /** What the kernel run must report for the case to be valid. */
  expectKernel(pages: number): number;
  /** Builds the layout. `fresh` is true when each repetition needs its own layout (populate, guard). */
  prepare(pages: number, mods: Record<string, Record<string, unknown>>): SimInstance;
  fresh?: boolean;
  note: string;
}

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;

function mustMap(mm: Mm, addr: number, bytes: number, flags: number): void {
  const r = mm.mmap(addr, bytes, RW, flags);
  if (r !== addr) throw new Error(`simulator mmap(${addr}, ${bytes}) returned ${r}`);
}

function touch(mm: Mm, start: number, pages: number, stride: number): void {
  for (let i = 0; i < pages; i += stride) {
    const r = mm.access(start + i * PAGE_SIZE, AccessKind.Write, 0);
    if (r < 0) throw new Error(`simulator write fault at page ${i} failed: ${r}`);
  }
}

function kernelWith(features: Feature[]): Kernel {
  return createKernel({ features });
}

function expectEq(what: string, want: number) {
  return (got: number): string | null => (got === want ? null : `${what}: expected ${want}, got ${got}`);
}

function scanCase(scan: ScanApi, mm: Mm, pages: number, flags: number, mask: number, ret: number, vecLen: number) {
  const start = BASE;
  const end = BASE + pages * PAGE_SIZE;
  return () => scan(mm, { start, end, flags, categoryMask: mask, returnMask: ret, vecLen });
}

const full = (pages: number, reps = 5, warmup = 1) => (quick: boolean): CaseSizes =>
  quick ? { pages: Math.min(pages, 1 << 12), reps: 3, warmup: 1 } : { pages, reps, warmup };

export const CASES: CaseDef[] = [
  {
    id: '1a-scan-dense',
    number: 1,
    title: 'PAGEMAP_SCAN, 1,048,576 populated pages, one region',
    kernelCase: 'scan-dense',
    target: 1,
    needs: ['pagemap-scan'],
    sizes: full(1 << 20, 9),
    expectKernel: () => 1,
    prepare(pages, mods) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON | MAP_POPULATE);
      return { op: scanCase(makeScanApi(mods['pagemap-scan']!), mm, pages, 0, PAGE_IS_PRESENT, PAGE_IS_PRESENT, pages + 1), check: expectEq('regions', 1) };
    },
    note: 'mask=present return=present over a MAP_POPULATE (write) range',
  },
  {
    id: '1b-scan-alternate',
    number: 1,
    title: 'PAGEMAP_SCAN, every other page populated (524,288 regions)',
    kernelCase: 'scan-alternate',
    target: 1,
    needs: ['pagemap-scan'],
    sizes: full(1 << 20, 9),
    expectKernel: (pages) => pages / 2,
    prepare(pages, mods) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON);
      touch(mm, BASE, pages, 2);
      return { op: scanCase(makeScanApi(mods['pagemap-scan']!), mm, pages, 0, PAGE_IS_PRESENT, PAGE_IS_PRESENT, pages + 1), check: expectEq('regions', pages / 2) };
    },
    note: 'even pages written; mask=present return=present',
  },
  {
    id: '2-scan-thp',
    number: 2,
    title: 'PAGEMAP_SCAN over 1 GiB mapped with THP',
    kernelCase: 'scan-thp',
    target: 1,
    needs: ['pagemap-scan'],
    // One scan of 512 PMDs takes ~15 us on the kernel: 64 scans per timed sample make a sample ~1 ms.
    sizes: (quick) => (quick ? { pages: 1 << 12, reps: 3, warmup: 1, inner: 4 } : { pages: 1 << 18, reps: 7, warmup: 2, inner: 64 }),
    expectKernel: () => 1,
    prepare(pages, mods) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON);
      if (mm.madvise(BASE, pages * PAGE_SIZE, MADV_HUGEPAGE) !== 0) throw new Error('simulator MADV_HUGEPAGE failed');
      for (let off = 0; off < pages * PAGE_SIZE; off += PMD_SIZE) touch(mm, BASE + off, 1, 1);
      return { op: scanCase(makeScanApi(mods['pagemap-scan']!), mm, pages, 0, PAGE_IS_PRESENT, PAGE_IS_PRESENT | PAGE_IS_HUGE, pages + 1), check: expectEq('regions', 1) };
    },
    note: 'MADV_HUGEPAGE, one write per 2 MiB; return=present|huge (one region); 64 scans per timed sample',
  },
  {
    id: '3-scan-sparse',
    number: 3,
    title: 'PAGEMAP_SCAN over a sparse 64 TiB range holding 1,000 populated pages',
    kernelCase: 'scan-sparse',
    target: 1,
    needs: ['pagemap-scan'],
    sizes: (quick) => (quick ? { pages: 1 << 24, reps: 3, warmup: 1 } : { pages: 2 ** 34, reps: 7, warmup: 2 }),
    expectKernel: () => 1000,
    prepare(pages, mods) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON | MAP_NORESERVE);
      const step = Math.floor(pages / 1000);
      for (let i = 0; i < 1000; i++) touch(mm, BASE + i * step * PAGE_SIZE, 1, 1);
      return { op: scanCase(makeScanApi(mods['pagemap-scan']!), mm, pages, 0, PAGE_IS_PRESENT, PAGE_IS_PRESENT, 4096), check: expectEq('regions', 1000) };
    },
    note: 'MAP_NORESERVE range, 1,000 pages spread evenly; mask=present',
  },
  {
    id: '4-scan-wp',
    number: 4,
    title: 'PAGEMAP_SCAN WP_MATCHING over a uffd-wp async range of 262,144 pages, half written',
    kernelCase: 'scan-wp',
    target: 1,
    needs: ['pagemap-scan', 'uffd-wp'],
    sizes: full(1 << 18, 9),
    expectKernel: (pages) => pages / 2,
    prepare(pages, mods) {
      const uffd = makeUffdApi(mods['uffd-wp']!);
      const k = kernelWith(uffd.features);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON | MAP_POPULATE);
      uffd.registerWpAsync(mm, BASE, pages * PAGE_SIZE);
      const op = scanCase(makeScanApi(mods['pagemap-scan']!), mm, pages, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC, PAGE_IS_WRITTEN, PAGE_IS_WRITTEN, pages + 1);
      const reset = () => touch(mm, BASE, pages, 2);
      reset();
      return { op, reset, check: expectEq('regions', pages / 2) };
    },
    note: 'populated, registered WP (WP_ASYNC), write-protected; even pages rewritten before each scan (untimed); flags WP_MATCHING|CHECK_WPASYNC, mask=written',
  },
  {
    id: '5-pagemap-read',
    number: 5,
    title: '/proc/pid/pagemap read of 1,048,576 entries',
    kernelCase: 'pagemap-read',
    target: 1,
    needs: ['pagemap-scan'],
    sizes: full(1 << 20, 9),
    expectKernel: (pages) => pages,
    prepare(pages, mods) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON | MAP_POPULATE);
      const read = makePagemapApi(mods['pagemap-scan']!, pages);
      return { op: () => read(mm, BASE, pages), check: expectEq('entries', pages) };
    },
    note: 'one read of 8 bytes x pages, populated range',
  },
  {
    id: '6-populate',
    number: 6,
    title: 'populating 1,048,576 pages by write faults',
    kernelCase: 'populate',
    target: 2,
    needs: [],
    sizes: full(1 << 20),
    expectKernel: (pages) => pages,
    fresh: true,
    prepare(pages) {
      const k = kernelWith([]);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON);
      return {
        op: () => {
          for (let i = 0; i < pages; i++) mm.access(BASE + i * PAGE_SIZE, AccessKind.Write, 0);
          return pages;
        },
        check: () => (k.frames.used >= pages ? null : `only ${k.frames.used} frames in use`),
        dispose: () => mm.exit(),
      };
    },
    note: 'one write per page in address order (simulator: mm.access(Write, value 0), so no page contents are stored)',
  },
  {
    id: '7-guard',
    number: 7,
    title: 'MADV_GUARD_INSTALL over 262,144 pages, then MADV_GUARD_REMOVE',
    kernelCase: 'guard',
    target: 1,
    needs: ['guard-pages'],
    sizes: full(1 << 18, 9),
    expectKernel: (pages) => pages,
    fresh: true,
    prepare(pages, mods) {
      const guard = makeGuardApi(mods['guard-pages']!);
      const k = kernelWith(guard.features);
      const mm = k.createMm();
      mustMap(mm, BASE, pages * PAGE_SIZE, ANON);
      const len = pages * PAGE_SIZE;
      return {
        op: () => {
          const a = mm.madvise(BASE, len, MADV_GUARD_INSTALL);
          if (a !== 0) return a;
          const b = mm.madvise(BASE, len, MADV_GUARD_REMOVE);
          return b !== 0 ? b : pages;
        },
        check: expectEq('result', pages),
        dispose: () => mm.exit(),
      };
    },
    note: 'fresh unpopulated mapping per repetition; install + remove timed together',
  },
];
