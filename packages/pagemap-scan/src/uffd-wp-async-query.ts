/**
 * What PAGEMAP_SCAN needs to know from the userfaultfd feature, and nothing
 * more: whether a VMA is write-protect-async capable. The uffd-wp package
 * (or any provider) registers an implementation under this token; the
 * kernel resolves it once, when it is ready (a dependency
 * between features goes through a public token).
 *
 * Without a provider every VMA behaves like a kernel VMA with no userfaultfd
 * registration: WPALLOWED is never set, WP_MATCHING skips every VMA and
 * CHECK_WPASYNC fails with EPERM.
 */
import { token, type Kernel, type Vma } from '@pagewalk/core-walk';

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

/** Token name: `@pagewalk/pagemap-scan/UffdWpAsyncQuery` (Symbol.for). */
export const UffdWpAsyncQuery = token<UffdWpAsyncQuery>('pagemap-scan/UffdWpAsyncQuery');

const queries = new WeakMap<Kernel, UffdWpAsyncQuery | null>();

/** Resolves (once per kernel) the registered query, or null without a provider. */
export function uffdWpAsyncQueryOf(kernel: Kernel): UffdWpAsyncQuery | null {
  let query = queries.get(kernel);
  if (query === undefined) {
    query = kernel.resolve(UffdWpAsyncQuery)[0] ?? null;
    queries.set(kernel, query);
  }
  return query;
}
