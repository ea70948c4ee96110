/**
 * One process address space (struct mm_struct): its VMAs, its page tables
 * and the system calls that change them, with the kernel's semantics and
 * errno values. Fault handling lives in fault.ts, zapping in zap.ts,
 * madvise in madvise.ts; this class is the public face of all of them.
 */
import { Errno, SIGBUS, SIGKILL, SIGSEGV } from './errno.js';
import {
  HPAGE_PMD_NR,
  P4D_SHIFT,
  PAGE_SIZE,
  PMD_SHIFT,
  PMD_SIZE,
  PTRS_PER_TABLE,
  PUD_SHIFT,
  isPageAligned,
  isPmdAligned,
  pageAlignUp,
  tableIndex,
  type PagingGeometry,
} from './geometry.js';
import { MmapLock } from './locks.js';
import {
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  isTableEntry,
  mkTableEntry,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteWrite,
  tableIdOf,
} from './pgtable.js';
import type { Kernel } from './kernel.js';
import type { ShmemFile } from './shmem.js';
import {
  AccessKind,
  CLEAR_REFS_ALL,
  CLEAR_REFS_MM_HIWATER_RSS,
  CLEAR_REFS_SOFT_DIRTY,
  FAULT_FLAG_WRITE,
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
  MLOCK_ONFAULT,
  PROT_EXEC,
  PROT_READ,
  PROT_VALID,
  PROT_WRITE,
  VM_FAULT_ERROR,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
} from './uapi.js';
import { isRealSwapEntry } from './swapops.js';
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_LOCKONFAULT,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_SPECIAL,
  VM_WRITE,
  Vma,
  VmaList,
  type AnonVma,
} from './vma.js';
import { handleMmFault, splitHugePmd } from './fault.js';
import { freePgtables, zapVmaRange, ZAP_DROP_MARKER } from './zap.js';
import { mremap } from './mremap.js';
import { PagewalkArgumentError } from './friendly.js';
import { doMadvise, populateRange } from './madvise.js';
import { forkMm } from './fork.js';
import { changeProtection, clearSoftDirty, clearYoung, splitPartialHugePmd } from './mprotect.js';

let nextMmId = 1;
let nextAnonVmaId = 1;

/** Where get_unmapped_area() starts searching downwards (x86-64 legacy-free layout, no ASLR). */
const MMAP_BASE_4LEVEL = 0x7f0000000000;

export class Mm {
  readonly id = nextMmId++;
  readonly geometry: PagingGeometry;
  /** Table id of the top-level table. */
  readonly pgd: number;
  readonly vmas: VmaList = new VmaList(this);
  readonly lock = new MmapLock();
  /** MMF_HAS_PINNED: some page of this mm was ever pinned (affects fork and clear_refs). */
  hasPinned = false;
  /** The OOM killer chose this process (it has exited; its accesses ended in SIGKILL). */
  killed = false;
  /** A fault of the current call found no free frame (VM_FAULT_OOM); the caller runs the OOM killer. */
  faultOom = false;
  private exited = false;

  constructor(readonly kernel: Kernel) {
    this.geometry = kernel.geometry;
    this.pgd = kernel.tables.alloc();
    this.vmas.onSplit = (vma, addr) => splitPartialHugePmd(this, vma, addr);
  }

  get isLive(): boolean {
    return !this.exited;
  }

  /* ------------------------------------------------------ table helpers */

  /** Slot of the PGD entry for addr. */
  pgdSlot(addr: number): number {
    return this.pgd * PTRS_PER_TABLE + tableIndex(addr, this.geometry.pgdShift);
  }

  /** Allocates a table below the (empty) entry at `slot`. Returns 0 or -ENOMEM. */
  allocTableAt(slot: number): number {
    const tables = this.kernel.tables;
    if (tables.entries[slot] !== 0) return 0;
    const id = tables.alloc();
    tables.entries[slot] = mkTableEntry(id);
    return 0;
  }

