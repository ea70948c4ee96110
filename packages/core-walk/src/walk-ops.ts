/**
 * The walker's public types: the TypeScript `struct mm_walk_ops` and
 * `struct mm_walk` (include/linux/pagewalk.h).
 *
 * Every callback returns 0 (or nothing) to continue, a positive number to
 * stop the walk and hand that value to the caller, or a negative errno.
 * `testWalk` is the exception: a positive value skips the current VMA only.
 */
import type { Pgd, P4d, Pmd, Pte, Pud } from './pgtable.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';
import { Errno } from './errno.js';
import { internalWalks } from './walk-registry.js';
import { TABLES } from './readonly-pools.js';

/** What the walker does after a pudEntry / pmdEntry callback (enum page_walk_action). */
export const WalkAction = {
  /** Descend into the entry's table (splitting a huge leaf if lower callbacks need it). */
  Subtree: 0,
  /** Skip everything below this entry. */
  Continue: 1,
  /** Re-read and re-evaluate this entry. */
  Again: 2,
} as const;
export type WalkAction = (typeof WalkAction)[keyof typeof WalkAction];

/** Locking mode the walk asserts (enum page_walk_lock). */
export const WalkLock = {
  /** mmap lock held for read (or write). The default. */
  Read: 0,
  /** mmap lock held for write; every VMA is write-locked as it is entered. */
  Write: 1,
  /** mmap lock held for write, and every VMA must already be write-locked. */
  WriteVerify: 2,
  /** No mmap lock required; the walked VMA must be locked (per-VMA lock). */
  VmaReadVerify: 3,
} as const;
export type WalkLock = (typeof WalkLock)[keyof typeof WalkLock];

/**
 * `depth` passed to pteHole: the level whose entry is missing, -1 when the
 * range is outside any VMA (or a PFN map / a missing hugetlb table). Folded
 * levels report the level above (x86-64 4-level: a missing P4D reports 0).
 */
export const WalkDepth = { Unknown: -1, Pgd: 0, P4d: 1, Pud: 2, Pmd: 3 } as const;
export type WalkDepth = (typeof WalkDepth)[keyof typeof WalkDepth];

export type WalkResult = number | void;

/** The walk context passed to every callback (`struct mm_walk`). */
export interface MmWalk<S = unknown> {
  readonly ops: MmWalkOpsUnsafe<S>;
  readonly mm: Mm;
  /** The VMA being walked, null outside VMAs and in no-VMA walks. */
  vma: Vma | null;
  /** Set by pudEntry / pmdEntry to steer the walk; reset to Subtree before each of them. */
  action: WalkAction;
  readonly noVma: boolean;
  /** The caller's state (`walk->private`). */
  state: S;
  /**
   * The entries around the one handed to the current entry callback:
   * `walk.entries[walk.slot]` is that entry. In a public walk this is a
   * read-only copy (of the PTE table as the walker entered it, or of the
   * one upper-level entry): writing it changes nothing. In an mm-internal
   * walk it is the page-table pool itself, and a callback that must change
   * the entry (as the kernel's callbacks do through their pte_t pointer)
   * writes it with `setEntry(walk, value)`.
   */
  entries: Uint32Array;
  slot: number;
}

/**
 * Callbacks of a public walk (struct mm_walk_ops). Each is optional; the
 * walker only descends to levels whose callbacks exist.
 */
