/**
 * The page-fault handler and the CPU's view of memory (mm/memory.c):
 * handle_mm_fault down to the PTE level — anonymous, file (shmem) and
 * swap-in faults, copy-on-write — and the access that takes them.
 * PMD-level THP faults are in huge-memory.ts, hugetlb faults in
 * hugetlb.ts, mapcount and refcount accounting in rmap.ts. Every handler
 * returns vm_fault_t bits: 0 means "retry the access".
 */
import { SIGBUS, SIGKILL, SIGSEGV } from './errno.js';
import { UserfaultOutcome, UserfaultReason } from './feature.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_LOCKED, PG_LRU, PG_SWAPBACKED, PG_ZERO } from './frames.js';
import { PagewalkArgumentError } from './friendly.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PTRS_PER_TABLE, tableIndex } from './geometry.js';
import { doHugePmdAnonymousPage, doHugePmdWpPage, splitHugePmd, thpAllowed } from './huge-memory.js';
import { hugetlbFault } from './hugetlb.js';
import type { Mm } from './mm.js';
import { doAnonymousLarge, mthpConfigured, swapInLarge } from './mthp.js';
import {
  isTableEntry,
  mkPte,
  pmdLeaf,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_UFFD_WP,
  PTE_WRITE,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteUffdWp,
  pteWrite,
} from './pgtable.js';
import { accountPteMap, accountPteUnmap, anonVmaPrepare } from './rmap.js';
import { shmemGetPage } from './shmem.js';
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
  isWritableMigrationEntry,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  swpOffset,
} from './swapops.js';
import {
  AccessKind,
  FAULT_FLAG_FORCE,
  FAULT_FLAG_WRITE,
  VM_FAULT_ERROR,
  VM_FAULT_FALLBACK,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
} from './uapi.js';
import { VM_EXEC, VM_READ, VM_SHARED, VM_UFFD_MINOR, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';
import { allocTableAt, pmdSlotOf, pteOffset } from './pgtable-nav.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm } from './trace.js';

export function softDirtyBit(mm: Mm): number {
  return mm.kernel.profile.softDirty ? PTE_SOFT_DIRTY : 0;
}

/** Allocates a zeroed anonymous page (refcount 0). */
function allocAnonPage(mm: Mm): number {
  return mm.kernel[FRAMES].alloc(0, PG_ANON | PG_SWAPBACKED | PG_LRU | PG_ANON_EXCLUSIVE);
}

/**
 * The exact address of the access being handled (vmf->real_address): the
 * handlers work on the page-aligned address, only the userfaultfd message
 * (UFFD_FEATURE_EXACT_ADDRESS) sees the byte. Read before any nested fault.
 */
let realAddress = 0;

/** The byte address of the fault being handled (for userfaultfd messages). */
export function faultRealAddress(): number {
  return realAddress;
}

export function userfault(mm: Mm, vma: Vma, addr: number, reason: UserfaultReason, write: boolean): number {
  const handler = mm.kernel.userfault;
  if (handler === null) return VM_FAULT_SIGBUS;
  // hugetlb reports the huge page (exact addresses are not modelled there).
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'handle_userfault', addr, end: addr + PAGE_SIZE, result: reason === UserfaultReason.Missing ? 'missing' : reason === UserfaultReason.Wp ? 'wp' : 'minor', write });
  const outcome = handler.handleUserfault(mm, vma, vma.isHugetlb ? addr : realAddress, reason, write);
  if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
  return 0;
}

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
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'handle_mm_fault', addr, end: addr + PAGE_SIZE, result: (flags & FAULT_FLAG_WRITE) !== 0 ? 'write' : 'read', write: (flags & FAULT_FLAG_WRITE) !== 0 });
  if (vma.isHugetlb) return hugetlbFault(mm, vma, addr, flags);
  const tables = mm.kernel[TABLES];
  const pmdSlot = pmdSlotOf(mm, addr, true);
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
  if (pmd === 0) allocTableAt(mm, pmdSlot);
  pmd = tables.entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return 0;
  const slot = pteOffset(pmd, addr);
  return handlePteFault(mm, vma, addr, slot, flags);
}

