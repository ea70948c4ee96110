/**
 * mmap(2), munmap(2) and exit_mmap (mm/mmap.c, mm/vma.c): argument checks,
 * the unmapped-area search, VMA creation and the unmap path.
 */
import { Errno } from './errno.js';
import { HPAGE_PMD_NR, isPageAligned, isPmdAligned, PAGE_SIZE, pageAlignUp, PMD_SIZE } from './geometry.js';
import type { Mm } from './mm.js';
import type { ShmemFile } from './shmem.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_SHARED_VALIDATE_OK,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_VALID,
  PROT_WRITE,
} from './uapi.js';
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_WRITE,
  Vma,
  VMAS,
} from './vma.js';
import { freePgtables, ZAP_DROP_MARKER, zapVmaRange } from './zap.js';

/** VM flag bits from PROT_* bits (calc_vm_prot_bits). */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/** Where get_unmapped_area() starts searching downwards (x86-64 legacy-free layout, no ASLR). */
const MMAP_BASE_4LEVEL = 0x7f0000000000;

export function validUserRange(addr: number, length: number): boolean {
  return Number.isSafeInteger(addr) && Number.isSafeInteger(length) && addr >= 0 && length >= 0;
}

/**
 * mmap(2). Returns the mapped address, or -errno. `file` is a shmem/memfd
 * file for file mappings (then MAP_ANONYMOUS must not be set).
 */
export function sysMmap(mm: Mm, addr: number, length: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(prot) || !Number.isSafeInteger(flags)) return -Errno.EINVAL;
  if (offset < 0 || offset % PAGE_SIZE !== 0) return -Errno.EINVAL;
  // Called from inside a walk or fault on mm mm (the lock is held): the kernel would deadlock.
  if (mm.lock.held) return -Errno.EDEADLK;
  if (length === 0) return -Errno.EINVAL;
  if ((prot & ~PROT_VALID) !== 0) return -Errno.EINVAL;
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -Errno.EINVAL;
  const shared = type !== MAP_PRIVATE;
  const anonymous = (flags & MAP_ANONYMOUS) !== 0;
  if (anonymous && file !== null) file = null;
  if (!anonymous && file === null) return -Errno.EBADF;
  const hugetlb = (flags & MAP_HUGETLB) !== 0 || (file !== null && file.hugetlb);
  if (hugetlb && file !== null && !file.hugetlb) return -Errno.EINVAL;
  const unit = hugetlb ? PMD_SIZE : PAGE_SIZE;
  const len = Math.ceil(length / unit) * unit;
  if (len > mm.geometry.taskSize) return -Errno.ENOMEM;
  if (!anonymous && offset / PAGE_SIZE + len / PAGE_SIZE > 2 ** 52) return -Errno.EOVERFLOW;
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed) {
    if (addr % PAGE_SIZE !== 0) return -Errno.EINVAL;
    if (hugetlb && addr % PMD_SIZE !== 0) return -Errno.EINVAL;
    if (addr + len > mm.geometry.taskSize) return -Errno.ENOMEM;
    if (addr < mm.geometry.mmapMinAddr) return -Errno.EPERM;
    if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !mm.vmas.isFree(addr, addr + len)) return -Errno.EEXIST;
  } else {
    const found = mm.getUnmappedArea(addr, len, unit);
    if (found < 0) return found;
    addr = found;
  }
  if (type === MAP_SHARED_VALIDATE) {
    // Anonymous memory knows only MAP_SHARED and MAP_PRIVATE; a file
    // refuses every flag it does not know (0x03 is a validated request).
    if (anonymous) return -Errno.EINVAL;
    if ((flags & ~MAP_SHARED_VALIDATE_OK) !== 0) return -Errno.EOPNOTSUPP;
  }
  let vmFlags = calcVmProtBits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (shared) vmFlags |= VM_SHARED | VM_MAYSHARE;
  if (mm.kernel.profile.softDirty) vmFlags |= VM_SOFTDIRTY;
  // MAP_NORESERVE opts out of the commit charge, except under overcommit "never".
  if (!hugetlb && (flags & MAP_NORESERVE) !== 0 && mm.kernel.profile.overcommit !== 'never') vmFlags |= VM_NORESERVE;
  // accountable_mapping: private writable memory is charged against the commit limit.
  const charged = !hugetlb && (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE ? len / PAGE_SIZE : 0;
  if (hugetlb) {
    vmFlags |= VM_HUGETLB;
    const needed = len / PMD_SIZE;
    if ((flags & MAP_NORESERVE) === 0) {
      if (needed > mm.kernel.hugetlbFree) return -Errno.ENOMEM;
      mm.kernel.hugetlbFree -= needed;
    } else {
      vmFlags |= VM_NORESERVE;
    }
  }
  if (charged > 0) {
    if (!mm.kernel.vmEnoughMemory(charged)) return -Errno.ENOMEM;
    vmFlags |= VM_ACCOUNT;
  }
  mm.lock.writeLock();
  try {
    if ((flags & MAP_FIXED) !== 0 && (flags & MAP_FIXED_NOREPLACE) === 0) unmapRegion(mm, addr, addr + len);
    let backing = file;
    let pgoff = anonymous ? addr / PAGE_SIZE : offset / PAGE_SIZE;
    if (anonymous && shared) {
      // Shared anonymous memory is a shmem file ("/dev/zero").
      const made = mm.kernel.memfdCreate('dev/zero', len, { hugetlb });
      if (typeof made === 'number') return made;
      made.open = false;
      backing = made;
      pgoff = 0;
    }
    const vma = new Vma(addr, addr + len, vmFlags, pgoff, backing);
    mm[VMAS].insert(vma);
    if (!hugetlb) mm[VMAS].mergeAround(addr, addr + len);
  } finally {
    mm.lock.writeUnlock();
  }
  if ((flags & MAP_POPULATE) !== 0) {
    mm.mmPopulate(addr, len, true);
    // The populate ran out of memory: the OOM killer frees some (maybe mm process), then it goes on.
    while (mm.faultOom && mm.outOfMemory()) mm.mmPopulate(addr, len, true);
  }
  return addr;
}

