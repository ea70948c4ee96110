/**
 * PMD collapse (mm/khugepaged.c, as MADV_COLLAPSE runs it): the scan of a
 * PTE table, its result codes, and the copy into a fresh THP.
 */
import { Errno, NOT_MODELLED } from './errno.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_LRU, PG_SWAPBACKED } from './frames.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SIZE } from './geometry.js';
import { handleMmFault } from './memory.js';
import type { Mm } from './mm.js';
import {
  isTableEntry,
  mkHugeLeaf,
  pmdLeaf,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_WRITE,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteUffdWp,
  tableIdOf,
} from './pgtable.js';
import { accountPteUnmap } from './rmap.js';
import { isGuardPteMarker, isPteMarker, isRealSwapEntry, isSwapPte, pteSwpUffdWpAny } from './swapops.js';
import { VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV } from './uapi.js';
import { VM_HUGETLB, VM_NOHUGEPAGE, VM_SPECIAL, VM_UFFD_FLAGS, VM_WRITE, type Vma } from './vma.js';
import { pteTableBase } from './pgtable-nav.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm } from './trace.js';

/**
 * thp_vma_allowable_order(vma, TVA_FORCED_COLLAPSE, PMD_ORDER): the sysfs
 * THP modes do not matter to MADV_COLLAPSE; VM_NOHUGEPAGE, special and
 * hugetlb VMAs do, and the VMA must hold an aligned 2 MiB block at its end
 * (a file VMA also with its file offset aligned). An anonymous VMA needs
 * its anon_vma (a fault happened); shmem allows the PMD order when forced.
 */
function collapseAllowed(vma: Vma): boolean {
  if ((vma.flags & (VM_NOHUGEPAGE | VM_SPECIAL | VM_HUGETLB)) !== 0) return false;
  const haddr = Math.floor((vma.end - PMD_SIZE) / PMD_SIZE) * PMD_SIZE;
  if (haddr < vma.start || haddr + PMD_SIZE > vma.end) return false;
  if (!vma.isAnonymous) return (vma.start / PAGE_SIZE - vma.pgoff) % HPAGE_PMD_NR === 0;
  return vma.anonVma !== null;
}

/**
 * MADV_COLLAPSE (madvise_collapse) on one VMA's part [start, end): each
 * aligned 2 MiB block becomes a PMD-mapped THP. A range holding no whole
 * block is 0 when its rounded bounds meet and -EINVAL when they cross (the
 * kernel counts the blocks unsigned). File (shmem) THPs are not modelled:
 * a file block with nothing in the page cache fails as the kernel's does
 * (-EINVAL), one with pages gives NOT_MODELLED.
 */
export function madviseCollapse(mm: Mm, vma: Vma, start: number, end: number): number {
  if (!collapseAllowed(vma)) return -Errno.EINVAL;
  const hstart = Math.ceil(start / PMD_SIZE) * PMD_SIZE;
  const hend = Math.floor(end / PMD_SIZE) * PMD_SIZE;
  if (hstart > hend) return -Errno.EINVAL;
  if (hstart === hend) return 0;
  if (!vma.isAnonymous) {
    const file = vma.file;
    if (file === null) return NOT_MODELLED;
    const first = vma.pageIndex(hstart);
    for (let index = first; index < first + HPAGE_PMD_NR && index < file.pages; index++) {
      if (file.cache.get(index) !== 0) return NOT_MODELLED;
    }
    return -Errno.EINVAL;
  }
  let lastFail: Scan = Scan.Fail;
  let collapsed = 0;
  for (let addr = hstart; addr < hend; addr += PMD_SIZE) {
    const result = collapseScanPmd(mm, vma, addr);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'collapse', fn: 'hpage_collapse_scan_pmd', addr, end: addr + PMD_SIZE, result: SCAN_NAMES[result]! });
    if (result === Scan.Succeed || result === Scan.PmdMapped) {
      collapsed++;
      continue;
    }
    lastFail = result;
    // madvise_collapse goes on to the next block only after these results.
    if (!SCAN_CONTINUES.has(result)) break;
  }
  return collapsed === (hend - hstart) / PMD_SIZE ? 0 : collapseErrno(lastFail);
}

/** The scan results of mm/khugepaged.c that decide MADV_COLLAPSE's outcome. */
const enum Scan {
  Succeed,
  Fail,
  PmdNull,
  PmdNone,
  PmdMapped,
  ExceedNonePte,
  PteUffdWp,
  PageNull,
  PageAnon,
  PageCount,
  AllocHugePageFail,
}

