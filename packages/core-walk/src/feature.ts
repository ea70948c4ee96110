/**
 * How feature packages plug into a kernel. A feature is a named plugin
 * object whose `install` registers values under the core's tokens in the
 * kernel's own child container; `createKernel` resolves them once.
 */
import type { DependencyContainer } from './di/container.js';
import { token } from './di/tokens.js';
import type { Kernel } from './kernel.js';
import type { KernelProfile } from './profile.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';

export interface Feature {
  /** Unique name, e.g. 'guard-pages'. */
  readonly name: string;
  /** Registers this feature's services in the kernel's container. */
  install(container: DependencyContainer): void;
}

/** The profile of the kernel being built (registered by the core). */
export const KernelProfileToken = token<KernelProfile>('core-walk/KernelProfile');

/** An madvise() advice a feature implements (multi-registration). */
export interface MadviseBehavior {
  readonly advice: number;
  readonly name: string;
  /**
   * The per-VMA step of madvise_walk_vmas: [start, end) lies inside `vma`.
   * Returns 0 or -errno; an error stops the walk over further VMAs.
   */
  applyToVma(mm: Mm, vma: Vma, start: number, end: number): number;
}
export const MadviseBehaviorToken = token<MadviseBehavior>('core-walk/MadviseBehavior');

/** Why the core is asking the userfaultfd feature to handle a fault. */
export const UserfaultReason = { Missing: 1, Wp: 2, Minor: 4 } as const;
export type UserfaultReason = (typeof UserfaultReason)[keyof typeof UserfaultReason];

/** What the userfaultfd feature did with a fault. */
export const UserfaultOutcome = {
  /** The fault was resolved (by a handler); retry the access. */
  Retry: 0,
  /** WP_ASYNC: clear the protection in place and carry on with the write. */
  AsyncResolve: 1,
  /** No handler can answer: the access gets SIGBUS. */
  Sigbus: 2,
} as const;
export type UserfaultOutcome = (typeof UserfaultOutcome)[keyof typeof UserfaultOutcome];

/** The userfaultfd fault path (handle_userfault and friends). */
export interface UserfaultHandler {
  handleUserfault(mm: Mm, vma: Vma, addr: number, reason: UserfaultReason, write: boolean): UserfaultOutcome;
  /** dup_userfaultfd: what the child VMA keeps at fork. Default: nothing (no EVENT_FORK). */
  forkVma?(parent: Mm, child: Mm, parentVma: Vma, childVma: Vma): void;
}
export const UserfaultHandlerToken = token<UserfaultHandler>('core-walk/UserfaultHandler');

/**
 * What PAGEMAP_SCAN asks the userfaultfd feature about a VMA (its
 * WPALLOWED, WP_MATCHING and CHECK_WPASYNC). Declared here, between the
 * two features, so that neither imports the other: uffd-wp provides it,
 * pagemap-scan resolves it.
 */
export interface UffdWpAsyncQuery {
  /** userfaultfd_wp_async(vma): the VMA's userfaultfd context was opened with UFFD_FEATURE_WP_ASYNC. */
  isWpAsync(vma: Vma): boolean;
  /**
   * userfaultfd_wp_use_markers(vma): the VMA is registered for WP and none
   * entries get uffd-wp markers (file/shmem/hugetlb always; anon with
   * UFFD_FEATURE_WP_UNPOPULATED, which WP_ASYNC implies).
   */
  useMarkers(vma: Vma): boolean;
}
export const UffdWpAsyncQueryToken = token<UffdWpAsyncQuery>('core-walk/UffdWpAsyncQuery');

/** A fault on a device-private entry (the page's owner migrates it back to RAM). */
export interface DevicePrivateHandler {
  /** Returns 0 after migrating the page back (retry), or a VM_FAULT_* code. */
  migrateToRam(mm: Mm, vma: Vma, addr: number, devicePfn: number): number;
}
export const DevicePrivateHandlerToken = token<DevicePrivateHandler>('core-walk/DevicePrivateHandler');

/**
 * The page-table writes PAGEMAP_SCAN's PM_SCAN_WP_MATCHING makes
 * (fs/proc/task_mmu.c): the userfaultfd feature implements them, so that
 * the scan itself stays a reader on the public walker. Every call names a
 * range inside `vma`, whose mmap lock the caller holds; none allocates a
 * page table except wpRange (for markers in holes, as uffd_wp_range does).
 * Without a registration, WP_MATCHING write-protects nothing (see
 * pagemap-scan).
 */
export interface UffdWpRange {
  /**
   * uffd_wp_range(vma, start, len, protect) (mm/userfaultfd.c), as
   * pagemap_scan_pte_hole calls it. Returns the number of entries changed,
   * or a negative errno.
   */
  wpRange(mm: Mm, vma: Vma, start: number, len: number, protect: boolean): number;
  /**
   * make_uffd_wp_pte on the PTEs given as runs of one page table: run k
   * covers pages [runs[2k], runs[2k + 1]) counted from `addr` (which maps
   * a PTE of that table; every run stays inside it). Only entries not yet
   * uffd-wp protected change — present: uffd-wp bit (and read-only);
   * swap-type, markers included: swap uffd-wp bit; none: an uffd-wp marker.
   * Beyond the kernel, which writes one pte_t at a time: one call per
   * table slice. Returns the number of entries changed.
   */
  wpPtes(mm: Mm, vma: Vma, addr: number, runs: Int32Array, runCount: number): number;
  /** make_uffd_wp_pmd: the PMD mapping `addr` (a present THP, or a PMD migration entry). */
  wpPmd(mm: Mm, vma: Vma, addr: number): void;
  /** make_uffd_wp_huge_pte: the hugetlb entry mapping `addr` (hwpoison and markers stay). */
  wpHugePte(mm: Mm, vma: Vma, addr: number): void;
  /** split_huge_pmd(vma, pmd, addr): the huge PMD mapping `addr` becomes a PTE table. */
  splitHugePmd(mm: Mm, vma: Vma, addr: number): void;
}
export const UffdWpRangeToken = token<UffdWpRange>('core-walk/UffdWpRange');

/** Called once the kernel is assembled: features that need the Kernel object get it here. */
export interface KernelReadyHook {
  onKernelReady(kernel: Kernel): void;
}
export const KernelReadyToken = token<KernelReadyHook>('core-walk/KernelReady');