function handlePteFault(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel[TABLES];
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

function doAnonymousPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number, uffdWp: boolean): number {
  const tables = mm.kernel[TABLES];
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (!write && mm.kernel.profile.zeroPage) {
    // Read fault: map the shared zero page.
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, false);
    let pte = mkPte(mm.kernel[FRAMES].zeroPfn, PTE_SPECIAL | PTE_ACCESSED);
    if (uffdWp) pte = (pte | PTE_UFFD_WP) >>> 0;
    tables.entries[slot] = pte;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_anonymous_page', addr, end: addr + PAGE_SIZE, result: 'zero-page', pfn: mm.kernel[FRAMES].zeroPfn });
    return 0;
  }
  // A write fault, or a read fault on a kernel that forbids the zero page
  // (mm_forbids_zeropage): a fresh exclusive page, writable and dirty when
  // the VMA is writable whichever access faulted, as do_anonymous_page maps it.
  anonVmaPrepare(mm, vma);
  if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, write);
  // mTHP hook (mthp.ts): a large folio where the profile's sizes allow one.
  if (!uffdWp && mthpConfigured(mm.kernel.profile) && doAnonymousLarge(mm, vma, addr, slot) === 0) return 0;
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  let bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm);
  if ((vma.flags & VM_WRITE) !== 0) bits |= PTE_WRITE;
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_anonymous_page', addr, end: addr + PAGE_SIZE, result: write ? 'page' : 'page-no-zero-page', pfn, order: 0 });
  if (uffdWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
  accountPteMap(mm, pfn);
  tables.entries[slot] = mkPte(pfn, bits);
  return 0;
}

function doFault(mm: Mm, vma: Vma, addr: number, slot: number, flags: number, uffdWp: boolean): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
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
    anonVmaPrepare(mm, vma);
    const pfn = allocAnonPage(mm);
    if (pfn === NO_FRAME) return VM_FAULT_OOM;
    frames.contents.copyFrom(frames.contents, cachePfn, pfn);

    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_cow_fault', addr, end: addr + PAGE_SIZE, result: 'copy', pfn });
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
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: write ? 'do_shared_fault' : 'do_read_fault', addr, end: addr + PAGE_SIZE, result: 'page-cache', pfn: cachePfn });
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
  const entries = mm.kernel[TABLES].entries;
  const pteOff = tableIndex(addr, 12);
  const vmaOff = (addr - vma.start) / PAGE_SIZE;
  const from = Math.max(pteOff - (pteOff % FAULT_AROUND_PAGES), pteOff - Math.min(pteOff, vmaOff));
  const to = Math.min(from + FAULT_AROUND_PAGES, PTRS_PER_TABLE, pteOff + vma.pages - vmaOff);
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_fault_around', addr: addr + (from - pteOff) * PAGE_SIZE, end: addr + (to - pteOff) * PAGE_SIZE, result: 'map-pages' });
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

function doSwapPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const entry = tables.entries[slot]!;
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (isPteMarker(entry)) {
    // handle_pte_marker: poison beats guard beats uffd-wp.
    if (isPoisonedPteMarker(entry)) return VM_FAULT_HWPOISON;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'handle_pte_marker', addr, end: addr + PAGE_SIZE, result: isPoisonedPteMarker(entry) ? 'HWPOISON' : isGuardPteMarker(entry) ? 'SIGSEGV' : isUffdWpPteMarker(entry) ? 'uffd-wp' : 'SIGBUS' });
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
  // mTHP hook (mthp.ts): zram swaps a large folio back in whole.
  if (mthpConfigured(mm.kernel.profile) && swapInLarge(mm, vma, addr, slot, flags) === 0) return 0;
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  frames.contents.copyFrom(swap.contents, swapSlot, pfn);
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_swap_page', addr, end: addr + PAGE_SIZE, result: 'swapin', pfn, slot: swapSlot, device: mm.kernel.profile.swapDevice, order: 0 });
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
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
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

function doWpPage(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  let entry = tables.entries[slot]!;
  if (pteUffdWp(entry) && (vma.flags & VM_UFFD_WP) !== 0) {
    const handler = mm.kernel.userfault;
    if (handler === null) return VM_FAULT_SIGBUS;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'handle_userfault', addr, end: addr + PAGE_SIZE, result: 'wp', write: true });
    const outcome = handler.handleUserfault(mm, vma, realAddress, UserfaultReason.Wp, true);
    if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
    if (outcome === UserfaultOutcome.Retry) return 0;
    // WP_ASYNC: drop the protection in place and go on with the write.
    entry = (entry & ~PTE_UFFD_WP) >>> 0;
    tables.entries[slot] = entry;
  }
  if ((vma.flags & VM_SHARED) !== 0) {
    if ((vma.flags & VM_WRITE) === 0 && (flags & FAULT_FLAG_FORCE) === 0) return VM_FAULT_SIGSEGV;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'wp_page_shared', addr, end: addr + PAGE_SIZE, result: 'reuse', pfn: ptePfn(entry) });
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
      if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'wp_page_reuse', addr, end: addr + PAGE_SIZE, result: 'reuse', pfn: oldPfn });
      tables.entries[slot] = (entry | writeBit | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm)) >>> 0;
      return 0;
    }
  }
  return wpPageCopy(mm, vma, addr, slot, flags);
}

