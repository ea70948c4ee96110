/**
 * hmm_range_fault (mm/hmm.c): snapshot the CPU page table of a range into
 * one HMM pfn value per page, faulting pages in where the caller asks.
 *
 * The kernel packs pfn and flags into one 64-bit word (flags in bits
 * 53..63). Doubles cannot hold that exactly, so a range carries two arrays
 * of the same length: `pfns` (Uint32Array) and `flags` (Uint16Array)
 * holding bits 53..63 of the kernel's word shifted down by 53:
 *
 *   flags bit | kernel bit | name
 *   10        | 63         | HMM_PFN_VALID   (input: HMM_PFN_REQ_FAULT)
 *    9        | 62         | HMM_PFN_WRITE   (input: HMM_PFN_REQ_WRITE)
 *    8        | 61         | HMM_PFN_ERROR
 *    7        | 60         | HMM_PFN_DMA_MAPPED  (sticky)
 *    6        | 59         | HMM_PFN_P2PDMA      (sticky)
 *    5        | 58         | HMM_PFN_P2PDMA_BUS  (sticky)
 *    4..0     | 57..53     | mapping order (0 PTE, 9 PMD, 18 PUD)
 *
 * A written entry keeps only its sticky input bits. All-zero flags means
 * "not present, could be faulted".
 */
