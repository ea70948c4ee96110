/**
 * fork(): dup_mmap + copy_page_range (kernel/fork.c, mm/memory.c).
 * Anonymous pages become shared copy-on-write; page tables are copied only
 * where the kernel copies them (vma_needs_copy).
 */
import { PG_ANON, PG_ANON_EXCLUSIVE, PG_ZERO } from './frames.js';
import { accountPteMap, anonVmaPrepare } from './rmap.js';
import { pmdSlotOf, pteSlotOf } from './pgtable-nav.js';
import { restoreExclusivePte } from './memory.js';
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SHIFT, addrEnd } from './geometry.js';
import type { Mm } from './mm.js';
import { PTE_ACCESSED, PTE_DIRTY, PTE_UFFD_WP, PTE_WRITE, isTableEntry, pmdLeaf, ptePfn, ptePresent, pteSpecial } from './pgtable.js';
import {
  PTE_MARKER_GUARD,
  isDeviceExclusiveEntry,
  isWritableDevicePrivateEntry,
  makeDevicePrivateEntry,
  pteSwpMkuffdWp,
  pteSwpUffdWp,
  PTE_MARKER_POISONED,
  PTE_MARKER_UFFD_WP,
  isDevicePrivateEntry,
  isPteMarker,
  isRealSwapEntry,
  makePteMarker,
  pteMarkerBits,
  pteSwpClearUffdWp,
  swpOffset,
} from './swapops.js';
import { VM_ACCOUNT, VM_DONTCOPY, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED, VM_UFFD_FLAGS, VM_UFFD_WP, VM_WIPEONFORK, type Vma, VMAS, writableVma } from './vma.js';
import { FRAMES, TABLES } from './readonly-pools.js';

export function forkMm(parent: Mm): Mm {
  const child = parent.kernel.createMm();
  parent.lock.writeLock();
  try {
    for (const vma of parent.vmas.all()) {
      if ((vma.flags & VM_DONTCOPY) !== 0) continue;
      const copy = writableVma(vma.clone(vma.start, vma.end));
      // dup_mmap charges the child's private writable memory. A fork the commit limit refuses
      // (ENOMEM) is not modelled: the charge is always taken, so the child's exit balances it.
      if ((vma.flags & VM_ACCOUNT) !== 0) parent.kernel.committedPages += vma.pages;
      // Without UFFD_FEATURE_EVENT_FORK the child loses its userfaultfd registration.
      copy.flags &= ~VM_UFFD_FLAGS;
      copy.userfaultfdCtx = null;
      parent.kernel.userfault?.forkVma?.(parent, child, vma, copy);
      if (vma.anonVma !== null) {
        copy.anonVma = null;
        anonVmaPrepare(child, copy, vma.anonVma.root);
      }
      if ((vma.flags & VM_WIPEONFORK) !== 0) {
        copy.anonVma = null;
        child[VMAS].insert(copy);
        continue;
      }
      child[VMAS].insert(copy);
      if (vmaNeedsCopy(vma, copy)) copyPageRange(parent, child, vma, copy);
    }
  } finally {
    parent.lock.writeUnlock();
  }
  child.hasPinned = parent.hasPinned;
  return child;
}

/** vma_needs_copy(): page tables are copied for anon memory, PFN maps and uffd-wp children. */
function vmaNeedsCopy(src: Vma, dst: Vma): boolean {
  if ((dst.flags & VM_UFFD_WP) !== 0) return true;
  if ((src.flags & (VM_PFNMAP | VM_MIXEDMAP)) !== 0) return true;
  if (src.anonVma !== null) return true;
  return false;
}

