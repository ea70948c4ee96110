/**
 * @pagewalk/core-walk — a simulated Linux memory manager (x86-64, 4 KiB
 * pages) and the generic page-table walker of mm/pagewalk.c.
 *
 * Public surface: build a kernel, make address spaces, run system calls
 * and accesses on them, and walk their page tables with your own ops.
 * The PTE-installing walker is not here: see './mm-internal'.
 */
export { createKernel, Kernel, KernelConfigError } from './kernel.js';
export type { KernelOptions } from './kernel.js';
export { DEFAULT_PROFILE, profileError } from './profile.js';
export { MTHP_SIZES, type MthpMode, type MthpSize } from './mthp.js';
export type { KernelProfile } from './profile.js';
export { Mm } from './mm.js';
export { Vma, vmFlagNames } from './vma.js';
export * from './vma-flags.js';
export type { AnonVma, ReadonlyVmaList } from './vma.js';
export { ShmemFile, PageCacheIndex } from './shmem.js';
export type { FileMapping } from './shmem.js';

export { walkPageRange, walkPageVma, walkPageRangeVma, walkPageRangeNovma, walkPageMapping } from './pagewalk.js';
export { WalkAction, WalkLock, WalkDepth, WALK_OP_NAMES, setEntry } from './walk-ops.js';
export type { MmWalk, MmWalkOps, WalkResult } from './walk-ops.js';
export { MmLockError } from './locks.js';
export { tracedOps, pteHoleCaller, mmTraceCounters } from './trace.js';
export type { TraceEvent, TraceListener, TraceCallback, TraceCallbackName, TraceWalkEnd, TraceWalkFunction, TraceWalkStart, TraceMm, TraceMmFunction, TraceMmKind } from './trace.js';

export * from './pgtable.js';
export * from './swapops.js';
export * from './geometry.js';
export { tableSlot, pteTableBase, pteOffset, pmdOffset, pudOffset, p4dOffset } from './pgtable-nav.js';
export * from './uapi.js';
export { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE } from './mremap.js';
export { Errno, errnoName, NOT_MODELLED, SIGBUS, SIGKILL, SIGSEGV, signalName, MmInvariantError } from './errno.js';
export type { ErrnoName } from './errno.js';

export { checkInvariants } from './invariants.js';
export {
  PG_ALLOCATED, PG_ANON, PG_SWAPBACKED, PG_LRU, PG_LOCKED, PG_DIRTY, PG_HEAD, PG_TAIL, PG_ZONE_DEVICE,
  PG_ZERO, PG_HUGETLB, PG_MLOCKED, PG_REFERENCED, PG_ISOLATED, PG_ANON_EXCLUSIVE, PG_PAGECACHE,
  PageContents, NO_FRAME,
} from './frames.js';
export { SwapDevice } from './swapfile.js';
export type { ReadonlyFramePool, ReadonlyPageContents, ReadonlyTablePool, ReadonlyTypedArray } from './readonly-pools.js';

export {
  KernelProfileToken, MadviseBehaviorToken, UserfaultHandlerToken, DevicePrivateHandlerToken, KernelReadyToken,
  UffdWpAsyncQueryToken, UserfaultReason, UserfaultOutcome, UffdWpRangeToken,
} from './feature.js';
export type { Feature, MadviseBehavior, UserfaultHandler, UffdWpAsyncQuery, DevicePrivateHandler, KernelReadyHook, UffdWpRange } from './feature.js';
export { token, resolveToken, resolveAllTokens } from './di/tokens.js';
export type { Token } from './di/tokens.js';
export type { DependencyContainer } from './di/container.js';
export { ErrnoError, PagewalkArgumentError, SignalError, describeFolio, orThrow, readByte, writeByte, type FolioInfo } from './friendly.js';
