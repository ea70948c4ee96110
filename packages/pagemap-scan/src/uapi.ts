/**
 * The user-visible constants of PAGEMAP_SCAN and /proc/pid/pagemap
 * (include/uapi/linux/fs.h, fs/proc/task_mmu.c), x86-64 with 4 KiB pages.
 */
import { PagewalkArgumentError } from '@pagewalk/core-walk';
import { CATEGORY_NAMES } from '@pagewalk/scenario';

/* ---- PAGEMAP_SCAN categories (page_region.categories and every mask) ---- */

export const PAGE_IS_WPALLOWED = 1 << 0;
export const PAGE_IS_WRITTEN = 1 << 1;
export const PAGE_IS_FILE = 1 << 2;
export const PAGE_IS_PRESENT = 1 << 3;
export const PAGE_IS_SWAPPED = 1 << 4;
export const PAGE_IS_PFNZERO = 1 << 5;
export const PAGE_IS_HUGE = 1 << 6;
export const PAGE_IS_SOFT_DIRTY = 1 << 7;
export const PAGE_IS_GUARD = 1 << 8;
/** Every valid category bit (PM_SCAN_CATEGORIES). */
export const PM_SCAN_CATEGORIES = 0x1ff;

/** Category names in bit order (bit 0 first), as SCENARIO.md spells them (the format's own table). */
export const PM_SCAN_CATEGORY_NAMES = CATEGORY_NAMES;
export type PmScanCategoryName = (typeof PM_SCAN_CATEGORY_NAMES)[number];

/* ---- PAGEMAP_SCAN flags ---- */

export const PM_SCAN_WP_MATCHING = 1 << 0;
export const PM_SCAN_CHECK_WPASYNC = 1 << 1;
export const PM_SCAN_FLAGS = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC;
export const PM_SCAN_FLAG_NAMES = ['wp_matching', 'check_wpasync'] as const;
export type PmScanFlagName = (typeof PM_SCAN_FLAG_NAMES)[number];

/** sizeof(struct pm_scan_arg): 12 u64 fields. */
export const PM_SCAN_ARG_SIZE = 96;
/** sizeof(struct page_region): start, end, categories. */
export const PAGE_REGION_SIZE = 24;
/** The kernel's bounce buffer holds at most PMD_SIZE / PAGE_SIZE regions per walk. */
export const PM_SCAN_BOUNCE_REGIONS = 512;

/**
 * The largest user address a range may end at (x86-64, 4-level paging, no
 * LAM): access_ok() accepts [ptr, ptr + size) when ptr + size does not wrap
 * and is at most TASK_SIZE_MAX - 1.
 */
export const USER_PTR_MAX = 2 ** 47 - 4096 - 1;

/**
 * The user address the typed API uses for the result vector when the caller
 * does not give one: any non-NULL address that passes access_ok() for
 * `PM_SCAN_DEFAULT_VEC_LEN` regions.
 */
export const PM_SCAN_DEFAULT_VEC = 0x7f00_0000_0000;
/** The largest vec_len whose vector starting at PM_SCAN_DEFAULT_VEC passes access_ok(). */
export const PM_SCAN_DEFAULT_VEC_LEN = Math.floor((USER_PTR_MAX - PM_SCAN_DEFAULT_VEC) / PAGE_REGION_SIZE);

/* ---- /proc/pid/pagemap ---- */

/** Bytes per pagemap entry. */
export const PM_ENTRY_BYTES = 8;
/** Bits 0..54 of an entry: pfn, or swap type | offset << 5. */
export const PM_PFRAME_BITS = 55;

/**
 * The flag bits 55..63 of a pagemap entry, shifted down by 55 so they fit a
 * small integer: entry = flags * 2^55 + frame.
 */
export const PM_SOFT_DIRTY = 1 << (55 - PM_PFRAME_BITS);
export const PM_MMAP_EXCLUSIVE = 1 << (56 - PM_PFRAME_BITS);
export const PM_UFFD_WP = 1 << (57 - PM_PFRAME_BITS);
export const PM_GUARD_REGION = 1 << (58 - PM_PFRAME_BITS);
export const PM_FILE = 1 << (61 - PM_PFRAME_BITS);
export const PM_SWAP = 1 << (62 - PM_PFRAME_BITS);
export const PM_PRESENT = 1 << (63 - PM_PFRAME_BITS);

/** Pagemap flag names in the order of SCENARIO.md, with their (shifted) bits. */
export const PAGEMAP_FLAG_BITS = [
  ['present', PM_PRESENT],
  ['swapped', PM_SWAP],
  ['file_shared', PM_FILE],
  ['exclusive', PM_MMAP_EXCLUSIVE],
  ['uffd_wp', PM_UFFD_WP],
  ['soft_dirty', PM_SOFT_DIRTY],
  ['guard', PM_GUARD_REGION],
] as const;
export type PagemapFlagName = (typeof PAGEMAP_FLAG_BITS)[number][0];

/** Names of the categories set in `mask`, in bit order. */
export function categoryNames(mask: number): PmScanCategoryName[] {
  const names: PmScanCategoryName[] = [];
  for (let bit = 0; bit < PM_SCAN_CATEGORY_NAMES.length; bit++) {
    if ((mask & (1 << bit)) !== 0) names.push(PM_SCAN_CATEGORY_NAMES[bit]!);
  }
  return names;
}

/** The mask of a list of category names; `'all'` stands for every category. */
export function categoryMask(names: readonly (PmScanCategoryName | 'all')[]): number {
  if (!Array.isArray(names)) throw new PagewalkArgumentError('categoryMask', 'names', `must be a list of category names, got ${typeof names}`);
  let mask = 0;
  for (const name of names) {
    if (name === 'all') return PM_SCAN_CATEGORIES;
    const bit = PM_SCAN_CATEGORY_NAMES.indexOf(name);
    // A typo from plain JavaScript must not silently become 0 (no category).
    if (bit < 0) throw new PagewalkArgumentError('categoryMask', 'names', `has an unknown category ${JSON.stringify(name)} (known: ${PM_SCAN_CATEGORY_NAMES.join(' ')} all)`);
    mask |= 1 << bit;
  }
  return mask;
}

/** Names of the (shifted) pagemap flags set in `flags`, in SCENARIO.md order. */
export function pagemapFlagNames(flags: number): PagemapFlagName[] {
  const names: PagemapFlagName[] = [];
  for (const [name, bit] of PAGEMAP_FLAG_BITS) if ((flags & bit) !== 0) names.push(name);
  return names;
}

/** The real 64-bit entry, for display (BigInt: keep it off hot paths). */
export function pagemapEntryToBigInt(flags: number, frame: number): bigint {
  return (BigInt(flags) << BigInt(PM_PFRAME_BITS)) | BigInt(frame);
}
