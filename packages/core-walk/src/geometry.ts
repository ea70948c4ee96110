/**
 * x86-64 paging geometry: the only module that does address arithmetic.
 *
 * Addresses are plain numbers (virtual addresses are < 2^57, well inside
 * 2^53), so shifts (`>>`, `<<`) that would truncate to 32 bits are never
 * used on them; division by powers of two is exact for these values.
 *
 *   4-level: | PGD 47..39 | PUD 38..30 | PMD 29..21 | PTE 20..12 | offset 11..0 |   (P4D folded)
 *   5-level: | PGD 56..48 | P4D 47..39 | PUD 38..30 | PMD 29..21 | PTE 20..12 | offset |
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PTRS_PER_TABLE = 512;
export const PMD_SHIFT = 21;
export const PMD_SIZE = 2 ** PMD_SHIFT;
export const PUD_SHIFT = 30;
export const PUD_SIZE = 2 ** PUD_SHIFT;
export const P4D_SHIFT = 39;
export const P4D_SIZE = 2 ** P4D_SHIFT;
export const HPAGE_PMD_NR = PMD_SIZE / PAGE_SIZE;

/** Table levels, top to bottom. */
export const Level = { Pgd: 0, P4d: 1, Pud: 2, Pmd: 3, Pte: 4 } as const;
export type Level = (typeof Level)[keyof typeof Level];

export interface PagingGeometry {
  readonly levels: 4 | 5;
  /** Shift of the address bits indexing the PGD. */
  readonly pgdShift: number;
  /** One past the highest user address (TASK_SIZE_MAX). */
  readonly taskSize: number;
  /** mmap_min_addr default. */
  readonly mmapMinAddr: number;
}

export function pagingGeometry(fiveLevel: boolean): PagingGeometry {
  return fiveLevel
    ? { levels: 5, pgdShift: 48, taskSize: 2 ** 56 - PAGE_SIZE, mmapMinAddr: 65536 }
    : { levels: 4, pgdShift: 39, taskSize: 2 ** 47 - PAGE_SIZE, mmapMinAddr: 65536 };
}

/** 2^shift for every shift an address can need: a table lookup, not a Math.pow call. */
const POW2: readonly number[] = Array.from({ length: 64 }, (_, shift) => 2 ** shift);

/** Index of `addr` in a table whose entries each cover 2^shift bytes. */
export function tableIndex(addr: number, shift: number): number {
  return Math.floor(addr / POW2[shift]!) % PTRS_PER_TABLE;
}

export const pteIndex = (addr: number): number => Math.floor(addr / PAGE_SIZE) % PTRS_PER_TABLE;
export const pmdIndex = (addr: number): number => Math.floor(addr / PMD_SIZE) % PTRS_PER_TABLE;
export const pudIndex = (addr: number): number => Math.floor(addr / PUD_SIZE) % PTRS_PER_TABLE;

/** The kernel's X_addr_end(): the next boundary of a 2^shift region, capped at `end`. */
export function addrEnd(addr: number, end: number, shift: number): number {
  const size = POW2[shift]!;
  const boundary = (Math.floor(addr / size) + 1) * size;
  return boundary < end ? boundary : end;
}

export const pmdAddrEnd = (addr: number, end: number): number => addrEnd(addr, end, PMD_SHIFT);
export const pudAddrEnd = (addr: number, end: number): number => addrEnd(addr, end, PUD_SHIFT);
export const p4dAddrEnd = (addr: number, end: number): number => addrEnd(addr, end, P4D_SHIFT);

export const pageAlignDown = (addr: number): number => Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
export const pageAlignUp = (addr: number): number => Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
export const isPageAligned = (addr: number): boolean => addr % PAGE_SIZE === 0;
export const pmdAlignDown = (addr: number): number => Math.floor(addr / PMD_SIZE) * PMD_SIZE;
export const isPmdAligned = (addr: number): boolean => addr % PMD_SIZE === 0;
export const pageNumber = (addr: number): number => Math.floor(addr / PAGE_SIZE);
