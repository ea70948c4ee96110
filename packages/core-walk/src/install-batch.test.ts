// installPteBatch (a run of empty PTEs per call) must leave the same page
// tables, callback results and walk result as installPte called for each
// empty PTE in address order; the public walkers refuse it like installPte.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AccessKind, Errno, MADV_DONTNEED, PAGE_SIZE, walkPageRange, type MmWalkOps } from './index.js';
import { claimMmInternal, type MmWalkOpsUnsafe } from './mm-internal.js';

const { walkPageRangeUnsafe } = claimMmInternal();
import { TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon } from './testing.js';
import { isGuardPteMarker, makeGuardPte } from './swapops.js';

interface Count {
  installed: number;
  seen: number;
  /** Stop (return 1) at the first present PTE. */
  stopAtPresent: boolean;
  /** Fail (return -ENOMEM) at the n-th installed entry (0 = never). */
  failAt: number;
}

const GUARD = makeGuardPte();

function pteEntry(entry: number, _a: number, _n: number, walk: { state: Count }): number {
  walk.state.seen++;
  if (isGuardPteMarker(entry)) return 0;
  return walk.state.stopAtPresent ? 1 : 0;
}

const perEntry: MmWalkOpsUnsafe<Count> = {
  pteEntry,
  installPte(_addr, _next, walk) {
    const s = walk.state;
    if (s.failAt !== 0 && s.installed + 1 === s.failAt) return -Errno.ENOMEM;
    s.installed++;
    return GUARD;
  },
};

const batched: MmWalkOpsUnsafe<Count> = {
  ...perEntry,
  installPteBatch(entries, first, count, _addr, walk) {
    const s = walk.state;
    let n = count;
    if (s.failAt !== 0 && s.installed + count >= s.failAt) n = s.failAt - 1 - s.installed;
    entries.fill(GUARD, first, first + n);
    s.installed += n;
    return n < count ? -Errno.ENOMEM : 0;
  },
};

const PAGES = 2048;

function layout(ops: readonly { page: number; pages: number; write: boolean }[]) {
  const { kernel, mm } = createTestMm();
  mapAnon(mm, 0, PAGES);
  for (const op of ops) {
    const pages = Math.min(op.pages, PAGES - op.page);
    if (op.write) for (let i = 0; i < pages; i++) mm.access(BASE + (op.page + i) * PAGE_SIZE, AccessKind.Write, 1);
    else mm.madvise(BASE + op.page * PAGE_SIZE, pages * PAGE_SIZE, MADV_DONTNEED);
  }
  return { kernel, mm };
}

describe('installPteBatch', () => {
  it('gives the same tables and results as per-entry installPte', () => {
    const opArb = fc.record({ page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 700 }), write: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 8 }),
        fc.nat(PAGES - 1),
        fc.integer({ min: 1, max: PAGES }),
        fc.boolean(),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: PAGES })),
        (ops, first, pages, stopAtPresent, failAt) => {
          const start = BASE + first * PAGE_SIZE;
          const end = BASE + Math.min(PAGES, first + pages) * PAGE_SIZE;
          const results = [perEntry, batched].map((ops2) => {
            const { kernel, mm } = layout(ops);
            const state: Count = { installed: 0, seen: 0, stopAtPresent, failAt };
            const ret = walkPageRangeUnsafe(mm, start, end, ops2, state);
            const tables: number[] = [];
            for (let i = 0; i < PAGES; i++) tables.push(mm.entryAt(BASE + i * PAGE_SIZE).entry);
            assertInvariants(kernel);
            return { ret, installed: state.installed, seen: state.seen, tables, tablesLive: kernel.tables.live };
          });
          expect(results[1]).toEqual(results[0]);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('is refused by the public walkers, alone or with installPte', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    const ops = { installPteBatch: () => 0 } as unknown as MmWalkOps;
    expect(walkPageRange(mm, BASE, BASE + PAGE_SIZE, ops)).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE, BASE + PAGE_SIZE, batched as unknown as MmWalkOps, { installed: 0, seen: 0, stopAtPresent: false, failAt: 0 })).toBe(-Errno.EINVAL);
    expect(mm.entryAt(BASE).entry).toBe(0);
  });
});
