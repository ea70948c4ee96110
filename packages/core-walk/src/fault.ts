/**
 * The page-fault handler (mm/memory.c handle_mm_fault and friends,
 * mm/huge_memory.c for PMD-level THP, mm/hugetlb.c for hugetlb).
 * Every handler returns vm_fault_t bits: 0 means "retry the access".
 */
import { UserfaultOutcome, UserfaultReason } from './feature.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_HUGETLB, PG_LOCKED, PG_LRU, PG_MLOCKED, PG_PAGECACHE, PG_SWAPBACKED, PG_ZERO } from './frames.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SIZE, PTRS_PER_TABLE, pmdAlignDown, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import {
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_HUGE,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_UFFD_WP,
  PTE_WRITE,
  isTableEntry,
  mkHugeLeaf,
  mkPte,
  mkTableEntry,
  pmdLeaf,
  pteFlags,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteUffdWp,
  pteWrite,
  tableIdOf,
} from './pgtable.js';
import {
  isDeviceExclusiveEntry,
  isDevicePrivateEntry,
  isGuardPteMarker,
  isHwpoisonEntry,
  isMigrationEntry,
  isPoisonedPteMarker,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  isUffdWpPteMarker,
  makeMigrationEntry,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  swpOffset,
  isWritableMigrationEntry,
} from './swapops.js';
import {
  FAULT_FLAG_FORCE,
  FAULT_FLAG_WRITE,
  VM_FAULT_FALLBACK,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
} from './uapi.js';
import { VM_HUGEPAGE, VM_LOCKED, VM_NOHUGEPAGE, VM_SHARED, VM_UFFD_MINOR, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';

/* ------------------------------------------------------------ helpers */

function softDirtyBit(mm: Mm): number {
  return mm.kernel.profile.softDirty ? PTE_SOFT_DIRTY : 0;
}

/** Allocates a zeroed anonymous page (refcount 0). */
function allocAnonPage(mm: Mm): number {
  return mm.kernel.frames.alloc(0, PG_ANON | PG_SWAPBACKED | PG_LRU | PG_ANON_EXCLUSIVE);
}

/** Takes a mapping reference on `pfn` for one PTE (folio refcount + page mapcount). */
export function accountPteMap(mm: Mm, pfn: number): void {
  const frames = mm.kernel.frames;
  frames.get(frames.folioOf(pfn));
  frames.mapcount[pfn] = frames.mapcount[pfn]! + 1;
}

/** Drops the mapping reference of one PTE on `pfn`. */
export function accountPteUnmap(mm: Mm, pfn: number): void {
  const frames = mm.kernel.frames;
  frames.mapcount[pfn] = frames.mapcount[pfn]! - 1;
  frames.put(frames.folioOf(pfn));
}

/**
 * The exact address of the access being handled (vmf->real_address): the
 * handlers work on the page-aligned address, only the userfaultfd message
 * (UFFD_FEATURE_EXACT_ADDRESS) sees the byte. Read before any nested fault.
 */
let realAddress = 0;

function userfault(mm: Mm, vma: Vma, addr: number, reason: UserfaultReason, write: boolean): number {
  const handler = mm.kernel.userfault;
  if (handler === null) return VM_FAULT_SIGBUS;
  // hugetlb reports the huge page (exact addresses are not modelled there).
  const outcome = handler.handleUserfault(mm, vma, vma.isHugetlb ? addr : realAddress, reason, write);
  if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
  return 0;
}

/** Whether a PMD-sized THP may be allocated for `addr` (thp_vma_allowable_order + suitable). */
export function thpAllowed(mm: Mm, vma: Vma, addr: number, enforceSysfs = true): boolean {
  const mode = mm.kernel.profile.thp;
  if (!vma.isAnonymous || vma.isHugetlb) return false;
  if ((vma.flags & VM_NOHUGEPAGE) !== 0) return false;
  if (enforceSysfs) {
    if (mode === 'never') return false;
    if (mode === 'madvise' && (vma.flags & VM_HUGEPAGE) === 0) return false;
  } else if (mode === 'never' && (vma.flags & VM_HUGEPAGE) === 0) {
    return false;
  }
  const haddr = pmdAlignDown(addr);
  // thp_vma_suitable_order: the huge page must fit in the VMA with matching alignment.
  if (haddr < vma.start || haddr + PMD_SIZE > vma.end) return false;
  return true;
}

/* ----------------------------------------------------------- the entry */

/**
 * Test-only switch for the property test's mutation check (issue 18): with
 * `alignFaultAddress` false the handlers get the byte address again, the
 * bug that put first-touched shared pages outside the page cache.
 */
export const faultTestHooks = { alignFaultAddress: true };

/** handle_mm_fault for one address (any byte of the page). */
export function handleMmFault(mm: Mm, vma: Vma, address: number, flags: number): number {
  realAddress = address;
  // vmf->address: every handler below sees the page, never the byte inside it.
  const addr = faultTestHooks.alignFaultAddress ? address - (address % PAGE_SIZE) : address;
  if (vma.isHugetlb) return hugetlbFault(mm, vma, addr, flags);
  const tables = mm.kernel.tables;
  const pmdSlot = mm.pmdSlot(addr, true);
  let pmd = tables.entries[pmdSlot]!;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (pmd === 0 && thpAllowed(mm, vma, addr)) {
    const ret = doHugePmdAnonymousPage(mm, vma, addr, pmdSlot, write);
    if (ret !== VM_FAULT_FALLBACK) return ret;
  } else if (pmdLeaf(pmd)) {
    if (write && !pteWrite(pmd)) {
      const ret = doHugePmdWpPage(mm, vma, addr, pmdSlot);
      if (ret !== VM_FAULT_FALLBACK) return ret;
    } else {
      tables.entries[pmdSlot] = (pmd | PTE_ACCESSED | (write ? PTE_DIRTY : 0)) >>> 0;
      return 0;
    }
  } else if (isSwapPte(pmd)) {
    // A PMD migration entry: migration is never in flight at rest.
    splitHugePmd(mm, vma, pmdSlot, addr);
  }
  pmd = tables.entries[pmdSlot]!;
  if (pmd === 0) mm.allocTableAt(pmdSlot);
  pmd = tables.entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return 0;
  const slot = tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, 12);
  return handlePteFault(mm, vma, addr, slot, flags);
}


