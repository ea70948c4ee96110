/**
 * The OOM killer's per-process side (mm/oom_kill.c): running it after a
 * fault found no free frame, and oom_badness.
 */
import { PAGE_SIZE, PMD_SIZE, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import { isTableEntry, pmdLeaf, PTE_SPECIAL, ptePresent } from './pgtable.js';
import { isRealSwapEntry } from './swapops.js';
import { pteTableBase } from './pgtable-nav.js';

/**
 * Runs the OOM killer after a fault of this process found no free frame
 * (outside any lock of this mm). Returns true when another process was
 * killed (retry), false when this one was or nothing could be freed.
 */
export function outOfMemory(mm: Mm): boolean {
  mm.faultOom = false;
  const victim = mm.kernel.oomKill();
  return victim !== null && victim !== mm;
}

/** oom_badness: resident pages (a huge mapping counts all its pages) plus swapped-out ones. */
export function oomBadness(mm: Mm): number {
  if (!mm.isLive) return 0;
  // Read-only counting: pmdSlot(addr, false) allocates nothing, so the view stays current.
  // eslint-disable-next-line no-restricted-syntax
  const entries = mm.kernel.tables.entries;
  let points = 0;
  for (const vma of mm.vmas.all()) {
    for (let addr = vma.start; addr < vma.end; ) {
      const next = Math.min(vma.end, Math.floor(addr / PMD_SIZE) * PMD_SIZE + PMD_SIZE);
      const pmdSlot = mm.pmdSlot(addr, false);
      if (pmdSlot >= 0) {
        const pmd = entries[pmdSlot]!;
        if (pmdLeaf(pmd)) {
          if ((pmd & PTE_SPECIAL) === 0) points += (next - addr) / PAGE_SIZE;
        } else if (isTableEntry(pmd)) {
          const base = pteTableBase(pmd);
          for (let a = addr; a < next; a += PAGE_SIZE) {
            const pte = entries[base + tableIndex(a, 12)]!;
            if ((ptePresent(pte) && (pte & PTE_SPECIAL) === 0) || isRealSwapEntry(pte)) points++;
          }
        }
      }
      addr = next;
    }
  }
  return points;
}
