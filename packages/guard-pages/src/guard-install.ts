/**
 * MADV_GUARD_INSTALL (mm/madvise.c madvise_guard_install): fill every PTE
 * of the range with a guard marker, zapping whatever was mapped there.
 *
 * The walk uses the mm-internal installPte: empty PTEs (tables allocated as
 * needed) get a marker straight from the walker — each run of consecutive
 * empty PTEs in one installPteBatch call, a `fill`; pteEntry sees only the
 * non-empty ones. Anything that is not already a guard stops the walk with
 * 1, the range is zapped (a zap without ZAP_DROP_MARKER keeps guards) and
 * the walk is tried again.
 */
import {
  Errno,
  PAGE_SIZE,
  isGuardPteMarker,
  makeGuardPte,
  pmdLeaf,
  type MmWalk,
  type Mm,
  type Pmd,
  type Pte,
  type Pud,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal, type MmWalkOpsUnsafe } from '@pagewalk/core-walk/mm-internal';
import { isValidGuardVma } from './guard-vma.js';

const { anonVmaPrepare, walkPageRangeMm, zapVmaRange } = claimMmInternal();

/** Private state of one install walk (the kernel's `unsigned long nr_pages`). */
export interface GuardInstallState {
  /** Pages of the range that hold a guard marker (new or already there). */
  nrPages: number;
}

/** Walk-and-zap attempts per restart (MAX_MADVISE_GUARD_RETRIES). */
export const MAX_GUARD_INSTALL_ATTEMPTS = 3;
/**
 * How many times the simulator restarts the per-VMA step after
 * MAX_GUARD_INSTALL_ATTEMPTS failed attempts. The kernel returns
 * -ERESTARTNOINTR, which re-executes the whole madvise() call; the
 * simulator has no concurrent faults, so a restart can only fail again when
 * the zap itself cannot clear the range (see guardInstallVma).
 */
export const MAX_GUARD_INSTALL_RESTARTS = 4;

/** A THP at PUD level: stop and zap (guard_install_pud_entry). */
function guardInstallPudEntry(entry: Pud): number {
  return pmdLeaf(entry) ? 1 : 0;
}

/** A THP (or the huge zero page) at PMD level: stop and zap (guard_install_pmd_entry). */
function guardInstallPmdEntry(entry: Pmd): number {
  return pmdLeaf(entry) ? 1 : 0;
}

/** A non-empty PTE: an existing guard counts; anything else needs a zap (guard_install_pte_entry). */
function guardInstallPteEntry(entry: Pte, _addr: number, _next: number, walk: MmWalk<GuardInstallState>): number {
  if (isGuardPteMarker(entry)) {
    walk.state.nrPages++;
    return 0;
  }
  return 1;
}

/** An empty PTE: the walker stores the marker returned here (guard_install_set_pte). */
function guardInstallSetPte(_addr: number, _next: number, walk: MmWalk<GuardInstallState>): number {
  walk.state.nrPages++;
  return makeGuardPte();
}

/** A run of empty PTEs: all of them get the marker at once (guard_install_set_pte, batched). */
function guardInstallSetPteBatch(entries: Uint32Array, first: number, count: number, _addr: number, walk: MmWalk<GuardInstallState>): number {
  entries.fill(GUARD_PTE, first, first + count);
  walk.state.nrPages += count;
  return 0;
}

const GUARD_PTE = makeGuardPte();

/** guard_install_walk_ops. */
export const guardInstallWalkOps: MmWalkOpsUnsafe<GuardInstallState> = Object.freeze({
  pudEntry: guardInstallPudEntry,
  pmdEntry: guardInstallPmdEntry,
  pteEntry: guardInstallPteEntry,
  installPte: guardInstallSetPte,
  installPteBatch: guardInstallSetPteBatch,
});

/**
 * The per-VMA step of MADV_GUARD_INSTALL over [start, end) of `vma`,
 * clamped to the VMA (never beyond it, whatever the caller passes).
 * Returns 0 or -errno:
 * - -EINVAL: VM_SPECIAL, hugetlb or mlocked VMA, a VMA that is not one of
 *   `mm`'s, an unaligned range or one that misses the VMA (nothing is changed);
 * - -EAGAIN: the range could not be cleared after every restart. The
 *   kernel would restart the system call forever here (a livelock: only a
 *   file VMA registered for uffd-wp, whose zap keeps uffd-wp markers, gets
 *   this far); the simulator stops and reports it instead.
 */
export function guardInstallVma(mm: Mm, vma: Vma, start: number, end: number): number {
  if (vma.mm !== mm || !mm.vmas.all().includes(vma)) return -Errno.EINVAL;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start % PAGE_SIZE !== 0 || end % PAGE_SIZE !== 0) return -Errno.EINVAL;
  start = Math.max(start, vma.start);
  end = Math.min(end, vma.end);
  if (start >= end) return -Errno.EINVAL;
  if (!isValidGuardVma(vma, false)) return -Errno.EINVAL;
  // Every VMA type gets an anon_vma: fork then copies its page tables, so
  // the child inherits the markers even for file mappings.
  anonVmaPrepare(mm, vma);
  const state: GuardInstallState = { nrPages: 0 };
  for (let restart = 0; restart <= MAX_GUARD_INSTALL_RESTARTS; restart++) {
    for (let attempt = 0; attempt < MAX_GUARD_INSTALL_ATTEMPTS; attempt++) {
      state.nrPages = 0;
      const result = walkPageRangeMm(mm, start, end, guardInstallWalkOps, state);
      if (result < 0) return result;
      if (result === 0) return 0;
      // Something other than a guard is mapped: zap it all (guards stay) and retry.
      zapVmaRange(mm, vma, start, end, 0);
    }
  }
  return -Errno.EAGAIN;
}