/** The scan results by their kernel names (SCAN_*), for the trace. */
const SCAN_NAMES = ['SCAN_SUCCEED', 'SCAN_FAIL', 'SCAN_PMD_NULL', 'SCAN_PMD_NONE', 'SCAN_PMD_MAPPED', 'SCAN_EXCEED_NONE_PTE', 'SCAN_PTE_UFFD_WP', 'SCAN_PAGE_NULL', 'SCAN_PAGE_ANON', 'SCAN_PAGE_COUNT', 'SCAN_ALLOC_HUGE_PAGE_FAIL'];

/** Results after which madvise_collapse tries the next block (the others end it). */
const SCAN_CONTINUES: ReadonlySet<Scan> = new Set([Scan.PmdNull, Scan.PteUffdWp, Scan.PageNull, Scan.PageCount]);

/** madvise_collapse_errno. */
function collapseErrno(result: Scan): number {
  switch (result) {
    case Scan.AllocHugePageFail:
      return -Errno.ENOMEM;
    case Scan.ExceedNonePte:
      return -Errno.EBUSY;
    case Scan.PageCount:
      return -Errno.EAGAIN;
    default:
      return -Errno.EINVAL;
  }
}

/**
 * hpage_collapse_scan_pmd for MADV_COLLAPSE, then the collapse. The PTEs are
 * checked in address order and the first that refuses decides: a uffd-wp
 * swap entry or marker, then a none or zero-page PTE in a VMA armed with
 * userfaultfd (it must not gain pages it did not have: EBUSY), then a
 * uffd-wp PTE, then a page that is not a normal anonymous one.
 */
function collapseScanPmd(mm: Mm, vma: Vma, haddr: number): Scan {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pmdSlot = mm.pmdSlot(haddr, false);
  if (pmdSlot < 0) return Scan.PmdNull;
  const pmd = tables.entries[pmdSlot]!;
  if (pmd === 0) return Scan.PmdNone;
  if (pmdLeaf(pmd) || isSwapPte(pmd)) return Scan.PmdMapped;
  if (!isTableEntry(pmd)) return Scan.PmdNull;
  const armed = (vma.flags & VM_UFFD_FLAGS) !== 0;
  const base = pteTableBase(pmd);
  // (6.18 collapses read-only and all-empty / zero-page tables too: no writability rule.)
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    if (pte !== 0 && isSwapPte(pte)) {
      if (pteSwpUffdWpAny(pte)) return Scan.PteUffdWp;
      continue;
    }
    if (pte === 0 || ptePfn(pte) === frames.zeroPfn) {
      if (armed) return Scan.ExceedNonePte;
      continue;
    }
    if (pteUffdWp(pte)) return Scan.PteUffdWp;
    if (pteSpecial(pte)) return Scan.PageNull;
    if (!frames.has(frames.folioOf(ptePfn(pte)), PG_ANON)) return Scan.PageAnon;
  }
  // __collapse_huge_page_swapin: fault in what is swapped out. A guard
  // marker faults with SIGSEGV (SCAN_FAIL); a migration entry leaves the
  // page busy (the isolation that follows finds it locked: try again).
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    if (pte === 0 || !isSwapPte(pte)) continue;
    if (isPteMarker(pte) || isGuardPteMarker(pte)) return Scan.Fail;
    if (!isRealSwapEntry(pte)) return Scan.PageCount;
    const fault = handleMmFault(mm, vma, haddr + i * PAGE_SIZE, 0);
    if (fault & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_OOM)) return Scan.Fail;
  }
  const head = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
  if (head === NO_FRAME) return Scan.AllocHugePageFail;
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    const pte = tables.entries[base + i]!;
    frames.set(head + i, PG_ANON_EXCLUSIVE);
    if (ptePresent(pte) && !pteSpecial(pte)) {
      frames.contents.copyFrom(frames.contents, ptePfn(pte), head + i);
      accountPteUnmap(mm, ptePfn(pte));
    }
    tables.entries[base + i] = 0;
  }
  tables.release(tableIdOf(pmd));
  frames.refcount[head] = 1;
  frames.entireMapcount.set(head, 1);
  tables.entries[pmdSlot] = mkHugeLeaf(head, PTE_ACCESSED | PTE_DIRTY | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  return Scan.Succeed;
}
