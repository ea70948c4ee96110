// Property tests: random memory histories, then PAGEMAP_SCAN must agree
// with /proc/pid/pagemap page by page, regions must be sorted, disjoint and
// maximal, and max_pages must cut exactly; invariants hold after every op.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AccessKind,
  MADV_DONTNEED,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  checkInvariants,
  createKernel,
} from '@pagewalk/core-walk';
import { PAGE_IS_PRESENT, PAGE_IS_SWAPPED, PM_PRESENT, PM_SWAP, pagemapScan, readPagemap, type PmScanResult } from './index.js';

const BASE = 0x7e00_0000_0000;
const PAGES = 64;
const PAGE = 4096;

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('write' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('read' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('dontneed' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('pageout' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('munmap' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 8 }) }),
);

describe('scan properties', () => {
  it('scan agrees with pagemap; regions are maximal; max_pages cuts exactly', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 25 }), fc.integer({ min: 1, max: PAGES }), (ops, maxPages) => {
        const kernel = createKernel({ profile: { swap: true } });
        const mm = kernel.createMm();
        for (const op of ops) {
          const addr = BASE + op.page * PAGE;
          const len = Math.min(op.pages, PAGES - op.page) * PAGE;
          if (op.kind === 'map') mm.mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
          else if (op.kind === 'munmap') mm.munmap(addr, len);
          else if (op.kind === 'dontneed') mm.madvise(addr, len, MADV_DONTNEED);
          else if (op.kind === 'pageout') mm.madvise(addr, len, MADV_PAGEOUT);
          else for (let a = addr; a < addr + len; a += PAGE) mm.access(a, op.kind === 'write' ? AccessKind.Write : AccessKind.Read, 7);
          expect(checkInvariants(kernel)).toEqual([]);
        }
        const all = pagemapScan(mm, { start: BASE, end: BASE + PAGES * PAGE, returnMask: ['all'] }) as PmScanResult;
        expect(checkInvariants(kernel)).toEqual([]);
        const entries = readPagemap(mm, BASE, PAGES);
        if (typeof entries === 'number') throw new Error('pagemap');
        const categoriesOf = new Array<number>(PAGES).fill(-1);
        let previousEnd = -Infinity;
        let previousCategories = -1;
        for (const region of all.regions) {
          expect(region.start).toBeGreaterThanOrEqual(previousEnd);
          expect(region.end).toBeGreaterThan(region.start);
          if (region.start === previousEnd) expect(region.categories).not.toBe(previousCategories);
          previousEnd = region.end;
          previousCategories = region.categories;
          for (let a = region.start; a < region.end; a += PAGE) categoriesOf[(a - BASE) / PAGE] = region.categories;
        }
        let total = 0;
        for (let page = 0; page < PAGES; page++) {
          const mapped = mm.vmas.lookup(BASE + page * PAGE) !== null;
          expect(categoriesOf[page] !== -1).toBe(mapped);
          if (!mapped) continue;
          total++;
          expect((categoriesOf[page]! & PAGE_IS_PRESENT) !== 0).toBe((entries.flags[page]! & PM_PRESENT) !== 0);
          expect((categoriesOf[page]! & PAGE_IS_SWAPPED) !== 0).toBe((entries.flags[page]! & PM_SWAP) !== 0);
        }
        const limited = pagemapScan(mm, { start: BASE, end: BASE + PAGES * PAGE, maxPages }) as PmScanResult;
        const counted = limited.regions.reduce((sum, region) => sum + (region.end - region.start) / PAGE, 0);
        expect(counted).toBe(Math.min(maxPages, total));
        // walk_end: the first matching page beyond the budget, or the end.
        let expectedEnd = BASE + PAGES * PAGE;
        for (let page = 0, seen = 0; page < PAGES; page++) {
          if (categoriesOf[page] === -1) continue;
          if (seen++ === maxPages) {
            expectedEnd = BASE + page * PAGE;
            break;
          }
        }
        expect(limited.walkEnd).toBe(expectedEnd);
      }),
      { numRuns: 150 },
    );
  });
});
