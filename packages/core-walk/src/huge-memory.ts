/**
 * Transparent huge pages at the PMD level (mm/huge_memory.c): the THP
 * allowance check, huge anonymous faults and their copy-on-write, PMD
 * splits and the zero-page remapping of split folios.
 */
import { UserfaultOutcome, UserfaultReason } from './feature.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_LRU, PG_MLOCKED, PG_SWAPBACKED, PG_ZERO } from './frames.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SIZE, pmdAlignDown, PTRS_PER_TABLE } from './geometry.js';
import { faultRealAddress, softDirtyBit, userfault } from './memory.js';
import type { Mm } from './mm.js';
import {
  isTableEntry,
  mkHugeLeaf,
  mkPte,
  mkTableEntry,
  pmdLeaf,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_HUGE,
  PTE_SOFT_DIRTY,
  PTE_SPECIAL,
  PTE_UFFD_WP,
  PTE_WRITE,
  pteFlags,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteUffdWp,
} from './pgtable.js';
import { accountPteUnmap, anonVmaPrepare } from './rmap.js';
import { isMigrationEntry, isSwapPte, isWritableMigrationEntry, makeMigrationEntry, swpOffset } from './swapops.js';
import { VM_FAULT_FALLBACK, VM_FAULT_SIGBUS } from './uapi.js';
import { VM_HUGEPAGE, VM_LOCKED, VM_NOHUGEPAGE, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';
import { pteTableBase } from './pgtable-nav.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { traceMm } from './trace.js';

/** Whether a PMD-sized THP may be allocated for `addr` (thp_vma_allowable_order + suitable). */
export function thpAllowed(mm: Mm, vma: Vma, addr: number, enforceSysfs = true): boolean {
  const mode = mm.kernel.profile.thp;
  if (!vma.isAnonymous || vma.isHugetlb) return false;
  if ((vma.flags & VM_NOHUGEPAGE) !== 0) return false;
  if (enforceSysfs) {
    if (mode === 'never') return false;
    if (mode === 'madvise' && (vma.flags & VM_HUGEPAGE) === 0) return false;
  } else if (mode === 'never' && (vma.flags & VM_HUGEPAGE) === 0) {
    return false;
  }
  const haddr = pmdAlignDown(addr);
  // thp_vma_suitable_order: the huge page must fit in the VMA with matching alignment.
  if (haddr < vma.start || haddr + PMD_SIZE > vma.end) return false;
  return true;
}

export function doHugePmdAnonymousPage(mm: Mm, vma: Vma, addr: number, pmdSlot: number, write: boolean): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  anonVmaPrepare(mm, vma);
  if (!write && mm.kernel.profile.zeroPage && mm.kernel.profile.thpZeroPage) {
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, false);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_huge_pmd_anonymous_page', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: 'huge-zero-page', pfn: frames.hugeZeroPfn(), order: 9 });
    tables.entries[pmdSlot] = mkHugeLeaf(frames.hugeZeroPfn(), PTE_SPECIAL | PTE_ACCESSED);
    return 0;
  }
  if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, addr, UserfaultReason.Missing, write);
  const head = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
  if (head === NO_FRAME) return VM_FAULT_FALLBACK;
  for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(head + i, PG_ANON_EXCLUSIVE);
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_huge_pmd_anonymous_page', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: 'thp', pfn: head, order: 9 });
  frames.refcount[head] = 1;
  frames.entireMapcount.set(head, 1);
  const bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm) | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
  tables.entries[pmdSlot] = mkHugeLeaf(head, bits);
  return 0;
}

export function doHugePmdWpPage(mm: Mm, vma: Vma, addr: number, pmdSlot: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pmd = tables.entries[pmdSlot]!;
  if (pteUffdWp(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
    const handler = mm.kernel.userfault;
    if (handler === null) return VM_FAULT_SIGBUS;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'handle_userfault', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: 'wp', write: true });
    const outcome = handler.handleUserfault(mm, vma, faultRealAddress(), UserfaultReason.Wp, true);
    if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
    if (outcome === UserfaultOutcome.Retry) return 0;
    // WP_ASYNC on a THP: split, so only the touched 4 KiB page loses protection.
    splitHugePmd(mm, vma, pmdSlot, addr);
    return VM_FAULT_FALLBACK;
  }
  const head = ptePfn(pmd);
  if (frames.has(head, PG_ZERO)) {
    // do_huge_zero_wp_pmd: replace the huge zero page by a fresh THP; split only if none can be had.
    const fresh = frames.alloc(9, PG_ANON | PG_SWAPBACKED | PG_LRU);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_huge_zero_wp_pmd', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: fresh === NO_FRAME ? 'split' : 'thp', pfn: fresh, order: 9 });
    if (fresh === NO_FRAME) {
      splitHugePmd(mm, vma, pmdSlot, addr);
      return VM_FAULT_FALLBACK;
    }
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(fresh + i, PG_ANON_EXCLUSIVE);
    frames.refcount[fresh] = 1;
    frames.entireMapcount.set(fresh, 1);
    const bits = PTE_ACCESSED | PTE_DIRTY | softDirtyBit(mm) | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
    tables.entries[pmdSlot] = mkHugeLeaf(fresh, bits);
    return 0;
  }
  if (frames.has(head, PG_ANON) && frames.refcount[head] === 1 && (frames.entireMapcount.get(head) ?? 0) === 1) {
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.set(head + i, PG_ANON_EXCLUSIVE);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_huge_pmd_wp_page', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: 'reuse', pfn: head, order: 9 });
    tables.entries[pmdSlot] = (pmd | PTE_WRITE | PTE_DIRTY | PTE_ACCESSED | softDirtyBit(mm)) >>> 0;
    return 0;
  }
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'do_huge_pmd_wp_page', addr: pmdAlignDown(addr), end: pmdAlignDown(addr) + PMD_SIZE, result: 'split', pfn: head, order: 9 });
  splitHugePmd(mm, vma, pmdSlot, addr);
  return VM_FAULT_FALLBACK;
}