function handlePteFault(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel.tables;
  const entry = tables.entries[slot]!;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (entry === 0) return doPteMissing(mm, vma, addr, slot, flags, false);
  if (!ptePresent(entry)) return doSwapPage(mm, vma, addr, slot, flags);
  if (write && !pteWrite(entry)) return doWpPage(mm, vma, addr, slot, flags);
  tables.entries[slot] = (entry | PTE_ACCESSED | (write ? PTE_DIRTY : 0)) >>> 0;
  return 0;
}

function doPteMissing(mm: Mm, vma: Vma, addr: number, slot: number, flags: number, uffdWp: boolean): number {
  return vma.isAnonymous ? doAnonymousPage(mm, vma, addr, slot, flags, uffdWp) : doFault(mm, vma, addr, slot, flags, uffdWp);
}

/* ----------------------------------------------------- anonymous pages */

function doAnonymousPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number, uffdWp: boolean): number {
  const tables = mm.kernel.tables;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (!write && mm.kernel.profile.zeroPage) {
    // Read fault: map the shared zero page.
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, false);
    let pte = mkPte(mm.kernel.frames.zeroPfn, PTE_SPECIAL | PTE_ACCESSED);
    if (uffdWp) pte = (pte | PTE_UFFD_WP) >>> 0;
    tables.entries[slot] = pte;
    return 0;
  }
  // A write fault, or a read fault on a kernel that forbids the zero page
  // (mm_forbids_zeropage): a fresh exclusive page, writable and dirty when
  // the VMA is writable whichever access faulted, as do_anonymous_page maps it.
  mm.anonVmaPrepare(vma);
  if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, write);
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  let bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm);
  if ((vma.flags & VM_WRITE) !== 0) bits |= PTE_WRITE;
  if (uffdWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
  accountPteMap(mm, pfn);
  tables.entries[slot] = mkPte(pfn, bits);
  return 0;
}

/* --------------------------------------------------- shmem file pages */

/** The page-cache frame for `index` of the VMA's file, swapping in or allocating as needed. */
export function shmemGetPage(mm: Mm, vma: Vma, index: number): number {
  const file = vma.file!;
  const frames = mm.kernel.frames;
  const cached = file.cache.get(index);
  if (cached > 0) return cached;
  const pfn = frames.alloc(0, PG_SWAPBACKED | PG_LRU | PG_PAGECACHE);
  if (pfn === NO_FRAME) return NO_FRAME;
  if (cached < 0) {
    const swap = mm.kernel.swap!;
    frames.contents.copyFrom(swap.contents, -cached, pfn);
    swap.free(-cached);
  }
  frames.get(pfn); // the page cache's reference
  file.cache.set(index, pfn);
  return pfn;
}

