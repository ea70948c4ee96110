import { expect, it } from 'vitest';
import {
  createKernel, walkPageRange, WalkAction, ptePresent, pmdLeaf,
  AccessKind, MAP_PRIVATE, MAP_ANONYMOUS, MADV_HUGEPAGE, PROT_READ, PROT_WRITE,
  type MmWalkOps,
} from './index.js';

it('the README example counts small and huge pages', () => {
  const kernel = createKernel();
  const mm = kernel.createMm();
  const len = 4 * 1024 * 1024;
  const addr = mm.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  mm.madvise(addr + (2 << 20) - (addr % (2 << 20)), 2 << 20, MADV_HUGEPAGE);
  for (let off = 0; off < len; off += 64 * 1024) mm.access(addr + off, AccessKind.Write, 1);

  interface Rss { small: number; huge: number }
  const rssOps: MmWalkOps<Rss> = {
    pmdEntry(pmd, _addr, _next, walk) {
      if (pmdLeaf(pmd)) {
        walk.state.huge += 512;
        walk.action = WalkAction.Continue;
      }
    },
    pteEntry(pte, _addr, _next, walk) {
      if (ptePresent(pte)) walk.state.small++;
    },
  };
  const rss: Rss = { small: 0, huge: 0 };
  expect(walkPageRange(mm, addr, addr + len, rssOps, rss)).toBe(0);
  // The mapping is not 2 MiB aligned, so one huge page fits inside it; the rest are 4 KiB pages.
  expect(rss.huge).toBe(512);
  expect(rss.small).toBe(64 - 32);
});