function copyPageRange(parent: Mm, child: Mm, src: Vma, dst: Vma): void {
  const tables = parent.kernel[TABLES];
  const frames = parent.kernel[FRAMES];
  const cow = src.isCow;
  const keepWp = (dst.flags & VM_UFFD_WP) !== 0;
  let next: number;
  for (let addr = src.start; addr < src.end; addr = next) {
    next = addrEnd(addr, src.end, PMD_SHIFT);
    const srcPmdSlot = parent.pmdSlot(addr, false);
    if (srcPmdSlot < 0) continue;
    const pmd = tables.entries[srcPmdSlot]!;
    if (pmd === 0) continue;
    if (pmdLeaf(pmd)) {
      // copy_huge_pmd / copy_hugetlb_page_range: share the huge page.
      const dstSlot = pmdSlotOf(child, addr, true);
      const head = ptePfn(pmd);
      let value = pmd;
      if (!frames.has(head, PG_ZERO)) {
        frames.get(head);
        frames.entireMapcount.set(head, (frames.entireMapcount.get(head) ?? 0) + 1);
        if (frames.has(head, PG_ANON)) for (let i = 0; i < HPAGE_PMD_NR; i++) frames.clear(head + i, PG_ANON_EXCLUSIVE);
        if (cow && !src.isHugetlb) value = (value & ~PTE_WRITE) >>> 0;
        if (cow && src.isHugetlb && frames.has(head, PG_ANON)) value = (value & ~PTE_WRITE) >>> 0;
        tables.entries[srcPmdSlot] = value;
      }
      let childValue = (value & ~PTE_ACCESSED) >>> 0;
      if (!keepWp) childValue = (childValue & ~PTE_UFFD_WP) >>> 0;
      if ((src.flags & VM_SHARED) !== 0) childValue = (childValue & ~PTE_DIRTY) >>> 0;
      tables.entries[dstSlot] = childValue;
      continue;
    }
    if (!isTableEntry(pmd)) continue;
    const count = (next - addr) / PAGE_SIZE;
    for (let i = 0; i < count; i++) {
      const a = addr + i * PAGE_SIZE;
      const srcSlot = parent.pteSlot(a, false);
      let pte = tables.entries[srcSlot]!;
      if (pte === 0) continue;
      if (isDeviceExclusiveEntry(pte)) {
        // Device-exclusive entries are made present again, then copied as present PTEs.
        restoreExclusivePte(parent, src, srcSlot);
        pte = tables.entries[srcSlot]!;
      }
      let childPte = pte;
      if (ptePresent(pte)) {
        if (!pteSpecial(pte)) {
          const pfn = ptePfn(pte);
          const head = frames.folioOf(pfn);
          accountPteMap(child, pfn);
          if (frames.has(head, PG_ANON)) frames.clear(pfn, PG_ANON_EXCLUSIVE);
        }
        if (cow) {
          tables.entries[srcSlot] = (pte & ~PTE_WRITE) >>> 0;
          childPte = (pte & ~PTE_WRITE) >>> 0;
        }
        if ((src.flags & VM_SHARED) !== 0) childPte = (childPte & ~PTE_DIRTY) >>> 0;
        childPte = (childPte & ~PTE_ACCESSED) >>> 0;
        if (!keepWp) childPte = (childPte & ~PTE_UFFD_WP) >>> 0;
      } else if (isPteMarker(pte)) {
        // copy_pte_marker: guard and poison always; uffd-wp only for a uffd-wp child.
        const bits = pteMarkerBits(pte) & ((keepWp ? PTE_MARKER_UFFD_WP : 0) | PTE_MARKER_GUARD | PTE_MARKER_POISONED);
        if (bits === 0) continue;
        childPte = makePteMarker(bits);
      } else {
        if (isRealSwapEntry(pte)) parent.kernel.swap?.dup(swpOffset(pte));
        else if (isDevicePrivateEntry(pte)) {
          accountPteMap(child, swpOffset(pte));
          if (frames.has(frames.folioOf(swpOffset(pte)), PG_ANON)) frames.clear(swpOffset(pte), PG_ANON_EXCLUSIVE);
          if (cow && isWritableDevicePrivateEntry(pte)) {
            // COW: parent and child both get the readable kind (soft-dirty is not kept).
            const readable = makeDevicePrivateEntry(swpOffset(pte), false);
            tables.entries[srcSlot] = pteSwpUffdWp(pte) ? pteSwpMkuffdWp(readable) : readable;
            childPte = tables.entries[srcSlot]!;
          }
        }
        if (!keepWp) childPte = pteSwpClearUffdWp(childPte);
      }
      const dstSlot = pteSlotOf(child, a, true);
      tables.entries[dstSlot] = childPte >>> 0;
    }
  }
}