function doFault(mm: Mm, vma: Vma, addr: number, slot: number, flags: number, uffdWp: boolean): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  const file = vma.file!;
  const index = vma.pageIndex(addr);
  if (index >= file.pages) return VM_FAULT_SIGBUS;
  if (!write) faultAround(mm, vma, addr, slot);
  if ((vma.flags & VM_UFFD_MISSING) !== 0 && file.cache.get(index) === 0) {
    return userfault(mm, vma, addr, UserfaultReason.Missing, write);
  }
  // shmem_get_folio_gfp: a page in the cache (or swapped out of it) is a MINOR fault.
  if ((vma.flags & VM_UFFD_MINOR) !== 0 && file.cache.get(index) !== 0) {
    return userfault(mm, vma, addr, UserfaultReason.Minor, write);
  }
  const cachePfn = shmemGetPage(mm, vma, index);
  if (cachePfn === NO_FRAME) return VM_FAULT_OOM;
  const shared = (vma.flags & VM_SHARED) !== 0;
  if (write && !shared) {
    // do_cow_fault: a private copy of the file page.
    mm.anonVmaPrepare(vma);
    const pfn = allocAnonPage(mm);
    if (pfn === NO_FRAME) return VM_FAULT_OOM;
    frames.contents.copyFrom(frames.contents, cachePfn, pfn);
    let bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm) | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
    if (uffdWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
    accountPteMap(mm, pfn);
    tables.entries[slot] = mkPte(pfn, bits);
    return 0;
  }
  let bits = fileReadPteBits(vma);
  if (write) {
    bits |= PTE_DIRTY | PTE_WRITE | softDirtyBit(mm);
    frames.set(cachePfn, PG_DIRTY);
  }
  if (uffdWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
  accountPteMap(mm, cachePfn);
  tables.entries[slot] = mkPte(cachePfn, bits);
  return 0;
}

/** fault_around_bytes (64 KiB, the default): the window a read fault on a file maps from the page cache. */
const FAULT_AROUND_PAGES = 16;

/**
 * do_fault_around / filemap_map_pages: a read fault on a file mapping also
 * maps the neighbouring pages the page cache holds (not swapped-out ones),
 * in the 64 KiB-aligned window around the address, clipped to the VMA and
 * to this page table, where the PTE is empty — as the read fault maps its
 * own page: young, writable only in a shared writable mapping. Not in a
 * VMA registered for uffd write-protect or minor faults
 * (uffd_disable_fault_around). The faulting page itself is left to the
 * caller, which maps it the same way.
 */
function faultAround(mm: Mm, vma: Vma, addr: number, slot: number): void {
  if ((vma.flags & (VM_UFFD_WP | VM_UFFD_MINOR)) !== 0) return;
  const file = vma.file!;
  // eslint-disable-next-line no-restricted-syntax -- no allocation in this function (accountPteMap only counts)
  const entries = mm.kernel.tables.entries;
  const pteOff = tableIndex(addr, 12);
  const vmaOff = (addr - vma.start) / PAGE_SIZE;
  const from = Math.max(pteOff - (pteOff % FAULT_AROUND_PAGES), pteOff - Math.min(pteOff, vmaOff));
  const to = Math.min(from + FAULT_AROUND_PAGES, PTRS_PER_TABLE, pteOff + vma.pages - vmaOff);
  const index0 = vma.pageIndex(addr) - pteOff;
  const base = slot - pteOff;
  const bits = fileReadPteBits(vma);
  for (let off = from; off < to; off++) {
    if (off === pteOff || entries[base + off] !== 0) continue;
    const index = index0 + off;
    if (index < 0 || index >= file.pages) continue;
    const pfn = file.cache.get(index);
    if (pfn <= 0) continue;
    accountPteMap(mm, pfn);
    entries[base + off] = mkPte(pfn, bits);
  }
}

/** A page-cache page mapped on a read fault: young, writable only in a shared writable mapping without write-notify. */
function fileReadPteBits(vma: Vma): number {
  const writable = (vma.flags & VM_SHARED) !== 0 && (vma.flags & VM_WRITE) !== 0 && !wantsWriteNotify(vma);
  return writable ? PTE_ACCESSED | PTE_WRITE : PTE_ACCESSED;
}

