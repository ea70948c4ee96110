/**
 * What a VMA's userfaultfd registration means (include/linux/userfaultfd_k.h):
 * the predicates the fault path, the range operations and PAGEMAP_SCAN ask.
 * A VMA's `userfaultfdCtx` is an opaque object to the core; this module
 * recognises the contexts this package created.
 */
import { VM_UFFD_MINOR, VM_UFFD_MISSING, VM_UFFD_WP, type Vma } from '@pagewalk/core-walk';
import { UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from './uapi.js';

/** The part of a context these predicates read. */
export interface UffdCtxFeatures {
  /** Enabled UFFD_FEATURE_* bits (0 until UFFDIO_API). */
  readonly features: number;
}

const contexts = new WeakSet<object>();

/** Called by every context this package creates. */
export function markUffdCtx(ctx: UffdCtxFeatures): void {
  contexts.add(ctx);
}

/** The VMA's context if it is one of ours, else null. */
export function uffdCtxOf(vma: Vma): UffdCtxFeatures | null {
  const ctx = vma.userfaultfdCtx;
  return ctx !== null && contexts.has(ctx) ? (ctx as UffdCtxFeatures) : null;
}

/** userfaultfd_wp(vma) */
export const isWpRegistered = (vma: Vma): boolean => (vma.flags & VM_UFFD_WP) !== 0;
/** userfaultfd_missing(vma) */
export const isMissingRegistered = (vma: Vma): boolean => (vma.flags & VM_UFFD_MISSING) !== 0;
/** userfaultfd_minor(vma) */
export const isMinorRegistered = (vma: Vma): boolean => (vma.flags & VM_UFFD_MINOR) !== 0;

/** userfaultfd_wp_async(vma): the VMA's context was opened with WP_ASYNC. */
export function isWpAsync(vma: Vma): boolean {
  const ctx = uffdCtxOf(vma);
  return ctx !== null && (ctx.features & UFFD_FEATURE_WP_ASYNC) !== 0;
}

/** userfaultfd_wp_unpopulated(vma) */
export function isWpUnpopulated(vma: Vma): boolean {
  const ctx = uffdCtxOf(vma);
  return ctx !== null && (ctx.features & UFFD_FEATURE_WP_UNPOPULATED) !== 0;
}

/**
 * vma_is_anonymous() as the kernel means it: no vm_ops. Hugetlb VMAs have
 * hugetlb_vm_ops, so they count as file-like here even when the simulator
 * backs them with no file.
 */
export const isKernelAnonymous = (vma: Vma): boolean => vma.isAnonymous && !vma.isHugetlb;

/** userfaultfd_wp_use_markers(vma): WP-registered and (not anonymous, or WP_UNPOPULATED). */
export function useMarkers(vma: Vma): boolean {
  if (!isWpRegistered(vma)) return false;
  if (!isKernelAnonymous(vma)) return true;
  return isWpUnpopulated(vma);
}
