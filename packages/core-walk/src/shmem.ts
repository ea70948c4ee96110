/**
 * shmem / memfd files (mm/shmem.c): a page cache of fixed size. Each index
 * holds a frame (pfn > 0), a swapped-out page (-slot) or nothing (0, a hole
 * that reads as zeros). Also the page-cache lookup of a fault and hole
 * punching (shmem_get_folio, shmem_truncate_range).
 */
import { NO_FRAME, PG_LRU, PG_PAGECACHE, PG_SWAPBACKED } from './frames.js';
import { PAGE_SIZE } from './geometry.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';
import { FRAMES } from './readonly-pools.js';

let nextFileId = 1;

export interface FileMapping {
  readonly mm: Mm;
  readonly vma: Vma;
}

/**
 * A file's page-cache index (the address_space xarray): page index → pfn
 * (> 0), -swap slot (< 0) or 0, kept in 4096-entry chunks made on first
 * store, so a 1 TiB file costs host memory only for the pages it holds.
 */
export class PageCacheIndex {
  private static readonly CHUNK = 4096;
  private readonly chunks = new Map<number, Int32Array>();

  constructor(readonly length: number) {}

  get(index: number): number {
    const chunk = this.chunks.get(Math.floor(index / PageCacheIndex.CHUNK));
    return chunk === undefined ? 0 : chunk[index % PageCacheIndex.CHUNK]!;
  }

  set(index: number, value: number): void {
    const key = Math.floor(index / PageCacheIndex.CHUNK);
    let chunk = this.chunks.get(key);
    if (chunk === undefined) {
      if (value === 0) return;
      chunk = new Int32Array(PageCacheIndex.CHUNK);
      this.chunks.set(key, chunk);
    }
    chunk[index % PageCacheIndex.CHUNK] = value;
  }

  /** The non-zero indexes in [first, end), in ascending order (visits only chunks that exist). */
  stored(first = 0, end = this.length): number[] {
    const out: number[] = [];
    const keys = [...this.chunks.keys()].filter((key) => (key + 1) * PageCacheIndex.CHUNK > first && key * PageCacheIndex.CHUNK < end).sort((a, b) => a - b);
    for (const key of keys) {
      const chunk = this.chunks.get(key)!;
      const base = key * PageCacheIndex.CHUNK;
      for (let i = Math.max(0, first - base); i < PageCacheIndex.CHUNK && base + i < end; i++) if (chunk[i] !== 0) out.push(base + i);
    }
    return out;
  }
}

export class ShmemFile {
  readonly id = nextFileId++;
  /** pfn (> 0), -swap slot (< 0) or 0 per page index. */
  readonly cache: PageCacheIndex;
  /** An fd refers to the file (memfd); shared anonymous memory has none. */
  open = true;

  constructor(
    readonly name: string,
    readonly pages: number,
    /** Every live mm of the kernel that created the file (the i_mmap tree is derived from their VMAs). */
    private readonly liveMms: () => Iterable<Mm>,
    /** A hugetlbfs file (MFD_HUGETLB): 2 MiB pages, cached at their first 4 KiB index. */
    readonly hugetlb = false,
  ) {
    this.cache = new PageCacheIndex(pages);
  }

  get size(): number {
    return this.pages * PAGE_SIZE;
  }

  /** VMAs mapping any page in [first, end) of this file (vma_interval_tree_foreach). */
  *mappings(first: number, end: number): Generator<FileMapping> {
    for (const mm of this.liveMms()) {
      for (const vma of mm.vmas.all()) {
        if (vma.file !== this) continue;
        if (vma.pgoff < end && vma.pgoff + vma.pages > first) yield { mm, vma };
      }
    }
  }
}

/** The page-cache frame for `index` of the VMA's file, swapping in or allocating as needed. */
export function shmemGetPage(mm: Mm, vma: Vma, index: number): number {
  const file = vma.file!;
  const frames = mm.kernel[FRAMES];
  const cached = file.cache.get(index);
  if (cached > 0) return cached;
  const pfn = frames.alloc(0, PG_SWAPBACKED | PG_LRU | PG_PAGECACHE);
  if (pfn === NO_FRAME) return NO_FRAME;
  if (cached < 0) {
    const swap = mm.kernel.swap!;
    frames.contents.copyFrom(swap.contents, -cached, pfn);
    swap.free(-cached);
  }
  frames.get(pfn); // the page cache's reference
  file.cache.set(index, pfn);
  return pfn;
}

export function truncateRange(mm: Mm, cache: PageCacheIndex, first: number, last: number): void {
  const frames = mm.kernel[FRAMES];
  for (const index of cache.stored(first, last)) {
    const value = cache.get(index);
    if (value > 0) {
      frames.clear(value, PG_LRU);
      frames.put(value);
    } else if (value < 0) {
      mm.kernel.swap?.free(-value);
    }
    cache.set(index, 0);
  }
}