/** vma_wants_writenotify(): shared writable mappings that must see the first write (uffd-wp). */
export function wantsWriteNotify(vma: Vma): boolean {
  return (vma.flags & VM_UFFD_WP) !== 0;
}

/* ------------------------------------------------------ swap-type PTEs */

function doSwapPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const entry = tables.entries[slot]!;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (isPteMarker(entry)) {
    // handle_pte_marker: poison beats guard beats uffd-wp.
    if (isPoisonedPteMarker(entry)) return VM_FAULT_HWPOISON;
    if (isGuardPteMarker(entry)) return VM_FAULT_SIGSEGV;
    if (isUffdWpPteMarker(entry)) {
      if ((vma.flags & VM_UFFD_WP) === 0) {
        tables.entries[slot] = 0; // a leftover marker: drop it and retry
        return 0;
      }
      return doPteMissing(mm, vma, addr, slot, flags, true);
    }
    return VM_FAULT_SIGBUS;
  }
  if (isMigrationEntry(entry)) {
    // Nothing migrates at rest; restore the page the entry points to.
    const pfn = swpOffset(entry);
    tables.entries[slot] = mkPte(pfn, PTE_ACCESSED | (isWritableMigrationEntry(entry) ? PTE_WRITE : 0));
    accountPteMap(mm, pfn);
    return 0;
  }
  if (isDevicePrivateEntry(entry)) {
    const handler = mm.kernel.devicePrivate;
    if (handler === null) return VM_FAULT_SIGBUS;
    return handler.migrateToRam(mm, vma, addr, swpOffset(entry));
  }
  if (isDeviceExclusiveEntry(entry)) {
    // remove_device_exclusive_entry: a locked folio means someone else is at it; retry.
    if (frames.has(frames.folioOf(swpOffset(entry)), PG_LOCKED)) return 0;
    restoreExclusivePte(mm, vma, slot);
    return 0;
  }
  if (isHwpoisonEntry(entry)) return VM_FAULT_HWPOISON;
  if (!isRealSwapEntry(entry) || mm.kernel.swap === null) return VM_FAULT_SIGBUS;
  const swap = mm.kernel.swap;
  const swapSlot = swpOffset(entry);
  const exclusive = swap.count(swapSlot) === 1;
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  frames.contents.copyFrom(swap.contents, swapSlot, pfn);
  swap.free(swapSlot);
  if (!exclusive) frames.clear(pfn, PG_ANON_EXCLUSIVE);
  let bits = PTE_ACCESSED;
  if (pteSwpSoftDirty(entry)) bits |= PTE_SOFT_DIRTY;
  const wp = pteSwpUffdWp(entry) && (vma.flags & VM_UFFD_WP) !== 0;
  if (wp) bits |= PTE_UFFD_WP;
  if (exclusive && (vma.flags & VM_WRITE) !== 0 && !wp) {
    bits |= PTE_WRITE;
    if (write) bits |= PTE_DIRTY;
  }
  accountPteMap(mm, pfn);
  tables.entries[slot] = mkPte(pfn, bits);
  return 0;
}

/**
 * restore_exclusive_pte: turns the device-exclusive entry at `slot` back
 * into a present PTE of the same page (old, writable only where a write
 * fault could reuse the page). The entry already holds the page's mapping
 * reference, so no accounting changes.
 */
export function restoreExclusivePte(mm: Mm, vma: Vma, slot: number): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const entry = tables.entries[slot]!;
  if (!isDeviceExclusiveEntry(entry)) return;
  const pfn = swpOffset(entry);
  let bits = 0;
  if (pteSwpSoftDirty(entry)) bits |= PTE_SOFT_DIRTY;
  const wp = pteSwpUffdWp(entry);
  if (wp) bits |= PTE_UFFD_WP;
  const reusable = (vma.flags & VM_SHARED) !== 0 || frames.has(pfn, PG_ANON_EXCLUSIVE);
  if ((vma.flags & VM_WRITE) !== 0 && !wp && reusable) {
    if (frames.has(frames.folioOf(pfn), PG_DIRTY)) bits |= PTE_DIRTY;
    bits |= PTE_WRITE;
  }
  tables.entries[slot] = mkPte(pfn, bits);
}