import {
  Errno,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  HPAGE_PMD_NR,
  PAGE_SIZE,
  VM_FAULT_ERROR,
  VM_IO,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  WalkAction,
  isDeviceExclusiveEntry,
  isDevicePrivateEntry,
  isMigrationEntry,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  isWritableDevicePrivateEntry,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteWrite,
  swpOffset,
  walkPageRange,
  type Mm,
  type MmWalk,
  type MmWalkOps,
  type Pmd,
  type Pte,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { hmmRegistryOf, type HmmRegistry } from './device-pagemap.js';

const { framesOf, handleMmFault } = claimMmInternal();

export const HMM_PFN_VALID = 1 << 10;
export const HMM_PFN_WRITE = 1 << 9;
export const HMM_PFN_ERROR = 1 << 8;
export const HMM_PFN_DMA_MAPPED = 1 << 7;
export const HMM_PFN_P2PDMA = 1 << 6;
export const HMM_PFN_P2PDMA_BUS = 1 << 5;
export const HMM_PFN_ORDER_MASK = 0x1f;
export const HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
export const HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
/** Input bits kept in the output. */
export const HMM_PFN_INOUT_FLAGS = HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA | HMM_PFN_P2PDMA_BUS;

/** hmm_pfn_to_map_order(). */
export const hmmPfnToMapOrder = (flags: number): number => flags & HMM_PFN_ORDER_MASK;

/** struct hmm_range (without the notifier: the simulator has no concurrent invalidation). */
export interface HmmRange {
  readonly mm: Mm;
  /** Page aligned, start < end. */
  start: number;
  end: number;
  /** Per page: the pfn (output). */
  readonly pfns: Uint32Array;
  /** Per page: request bits in, HMM_PFN_* flags out (see the module header). */
  readonly flags: Uint16Array;
  /** Request bits applied to every page. */
  defaultFlags: number;
  /** Which per-page input bits count. */
  pfnFlagsMask: number;
  /** Device-private pages of this owner are reported (VALID) rather than faulted. */
  devPrivateOwner: object | null;
}

export function createHmmRange(mm: Mm, start: number, end: number, options: Partial<Pick<HmmRange, 'defaultFlags' | 'pfnFlagsMask' | 'devPrivateOwner'>> = {}): HmmRange {
  const pages = Math.max(0, Math.floor((end - start) / PAGE_SIZE));
  return {
    mm,
    start,
    end,
    pfns: new Uint32Array(pages),
    flags: new Uint16Array(pages),
    defaultFlags: options.defaultFlags ?? 0,
    pfnFlagsMask: options.pfnFlagsMask ?? 0,
    devPrivateOwner: options.devPrivateOwner ?? null,
  };
}

const NEED_FAULT = 1;
const NEED_WRITE_FAULT = 2;
const NEED_ALL = NEED_FAULT | NEED_WRITE_FAULT;

/** The walk's private state (struct hmm_vma_walk) plus the fault it asks the caller to take. */
export interface HmmWalkState {
  range: HmmRange;
  registry: HmmRegistry;
  /** Where the next walk restarts: entries below it are final. */
  last: number;
  /** End of the current PMD range (pteEntry faults up to it, as the kernel does). */
  pmdEnd: number;
  /** A fault the walk stopped for (-EBUSY): [faultStart, faultEnd) with faultFlags. */
  faultStart: number;
  faultEnd: number;
  faultFlags: number;
}

function pteNeedFault(state: HmmWalkState, request: number, cpuFlags: number): number {
  const range = state.range;
  const req = (request & range.pfnFlagsMask) | range.defaultFlags;
  if ((req & HMM_PFN_REQ_FAULT) === 0) return 0;
  if ((req & HMM_PFN_REQ_WRITE) !== 0 && (cpuFlags & HMM_PFN_WRITE) === 0) return NEED_ALL;
  if ((cpuFlags & HMM_PFN_VALID) === 0) return NEED_FAULT;
  return 0;
}

function rangeNeedFault(state: HmmWalkState, first: number, count: number, cpuFlags: number): number {
  const range = state.range;
  if (((range.defaultFlags | range.pfnFlagsMask) & HMM_PFN_REQ_FAULT) === 0) return 0;
  let required = 0;
  for (let i = 0; i < count; i++) {
    required |= pteNeedFault(state, range.flags[first + i]!, cpuFlags);
    if (required === NEED_ALL) break;
  }
  return required;
}

function fill(range: HmmRange, addr: number, end: number, cpuFlags: number): void {
  for (let i = (addr - range.start) / PAGE_SIZE; addr < end; addr += PAGE_SIZE, i++) {
    range.flags[i] = (range.flags[i]! & HMM_PFN_INOUT_FLAGS) | cpuFlags;
    range.pfns[i] = 0;
  }
}

/** hmm_vma_fault: record the fault for the caller and stop the walk with -EBUSY (or -EPERM). */
function vmaFault(addr: number, end: number, required: number, walk: MmWalk<HmmWalkState>): number {
  const state = walk.state;
  state.last = addr;
  let flags = FAULT_FLAG_REMOTE;
  if ((required & NEED_WRITE_FAULT) !== 0) {
    if ((walk.vma!.flags & VM_WRITE) === 0) return -Errno.EPERM;
    flags |= FAULT_FLAG_WRITE;
  }
  state.faultStart = addr;
  state.faultEnd = end;
  state.faultFlags = flags;
  return -Errno.EBUSY;
}

function hmmHole(addr: number, end: number, _depth: number, walk: MmWalk<HmmWalkState>): number {
  const state = walk.state;
  const range = state.range;
  const first = (addr - range.start) / PAGE_SIZE;
  const required = rangeNeedFault(state, first, (end - addr) / PAGE_SIZE, 0);
  if (walk.vma === null) {
    if (required) return -Errno.EFAULT;
    fill(range, addr, end, HMM_PFN_ERROR);
    return 0;
  }
  if (required) return vmaFault(addr, end, required, walk);
  fill(range, addr, end, 0);
  return 0;
}

function hmmTest(start: number, end: number, walk: MmWalk<HmmWalkState>): number {
  const vma = walk.vma!;
  if ((vma.flags & (VM_IO | VM_PFNMAP)) === 0 && (vma.flags & VM_READ) !== 0) return 0;
  const state = walk.state;
  const range = state.range;
  if (rangeNeedFault(state, (start - range.start) / PAGE_SIZE, (end - start) / PAGE_SIZE, 0)) return -Errno.EFAULT;
  fill(range, start, end, HMM_PFN_ERROR);
  return 1;
}

function hmmPmd(pmd: Pmd, addr: number, end: number, walk: MmWalk<HmmWalkState>): number {
  const state = walk.state;
  const range = state.range;
  const first = (addr - range.start) / PAGE_SIZE;
  const count = (end - addr) / PAGE_SIZE;
  state.pmdEnd = end;
  if (pmdLeaf(pmd)) {
    walk.action = WalkAction.Continue;
    const cpuFlags = (pteWrite(pmd) ? HMM_PFN_VALID | HMM_PFN_WRITE : HMM_PFN_VALID) | 9;
    const required = rangeNeedFault(state, first, count, cpuFlags);
    if (required) return vmaFault(addr, end, required, walk);
    let pfn = ptePfn(pmd) + ((addr / PAGE_SIZE) % HPAGE_PMD_NR);
    for (let i = first; i < first + count; i++, pfn++) {
      range.flags[i] = (range.flags[i]! & HMM_PFN_INOUT_FLAGS) | cpuFlags;
      range.pfns[i] = pfn;
    }
    return 0;
  }
  if (isSwapPte(pmd)) {
    // A non-present PMD (only migration entries exist at this level, never at rest).
    walk.action = WalkAction.Continue;
    if (rangeNeedFault(state, first, count, 0)) return -Errno.EFAULT;
    fill(range, addr, end, HMM_PFN_ERROR);
  }
  return 0;
}

function hmmPte(pte: Pte, addr: number, _next: number, walk: MmWalk<HmmWalkState>): number {
  const state = walk.state;
  const range = state.range;
  const i = (addr - range.start) / PAGE_SIZE;
  const request = range.flags[i]!;
  let out = 0;
  let pfn = 0;
  if (pte === 0 || isPteMarker(pte)) {
    const required = pteNeedFault(state, request, 0);
    if (required) return vmaFault(addr, state.pmdEnd, required, walk);
  } else if (!ptePresent(pte)) {
    if (isDevicePrivateEntry(pte) && state.registry.pagemapOf(swpOffset(pte))?.owner === range.devPrivateOwner && range.devPrivateOwner !== null) {
      out = HMM_PFN_VALID | (isWritableDevicePrivateEntry(pte) ? HMM_PFN_WRITE : 0);
      pfn = swpOffset(pte);
    } else {
      const required = pteNeedFault(state, request, 0);
      if (required) {
        if (isRealSwapEntry(pte) || isDevicePrivateEntry(pte) || isDeviceExclusiveEntry(pte) || isMigrationEntry(pte)) {
          // Swap-in, migrate_to_ram, exclusive restore; a migration entry is waited for (the fault restores it here).
          return vmaFault(addr, state.pmdEnd, required, walk);
        }
        return -Errno.EFAULT;
      }
    }
  } else {
    const cpuFlags = pteWrite(pte) ? HMM_PFN_VALID | HMM_PFN_WRITE : HMM_PFN_VALID;
    const required = pteNeedFault(state, request, cpuFlags);
    if (required) return vmaFault(addr, state.pmdEnd, required, walk);
    const frames = framesOf(state.range.mm.kernel);
    if (pteSpecial(pte) && ptePfn(pte) !== frames.zeroPfn) {
      if (pteNeedFault(state, request, 0)) return -Errno.EFAULT;
      out = HMM_PFN_ERROR;
    } else {
      out = cpuFlags;
      pfn = ptePfn(pte);
    }
  }
  range.flags[i] = (request & HMM_PFN_INOUT_FLAGS) | out;
  range.pfns[i] = pfn;
  return 0;
}

function hmmHugetlb(entry: Pmd, hmask: number, addr: number, end: number, walk: MmWalk<HmmWalkState>): number {
  const state = walk.state;
  const range = state.range;
  const i = (addr - range.start) / PAGE_SIZE;
  const present = ptePresent(entry) && pmdLeaf(entry);
  const cpuFlags = (present ? (pteWrite(entry) ? HMM_PFN_VALID | HMM_PFN_WRITE : HMM_PFN_VALID) : 0) | 9;
  const required = pteNeedFault(state, range.flags[i]!, cpuFlags);
  if (required) return vmaFault(addr, end, required, walk);
  let pfn = present ? ptePfn(entry) + (addr % -hmask) / PAGE_SIZE : 0;
  for (let j = i; addr < end; addr += PAGE_SIZE, j++) {
    range.flags[j] = (range.flags[j]! & HMM_PFN_INOUT_FLAGS) | cpuFlags;
    range.pfns[j] = present ? pfn++ : 0;
  }
  return 0;
}

/** The walk of hmm_range_fault (hmm_walk_ops): read-locked, never splits a huge PMD. */
export const hmmWalkOps: MmWalkOps<HmmWalkState> = {
  testWalk: hmmTest,
  pmdEntry: hmmPmd,
  pteEntry: hmmPte,
  pteHole: hmmHole,
  hugetlbEntry: hmmHugetlb,
};

/** How many fault rounds one call may take before giving up with -EBUSY (the driver's timeout). */
const MAX_FAULT_ROUNDS_PER_PAGE = 8;

/**
 * hmm_range_fault(): fills range.pfns/flags. Returns 0, or -EFAULT (an
 * address outside any VMA, an unreadable or I/O VMA, a special page, or a
 * failed fault when a fault was requested), -EPERM (a write fault asked
 * for in a VMA without write permission), -EINVAL (bad range) or -EBUSY
 * (the fault loop did not settle). Holds the mmap read lock (takes it if
 * nothing is held).
 */
export function hmmRangeFault(range: HmmRange): number {
  const mm = range.mm;
  if (range.start % PAGE_SIZE !== 0 || range.end % PAGE_SIZE !== 0 || range.end <= range.start) return -Errno.EINVAL;
  const pages = (range.end - range.start) / PAGE_SIZE;
  if (range.pfns.length < pages || range.flags.length < pages) return -Errno.EINVAL;
  const state: HmmWalkState = {
    range,
    registry: hmmRegistryOf(mm.kernel),
    last: range.start,
    pmdEnd: range.end,
    faultStart: 0,
    faultEnd: 0,
    faultFlags: 0,
  };
  const takeLock = !mm.lock.held;
  if (takeLock) mm.lock.readLock();
  try {
    for (let round = 0; round < MAX_FAULT_ROUNDS_PER_PAGE * pages + 8; round++) {
      state.faultEnd = 0;
      const err = walkPageRange(mm, state.last, range.end, hmmWalkOps, state);
      if (err !== -Errno.EBUSY) return err < 0 ? err : 0;
      if (state.faultEnd === 0) continue;
      const vma = mm.vmas.lookup(state.faultStart);
      if (vma === null) return -Errno.EFAULT;
      for (let addr = state.faultStart; addr < state.faultEnd; addr += PAGE_SIZE) {
        if ((handleMmFault(mm, vma, addr, state.faultFlags) & VM_FAULT_ERROR) !== 0) return -Errno.EFAULT;
      }
    }
    return -Errno.EBUSY;
  } finally {
    if (takeLock) mm.lock.readUnlock();
  }
}
