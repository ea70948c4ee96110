/**
 * The service other features use (PAGEMAP_SCAN's WPALLOWED, CHECK_WPASYNC
 * and WP_MATCHING): typed tokens, no import of this package's internals.
 */
import { token, type Mm, type Vma } from '@pagewalk/core-walk';
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
 * The query @pagewalk/pagemap-scan resolves (its `UffdWpAsyncQuery`,
 * `Symbol.for('@pagewalk/pagemap-scan/UffdWpAsyncQuery')`). Tokens are
 * Symbol.for names, so registering under the same name needs no import of
 * that package (and makes no dependency cycle).
 */
export const PagemapScanUffdQuery = token<Pick<UffdWp, 'isWpAsync' | 'useMarkers'>>('pagemap-scan/UffdWpAsyncQuery');

export const uffdWpService: UffdWp = {
  isWpRegistered,
  isWpAsync,
  useMarkers,
  writeProtectRange: (mm, vma, start, end, protect) => uffdWpRange(mm, vma, start, end, protect),
};
