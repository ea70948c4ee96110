/**
 * read() on /proc/pid/pagemap (fs/proc/task_mmu.c: pagemap_read and
 * pagemap_ops): one 64-bit entry per virtual page.
 *
 * An entry is kept in two parts, because doubles cannot hold bits 55..63
 * next to a 55-bit frame: `flags` (bits 55..63 shifted down by 55, see
 * PM_* in uapi.ts) in a Uint16Array, and `frame` (bits 0..54: the pfn, or
 * swap type | offset << 5) in a Float64Array. pagemapEntryToBigInt() builds
 * the real u64 for display.
 */
import {
  Errno,
  HPAGE_PMD_NR,
  PAGE_SIZE,
  PG_ANON,
  PMD_SIZE,
  VM_SOFTDIRTY,
  WalkAction,
  WalkLock,
  isGuardPteMarker,
  isPfnSwapEntry,
  isSwapPte,
  isUffdWpPteMarker,
  pagemapSwapFrame,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSoftDirty,
  pteSpecial,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteSwpUffdWpAny,
  pteUffdWp,
  swpOffset,
  walkPageRange,
  type ReadonlyFramePool,
  type Mm,
  type MmWalk,
  type MmWalkOps,
  type Pmd,
} from '@pagewalk/core-walk';
import { PM_ENTRY_BYTES, PM_FILE, PM_GUARD_REGION, PM_MMAP_EXCLUSIVE, PM_PRESENT, PM_SOFT_DIRTY, PM_SWAP, PM_UFFD_WP } from './uapi.js';

/** Entries read from /proc/pid/pagemap, in two parallel typed arrays. */
export class PagemapEntries {
  length = 0;
  flags: Uint16Array;
  frames: Float64Array;

  constructor(capacity = 0) {
    this.flags = new Uint16Array(capacity);
    this.frames = new Float64Array(capacity);
  }

  /** Makes room for `count` entries, dropping the old contents. */
  reset(count: number): void {
    if (this.flags.length < count) {
      this.flags = new Uint16Array(count);
      this.frames = new Float64Array(count);
    }
    this.length = 0;
  }
}

/** struct pagemapread: the output and whether PFNs are shown (CAP_SYS_ADMIN). */
export interface PagemapReadState {
  out: PagemapEntries;
  showPfn: boolean;
}

type Walk = MmWalk<PagemapReadState>;

function isAnonFolio(frames: ReadonlyFramePool, pfn: number): boolean {
  return (frames.flags[frames.folioOf(pfn)]! & PG_ANON) !== 0;
}

function add(out: PagemapEntries, flags: number, frame: number): void {
  const i = out.length++;
  out.flags[i] = flags;
  out.frames[i] = frame;
}

/** pagemap_pte_hole: zero outside VMAs; inside, only the VMA's soft-dirty flag. */
function pagemapPteHole(addr: number, end: number, _depth: number, walk: Walk): number {
  const out = walk.state.out;
  const flags = walk.vma !== null && (walk.vma.flags & VM_SOFTDIRTY) !== 0 ? PM_SOFT_DIRTY : 0;
  for (; addr < end; addr += PAGE_SIZE) add(out, flags, 0);
  return 0;
}

/** pagemap_pmd_range for a PMD-mapped THP (or huge zero page) or a PMD migration entry. */
function pagemapPmdEntry(pmd: Pmd, addr: number, end: number, walk: Walk): number {
  if (!pmdLeaf(pmd) && !isSwapPte(pmd)) return 0; // a page table: pteBatch
  walk.action = WalkAction.Continue;
  const { out, showPfn } = walk.state;
  const frames = walk.mm.kernel.frames;
  let index = (addr % PMD_SIZE) / PAGE_SIZE;
  let flags = (walk.vma!.flags & VM_SOFTDIRTY) !== 0 ? PM_SOFT_DIRTY : 0;
  let page = -1;
  let frame = 0;
  if (ptePresent(pmd)) {
    page = ptePfn(pmd);
    flags |= PM_PRESENT;
    if (pteSoftDirty(pmd)) flags |= PM_SOFT_DIRTY;
    if (pteUffdWp(pmd)) flags |= PM_UFFD_WP;
    if (showPfn) frame = page + index;
  } else {
    if (showPfn) frame = pagemapSwapFrame(pmd) + index * 32;
    flags |= PM_SWAP;
    if (pteSwpSoftDirty(pmd)) flags |= PM_SOFT_DIRTY;
    if (pteSwpUffdWp(pmd)) flags |= PM_UFFD_WP;
    if (isPfnSwapEntry(pmd)) page = swpOffset(pmd);
  }
  // The folio of the huge page (the huge zero page too: it is not anonymous).
  if (page >= 0 && !isAnonFolio(frames, page)) flags |= PM_FILE;
  for (; addr !== end; addr += PAGE_SIZE, index++) {
    let current = flags;
    if (page >= 0 && (flags & PM_PRESENT) !== 0 && frames.pageMapcount(page + index) === 1) current |= PM_MMAP_EXCLUSIVE;
    add(out, current, frame);
    if (showPfn) {
      if ((flags & PM_PRESENT) !== 0) frame++;
      else frame += 32;
    }
  }
  return 0;
}

