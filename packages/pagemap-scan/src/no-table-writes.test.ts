// PAGEMAP_SCAN only reads page tables: without write-protect flags a scan
// leaves the table and frame pools exactly as they were, and with
// PM_SCAN_WP_MATCHING every change comes through the provider registered
// under core-walk's UffdWpRangeToken (here a spy in front of uffd-wp's).
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  UffdWpRangeToken,
  checkInvariants,
  createKernel,
  type Feature,
  type Kernel,
  type Mm,
  type UffdWpRange,
} from '@pagewalk/core-walk';
import { UFFDIO_REGISTER_MODE_WP, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED, pagemapWpOps, uffdWp, userfaultfd } from '@pagewalk/uffd-wp';
import { PageRegionVec, pagemapScanFeature, pagemapScanIoctl, pmScanArgRaw, type PmScanArg } from './index.js';
import { PAGE_IS_PRESENT, PAGE_IS_WRITTEN, PM_SCAN_CHECK_WPASYNC, PM_SCAN_WP_MATCHING } from './uapi.js';

const BASE = 0x7e00_0000_0000;
const PAGE = 4096;
const PAGES = 2048;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

type Calls = Record<keyof UffdWpRange, number>;

/** A provider that counts calls and forwards them to `target` (null: does nothing). */
function spyFeature(target: UffdWpRange | null): { feature: Feature; calls: Calls } {
  const calls: Calls = { wpRange: 0, wpPtes: 0, wpPmd: 0, wpHugePte: 0, splitHugePmd: 0 };
  const spy: UffdWpRange = {
    wpRange: (...args) => (calls.wpRange++, target === null ? 0 : target.wpRange(...args)),
    wpPtes: (...args) => (calls.wpPtes++, target === null ? 0 : target.wpPtes(...args)),
    wpPmd: (...args) => void (calls.wpPmd++, target?.wpPmd(...args)),
    wpHugePte: (...args) => void (calls.wpHugePte++, target?.wpHugePte(...args)),
    splitHugePmd: (...args) => void (calls.splitHugePmd++, target?.splitHugePmd(...args)),
  };
  // Installed before uffd-wp: its registration comes first, and the scan takes the first.
  const feature: Feature = { name: 'spy-uffd-wp-range', install: (container) => container.register(UffdWpRangeToken, { useValue: spy }) };
  return { feature, calls };
}

/** Written, untouched, swapped-out and THP-backed pages in one WP_ASYNC registration. */
function setup(target: UffdWpRange | null): { kernel: Kernel; mm: Mm; calls: Calls } {
  const { feature, calls } = spyFeature(target);
  const kernel = createKernel({ profile: { swap: true }, features: [feature, uffdWp, pagemapScanFeature] });
  const mm = kernel.createMm();
  expect(mm.mmap(BASE, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(BASE);
  expect(mm.madvise(BASE + 1024 * PAGE, 512 * PAGE, MADV_HUGEPAGE)).toBe(0);
  mm.access(BASE + 1024 * PAGE, AccessKind.Write, 1);
  for (let page = 0; page < 600; page += 3) mm.access(BASE + page * PAGE, AccessKind.Write, 1);
  expect(mm.madvise(BASE + 300 * PAGE, 30 * PAGE, MADV_PAGEOUT)).toBe(0);
  const ctx = userfaultfd(mm, O_CLOEXEC | O_NONBLOCK);
  if (typeof ctx === 'number') throw new Error(`userfaultfd: ${ctx}`);
  expect(ctx.api({ api: 0xaa, features: UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED })).toBe(0);
  expect(ctx.register({ range: { start: BASE, len: PAGES * PAGE }, mode: UFFDIO_REGISTER_MODE_WP })).toBe(0);
  return { kernel, mm, calls };
}

function snapshot(kernel: Kernel) {
  return {
    entries: kernel.tables.entries.slice(),
    refcount: kernel.frames.refcount.slice(),
    mapcount: kernel.frames.mapcount.slice(),
    flags: kernel.frames.flags.slice(),
  };
}

function scan(mm: Mm, arg: Omit<PmScanArg, 'start' | 'end'> & { start?: number; end?: number }): number {
  const raw = pmScanArgRaw({ start: BASE, end: BASE + PAGES * PAGE, ...arg });
  return pagemapScanIoctl(mm, raw, new PageRegionVec());
}

describe('PAGEMAP_SCAN writes no page table itself', () => {
  it('scans without WP_MATCHING leave tables and frames as they were, and never call the provider', () => {
    const { kernel, mm, calls } = setup(pagemapWpOps);
    const before = snapshot(kernel);
    expect(scan(mm, {})).toBeGreaterThan(0);
    expect(scan(mm, { categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN, flags: PM_SCAN_CHECK_WPASYNC })).toBeGreaterThan(0);
    expect(scan(mm, { categoryAnyofMask: PAGE_IS_PRESENT, returnMask: 0x1ff, maxPages: 37 })).toBeGreaterThan(0);
    expect(scan(mm, { returnMask: 0x1ff, vecLen: 3 })).toBe(3);
    expect(scan(mm, { vecLen: 0, vec: 0 })).toBe(0);
    expect(snapshot(kernel)).toEqual(before);
    expect(calls).toEqual({ wpRange: 0, wpPtes: 0, wpPmd: 0, wpHugePte: 0, splitHugePmd: 0 });
  });

  it('WP_MATCHING changes tables only through the provider', () => {
    // A provider that does nothing: the scans find work for it, and nothing changes.
    // (Not a THP in part: after pagemap_scan_thp_entry's split the walker
    // descends, and it splits a PMD that is still huge itself.)
    const idle = setup(null);
    const before = snapshot(idle.kernel);
    expect(scan(idle.mm, { flags: PM_SCAN_WP_MATCHING, categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN })).toBeGreaterThan(0);
    expect(scan(idle.mm, { flags: PM_SCAN_WP_MATCHING, vecLen: 0, vec: 0 })).toBe(0);
    expect(snapshot(idle.kernel)).toEqual(before);
    expect(idle.calls.wpPtes).toBeGreaterThan(0);
    expect(idle.calls.wpRange).toBeGreaterThan(0);
    expect(idle.calls.wpPmd).toBeGreaterThan(0);
    expect(idle.calls.splitHugePmd).toBe(0);

    // uffd-wp's provider behind the spy: the same scans write-protect.
    const real = setup(pagemapWpOps);
    const partial = { start: BASE + 1100 * PAGE, end: BASE + 1200 * PAGE, flags: PM_SCAN_WP_MATCHING };
    expect(scan(real.mm, partial)).toBeGreaterThan(0);
    expect(real.calls.splitHugePmd).toBe(1);
    expect(scan(real.mm, { flags: PM_SCAN_WP_MATCHING, categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN })).toBeGreaterThan(0);
    expect(scan(real.mm, { categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_WRITTEN })).toBe(0);
    expect(real.calls.wpPtes).toBeGreaterThan(0);
    expect(real.calls.wpRange).toBeGreaterThan(0);
    expect(checkInvariants(real.kernel)).toEqual([]);
  });
});