  /** Slot of the PUD entry for addr, or -1 when a table above is missing and `alloc` is false. */
  pudSlot(addr: number, alloc: boolean): number {
    const tables = this.kernel.tables;
    let slot = this.pgdSlot(addr);
    if (this.geometry.levels === 5) {
      if (tables.entries[slot] === 0) {
        if (!alloc) return -1;
        this.allocTableAt(slot);
      }
      slot = tableIdOf(tables.entries[slot]!) * PTRS_PER_TABLE + tableIndex(addr, P4D_SHIFT);
    }
    if (tables.entries[slot] === 0) {
      if (!alloc) return -1;
      this.allocTableAt(slot);
    }
    return tableIdOf(tables.entries[slot]!) * PTRS_PER_TABLE + tableIndex(addr, PUD_SHIFT);
  }

  /** Slot of the PMD entry for addr, or -1 when a table above is missing and `alloc` is false. */
  pmdSlot(addr: number, alloc: boolean): number {
    const tables = this.kernel.tables;
    const pudSlot = this.pudSlot(addr, alloc);
    if (pudSlot < 0) return -1;
    const pud = tables.entries[pudSlot]!;
    if (pud === 0) {
      if (!alloc) return -1;
      this.allocTableAt(pudSlot);
    } else if (!isTableEntry(pud)) {
      return -1;
    }
    return tableIdOf(tables.entries[pudSlot]!) * PTRS_PER_TABLE + tableIndex(addr, PMD_SHIFT);
  }

  /** The PMD slot for a hugetlb page at addr: present whenever the PUD table exists (hugetlb_walk). */
  pmdSlotIfTable(addr: number): number {
    return this.pmdSlot(addr, false);
  }

  /**
   * Slot of the PTE for addr, or -1 when there is no PTE table (a table is
   * missing and `alloc` is false, or the PMD is a huge / non-present leaf).
   */
  pteSlot(addr: number, alloc: boolean): number {
    const tables = this.kernel.tables;
    const pmdSlot = this.pmdSlot(addr, alloc);
    if (pmdSlot < 0) return -1;
    const pmd = tables.entries[pmdSlot]!;
    if (pmd === 0) {
      if (!alloc) return -1;
      this.allocTableAt(pmdSlot);
    } else if (!isTableEntry(pmd)) {
      return -1;
    }
    return tableIdOf(tables.entries[pmdSlot]!) * PTRS_PER_TABLE + tableIndex(addr, 12);
  }

