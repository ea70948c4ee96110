/**
 * The PAGEMAP_SCAN ioctl (fs/proc/task_mmu.c: pagemap_scan_get_args,
 * do_pagemap_scan): argument validation with the kernel's errno values,
 * the bounce buffer, the walk / flush loop and walk_end.
 *
 * Two forms:
 * - `pagemapScanIoctl(mm, arg, vec)`: the raw struct pm_scan_arg, its 12
 *   u64 fields given as numbers (exact doubles, so 2^63 and friends behave
 *   as in the kernel); walk_end is written back into `arg` and the regions
 *   into `vec`, the simulated user vector.
 * - `pagemapScan(mm, arg)`: a typed call taking names or masks, returning
 *   `{ ret, walkEnd, regions }` or a negative errno.
 */
import { Errno, PAGE_SIZE, PagewalkArgumentError, UffdWpRangeToken, walkPageRange, type Kernel, type Mm, type MmWalkOps } from '@pagewalk/core-walk';
import { bindScanBuffer, createPagemapScanState, createScanEnv, flushScanBuffer, type PagemapScanState, type RegionSink } from './scan-state.js';
import { categoryArgsKey } from './scan-pte.js';
import { holesMayMatch, pagemapScanWalkOps, pagemapScanWalkOpsNoHoles } from './scan-walk.js';
import {
  PM_SCAN_CHECK_WPASYNC,
  PM_SCAN_WP_MATCHING,
  PAGE_REGION_SIZE,
  PM_SCAN_ARG_SIZE,
  PM_SCAN_BOUNCE_REGIONS,
  PM_SCAN_CATEGORIES,
  PM_SCAN_DEFAULT_VEC,
  PM_SCAN_DEFAULT_VEC_LEN,
  PM_SCAN_FLAGS,
  PM_SCAN_FLAG_NAMES,
  USER_PTR_MAX,
  categoryMask,
  categoryNames,
  type PmScanCategoryName,
  type PmScanFlagName,
} from './uapi.js';
import { uffdWpAsyncQueryOf } from './uffd-wp-async-query.js';

/** struct pm_scan_arg, field for field (u64 values as numbers). */
export interface PmScanArgRaw {
  size: number;
  flags: number;
  start: number;
  end: number;
  /** Output: where the scan stopped. */
  walkEnd: number;
  /** User address of the page_region vector; 0 is NULL. */
  vec: number;
  vecLen: number;
  maxPages: number;
  categoryInverted: number;
  categoryMask: number;
  categoryAnyofMask: number;
  returnMask: number;
}

/** One struct page_region. */
export interface PageRegion {
  start: number;
  end: number;
  categories: number;
}

/**
 * The simulated user vector the ioctl copies regions into: parallel typed
 * arrays that grow as needed (no object per region until `toArray()`).
 */
export class PageRegionVec implements RegionSink {
  length = 0;
  starts: Float64Array;
  ends: Float64Array;
  categories: Uint16Array;

  constructor(capacity = 16) {
    this.starts = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
    this.categories = new Uint16Array(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  /** Makes room for `count` more regions (at least doubling, so appends stay amortised O(1)). */
  reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.starts.length) return;
    const capacity = Math.max(needed, this.starts.length * 2);
    const grownStarts = new Float64Array(capacity);
    grownStarts.set(this.starts.subarray(0, this.length));
    const grownEnds = new Float64Array(capacity);
    grownEnds.set(this.ends.subarray(0, this.length));
    const grownCategories = new Uint16Array(capacity);
    grownCategories.set(this.categories.subarray(0, this.length));
    this.starts = grownStarts;
    this.ends = grownEnds;
    this.categories = grownCategories;
  }

  /** Appends the first `count` regions of a bounce buffer (pagemap_scan_flush_buffer's copy_to_user). */
  append(starts: Float64Array, ends: Float64Array, categories: Uint16Array, count: number): void {
    const at = this.length;
    if (at + count > this.starts.length) this.reserve(count);
    if (count === starts.length) {
      // A full bounce buffer: plain block copies.
      this.starts.set(starts, at);
      this.ends.set(ends, at);
      this.categories.set(categories, at);
    } else {
      const outStarts = this.starts;
      const outEnds = this.ends;
      const outCategories = this.categories;
      for (let i = 0; i < count; i++) {
        outStarts[at + i] = starts[i]!;
        outEnds[at + i] = ends[i]!;
        outCategories[at + i] = categories[i]!;
      }
    }
    this.length = at + count;
  }

