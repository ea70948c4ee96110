import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  checkInvariants,
  createKernel,
  makeGuardPte,
  makeMigrationEntry,
  ptePfn,
  type Kernel,
  type Mm,
} from '@pagewalk/core-walk';
import { plantPteForTest } from '@pagewalk/core-walk/testing';
import {
  PAGE_IS_FILE,
  PAGE_IS_GUARD,
  PAGE_IS_HUGE,
  PAGE_IS_PFNZERO,
  PAGE_IS_PRESENT,
  PAGE_IS_SWAPPED,
  PAGE_IS_WPALLOWED,
  PAGE_IS_WRITTEN,
  PM_SCAN_DEFAULT_VEC,
  PageRegionVec,
  PagemapScanServiceToken,
  USER_PTR_MAX,
  pagemapScan,
  pagemapScanFeature,
  plugin,
  pagemapScanIoctl,
  pmScanArgRaw,
  readPagemap,
  regionCategoryNames,
  type PmScanArg,
  type PmScanResult,
} from './index.js';
import { DEFAULT_ARENA_BASE as ARENA_BASE, createScenarioSession, type ScenarioSession } from '@pagewalk/scenario-runner';
import type { Scenario } from '@pagewalk/scenario';
import { plugin as uffdWp } from '@pagewalk/uffd-wp';


const PAGE = 4096;
const at = (page: number) => ARENA_BASE + page * PAGE;

function setup(profile: Parameters<typeof createKernel>[0] = {}): { kernel: Kernel; mm: Mm } {
  const kernel = createKernel({ ...profile, features: [pagemapScanFeature, ...(profile.features ?? [])] });
  return { kernel, mm: kernel.createMm() };
}

function map(mm: Mm, page: number, pages: number, flags = MAP_PRIVATE | MAP_ANONYMOUS, file: Parameters<Mm['mmap']>[4] = null): void {
  expect(mm.mmap(at(page), pages * PAGE, PROT_READ | PROT_WRITE, flags | MAP_FIXED_NOREPLACE, file)).toBe(at(page));
}

function write(mm: Mm, page: number, pages = 1, value = 1): void {
  for (let i = 0; i < pages; i++) expect(mm.access(at(page + i), AccessKind.Write, value)).toBe(0);
}

function read(mm: Mm, page: number, pages = 1): void {
  for (let i = 0; i < pages; i++) expect(mm.access(at(page + i), AccessKind.Read)).toBeGreaterThanOrEqual(0);
}

/** Scan pages [page, page + pages) and return regions as [startPage, endPage, names]. */
// `any`: a test either expects an errno or reads the fields.
function scan(mm: Mm, page: number, pages: number, arg: Omit<PmScanArg, 'start' | 'end'> = {}): any {
  const result = pagemapScan(mm, { returnMask: ['all'], ...arg, start: at(page), end: at(page + pages) });
  if (typeof result === 'number') return result;
  return {
    ret: result.ret,
    walkEnd: (result.walkEnd - ARENA_BASE) / PAGE,
    regions: result.regions.map((r) => [(r.start - ARENA_BASE) / PAGE, (r.end - ARENA_BASE) / PAGE, regionCategoryNames(r)]),
  };
}

/** Replaces one PTE (a test's way to plant markers and special entries). */
function setPte(mm: Mm, page: number, make: (old: number) => number): void {
  plantPteForTest(mm, at(page), make);
}

