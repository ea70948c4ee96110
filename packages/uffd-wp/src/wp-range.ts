/**
 * uffd_wp_range (mm/userfaultfd.c) = change_protection with MM_CP_UFFD_WP
 * or MM_CP_UFFD_WP_RESOLVE (mm/mprotect.c change_pte_range /
 * change_huge_pmd, mm/hugetlb.c hugetlb_change_protection), written from
 * the behaviour those functions have:
 *
 *   entry            protect                        unprotect
 *   present          uffd-wp bit, read-only         bit cleared; made writable again
 *                                                   when a write fault would reuse the page
 *   swap-type        swap uffd-wp bit (writable     swap bit cleared
 *                    migration/device entries
 *                    become readable)
 *   uffd-wp marker   stays                          removed (entry becomes none)
 *   guard / poison   untouched                      untouched
 *   none             uffd-wp marker when the VMA    nothing
 *                    uses markers (tables are
 *                    allocated for them)
 *
 * A THP fully covered in an anonymous VMA is protected in place; a partly
 * covered one (or one in a file VMA) is split first. Hugetlb pages are
 * handled per huge entry.
 */
import {
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_ZERO,
  PMD_SHIFT,
  PMD_SIZE,
  PAGE_SIZE,
  PUD_SHIFT,
  PTE_DIRTY,
  PTE_WRITE,
  VM_SHARED,
  VM_WRITE,
  addrEnd,
  isPteMarker,
  isSwapPte,
  isTableEntry,
  isUffdWpPteMarker,
  isWritableDevicePrivateEntry,
  isWritableMigrationEntry,
  makeDevicePrivateEntry,
  makeMigrationEntry,
  makeUffdWpMarker,
  pmdLeaf,
  pteClearUffdWp,
  pteMkuffdWp,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteSwpClearUffdWp,
  pteSwpMkuffdWp,
  pteSwpSoftDirty,
  pteSwpUffdWpAny,
  pteSwpMksoftDirty,
  pteUffdWp,
  swpOffset,
  pteOffset,
  type Mm,
  type Vma,
} from '@pagewalk/core-walk';
import { useMarkers } from './vma-state.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { allocTableAt, framesOf, pmdSlotOf, splitHugePmd, tablesOf } = claimMmInternal();

/** State of one uffd_wp_range call. */
export interface UffdWpRangeState {
  readonly mm: Mm;
  readonly vma: Vma;
  readonly protect: boolean;
  /** userfaultfd_wp_use_markers(vma), evaluated once. */
  readonly markers: boolean;
  /** MM_CP_TRY_CHANGE_WRITABLE (unprotect on a VMA that wants manual write upgrade). */
  readonly tryWritable: boolean;
  /** Entries changed (change_protection's return value). */
  pages: number;
}

/** vma_wants_manual_pte_write_upgrade(): shared mappings with write-notify (uffd-wp), private writable ones. */
function wantsManualWriteUpgrade(vma: Vma): boolean {
  return (vma.flags & VM_WRITE) !== 0;
}

/** can_change_pte_writable(): only where the write fault would map the page writable anyway. */
function canChangeWritable(state: UffdWpRangeState, entry: number): boolean {
  const { vma, mm } = state;
  if ((vma.flags & VM_WRITE) === 0) return false;
  if ((vma.flags & VM_SHARED) !== 0) return (entry & PTE_DIRTY) !== 0;
  if (pteSpecial(entry)) return false;
  const frames = framesOf(mm.kernel);
  const pfn = ptePfn(entry);
  if (frames.has(pfn, PG_ZERO)) return false;
  if (!frames.has(frames.folioOf(pfn), PG_ANON)) return false;
  return frames.has(pfn, PG_ANON_EXCLUSIVE);
}

/** The new value of one non-huge or huge present entry. */
function changePresent(state: UffdWpRangeState, entry: number): number {
  if (state.protect) return pteMkuffdWp(entry);
  let next = pteClearUffdWp(entry);
  if (state.tryWritable && (next & PTE_WRITE) === 0 && canChangeWritable(state, next)) next = (next | PTE_WRITE) >>> 0;
  return next;
}

/** The new value of a non-present, non-none entry. */
function changeSwapType(state: UffdWpRangeState, entry: number): number {
  if (isPteMarker(entry)) {
    // Guard and poison markers are never touched; an uffd-wp marker goes on unprotect.
    if (!isUffdWpPteMarker(entry)) return entry;
    return state.protect ? entry : 0;
  }
  let next = entry;
  if (state.protect) {
    if (isWritableMigrationEntry(next)) {
      const soft = pteSwpSoftDirty(next);
      next = makeMigrationEntry(swpOffset(next), false, true);
      if (soft) next = pteSwpMksoftDirty(next);
    } else if (isWritableDevicePrivateEntry(next)) {
      next = makeDevicePrivateEntry(swpOffset(next), false);
    }
    return pteSwpMkuffdWp(next);
  }
  return pteSwpClearUffdWp(next);
}

