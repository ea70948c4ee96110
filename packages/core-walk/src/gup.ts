/**
 * Faulting pages in on behalf of a system call (mm/gup.c): __mm_populate
 * for mlock and MAP_POPULATE, and the get_user_pages-style loop that
 * MADV_POPULATE_* and mm-internal callers use.
 */
import { Errno } from './errno.js';
import { PAGE_SIZE } from './geometry.js';
import { handleMmFault } from './memory.js';
import type { Mm } from './mm.js';
import { ptePresent, pteWrite } from './pgtable.js';
import { FAULT_FLAG_FORCE, FAULT_FLAG_WRITE, VM_FAULT_HWPOISON, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV } from './uapi.js';
import { VM_LOCKONFAULT, VM_SHARED, VM_WRITE, type Vma } from './vma.js';

/**
 * Faults in every page of [start, end) of one VMA as get_user_pages does:
 * a page already mapped with the needed access is left alone. Returns 0 or
 * -EFAULT (SIGSEGV/SIGBUS), -ENOMEM (OOM), -EHWPOISON.
 */
export function populateRange(mm: Mm, vma: Vma, start: number, end: number, write: boolean, force: boolean): number {
  const flags = (write ? FAULT_FLAG_WRITE : 0) | (force ? FAULT_FLAG_FORCE : 0);
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    for (let attempt = 0; ; attempt++) {
      const entry = mm.leafEntry(addr);
      if (ptePresent(entry) && (!write || pteWrite(entry))) break;
      if (attempt >= 8) return -Errno.EFAULT;
      const fault = handleMmFault(mm, vma, addr, flags);
      if (fault & VM_FAULT_OOM) {
        mm.faultOom = true; // the caller runs the OOM killer once its locks are dropped
        return -Errno.ENOMEM;
      }
      if (fault & VM_FAULT_HWPOISON) return -Errno.EHWPOISON;
      if (fault & (VM_FAULT_SIGSEGV | VM_FAULT_SIGBUS)) return -Errno.EFAULT;
    }
  }
  return 0;
}

/**
 * __mm_populate: faults in [addr, addr+len) as mlock/MAP_POPULATE do.
 * With `ignoreErrors` (MAP_POPULATE) failures are skipped per VMA.
 */
export function mmPopulate(mm: Mm, addr: number, len: number, ignoreErrors: boolean): number {
  const end = addr + len;
  let cursor = addr;
  if (!mm.lock.tryReadLock()) return -Errno.EDEADLK;
  try {
    while (cursor < end) {
      const vma = mm.vmas.findIntersection(cursor, end);
      if (vma === null) break;
      const to = Math.min(end, vma.end);
      const from = Math.max(cursor, vma.start);
      cursor = to;
      if (vma.isPfnMap || (vma.flags & VM_LOCKONFAULT) !== 0) continue;
      let result: number;
      if (!vma.isAccessible) {
        result = -Errno.EFAULT;
      } else {
        const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
        result = populateRange(mm, vma, from, to, write, !write);
      }
      if (result < 0 && !ignoreErrors) return result;
    }
    return 0;
  } finally {
    mm.lock.readUnlock();
  }
}
