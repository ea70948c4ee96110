/**
 * The model's invariants, recomputed from scratch: every frame's refcount
 * and mapcount equal the references the page tables, page caches and pins
 * hold; no entry points at a freed frame; no allocated frame is
 * unreachable; swap counts equal the entries that use them; no lock is
 * held between operations. Property tests call this after every op.
 */
import { HPAGE_PMD_NR, PAGE_SIZE, PMD_SHIFT, addrEnd } from './geometry.js';
import type { Kernel } from './kernel.js';
import { PG_ALLOCATED, PG_TAIL, PG_ZERO } from './frames.js';
import { isTableEntry, pmdLeaf, ptePfn, ptePresent, pteSpecial, pteWrite } from './pgtable.js';
import { VM_ACCOUNT } from './vma.js';
import { isDeviceExclusiveEntry, isDevicePrivateEntry, isRealSwapEntry, isSwapPte, swpOffset } from './swapops.js';
import { pteOffset } from './pgtable-nav.js';

export function checkInvariants(kernel: Kernel): string[] {
  const problems: string[] = [];
  const frames = kernel.frames;
  const tables = kernel.tables;
  const refs = new Map<number, number>();
  const maps = new Map<number, number>();
  const entire = new Map<number, number>();
  const swapRefs = new Map<number, number>();
  const addRef = (head: number) => refs.set(head, (refs.get(head) ?? 0) + 1);

  for (const mm of kernel.mms) {
    if (!mm.lock.idle) problems.push(`mm ${mm.id}: a lock is still held`);
    for (const vma of mm.vmas.all()) {
      let next: number;
      for (let addr = vma.start; addr < vma.end; addr = next) {
        next = addrEnd(addr, vma.end, PMD_SHIFT);
        const pmdSlot = mm.pmdSlot(addr, false);
        if (pmdSlot < 0) continue;
        const pmd = tables.entries[pmdSlot]!;
        if (pmd === 0) continue;
        if (pmdLeaf(pmd)) {
          if (addr % (PAGE_SIZE * HPAGE_PMD_NR) !== 0) continue; // counted once per PMD
          const head = ptePfn(pmd);
          if (!frames.isAllocated(head)) problems.push(`mm ${mm.id} ${addr.toString(16)}: PMD maps freed frame ${head}`);
          if (frames.has(head, PG_ZERO)) {
            // The huge zero page is shared by everyone: never writable.
            if (pteWrite(pmd)) problems.push(`mm ${mm.id} ${addr.toString(16)}: writable PMD maps the huge zero page`);
            continue;
          }
          addRef(head);
          entire.set(head, (entire.get(head) ?? 0) + 1);
          continue;
        }
        if (!isTableEntry(pmd)) continue;
        const base = pteOffset(pmd, addr);
        const count = (next - addr) / PAGE_SIZE;
        for (let i = 0; i < count; i++) {
          const pte = tables.entries[base + i]!;
          if (pte === 0) continue;
          if (ptePresent(pte)) {
            const pfn = ptePfn(pte);
            if (!frames.isAllocated(pfn)) {
              problems.push(`mm ${mm.id} ${(addr + i * PAGE_SIZE).toString(16)}: PTE maps freed frame ${pfn}`);
              continue;
            }
            if (pteSpecial(pte)) {
              if (!frames.has(pfn, PG_ZERO)) problems.push(`special PTE to non-zero frame ${pfn}`);
              else if (pteWrite(pte)) problems.push(`mm ${mm.id} ${(addr + i * PAGE_SIZE).toString(16)}: writable PTE maps the zero page`);
              continue;
            }
            if (frames.has(pfn, PG_ZERO)) {
              // vm_normal_page() must not see the zero page: its PTE is special (and read-only).
              problems.push(`mm ${mm.id} ${(addr + i * PAGE_SIZE).toString(16)}: non-special${pteWrite(pte) ? ', writable' : ''} PTE maps the zero page`);
              continue;
            }
            addRef(frames.folioOf(pfn));
            maps.set(pfn, (maps.get(pfn) ?? 0) + 1);
          } else if (isSwapPte(pte)) {
            if (isRealSwapEntry(pte)) swapRefs.set(swpOffset(pte), (swapRefs.get(swpOffset(pte)) ?? 0) + 1);
            else if (isDevicePrivateEntry(pte) || isDeviceExclusiveEntry(pte)) {
              const pfn = swpOffset(pte);
              addRef(frames.folioOf(pfn));
              maps.set(pfn, (maps.get(pfn) ?? 0) + 1);
            }
          }
        }
      }
    }
  }
  for (const file of kernel.files) {
    for (const index of file.cache.stored()) {
      const value = file.cache.get(index);
      if (value > 0) {
        if (!frames.isAllocated(value)) problems.push(`file ${file.name}[${index}] holds freed frame ${value}`);
        else if ((frames.flags[value]! & PG_TAIL) === 0) addRef(value);
      } else if (value < 0) {
        swapRefs.set(-value, (swapRefs.get(-value) ?? 0) + 1);
      }
    }
  }
  for (const [pfn, pins] of frames.pins) refs.set(frames.folioOf(pfn), (refs.get(frames.folioOf(pfn)) ?? 0) + pins);

  // Compare with the stored counters over every allocated frame.
  for (let pfn = 1; pfn < frames.capacityFrames; pfn++) {
    const flags = frames.flags[pfn]!;
    if ((flags & PG_ALLOCATED) === 0) continue;
    if ((flags & PG_ZERO) !== 0) continue;
    const expectedMaps = maps.get(pfn) ?? 0;
    if (frames.mapcount[pfn] !== expectedMaps) problems.push(`frame ${pfn}: mapcount ${frames.mapcount[pfn]} but ${expectedMaps} PTEs map it`);
    if ((flags & PG_TAIL) !== 0) continue;
    const expectedRefs = refs.get(pfn) ?? 0;
    if (frames.refcount[pfn] !== expectedRefs) problems.push(`frame ${pfn}: refcount ${frames.refcount[pfn]} but ${expectedRefs} references exist`);
    if (expectedRefs === 0) problems.push(`frame ${pfn}: allocated but unreachable (leaked)`);
    const expectedEntire = entire.get(pfn) ?? 0;
    if ((frames.entireMapcount.get(pfn) ?? 0) !== expectedEntire) problems.push(`folio ${pfn}: entire mapcount ${frames.entireMapcount.get(pfn) ?? 0} but ${expectedEntire} PMDs map it`);
  }
  if (kernel.swap !== null) {
    for (const [slot, count] of swapRefs) {
      if (kernel.swap.count(slot) !== count) problems.push(`swap slot ${slot}: count ${kernel.swap.count(slot)} but ${count} references`);
    }
    if (kernel.swap.used !== swapRefs.size) problems.push(`swap: ${kernel.swap.used} slots in use but ${swapRefs.size} referenced`);
  }
  // The commit charge equals the accountable (VM_ACCOUNT) pages mapped.
  let committed = 0;
  for (const mm of kernel.mms) for (const vma of mm.vmas.all()) if ((vma.flags & VM_ACCOUNT) !== 0) committed += vma.pages;
  if (kernel.committedPages !== committed) problems.push(`commit charge ${kernel.committedPages} pages but ${committed} accountable pages are mapped`);
  if (frames.ramUsed > frames.limit) problems.push(`${frames.ramUsed} frames of RAM in use but RAM has ${frames.limit}`);
  return problems;
}
