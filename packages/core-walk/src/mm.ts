/**
 * One process address space (struct mm_struct): its VMAs, the top of its
 * page tables and its lock. The system calls and the fault path live in
 * the modules named after the kernel files that implement them (mmap.ts,
 * mprotect.ts, madvise.ts, mlock.ts, memory.ts, …; see the package README);
 * this class is their public face, with thin methods that delegate.
 */
import { Errno } from './errno.js';
import { forkMm } from './fork.js';
import type { PagingGeometry } from './geometry.js';
import { mmPopulate } from './gup.js';
import { splitPartialHugePmd } from './huge-memory.js';
import type { Kernel } from './kernel.js';
import { MmapLock } from './locks.js';
import { sysMadvise } from './madvise.js';
import { userAccess } from './memory.js';
import { sysMlock, sysMunlock } from './mlock.js';
import { calcVmProtBits, exitMmap, getUnmappedArea, sysMmap, sysMunmap } from './mmap.js';
import { sysMprotect } from './mprotect.js';
import { mremap } from './mremap.js';
import { oomBadness, outOfMemory } from './oom-kill.js';
import { leafEntryOf, pgdOffset, pmdSlotOf, pteSlotOf, pudSlotOf } from './pgtable-nav.js';
import { isTableEntry } from './pgtable.js';
import type { ShmemFile } from './shmem.js';
import { clearRefs } from './task-mmu.js';
import type { AccessKind } from './uapi.js';
import { VMAS, VmaList, type ReadonlyVmaList } from './vma.js';
import { TABLES } from './readonly-pools.js';

let nextMmId = 1;

