/**
 * Filling missing pages on behalf of a fault handler: UFFDIO_COPY,
 * UFFDIO_ZEROPAGE and UFFDIO_CONTINUE (mm/userfaultfd.c mfill_atomic and
 * its per-PTE steps, mm/shmem.c shmem_mfill_atomic_pte). All work page by
 * page and stop at the first failure; the result is the number of bytes
 * filled, or -errno when nothing was.
 */
import {
  Errno,
  HPAGE_PMD_NR,
  NO_FRAME,
  PAGE_SIZE,
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_DIRTY,
  PG_HUGETLB,
  PG_LRU,
  PG_PAGECACHE,
  PG_SWAPBACKED,
  PMD_SIZE,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SPECIAL,
  PTE_UFFD_WP,
  PTE_WRITE,
  VM_SHARED,
  VM_UFFD_WP,
  VM_WRITE,
  isTableEntry,
  isUffdWpPteMarker,
  isPteMarker,
  mkHugeLeaf,
  mkPte,
  pmdLeaf,
  type Mm,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { isKernelAnonymous } from './vma-state.js';

const { accountPteMap, allocTableAt, anonVmaPrepare, framesOf, pmdSlotOf, shmemGetPage, tablesOf } = claimMmInternal();

export const MfillMode = { Copy: 0, Zeropage: 1, Continue: 2 } as const;
export type MfillMode = (typeof MfillMode)[keyof typeof MfillMode];

export interface MfillRequest {
  readonly mode: MfillMode;
  readonly dst: number;
  readonly len: number;
  /** UFFDIO_COPY's source bytes (len of them); ignored otherwise. */
  readonly src: Uint8Array | null;
  /** MFILL_ATOMIC_WP: map the new page write-protected. */
  readonly wp: boolean;
}

/** pte_none_mostly(): none, or an uffd-wp marker (which a fill may replace). */
function noneMostly(entry: number): boolean {
  return entry === 0 || (isPteMarker(entry) && isUffdWpPteMarker(entry));
}

function writeBytes(mm: Mm, pfn: number, src: Uint8Array | null, from: number): void {
  if (src === null) return;
  const contents = framesOf(mm.kernel).contents;
  for (let offset = 0; offset < PAGE_SIZE; offset++) {
    const value = src[from + offset] ?? 0;
    if (value !== 0 || contents.has(pfn)) contents.writeByte(pfn, offset, value);
  }
}

/** mfill_atomic_install_pte: maps `pfn` at `slot` (which must be none-mostly). */
function installPte(mm: Mm, vma: Vma, slot: number, pfn: number, inCache: boolean, wp: boolean): void {
  const shared = (vma.flags & VM_SHARED) !== 0;
  let bits = PTE_ACCESSED | PTE_DIRTY;
  if ((vma.flags & VM_WRITE) !== 0 && !(inCache && !shared)) bits |= PTE_WRITE;
  if (wp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
  accountPteMap(mm, pfn);
  tablesOf(mm.kernel).entries[slot] = mkPte(pfn, bits);
}

/** A zeroed, exclusive anonymous page (refcount 0 until mapped). */
function allocAnon(mm: Mm, vma: Vma): number {
  anonVmaPrepare(mm, vma);
  return framesOf(mm.kernel).alloc(0, PG_ANON | PG_SWAPBACKED | PG_LRU | PG_ANON_EXCLUSIVE);
}

/** One page of a non-hugetlb fill at `addr`. Returns 0 or -errno. */
function mfillPte(mm: Mm, vma: Vma, addr: number, from: number, request: MfillRequest): number {
  const tables = tablesOf(mm.kernel);
  const frames = framesOf(mm.kernel);
  const pmdSlot = pmdSlotOf(mm, addr, true);
  if (pmdSlot < 0) return -Errno.ENOMEM;
  if (tables.entries[pmdSlot] === 0) allocTableAt(mm, pmdSlot);
  const pmd = tables.entries[pmdSlot]!;
  // A THP (or anything but a table) is left alone: the fill is strict.
  if (pmdLeaf(pmd) || !isTableEntry(pmd)) return -Errno.EEXIST;
  const slot = mm.pteSlot(addr, false);
  const entry = tables.entries[slot]!;
  const file = vma.file;
  const index = file === null ? 0 : vma.pageIndex(addr);
  if (file !== null && index >= file.pages) return -Errno.EFAULT;

  if (request.mode === MfillMode.Continue) {
    // mfill_atomic_pte_continue: map the page the page cache already holds.
    if (file === null || file.cache.get(index) === 0) return -Errno.EFAULT;
    if (!noneMostly(entry)) return -Errno.EEXIST;
    const pfn = shmemGetPage(mm, vma, index);
    if (pfn === NO_FRAME) return -Errno.ENOMEM;
    installPte(mm, vma, slot, pfn, true, request.wp);
    return 0;
  }
  if ((vma.flags & VM_SHARED) === 0) {
    if (request.mode === MfillMode.Zeropage) {
      // mfill_atomic_pte_zeropage: the shared zero page, only over a none entry.
      if (entry !== 0) return -Errno.EEXIST;
      tables.entries[slot] = mkPte(frames.zeroPfn, PTE_SPECIAL | PTE_ACCESSED);
      return 0;
    }
    if (!noneMostly(entry)) return -Errno.EEXIST;
    const pfn = allocAnon(mm, vma);
    if (pfn === NO_FRAME) return -Errno.ENOMEM;
    writeBytes(mm, pfn, request.src, from);
    installPte(mm, vma, slot, pfn, false, request.wp);
    return 0;
  }
  // shmem_mfill_atomic_pte: a new page-cache page (zeroed or copied), mapped.
  if (file === null) return -Errno.EINVAL;
  if (!noneMostly(entry)) return -Errno.EEXIST;
  if (file.cache.get(index) !== 0) return -Errno.EEXIST;
  const pfn = frames.alloc(0, PG_SWAPBACKED | PG_LRU | PG_PAGECACHE | PG_DIRTY);
  if (pfn === NO_FRAME) return -Errno.ENOMEM;
  if (request.mode === MfillMode.Copy) writeBytes(mm, pfn, request.src, from);
  frames.get(pfn); // the page cache's reference
  file.cache.set(index, pfn);
  installPte(mm, vma, slot, pfn, true, request.wp);
  return 0;
}

/** mfill_atomic_hugetlb: whole 2 MiB pages, COPY only (there is no hugetlb zero page). */
function mfillHugetlb(mm: Mm, vma: Vma, request: MfillRequest): number {
  if (request.mode === MfillMode.Zeropage) return -Errno.EINVAL;
  if (request.mode === MfillMode.Continue) return -Errno.EINVAL; // MINOR on hugetlb is not modelled
  if (request.dst % PMD_SIZE !== 0 || request.len % PMD_SIZE !== 0) return -Errno.EINVAL;
  const tables = tablesOf(mm.kernel);
  const frames = framesOf(mm.kernel);
  const shared = (vma.flags & VM_SHARED) !== 0;
  let copied = 0;
  for (let addr = request.dst; addr < request.dst + request.len; addr += PMD_SIZE) {
    const slot = pmdSlotOf(mm, addr, true);
    if (slot < 0) return copied || -Errno.ENOMEM;
    if (!noneMostly(tables.entries[slot]!)) return copied || -Errno.EEXIST;
    const file = vma.file;
    const index = vma.pageIndex(addr);
    if (shared && file !== null && file.cache.get(index) !== 0) return copied || -Errno.EEXIST;
    const head = frames.alloc(9, PG_HUGETLB | PG_ANON_EXCLUSIVE | (shared ? PG_PAGECACHE : PG_ANON));
    if (head === NO_FRAME) return copied || -Errno.ENOMEM;
    for (let i = 0; i < HPAGE_PMD_NR; i++) writeBytes(mm, head + i, request.src, addr - request.dst + i * PAGE_SIZE);
    if (shared && file !== null) {
      file.cache.set(index, head);
      frames.get(head);
    }
    frames.get(head);
    frames.entireMapcount.set(head, (frames.entireMapcount.get(head) ?? 0) + 1);
    let bits = PTE_ACCESSED | PTE_DIRTY | ((vma.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0);
    if (request.wp) bits = (bits & ~PTE_WRITE) | PTE_UFFD_WP;
    tables.entries[slot] = mkHugeLeaf(head, bits);
    copied += PMD_SIZE;
  }
  return copied;
}

/**
 * mfill_atomic: the destination must lie inside one VMA registered with a
 * userfaultfd. Returns the bytes filled (> 0) or -errno.
 */
export function mfillAtomic(mm: Mm, request: MfillRequest): number {
  const vma = mm.vmas.lookup(request.dst);
  if (vma === null) return -Errno.ENOENT;
  if (request.dst + request.len > vma.end || vma.userfaultfdCtx === null) return -Errno.ENOENT;
  if (request.wp && (vma.flags & VM_UFFD_WP) === 0) return -Errno.EINVAL;
  if (vma.isHugetlb) return mfillHugetlb(mm, vma, request);
  if (vma.isPfnMap) return -Errno.EINVAL;
  if (request.mode === MfillMode.Continue && isKernelAnonymous(vma)) return -Errno.EINVAL;
  let copied = 0;
  for (let offset = 0; offset < request.len; offset += PAGE_SIZE) {
    const err = mfillPte(mm, vma, request.dst + offset, offset, request);
    if (err < 0) return copied > 0 ? copied : err;
    copied += PAGE_SIZE;
  }
  return copied;
}
