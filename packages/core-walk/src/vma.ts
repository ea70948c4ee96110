/**
 * Virtual memory areas: flags, the ordered VMA set of an mm, and the
 * kernel's split / merge rules (mm/vma.c).
 *
 * VM_* values are this simulator's own (kept below 2^31 so bitwise
 * operations stay exact); their meaning follows include/linux/mm.h.
 */
import { PAGE_SIZE } from './geometry.js';
import type { Mm } from './mm.js';
import type { ShmemFile } from './shmem.js';

export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_UFFD_MINOR = 0x8000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
/** Charged against the commit limit (private writable memory). */
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;

export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
export const VM_UFFD_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR;
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

const FLAG_NAMES: readonly [number, string][] = [
  [VM_READ, 'read'], [VM_WRITE, 'write'], [VM_EXEC, 'exec'], [VM_SHARED, 'shared'],
  [VM_UFFD_MISSING, 'uffd_missing'], [VM_UFFD_WP, 'uffd_wp'], [VM_UFFD_MINOR, 'uffd_minor'],
  [VM_PFNMAP, 'pfnmap'], [VM_LOCKED, 'locked'], [VM_LOCKONFAULT, 'lockonfault'], [VM_IO, 'io'],
  [VM_DONTCOPY, 'dontcopy'], [VM_ACCOUNT, 'account'], [VM_NORESERVE, 'noreserve'], [VM_WIPEONFORK, 'wipeonfork'], [VM_HUGETLB, 'hugetlb'],
  [VM_SOFTDIRTY, 'softdirty'], [VM_HUGEPAGE, 'hugepage'], [VM_NOHUGEPAGE, 'nohugepage'],
];

