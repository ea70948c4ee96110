/**
 * Non-present, non-none page-table entries ("swap-type" entries): the only
 * module that knows their layout. Every make* has an is* partner.
 *
 *   31 ............ 8 | 7           | 6              | 5 ..... 1 | 0
 *   offset (24 bits)  | swp_uffd_wp | swp_soft_dirty | type (5)  | 0 (not present)
 *
 * Types follow x86-64 with every swap-type user configured
 * (include/linux/swap.h): 0..23 real swap devices, then
 *   24 HWPOISON, 25 MIGRATION_READ, 26 MIGRATION_READ_EXCLUSIVE,
 *   27 MIGRATION_WRITE, 28 DEVICE_WRITE, 29 DEVICE_READ,
 *   30 DEVICE_EXCLUSIVE, 31 PTE_MARKER.
 * For migration and device entries the offset is a pfn (device pfn for
 * device-private memory). A PTE marker's offset holds marker bits:
 * UFFD_WP 1, POISONED 2, GUARD 4.
 *
 * Swap offset 0 is the swap header and never used, so an all-zero word is
 * unambiguously "none".
 */
import type { PageTableEntry, Pte } from './pgtable.js';

export const MAX_SWAPFILES = 24;
export const SWP_HWPOISON = 24;
export const SWP_MIGRATION_READ = 25;
export const SWP_MIGRATION_READ_EXCLUSIVE = 26;
export const SWP_MIGRATION_WRITE = 27;
export const SWP_DEVICE_WRITE = 28;
export const SWP_DEVICE_READ = 29;
export const SWP_DEVICE_EXCLUSIVE = 30;
export const SWP_PTE_MARKER = 31;

export const PTE_MARKER_UFFD_WP = 1;
export const PTE_MARKER_POISONED = 2;
export const PTE_MARKER_GUARD = 4;
export const PTE_MARKER_MASK = 7;

const SWP_TYPE_SHIFT = 1;
const SWP_TYPE_MASK = 0x1f;
const SWP_SOFT_DIRTY = 1 << 6;
const SWP_UFFD_WP = 1 << 7;
const OFFSET_MULT = 256;
/** Largest swap offset (or pfn) a swap-type entry can hold. */
export const MAX_SWP_OFFSET = 2 ** 24 - 1;

/** True for any non-present entry that is not none. */
export const isSwapPte = (e: PageTableEntry): boolean => e !== 0 && (e & 1) === 0;
export const swpType = (e: PageTableEntry): number => (e >>> SWP_TYPE_SHIFT) & SWP_TYPE_MASK;
export const swpOffset = (e: PageTableEntry): number => e >>> 8;

export function makeSwpPte(type: number, offset: number): Pte {
  return ((offset * OFFSET_MULT + (type & SWP_TYPE_MASK) * 2) >>> 0) as Pte;
}

/** A real swap device entry (not migration, device, hwpoison or marker). */
export const isRealSwapEntry = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) < MAX_SWAPFILES;
export const makeSwapEntry = (device: number, slot: number): Pte => makeSwpPte(device, slot);

export const isMigrationEntry = (e: PageTableEntry): boolean => {
  if (!isSwapPte(e)) return false;
  const t = swpType(e);
  return t >= SWP_MIGRATION_READ && t <= SWP_MIGRATION_WRITE;
};
export const isWritableMigrationEntry = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) === SWP_MIGRATION_WRITE;
export const makeMigrationEntry = (pfn: number, write: boolean, exclusive = false): Pte =>
  makeSwpPte(write ? SWP_MIGRATION_WRITE : exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ, pfn);

export const isDevicePrivateEntry = (e: PageTableEntry): boolean => {
  if (!isSwapPte(e)) return false;
  const t = swpType(e);
  return t === SWP_DEVICE_WRITE || t === SWP_DEVICE_READ;
};
export const isWritableDevicePrivateEntry = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) === SWP_DEVICE_WRITE;
export const makeDevicePrivateEntry = (devicePfn: number, write: boolean): Pte =>
  makeSwpPte(write ? SWP_DEVICE_WRITE : SWP_DEVICE_READ, devicePfn);
export const isDeviceExclusiveEntry = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) === SWP_DEVICE_EXCLUSIVE;
export const makeDeviceExclusiveEntry = (pfn: number): Pte => makeSwpPte(SWP_DEVICE_EXCLUSIVE, pfn);
export const isHwpoisonEntry = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) === SWP_HWPOISON;

/** Entries whose offset is a pfn of a (system or device) frame. */
export const isPfnSwapEntry = (e: PageTableEntry): boolean => {
  if (!isSwapPte(e)) return false;
  const t = swpType(e);
  return t >= SWP_HWPOISON && t <= SWP_DEVICE_EXCLUSIVE;
};

/* ---- PTE markers ---- */

export const makePteMarker = (bits: number): Pte => makeSwpPte(SWP_PTE_MARKER, bits & PTE_MARKER_MASK);
export const isPteMarker = (e: PageTableEntry): boolean => isSwapPte(e) && swpType(e) === SWP_PTE_MARKER;
export const pteMarkerBits = (e: PageTableEntry): number => (isPteMarker(e) ? swpOffset(e) & PTE_MARKER_MASK : 0);
export const makeGuardPte = (): Pte => makePteMarker(PTE_MARKER_GUARD);
export const isGuardPteMarker = (e: PageTableEntry): boolean => (pteMarkerBits(e) & PTE_MARKER_GUARD) !== 0;
export const makeUffdWpMarker = (): Pte => makePteMarker(PTE_MARKER_UFFD_WP);
export const isUffdWpPteMarker = (e: PageTableEntry): boolean => (pteMarkerBits(e) & PTE_MARKER_UFFD_WP) !== 0;
export const makePoisonedMarker = (): Pte => makePteMarker(PTE_MARKER_POISONED);
export const isPoisonedPteMarker = (e: PageTableEntry): boolean => (pteMarkerBits(e) & PTE_MARKER_POISONED) !== 0;

/* ---- software bits carried by swap-type entries ---- */

export const pteSwpSoftDirty = (e: PageTableEntry): boolean => (e & SWP_SOFT_DIRTY) !== 0;
export const pteSwpMksoftDirty = <E extends PageTableEntry>(e: E): E => ((e | SWP_SOFT_DIRTY) >>> 0) as E;
export const pteSwpClearSoftDirty = <E extends PageTableEntry>(e: E): E => ((e & ~SWP_SOFT_DIRTY) >>> 0) as E;
export const pteSwpUffdWp = (e: PageTableEntry): boolean => (e & SWP_UFFD_WP) !== 0;
export const pteSwpMkuffdWp = <E extends PageTableEntry>(e: E): E => ((e | SWP_UFFD_WP) >>> 0) as E;
export const pteSwpClearUffdWp = <E extends PageTableEntry>(e: E): E => ((e & ~SWP_UFFD_WP) >>> 0) as E;
/** The swap uffd-wp bit, or a marker carrying UFFD_WP (pte_swp_uffd_wp_any). */
export const pteSwpUffdWpAny = (e: PageTableEntry): boolean =>
  isSwapPte(e) && (pteSwpUffdWp(e) || isUffdWpPteMarker(e));

/** The frame value /proc/pid/pagemap reports for a swap-type entry: type | offset << 5. */
export const pagemapSwapFrame = (e: PageTableEntry): number => swpType(e) + swpOffset(e) * 32;