function changeEntry(state: UffdWpRangeState, entries: Uint32Array, slot: number): void {
  const entry = entries[slot]!;
  let next: number;
  if (entry === 0) {
    if (!state.protect || !state.markers) return;
    next = makeUffdWpMarker();
  } else if (ptePresent(entry)) {
    next = changePresent(state, entry);
  } else {
    next = changeSwapType(state, entry);
  }
  if (next !== entry) {
    entries[slot] = next >>> 0;
    state.pages++;
  }
}

function changeHugetlbRange(state: UffdWpRangeState, start: number, end: number): void {
  const { mm } = state;
  const tables = tablesOf(mm.kernel);
  const alloc = state.protect && state.markers;
  for (let haddr = Math.floor(start / PMD_SIZE) * PMD_SIZE; haddr < end; haddr += PMD_SIZE) {
    // pmdSlot may allocate tables, which replaces the pool's array: read it after.
    const slot = pmdSlotOf(mm, haddr, alloc);
    if (slot < 0) continue;
    const entry = tables.entries[slot]!;
    if (entry !== 0 && !pmdLeaf(entry) && !isSwapPte(entry)) continue;
    changeEntry(state, tables.entries, slot);
  }
}

function changePteTable(state: UffdWpRangeState, pmdSlot: number, addr: number, next: number): void {
  // Nothing below allocates a table: the view stays current for the loop.
  // eslint-disable-next-line no-restricted-syntax -- no allocation until its last use
  const entries = tablesOf(state.mm.kernel).entries;
  const base = pteOffset(entries[pmdSlot]!, addr);
  const count = (next - addr) / PAGE_SIZE;
  for (let i = 0; i < count; i++) changeEntry(state, entries, base + i);
}

/**
 * Protects (or unprotects) every entry of [start, end), which lies inside
 * `vma`. Returns the number of entries changed. Takes no lock: callers hold
 * the mmap lock as the kernel's callers do.
 */
export function uffdWpRange(mm: Mm, vma: Vma, start: number, end: number, protect: boolean): number {
  const state: UffdWpRangeState = {
    mm,
    vma,
    protect,
    markers: useMarkers(vma),
    tryWritable: !protect && !vma.isHugetlb && wantsManualWriteUpgrade(vma),
    pages: 0,
  };
  if (vma.isHugetlb) {
    changeHugetlbRange(state, start, end);
    return state.pages;
  }
  // pmdSlot, allocTableAt and splitHugePmd allocate tables, and an
  // allocation may replace the pool's array: every read below goes through
  // the pool (issue 19: a cached view left the range past ~504 MiB of a
  // 1 GiB registration unprotected).
  const tables = tablesOf(mm.kernel);
  const alloc = protect && state.markers;
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const pmdSlot = pmdSlotOf(mm, addr, alloc);
    if (pmdSlot < 0) {
      next = addrEnd(addr, end, PUD_SHIFT);
      continue;
    }
    let pmd = tables.entries[pmdSlot]!;
    if (pmd === 0) {
      if (!alloc) continue;
      allocTableAt(mm, pmdSlot);
      pmd = tables.entries[pmdSlot]!;
    }
    if (pmdLeaf(pmd) || isSwapPte(pmd)) {
      const whole = addr % PMD_SIZE === 0 && next - addr === PMD_SIZE;
      if (whole && pmdLeaf(pmd) && (vma.isAnonymous || !protect)) {
        // change_huge_pmd: the whole huge page at once.
        changeEntry(state, tables.entries, pmdSlot);
        continue;
      }
      splitHugePmd(mm, vma, pmdSlot, addr);
      pmd = tables.entries[pmdSlot]!;
    }
    if (!isTableEntry(pmd)) continue;
    changePteTable(state, pmdSlot, addr, next);
  }
  return state.pages;
}

/** pte_uffd_wp() on whatever maps `addr` (present bit, swap bit or marker), for tests and trackers. */
export function isUffdWpProtected(mm: Mm, addr: number): boolean {
  const { entry } = mm.entryAt(addr);
  if (entry === 0) return false;
  if (ptePresent(entry)) return pteUffdWp(entry);
  return pteSwpUffdWpAny(entry);
}
