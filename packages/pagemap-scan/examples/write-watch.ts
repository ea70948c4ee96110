// GetWriteWatch / ResetWriteWatch (the Windows API that Wine and
// emulators implement with PAGEMAP_SCAN) on the simulator.
//
// The userfaultfd side is played by a few lines here: they implement the
// UffdWpAsyncQuery contract and the write-protect operations of
// core-walk's UffdWpRange token (4 KiB pages only), and answer write faults
// asynchronously, which is what @pagewalk/uffd-wp does for a uffd opened
// with UFFD_FEATURE_WP_ASYNC.
import {
  AccessKind,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  UffdWpRangeToken,
  UserfaultHandlerToken,
  UserfaultOutcome,
  VM_UFFD_WP,
  createKernel,
  makeUffdWpMarker,
  pteMkuffdWp,
  ptePresent,
  pteUffdWp,
  type Feature,
  type Mm,
  type UffdWpRange,
  type Vma,
} from '@pagewalk/core-walk';
import { pagemapScan, pagemapScanFeature, UffdWpAsyncQuery } from '@pagewalk/pagemap-scan';

const PAGE = 4096;
const asyncWpContext = { wpAsync: true };

/** Write-protects the PTE at `slot`: a present page gets the uffd-wp bit, an empty one a marker. */
function protectPte(mm: Mm, slot: number): void {
  if (slot < 0) return;
  const entry = mm.kernel.tables.entries[slot]!;
  if (entry === 0) mm.kernel.tables.entries[slot] = makeUffdWpMarker();
  else if (ptePresent(entry) && !pteUffdWp(entry)) mm.kernel.tables.entries[slot] = pteMkuffdWp(entry);
}

/** What WP_MATCHING asks of the provider, for anonymous 4 KiB pages. */
const writeProtect: UffdWpRange = {
  wpRange(mm, _vma, start, len) {
    for (let a = start; a < start + len; a += PAGE) protectPte(mm, mm.pteSlot(a, true));
    return 0;
  },
  wpPtes(mm, _vma, addr, runs, runCount) {
    for (let k = 0; k < runCount; k++) for (let page = runs[2 * k]!; page < runs[2 * k + 1]!; page++) protectPte(mm, mm.pteSlot(addr + page * PAGE, false));
    return 0;
  },
  wpPmd() {},
  wpHugePte() {},
  splitHugePmd() {},
};

/** Stand-in for @pagewalk/uffd-wp: "registered VMAs are WP-async", writes resolve in place. */
const asyncWriteProtect: Feature = {
  name: 'example-uffd-wp-async',
  install(container) {
    container.register(UffdWpAsyncQuery, {
      useValue: { isWpAsync: (vma: Vma) => vma.userfaultfdCtx === asyncWpContext, useMarkers: (vma: Vma) => (vma.flags & VM_UFFD_WP) !== 0 },
    });
    container.register(UffdWpRangeToken, { useValue: writeProtect });
    container.register(UserfaultHandlerToken, { useValue: { handleUserfault: () => UserfaultOutcome.AsyncResolve } });
  },
};

/** ResetWriteWatch: write-protect the whole range (WP_MATCHING with vec_len 0: the fast path). */
export function resetWriteWatch(mm: Mm, base: number, size: number): number {
  const ret = pagemapScan(mm, { start: base, end: base + size, flags: ['wp_matching', 'check_wpasync'], vecLen: 0 });
  return typeof ret === 'number' ? ret : 0;
}

/** GetWriteWatch: the pages written since the last reset; with `reset`, atomically re-protects them. */
export function getWriteWatch(mm: Mm, base: number, size: number, reset: boolean): number[] | number {
  const result = pagemapScan(mm, {
    start: base,
    end: base + size,
    flags: reset ? ['wp_matching', 'check_wpasync'] : ['check_wpasync'],
    categoryMask: ['written'],
    returnMask: ['written'],
  });
  if (typeof result === 'number') return result;
  const pages: number[] = [];
  for (const region of result.regions) for (let a = region.start; a < region.end; a += PAGE) pages.push(a);
  return pages;
}

export function writeWatchExample(): { first: number[]; second: number[]; third: number[] } {
  const kernel = createKernel({ features: [pagemapScanFeature, asyncWriteProtect] });
  const mm = kernel.createMm();
  const size = 64 * PAGE;
  const base = mm.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  // UFFDIO_REGISTER(MODE_WP) on a uffd with WP_ASYNC, as @pagewalk/uffd-wp would do it.
  const vma = mm.vmas.lookup(base)!;
  vma.flags |= VM_UFFD_WP;
  vma.userfaultfdCtx = asyncWpContext;
  resetWriteWatch(mm, base, size);

  for (const page of [3, 4, 10]) mm.access(base + page * PAGE, AccessKind.Write, 1);
  const first = (getWriteWatch(mm, base, size, true) as number[]).map((a) => (a - base) / PAGE); // [3, 4, 10]
  mm.access(base + 4 * PAGE, AccessKind.Write, 2);
  const second = (getWriteWatch(mm, base, size, false) as number[]).map((a) => (a - base) / PAGE); // [4]
  const third = (getWriteWatch(mm, base, size, true) as number[]).map((a) => (a - base) / PAGE); // [4], then clean
  return { first, second, third };
}

if (process.argv[1]?.endsWith('write-watch.ts')) console.log(writeWatchExample());