/* ------------------------------------------------------- write-protect */

function doWpPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  let entry = tables.entries[slot]!;
  if (pteUffdWp(entry) && (vma.flags & VM_UFFD_WP) !== 0) {
    const handler = mm.kernel.userfault;
    if (handler === null) return VM_FAULT_SIGBUS;
    const outcome = handler.handleUserfault(mm, vma, realAddress, UserfaultReason.Wp, true);
    if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
    if (outcome === UserfaultOutcome.Retry) return 0;
    // WP_ASYNC: drop the protection in place and go on with the write.
    entry = (entry & ~PTE_UFFD_WP) >>> 0;
    tables.entries[slot] = entry;
  }
  if ((vma.flags & VM_SHARED) !== 0) {
    if ((vma.flags & VM_WRITE) === 0 && (flags & FAULT_FLAG_FORCE) === 0) return VM_FAULT_SIGSEGV;
    tables.entries[slot] = (entry | PTE_WRITE | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm)) >>> 0;
    if (!pteSpecial(entry)) frames.set(frames.folioOf(ptePfn(entry)), PG_DIRTY);
    return 0;
  }
  const oldPfn = ptePfn(entry);
  if (!pteSpecial(entry) && frames.has(frames.folioOf(oldPfn), PG_ANON)) {
    const head = frames.folioOf(oldPfn);
    const reusable =
      frames.has(oldPfn, PG_ANON_EXCLUSIVE) ||
      (!frames.isLarge(head) && frames.refcount[head] === 1 && frames.mapcount[oldPfn] === 1);
    if (reusable) {
      frames.set(oldPfn, PG_ANON_EXCLUSIVE);
      const writeBit = (vma.flags & VM_WRITE) !== 0 || (flags & FAULT_FLAG_FORCE) !== 0 ? PTE_WRITE : 0;
      tables.entries[slot] = (entry | writeBit | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm)) >>> 0;
      return 0;
    }
  }
  return wpPageCopy(mm, vma, addr, slot, flags);
}

/** wp_page_copy: break COW (or the zero page) with a new private page. */
function wpPageCopy(mm: Mm, vma: Vma, _addr: number, slot: number, flags: number): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const entry = tables.entries[slot]!;
  mm.anonVmaPrepare(vma);
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  const oldPfn = ptePfn(entry);
  if (!frames.has(oldPfn, PG_ZERO)) frames.contents.copyFrom(frames.contents, oldPfn, pfn);
  const writeBit = (vma.flags & VM_WRITE) !== 0 || (flags & FAULT_FLAG_FORCE) !== 0 ? PTE_WRITE : 0;
  accountPteMap(mm, pfn);
  // wp_page_copy maps the copy without the uffd-wp bit (a protected PTE never reaches here registered).
  tables.entries[slot] = mkPte(pfn, writeBit | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm));
  if (!pteSpecial(entry)) accountPteUnmap(mm, oldPfn);
  return 0;
}

/* ----------------------------------------------------------------- THP */

function doHugePmdAnonymousPage(mm: Mm, vma: Vma, addr: number, pmdSlot: number, write: boolean): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  mm.anonVmaPrepare(vma);
  if (!write && mm.kernel.profile.zeroPage && mm.kernel.profile.thpZeroPage) {
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, false);
    tables.entries[pmdSlot] = mkHugeLeaf(frames.hugeZeroPfn(), PTE_SPECIAL | PTE_ACCESSED);
    return 0;
  }
  if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, write);
  const head = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
  if (head === NO_FRAME) return VM_FAULT_FALLBACK;
  for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(head + i, PG_ANON_EXCLUSIVE);
  frames.refcount[head] = 1;
  frames.entireMapcount.set(head, 1);
  const bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm) | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
  tables.entries[pmdSlot] = mkHugeLeaf(head, bits);
  return 0;
}

