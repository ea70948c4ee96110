/**
 * mlock(2), mlock2(2) and munlock(2) (mm/mlock.c): VM_LOCKED flag changes
 * VMA by VMA; populating is gup.ts's __mm_populate.
 */
import { Errno } from './errno.js';
import { PAGE_SIZE, pageAlignUp } from './geometry.js';
import type { Mm } from './mm.js';
import { validUserRange } from './mmap.js';
import { MLOCK_ONFAULT } from './uapi.js';
import { VM_LOCKED, VM_LOCKED_MASK, VM_LOCKONFAULT, VM_SPECIAL, VMAS } from './vma.js';

/** mlock(2) / mlock2(2) with MLOCK_ONFAULT. */
export function sysMlock(mm: Mm, addr: number, length: number, flags = 0): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length) || (flags & ~MLOCK_ONFAULT) !== 0) return -Errno.EINVAL;
  const start = addr - (addr % PAGE_SIZE);
  const len = pageAlignUp(length + (addr % PAGE_SIZE));
  if (len === 0) return 0;
  const end = start + len;
  if (end > mm.geometry.taskSize) return -Errno.ENOMEM;
  const lockFlags = VM_LOCKED | (flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : 0);
  const error = applyVmaLockFlags(mm, start, end, lockFlags);
  if (error) return error;
  let populated = mm.mmPopulate(start, len, false);
  while (mm.faultOom && mm.outOfMemory()) populated = mm.mmPopulate(start, len, false);
  // __mlock_posix_error_return: EFAULT → ENOMEM, ENOMEM → EAGAIN.
  if (populated === -Errno.EFAULT) return -Errno.ENOMEM;
  if (populated === -Errno.ENOMEM) return -Errno.EAGAIN;
  return populated;
}

/** munlock(2). */
export function sysMunlock(mm: Mm, addr: number, length: number): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length)) return -Errno.EINVAL;
  const start = addr - (addr % PAGE_SIZE);
  const len = pageAlignUp(length + (addr % PAGE_SIZE));
  if (len === 0) return 0;
  const end = start + len;
  if (end > mm.geometry.taskSize) return -Errno.ENOMEM;
  return applyVmaLockFlags(mm, start, end, 0);
}

function applyVmaLockFlags(mm: Mm, start: number, end: number, lockFlags: number): number {
  if (!mm.lock.tryWriteLock()) return -Errno.EDEADLK;
  try {
    const first = mm.vmas.find(start);
    if (first === null || first.start > start) return -Errno.ENOMEM;
    let cursor = start;
    for (const vma of mm.vmas.range(start, end)) {
      if (vma.start > cursor) return -Errno.ENOMEM;
      const from = Math.max(vma.start, start);
      const to = Math.min(vma.end, end);
      // mlock_fixup leaves hugetlb and special VMAs alone (never VM_LOCKED),
      // and a VMA whose flags do not change: neither is split.
      if (vma.isHugetlb || (vma.flags & VM_SPECIAL) !== 0 || (vma.flags & VM_LOCKED_MASK) === lockFlags) {
        cursor = to;
        continue;
      }
      for (const piece of mm[VMAS].splitRange(from, to)) {
        piece.flags = (piece.flags & ~VM_LOCKED_MASK) | lockFlags;
      }
      cursor = to;
      mm[VMAS].mergeAround(start, end);
    }
    if (cursor < end) return -Errno.ENOMEM;
    return 0;
  } finally {
    if (mm.lock.writer) mm.lock.writeUnlock();
  }
}
