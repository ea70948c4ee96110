// Without a pteHole callback the walker steps over runs of empty PMD and
// PUD entries in one go; it must visit exactly the entries (pmdEntry,
// pteEntry, pteBatch) it visits when a pteHole makes it stop at every
// empty entry, on sparse layouts spanning several PUD and PMD tables.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AccessKind, MAP_NORESERVE, PAGE_SIZE, PMD_SIZE, PUD_SIZE, walkPageRange, type MmWalkOps } from './index.js';
import { TEST_ARENA_BASE as BASE, createTestMm, mapAnon } from './testing.js';

/** 4 GiB + 3 PMDs: five PUD slots, thousands of PMD slots. */
const BYTES = 4 * PUD_SIZE + 3 * PMD_SIZE;
const PAGES = BYTES / PAGE_SIZE;

describe('walker: runs of empty upper entries without pteHole', () => {
  it('visits the same entries as a walk that reports every hole', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(PAGES - 1), { maxLength: 40 }),
        fc.nat(PAGES - 1),
        fc.integer({ min: 1, max: PAGES }),
        fc.boolean(),
        (touched, first, pages, batch) => {
          const { mm } = createTestMm();
          mapAnon(mm, 0, PAGES, { flags: MAP_NORESERVE });
          for (const page of touched) mm.access(BASE + page * PAGE_SIZE, AccessKind.Write, 1);
          const start = BASE + first * PAGE_SIZE;
          const end = BASE + Math.min(PAGES, first + pages) * PAGE_SIZE;
          const visit = (withHoles: boolean): string[] => {
            const seen: string[] = [];
            const ops: MmWalkOps<null> = {
              pmdEntry: (e, a, n) => void seen.push(`pmd ${a} ${n} ${e}`),
              ...(batch
                ? { pteBatch: (entries, f, c, a) => void seen.push(`batch ${a} ${c} ${entries[f]}`) }
                : { pteEntry: (e, a, n) => void (e !== 0 && seen.push(`pte ${a} ${n} ${e}`)) }),
              ...(withHoles ? { pteHole: () => 0 } : {}),
            };
            expect(walkPageRange(mm, start, end, ops, null)).toBe(0);
            return seen;
          };
          expect(visit(false)).toEqual(visit(true));
        },
      ),
      { numRuns: 60 },
    );
  });
});