/** Human-readable flag names, for debugging and error messages. */
export function vmFlagNames(flags: number): string[] {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

/**
 * The anon_vma of a VMA: identifies the family of processes that may share
 * anonymous pages through fork. `root` is shared by a parent and all its
 * descendants (the kernel's anon_vma->root).
 */
export interface AnonVma {
  readonly id: number;
  readonly root: AnonVma;
}

/**
 * A VMA. Its fields are read-only to the public API: VMAs change through
 * the system calls, or in the mm code through `writableVma` (mm-internal).
 */
export class Vma {
  /** The address space this VMA belongs to (vm_mm); set when it is inserted into an mm's VMA list. */
  readonly mm: Mm | null = null;

  constructor(
    public readonly start: number,
    public readonly end: number,
    public readonly flags: number,
    /** File page offset of `start` (anon: start / PAGE_SIZE, as the kernel does). */
    public readonly pgoff: number,
    public readonly file: ShmemFile | null,
    public readonly anonVma: AnonVma | null = null,
    /** The userfaultfd context this VMA is registered with (vm_userfaultfd_ctx). */
    public readonly userfaultfdCtx: object | null = null,
  ) {}

  get pages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }

  /** Private anonymous memory (vma_is_anonymous). Shared anon is shmem-backed, so not anonymous. */
  get isAnonymous(): boolean {
    return this.file === null;
  }

  get isShared(): boolean {
    return (this.flags & VM_SHARED) !== 0;
  }

  /** is_cow_mapping(): private and may be written. */
  get isCow(): boolean {
    return (this.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
  }

  get isPfnMap(): boolean {
    return (this.flags & VM_PFNMAP) !== 0;
  }

  get isHugetlb(): boolean {
    return (this.flags & VM_HUGETLB) !== 0;
  }

  /** vma_is_accessible(): any of read, write, exec. */
  get isAccessible(): boolean {
    return (this.flags & VM_ACCESS_FLAGS) !== 0;
  }

  /** File page index of `addr` inside this VMA (linear_page_index). */
  pageIndex(addr: number): number {
    // Any byte of a page names that page: a fractional index would miss the page cache.
    return Math.floor((addr - this.start) / PAGE_SIZE) + this.pgoff;
  }

  clone(start: number, end: number): Vma {
    const copy = new Vma(start, end, this.flags, this.pgoff + (start - this.start) / PAGE_SIZE, this.file, this.anonVma, this.userfaultfdCtx);
    return copy;
  }

  toString(): string {
    return `[${this.start.toString(16)}-${this.end.toString(16)} ${vmFlagNames(this.flags).join(',')}${this.file ? ' file' : ''}]`;
  }

  /** A /proc/pid/maps line: `7f0000000000-7f0000010000 rw-p 00000000 anon`, then the VMA's flag names. */
  toMapsLine(): string {
    const perms =
      ((this.flags & VM_READ) !== 0 ? 'r' : '-') +
      ((this.flags & VM_WRITE) !== 0 ? 'w' : '-') +
      ((this.flags & VM_EXEC) !== 0 ? 'x' : '-') +
      ((this.flags & VM_MAYSHARE) !== 0 ? 's' : 'p');
    const offset = (this.file === null ? 0 : this.pgoff * PAGE_SIZE).toString(16).padStart(8, '0');
    const what = this.file === null ? 'anon' : this.isHugetlb ? 'hugetlb' : 'shmem';
    return `${this.start.toString(16)}-${this.end.toString(16)} ${perms} ${offset} ${what} [${vmFlagNames(this.flags).join(' ')}]`;
  }

  /** util.inspect / console.log show the maps line, not the whole kernel behind the VMA. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Vma ${this.toMapsLine()}`;
  }
}

function anonVmaCompatible(a: AnonVma | null, b: AnonVma | null): boolean {
  return a === null || b === null || a === b;
}

/** Whether `next` can be merged onto the end of `prev` (is_mergeable_vma + anon_vma + pgoff). */
export function canMerge(prev: Vma, next: Vma): boolean {
  if (prev.end !== next.start) return false;
  if (((prev.flags ^ next.flags) & ~VM_SOFTDIRTY) !== 0) return false;
  if (prev.file !== next.file) return false;
  if (prev.userfaultfdCtx !== next.userfaultfdCtx) return false;
  if (!anonVmaCompatible(prev.anonVma, next.anonVma)) return false;
  if (prev.pgoff + prev.pages !== next.pgoff) return false;
  return true;
}

/**
 * The VMAs of one mm, ordered by address and non-overlapping.
 * A sorted array with binary search: VMA counts are small next to page
 * counts, and walks visit VMAs in order.
 */
/** A VMA as the mm code sees it: its fields writable. */
export type WritableVma = { -readonly [K in keyof Vma]: Vma[K] };

/** The same VMA, typed writable (mm code only: core-walk and mm-internal). */
export function writableVma(vma: Vma): WritableVma {
  return vma;
}

/** Key of an mm's writable VMA list (mm-internal: `vmasOf`). Not exported from the package. */
export const VMAS: unique symbol = Symbol('vmas');

/** The VMA list of an mm, read-only: lookups only. */
export type ReadonlyVmaList = Pick<VmaList, 'size' | 'all' | 'find' | 'lookup' | 'findIntersection' | 'range' | 'prevOf' | 'nextOf' | 'isFree'>;

export class VmaList {
  private items: Vma[] = [];

  /** `owner` becomes the `mm` of every VMA inserted. */
  constructor(private readonly owner: Mm | null = null) {}

  get size(): number {
    return this.items.length;
  }

  all(): readonly Vma[] {
    return this.items;
  }

  /** Index of the first VMA whose end is above `addr`. */
  private indexAfter(addr: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** find_vma(): the first VMA with end > addr, or null. */
  find(addr: number): Vma | null {
    return this.items[this.indexAfter(addr)] ?? null;
  }

  /** vma_lookup(): the VMA containing addr, or null. */
  lookup(addr: number): Vma | null {
    const vma = this.find(addr);
    return vma !== null && vma.start <= addr ? vma : null;
  }

  /** find_vma_intersection(). */
  findIntersection(start: number, end: number): Vma | null {
    const vma = this.find(start);
    return vma !== null && vma.start < end ? vma : null;
  }

  /** All VMAs intersecting [start, end), in order (a snapshot). */
  range(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.items.length; i++) {
      const vma = this.items[i]!;
      if (vma.start >= end) break;
      out.push(vma);
    }
    return out;
  }

  prevOf(vma: Vma): Vma | null {
    const i = this.items.indexOf(vma);
    return i > 0 ? this.items[i - 1]! : null;
  }

  nextOf(vma: Vma): Vma | null {
    const i = this.items.indexOf(vma);
    return i >= 0 && i + 1 < this.items.length ? this.items[i + 1]! : null;
  }

  /** True if no VMA intersects [start, end). */
  isFree(start: number, end: number): boolean {
    return this.findIntersection(start, end) === null;
  }

  insert(vma: Vma): void {
    writableVma(vma).mm = this.owner;
    const i = this.indexAfter(vma.start);
    this.items.splice(i, 0, vma);
  }

  remove(vma: Vma): void {
    const i = this.items.indexOf(vma);
    if (i >= 0) this.items.splice(i, 1);
  }

  /**
   * Splits the VMAs so that `start` and `end` fall on VMA boundaries
   * (__split_vma on both sides), returning the VMAs fully inside the range.
   */
  splitRange(start: number, end: number): WritableVma[] {
    const inside = this.range(start, end);
    for (const vma of inside) {
      if (vma.start < start && vma.end > start) this.splitAt(vma, start);
    }
    for (const vma of this.range(start, end)) {
      if (vma.start < end && vma.end > end) this.splitAt(vma, end);
    }
    return this.range(start, end);
  }

  /**
   * Called before a VMA is split at `addr` (vma_adjust_trans_huge): the mm
   * splits a huge PMD that straddles the new boundary.
   */
  onSplit: ((vma: Vma, addr: number) => void) | null = null;

  /** Splits `vma` at `addr`: `vma` keeps the lower part; the new upper part is returned. */
  splitAt(vma: Vma, addr: number): WritableVma {
    this.onSplit?.(vma, addr);
    const upper = vma.clone(addr, vma.end);
    writableVma(vma).end = addr;
    this.insert(upper);
    return upper;
  }

  /** Merges each VMA in [start, end] with compatible neighbours (vma_merge_existing_range). */
  mergeAround(start: number, end: number): void {
    let i = Math.max(0, this.indexAfter(start) - 1);
    while (i + 1 < this.items.length) {
      const prev = writableVma(this.items[i]!);
      if (prev.start > end) break;
      const next = this.items[i + 1]!;
      if (canMerge(prev, next)) {
        prev.end = next.end;
        prev.flags |= next.flags & VM_SOFTDIRTY;
        if (prev.anonVma === null) prev.anonVma = next.anonVma;
        this.items.splice(i + 1, 1);
      } else {
        i++;
      }
    }
  }
}
