/**
 * Test fixtures for packages built on core-walk: a kernel and mm in one
 * call, mapping helpers, and an invariant assertion.
 */
import { createKernel, tablesOf, type Kernel, type KernelOptions } from './kernel.js';
import { checkInvariants } from './invariants.js';
import type { Mm } from './mm.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, AccessKind } from './uapi.js';
import { HPAGE_PMD_NR, PAGE_SIZE } from './geometry.js';
import { ptePfn, ptePresent } from './pgtable.js';
import { isPfnSwapEntry, isPteMarker, isRealSwapEntry, swpOffset } from './swapops.js';

/** A 1 GiB-aligned address used as the arena base by tests and scenarios. */
export const TEST_ARENA_BASE = 0x7e0000000000;

/** One page in bytes (PAGE_SIZE), the unit tests count addresses in. */
export const P = PAGE_SIZE;
/** PROT_READ | PROT_WRITE. */
export const RW = PROT_READ | PROT_WRITE;
/** Private anonymous memory at a fixed address that must be free (MAP_FIXED_NOREPLACE). */
export const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
export const MIB = 2 ** 20;
export const GIB = 2 ** 30;
export const TIB = 2 ** 40;

export function createTestMm(options: KernelOptions = {}): { kernel: Kernel; mm: Mm } {
  const kernel = createKernel(options);
  return { kernel, mm: kernel.createMm() };
}

/** Maps `pages` of private (or shared) anonymous rw memory at arena page `page`; returns the address. */
export function mapAnon(mm: Mm, page: number, pages: number, options: { prot?: number; shared?: boolean; flags?: number } = {}): number {
  const addr = TEST_ARENA_BASE + page * PAGE_SIZE;
  const prot = options.prot ?? PROT_READ | PROT_WRITE;
  const flags = (options.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | (options.flags ?? 0);
  const result = mm.mmap(addr, pages * PAGE_SIZE, prot, flags);
  if (result !== addr) throw new Error(`mapAnon failed: ${result}`);
  return addr;
}

/** Writes `value` at offset 0 of each page. */
export function writePages(mm: Mm, addr: number, pages: number, value: number): void {
  for (let i = 0; i < pages; i++) {
    const r = mm.access(addr + i * PAGE_SIZE, AccessKind.Write, value);
    if (r < 0) throw new Error(`write fault ${r} at page ${i}`);
  }
}

/** Throws with every broken invariant listed. */
export function assertInvariants(kernel: Kernel): void {
  const problems = checkInvariants(kernel);
  if (problems.length > 0) throw new Error(`invariants broken:\n${problems.slice(0, 20).join('\n')}`);
}

/**
 * The bytes a process would read at the page holding `addr`, found without
 * touching anything (no fault, no accessed bit): through the PTE or PMD
 * (present, swapped, migration / device entries), else the page cache of a
 * file VMA. null means all zero; undefined, no mapping or a marker.
 */
export function peekPage(mm: Mm, addr: number): Uint8Array | null | undefined {
  const kernel = mm.kernel;
  const vma = mm.vmas.lookup(addr);
  if (vma === null) return undefined;
  const { level, entry } = mm.entryAt(addr);
  if (entry !== 0) {
    if (ptePresent(entry)) {
      const pfn = ptePfn(entry) + (level === 'pmd' ? Math.floor(addr / PAGE_SIZE) % HPAGE_PMD_NR : 0);
      return kernel.frames.contents.peek(pfn);
    }
    if (isRealSwapEntry(entry)) return kernel.swap === null ? undefined : kernel.swap.contents.peek(swpOffset(entry));
    if (isPfnSwapEntry(entry)) return kernel.frames.contents.peek(swpOffset(entry) + (level === 'pmd' ? Math.floor(addr / PAGE_SIZE) % HPAGE_PMD_NR : 0));
    if (!isPteMarker(entry)) return undefined;
  }
  const file = vma.file;
  if (file === null) return null;
  const index = file.hugetlb ? vma.pageIndex(addr - (addr % (HPAGE_PMD_NR * PAGE_SIZE))) : vma.pageIndex(addr);
  if (index >= file.pages) return undefined;
  const cached = file.cache.get(index);
  if (cached > 0) return kernel.frames.contents.peek(cached + (file.hugetlb ? Math.floor(addr / PAGE_SIZE) % HPAGE_PMD_NR : 0));
  if (cached < 0) return kernel.swap === null ? undefined : kernel.swap.contents.peek(-cached);
  return null;
}

/**
 * For tests only (eslint allows it in *.test.ts files): replaces the PTE
 * mapping `addr` with `make(old)`, with no accounting, to plant an entry no
 * system call makes on its own (a marker, a migration entry). Throws when
 * `addr` has no PTE table. Shipped code changes page tables through system
 * calls, or, in the mm packages, through '@pagewalk/core-walk/mm-internal'.
 */
export function plantPteForTest(mm: Mm, addr: number, make: (old: number) => number): void {
  const slot = mm.pteSlot(addr);
  if (slot < 0) throw new Error(`no PTE table at ${addr.toString(16)}`);
  const tables = tablesOf(mm.kernel);
  tables.entries[slot] = make(tables.entries[slot]!) >>> 0;
}