/** Top-down search for a free range of `len` bytes aligned to `align`, honouring a hint. */
export function getUnmappedArea(mm: Mm, hint: number, len: number, align: number): number {
  const top = Math.min(MMAP_BASE_4LEVEL, mm.geometry.taskSize);
  if (hint !== 0) {
    const start = Math.ceil(hint / align) * align;
    if (start + len <= mm.geometry.taskSize && start >= mm.geometry.mmapMinAddr && mm.vmas.isFree(start, start + len)) return start;
  }
  let end = top;
  const vmas = mm.vmas.all();
  for (let i = vmas.length - 1; i >= -1; i--) {
    const vma = i >= 0 ? vmas[i]! : null;
    const gapStart = vma === null ? mm.geometry.mmapMinAddr : vma.end;
    if (vma !== null && vma.start >= end) continue;
    const candidate = Math.floor((end - len) / align) * align;
    if (candidate >= gapStart && candidate >= mm.geometry.mmapMinAddr) return candidate;
    if (vma !== null) end = Math.min(end, vma.start);
  }
  return -Errno.ENOMEM;
}

/** munmap(2). */
export function sysMunmap(mm: Mm, addr: number, length: number): number {
  if (!mm.isLive) return -Errno.EINVAL;
  if (!validUserRange(addr, length)) return -Errno.EINVAL;
  if (!isPageAligned(addr)) return -Errno.EINVAL;
  const len = pageAlignUp(length);
  if (len === 0 || addr + len > mm.geometry.taskSize) return -Errno.EINVAL;
  if (!mm.lock.tryWriteLock()) return -Errno.EDEADLK;
  try {
    return unmapRegion(mm, addr, addr + len);
  } finally {
    mm.lock.writeUnlock();
  }
}

/** do_vmi_munmap: split, zap (dropping markers), free tables, remove VMAs (mm-internal). */
export function unmapRegion(mm: Mm, start: number, end: number): number {
  for (const vma of mm.vmas.range(start, end)) {
    // hugetlb VMAs can only be split on huge-page boundaries.
    if (vma.isHugetlb && ((start > vma.start && !isPmdAligned(start)) || (end < vma.end && !isPmdAligned(end)))) {
      return -Errno.EINVAL;
    }
  }
  const victims = mm[VMAS].splitRange(start, end);
  if (victims.length === 0) return 0;
  for (const vma of victims) zapVmaRange(mm, vma, vma.start, vma.end, ZAP_DROP_MARKER);
  const prev = mm.vmas.prevOf(victims[0]!);
  const next = mm.vmas.nextOf(victims[victims.length - 1]!);
  for (const vma of victims) {
    mm[VMAS].remove(vma);
    if (vma.isHugetlb && (vma.flags & VM_NORESERVE) === 0) mm.kernel.hugetlbFree += vma.pages / HPAGE_PMD_NR;
    if ((vma.flags & VM_ACCOUNT) !== 0) mm.kernel.vmUnacctMemory(vma.pages);
  }
  freePgtables(mm, victims[0]!.start, victims[victims.length - 1]!.end, prev?.end ?? 0, next?.start ?? 0);
  for (const vma of victims) if (vma.file !== null) mm.kernel.releaseFileIfUnused(vma.file);
  return 0;
}

/** exit_mmap(): unmaps everything and frees the page tables. */
export function exitMmap(mm: Mm): void {
  mm.lock.writeLock();
  try {
    for (const vma of [...mm.vmas.all()]) {
      zapVmaRange(mm, vma, vma.start, vma.end, ZAP_DROP_MARKER);
      mm[VMAS].remove(vma);
      if (vma.isHugetlb && (vma.flags & VM_NORESERVE) === 0) mm.kernel.hugetlbFree += vma.pages / HPAGE_PMD_NR;
      if ((vma.flags & VM_ACCOUNT) !== 0) mm.kernel.vmUnacctMemory(vma.pages);
    }
    freePgtables(mm, 0, mm.geometry.taskSize + PAGE_SIZE, 0, 0);
  } finally {
    mm.lock.writeUnlock();
  }
}