describe('argument validation (pagemap_scan_get_args order and errno)', () => {
  const { mm } = setup();
  map(mm, 0, 8);
  const raw = (override: Partial<ReturnType<typeof pmScanArgRaw>>) => {
    const arg = { ...pmScanArgRaw({ start: at(0), end: at(8) }), ...override };
    return pagemapScanIoctl(mm, arg, new PageRegionVec());
  };

  it('size must be 96', () => {
    for (const size of [0, 95, 97, 2 ** 63]) expect(raw({ size })).toBe(-Errno.EINVAL);
    expect(raw({ size: 96 })).toBe(1);
  });
  it('unknown flags are EINVAL, also far above 32 bits', () => {
    for (const flags of [4, 255, 2 ** 32, 2 ** 63, -1]) expect(raw({ flags })).toBe(-Errno.EINVAL);
  });
  it('unknown category bits in any mask are EINVAL', () => {
    expect(raw({ categoryMask: 512 })).toBe(-Errno.EINVAL);
    expect(raw({ returnMask: 2 ** 62 })).toBe(-Errno.EINVAL);
    expect(raw({ categoryAnyofMask: 4096 })).toBe(-Errno.EINVAL);
    expect(raw({ categoryInverted: 2 ** 63 })).toBe(-Errno.EINVAL);
    expect(raw({ categoryMask: 511, returnMask: 511 })).toBe(0);
  });
  it('an unaligned start is EINVAL (checked before the range)', () => {
    expect(raw({ start: at(0) + 1 })).toBe(-Errno.EINVAL);
    expect(raw({ start: at(0) + 2048, end: at(0) - 4096 })).toBe(-Errno.EINVAL);
  });
  it('end below start or beyond user space is EFAULT', () => {
    expect(raw({ end: at(0) - PAGE })).toBe(-Errno.EFAULT);
    expect(raw({ end: at(0) + 2 ** 62 })).toBe(-Errno.EFAULT);
    expect(raw({ end: USER_PTR_MAX + 1 })).toBe(-Errno.EFAULT);
    expect(raw({ start: -PAGE })).toBe(-Errno.EFAULT);
  });
  it('vec NULL with vec_len is EINVAL; NULL with 0 is fine; an oversized vector is EFAULT', () => {
    expect(raw({ vec: 0 })).toBe(-Errno.EINVAL);
    expect(raw({ vec: 0, vecLen: 0 })).toBe(0);
    expect(raw({ vecLen: 2 ** 60 })).toBe(-Errno.EFAULT);
    expect(raw({ vecLen: 2 ** 62 })).toBe(-Errno.EFAULT);
    expect(raw({ vec: USER_PTR_MAX, vecLen: 1 })).toBe(-Errno.EFAULT);
  });
  it('no walk_end write-back on a validation failure, walk_end = end for an empty range', () => {
    const bad = { ...pmScanArgRaw({ start: at(0), end: at(8) }), size: 1, walkEnd: 123 };
    pagemapScanIoctl(mm, bad, new PageRegionVec());
    expect(bad.walkEnd).toBe(123);
    expect(scan(mm, 3, 0)).toEqual({ ret: 0, walkEnd: 3, regions: [] });
  });
  it('end is rounded up; a start below every VMA is fine', () => {
    write(mm, 0, 8);
    const result = pagemapScan(mm, { start: at(0), end: at(1) + 1, returnMask: ['all'] }) as PmScanResult;
    expect(result.walkEnd).toBe(at(2));
    expect(scan(mm, -2, 10).regions).toEqual([[0, 8, ['written', 'present']]]);
  });
  it('names: true gives each region its category names beside the mask (typed)', () => {
    write(mm, 0, 2);
    const result = pagemapScan(mm, { start: at(0), end: at(4), returnMask: ['present', 'written'], names: true });
    if (typeof result === 'number') throw new Error(`scan failed: ${result}`);
    const names: string[] = result.regions[0]!.names;
    expect(names).toEqual(['written', 'present']);
    expect(result.regions[0]!.categories).toBe(PAGE_IS_WRITTEN | PAGE_IS_PRESENT);
    const plain = pagemapScan(mm, { start: at(0), end: at(4), returnMask: ['present'] }) as PmScanResult;
    expect('names' in plain.regions[0]!).toBe(false);
  });
  it('max_pages of 2^63 means no practical limit', () => {
    expect(raw({ maxPages: 2 ** 63 })).toBe(1);
  });
  it('the default vector is a valid user address', () => {
    expect(PM_SCAN_DEFAULT_VEC).toBeLessThan(USER_PTR_MAX);
  });
});

