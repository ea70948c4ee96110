/**
 * The service other features use (PAGEMAP_SCAN's WPALLOWED, CHECK_WPASYNC
 * and WP_MATCHING): typed tokens, no import of this package's internals.
 */
import { UffdWpAsyncQueryToken, token, type Mm, type Vma } from '@pagewalk/core-walk';
import { isWpAsync, isWpRegistered, useMarkers } from './vma-state.js';
import { uffdWpRange } from './wp-range.js';

export interface UffdWp {
  /** userfaultfd_wp(vma): registered in WP mode. */
  isWpRegistered(vma: Vma): boolean;
  /** userfaultfd_wp_async(vma): the VMA's context was opened with UFFD_FEATURE_WP_ASYNC. */
  isWpAsync(vma: Vma): boolean;
  /** userfaultfd_wp_use_markers(vma): none entries get uffd-wp markers when protected. */
  useMarkers(vma: Vma): boolean;
  /**
   * uffd_wp_range(vma, start, end - start, protect): [start, end) must lie in
   * `vma`; the caller holds the mmap lock. Returns the number of entries changed.
   */
  writeProtectRange(mm: Mm, vma: Vma, start: number, end: number, protect: boolean): number;
}

/** This package's own token: `Symbol.for('@pagewalk/uffd-wp/UffdWp')`. */
export const UffdWp = token<UffdWp>('uffd-wp/UffdWp');

/**
 * The query @pagewalk/pagemap-scan resolves: core-walk's
 * UffdWpAsyncQueryToken, declared between the two features so that neither
 * imports the other.
 * @deprecated Use `UffdWpAsyncQueryToken` from @pagewalk/core-walk (this is the same token).
 */
export const PagemapScanUffdQuery = UffdWpAsyncQueryToken;

export const uffdWpService: UffdWp = {
  isWpRegistered,
  isWpAsync,
  useMarkers,
  writeProtectRange: (mm, vma, start, end, protect) => uffdWpRange(mm, vma, start, end, protect),
};
