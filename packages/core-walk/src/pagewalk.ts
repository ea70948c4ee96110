/**
 * The generic page-table walker (mm/pagewalk.c). One function per level,
 * all of the kernel's shape, `walkXxxRange(parent, addr, end, walk)` for
 * PGD, P4D, PUD, PMD and PTE. Each upper level loops over its entries of
 * [addr, end) with `next = xxxAddrEnd(addr, end)`, and for each entry:
 *
 * - none: the one hole path — allocate a table (an installing walk),
 *   report pteHole, or, without pteHole, skip the whole run of none
 *   entries at once (noneRunEnd);
 * - the level's callback (pgdEntry … pmdEntry), whose walk.action may ask
 *   to look at the entry again or not to descend;
 * - descend: split a huge entry the walk must go below, then walk the
 *   next level.
 *
 * The PTE level has no hole: pteEntry sees every entry, none ones
 * included. The one extension beyond the kernel is `pteBatch`: an op that
 * receives a run of PTEs (the entries array, first slot, count) in one
 * call instead of one pteEntry call per PTE; a walk has one or the other.
 *
 * Everything written for the JIT rather than for the kernel's shape (the
 * PTE loops kept apart so their callback call sites stay monomorphic, the
 * unary-plus address, the walk-object shape warm-up) is in the section
 * "PTE loops, shaped for the JIT" below.
 */
import { Errno } from './errno.js';
import { P4D_SHIFT, PMD_SHIFT, PMD_SIZE, PUD_SHIFT, PUD_SIZE, PAGE_SIZE, PTRS_PER_TABLE, addrEnd, p4dAddrEnd, pmdAddrEnd, pudAddrEnd } from './geometry.js';
import { isTableEntry, pmdLeaf, tableIdOf, type Pgd, type P4d, type Pmd, type Pud, type Pte } from './pgtable.js';
import { isSwapPte } from './swapops.js';
import { MmLockError } from './locks.js';
import { WALK_OP_NAMES, WalkAction, WalkDepth, WalkLock, type MmWalk, type MmWalkOps, type MmWalkOpsUnsafe } from './walk-ops.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';
import type { ShmemFile } from './shmem.js';
import type { TablePool } from './page-table.js';
import { allocTableAt, pgdOffset, pteOffset, tableSlot } from './pgtable-nav.js';
import { internalWalks, PUBLIC_UPPER_SLOT, PUBLIC_VIEW, publicViewOf } from './walk-registry.js';
import { tracedWalk } from './trace.js';
import { TABLES } from './readonly-pools.js';
import { splitHugePmd } from './huge-memory.js';

type Ops = MmWalkOpsUnsafe<any>;
type Walk = MmWalk<any>;

const HUGETLB_SHIFT = PMD_SHIFT;

/** Reads walk.action after a callback may have changed it. */
function actionOf(walk: Walk): WalkAction {
  return walk.action;
}

function hasPteLevel(ops: Ops): boolean {
  return ops.pteEntry !== undefined || ops.pteBatch !== undefined;
}

/**
 * The hole path's skip: the last slot of the run of none entries that
 * starts at `slot` (itself none), looking no further than `lastSlot`.
 * Counted in slots (integers); the caller computes the run's end address
 * once, with its level's xxxAddrEnd.
 */
function noneRunEnd(entries: Uint32Array, slot: number, lastSlot: number): number {
  while (slot < lastSlot && entries[slot + 1] === 0) slot++;
  return slot;
}

/**
 * The entry at `slot` for an upper-level callback: the walk's view of it
 * (the pool in an mm-internal walk, a one-entry copy in a public one).
 */
function exposeEntry(walk: Walk, pool: TablePool, slot: number): number {
  const value = pool.entries[slot]!;
  const view = publicViewOf(walk);
  if (view === null) {
    walk.entries = pool.entries;
    walk.slot = slot;
  } else {
    view[PUBLIC_UPPER_SLOT] = value;
    walk.entries = view;
    walk.slot = PUBLIC_UPPER_SLOT;
  }
  return value;
}

/* ------------------------------------------------------------------ PGD */