/** wp_page_copy: break COW (or the zero page) with a new private page. */
function wpPageCopy(mm: Mm, vma: Vma, _addr: number, slot: number, flags: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const entry = tables.entries[slot]!;
  anonVmaPrepare(mm, vma);
  const pfn = allocAnonPage(mm);
  if (pfn === NO_FRAME) return VM_FAULT_OOM;
  const oldPfn = ptePfn(entry);
  if (!frames.has(oldPfn, PG_ZERO)) frames.contents.copyFrom(frames.contents, oldPfn, pfn);
  const writeBit = (vma.flags & VM_WRITE) !== 0 || (flags & FAULT_FLAG_FORCE) !== 0 ? PTE_WRITE : 0;
  accountPteMap(mm, pfn);
  // wp_page_copy maps the copy without the uffd-wp bit (a protected PTE never reaches here registered).
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'wp_page_copy', addr: _addr, end: _addr + PAGE_SIZE, result: frames.has(oldPfn, PG_ZERO) ? 'copy-of-zero-page' : 'copy', pfn });
  tables.entries[slot] = mkPte(pfn, writeBit | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm));
  if (!pteSpecial(entry)) accountPteUnmap(mm, oldPfn);
  return 0;
}

/**
 * A CPU access to one byte. Read returns the byte (0..255), write stores
 * `value` and returns 0; a fault that cannot be resolved returns -SIGSEGV
 * or -SIGBUS (the access did not happen).
 */
export function userAccess(mm: Mm, addr: number, kind: AccessKind, value = 0): number {
  // What no CPU could be asked (a byte of 300, an unknown access) is the caller's bug: say so.
  if (kind !== AccessKind.Read && kind !== AccessKind.Write && kind !== AccessKind.Exec)
    throw new PagewalkArgumentError('access', 'kind', `is an unknown access kind ${String(kind)} (AccessKind.Read, Write or Exec)`);
  if (kind === AccessKind.Write && !(Number.isInteger(value) && value >= 0 && value <= 255))
    throw new PagewalkArgumentError('access', 'value', `must be a byte (0..255), got ${String(value)}`);
  if (!mm.isLive || !Number.isSafeInteger(addr) || addr < 0 || addr >= mm.geometry.taskSize) return mm.killed ? -SIGKILL : -SIGSEGV;
  const write = kind === AccessKind.Write;
  let oom = false;
  mm.lock.readLock();
  try {
    for (let attempt = 0; attempt < 16; attempt++) {
      const vma = mm.vmas.lookup(addr);
      if (vma === null) return -SIGSEGV;
      // access_error(): the VMA's permissions decide first.
      if (write ? (vma.flags & VM_WRITE) === 0 : kind === AccessKind.Exec ? (vma.flags & VM_EXEC) === 0 : (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) {
        return -SIGSEGV;
      }
      const done = mmuAccess(mm, addr, write, value);
      if (done >= 0) return done;
      const fault = handleMmFault(mm, vma, addr, write ? FAULT_FLAG_WRITE : 0);
      if ((fault & VM_FAULT_ERROR) !== 0) {
        if (fault & VM_FAULT_SIGSEGV) return -SIGSEGV;
        if (fault & VM_FAULT_OOM) {
          oom = true;
          break;
        }
        if (fault & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON)) return -SIGBUS;
      }
    }
    if (!oom) return -SIGBUS;
  } finally {
    mm.lock.readUnlock();
  }
  // pagefault_out_of_memory: the OOM killer frees a victim's memory; if that was not us, try again.
  if (mm.outOfMemory()) return mm.access(addr, kind, value);
  return mm.killed ? -SIGKILL : -SIGBUS;
}

/** The MMU: performs the access if the page tables allow it, else returns -1. */
function mmuAccess(mm: Mm, addr: number, write: boolean, value: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pmdSlot = mm.pmdSlot(addr, false);
  if (pmdSlot < 0) return -1;
  const pmd = tables.entries[pmdSlot]!;
  let slot: number;
  let entry: number;
  let pfn: number;
  if (pmdLeaf(pmd)) {
    slot = pmdSlot;
    entry = pmd;
    pfn = ptePfn(pmd) + (Math.floor(addr / PAGE_SIZE) % HPAGE_PMD_NR);
  } else if (isTableEntry(pmd)) {
    slot = pteOffset(pmd, addr);
    entry = tables.entries[slot]!;
    if (!ptePresent(entry)) return -1;
    pfn = ptePfn(entry);
  } else {
    return -1;
  }
  if (write && !pteWrite(entry)) return -1;
  const offset = addr % PAGE_SIZE;
  if (write) {
    tables.entries[slot] = (entry | PTE_ACCESSED | PTE_DIRTY | (mm.kernel.profile.softDirty ? PTE_SOFT_DIRTY : 0)) >>> 0;
    frames.contents.writeByte(pfn, offset, value & 0xff);
    return 0;
  }
  tables.entries[slot] = (entry | PTE_ACCESSED) >>> 0;
  return frames.contents.readByte(pfn, offset);
}
