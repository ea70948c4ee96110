/**
 * /proc/pid/clear_refs (fs/proc/task_mmu.c): clearing soft-dirty bits
 * (write-protecting) or young bits.
 */
import { Errno } from './errno.js';
import type { Mm } from './mm.js';
import { forEachEntry } from './pgtable-nav.js';
import { PTE_ACCESSED, PTE_SOFT_DIRTY, PTE_WRITE, ptePresent } from './pgtable.js';
import { isSwapPte, pteSwpClearSoftDirty } from './swapops.js';
import { CLEAR_REFS_ALL, CLEAR_REFS_ANON, CLEAR_REFS_MAPPED, CLEAR_REFS_MM_HIWATER_RSS, CLEAR_REFS_SOFT_DIRTY } from './uapi.js';
import { VM_PFNMAP, VM_SOFTDIRTY, writableVma } from './vma.js';
import { TABLES } from './readonly-pools.js';

/** clear_refs 4: write-protect and clear soft-dirty everywhere (only with CONFIG_MEM_SOFT_DIRTY). */
export function clearSoftDirty(mm: Mm): void {
  for (const vma of mm.vmas.all()) {
    // clear_refs_write: VM_SOFTDIRTY goes first, from every VMA.
    writableVma(vma).flags &= ~VM_SOFTDIRTY;
    if ((vma.flags & VM_PFNMAP) !== 0) continue;
    forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
      const tables = mm.kernel[TABLES];
      if (ptePresent(entry)) tables.entries[slot] = (entry & ~(PTE_WRITE | PTE_SOFT_DIRTY)) >>> 0;
      else if (isSwapPte(entry)) tables.entries[slot] = pteSwpClearSoftDirty(entry);
    });
  }
}

/** clear_refs 1-3: clear the young bits (of anon, file or all VMAs). */
export function clearYoung(mm: Mm, which: number): void {
  for (const vma of mm.vmas.all()) {
    if ((vma.flags & VM_PFNMAP) !== 0) continue;
    if (which === CLEAR_REFS_ANON && !vma.isAnonymous) continue;
    if (which === CLEAR_REFS_MAPPED && vma.isAnonymous) continue;
    forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
      if (ptePresent(entry)) mm.kernel[TABLES].entries[slot] = (entry & ~PTE_ACCESSED) >>> 0;
    });
  }
}

/** Writes `value` to /proc/pid/clear_refs. */
export function clearRefs(mm: Mm, value: number): number {
  if (!mm.isLive) return -Errno.ESRCH;
  if (!Number.isSafeInteger(value) || value < CLEAR_REFS_ALL || value > CLEAR_REFS_MM_HIWATER_RSS) return -Errno.EINVAL;
  if (value === CLEAR_REFS_MM_HIWATER_RSS) return 0;
  if (!mm.lock.tryWriteLock()) return -Errno.EDEADLK;
  try {
    if (value === CLEAR_REFS_SOFT_DIRTY) {
      if (mm.kernel.profile.softDirty) clearSoftDirty(mm);
    } else {
      clearYoung(mm, value);
    }
    return 0;
  } finally {
    mm.lock.writeUnlock();
  }
}