/**
 * split_huge_pmd: replaces a huge PMD (THP, huge zero page, or a PMD
 * migration entry) by a PTE table mapping the same pages. The folio stays
 * large and becomes PTE-mapped; only the PMD mapping is converted.
 */
export function splitHugePmd(mm: Mm, vma: Vma, pmdSlot: number, _addr: number): void {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pmd = tables.entries[pmdSlot]!;
  if (!pmdLeaf(pmd) && !isSwapPte(pmd)) return;
  if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'split', fn: '__split_huge_pmd_locked', addr: pmdAlignDown(_addr), end: pmdAlignDown(_addr) + PMD_SIZE, result: isSwapPte(pmd) ? 'migration-entry' : pteSpecial(pmd) ? 'huge-zero-page' : 'thp', pfn: isSwapPte(pmd) ? swpOffset(pmd) : ptePfn(pmd), order: 9 });
  if (vma.isHugetlb) return;
  const tableId = tables.alloc();
  const base = tableId * PTRS_PER_TABLE;
  if (isSwapPte(pmd)) {
    const pfn = swpOffset(pmd);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      tables.entries[base + i] = makeMigrationEntry(pfn + i, isWritableMigrationEntry(pmd));
    }
    tables.entries[pmdSlot] = mkTableEntry(tableId);
    return;
  }
  const head = ptePfn(pmd);
  const flags = pteFlags(pmd) & ~PTE_HUGE;
  if (frames.has(head, PG_ZERO)) {
    const zero = frames.zeroPfn;
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      tables.entries[base + i] = mkPte(zero, (flags & (PTE_ACCESSED | PTE_UFFD_WP | PTE_SOFT_DIRTY)) | PTE_SPECIAL);
    }
    tables.entries[pmdSlot] = mkTableEntry(tableId);
    return;
  }
  // Convert one PMD mapping into 512 PTE mappings of the same folio.
  for (let i = 0; i < HPAGE_PMD_NR; i++) {
    tables.entries[base + i] = mkPte(head + i, flags);
    frames.mapcount[head + i] = frames.mapcount[head + i]! + 1;
  }
  frames.refcount[head] = frames.refcount[head]! + HPAGE_PMD_NR - 1;
  const entire = (frames.entireMapcount.get(head) ?? 1) - 1;
  if (entire === 0) frames.entireMapcount.delete(head);
  else frames.entireMapcount.set(head, entire);
  tables.entries[pmdSlot] = mkTableEntry(tableId);
}

/**
 * What __folio_split does for an anonymous folio once it is split (remap
 * with RMP_USE_SHARED_ZEROPAGE, since 6.12): every former subpage that is
 * all zero is mapped to the shared zero page instead (read-only, keeping
 * its soft-dirty and uffd-wp bits) and freed; not where the mapping VMA is
 * VM_LOCKED (checked per page: the folio's PTEs may lie in several VMAs)
 * or the folio mlocked. `head` was split with frames.splitFolio; its PTE
 * mappings are in the table under `pmdSlot`, which maps the 2 MiB around
 * `pmdAddr` (nothing moves them elsewhere: mremap is not modelled).
 */
export function mapUnusedToZeropage(mm: Mm, pmdSlot: number, pmdAddr: number, head: number): void {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const pmd = tables.entries[pmdSlot]!;
  if (!isTableEntry(pmd)) return;
  const base = pteTableBase(pmd);
  const pmdStart = pmdAlignDown(pmdAddr);
  for (let slot = base; slot < base + PTRS_PER_TABLE; slot++) {
    const pte = tables.entries[slot]!;
    if (!ptePresent(pte) || pteSpecial(pte)) continue;
    const pfn = ptePfn(pte);
    if (pfn < head || pfn >= head + HPAGE_PMD_NR) continue;
    // Each former subpage carries the folio's flags (the head page itself may be gone already).
    if (!frames.has(pfn, PG_ANON) || frames.has(pfn, PG_MLOCKED) || !isZeroFilled(frames.contents.peek(pfn))) continue;
    const mapping = mm.vmas.find(pmdStart + (slot - base) * PAGE_SIZE);
    if (mapping === null || (mapping.flags & VM_LOCKED) !== 0) continue;
    tables.entries[slot] = mkPte(frames.zeroPfn, PTE_SPECIAL | PTE_ACCESSED | (pte & (PTE_SOFT_DIRTY | PTE_UFFD_WP)));
    accountPteUnmap(mm, pfn);
  }
}

function isZeroFilled(bytes: Uint8Array | null): boolean {
  if (bytes === null) return true;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Splits the huge PMD containing `boundary` when the boundary falls inside it. */
export function splitPartialHugePmd(mm: Mm, vma: Vma, boundary: number): void {
  if (boundary % PMD_SIZE === 0 || vma.isHugetlb) return;
  const slot = mm.pmdSlot(boundary, false);
  if (slot < 0) return;
  const pmd = mm.kernel[TABLES].entries[slot]!;
  if (pmdLeaf(pmd) || (isSwapPte(pmd) && isMigrationEntry(pmd))) splitHugePmd(mm, vma, slot, boundary);
}