describe('categories', () => {
  it('present, written, zero page, empty PTE in a table, hole without a table', () => {
    const { mm } = setup();
    map(mm, 0, 16);
    map(mm, 600, 8);
    write(mm, 0, 2);
    read(mm, 2, 2);
    expect(scan(mm, 0, 1024).regions).toEqual([
      [0, 2, ['written', 'present']],
      [2, 4, ['written', 'present', 'pfnzero']],
      [4, 16, ['written']],
      [600, 608, []],
    ]);
  });

  it('FILE for shared memfd, shmem and page-cache pages; not for private COW copies', () => {
    const { kernel, mm } = setup();
    const file = kernel.memfdCreate('f', 4 * PAGE);
    if (typeof file === 'number') throw new Error('memfd');
    map(mm, 0, 4, MAP_SHARED, file);
    map(mm, 8, 4, MAP_SHARED | MAP_ANONYMOUS);
    write(mm, 0);
    write(mm, 8);
    expect(scan(mm, 0, 12, { categoryMask: ['file'] }).regions).toEqual([
      [0, 1, ['written', 'file', 'present']],
      [8, 9, ['written', 'file', 'present']],
    ]);
    // FILE is looked up only when some mask asks for it.
    expect(scan(mm, 0, 1, { returnMask: ['present'] }).regions).toEqual([[0, 1, ['present']]]);
  });

  it('written pages that are file-backed and not swapped', () => {
    const { kernel, mm } = setup({ profile: { swap: true } });
    const file = kernel.memfdCreate('f', 8 * PAGE);
    if (typeof file === 'number') throw new Error('memfd');
    map(mm, 0, 8, MAP_PRIVATE, file);
    read(mm, 0, 4); // page cache pages, FILE
    write(mm, 4, 4); // private COW copies: anon
    map(mm, 16, 4);
    write(mm, 16, 4);
    expect(mm.madvise(at(16), 2 * PAGE, MADV_PAGEOUT)).toBe(0);
    const arg = { categoryMask: ['written', 'file', 'swapped'], categoryInverted: ['swapped'], returnMask: ['written', 'file'] } as const;
    expect(scan(mm, 0, 20, arg).regions).toEqual([[0, 4, ['written', 'file']]]);
    expect(scan(mm, 16, 4).regions).toEqual([
      [16, 18, ['written', 'swapped']],
      [18, 20, ['written', 'present']],
    ]);
  });

  it('PTE markers and pfn swap entries: guard, migration of a file page', () => {
    const { kernel, mm } = setup();
    const file = kernel.memfdCreate('f', 4 * PAGE);
    if (typeof file === 'number') throw new Error('memfd');
    map(mm, 0, 4, MAP_SHARED, file);
    write(mm, 0, 4);
    setPte(mm, 1, () => makeGuardPte());
    let pfn = 0;
    setPte(mm, 2, (old) => {
      pfn = ptePfn(old);
      return makeMigrationEntry(pfn, true);
    });
    expect(scan(mm, 0, 4).regions).toEqual([
      [0, 1, ['written', 'file', 'present']],
      [1, 2, ['written', 'swapped', 'guard']],
      [2, 3, ['written', 'file', 'swapped']],
      [3, 4, ['written', 'file', 'present']],
    ]);
    expect(scan(mm, 0, 4, { categoryAnyofMask: PAGE_IS_GUARD }).regions).toEqual([[1, 2, ['written', 'swapped', 'guard']]]);
    const entries = readPagemap(mm, at(1), 2);
    if (typeof entries === 'number') throw new Error('pagemap');
    expect(entries.length).toBe(2);
  });

  it('THP PMDs and hugetlb pages are HUGE; PTE-mapped pages are not', () => {
    const { mm } = setup({ profile: { thp: 'madvise', hugetlbPages: 2 } });
    map(mm, 512, 512);
    expect(mm.madvise(at(512), 512 * PAGE, MADV_HUGEPAGE)).toBe(0);
    write(mm, 512);
    expect(scan(mm, 512, 512).regions).toEqual([[512, 1024, ['written', 'present', 'huge']]]);
    // Non-WP scans never split; a partial range still reports HUGE.
    expect(scan(mm, 600, 10).regions).toEqual([[600, 610, ['written', 'present', 'huge']]]);
    map(mm, 1024, 1024, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB);
    write(mm, 1024);
    expect(scan(mm, 1024, 1024).regions).toEqual([
      [1024, 1536, ['written', 'present', 'huge']],
      [1536, 2048, ['huge']],
    ]);
    // Zapping the whole PMD leaves no page table: a hole, VMA categories only.
    expect(mm.madvise(at(512), 512 * PAGE, MADV_DONTNEED)).toBe(0);
    expect(scan(mm, 512, 512).regions).toEqual([[512, 1024, []]]);
  });

  it('huge zero page: PFNZERO and HUGE', () => {
    const { mm } = setup({ profile: { thp: 'madvise' } });
    map(mm, 512, 512);
    expect(mm.madvise(at(512), 512 * PAGE, MADV_HUGEPAGE)).toBe(0);
    read(mm, 512);
    expect(scan(mm, 512, 512).regions).toEqual([[512, 1024, ['written', 'present', 'pfnzero', 'huge']]]);
  });
});

