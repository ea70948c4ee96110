/**
 * Issue #6 "dirty tracking end to end", across the features: register a
 * range for uffd-wp in WP_ASYNC mode, write-protect it with PAGEMAP_SCAN
 * WP_MATCHING, let a random workload write (through THPs, swap-out and
 * DONTNEED too), then scan WRITTEN with WP_MATCHING — every round must
 * report exactly the pages written since the previous round, and a copy
 * built from those reports must equal the source byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  checkInvariants,
  createKernel,
} from '@pagewalk/core-walk';
import { PAGE_IS_WRITTEN, PM_SCAN_WP_MATCHING, pagemapScan, pagemapScanFeature } from '@pagewalk/pagemap-scan';
import { UFFD_API, UFFD_FEATURE_WP_ASYNC, UFFDIO_REGISTER_MODE_WP, userfaultfd, uffdWp } from '@pagewalk/uffd-wp';
import { TEST_ARENA_BASE as BASE } from '@pagewalk/core-walk/testing';

const PAGES = 1024; // two 2 MiB regions

type Step = { kind: 'write'; page: number; value: number } | { kind: 'pageout' | 'dontneed' | 'read'; page: number; pages: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('write' as const), page: fc.nat(PAGES - 1), value: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('pageout' as const, 'dontneed' as const, 'read' as const), page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 64 }) }) },
);

/** Pages reported WRITTEN by a WP_MATCHING scan (which re-protects them). */
function scanWritten(mm: Parameters<typeof pagemapScan>[0]): Set<number> {
  const result = pagemapScan(mm, {
    start: BASE,
    end: BASE + PAGES * PAGE_SIZE,
    flags: PM_SCAN_WP_MATCHING,
    categoryMask: PAGE_IS_WRITTEN,
    returnMask: PAGE_IS_WRITTEN,
  });
  if (typeof result === 'number') throw new Error(`PAGEMAP_SCAN: ${result}`);
  const pages = new Set<number>();
  for (const region of result.regions) {
    for (let addr = region.start; addr < region.end; addr += PAGE_SIZE) pages.add((addr - BASE) / PAGE_SIZE);
  }
  return pages;
}

describe('dirty tracking with uffd-wp WP_ASYNC and PAGEMAP_SCAN WP_MATCHING', () => {
  it('reports exactly the pages written since the last round, and the copy stays byte-identical', () => {
    fc.assert(
      fc.property(fc.array(fc.array(stepArb, { maxLength: 40 }), { minLength: 1, maxLength: 6 }), (rounds) => {
        const kernel = createKernel({ profile: { swap: true }, features: [uffdWp, pagemapScanFeature] });
        const mm = kernel.createMm();
        expect(mm.mmap(BASE, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(BASE);
        expect(mm.madvise(BASE, PAGES * PAGE_SIZE, MADV_HUGEPAGE)).toBe(0);
        const uffd = userfaultfd(mm);
        if (typeof uffd === 'number') throw new Error(`userfaultfd: ${uffd}`);
        expect(uffd.api({ api: UFFD_API, features: UFFD_FEATURE_WP_ASYNC })).toBe(0);
        expect(uffd.register({ range: { start: BASE, len: PAGES * PAGE_SIZE }, mode: UFFDIO_REGISTER_MODE_WP })).toBe(0);

        const copy = new Uint8Array(PAGES);
        // Round 0: protect everything (empty ranges get markers) and take the full copy.
        scanWritten(mm);
        for (let page = 0; page < PAGES; page++) copy[page] = mm.access(BASE + page * PAGE_SIZE, AccessKind.Read);

        for (const steps of rounds) {
          const written = new Set<number>();
          for (const step of steps) {
            if (step.kind === 'write') {
              expect(mm.access(BASE + step.page * PAGE_SIZE, AccessKind.Write, step.value)).toBe(0);
              written.add(step.page);
            } else {
              const pages = Math.min(step.pages, PAGES - step.page);
              if (step.kind === 'pageout') expect(mm.madvise(BASE + step.page * PAGE_SIZE, pages * PAGE_SIZE, MADV_PAGEOUT)).toBe(0);
              else if (step.kind === 'read') for (let i = 0; i < pages; i++) mm.access(BASE + (step.page + i) * PAGE_SIZE, AccessKind.Read);
              else {
                // DONTNEED on anonymous memory drops the protection too (the page reads as zero):
                // the kernel reports such pages as written, and so must we.
                expect(mm.madvise(BASE + step.page * PAGE_SIZE, pages * PAGE_SIZE, MADV_DONTNEED)).toBe(0);
                for (let i = 0; i < pages; i++) written.add(step.page + i);
              }
            }
          }
          const reported = scanWritten(mm);
          // Every written page is reported; nothing else is, except pages DONTNEED dropped.
          for (const page of written) expect(reported.has(page), `page ${page} written but not reported`).toBe(true);
          for (const page of reported) expect(written.has(page), `page ${page} reported but not written`).toBe(true);
          for (const page of reported) copy[page] = mm.access(BASE + page * PAGE_SIZE, AccessKind.Read);
          for (let page = 0; page < PAGES; page++) expect(copy[page], `page ${page}`).toBe(mm.access(BASE + page * PAGE_SIZE, AccessKind.Read));
          expect(checkInvariants(kernel)).toEqual([]);
        }
      }),
      { numRuns: 40, seed: 6 },
    );
  }, 120_000);
});
