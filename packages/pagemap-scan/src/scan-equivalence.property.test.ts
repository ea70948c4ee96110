// The optimized PAGEMAP_SCAN PTE loop (runs, a per-flag-byte decision
// table, the region kept in locals, no pteHole where no hole can match)
// against the straightforward per-PTE reference (scan-reference.ts): same
// return value, walk_end, regions and page tables on random layouts and
// random scan arguments, including WP_MATCHING, max_pages and vec_len
// limits and more regions than the 512-entry bounce buffer.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AccessKind,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  UffdWpAsyncQueryToken,
  UffdWpRangeToken,
  checkInvariants,
  createKernel,
  type Feature,
  type Mm,
} from '@pagewalk/core-walk';
import { PageRegionVec, pagemapScanIoctlWith, pmScanArgRaw } from './pagemap-scan.js';
import { pagemapScanReferenceWalkOps } from './scan-reference.js';
import { PM_SCAN_CATEGORIES, PM_SCAN_CHECK_WPASYNC, PM_SCAN_WP_MATCHING } from './uapi.js';
import { UFFDIO_REGISTER_MODE_WP, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED, pagemapWpOps, uffdWp, userfaultfd, type UserfaultfdCtx } from '@pagewalk/uffd-wp';

const BASE = 0x7e00_0000_0000;
const PAGE = 4096;
/** Three PTE tables: enough for > 512 regions (every other page) and THP-sized spans. */
const PAGES = 1536;

/**
 * Every VMA registered with uffd-wp counts as WP_ASYNC with markers (what
 * uffd-wp answers for a WP_ASYNC | WP_UNPOPULATED uffd); installed before
 * uffd-wp, so the scan asks it first.
 */
const fakeUffdWp: Feature = {
  name: 'fake-uffd-wp-async',
  install(container) {
    container.register(UffdWpAsyncQueryToken, { useValue: { isWpAsync: () => true, useMarkers: () => true } });
    container.register(UffdWpRangeToken, { useValue: pagemapWpOps });
  },
};

type Op =
  | { kind: 'map' | 'write' | 'read' | 'dontneed' | 'pageout' | 'thp' | 'uffdwp' | 'wpscan'; page: number; pages: number }
  | { kind: 'stripe'; page: number; pages: number; step: number };

const span = { page: fc.nat(PAGES - 1), pages: fc.integer({ min: 1, max: 600 }) };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('map', 'write', 'read', 'dontneed', 'pageout', 'thp', 'uffdwp', 'wpscan' as const), ...span }),
  fc.record({ kind: fc.constant('stripe' as const), ...span, step: fc.integer({ min: 2, max: 4 }) }),
);

interface ScanCase {
  flags: number;
  categoryMask: number;
  categoryAnyofMask: number;
  categoryInverted: number;
  returnMask: number;
  maxPages: number;
  vecLen: number;
  first: number;
  pages: number;
}

const maskArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: PM_SCAN_CATEGORIES }), fc.constantFrom(2, 8, 10, 16, 0x1ff));
const scanArb: fc.Arbitrary<ScanCase> = fc.record({
  flags: fc.constantFrom(0, 0, PM_SCAN_WP_MATCHING, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC),
  categoryMask: maskArb,
  categoryAnyofMask: maskArb,
  categoryInverted: fc.oneof(fc.constant(0), maskArb),
  returnMask: maskArb,
  maxPages: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 2000 })),
  vecLen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 500, max: 2000 })),
  first: fc.nat(PAGES - 1),
  pages: fc.integer({ min: 1, max: PAGES }),
});

function build(ops: readonly Op[]): Mm {
  const kernel = createKernel({ profile: { swap: true }, features: [fakeUffdWp, uffdWp] });
  const mm = kernel.createMm();
  let uffd: UserfaultfdCtx | null = null;
  mm.mmap(BASE, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
  for (const op of ops) {
    const addr = BASE + op.page * PAGE;
    const pages = Math.min(op.pages, PAGES - op.page);
    const len = pages * PAGE;
    switch (op.kind) {
      case 'map':
        mm.mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
        break;
      case 'write':
      case 'read':
        for (let a = addr; a < addr + len; a += PAGE) mm.access(a, op.kind === 'write' ? AccessKind.Write : AccessKind.Read, 1);
        break;
      case 'stripe':
        for (let a = addr; a < addr + len; a += op.step * PAGE) mm.access(a, AccessKind.Write, 1);
        break;
      case 'dontneed':
        mm.madvise(addr, len, MADV_DONTNEED);
        break;
      case 'pageout':
        mm.madvise(addr, len, MADV_PAGEOUT);
        break;
      case 'thp':
        mm.madvise(addr, len, MADV_HUGEPAGE);
        mm.access(addr, AccessKind.Write, 1);
        break;
      case 'uffdwp':
        // UFFDIO_REGISTER(MODE_WP) of every VMA the span touches, on one WP_ASYNC uffd.
        if (uffd === null) {
          const ctx = userfaultfd(mm, 0);
          if (typeof ctx === 'number') throw new Error(`userfaultfd: ${ctx}`);
          expect(ctx.api({ api: 0xaa, features: UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED })).toBe(0);
          uffd = ctx;
        }
        for (const vma of mm.vmas.range(addr, addr + len)) {
          expect(uffd.register({ range: { start: vma.start, len: vma.end - vma.start }, mode: UFFDIO_REGISTER_MODE_WP })).toBe(0);
        }
        break;
      case 'wpscan': {
        // Write-protects what is written, installs uffd-wp markers in holes.
        const raw = pmScanArgRaw({ start: addr, end: addr + len, flags: PM_SCAN_WP_MATCHING, vecLen: 0, vec: 0 });
        pagemapScanIoctlWith(mm, raw, new PageRegionVec(), pagemapScanReferenceWalkOps);
        break;
      }
    }
  }
  return mm;
}

function scan(mm: Mm, c: ScanCase, reference: boolean) {
  const start = BASE + c.first * PAGE;
  const end = BASE + Math.min(PAGES, c.first + c.pages) * PAGE;
  const raw = pmScanArgRaw({
    start,
    end,
    flags: c.flags,
    categoryMask: c.categoryMask,
    categoryAnyofMask: c.categoryAnyofMask,
    categoryInverted: c.categoryInverted,
    returnMask: c.returnMask,
    maxPages: c.maxPages,
    vecLen: c.vecLen,
  });
  const vec = new PageRegionVec();
  const ret = pagemapScanIoctlWith(mm, raw, vec, reference ? pagemapScanReferenceWalkOps : null);
  const tables: string[] = [];
  for (let i = 0; i < PAGES; i++) {
    const { level, entry } = mm.entryAt(BASE + i * PAGE);
    tables.push(`${level}:${entry}`);
  }
  return { ret, walkEnd: raw.walkEnd, regions: vec.toArray(), tables };
}

describe('optimized scan = per-PTE reference', () => {
  it('same result, walk_end, regions and page tables on random layouts and arguments', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.array(scanArb, { minLength: 1, maxLength: 3 }), (ops, scans) => {
        const fast = build(ops);
        const slow = build(ops);
        for (const c of scans) {
          const a = scan(fast, c, false);
          const b = scan(slow, c, true);
          expect(a).toEqual(b);
        }
        expect(checkInvariants(fast.kernel)).toEqual([]);
      }),
      { numRuns: Number(process.env.SCAN_EQ_RUNS ?? 300) },
    );
  }, 60_000);
});
