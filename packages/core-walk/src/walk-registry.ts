/**
 * Which walk objects the walker made, and which of them may change page
 * tables. Module-private state: nothing outside core-walk can add to it,
 * so a callback cannot forge a writable walk (issue 19).
 */
import type { MmWalk } from './walk-ops.js';

/** Walks started through the mm-internal walkers: setEntry may write their entry. */
export const internalWalks = new WeakSet<MmWalk<any>>();

/**
 * Public walks see read-only copies: `table` holds the PTE table being
 * walked (refreshed once per table), `upper` the one upper-level entry of
 * the current pgd/p4d/pud/pmd/hugetlb callback.
 */
export interface PublicView {
  readonly table: Uint32Array;
  readonly upper: Uint32Array;
}
export const publicViews = new WeakMap<MmWalk<any>, PublicView>();