export interface MmWalkOps<S = unknown> {
  /** Every PGD entry in range (on 4-level x86 also empty ones: the P4D level is folded into it). */
  pgdEntry?(entry: Pgd, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /** Every non-empty P4D entry. */
  p4dEntry?(entry: P4d, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /** Every non-empty PUD entry; may set walk.action. */
  pudEntry?(entry: Pud, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /**
   * Every non-empty PMD entry, including THP leaves and non-present
   * (migration) entries, which the callback must handle itself; may set
   * walk.action. With a pteEntry callback and action Subtree, a huge PMD is
   * split before its PTEs are walked.
   */
  pmdEntry?(entry: Pmd, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /** Every PTE of every page table in range, empty ones included. */
  pteEntry?(entry: Pte, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /**
   * Beyond the kernel: a whole slice of one PTE table at once —
   * `entries[first .. first + count)` map `addr .. addr + count * 4096`.
   * Replaces pteEntry (setting both is -EINVAL); same results, no indirect
   * call per entry. In a public walk `entries` is a read-only copy of the
   * table (and `first` an index into it); mm-internal walks get the pool.
   */
  pteBatch?(entries: Uint32Array, first: number, count: number, addr: number, walk: MmWalk<S>): WalkResult;
  /** A missing table entry (depth 0..3) or a range outside VMAs (depth -1). */
  pteHole?(addr: number, next: number, depth: WalkDepth, walk: MmWalk<S>): WalkResult;
  /**
   * One call per hugetlb page, clipped to the range. `hmask` is the
   * kernel's huge_page_mask as a signed value (-huge page size).
   */
  hugetlbEntry?(entry: Pmd, hmask: number, addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /** Decides per VMA: 0 walk it, positive skip it silently, negative abort. */
  testWalk?(addr: number, next: number, walk: MmWalk<S>): WalkResult;
  /** Before a VMA is walked; non-zero stops (postVma is then not called). */
  preVma?(start: number, end: number, walk: MmWalk<S>): WalkResult;
  /** After a VMA was walked, even when the walk failed. */
  postVma?(walk: MmWalk<S>): void;
  /** Locking the walk asserts. Default WalkLock.Read. */
  walkLock?: WalkLock;
  /** Not available to public walks: see `@pagewalk/core-walk/mm-internal`. */
  installPte?: never;
  /** Not available to public walks: see `@pagewalk/core-walk/mm-internal`. */
  installPteBatch?: never;
}

/**
 * mm-internal ops: the public ops plus installPte, called for every empty
 * PTE (tables are allocated as needed). It returns the entry to store, or a
 * negative errno to stop. With installPte set, pteEntry sees only non-empty
 * PTEs and pteHole never fires inside a VMA.
 */
export type MmWalkOpsUnsafe<S = unknown> = Omit<MmWalkOps<S>, 'installPte' | 'installPteBatch'> & {
  installPte?(addr: number, next: number, walk: MmWalk<S>): number;
  /**
   * Optional companion of installPte (used only when installPte is set):
   * a run of consecutive empty PTEs of one table in one call —
   * `entries[first .. first + count)` are all none and map
   * `addr .. addr + count * 4096`. The callback stores the entries to
   * install itself (it must not allocate page tables meanwhile). Returns 0
   * to go on, or stops the walk like any callback (a negative errno or a
   * positive value); entries it already stored stay. Same tables and
   * results as calling installPte for each of them in address order.
   */
  installPteBatch?(entries: Uint32Array, first: number, count: number, addr: number, walk: MmWalk<S>): WalkResult;
};

/** Runtime list of every op name, kept exhaustive by the compiler. */
export const WALK_OP_NAMES: Record<keyof MmWalkOpsUnsafe<unknown>, true> = {
  pgdEntry: true,
  p4dEntry: true,
  pudEntry: true,
  pmdEntry: true,
  pteEntry: true,
  pteBatch: true,
  pteHole: true,
  hugetlbEntry: true,
  testWalk: true,
  preVma: true,
  postVma: true,
  walkLock: true,
  installPte: true,
  installPteBatch: true,
};

/**
 * Writes the entry the current callback was given (through its "pointer").
 * Only memory-management code may: it works in walks started by the
 * mm-internal walkers and returns -EPERM (writing nothing) for a public
 * walk or an object the walker did not make; 0 when written.
 */
export function setEntry<S>(walk: MmWalk<S>, value: number): number {
  if (!internalWalks.has(walk)) return -Errno.EPERM;
  // Through the pool, not walk.entries: a callback that allocated tables
  // (a fault, a split) has replaced the pool's array since it was handed out.
  walk.mm.kernel[TABLES].entries[walk.slot] = value >>> 0;
  return 0;
}