  toArray(): PageRegion[] {
    const out: PageRegion[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = { start: this.starts[i]!, end: this.ends[i]!, categories: this.categories[i]! };
    return out;
  }
}

const TWO_TO_64 = 2 ** 64;

/** A u64 given as a double: negative values wrap as the C conversion would. NaN for non-integers. */
function u64(value: number): number {
  if (!Number.isInteger(value)) return NaN;
  return value < 0 ? value + TWO_TO_64 : value;
}

/** Some bit outside `valid` (a 2^k - 1 mask) is set in the u64 `value`. */
function hasBitsOutside(value: number, valid: number): boolean {
  const v = u64(value);
  return !(v >= 0 && v <= valid);
}

/** x86-64 access_ok(ptr, size) for u64 values: ptr + size neither wraps nor passes USER_PTR_MAX. */
function accessOk(ptr: number, size: number): boolean {
  return ptr + size <= USER_PTR_MAX;
}

/**
 * pagemap_scan_get_args: the checks in the kernel's order, then the
 * fix-ups (end rounded up, max_pages 0 = no limit). Fills `p` or returns
 * a negative errno.
 */
function pagemapScanGetArgs(arg: PmScanArgRaw, p: PagemapScanState): number {
  for (const key of ['size', 'flags', 'start', 'end', 'vec', 'vecLen', 'maxPages', 'categoryInverted', 'categoryMask', 'categoryAnyofMask', 'returnMask'] as const) {
    if (!Number.isInteger(arg[key])) return -Errno.EINVAL; // not a value a u64 field can hold
  }
  if (u64(arg.size) !== PM_SCAN_ARG_SIZE) return -Errno.EINVAL;
  if (hasBitsOutside(arg.flags, PM_SCAN_FLAGS)) return -Errno.EINVAL;
  if (
    hasBitsOutside(arg.categoryInverted, PM_SCAN_CATEGORIES) ||
    hasBitsOutside(arg.categoryMask, PM_SCAN_CATEGORIES) ||
    hasBitsOutside(arg.categoryAnyofMask, PM_SCAN_CATEGORIES) ||
    hasBitsOutside(arg.returnMask, PM_SCAN_CATEGORIES)
  ) {
    return -Errno.EINVAL;
  }
  if (arg.start % PAGE_SIZE !== 0) return -Errno.EINVAL;
  const start = u64(arg.start);
  const end = u64(arg.end);
  // access_ok(start, end - start): the sum is `end`, which must not be below start (wrap) nor beyond user space.
  if (end < start || end > USER_PTR_MAX) return -Errno.EFAULT;
  const vec = u64(arg.vec);
  const vecLen = u64(arg.vecLen);
  if (vec === 0 && vecLen !== 0) return -Errno.EINVAL;
  if (vec !== 0) {
    // size_mul saturates at SIZE_MAX, which no access_ok accepts.
    const bytes = Math.min(vecLen * PAGE_REGION_SIZE, TWO_TO_64 - 1);
    if (!accessOk(vec, bytes)) return -Errno.EFAULT;
  }
  const maxPages = u64(arg.maxPages);
  p.flags = u64(arg.flags);
  p.end = Math.ceil(end / PAGE_SIZE) * PAGE_SIZE;
  p.walkEnd = 0;
  p.vecLen = vecLen;
  p.maxPages = maxPages === 0 ? Infinity : maxPages;
  p.categoryInverted = u64(arg.categoryInverted);
  p.categoryMask = u64(arg.categoryMask);
  p.categoryAnyofMask = u64(arg.categoryAnyofMask);
  p.returnMask = u64(arg.returnMask);
  return start;
}

/**
 * One scan state per kernel, with its ScanEnv (the userfaultfd provider,
 * resolved once, and the fast loop's cache). Taken out of the map while a
 * scan runs, so that a scan started meanwhile (none is, the simulator being
 * single-threaded) would get a state of its own.
 */
const kernelStates = new WeakMap<Kernel, PagemapScanState>();

function takeScanState(kernel: Kernel): PagemapScanState {
  const p = kernelStates.get(kernel);
  if (p !== undefined) {
    kernelStates.delete(kernel);
    return p;
  }
  return createPagemapScanState(createScanEnv(uffdWpAsyncQueryOf(kernel), kernel.resolve(UffdWpRangeToken)[0] ?? null));
}

/** Empty arrays the bounce buffer points at between scans (a state must not keep a user vector alive). */
const NO_STARTS = new Float64Array(0);
const NO_ENDS = new Float64Array(0);
const NO_CATEGORIES = new Uint16Array(0);

/**
 * ioctl(pagemap_fd, PAGEMAP_SCAN, arg) on `mm`. Returns the number of
 * regions written to `vec` (appended after its current contents), or a
 * negative errno. `arg.walkEnd` is written back whenever the kernel does:
 * for every outcome after argument validation.
 */
export function pagemapScanIoctl(mm: Mm, arg: PmScanArgRaw, vec: PageRegionVec): number {
  return pagemapScanIoctlWith(mm, arg, vec, null);
}

/**
 * pagemapScanIoctl walking with `ops` (null: the ioctl's own choice).
 * Internal: lets a test run the same ioctl over the reference PTE loop.
 */
export function pagemapScanIoctlWith(mm: Mm, arg: PmScanArgRaw, vec: PageRegionVec, walkOps: MmWalkOps<PagemapScanState> | null): number {
  const kernel = mm.kernel;
  const p = takeScanState(kernel);
  const env = p.env;
  try {
    const start = pagemapScanGetArgs(arg, p);
    if (start < 0) return start;
    // do_pagemap_scan: masks_of_interest, then pagemap_scan_init_bounce_buffer.
    p.masksOfInterest = p.categoryMask | p.categoryAnyofMask | p.returnMask;
    p.foundPages = 0;
    p.curVmaCategory = 0;
    p.vecOut = null;
    p.vecBuf = null;
    p.vecBufIndex = 0;
    p.vecBufLen = 0;
    if (p.vecLen !== 0) {
      p.vecBufLen = Math.min(PM_SCAN_BOUNCE_REGIONS, p.vecLen);
      p.vecOut = vec;
      bindScanBuffer(p);
      const buf = p.vecBuf!;
      buf.starts[buf.base] = 0;
      buf.ends[buf.base] = 0;
      buf.categories[buf.base] = 0;
    }
    env.rangesOut = 0;
    env.wpRunCount = 0;
    env.catArgsKey = categoryArgsKey(p);
    // Where no hole can match, the walker need not report holes at all.
    const ops = walkOps ?? (holesMayMatch(p) ? pagemapScanWalkOps : pagemapScanWalkOpsNoHoles);

    let ret = 0;
    for (let walkStart = start; walkStart < p.end; walkStart = p.walkEnd) {
      ret = walkPageRange(mm, walkStart, p.end, ops, p);
      flushScanBuffer(p);
      if (ret !== -Errno.ENOSPC) break;
      if (p.vecLen === 0 || p.foundPages === p.maxPages) break;
    }
    if (ret === 0 || ret === -Errno.ENOSPC) ret = env.rangesOut;
    if (p.walkEnd === 0) p.walkEnd = p.end;
    arg.walkEnd = p.walkEnd;
    return ret;
  } finally {
    p.vecOut = null;
    p.vecBuf = null;
    env.buffer.starts = NO_STARTS;
    env.buffer.ends = NO_ENDS;
    env.buffer.categories = NO_CATEGORIES;
    env.wpRunCount = 0;
    kernelStates.set(kernel, p);
  }
}

/** A category set: a bit mask, or names (`'all'` = every category). */
export type PmScanCategories = number | readonly (PmScanCategoryName | 'all')[];

/** The typed PAGEMAP_SCAN argument: byte addresses, masks or names. */
export interface PmScanArg {
  /** First byte address (page aligned). */
  start: number;
  /** End byte address (rounded up to a page). */
  end: number;
  flags?: number | readonly PmScanFlagName[];
  categoryMask?: PmScanCategories;
  categoryAnyofMask?: PmScanCategories;
  categoryInverted?: PmScanCategories;
  returnMask?: PmScanCategories;
  /**
   * Stop after this many pages (0 or absent: no limit). Like vecLen, a u64:
   * any integer number up to 2^64 (2 ** 60 is exact), or a bigint (taken
   * modulo 2^64; beyond 2^53 it is rounded to a double, which cannot change
   * the result: every such count is beyond any the kernel could reach).
   */
  maxPages?: number | bigint;
  /** Room for this many regions; 0 reports nothing (default: as many as the default vector can hold). */
  vecLen?: number | bigint;
  /** User address of the vector (default PM_SCAN_DEFAULT_VEC; 0 = NULL, which needs vecLen 0). */
  vec?: number;
  /** Also give each region its categories as names (`names: ['present', 'written']`), in bit order. */
  names?: boolean;
}

/** A u64 argument as the raw struct holds it: an integer-valued double. */
function u64Arg(value: number | bigint): number {
  return typeof value === 'bigint' ? Number(BigInt.asUintN(64, value)) : value;
}

export interface PmScanRegion {
  start: number;
  end: number;
  categories: number;
}

export interface PmScanResult<R extends PmScanRegion = PmScanRegion> {
  /** Number of regions. */
  ret: number;
  /** Where the walk stopped (the end unless max_pages / vec_len / a partial hugetlb page stopped it). */
  walkEnd: number;
  regions: R[];
}

/** A region of a `names: true` scan: the categories as a bitmask and as names. */
export interface PmScanNamedRegion extends PmScanRegion {
  names: PmScanCategoryName[];
}

function maskOf(value: PmScanCategories | undefined): number {
  if (value === undefined) return 0;
  return typeof value === 'number' ? value : categoryMask(value);
}

function flagsOf(value: number | readonly PmScanFlagName[] | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  let flags = 0;
  for (const name of value) {
    const bit = PM_SCAN_FLAG_NAMES.indexOf(name);
    if (bit < 0) throw new PagewalkArgumentError('pagemapScan', 'flags', `has an unknown flag ${JSON.stringify(name)} (known: ${PM_SCAN_FLAG_NAMES.join(' ')})`);
    flags |= 1 << bit;
  }
  return flags;
}

/** The raw struct for a typed argument. */
export function pmScanArgRaw(arg: PmScanArg): PmScanArgRaw {
  const vec = arg.vec ?? PM_SCAN_DEFAULT_VEC;
  return {
    size: PM_SCAN_ARG_SIZE,
    flags: flagsOf(arg.flags),
    start: arg.start,
    end: arg.end,
    walkEnd: 0,
    vec,
    vecLen: arg.vecLen === undefined ? (vec === 0 ? 0 : PM_SCAN_DEFAULT_VEC_LEN) : u64Arg(arg.vecLen),
    maxPages: arg.maxPages === undefined ? 0 : u64Arg(arg.maxPages),
    categoryInverted: maskOf(arg.categoryInverted),
    categoryMask: maskOf(arg.categoryMask),
    categoryAnyofMask: maskOf(arg.categoryAnyofMask),
    returnMask: maskOf(arg.returnMask),
  };
}

/**
 * PAGEMAP_SCAN with a typed argument. Returns the regions found, or a
 * negative errno (-EINVAL, -EFAULT, -EPERM, ...).
 */
export function pagemapScan(mm: Mm, arg: PmScanArg & { names: true }): PmScanResult<PmScanNamedRegion> | number;
export function pagemapScan(mm: Mm, arg: PmScanArg): PmScanResult | number;
export function pagemapScan(mm: Mm, arg: PmScanArg): PmScanResult | number {
  const raw = pmScanArgRaw(arg);
  // Write-protect flags on a kernel with no userfaultfd provider can only skip
  // every VMA (or fail with EPERM): say what to install instead. WP_MATCHING
  // also needs the provider's write-protect operations (UffdWpRangeToken).
  const wpFlags = raw.flags & (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC);
  if (wpFlags !== 0 && (uffdWpAsyncQueryOf(mm.kernel) === null || ((wpFlags & PM_SCAN_WP_MATCHING) !== 0 && mm.kernel.resolve(UffdWpRangeToken).length === 0))) {
    throw new PagewalkArgumentError(
      'pagemapScan',
      'flags',
      'asks for write-protection (wp_matching / check_wpasync), but no userfaultfd provider is installed: install @pagewalk/uffd-wp (createKernel({ features: [uffdWp, pagemapScanFeature] })) and register the range with UFFDIO_REGISTER_MODE_WP under UFFD_FEATURE_WP_ASYNC, or pass pagemapScanIoctl the raw flags for the kernel-faithful result',
    );
  }
  const vec = new PageRegionVec();
  const ret = pagemapScanIoctl(mm, raw, vec);
  if (ret < 0) return ret;
  const regions = vec.toArray();
  if (arg.names === true) return { ret, walkEnd: raw.walkEnd, regions: regions.map((region) => ({ ...region, names: categoryNames(region.categories) })) };
  return { ret, walkEnd: raw.walkEnd, regions };
}

/** Category names of a region (bit order), for display. */
export const regionCategoryNames = (region: PmScanRegion): PmScanCategoryName[] => categoryNames(region.categories);
