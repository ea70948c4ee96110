/**
 * Protection changes over page tables (mm/mprotect.c change_protection)
 * and the clear_refs walks (fs/proc/task_mmu.c).
 */
import { PMD_SHIFT, PMD_SIZE, PAGE_SIZE, PTRS_PER_TABLE, addrEnd, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import { PTE_ACCESSED, PTE_SOFT_DIRTY, PTE_WRITE, isTableEntry, pmdLeaf, ptePresent, tableIdOf } from './pgtable.js';
import {
  isMigrationEntry,
  isSwapPte,
  isWritableDevicePrivateEntry,
  isWritableMigrationEntry,
  makeDevicePrivateEntry,
  makeMigrationEntry,
  pteSwpClearSoftDirty,
  pteSwpMkuffdWp,
  pteSwpUffdWp,
  swpOffset,
} from './swapops.js';
import { CLEAR_REFS_ANON, CLEAR_REFS_MAPPED } from './uapi.js';
import { VM_PFNMAP, VM_SOFTDIRTY, VM_WRITE, type Vma } from './vma.js';

/**
 * change_protection after mprotect: removing write permission
 * write-protects present entries (and downgrades writable migration
 * entries). Adding it changes nothing in the tables: the next write takes
 * a write fault, which reuses the page (the kernel may upgrade eagerly; the
 * outcome of every access is the same). uffd-wp bits and markers stay.
 */
export function changeProtection(mm: Mm, vma: Vma, start: number, end: number, oldFlags: number): void {
  if (vma.flags === oldFlags) return;
  if ((vma.flags & VM_WRITE) !== 0 || (oldFlags & VM_WRITE) === 0) return;
  forEachEntry(mm, start, end, (slot, entry) => {
    const tables = mm.kernel.tables;
    if (ptePresent(entry)) tables.entries[slot] = (entry & ~PTE_WRITE) >>> 0;
    else if (isWritableMigrationEntry(entry)) tables.entries[slot] = makeMigrationEntry(swpOffset(entry), false);
    else if (isWritableDevicePrivateEntry(entry)) {
      // A writable device-private entry becomes the readable kind (soft-dirty is not kept).
      const readable = makeDevicePrivateEntry(swpOffset(entry), false);
      tables.entries[slot] = pteSwpUffdWp(entry) ? pteSwpMkuffdWp(readable) : readable;
    }
  });
}

/** Splits the huge PMD containing `boundary` when the boundary falls inside it. */
export function splitPartialHugePmd(mm: Mm, vma: Vma, boundary: number): void {
  if (boundary % PMD_SIZE === 0 || vma.isHugetlb) return;
  const slot = mm.pmdSlot(boundary, false);
  if (slot < 0) return;
  const pmd = mm.kernel.tables.entries[slot]!;
  if (pmdLeaf(pmd) || (isSwapPte(pmd) && isMigrationEntry(pmd))) mm.splitHugePmd(vma, slot, boundary);
}

/** clear_refs 4: write-protect and clear soft-dirty everywhere (only with CONFIG_MEM_SOFT_DIRTY). */
export function clearSoftDirty(mm: Mm): void {
  for (const vma of mm.vmas.all()) {
    // clear_refs_write: VM_SOFTDIRTY goes first, from every VMA.
    vma.flags &= ~VM_SOFTDIRTY;
    if ((vma.flags & VM_PFNMAP) !== 0) continue;
    forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
      const tables = mm.kernel.tables;
      if (ptePresent(entry)) tables.entries[slot] = (entry & ~(PTE_WRITE | PTE_SOFT_DIRTY)) >>> 0;
      else if (isSwapPte(entry)) tables.entries[slot] = pteSwpClearSoftDirty(entry);
    });
  }
}

/** clear_refs 1-3: clear the young bits (of anon, file or all VMAs). */
export function clearYoung(mm: Mm, which: number): void {
  for (const vma of mm.vmas.all()) {
    if ((vma.flags & VM_PFNMAP) !== 0) continue;
    if (which === CLEAR_REFS_ANON && !vma.isAnonymous) continue;
    if (which === CLEAR_REFS_MAPPED && vma.isAnonymous) continue;
    forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
      if (ptePresent(entry)) mm.kernel.tables.entries[slot] = (entry & ~PTE_ACCESSED) >>> 0;
    });
  }
}

/** Visits every non-none leaf entry (PTE or huge PMD) in [start, end). */
export function forEachEntry(mm: Mm, start: number, end: number, fn: (slot: number, entry: number) => void): void {
  const tables = mm.kernel.tables;
  let next: number;
  for (let addr = start; addr < end; addr = next) {
    next = addrEnd(addr, end, PMD_SHIFT);
    const pmdSlot = mm.pmdSlot(addr, false);
    if (pmdSlot < 0) continue;
    const pmd = tables.entries[pmdSlot]!;
    if (pmd === 0) continue;
    if (pmdLeaf(pmd) || (isSwapPte(pmd) && isMigrationEntry(pmd))) {
      fn(pmdSlot, pmd);
      continue;
    }
    if (!isTableEntry(pmd)) continue;
    const base = tableIdOf(pmd) * PTRS_PER_TABLE + tableIndex(addr, 12);
    const count = (next - addr) / PAGE_SIZE;
    for (let i = 0; i < count; i++) {
      const entry = tables.entries[base + i]!;
      if (entry !== 0) fn(base + i, entry);
    }
  }
}