function walkPgdRange(addr: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const mm = walk.mm;
  const pool = mm.kernel[TABLES];
  const pgdShift = mm.geometry.pgdShift;
  // With 4-level paging the P4D is folded into the PGD: pgd_none() is
  // always false, so pgdEntry sees every entry and a missing one is
  // found (and reported with depth 0) at the P4D step.
  const folded = mm.geometry.levels !== 5;
  const hasHandler = ops.p4dEntry !== undefined || ops.pudEntry !== undefined || ops.pmdEntry !== undefined || hasPteLevel(ops);
  const hasInstall = ops.installPte !== undefined;
  let slot = pgdOffset(mm, addr);
  const lastSlot = pgdOffset(mm, end - 1);
  let next: number;
  for (; addr !== end; addr = next, slot++) {
    next = addrEnd(addr, end, pgdShift);
    if (!folded && pool.entries[slot] === 0) {
      let err = 0;
      if (hasInstall) err = allocTableAt(mm, slot);
      else if (ops.pteHole !== undefined) err = ops.pteHole(addr, next, WalkDepth.Pgd, walk) || 0;
      else {
        const run = noneRunEnd(pool.entries, slot, lastSlot);
        next = addrEnd(addr + (run - slot) * 2 ** pgdShift, end, pgdShift);
        slot = run;
      }
      if (err) return err;
      if (!hasInstall) continue;
    }
    if (ops.pgdEntry !== undefined) {
      const err = ops.pgdEntry(exposeEntry(walk, pool, slot) as Pgd, addr, next, walk) || 0;
      if (err) return err;
    }
    if (hasHandler || hasInstall) {
      const err = walkP4dRange(slot, addr, next, walk);
      if (err) return err;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ P4D */

/**
 * The P4D entries of [addr, end) below the PGD entry at `pgdSlot`. Folded
 * (4-level paging), the PGD entry is the one P4D entry: p4d_addr_end is
 * `end` and a missing entry is reported at depth 0.
 */
function walkP4dRange(pgdSlot: number, addr: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const mm = walk.mm;
  const pool = mm.kernel[TABLES];
  const folded = mm.geometry.levels !== 5;
  const depth = folded ? WalkDepth.Pgd : WalkDepth.P4d;
  const hasHandler = ops.pudEntry !== undefined || ops.pmdEntry !== undefined || hasPteLevel(ops);
  const hasInstall = ops.installPte !== undefined;
  const table = folded ? -1 : tableIdOf(pool.entries[pgdSlot]!);
  let slot = folded ? pgdSlot : tableSlot(table, addr, P4D_SHIFT);
  const lastSlot = folded ? pgdSlot : tableSlot(table, end - 1, P4D_SHIFT);
  let next: number;
  for (; addr !== end; addr = next, slot++) {
    next = folded ? end : p4dAddrEnd(addr, end);
    if (pool.entries[slot] === 0) {
      let err = 0;
      if (hasInstall) err = allocTableAt(mm, slot);
      else if (ops.pteHole !== undefined) err = ops.pteHole(addr, next, depth, walk) || 0;
      else {
        const run = noneRunEnd(pool.entries, slot, lastSlot);
        next = folded ? end : p4dAddrEnd(addr + (run - slot) * 2 ** P4D_SHIFT, end);
        slot = run;
      }
      if (err) return err;
      if (!hasInstall) continue;
    }
    if (ops.p4dEntry !== undefined) {
      const err = ops.p4dEntry(exposeEntry(walk, pool, slot) as P4d, addr, next, walk) || 0;
      if (err) return err;
    }
    if (!(hasHandler || hasInstall)) continue;
    if (!isTableEntry(pool.entries[slot]!)) continue;
    const err = walkPudRange(slot, addr, next, walk);
    if (err) return err;
  }
  return 0;
}

/* ------------------------------------------------------------------ PUD */

function walkPudRange(p4dSlot: number, addr: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const mm = walk.mm;
  const pool = mm.kernel[TABLES];
  const hasHandler = ops.pmdEntry !== undefined || hasPteLevel(ops);
  const hasInstall = ops.installPte !== undefined;
  const table = tableIdOf(pool.entries[p4dSlot]!);
  let slot = tableSlot(table, addr, PUD_SHIFT);
  const lastSlot = tableSlot(table, end - 1, PUD_SHIFT);
  let next: number;
  for (; addr !== end; addr = next, slot++) {
    next = pudAddrEnd(addr, end);
    for (;;) {
      let err = 0;
      if (pool.entries[slot] === 0) {
        if (hasInstall) err = allocTableAt(mm, slot);
        else if (ops.pteHole !== undefined) err = ops.pteHole(addr, next, WalkDepth.Pud, walk) || 0;
        else {
          const run = noneRunEnd(pool.entries, slot, lastSlot);
          next = pudAddrEnd(addr + (run - slot) * PUD_SIZE, end);
          slot = run;
        }
        if (err) return err;
        if (!hasInstall) break;
      }
      walk.action = WalkAction.Subtree;
      if (ops.pudEntry !== undefined) {
        err = ops.pudEntry(exposeEntry(walk, pool, slot) as Pud, addr, next, walk) || 0;
        if (err) return err;
      }
      if (actionOf(walk) === WalkAction.Again) continue;
      if (actionOf(walk) === WalkAction.Continue) break;
      const pud = pool.entries[slot]!;
      if (!hasHandler) {
        if (!hasInstall) break;
        // Only installing: leave a present huge page alone rather than split it.
        if (pmdLeaf(pud)) break;
      }
      // PUD leaves exist only in hugetlb VMAs, which never reach this level:
      // split_huge_pud is a no-op here.
      if (walk.vma === null && (pmdLeaf(pud) || !isTableEntry(pud))) break;
      if (pool.entries[slot] === 0) continue;
      if (!isTableEntry(pool.entries[slot]!)) break;
      err = walkPmdRange(slot, addr, next, walk);
      if (err) return err;
      break;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ PMD */

function walkPmdRange(pudSlot: number, addr: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const mm = walk.mm;
  const pool = mm.kernel[TABLES];
  const hasHandler = hasPteLevel(ops);
  const hasInstall = ops.installPte !== undefined;
  const table = tableIdOf(pool.entries[pudSlot]!);
  let slot = tableSlot(table, addr, PMD_SHIFT);
  const lastSlot = tableSlot(table, end - 1, PMD_SHIFT);
  let next: number;
  for (; addr !== end; addr = next, slot++) {
    next = pmdAddrEnd(addr, end);
    for (;;) {
      let err = 0;
      if (pool.entries[slot] === 0) {
        if (hasInstall) err = allocTableAt(mm, slot);
        else if (ops.pteHole !== undefined) err = ops.pteHole(addr, next, WalkDepth.Pmd, walk) || 0;
        else {
          const run = noneRunEnd(pool.entries, slot, lastSlot);
          next = pmdAddrEnd(addr + (run - slot) * PMD_SIZE, end);
          slot = run;
        }
        if (err) return err;
        if (!hasInstall) break;
      }
      walk.action = WalkAction.Subtree;
      if (ops.pmdEntry !== undefined) {
        err = ops.pmdEntry(exposeEntry(walk, pool, slot) as Pmd, addr, next, walk) || 0;
        if (err) return err;
      }
      if (actionOf(walk) === WalkAction.Again) continue;
      if (actionOf(walk) === WalkAction.Continue) break;
      const pmd = pool.entries[slot]!;
      if (!hasHandler) {
        if (!hasInstall) break;
        // Only installing: leave a present huge page alone rather than split it.
        if (pmdLeaf(pmd)) break;
      }
      if (walk.vma !== null) {
        if (pmdLeaf(pmd) || isSwapPte(pmd)) splitHugePmd(mm, walk.vma, slot, addr);
      } else if (pmdLeaf(pmd) || !isTableEntry(pmd)) {
        break;
      }
      err = walkPteRange(slot, addr, next, walk);
      if (err) return err;
      if (actionOf(walk) === WalkAction.Again) continue;
      break;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ PTE */

function walkPteRange(pmdSlot: number, addr: number, end: number, walk: Walk): number {
  const pool = walk.mm.kernel[TABLES];
  const pmd = pool.entries[pmdSlot]!;
  // pte_offset_map() fails when the PMD changed under us (no longer a table).
  if (!isTableEntry(pmd)) {
    walk.action = WalkAction.Again;
    return 0;
  }
  const lock = walk.mm.lock;
  if (!walk.noVma) lock.ptlHeld++;
  try {
    return walkPteRangeInner(pool, pteOffset(pmd, addr), (end - addr) / PAGE_SIZE, addr, walk);
  } finally {
    if (!walk.noVma) lock.ptlHeld--;
  }
}

/**
 * walk_pte_range_inner: `count` PTEs from `slot`. An installing walk fills
 * none entries (walkPteInstall); otherwise pteBatch gets the run in one
 * call, or pteEntry each PTE. A public walk's callbacks see a read-only
 * copy of the table, an mm-internal walk's the pool itself.
 */
function walkPteRangeInner(pool: TablePool, slot: number, count: number, addr: number, walk: Walk): number {
  const ops = walk.ops;
  if (ops.installPte !== undefined) return walkPteInstall(pool, slot, count, addr, walk);
  const view = publicViewOf(walk);
  // eslint-disable-next-line no-restricted-syntax -- used only up to the callback (or copied from at once)
  let entries = pool.entries;
  if (view !== null) {
    const first = slot % PTRS_PER_TABLE;
    view.set(entries.subarray(slot, slot + count), first);
    entries = view;
    slot = first;
  }
  if (ops.pteBatch !== undefined) {
    walk.entries = entries;
    walk.slot = slot;
    return ops.pteBatch(entries, slot, count, addr, walk) || 0;
  }
  const pteEntry = ops.pteEntry;
  if (pteEntry === undefined) return 0;
  if (view !== null) {
    walk.entries = entries;
    return walkPteCopy(entries, slot, count, addr, walk, pteEntry);
  }
  return walkPteEntries(pool, slot, count, addr, walk, pteEntry);
}

/**
 * The installing walk (mm-internal ops with installPte): empty PTEs get
 * the entry installPte returns, or, when the ops have installPteBatch, a
 * whole run of consecutive empty PTEs is handed to it in one call;
 * pteEntry sees the non-empty ones.
 */
function walkPteInstall(pool: TablePool, slot: number, count: number, addr: number, walk: Walk): number {
  const ops = walk.ops;
  const installPte = ops.installPte!;
  const installPteBatch = ops.installPteBatch;
  const pteEntry = ops.pteEntry;
  const last = slot + count;
  while (slot < last) {
    // eslint-disable-next-line no-restricted-syntax -- re-read for every entry; installPteBatch must not allocate (documented), installPte's result is stored through the pool
    const entries = pool.entries;
    walk.entries = entries;
    walk.slot = slot;
    const entry = entries[slot]! as Pte;
    let err: number;
    if (entry === 0) {
      if (installPteBatch !== undefined) {
        const run = noneRunEnd(entries, slot, last - 1) + 1;
        const n = run - slot;
        err = installPteBatch(entries, slot, n, addr, walk) || 0;
        if (err) return err;
        slot = run;
        addr += n * PAGE_SIZE;
        continue;
      }
      err = installPte(addr, addr + PAGE_SIZE, walk);
      if (err < 0) return err;
      pool.entries[slot] = err >>> 0;
    } else if (pteEntry !== undefined) {
      err = pteEntry(entry, addr, addr + PAGE_SIZE, walk) || 0;
      if (err) return err;
    }
    slot++;
    addr += PAGE_SIZE;
  }
  return 0;
}

/* ------------------------------------------- PTE loops, shaped for the JIT */

// The two pteEntry loops are separate functions, and separate from the
// installing loop, so that each call site of pteEntry sees only pteEntry
// callbacks: V8 can then inline the callback into the loop, and an
// address above 2^31 (a double, not a small integer) is passed without
// allocating a HeapNumber per call. `addr = +addr` gives the loop's
// address a number type even when the function is compiled on its own
// (the JIT knows nothing of parameter types).

/** One pteEntry call per PTE of the pool (mm-internal walks). */
function walkPteEntries(
  pool: TablePool,
  slot: number,
  count: number,
  addr: number,
  walk: Walk,
  pteEntry: NonNullable<Ops['pteEntry']>,
): number {
  addr = +addr;
  const last = slot + count;
  for (; slot < last; slot++) {
    // Re-read: a callback may have allocated tables, which replaces the pool's array.
    // eslint-disable-next-line no-restricted-syntax -- re-read for every entry; used only up to the callback
    const entries = pool.entries;
    walk.entries = entries;
    walk.slot = slot;
    const next = addr + PAGE_SIZE;
    const err = pteEntry(entries[slot]! as Pte, addr, next, walk);
    if (err) return err;
    addr = next;
  }
  return 0;
}

/** walkPteEntries over a public walk's copy of the table (it never changes under the loop). */
function walkPteCopy(
  table: Uint32Array,
  first: number,
  count: number,
  addr: number,
  walk: Walk,
  pteEntry: NonNullable<Ops['pteEntry']>,
): number {
  addr = +addr;
  const last = first + count;
  for (let i = first; i < last; i++) {
    walk.slot = i;
    const next = addr + PAGE_SIZE;
    const err = pteEntry(table[i]! as Pte, addr, next, walk);
    if (err) return err;
    addr = next;
  }
  return 0;
}

/* -------------------------------------------------------------- hugetlb */

function walkHugetlbRange(addr: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const mm = walk.mm;
  const size = 2 ** HUGETLB_SHIFT;
  let next: number;
  for (; addr !== end; addr = next) {
    next = addrEnd(addr, end, HUGETLB_SHIFT);
    const slot = mm.pmdSlotIfTable(Math.floor(addr / size) * size);
    let err: number;
    if (slot >= 0) {
      err = ops.hugetlbEntry!(exposeEntry(walk, mm.kernel[TABLES], slot) as Pmd, -size, addr, next, walk) || 0;
    } else if (ops.pteHole !== undefined) {
      err = ops.pteHole(addr, next, WalkDepth.Unknown, walk) || 0;
    } else {
      err = 0;
    }
    if (err) return err;
  }
  return 0;
}

/* ------------------------------------------------------------ VMA level */

function walkPageTest(start: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  if (ops.testWalk !== undefined) return ops.testWalk(start, end, walk) || 0;
  if (walk.vma !== null && walk.vma.isPfnMap) {
    let err = 1;
    if (ops.pteHole !== undefined) err = ops.pteHole(start, end, WalkDepth.Unknown, walk) || 0;
    return err ? err : 1;
  }
  return 0;
}

function walkVmaRange(start: number, end: number, walk: Walk): number {
  const ops = walk.ops;
  const vma = walk.vma!;
  if (ops.installPte !== undefined && vma.isHugetlb) return -Errno.EINVAL;
  let err = 0;
  if (ops.preVma !== undefined) {
    err = ops.preVma(start, end, walk) || 0;
    if (err) return err;
  }
  try {
    if (vma.isHugetlb) {
      if (ops.hugetlbEntry !== undefined) err = walkHugetlbRange(start, end, walk);
    } else {
      err = walkPgdRange(start, end, walk);
    }
  } finally {
    ops.postVma?.(walk);
  }
  return err;
}

/* ------------------------------------------------------------- locking */

/**
 * Asserts (or, when nothing is held, takes for the walk) the mmap lock the
 * ops' walkLock mode requires. Returns a release function's flag.
 */
function enterMmLock(mm: Mm, mode: WalkLock): 'none' | 'read' | 'write' {
  const lock = mm.lock;
  if (mode === WalkLock.VmaReadVerify) return 'none';
  if (mode === WalkLock.Read) {
    if (lock.held) return 'none';
    lock.readLock();
    return 'read';
  }
  if (lock.writer) return 'none';
  if (lock.held) throw new MmLockError('walk needs the mmap write lock, but only the read lock is held');
  if (mode === WalkLock.WriteVerify) throw new MmLockError('WriteVerify walk without the mmap write lock held');
  lock.writeLock();
  return 'write';
}

function leaveMmLock(mm: Mm, taken: 'none' | 'read' | 'write'): void {
  if (taken === 'read') mm.lock.readUnlock();
  else if (taken === 'write') mm.lock.writeUnlock();
}

function enterVmaLock(mm: Mm, vma: Vma, mode: WalkLock): void {
  const lock = mm.lock;
  switch (mode) {
    case WalkLock.Write:
      lock.vmaStartWrite(vma);
      break;
    case WalkLock.WriteVerify:
      if (!lock.vmaWriteLocked.has(vma)) throw new MmLockError(`WriteVerify walk: VMA ${vma} is not write-locked`);
      break;
    case WalkLock.VmaReadVerify:
      if (!lock.vmaReadLocked.has(vma) && !lock.vmaWriteLocked.has(vma)) {
        throw new MmLockError(`VmaReadVerify walk: VMA ${vma} is not locked`);
      }
      break;
    default:
      break;
  }
}

/* -------------------------------------------------------------- entries */

/**
 * A walk object. An mm-internal walk sees the pool and may setEntry; a
 * public one gets read-only copies (allocated once per walk).
 */
function newWalk<S>(mm: Mm, ops: MmWalkOpsUnsafe<S>, state: S, vma: Vma | null, noVma: boolean, internal: boolean): MmWalk<S> {
  if (internal) {
    const walk = walkObject(ops, mm, vma, noVma, state, mm.kernel[TABLES].entries, null);
    internalWalks.add(walk);
    return walk;
  }
  const view = new Uint32Array(PUBLIC_UPPER_SLOT + 1);
  return walkObject(ops, mm, vma, noVma, state, view, view);
}

function walkObject<S>(ops: MmWalkOpsUnsafe<S>, mm: Mm, vma: Vma | null, noVma: boolean, state: S, entries: Uint32Array, view: Uint32Array | null): MmWalk<S> {
  const walk: MmWalk<S> = { ops, mm, vma, action: WalkAction.Subtree, noVma, state, entries, slot: 0 };
  Object.defineProperty(walk, PUBLIC_VIEW, { value: view, writable: false, enumerable: false, configurable: false });
  return walk;
}

// Walk objects get callers' ops and state of every shape. Had the first
// walker of a process been the only one for a while, V8 would have
// recorded its ops and state types as the walk fields' types, compiled
// its callbacks against them, and thrown that code away when a second
// walker came (and a large callback may then stay unoptimized). Two walk
// objects of different shapes made here give the fields their general
// types from the start.
walkObject({}, null as unknown as Mm, null, false, undefined, new Uint32Array(0), null);
walkObject({ walkLock: WalkLock.Read }, {} as Mm, null, true, { generic: true }, new Uint32Array(0), new Uint32Array(0));

/* ------------------------------------------------------ ops snapshot */

const OBJECT_PROTOTYPE = Object.prototype;
const hasOwn = Object.hasOwn;
const getPrototypeOf = Reflect.getPrototypeOf;
const freeze = Object.freeze;
const FUNCTION_OPS = Object.keys(WALK_OP_NAMES).filter((name) => name !== 'walkLock') as (keyof Ops)[];

/**
 * One op of a caller's ops object: its own property, or one of a
 * prototype other than Object.prototype (class-based ops). Read exactly
 * once (a getter runs once); Object.prototype is never consulted, so
 * prototype pollution cannot add an op.
 */
function readOp(ops: object, name: string): unknown {
  for (let o: object | null = ops; o !== null && o !== OBJECT_PROTOTYPE; o = getPrototypeOf(o)) {
    if (hasOwn(o, name)) return (o as Record<string, unknown>)[name];
  }
  return undefined;
}

/** Snapshots of frozen plain ops objects made of data properties (they cannot change). */
const snapshots = new WeakMap<object, Ops>();

/**
 * The ops a walk uses: a frozen copy made once per walk, with every op in
 * a fixed order (one object shape for every walk). Each callback is a
 * function or absent, walkLock a WalkLock value; anything else, or a
 * non-object, is null (the walker returns -EINVAL). Callbacks are then
 * called on the copy (`this` is the copy, not the caller's object).
 */
function snapshotOps(ops: unknown): Ops | null {
  if ((typeof ops !== 'object' && typeof ops !== 'function') || ops === null) return null;
  const cached = snapshots.get(ops);
  if (cached !== undefined) return cached;
  const copy: Record<string, unknown> = {
    pgdEntry: undefined,
    p4dEntry: undefined,
    pudEntry: undefined,
    pmdEntry: undefined,
    pteEntry: undefined,
    pteBatch: undefined,
    pteHole: undefined,
    hugetlbEntry: undefined,
    testWalk: undefined,
    preVma: undefined,
    postVma: undefined,
    installPte: undefined,
    installPteBatch: undefined,
    walkLock: undefined,
  };
  for (const name of FUNCTION_OPS) {
    const value = readOp(ops, name);
    if (value !== undefined && typeof value !== 'function') return null;
    copy[name] = value;
  }
  const lock = readOp(ops, 'walkLock');
  if (lock !== undefined && lock !== WalkLock.Read && lock !== WalkLock.Write && lock !== WalkLock.WriteVerify && lock !== WalkLock.VmaReadVerify) return null;
  copy.walkLock = lock;
  const snapshot = freeze(copy) as Ops;
  if (isStable(ops)) snapshots.set(ops, snapshot);
  return snapshot;
}

/** A frozen object with plain data properties and a plain prototype: its ops cannot change. */
function isStable(ops: object): boolean {
  if (!Object.isFrozen(ops)) return false;
  const proto = getPrototypeOf(ops);
  if (proto !== OBJECT_PROTOTYPE && proto !== null) return false;
  for (const name of Object.keys(WALK_OP_NAMES)) {
    const d = Reflect.getOwnPropertyDescriptor(ops, name);
    if (d !== undefined && !('value' in d)) return false;
  }
  return true;
}

/**
 * check_ops_valid() on a public walk's ops: the snapshot, or null when
 * they are malformed or carry installPte (or pteBatch together with pteEntry).
 */
function publicOps(ops: unknown): Ops | null {
  const o = snapshotOps(ops);
  if (o === null) return null;
  if (o.installPte !== undefined || o.installPteBatch !== undefined) return null;
  if (o.pteEntry !== undefined && o.pteBatch !== undefined) return null;
  return o;
}

function validRange(mm: Mm, start: number, end: number): boolean {
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && start < end && end <= mm.geometry.taskSize + PAGE_SIZE;
}

/**
 * walk_page_range_mm_unsafe (the kernel's walk_page_range_mm): the VMA
 * loop shared by every range walker. Exported only through mm-internal:
 * its walks may install PTEs and write entries (setEntry).
 */
export function walkPageRangeUnsafe<S>(mm: Mm, start: number, end: number, ops: MmWalkOpsUnsafe<S>, state: S): number {
  const o = snapshotOps(ops);
  if (o === null || (o.pteEntry !== undefined && o.pteBatch !== undefined)) return -Errno.EINVAL;
  const tracer = mm.kernel.tracer;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_range_mm', start, end, o, (traced) => walkRange(mm, start, end, traced as Ops, state, true));
  return walkRange(mm, start, end, o, state, true);
}

function walkRange<S>(mm: Mm, start: number, end: number, ops: Ops, state: S, internal: boolean): number {
  if (!validRange(mm, start, end) || !isPageAlignedPair(start, end)) return -Errno.EINVAL;
  const mode = ops.walkLock ?? WalkLock.Read;
  const taken = enterMmLock(mm, mode);
  try {
    const walk = newWalk(mm, ops, state, null, false, internal);
    let vma = mm.vmas.find(start);
    let err = 0;
    let next: number;
    do {
      if (vma === null) {
        walk.vma = null;
        next = end;
        if (ops.pteHole !== undefined) err = ops.pteHole(start, next, WalkDepth.Unknown, walk) || 0;
      } else if (start < vma.start) {
        walk.vma = null;
        next = Math.min(end, vma.start);
        if (ops.pteHole !== undefined) err = ops.pteHole(start, next, WalkDepth.Unknown, walk) || 0;
      } else {
        enterVmaLock(mm, vma, mode);
        walk.vma = vma;
        next = Math.min(end, vma.end);
        const current = vma;
        vma = mm.vmas.find(current.end);
        err = walkPageTest(start, next, walk);
        if (err > 0) {
          err = 0;
          start = next;
          continue;
        }
        if (err < 0) break;
        err = walkVmaRange(start, next, walk);
      }
      if (err) break;
      start = next;
    } while (start < end);
    return err;
  } finally {
    leaveMmLock(mm, taken);
  }
}

function isPageAlignedPair(start: number, end: number): boolean {
  return start % PAGE_SIZE === 0 && end % PAGE_SIZE === 0;
}

/**
 * Walks [start, end) of `mm` VMA by VMA (walk_page_range). Returns 0, the
 * first positive value a callback returned, or a negative errno:
 * -EINVAL for an empty, unaligned or out-of-space range, or ops carrying
 * installPte (or malformed: a non-function callback, an unknown walkLock).
 * The ops are read once, into a frozen copy (own and class properties,
 * never Object.prototype's); callbacks see read-only copies of entries.
 */
export function walkPageRange<S>(mm: Mm, start: number, end: number, ops: MmWalkOps<S>, state?: S): number {
  const o = publicOps(ops);
  if (o === null) return -Errno.EINVAL;
  // Tracing (kernel.trace): one check per walk, never per entry.
  const tracer = mm.kernel.tracer;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_range_mm', start, end, o, (traced) => walkRange(mm, start, end, traced as Ops, state as S, false));
  return walkRange(mm, start, end, o, state as S, false);
}

/**
 * Walks [start, end) of one VMA, without testWalk (walk_page_range_vma):
 * -EINVAL for an empty or unaligned range, one outside the VMA, a VMA that
 * belongs to no mm, or ops carrying installPte.
 */
export function walkPageRangeVma<S>(vma: Vma, start: number, end: number, ops: MmWalkOps<S>, state?: S): number {
  const o = publicOps(ops);
  if (o === null) return -Errno.EINVAL;
  const tracer = vma.mm?.kernel.tracer ?? null;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_range_vma', start, end, o, (traced) => walkRangeVma(vma, start, end, traced as Ops, state as S, false));
  return walkRangeVma(vma, start, end, o, state as S, false);
}

/** walkPageRangeVma for mm-internal code (its walk may write entries). */
export function walkPageRangeVmaUnsafe<S>(vma: Vma, start: number, end: number, ops: MmWalkOpsUnsafe<S>, state: S): number {
  const o = snapshotOps(ops);
  if (o === null || (o.pteEntry !== undefined && o.pteBatch !== undefined)) return -Errno.EINVAL;
  const tracer = vma.mm?.kernel.tracer ?? null;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_range_vma', start, end, o, (traced) => walkRangeVma(vma, start, end, traced as Ops, state, true));
  return walkRangeVma(vma, start, end, o, state, true);
}

function walkRangeVma<S>(vma: Vma, start: number, end: number, ops: Ops, state: S, internal: boolean): number {
  const mm = vma.mm;
  if (mm === null) return -Errno.EINVAL;
  if (!validRange(mm, start, end) || !isPageAlignedPair(start, end)) return -Errno.EINVAL;
  if (start < vma.start || end > vma.end) return -Errno.EINVAL;
  return walkOneVma(mm, vma, start, end, ops, state, internal);
}

/** Walks a whole VMA, without testWalk (walk_page_vma). */
export function walkPageVma<S>(vma: Vma, ops: MmWalkOps<S>, state?: S): number {
  const mm = vma.mm;
  if (mm === null) return -Errno.EINVAL;
  const o = publicOps(ops);
  if (o === null) return -Errno.EINVAL;
  const tracer = mm.kernel.tracer;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_vma', vma.start, vma.end, o, (traced) => walkOneVma(mm, vma, vma.start, vma.end, traced as Ops, state as S, false));
  return walkOneVma(mm, vma, vma.start, vma.end, o, state as S, false);
}

function walkOneVma<S>(mm: Mm, vma: Vma, start: number, end: number, ops: Ops, state: S, internal: boolean): number {
  if (!mm.vmas.all().includes(vma)) return -Errno.EINVAL;
  const mode = ops.walkLock ?? WalkLock.Read;
  const taken = enterMmLock(mm, mode);
  try {
    enterVmaLock(mm, vma, mode);
    const walk = newWalk(mm, ops, state, vma, false, internal);
    return walkVmaRange(start, end, walk);
  } finally {
    leaveMmLock(mm, taken);
  }
}

/**
 * Walks page tables without regard to VMAs (walk_page_range_debug, the
 * successor of walk_page_range_novma): huge and non-present upper entries
 * are skipped, never split. Needs the mmap write lock.
 */
export function walkPageRangeNovma<S>(mm: Mm, start: number, end: number, ops: MmWalkOps<S>, state?: S): number {
  if (!validRange(mm, start, end) || !isPageAlignedPair(start, end)) return -Errno.EINVAL;
  const o = publicOps(ops);
  if (o === null) return -Errno.EINVAL;
  const tracer = mm.kernel.tracer;
  if (tracer !== null) return tracedWalk(tracer, 'walk_page_range_debug', start, end, o, (traced) => walkNovma(mm, start, end, traced as Ops, state as S));
  return walkNovma(mm, start, end, o, state as S);
}

function walkNovma<S>(mm: Mm, start: number, end: number, o: Ops, state: S): number {
  const taken = enterMmLock(mm, WalkLock.Write);
  try {
    const walk = newWalk(mm, o, state as S, null, true, false);
    return walkPgdRange(start, end, walk);
  } finally {
    leaveMmLock(mm, taken);
  }
}

/**
 * Walks every VMA (of every mm) mapping pages [firstIndex, firstIndex + nr)
 * of `file` (walk_page_mapping). testWalk sees the whole VMA, and a
 * positive testWalk result ends the whole iteration, not just that VMA.
 */
export function walkPageMapping<S>(file: ShmemFile, firstIndex: number, nr: number, ops: MmWalkOps<S>, state?: S): number {
  const o = publicOps(ops);
  if (o === null) return -Errno.EINVAL;
  if (!Number.isSafeInteger(firstIndex) || !Number.isSafeInteger(nr) || firstIndex < 0 || nr <= 0) return -Errno.EINVAL;
  const first = file.mappings(firstIndex, firstIndex + nr).next();
  const tracer = first.done === true ? null : first.value.mm.kernel.tracer;
  if (tracer !== null) {
    return tracedWalk(tracer, 'walk_page_mapping', firstIndex * PAGE_SIZE, (firstIndex + nr) * PAGE_SIZE, o, (traced) => walkMapping(file, firstIndex, nr, traced as Ops, state as S));
  }
  return walkMapping(file, firstIndex, nr, o, state as S);
}

function walkMapping<S>(file: ShmemFile, firstIndex: number, nr: number, o: Ops, state: S): number {
  for (const { mm, vma } of file.mappings(firstIndex, firstIndex + nr)) {
    const vba = vma.pgoff;
    const vea = vba + vma.pages;
    const cba = Math.max(firstIndex, vba);
    const cea = Math.min(firstIndex + nr, vea);
    const startAddr = (cba - vba) * PAGE_SIZE + vma.start;
    const endAddr = (cea - vba) * PAGE_SIZE + vma.start;
    if (startAddr >= endAddr) continue;
    const walk = newWalk(mm, o, state as S, vma, false, false);
    let err = walkPageTest(vma.start, vma.end, walk);
    if (err > 0) return 0;
    if (err < 0) return err;
    err = walkVmaRange(startAddr, endAddr, walk);
    if (err) return err;
  }
  return 0;
}
