/**
 * What PAGEMAP_SCAN needs to know from the userfaultfd feature, and nothing
 * more: whether a VMA is write-protect-async capable. The uffd-wp package
 * (or any provider) registers an implementation under core-walk's
 * UffdWpAsyncQueryToken; the kernel resolves it once, when it is ready (a
 * dependency between features goes through a token neither of them owns).
 *
 * Without a provider every VMA behaves like a kernel VMA with no userfaultfd
 * registration: WPALLOWED is never set, WP_MATCHING skips every VMA and
 * CHECK_WPASYNC fails with EPERM.
 */
import { UffdWpAsyncQueryToken, type Kernel, type UffdWpAsyncQuery as CoreUffdWpAsyncQuery } from '@pagewalk/core-walk';

export type UffdWpAsyncQuery = CoreUffdWpAsyncQuery;

/** @deprecated Use core-walk's `UffdWpAsyncQueryToken` (this is the same token). */
export const UffdWpAsyncQuery = UffdWpAsyncQueryToken;

const queries = new WeakMap<Kernel, UffdWpAsyncQuery | null>();

/** Resolves (once per kernel) the registered query, or null without a provider. */
export function uffdWpAsyncQueryOf(kernel: Kernel): UffdWpAsyncQuery | null {
  let query = queries.get(kernel);
  if (query === undefined) {
    query = kernel.resolve(UffdWpAsyncQueryToken)[0] ?? null;
    queries.set(kernel, query);
  }
  return query;
}
