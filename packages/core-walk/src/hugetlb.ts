/**
 * hugetlb faults (mm/hugetlb.c): 2 MiB pages from the reserved pool,
 * mapped by a PMD-level entry.
 */
import { UserfaultOutcome, UserfaultReason } from './feature.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_HUGETLB, PG_PAGECACHE } from './frames.js';
import { HPAGE_PMD_NR, pmdAlignDown } from './geometry.js';
import { userfault } from './memory.js';
import type { Mm } from './mm.js';
import { mkHugeLeaf, pmdLeaf, PTE_ACCESSED, PTE_DIRTY, PTE_UFFD_WP, PTE_WRITE, ptePfn, pteUffdWp, pteWrite } from './pgtable.js';
import { isPteMarker, isUffdWpPteMarker } from './swapops.js';
import { FAULT_FLAG_WRITE, VM_FAULT_OOM, VM_FAULT_SIGBUS } from './uapi.js';
import { VM_SHARED, VM_UFFD_MISSING, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';
import { FRAMES, TABLES } from './readonly-pools.js';
import { pmdSlotOf } from './pgtable-nav.js';
import { traceMm } from './trace.js';

export function hugetlbFault(mm: Mm, vma: Vma, addr: number, flags: number): number {
  const tables = mm.kernel[TABLES];
  const frames = mm.kernel[FRAMES];
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  const haddr = pmdAlignDown(addr);
  const slot = pmdSlotOf(mm, haddr, true);
  let pmd = tables.entries[slot]!;
  if (isPteMarker(pmd) && isUffdWpPteMarker(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
    pmd = 0;
  }
  if (pmd === 0 || isPteMarker(pmd)) {
    const markerWp = isPteMarker(tables.entries[slot]!) && isUffdWpPteMarker(tables.entries[slot]!);
    if ((vma.flags & VM_UFFD_MISSING) !== 0) return userfault(mm, vma, haddr, UserfaultReason.Missing, write);
    let head: number;
    const shared = (vma.flags & VM_SHARED) !== 0;
    const file = vma.file;
    const index = vma.pageIndex(haddr);
    if (shared && file !== null && file.cache.get(index) > 0) {
      head = file.cache.get(index);
    } else {
      head = frames.alloc(9, PG_HUGETLB | PG_ANON_EXCLUSIVE | (shared ? PG_PAGECACHE : PG_ANON));
      if (head === NO_FRAME) return VM_FAULT_OOM;
      if (shared && file !== null) {
        file.cache.set(index, head);
        frames.get(head);
      }
    }
    frames.get(head);
    frames.entireMapcount.set(head, (frames.entireMapcount.get(head) ?? 0) + 1);
    let bits = PTE_ACCESSED | ((vma.flags & VM_WRITE) !== 0 && (write || shared) ? PTE_WRITE : 0) | (write ? PTE_DIRTY : 0);
    if (markerWp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'hugetlb_fault', addr: haddr, end: haddr + HPAGE_PMD_NR * 4096, result: shared && file !== null ? 'page-cache' : 'new', pfn: head, order: 9 });
    tables.entries[slot] = mkHugeLeaf(head, bits);
    return 0;
  }
  if (!pmdLeaf(pmd)) return VM_FAULT_SIGBUS;
  if (write && !pteWrite(pmd)) {
    if (pteUffdWp(pmd) && (vma.flags & VM_UFFD_WP) !== 0) {
      const handler = mm.kernel.userfault;
      if (handler === null) return VM_FAULT_SIGBUS;
      const outcome = handler.handleUserfault(mm, vma, haddr, UserfaultReason.Wp, true);
      if (outcome === UserfaultOutcome.Sigbus) return VM_FAULT_SIGBUS;
      if (outcome === UserfaultOutcome.Retry) return 0;
      pmd = (pmd & ~PTE_UFFD_WP) >>> 0;
    }
    const head = ptePfn(pmd);
    if ((vma.flags & VM_SHARED) !== 0 || (frames.refcount[head] === 1 && frames.has(head, PG_ANON))) {
      if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'hugetlb_fault', addr: haddr, end: haddr + HPAGE_PMD_NR * 4096, result: 'reuse', pfn: head, order: 9 });
      tables.entries[slot] = (pmd | PTE_WRITE | PTE_DIRTY | PTE_ACCESSED) >>> 0;
      return 0;
    }
    // hugetlb COW: a new huge page with a copy of the data.
    const copy = frames.alloc(9, PG_HUGETLB | PG_ANON | PG_ANON_EXCLUSIVE);
    if (copy === NO_FRAME) return VM_FAULT_OOM;
    for (let i = 0; i < HPAGE_PMD_NR; i++) frames.contents.copyFrom(frames.contents, head + i, copy + i);
    frames.get(copy);
    frames.entireMapcount.set(copy, 1);
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'hugetlb_fault', addr: haddr, end: haddr + HPAGE_PMD_NR * 4096, result: 'copy', pfn: copy, order: 9 });
    tables.entries[slot] = mkHugeLeaf(copy, PTE_WRITE | PTE_DIRTY | PTE_ACCESSED);
    const entire = (frames.entireMapcount.get(head) ?? 1) - 1;
    if (entire === 0) frames.entireMapcount.delete(head);
    else frames.entireMapcount.set(head, entire);
    frames.put(head);
    return 0;
  }
  tables.entries[slot] = (pmd | PTE_ACCESSED) >>> 0;
  return 0;
}
