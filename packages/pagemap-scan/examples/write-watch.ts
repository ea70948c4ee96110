// GetWriteWatch / ResetWriteWatch (the Windows API that Wine and
// emulators implement with PAGEMAP_SCAN) on the simulator.
//
// The userfaultfd side is @pagewalk/uffd-wp: a uffd opened with
// UFFD_FEATURE_WP_ASYNC, the range registered in write-protect mode. The
// scan's WP_MATCHING writes go through uffd-wp (pagemap-scan writes no
// page table itself).
import {
  AccessKind,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  createKernel,
  type Mm,
} from '@pagewalk/core-walk';
import { pagemapScan, pagemapScanFeature } from '@pagewalk/pagemap-scan';
import { UFFDIO_REGISTER_MODE_WP, UFFD_FEATURE_WP_ASYNC, uffdWp, userfaultfd } from '@pagewalk/uffd-wp';

const PAGE = 4096;
const O_CLOEXEC = 0o2000000;

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
  const kernel = createKernel({ features: [pagemapScanFeature, uffdWp] });
  const mm = kernel.createMm();
  const size = 64 * PAGE;
  const base = mm.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  // userfaultfd(2), UFFDIO_API with WP_ASYNC, UFFDIO_REGISTER(MODE_WP).
  const uffd = userfaultfd(mm, O_CLOEXEC);
  if (typeof uffd === 'number') throw new Error(`userfaultfd: ${uffd}`);
  if (uffd.api({ api: 0xaa, features: UFFD_FEATURE_WP_ASYNC }) !== 0) throw new Error('UFFDIO_API failed');
  if (uffd.register({ range: { start: base, len: size }, mode: UFFDIO_REGISTER_MODE_WP }) !== 0) throw new Error('UFFDIO_REGISTER failed');
  resetWriteWatch(mm, base, size);

  for (const page of [3, 4, 10]) mm.access(base + page * PAGE, AccessKind.Write, 1);
  const first = (getWriteWatch(mm, base, size, true) as number[]).map((a) => (a - base) / PAGE); // [3, 4, 10]
  mm.access(base + 4 * PAGE, AccessKind.Write, 2);
  const second = (getWriteWatch(mm, base, size, false) as number[]).map((a) => (a - base) / PAGE); // [4]
  const third = (getWriteWatch(mm, base, size, true) as number[]).map((a) => (a - base) / PAGE); // [4], then clean
  return { first, second, third };
}

if (process.argv[1]?.endsWith('write-watch.ts')) console.log(writeWatchExample());