export class Mm {
  readonly id = nextMmId++;
  readonly geometry: PagingGeometry;
  /** Table id of the top-level table. */
  readonly pgd: number;
  /** The VMA list, writable: for the mm code only (mm-internal `vmasOf`). */
  readonly [VMAS]: VmaList = new VmaList(this);
  /** The VMAs, read-only (the same list as the writable one). */
  readonly vmas: ReadonlyVmaList = this[VMAS];
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
    this.pgd = kernel[TABLES].alloc();
    this[VMAS].onSplit = (vma, addr) => splitPartialHugePmd(this, vma, addr);
  }

  get isLive(): boolean {
    return !this.exited;
  }

  /* ------------------------------------------------------ table helpers */

  /** Slot of the PGD entry for addr. */
  pgdSlot(addr: number): number {
    return pgdOffset(this, addr);
  }

  /*
   * The lookups below never allocate: `alloc` may only be false (it is
   * there for older callers). Table-allocating lookups, allocTableAt and
   * splitHugePmd are mm code: see '@pagewalk/core-walk/mm-internal'.
   */

  /** Slot of the PUD entry for addr, or -1 when a table above is missing. */
  pudSlot(addr: number, _alloc: false = false): number {
    return pudSlotOf(this, addr, false);
  }

  /** Slot of the PMD entry for addr, or -1 when a table above is missing. */
  pmdSlot(addr: number, _alloc: false = false): number {
    return pmdSlotOf(this, addr, false);
  }

  /** The PMD slot for a hugetlb page at addr: present whenever the PUD table exists (hugetlb_walk). */
  pmdSlotIfTable(addr: number): number {
    return this.pmdSlot(addr, false);
  }

  /**
   * Slot of the PTE for addr, or -1 when there is no PTE table (a table is
   * missing, or the PMD is a huge / non-present leaf).
   */
  pteSlot(addr: number, _alloc: false = false): number {
    return pteSlotOf(this, addr, false);
  }

  /** The entry mapping addr: its PTE, or the PMD when that is a leaf or non-present; 0 if none. */
  leafEntry(addr: number): number {
    return leafEntryOf(this, addr);
  }

  /** The entry mapping addr at whatever level it lives (PTE, or a PMD leaf / entry), 0 if none. */
  entryAt(addr: number): { level: 'pte' | 'pmd'; entry: number } {
    const pmdSlot = this.pmdSlot(addr, false);
    if (pmdSlot < 0) return { level: 'pmd', entry: 0 };
    const pmd = this.kernel[TABLES].entries[pmdSlot]!;
    if (!isTableEntry(pmd)) return { level: 'pmd', entry: pmd };
    const slot = this.pteSlot(addr, false);
    return { level: 'pte', entry: this.kernel[TABLES].entries[slot]! };
  }

  /** VM flag bits from PROT_* bits (calc_vm_prot_bits). */
  static protToVmFlags(prot: number): number {
    return calcVmProtBits(prot);
  }

  /* ------------------------------------------------------------- mmap */

  /**
   * mmap(2). Returns the mapped address, or -errno. `file` is a shmem/memfd
   * file for file mappings (then MAP_ANONYMOUS must not be set).
   */
  mmap(addr: number, length: number, prot: number, flags: number, file: ShmemFile | null = null, offset = 0): number {
    return sysMmap(this, addr, length, prot, flags, file, offset);
  }

  /** Top-down search for a free range of `len` bytes aligned to `align`, honouring a hint. */
  getUnmappedArea(hint: number, len: number, align: number): number {
    return getUnmappedArea(this, hint, len, align);
  }

  /* ----------------------------------------------------------- munmap */

  /** munmap(2). */
  munmap(addr: number, length: number): number {
    return sysMunmap(this, addr, length);
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
    return sysMprotect(this, addr, length, prot);
  }

  /* ------------------------------------------------------------ madvise */

  /** madvise(2). */
  madvise(addr: number, length: number, advice: number): number {
    return sysMadvise(this, addr, length, advice);
  }

  /* ----------------------------------------------------- mlock, munlock */

  /** mlock(2) / mlock2(2) with MLOCK_ONFAULT. */
  mlock(addr: number, length: number, flags = 0): number {
    return sysMlock(this, addr, length, flags);
  }

  /** munlock(2). */
  munlock(addr: number, length: number): number {
    return sysMunlock(this, addr, length);
  }

  /**
   * __mm_populate: faults in [addr, addr+len) as mlock/MAP_POPULATE do.
   * With `ignoreErrors` (MAP_POPULATE) failures are skipped per VMA.
   */
  mmPopulate(addr: number, len: number, ignoreErrors: boolean): number {
    return mmPopulate(this, addr, len, ignoreErrors);
  }

  /* ------------------------------------------------------------- access */

  /**
   * A CPU access to one byte. Read returns the byte (0..255), write stores
   * `value` and returns 0; a fault that cannot be resolved returns -SIGSEGV
   * or -SIGBUS (the access did not happen).
   */
  access(addr: number, kind: AccessKind, value = 0): number {
    return userAccess(this, addr, kind, value);
  }

  /**
   * Runs the OOM killer after a fault of this process found no free frame
   * (outside any lock of this mm). Returns true when another process was
   * killed (retry), false when this one was or nothing could be freed.
   */
  outOfMemory(): boolean {
    return outOfMemory(this);
  }

  /** oom_badness: resident pages (a huge mapping counts all its pages) plus swapped-out ones. */
  oomBadness(): number {
    return oomBadness(this);
  }

  /** Killed by the OOM killer: the process exits and its memory is freed. */
  oomKilled(): void {
    this.killed = true;
    this.exit();
  }

  /* --------------------------------------------------------------- fork */

  /** fork(): a child address space sharing anonymous pages copy-on-write. */
  fork(): Mm {
    return forkMm(this);
  }

  /* ---------------------------------------------------------- clear_refs */

  /** Writes `value` to /proc/pid/clear_refs. */
  clearRefs(value: number): number {
    return clearRefs(this, value);
  }

  /* ---------------------------------------------------------------- exit */

  /** util.inspect / console.log: the address space as /proc/pid/maps lines, hex addresses. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const vmas = this.vmas.all();
    const lines = vmas.map((vma) => `  ${vma.toMapsLine()}`);
    return `Mm {${this.exited ? ' exited' : ''} ${vmas.length} VMA${vmas.length === 1 ? '' : 's'}${lines.length > 0 ? `\n${lines.join('\n')}\n` : ' '}}`;
  }

  /** The process exits: exit_mmap(), then the top-level table goes. */
  exit(): void {
    if (this.exited) return;
    exitMmap(this);
    this.kernel[TABLES].release(this.pgd);
    this.kernel.mms.delete(this);
    this.exited = true;
    for (const file of [...this.kernel.files]) this.kernel.releaseFileIfUnused(file);
  }
}