function doHugePmdWpPage(mm: Mm, vma: Vma, addr: number, pmdSlot: number): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const pmd = tables.entries[pmdSlot]!;
  if (pteUffdWp(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
    const handler = mm.kernel.userfault;
    if (handler === null) return VM_FAULT_SIGBUS;
    const outcome = handler.handleUserfault(mm, vma, realAddress, UserfaultReason.Wp, true);
    if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
    if (outcome === UserfaultOutcome.Retry) return 0;
    // WP_ASYNC on a THP: split, so only the touched 4 KiB page loses protection.
    splitHugePmd(mm, vma, pmdSlot, addr);
    return VM_FAULT_FALLBACK;
  }
  const head = ptePfn(pmd);
  if (frames.has(head, PG_ZERO)) {
    // do_huge_zero_wp_pmd: replace the huge zero page by a fresh THP; split only if none can be had.
    const fresh = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
    if (fresh === NO_FRAME) {
      splitHugePmd(mm, vma, pmdSlot, addr);
      return VM_FAULT_FALLBACK;
    }
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(fresh + i, PG_ANON_EXCLUSIVE);
    frames.refcount[fresh] = 1;
    frames.entireMapcount.set(fresh, 1);
    const bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm) | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
    tables.entries[pmdSlot] = mkHugeLeaf(fresh, bits);
    return 0;
  }
  if (frames.has(head, PG_ANON) && frames.refcount[head] === 1 && (frames.entireMapcount.get(head) ?? 0) === 1) {
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(head + i, PG_ANON_EXCLUSIVE);
    tables.entries[pmdSlot] = (pmd | PTE_WRITE | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm)) >>> 0;
    return 0;
  }
  splitHugePmd(mm, vma, pmdSlot, addr);
  return VM_FAULT_FALLBACK;
}

/**
 * split_huge_pmd: replaces a huge PMD (THP, huge zero page, or a PMD
 * migration entry) by a PTE table mapping the same pages. The folio stays
 * large and becomes PTE-mapped; only the PMD mapping is converted.
 */
export function splitHugePmd(mm: Mm, vma: Vma, pmdSlot: number, _addr: number): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const pmd = tables.entries[pmdSlot]!;
  if (!pmdLeaf(pmd) && !isSwapPte(pmd)) return;
  if (vma.isHugetlb) return;
  const tableId = tables.alloc();
  const base = tableId * PTRS_PER_TABLE;
  if (isSwapPte(pmd)) {
    const pfn = swpOffset(pmd);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      tables.entries[base + i] = makeMigrationEntry(pfn + i, isWritableMigrationEntry(pmd));
    }
    tables.entries[pmdSlot] = mkTableEntry(tableId);
    return;
  }
  const head = ptePfn(pmd);
  const flags = pteFlags(pmd) & ~PTE_HUGE;
  if (frames.has(head, PG_ZERO)) {
    const zero = frames.zeroPfn;
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      tables.entries[base + i] = mkPte(zero, (flags & (PTE_ACCESSED | PTE_UFFD_WP | PTE_SOFT_DIRTY)) | PTE_SPECIAL);
    }
    tables.entries[pmdSlot] = mkTableEntry(tableId);
    return;
  }
  // Convert one PMD mapping into 512 PTE mappings of the same folio.
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    tables.entries[base + i] = mkPte(head + i, flags);
    frames.mapcount[head + i] = frames.mapcount[head + i]! + 1;
  }
  frames.refcount[head] = frames.refcount[head]! + HPAGE_PMD_NR - 1;
  const entire = (frames.entireMapcount.get(head) ?? 1) - 1;
  if (entire === 0) frames.entireMapcount.delete(head);
  else frames.entireMapcount.set(head, entire);
  tables.entries[pmdSlot] = mkTableEntry(tableId);
}

/**
 * What __folio_split does for an anonymous folio once it is split (remap
 * with RMP_USE_SHARED_ZEROPAGE, since 6.12): every former subpage that is
 * all zero is mapped to the shared zero page instead (read-only, keeping
 * its soft-dirty and uffd-wp bits) and freed; not where the mapping VMA is
 * VM_LOCKED (checked per page: the folio's PTEs may lie in several VMAs)
 * or the folio mlocked. `head` was split with frames.splitFolio; its PTE
 * mappings are in the table under `pmdSlot`, which maps the 2 MiB around
 * `pmdAddr` (nothing moves them elsewhere: mremap is not modelled).
 */
