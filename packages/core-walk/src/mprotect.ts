/**
 * mprotect(2) (mm/mprotect.c): the per-VMA fixup with its splits and
 * commit charge, and change_protection over the page tables.
 */
import { Errno } from './errno.js';
import { isPageAligned, isPmdAligned, PAGE_SIZE, pageAlignUp } from './geometry.js';
import type { Mm } from './mm.js';
import { calcVmProtBits, validUserRange } from './mmap.js';
import { forEachEntry } from './pgtable-nav.js';
import { PTE_WRITE, ptePresent } from './pgtable.js';
import {
  isWritableDevicePrivateEntry,
  isWritableMigrationEntry,
  makeDevicePrivateEntry,
  makeMigrationEntry,
  pteSwpMkuffdWp,
  pteSwpUffdWp,
  swpOffset,
} from './swapops.js';
import { PROT_VALID } from './uapi.js';
import { VM_ACCOUNT, VM_EXEC, VM_HUGETLB, VM_MAYWRITE, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE, type Vma, VMAS } from './vma.js';
import { TABLES } from './readonly-pools.js';

/**
 * change_protection after mprotect: removing write permission
 * write-protects present entries (and downgrades writable migration
 * entries). Adding it changes nothing in the tables: the next write takes
 * a write fault, which reuses the page (the kernel may upgrade eagerly; the
 * outcome of every access is the same). uffd-wp bits and markers stay.
 */
export function changeProtection(mm: Mm, vma: Vma, start: number, end: number, oldFlags: number): void {
  if (vma.flags === oldFlags) return;
  if ((vma.flags & VM_WRITE) !== 0 || (oldFlags & VM_WRITE) === 0) return;
  forEachEntry(mm, start, end, (slot, entry) => {
    const tables = mm.kernel[TABLES];
    if (ptePresent(entry)) tables.entries[slot] = (entry & ~PTE_WRITE) >>> 0;
    else if (isWritableMigrationEntry(entry)) tables.entries[slot] = makeMigrationEntry(swpOffset(entry), false);
    else if (isWritableDevicePrivateEntry(entry)) {
      // A writable device-private entry becomes the readable kind (soft-dirty is not kept).
      const readable = makeDevicePrivateEntry(swpOffset(entry), false);
      tables.entries[slot] = pteSwpUffdWp(entry) ? pteSwpMkuffdWp(readable) : readable;
    }
  });
}

/** mprotect(2). */
export function sysMprotect(mm: Mm, addr: number, length: number, prot: number): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length) || !Number.isSafeInteger(prot)) return -Errno.EINVAL;
  if (!isPageAligned(addr)) return -Errno.EINVAL;
  if ((prot & ~PROT_VALID) !== 0) return -Errno.EINVAL;
  const len = pageAlignUp(length);
  if (len === 0) return 0;
  const end = addr + len;
  if (end > mm.geometry.taskSize) return -Errno.ENOMEM;
  if (!mm.lock.tryWriteLock()) return -Errno.EDEADLK;
  try {
    const first = mm.vmas.find(addr);
    if (first === null || first.start >= end) return -Errno.ENOMEM;
    if (first.start > addr) return -Errno.ENOMEM;
    const newBits = calcVmProtBits(prot);
    let cursor = addr;
    let error = 0;
    for (const vma of mm.vmas.range(addr, end)) {
      if (vma.start > cursor) {
        error = -Errno.ENOMEM;
        break;
      }
      if ((newBits & VM_WRITE) !== 0 && (vma.flags & VM_MAYWRITE) === 0) {
        error = -Errno.EACCES;
        break;
      }
      const from = Math.max(vma.start, addr);
      const to = Math.min(vma.end, end);
      // mprotect_fixup: flags that do not change need no split (so a
      // hugetlb VMA takes any range then) and no page-table change.
      if ((vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === newBits) {
        cursor = to;
        continue;
      }
      if (vma.isHugetlb && ((addr > vma.start && !isPmdAligned(addr)) || (end < vma.end && !isPmdAligned(end)))) {
        error = -Errno.EINVAL;
        break;
      }
      // mprotect_fixup: private memory becoming writable is charged now.
      if ((newBits & VM_WRITE) !== 0 && (vma.flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) === 0) {
        if (!mm.kernel.vmEnoughMemory((to - from) / PAGE_SIZE)) {
          error = -Errno.ENOMEM;
          break;
        }
        const inside = mm[VMAS].splitRange(from, to);
        for (const piece of inside) piece.flags |= VM_ACCOUNT;
      }
      const inside = mm[VMAS].splitRange(from, to);
      for (const piece of inside) {
        const oldFlags = piece.flags;
        piece.flags = (piece.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | newBits;
        changeProtection(mm, piece, piece.start, piece.end, oldFlags);
      }
      cursor = to;
    }
    if (error === 0 && cursor < end) error = -Errno.ENOMEM;
    mm[VMAS].mergeAround(addr, end);
    return error;
  } finally {
    mm.lock.writeUnlock();
  }
}
