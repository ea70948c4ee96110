// A live-migration style dirty-page tracker: copy every page once, then in
// each round copy only the pages written since the previous round, found
// through userfaultfd write-protection in WP_ASYNC mode. The copy is
// checked byte for byte against the source after every round.
import { AccessKind, MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, createKernel, orThrow } from '@pagewalk/core-walk';
import {
  UFFD_API,
  UFFD_FEATURE_WP_ASYNC,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_WP,
  isUffdWpProtected,
  userfaultfd,
  uffdWp,
} from '@pagewalk/uffd-wp';

export interface RoundReport {
  written: number[];
  copied: number[];
}

export function runDirtyTracker(pages = 32, rounds = 5, seed = 1): RoundReport[] {
  const kernel = createKernel({ features: [uffdWp] });
  const mm = kernel.createMm();
  const base = orThrow(mm.mmap(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS), 'mmap');

  // The uffd: WP_ASYNC (implies WP_UNPOPULATED), the whole area registered for WP.
  const uffd = orThrow(userfaultfd(mm), 'userfaultfd');
  orThrow(uffd.api({ api: UFFD_API, features: UFFD_FEATURE_WP_ASYNC }), 'UFFDIO_API');
  const all = { start: base, len: pages * PAGE_SIZE };
  orThrow(uffd.register({ range: all, mode: UFFDIO_REGISTER_MODE_WP }), 'UFFDIO_REGISTER');

  let state = seed;
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const destination = new Uint8Array(pages * PAGE_SIZE);
  const copyPage = (page: number) => {
    for (let offset = 0; offset < PAGE_SIZE; offset++) destination[page * PAGE_SIZE + offset] = mm.access(base + page * PAGE_SIZE + offset, AccessKind.Read);
  };
  const verify = () => {
    for (let i = 0; i < destination.length; i++) {
      if (mm.access(base + i, AccessKind.Read) !== destination[i]) throw new Error(`byte ${i} differs`);
    }
  };

  // Round 0: write-protect everything, then copy everything.
  uffd.writeProtect({ range: all, mode: UFFDIO_WRITEPROTECT_MODE_WP });
  for (let page = 0; page < pages; page++) copyPage(page);
  verify();

  const reports: RoundReport[] = [];
  for (let round = 1; round <= rounds; round++) {
    // The workload: a few writes at random places.
    const written = new Set<number>();
    for (let n = random(pages / 2) + 1; n > 0; n--) {
      const page = random(pages);
      written.add(page);
      mm.access(base + page * PAGE_SIZE + random(PAGE_SIZE), AccessKind.Write, random(255) + 1);
    }
    // Dirty pages: the ones whose protection the writes cleared. Re-protect them, then copy them.
    const dirty: number[] = [];
    for (let page = 0; page < pages; page++) if (!isUffdWpProtected(mm, base + page * PAGE_SIZE)) dirty.push(page);
    for (const page of dirty) uffd.writeProtect({ range: { start: base + page * PAGE_SIZE, len: PAGE_SIZE }, mode: UFFDIO_WRITEPROTECT_MODE_WP });
    for (const page of dirty) copyPage(page);
    verify();
    reports.push({ written: [...written].sort((a, b) => a - b), copied: dirty });
  }
  return reports;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [i, r] of runDirtyTracker().entries()) console.log(`round ${i + 1}: wrote ${r.written.join(',')} copied ${r.copied.join(',')}`);
}