export function mapUnusedToZeropage(mm: Mm, pmdSlot: number, pmdAddr: number, head: number): void {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const pmd = tables.entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return;
  const base = tableIdOf(pmd) * PTRS_PER_TABLE;
  const pmdStart = pmdAlignDown(pmdAddr);
  for (let slot = base; slot < base + PTRS_PER_TABLE; slot++) {
    const pte = tables.entries[slot]!;
    if (!ptePresent(pte) || pteSpecial(pte)) continue;
    const pfn = ptePfn(pte);
    if (pfn < head || pfn >= head + HPAGE_PMD_NR) continue;
    // Each former subpage carries the folio's flags (the head page itself may be gone already).
    if (!frames.has(pfn, PG_ANON) || frames.has(pfn, PG_MLOCKED) || !isZeroFilled(frames.contents.peek(pfn))) continue;
    const mapping = mm.vmas.find(pmdStart + (slot - base) * PAGE_SIZE);
    if (mapping === null || (mapping.flags & VM_LOCKED) !== 0) continue;
    tables.entries[slot] = mkPte(frames.zeroPfn, PTE_SPECIAL | PTE_ACCESSED | (pte & (PTE_SOFT_DIRTY | PTE_UFFD_WP)));
    accountPteUnmap(mm, pfn);
  }
}

function isZeroFilled(bytes: Uint8Array | null): boolean {
  if (bytes === null) return true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/* ------------------------------------------------------------- hugetlb */

function hugetlbFault(mm: Mm, vma: Vma, addr: number, flags: number): number {
  const tables = mm.kernel.tables;
  const frames = mm.kernel.frames;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  const haddr = pmdAlignDown(addr);
  const slot = mm.pmdSlot(haddr, true);
  let pmd = tables.entries[slot]!;
  if (isPteMarker(pmd) && isUffdWpPteMarker(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
    pmd = 0;
  }
  if (pmd === 0 || isPteMarker(pmd)) {
    const markerWp = isPteMarker(tables.entries[slot]!) && isUffdWpPteMarker(tables.entries[slot]!);
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, haddr, UserfaultReason.Missing, write);
    let head: number;
    const shared = (vma.flags & VM_SHARED) !== 0;
    const file = vma.file;
    const index = vma.pageIndex(haddr);
    if (shared && file !== null && file.cache.get(index) > 0) {
      head = file.cache.get(index);
    } else {
      head = frames.alloc(9, PG_HUGETLB | PG_ANON_EXCLUSIVE | (shared ? PG_PAGECACHE : PG_ANON));
      if (head === NO_FRAME) return VM_FAULT_OOM;
      if (shared && file !== null) {
        file.cache.set(index, head);
        frames.get(head);
      }
    }
    frames.get(head);
    frames.entireMapcount.set(head, (frames.entireMapcount.get(head) ?? 0) + 1);
    let bits = PTE_ACCESSED | ((vma.flags & VM_WRITE) !== 0 && (write || shared) ? PTE_WRITE : 0) | (write ? PTE_DIRTY : 0);
    if (markerWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
    tables.entries[slot] = mkHugeLeaf(head, bits);
    return 0;
  }
  if (!pmdLeaf(pmd)) return VM_FAULT_SIGBUS;
  if (write && !pteWrite(pmd)) {
    if (pteUffdWp(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
      const handler = mm.kernel.userfault;
      if (handler === null) return VM_FAULT_SIGBUS;
      const outcome = handler.handleUserfault(mm, vma, haddr, UserfaultReason.Wp, true);
      if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
      if (outcome === UserfaultOutcome.Retry) return 0;
      pmd = (pmd & ~PTE_UFFD_WP) >>> 0;
    }
    const head = ptePfn(pmd);
    if ((vma.flags & VM_SHARED) !== 0 || (frames.refcount[head] === 1 && frames.has(head, PG_ANON))) {
      tables.entries[slot] = (pmd | PTE_WRITE | PTE_DIRTY | PTE_ACCESSED) >>> 0;
      return 0;
    }
    // hugetlb COW: a new huge page with a copy of the data.
    const copy = frames.alloc(9, PG_HUGETLB | PG_ANON | PG_ANON_EXCLUSIVE);
    if (copy === NO_FRAME) return VM_FAULT_OOM;
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.contents.copyFrom(frames.contents, head + i, copy + i);
    frames.get(copy);
    frames.entireMapcount.set(copy, 1);
    tables.entries[slot] = mkHugeLeaf(copy, PTE_WRITE | PTE_DIRTY | PTE_ACCESSED);
    const entire = (frames.entireMapcount.get(head) ?? 1) - 1;
    if (entire === 0) frames.entireMapcount.delete(head);
    else frames.entireMapcount.set(head, entire);
    frames.put(head);
    return 0;
  }
  tables.entries[slot] = (pmd | PTE_ACCESSED) >>> 0;
  return 0;
}