  /** The entry mapping addr: its PTE, or the PMD when that is a leaf or non-present; 0 if none. */
  leafEntry(addr: number): number {
    const pmdSlot = this.pmdSlot(addr, false);
    if (pmdSlot < 0) return 0;
    // eslint-disable-next-line no-restricted-syntax -- two reads, nothing allocates between them
    const entries = this.kernel.tables.entries;
    const pmd = entries[pmdSlot]!;
    if (!isTableEntry(pmd)) return pmd;
    return entries[tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, 12)]!;
  }

  /** The entry mapping addr at whatever level it lives (PTE, or a PMD leaf / entry), 0 if none. */
  entryAt(addr: number): { level: 'pte' | 'pmd'; entry: number } {
    const pmdSlot = this.pmdSlot(addr, false);
    if (pmdSlot < 0) return { level: 'pmd', entry: 0 };
    const pmd = this.kernel.tables.entries[pmdSlot]!;
    if (!isTableEntry(pmd)) return { level: 'pmd', entry: pmd };
    const slot = this.pteSlot(addr, false);
    return { level: 'pte', entry: this.kernel.tables.entries[slot]! };
  }

  /** Splits the huge (or non-present) PMD at `slot` into a PTE table (split_huge_pmd). */
  splitHugePmd(vma: Vma, slot: number, addr: number): void {
    splitHugePmd(this, vma, slot, addr);
  }

  /** A new anon_vma for a VMA (anon_vma_prepare). */
  anonVmaPrepare(vma: Vma, root?: AnonVma): AnonVma {
    if (vma.anonVma !== null) return vma.anonVma;
    const id = nextAnonVmaId++;
    const anonVma: AnonVma = root === undefined ? ({ id, get root() { return anonVma; } } as AnonVma) : { id, root };
    vma.anonVma = anonVma;
    return anonVma;
  }

  /** VM flag bits from PROT_* bits (calc_vm_prot_bits). */
  static protToVmFlags(prot: number): number {
    return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
  }

  private checkRange(addr: number, length: number): boolean {
    return Number.isSafeInteger(addr) && Number.isSafeInteger(length) && addr >= 0 && length >= 0;
  }

  /* ------------------------------------------------------------- mmap */

  /**
   * mmap(2). Returns the mapped address, or -errno. `file` is a shmem/memfd
   * file for file mappings (then MAP_ANONYMOUS must not be set).
   */
  mmap(addr: number, length: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(prot) || !Number.isSafeInteger(flags)) return -Errno.EINVAL;
    if (offset < 0 || offset % PAGE_SIZE !== 0) return -Errno.EINVAL;
    // Called from inside a walk or fault on this mm (the lock is held): the kernel would deadlock.
    if (this.lock.held) return -Errno.EDEADLK;
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
    if (len > this.geometry.taskSize) return -Errno.ENOMEM;
    if (!anonymous && offset / PAGE_SIZE + len / PAGE_SIZE > 2 ** 52) return -Errno.EOVERFLOW;
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    if (fixed) {
      if (addr % PAGE_SIZE !== 0) return -Errno.EINVAL;
      if (hugetlb && addr % PMD_SIZE !== 0) return -Errno.EINVAL;
      if (addr + len > this.geometry.taskSize) return -Errno.ENOMEM;
      if (addr < this.geometry.mmapMinAddr) return -Errno.EPERM;
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && !this.vmas.isFree(addr, addr + len)) return -Errno.EEXIST;
    } else {
      const found = this.getUnmappedArea(addr, len, unit);
      if (found < 0) return found;
      addr = found;
    }
    if (type === MAP_SHARED_VALIDATE) {
      // Anonymous memory knows only MAP_SHARED and MAP_PRIVATE; a file
      // refuses every flag it does not know (0x03 is a validated request).
      if (anonymous) return -Errno.EINVAL;
      if ((flags & ~MAP_SHARED_VALIDATE_OK) !== 0) return -Errno.EOPNOTSUPP;
    }
    let vmFlags = Mm.protToVmFlags(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (shared) vmFlags |= VM_SHARED | VM_MAYSHARE;
    if (this.kernel.profile.softDirty) vmFlags |= VM_SOFTDIRTY;
    // MAP_NORESERVE opts out of the commit charge, except under overcommit "never".
    if (!hugetlb && (flags & MAP_NORESERVE) !== 0 && this.kernel.profile.overcommit !== 'never') vmFlags |= VM_NORESERVE;
    // accountable_mapping: private writable memory is charged against the commit limit.
    const charged = !hugetlb && (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE ? len / PAGE_SIZE : 0;
    if (hugetlb) {
      vmFlags |= VM_HUGETLB;
      const needed = len / PMD_SIZE;
      if ((flags & MAP_NORESERVE) === 0) {
        if (needed > this.kernel.hugetlbFree) return -Errno.ENOMEM;
        this.kernel.hugetlbFree -= needed;
      } else {
        vmFlags |= VM_NORESERVE;
      }
    }
    if (charged > 0) {
      if (!this.kernel.vmEnoughMemory(charged)) return -Errno.ENOMEM;
      vmFlags |= VM_ACCOUNT;
    }
    this.lock.writeLock();
    try {
      if ((flags & MAP_FIXED) !== 0 && (flags & MAP_FIXED_NOREPLACE) === 0) this.unmapRegion(addr, addr + len);
      let backing = file;
      let pgoff = anonymous ? addr / PAGE_SIZE : offset / PAGE_SIZE;
      if (anonymous && shared) {
        // Shared anonymous memory is a shmem file ("/dev/zero").
        const made = this.kernel.memfdCreate('dev/zero', len, { hugetlb });
        if (typeof made === 'number') return made;
        made.open = false;
        backing = made;
        pgoff = 0;
      }
      const vma = new Vma(addr, addr + len, vmFlags, pgoff, backing);
      this.vmas.insert(vma);
      if (!hugetlb) this.vmas.mergeAround(addr, addr + len);
    } finally {
      this.lock.writeUnlock();
    }
    if ((flags & MAP_POPULATE) !== 0) {
      this.mmPopulate(addr, len, true);
      // The populate ran out of memory: the OOM killer frees some (maybe this process), then it goes on.
      while (this.faultOom && this.outOfMemory()) this.mmPopulate(addr, len, true);
    }
    return addr;
  }

  /** Top-down search for a free range of `len` bytes aligned to `align`, honouring a hint. */
  getUnmappedArea(hint: number, len: number, align: number): number {
    const top = Math.min(MMAP_BASE_4LEVEL, this.geometry.taskSize);
    if (hint !== 0) {
      const start = Math.ceil(hint / align) * align;
      if (start + len <= this.geometry.taskSize && start >= this.geometry.mmapMinAddr && this.vmas.isFree(start, start + len)) return start;
    }
    let end = top;
    const vmas = this.vmas.all();
    for (let i = vmas.length - 1; i >= -1; i--) {
      const vma = i >= 0 ? vmas[i]! : null;
      const gapStart = vma === null ? this.geometry.mmapMinAddr : vma.end;
      if (vma !== null && vma.start >= end) continue;
      const candidate = Math.floor((end - len) / align) * align;
      if (candidate >= gapStart && candidate >= this.geometry.mmapMinAddr) return candidate;
      if (vma !== null) end = Math.min(end, vma.start);
    }
    return -Errno.ENOMEM;
  }

  /* ----------------------------------------------------------- munmap */

  /** munmap(2). */
  munmap(addr: number, length: number): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length)) return -Errno.EINVAL;
    if (!isPageAligned(addr)) return -Errno.EINVAL;
    const len = pageAlignUp(length);
    if (len === 0 || addr + len > this.geometry.taskSize) return -Errno.EINVAL;
    if (!this.lock.tryWriteLock()) return -Errno.EDEADLK;
    try {
      return this.unmapRegion(addr, addr + len);
    } finally {
      this.lock.writeUnlock();
    }
  }

  /** do_vmi_munmap: split, zap (dropping markers), free tables, remove VMAs (mm-internal). */
  unmapRegion(start: number, end: number): number {
    for (const vma of this.vmas.range(start, end)) {
      // hugetlb VMAs can only be split on huge-page boundaries.
      if (vma.isHugetlb && ((start > vma.start && !isPmdAligned(start)) || (end < vma.end && !isPmdAligned(end)))) {
        return -Errno.EINVAL;
      }
    }
    const victims = this.vmas.splitRange(start, end);
    if (victims.length === 0) return 0;
    for (const vma of victims) zapVmaRange(this, vma, vma.start, vma.end, ZAP_DROP_MARKER);
    const prev = this.vmas.prevOf(victims[0]!);
    const next = this.vmas.nextOf(victims[victims.length - 1]!);
    for (const vma of victims) {
      this.vmas.remove(vma);
      if (vma.isHugetlb && (vma.flags & VM_NORESERVE) === 0) this.kernel.hugetlbFree += vma.pages / HPAGE_PMD_NR;
      if ((vma.flags & VM_ACCOUNT) !== 0) this.kernel.vmUnacctMemory(vma.pages);
    }
    freePgtables(this, victims[0]!.start, victims[victims.length - 1]!.end, prev?.end ?? 0, next?.start ?? 0);
    for (const vma of victims) if (vma.file !== null) this.kernel.releaseFileIfUnused(vma.file);
    return 0;
  }

  /* ----------------------------------------------------------- mremap */

  /** mremap(2): returns the (new) address or -errno; see mremap.ts. */
  mremap(addr: number, oldLength: number, newLength: number, flags: number, newAddr = 0): number {
    if (this.exited) return -Errno.EINVAL;
    return mremap(this, addr, oldLength, newLength, flags, newAddr);
  }

  /* --------------------------------------------------------- mprotect */

  /** mprotect(2). */
  mprotect(addr: number, length: number, prot: number): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length) || !Number.isSafeInteger(prot)) return -Errno.EINVAL;
    if (!isPageAligned(addr)) return -Errno.EINVAL;
    if ((prot & ~PROT_VALID) !== 0) return -Errno.EINVAL;
    const len = pageAlignUp(length);
    if (len === 0) return 0;
    const end = addr + len;
    if (end > this.geometry.taskSize) return -Errno.ENOMEM;
    if (!this.lock.tryWriteLock()) return -Errno.EDEADLK;
    try {
      const first = this.vmas.find(addr);
      if (first === null || first.start >= end) return -Errno.ENOMEM;
      if (first.start > addr) return -Errno.ENOMEM;
      const newBits = Mm.protToVmFlags(prot);
      let cursor = addr;
      let error = 0;
      for (const vma of this.vmas.range(addr, end)) {
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
          if (!this.kernel.vmEnoughMemory((to - from) / PAGE_SIZE)) {
            error = -Errno.ENOMEM;
            break;
          }
          const inside = this.vmas.splitRange(from, to);
          for (const piece of inside) piece.flags |= VM_ACCOUNT;
        }
        const inside = this.vmas.splitRange(from, to);
        for (const piece of inside) {
          const oldFlags = piece.flags;
          piece.flags = (piece.flags & ~(VM_READ | VM_WRITE | VM_EXEC)) | newBits;
          changeProtection(this, piece, piece.start, piece.end, oldFlags);
        }
        cursor = to;
      }
      if (error === 0 && cursor < end) error = -Errno.ENOMEM;
      this.vmas.mergeAround(addr, end);
      return error;
    } finally {
      this.lock.writeUnlock();
    }
  }

  /* ------------------------------------------------------------ madvise */

  /** madvise(2). */
  madvise(addr: number, length: number, advice: number): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length) || !Number.isSafeInteger(advice)) return -Errno.EINVAL;
    let result = doMadvise(this, addr, length, advice);
    // MADV_POPULATE_* ran out of memory: the OOM killer runs; if it freed another process, go on.
    while (this.faultOom && this.outOfMemory()) result = doMadvise(this, addr, length, advice);
    return result;
  }

  /* ----------------------------------------------------- mlock, munlock */

  /** mlock(2) / mlock2(2) with MLOCK_ONFAULT. */
  mlock(addr: number, length: number, flags = 0): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length) || (flags & ~MLOCK_ONFAULT) !== 0) return -Errno.EINVAL;
    const start = addr - (addr % PAGE_SIZE);
    const len = pageAlignUp(length + (addr % PAGE_SIZE));
    if (len === 0) return 0;
    const end = start + len;
    if (end > this.geometry.taskSize) return -Errno.ENOMEM;
    const lockFlags = VM_LOCKED | (flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : 0);
    const error = this.applyVmaLockFlags(start, end, lockFlags);
    if (error) return error;
    let populated = this.mmPopulate(start, len, false);
    while (this.faultOom && this.outOfMemory()) populated = this.mmPopulate(start, len, false);
    // __mlock_posix_error_return: EFAULT → ENOMEM, ENOMEM → EAGAIN.
    if (populated === -Errno.EFAULT) return -Errno.ENOMEM;
    if (populated === -Errno.ENOMEM) return -Errno.EAGAIN;
    return populated;
  }

  /** munlock(2). */
  munlock(addr: number, length: number): number {
    if (this.exited) return -Errno.EINVAL;
    if (!this.checkRange(addr, length)) return -Errno.EINVAL;
    const start = addr - (addr % PAGE_SIZE);
    const len = pageAlignUp(length + (addr % PAGE_SIZE));
    if (len === 0) return 0;
    const end = start + len;
    if (end > this.geometry.taskSize) return -Errno.ENOMEM;
    return this.applyVmaLockFlags(start, end, 0);
  }

  private applyVmaLockFlags(start: number, end: number, lockFlags: number): number {
    if (!this.lock.tryWriteLock()) return -Errno.EDEADLK;
    try {
      const first = this.vmas.find(start);
      if (first === null || first.start > start) return -Errno.ENOMEM;
      let cursor = start;
      for (const vma of this.vmas.range(start, end)) {
        if (vma.start > cursor) return -Errno.ENOMEM;
        const from = Math.max(vma.start, start);
        const to = Math.min(vma.end, end);
        // mlock_fixup leaves hugetlb and special VMAs alone (never VM_LOCKED),
        // and a VMA whose flags do not change: neither is split.
        if (vma.isHugetlb || (vma.flags & VM_SPECIAL) !== 0 || (vma.flags & VM_LOCKED_MASK) === lockFlags) {
          cursor = to;
          continue;
        }
        for (const piece of this.vmas.splitRange(from, to)) {
          piece.flags = (piece.flags & ~VM_LOCKED_MASK) | lockFlags;
        }
        cursor = to;
        this.vmas.mergeAround(start, end);
      }
      if (cursor < end) return -Errno.ENOMEM;
      return 0;
    } finally {
      if (this.lock.writer) this.lock.writeUnlock();
    }
  }

  /**
   * __mm_populate: faults in [addr, addr+len) as mlock/MAP_POPULATE do.
   * With `ignoreErrors` (MAP_POPULATE) failures are skipped per VMA.
   */
  mmPopulate(addr: number, len: number, ignoreErrors: boolean): number {
    const end = addr + len;
    let cursor = addr;
    if (!this.lock.tryReadLock()) return -Errno.EDEADLK;
    try {
      while (cursor < end) {
        const vma = this.vmas.findIntersection(cursor, end);
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
          result = populateRange(this, vma, from, to, write, !write);
        }
        if (result < 0 && !ignoreErrors) return result;
      }
      return 0;
    } finally {
      this.lock.readUnlock();
    }
  }

  /* ------------------------------------------------------------- access */

  /**
   * A CPU access to one byte. Read returns the byte (0..255), write stores
   * `value` and returns 0; a fault that cannot be resolved returns -SIGSEGV
   * or -SIGBUS (the access did not happen).
   */
  access(addr: number, kind: AccessKind, value = 0): number {
    // What no CPU could be asked (a byte of 300, an unknown access) is the caller's bug: say so.
    if (kind !== AccessKind.Read && kind !== AccessKind.Write && kind !== AccessKind.Exec)
      throw new PagewalkArgumentError('access', 'kind', `is an unknown access kind ${String(kind)} (AccessKind.Read, Write or Exec)`);
    if (kind === AccessKind.Write && !(Number.isInteger(value) && value >= 0 && value <= 255))
      throw new PagewalkArgumentError('access', 'value', `must be a byte (0..255), got ${String(value)}`);
    if (this.exited || !Number.isSafeInteger(addr) || addr < 0 || addr >= this.geometry.taskSize) return this.killed ? -SIGKILL : -SIGSEGV;
    const write = kind === AccessKind.Write;
    let oom = false;
    this.lock.readLock();
    try {
      for (let attempt = 0; attempt < 16; attempt++) {
        const vma = this.vmas.lookup(addr);
        if (vma === null) return -SIGSEGV;
        // access_error(): the VMA's permissions decide first.
        if (write ? (vma.flags & VM_WRITE) === 0 : kind === AccessKind.Exec ? (vma.flags & VM_EXEC) === 0 : (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) {
          return -SIGSEGV;
        }
        const done = this.tryAccess(addr, write, value);
        if (done >= 0) return done;
        const fault = handleMmFault(this, vma, addr, write ? FAULT_FLAG_WRITE : 0);
        if ((fault & VM_FAULT_ERROR) !== 0) {
          if (fault & VM_FAULT_SIGSEGV) return -SIGSEGV;
          if (fault & VM_FAULT_OOM) {
            oom = true;
            break;
          }
          if (fault & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON)) return -SIGBUS;
        }
      }
      if (!oom) return -SIGBUS;
    } finally {
      this.lock.readUnlock();
    }
    // pagefault_out_of_memory: the OOM killer frees a victim's memory; if that was not us, try again.
    if (this.outOfMemory()) return this.access(addr, kind, value);
    return this.killed ? -SIGKILL : -SIGBUS;
  }

  /**
   * Runs the OOM killer after a fault of this process found no free frame
   * (outside any lock of this mm). Returns true when another process was
   * killed (retry), false when this one was or nothing could be freed.
   */
  outOfMemory(): boolean {
    this.faultOom = false;
    const victim = this.kernel.oomKill();
    return victim !== null && victim !== this;
  }

  /** oom_badness: resident pages (a huge mapping counts all its pages) plus swapped-out ones. */
  oomBadness(): number {
    if (this.exited) return 0;
    // Read-only counting: pmdSlot(addr, false) allocates nothing, so the view stays current.
    // eslint-disable-next-line no-restricted-syntax
    const entries = this.kernel.tables.entries;
    let points = 0;
    for (const vma of this.vmas.all()) {
      for (let addr = vma.start; addr < vma.end; ) {
        const next = Math.min(vma.end, Math.floor(addr / PMD_SIZE) * PMD_SIZE + PMD_SIZE);
        const pmdSlot = this.pmdSlot(addr, false);
        if (pmdSlot >= 0) {
          const pmd = entries[pmdSlot]!;
          if (pmdLeaf(pmd)) {
            if ((pmd & PTE_SPECIAL) === 0) points += (next - addr) / PAGE_SIZE;
          } else if (isTableEntry(pmd)) {
            const base = tableIdOf(pmd) * PTRS_PER_TABLE;
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

  /** Killed by the OOM killer: the process exits and its memory is freed. */
  oomKilled(): void {
    this.killed = true;
    this.exit();
  }

  /** The MMU: performs the access if the page tables allow it, else returns -1. */
  private tryAccess(addr: number, write: boolean, value: number): number {
    const tables = this.kernel.tables;
    const frames = this.kernel.frames;
    const pmdSlot = this.pmdSlot(addr, false);
    if (pmdSlot < 0) return -1;
    const pmd = tables.entries[pmdSlot]!;
    let slot: number;
    let entry: number;
    let pfn: number;
    if (pmdLeaf(pmd)) {
      slot = pmdSlot;
      entry = pmd;
      pfn = ptePfn(pmd) + (Math.floor(addr / PAGE_SIZE) % HPAGE_PMD_NR);
    } else if (isTableEntry(pmd)) {
      slot = tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, 12);
      entry = tables.entries[slot]!;
      if (!ptePresent(entry)) return -1;
      pfn = ptePfn(entry);
    } else {
      return -1;
    }
    if (write && !pteWrite(entry)) return -1;
    const offset = addr % PAGE_SIZE;
    if (write) {
      tables.entries[slot] = (entry | PTE_ACCESSED | PTE_DIRTY | (this.kernel.profile.softDirty ? PTE_SOFT_DIRTY : 0)) >>> 0;
      frames.contents.writeByte(pfn, offset, value & 0xff);
      return 0;
    }
    tables.entries[slot] = (entry | PTE_ACCESSED) >>> 0;
    return frames.contents.readByte(pfn, offset);
  }

  /* --------------------------------------------------------------- fork */

  /** fork(): a child address space sharing anonymous pages copy-on-write. */
  fork(): Mm {
    return forkMm(this);
  }

  /* ---------------------------------------------------------- clear_refs */

  /** Writes `value` to /proc/pid/clear_refs. */
  clearRefs(value: number): number {
    if (this.exited) return -Errno.ESRCH;
    if (!Number.isSafeInteger(value) || value < CLEAR_REFS_ALL || value > CLEAR_REFS_MM_HIWATER_RSS) return -Errno.EINVAL;
    if (value === CLEAR_REFS_MM_HIWATER_RSS) return 0;
    if (!this.lock.tryWriteLock()) return -Errno.EDEADLK;
    try {
      if (value === CLEAR_REFS_SOFT_DIRTY) {
        if (this.kernel.profile.softDirty) clearSoftDirty(this);
      } else {
        clearYoung(this, value);
      }
      return 0;
    } finally {
      this.lock.writeUnlock();
    }
  }

  /* ---------------------------------------------------------------- exit */

  /** util.inspect / console.log: the address space as /proc/pid/maps lines, hex addresses. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const vmas = this.vmas.all();
    const lines = vmas.map((vma) => `  ${vma.toMapsLine()}`);
    return `Mm {${this.exited ? ' exited' : ''} ${vmas.length} VMA${vmas.length === 1 ? '' : 's'}${lines.length > 0 ? `\n${lines.join('\n')}\n` : ' '}}`;
  }

  /** exit_mmap(): unmaps everything and frees the page tables. */
  exit(): void {
    if (this.exited) return;
    this.lock.writeLock();
    try {
      for (const vma of [...this.vmas.all()]) {
        zapVmaRange(this, vma, vma.start, vma.end, ZAP_DROP_MARKER);
        this.vmas.remove(vma);
        if (vma.isHugetlb && (vma.flags & VM_NORESERVE) === 0) this.kernel.hugetlbFree += vma.pages / HPAGE_PMD_NR;
        if ((vma.flags & VM_ACCOUNT) !== 0) this.kernel.vmUnacctMemory(vma.pages);
      }
      freePgtables(this, 0, this.geometry.taskSize + PAGE_SIZE, 0, 0);
    } finally {
      this.lock.writeUnlock();
    }
    this.kernel.tables.release(this.pgd);
    this.kernel.mms.delete(this);
    this.exited = true;
    for (const file of [...this.kernel.files]) this.kernel.releaseFileIfUnused(file);
  }
}
