/**
 * make_device_exclusive (mm/rmap.c): give a device exclusive (atomic)
 * access to one anonymous page. The page is faulted in writable, then its
 * PTE becomes a device-exclusive entry that still counts as a mapping of
 * the page; the next CPU access restores the PTE (the core's fault path),
 * revoking the device's access.
 */
import {
  Errno,
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  PAGE_SIZE,
  PG_ANON,
  PG_DIRTY,
  PG_HUGETLB,
  VM_FAULT_ERROR,
  VM_WRITE,
  isTableEntry,
  makeDeviceExclusiveEntry,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteDirty,
  pteSoftDirty,
  pteSpecial,
  pteSwpMksoftDirty,
  pteWrite,
  type Mm,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { framesOf, handleMmFault, splitHugePmd, tablesOf } = claimMmInternal();

/** The page made exclusive and the slot of its device-exclusive entry, or -errno. */
export type DeviceExclusiveResult = { page: number; slot: number } | number;

/**
 * make_device_exclusive(mm, addr). Returns the page and the PTE slot, or
 * -EFAULT (no VMA, no write permission, fault failure) or -EOPNOTSUPP (not
 * an anonymous, non-hugetlb page). The mmap lock must be held (it is taken
 * for the call when nothing is held).
 */
export function makeDeviceExclusive(mm: Mm, address: number): DeviceExclusiveResult {
  const addr = address - (address % PAGE_SIZE);
  const kernel = mm.kernel;
  const tables = tablesOf(kernel);
  const frames = framesOf(kernel);
  const takeLock = !mm.lock.held;
  if (takeLock) mm.lock.readLock();
  try {
    // get_user_page_vma_remote(FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD).
    for (let attempt = 0; attempt < 16; attempt++) {
      const vma = mm.vmas.lookup(addr);
      if (vma === null || (vma.flags & VM_WRITE) === 0) return -Errno.EFAULT;
      const pmdSlot = mm.pmdSlot(addr, false);
      const pmd = pmdSlot < 0 ? 0 : tables.entries[pmdSlot]!;
      if (pmdLeaf(pmd)) {
        if (vma.isHugetlb) {
          if (!pteWrite(pmd)) {
            if (handleMmFault(mm, vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE) & VM_FAULT_ERROR) return -Errno.EFAULT;
            continue;
          }
          return frames.has(ptePfn(pmd), PG_HUGETLB) ? -Errno.EOPNOTSUPP : -Errno.EFAULT;
        }
        if (pteWrite(pmd)) {
          splitHugePmd(mm, vma, pmdSlot, addr);
          continue;
        }
      }
      const slot = isTableEntry(pmd) ? mm.pteSlot(addr, false) : -1;
      const pte = slot < 0 ? 0 : tables.entries[slot]!;
      if (!ptePresent(pte) || !pteWrite(pte) || pteSpecial(pte)) {
        if (handleMmFault(mm, vma, addr, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE) & VM_FAULT_ERROR) return -Errno.EFAULT;
        continue;
      }
      const page = ptePfn(pte);
      const folio = frames.folioOf(page);
      if (!frames.has(folio, PG_ANON) || frames.has(folio, PG_HUGETLB)) return -Errno.EOPNOTSUPP;
      if (pteDirty(pte)) frames.set(folio, PG_DIRTY);
      let entry = makeDeviceExclusiveEntry(page);
      if (pteSoftDirty(pte)) entry = pteSwpMksoftDirty(entry);
      tables.entries[slot] = entry >>> 0;
      return { page, slot };
    }
    return -Errno.EFAULT;
  } finally {
    if (takeLock) mm.lock.readUnlock();
  }
}