describe('masks, coalescing and limits', () => {
  const { mm } = setup();
  map(mm, 0, 16);
  write(mm, 0, 8);

  it('inverted, anyof and required masks', () => {
    expect(scan(mm, 0, 16, { categoryInverted: ['present'], categoryMask: ['present'] }).regions).toEqual([[8, 16, ['written']]]);
    expect(scan(mm, 0, 16, { categoryAnyofMask: ['present', 'swapped'] }).regions).toEqual([[0, 8, ['written', 'present']]]);
    expect(scan(mm, 0, 16, { categoryMask: PAGE_IS_PRESENT | PAGE_IS_PFNZERO }).regions).toEqual([]);
  });
  it('return_mask 0 still reports (and counts) matching pages', () => {
    expect(scan(mm, 0, 16, { returnMask: 0 })).toEqual({ ret: 1, walkEnd: 16, regions: [[0, 16, []]] });
  });
  it('max_pages stops in the middle of a region, walk_end at the cut', () => {
    expect(scan(mm, 0, 16, { categoryMask: ['present'], maxPages: 3 })).toEqual({ ret: 1, walkEnd: 3, regions: [[0, 3, ['written', 'present']]] });
    expect(scan(mm, 0, 16, { maxPages: 10 })).toEqual({
      ret: 2,
      walkEnd: 10,
      regions: [
        [0, 8, ['written', 'present']],
        [8, 10, ['written']],
      ],
    });
  });
  it('vec_len full: walk_end is the first page that did not fit', () => {
    const { mm: other } = setup();
    map(other, 0, 16);
    for (const page of [0, 2, 4, 6]) write(other, page);
    expect(scan(other, 0, 16, { categoryMask: ['present'], vecLen: 2 })).toMatchObject({ ret: 2, walkEnd: 4 });
    expect(scan(other, 0, 16, { categoryMask: ['present'], vecLen: 4 })).toMatchObject({ ret: 4, walkEnd: 16 });
    expect(scan(other, 0, 16, { vecLen: 1 })).toEqual({ ret: 1, walkEnd: 1, regions: [[0, 1, ['written', 'present']]] });
  });
  it('vec_len 0 reports nothing and ignores max_pages', () => {
    expect(scan(mm, 0, 16, { vecLen: 0, maxPages: 1 })).toEqual({ ret: 0, walkEnd: 16, regions: [] });
  });
  it('more regions than one bounce buffer (512) are all delivered', () => {
    const { mm: many } = setup();
    map(many, 0, 2048);
    for (let page = 0; page < 2048; page += 2) write(many, page);
    const result = scan(many, 0, 2048, { categoryMask: ['present'] });
    if (typeof result === 'number') throw new Error('scan');
    expect(result.ret).toBe(1024);
    expect(result.regions[1023]).toEqual([2046, 2047, ['written', 'present']]);
  });
  it('regions coalesce across VMA boundaries', () => {
    const { mm: vmas } = setup();
    map(vmas, 0, 4);
    expect(vmas.mmap(at(4), 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(at(4));
    write(vmas, 0, 4);
    read(vmas, 4, 4);
    expect(scan(vmas, 0, 8, { categoryMask: ['written'], returnMask: ['written'] }).regions).toEqual([[0, 8, ['written']]]);
  });
});

describe('write-protect (with @pagewalk/uffd-wp in WP_ASYNC mode)', () => {
  const features = [plugin, uffdWp];
  /** A process with pagemap-scan and uffd-wp, [page, page + pages) mapped and registered for async write-protect. */
  function wpSession(page: number, pages: number, profile: Scenario['profile'] = {}, hugetlb = false): ScenarioSession {
    const session = createScenarioSession({ arena_pages: page + pages, profile }, { features });
    expect(session.execute({ op: 'mmap', page, pages, prot: 'rw', backing: 'anon', map: 'private', populate: false, hugetlb })).toEqual({ op: 'mmap', ret: 0 });
    expect(session.execute({ op: 'uffd_open', features: ['wp_async'] })).toEqual({ op: 'uffd_open', ret: 0 });
    expect(session.execute({ op: 'uffd_register', page, pages, modes: ['wp'] })).toEqual({ op: 'uffd_register', ret: 0 });
    return session;
  }
  function wpSetup(pages = 16) {
    const { kernel, mm } = wpSession(0, pages);
    return { kernel, mm };
  }
  const written = { categoryMask: ['written'], returnMask: ['written'] } as const;

  it('dirty → scan+WP → clean → write one page → only that page is reported', () => {
    const { kernel, mm } = wpSetup();
    write(mm, 0, 16);
    expect(scan(mm, 0, 16, { ...written, flags: ['wp_matching'] }).regions).toEqual([[0, 16, ['written']]]);
    expect(scan(mm, 0, 16, written).regions).toEqual([]);
    write(mm, 5);
    expect(scan(mm, 0, 16, written).regions).toEqual([[5, 6, ['written']]]);
    expect(scan(mm, 0, 16, { ...written, flags: ['wp_matching', 'check_wpasync'] }).regions).toEqual([[5, 6, ['written']]]);
    expect(scan(mm, 0, 16, written).regions).toEqual([]);
    expect(checkInvariants(kernel)).toEqual([]);
  });
  it('WPALLOWED on registered VMAs only; CHECK_WPASYNC fails with EPERM elsewhere', () => {
    const { mm } = wpSetup(8);
    map(mm, 100, 8);
    expect(scan(mm, 0, 8).regions).toEqual([[0, 8, ['wpallowed', 'written']]]);
    expect(scan(mm, 0, 8, { categoryMask: PAGE_IS_WPALLOWED, flags: ['check_wpasync'] })).toMatchObject({ ret: 1 });
    expect(scan(mm, 0, 108, { flags: ['check_wpasync'] })).toBe(-Errno.EPERM);
    expect(scan(mm, 100, 8, { flags: ['wp_matching'] })).toEqual({ ret: 0, walkEnd: 108, regions: [] });
  });
  it('fast path A (vec_len 0) protects every PTE regardless of masks; holes get markers', () => {
    const { mm } = wpSetup(1024);
    write(mm, 3);
    expect(scan(mm, 0, 1024, { flags: ['wp_matching'], categoryMask: ['present'], vecLen: 0 })).toEqual({ ret: 0, walkEnd: 1024, regions: [] });
    expect(scan(mm, 0, 1024).regions).toEqual([
      [0, 3, ['wpallowed', 'swapped']],
      [3, 4, ['wpallowed', 'present']],
      // No page table here before: the hole did not match "present", so no markers.
      [4, 512, ['wpallowed', 'swapped']],
      [512, 1024, ['wpallowed', 'written']],
    ]);
    const entries = readPagemap(mm, at(0), 1);
    if (typeof entries === 'number') throw new Error('pagemap');
    expect(entries.flags[0]).toBeGreaterThan(0);
  });
  it('max_pages with WP protects exactly what was reported', () => {
    const { mm } = wpSetup();
    write(mm, 0, 16);
    expect(scan(mm, 0, 16, { ...written, flags: ['wp_matching'], maxPages: 5 })).toEqual({ ret: 1, walkEnd: 5, regions: [[0, 5, ['written']]] });
    expect(scan(mm, 0, 16, written).regions).toEqual([[5, 16, ['written']]]);
  });
  it('a THP partly in range is split; a whole one is protected as a PMD', () => {
    const { kernel, mm } = wpSession(512, 1024, { thp: 'madvise' });
    expect(mm.madvise(at(512), 1024 * PAGE, MADV_HUGEPAGE)).toBe(0);
    write(mm, 512);
    write(mm, 1024);
    expect(scan(mm, 512, 256, { ...written, flags: ['wp_matching'] }).regions).toEqual([[512, 768, ['written']]]);
    expect(scan(mm, 1024, 512, { ...written, flags: ['wp_matching'] }).regions).toEqual([[1024, 1536, ['written']]]);
    expect(scan(mm, 512, 1024).regions).toEqual([
      [512, 768, ['wpallowed', 'present']],
      [768, 1024, ['wpallowed', 'written', 'present']],
      [1024, 1536, ['wpallowed', 'present', 'huge']],
    ]);
    expect(checkInvariants(kernel)).toEqual([]);
  });
  it('a hugetlb page partly in range is left out and walk_end moves back (ret 0, not an error)', () => {
    const { mm } = wpSession(512, 1024, { hugetlb_pages: 2 }, true);
    write(mm, 512);
    write(mm, 1024);
    // The first page is partial: backed out, walk_end = where that page's part of the range starts;
    // the walk goes on and the second page, whole, is protected.
    expect(scan(mm, 700, 836, { ...written, flags: ['wp_matching'] })).toEqual({ ret: 1, walkEnd: 700, regions: [[1024, 1536, ['written']]] });
    expect(scan(mm, 512, 1024, written).regions).toEqual([[512, 1024, ['written']]]);
  });
  it('UFFDIO_WRITEPROTECT (uffd_wp) leaves nothing written', () => {
    const session = wpSession(0, 16);
    write(session.mm, 0, 16);
    expect(session.execute({ op: 'uffd_wp', page: 0, pages: 16, wp: true })).toEqual({ op: 'uffd_wp', ret: 0 });
    expect(scan(session.mm, 0, 16, written).regions).toEqual([]);
  });
});

describe('typed API', () => {
  it('accepts masks as numbers or names and returns byte addresses', () => {
    const { mm } = setup();
    map(mm, 0, 4);
    write(mm, 0, 4);
    const result = pagemapScan(mm, { start: at(0), end: at(4), categoryMask: PAGE_IS_WRITTEN, returnMask: PAGE_IS_PRESENT | PAGE_IS_FILE | PAGE_IS_SWAPPED | PAGE_IS_HUGE });
    expect(result).toEqual({ ret: 1, walkEnd: at(4), regions: [{ start: at(0), end: at(4), categories: PAGE_IS_PRESENT }] });
    expect(pagemapScan(mm, { start: at(0), end: at(4), vec: 0 })).toEqual({ ret: 0, walkEnd: at(4), regions: [] });
    expect(pagemapScan(mm, { start: at(0) + 1, end: at(4) })).toBe(-Errno.EINVAL);
  });
  it('PagemapScanServiceToken exposes the API', () => {
    const { kernel } = setup();
    expect(kernel.resolve(PagemapScanServiceToken)[0]?.pagemapScan).toBe(pagemapScan);
  });
});

describe('u64 counts above 2^53', () => {
  it('takes vecLen and maxPages as exact doubles or bigints and gives the kernel results (corpus scan-u64-counts)', () => {
    const kernel = createKernel({ features: [pagemapScanFeature] });
    const mm = kernel.createMm();
    const base = mm.mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    for (const page of [0, 1, 2, 8]) mm.access(base + page * 4096, AccessKind.Write, 1);
    const scan = (extra: { vecLen?: number | bigint; maxPages?: number | bigint }) =>
      pagemapScan(mm, { start: base, end: base + 16 * 4096, categoryMask: ['present'], returnMask: ['all'], ...extra });
    // vec_len * sizeof(page_region) saturates or leaves user space: EFAULT.
    expect(scan({ vecLen: 2 ** 60 })).toBe(-Errno.EFAULT);
    expect(scan({ vecLen: 2n ** 60n })).toBe(-Errno.EFAULT);
    expect(scan({ vecLen: 2n ** 64n - 1n })).toBe(-Errno.EFAULT);
    expect(scan({ vecLen: -1n })).toBe(-Errno.EFAULT); // wraps to 2^64 - 1, as a u64 does
    // max_pages that large is no limit.
    const all = scan({ maxPages: 2 ** 60 });
    expect(all).toEqual(scan({ maxPages: 2n ** 64n - 2048n }));
    expect(typeof all === 'object' && all.ret).toBe(2);
    expect(scan({ maxPages: 2n ** 53n, vecLen: 1n })).toMatchObject({ ret: 1, walkEnd: base + 8 * 4096 });
  });
});
