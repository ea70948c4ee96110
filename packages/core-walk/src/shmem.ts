/**
 * shmem / memfd files: a page cache of fixed size. Each index holds a frame
 * (pfn > 0), a swapped-out page (-slot) or nothing (0, a hole that reads as
 * zeros).
 */
import { PAGE_SIZE } from './geometry.js';
import type { Mm } from './mm.js';
import type { Vma } from './vma.js';

let nextFileId = 1;

export interface FileMapping {
  readonly mm: Mm;
  readonly vma: Vma;
}

export class ShmemFile {
  readonly id = nextFileId++;
  /** pfn (> 0), -swap slot (< 0) or 0 per page index. */
  readonly cache: Int32Array;
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
    this.cache = new Int32Array(pages);
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
