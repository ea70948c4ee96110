/**
 * MADV_GUARD_REMOVE (mm/madvise.c madvise_guard_remove): clear guard
 * markers, and nothing else, with the single-VMA walker (mm-internal: its
 * callbacks clear entries in place).
 */
import {
  Errno,
  WalkAction,
  isGuardPteMarker,
  makeGuardPte,
  pmdLeaf,
  type MmWalk,
  type MmWalkOps,
  type Mm,
  type Pmd,
  type Pud,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { isValidGuardVma } from './guard-vma.js';

const { walkPageRangeVmaMm } = claimMmInternal();

/** Guard removal needs no state; the walk's `state` is unused. */
export type GuardRemoveState = null;

/** A huge leaf cannot hold guards: skip it, never split it. */
function guardRemovePudEntry(entry: Pud, _addr: number, _next: number, walk: MmWalk<GuardRemoveState>): number {
  if (pmdLeaf(entry)) walk.action = WalkAction.Continue;
  return 0;
}

function guardRemovePmdEntry(entry: Pmd, _addr: number, _next: number, walk: MmWalk<GuardRemoveState>): number {
  if (pmdLeaf(entry)) walk.action = WalkAction.Continue;
  return 0;
}

/**
 * A guard marker becomes an empty PTE; every other entry is left alone
 * (guard_remove_pte_entry, over a whole slice of a PTE table at once).
 */
function guardRemovePteBatch(entries: Uint32Array, first: number, count: number): number {
  const last = first + count;
  for (let i = first; i < last; i++) {
    const entry = entries[i]!;
    if (entry === GUARD_PTE || (entry !== 0 && isGuardPteMarker(entry))) entries[i] = 0;
  }
  return 0;
}

const GUARD_PTE = makeGuardPte();

/** guard_remove_walk_ops. */
export const guardRemoveWalkOps: MmWalkOps<GuardRemoveState> = Object.freeze({
  pudEntry: guardRemovePudEntry,
  pmdEntry: guardRemovePmdEntry,
  pteBatch: guardRemovePteBatch,
});

/**
 * The per-VMA step of MADV_GUARD_REMOVE over [start, end) of `vma`.
 * Returns 0, or -EINVAL for VM_SPECIAL and hugetlb VMAs. Allowed on
 * mlocked VMAs: removing a guard destroys nothing.
 */
export function guardRemoveVma(mm: Mm, vma: Vma, start: number, end: number): number {
  if (vma.mm !== mm || !isValidGuardVma(vma, true)) return -Errno.EINVAL;
  return walkPageRangeVmaMm(vma, start, end, guardRemoveWalkOps, null);
}
