/**
 * Which walk objects the walker made, and which of them may change page
 * tables. Module-private state: nothing outside core-walk can add to it,
 * so a callback cannot forge a writable walk (issue 19).
 */
import type { MmWalk } from './walk-ops.js';

/** Walks started through the mm-internal walkers: setEntry may write their entry. */
export const internalWalks = new WeakSet<MmWalk<any>>();

/**
 * Public walks see read-only copies, held on the walk object under this
 * symbol as a non-writable, non-configurable property (so a callback that
 * finds the symbol still cannot swap the copy for the pool): entries
 * 0..511 hold the PTE table being walked (refreshed once per table), entry
 * PUBLIC_UPPER_SLOT the one upper-level entry of the current
 * pgd/p4d/pud/pmd/hugetlb callback. Mm-internal walks hold null. A
 * property rather than a WeakMap because the walker reads it once per
 * upper-level entry: a WeakMap lookup there cost a THP scan ~5 %.
 */
export const PUBLIC_VIEW: unique symbol = Symbol('pagewalk.publicView');
export const PUBLIC_UPPER_SLOT = 512;

/** The read-only copy buffer of a public walk, null for an mm-internal walk. */
export function publicViewOf(walk: MmWalk<any>): Uint32Array | null {
  return (walk as unknown as { readonly [PUBLIC_VIEW]: Uint32Array | null })[PUBLIC_VIEW];
}