/** pte_to_pagemap_entry over a slice of a page table. */
function pagemapPteBatch(entries: Uint32Array, first: number, count: number, _addr: number, walk: Walk): number {
  const { out, showPfn } = walk.state;
  const frames = walk.mm.kernel.frames;
  const vmaFlags = (walk.vma!.flags & VM_SOFTDIRTY) !== 0 ? PM_SOFT_DIRTY : 0;
  const last = first + count;
  for (let i = first; i < last; i++) {
    const pte = entries[i]!;
    let flags = vmaFlags;
    let frame = 0;
    if (pte === 0) {
      add(out, flags, 0);
      continue;
    }
    let page = -1;
    if (ptePresent(pte)) {
      const pfn = ptePfn(pte);
      if (showPfn) frame = pfn;
      flags |= PM_PRESENT;
      if (!pteSpecial(pte)) page = pfn;
      if (pteSoftDirty(pte)) flags |= PM_SOFT_DIRTY;
      if (pteUffdWp(pte)) flags |= PM_UFFD_WP;
    } else {
      if (pteSwpSoftDirty(pte)) flags |= PM_SOFT_DIRTY;
      if (pteSwpUffdWp(pte) || isUffdWpPteMarker(pte)) flags |= PM_UFFD_WP;
      if (showPfn) frame = pagemapSwapFrame(pte);
      flags |= PM_SWAP;
      if (isPfnSwapEntry(pte)) page = swpOffset(pte);
      if (isGuardPteMarker(pte)) flags |= PM_GUARD_REGION;
    }
    if (page >= 0) {
      if (!isAnonFolio(frames, page)) flags |= PM_FILE;
      if ((flags & PM_PRESENT) !== 0 && frames.pageMapcount(page) === 1) flags |= PM_MMAP_EXCLUSIVE;
    }
    add(out, flags, frame);
  }
  return 0;
}

/** pagemap_hugetlb_range: no PM_SWAP and no per-entry soft-dirty for hugetlb. */
function pagemapHugetlbEntry(pte: Pmd, _hmask: number, addr: number, end: number, walk: Walk): number {
  const { out, showPfn } = walk.state;
  const frames = walk.mm.kernel.frames;
  let flags = (walk.vma!.flags & VM_SOFTDIRTY) !== 0 ? PM_SOFT_DIRTY : 0;
  let frame = 0;
  if (ptePresent(pte)) {
    const head = frames.folioOf(ptePfn(pte));
    if (!isAnonFolio(frames, head)) flags |= PM_FILE;
    // !folio_maybe_mapped_shared: a hugetlb folio mapped by one page table entry (no PMD sharing here).
    if ((frames.entireMapcount.get(head) ?? 0) <= 1) flags |= PM_MMAP_EXCLUSIVE;
    if (pteUffdWp(pte)) flags |= PM_UFFD_WP;
    flags |= PM_PRESENT;
    if (showPfn) frame = ptePfn(pte) + (addr % (HPAGE_PMD_NR * PAGE_SIZE)) / PAGE_SIZE;
  } else if (pteSwpUffdWpAny(pte)) {
    flags |= PM_UFFD_WP;
  }
  for (; addr !== end; addr += PAGE_SIZE) {
    add(out, flags, frame);
    if (showPfn && (flags & PM_PRESENT) !== 0) frame++;
  }
  return 0;
}

/** The /proc/pid/pagemap walk ops (pagemap_ops). */
export const pagemapWalkOps: MmWalkOps<PagemapReadState> = {
  pmdEntry: pagemapPmdEntry,
  pteBatch: pagemapPteBatch,
  pteHole: pagemapPteHole,
  hugetlbEntry: pagemapHugetlbEntry,
  walkLock: WalkLock.Read,
};

export interface PagemapReadOptions {
  /** The reader has CAP_SYS_ADMIN: frames hold PFNs / swap entries (default true), else 0. */
  showPfn?: boolean;
}

/**
 * pread(pagemap_fd, buf, count, pos): fills `out` with the entries read.
 * Returns the bytes read (a multiple of 8; 0 past the end of user space),
 * or -EINVAL when `pos` or `count` is not a multiple of 8.
 */
export function pagemapRead(mm: Mm, pos: number, count: number, out: PagemapEntries, options: PagemapReadOptions = {}): number {
  if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(count) || pos < 0 || count < 0) return -Errno.EINVAL;
  if (pos % PM_ENTRY_BYTES !== 0 || count % PM_ENTRY_BYTES !== 0) return -Errno.EINVAL;
  out.reset(0);
  if (count === 0 || !mm.isLive) return 0;
  const taskSize = mm.geometry.taskSize;
  let start = (pos / PM_ENTRY_BYTES) * PAGE_SIZE;
  let end = taskSize;
  const wanted = start + (count / PM_ENTRY_BYTES) * PAGE_SIZE;
  if (wanted < taskSize) end = wanted;
  if (start > taskSize) start = end;
  if (start >= end) return 0;
  out.reset((end - start) / PAGE_SIZE);
  const err = walkPageRange(mm, start, end, pagemapWalkOps, { out, showPfn: options.showPfn ?? true });
  if (err < 0) return err;
  return out.length * PM_ENTRY_BYTES;
}

/** Reads the entries of `pages` pages from byte address `addr` (page aligned); -errno on failure. */
export function readPagemap(mm: Mm, addr: number, pages: number, options: PagemapReadOptions = {}): PagemapEntries | number {
  const out = new PagemapEntries();
  const ret = pagemapRead(mm, (addr / PAGE_SIZE) * PM_ENTRY_BYTES, pages * PM_ENTRY_BYTES, out, options);
  return ret < 0 ? ret : out;
}
