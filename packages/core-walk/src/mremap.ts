/**
 * mremap(2): mm/mremap.c. Shrinks a mapping in place, expands it in place
 * when the space after it is free, or moves it (MREMAP_MAYMOVE, to a
 * chosen or a MREMAP_FIXED address), optionally leaving the source VMA
 * mapped but empty (MREMAP_DONTUNMAP). Moving carries every page-table entry
 * with it: present pages (same folios, same mapcounts), swap, migration and
 * device entries, guard markers and uffd-wp markers; a PMD-mapped THP moves
 * as one PMD when source and target are both 2 MiB aligned and the rest of
 * the range covers it, and is split otherwise.
 *
 * The checks follow do_mremap: check_mremap_params, then check_prep_vma on
 * the VMA at addr, then mremap_to (a new address) or mremap_at (resize in
 * place, moving only when it must and may).
 */
import { Errno } from './errno.js';
import { PAGE_SIZE, PMD_SIZE, isPageAligned, pageAlignUp } from './geometry.js';
import type { Mm } from './mm.js';
import { isTableEntry, pmdLeaf, pteClearUffdWp, pteMksoftDirty, ptePresent } from './pgtable.js';
import { isSwapPte, isUffdWpPteMarker, pteSwpClearUffdWp, pteSwpMksoftDirty } from './swapops.js';
import { VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_LOCKED_MASK, VM_MAYSHARE, VM_PFNMAP, VM_SHARED, VM_UFFD_FLAGS, type Vma, VMAS, writableVma } from './vma.js';
import { TABLES } from './readonly-pools.js';
import { pmdSlotOf, pteSlotOf } from './pgtable-nav.js';
import { splitHugePmd } from './huge-memory.js';
import { unmapRegion } from './mmap.js';

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** UFFD_FEATURE_EVENT_REMAP: the userfaultfd follows a moved range (else the move unregisters it). */
const UFFD_FEATURE_EVENT_REMAP = 1 << 2;

const isPmdAligned = (addr: number) => addr % PMD_SIZE === 0;

/** Whether a VMA's userfaultfd context asked to be told of remaps (then the target stays registered). */
function uffdFollowsRemap(vma: Vma): boolean {
  const ctx = vma.userfaultfdCtx as { features?: number } | null;
  return ctx !== null && typeof ctx.features === 'number' && (ctx.features & UFFD_FEATURE_EVENT_REMAP) !== 0;
}

interface Remap {
  addr: number;
  oldLen: number;
  newLen: number;
  flags: number;
  newAddr: number;
  /** The VMA is mlock()ed and grows: populate the new part afterwards. */
  populateExpand: boolean;
}

/** mremap(2); returns the new address or -errno. */
export function mremap(mm: Mm, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
  if (![addr, oldLen, newLen, flags, newAddr].every((v) => Number.isSafeInteger(v) && v >= 0)) return -Errno.EINVAL;
  const vrm: Remap = { addr, oldLen: pageAlignUp(oldLen), newLen: pageAlignUp(newLen), flags, newAddr, populateExpand: false };
  const err = checkParams(mm, vrm);
  if (err !== 0) return err;
  let result: number;
  mm.lock.writeLock();
  try {
    if ((flags & MREMAP_FIXED) !== 0 && vrm.oldLen === vrm.newLen) result = remapMove(mm, vrm);
    else {
      const vma = mm.vmas.lookup(vrm.addr);
      const prep = checkPrepVma(mm, vrm, vma);
      result = prep !== 0 ? prep : impliesNewAddr(vrm) ? mremapTo(mm, vrm, vma!) : mremapAt(mm, vrm, vma!);
    }
  } finally {
    mm.lock.writeUnlock();
  }
  // do_mremap: an mlock()ed VMA that grew has its new part populated.
  if (result >= 0 && vrm.populateExpand) mm.mmPopulate(result + vrm.oldLen, vrm.newLen - vrm.oldLen, true);
  return result;
}

const impliesNewAddr = (vrm: Remap) => (vrm.flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;

/** check_mremap_params. */
function checkParams(mm: Mm, vrm: Remap): number {
  if ((vrm.flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) return -Errno.EINVAL;
  if (!isPageAligned(vrm.addr)) return -Errno.EINVAL;
  const taskSize = mm.geometry.taskSize;
  if (vrm.newLen === 0 || vrm.newLen > taskSize) return -Errno.EINVAL;
  if (!impliesNewAddr(vrm)) return 0;
  if (vrm.newAddr > taskSize - vrm.newLen) return -Errno.EINVAL;
  if (!isPageAligned(vrm.newAddr)) return -Errno.EINVAL;
  if ((vrm.flags & MREMAP_MAYMOVE) === 0) return -Errno.EINVAL;
  if ((vrm.flags & MREMAP_DONTUNMAP) !== 0 && vrm.oldLen !== vrm.newLen) return -Errno.EINVAL;
  if (vrm.addr + vrm.oldLen > vrm.newAddr && vrm.newAddr + vrm.newLen > vrm.addr) return -Errno.EINVAL;
  return 0;
}

/** check_prep_vma: 0 or -errno. */
function checkPrepVma(mm: Mm, vrm: Remap, vma: Vma | null): number {
  if (vma === null) return -Errno.EFAULT;
  if (vma.isHugetlb) {
    vrm.oldLen = Math.ceil(vrm.oldLen / PMD_SIZE) * PMD_SIZE;
    vrm.newLen = Math.ceil(vrm.newLen / PMD_SIZE) * PMD_SIZE;
    if (!isPmdAligned(vrm.addr) || !isPmdAligned(vrm.newAddr) || vrm.newLen > vrm.oldLen) return -Errno.EINVAL;
  }
  if (!impliesNewAddr(vrm)) vrm.newAddr = vrm.addr;
  const expanding = vrm.newLen > vrm.oldLen;
  if (!expanding && !impliesNewAddr(vrm)) return 0;
  if (vrm.oldLen === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) return -Errno.EINVAL;
  if ((vrm.flags & MREMAP_DONTUNMAP) !== 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -Errno.EINVAL;
  const covered = vrm.newLen < vrm.oldLen ? vrm.newLen : vrm.oldLen;
  if (covered > vma.end - vrm.addr) return -Errno.EFAULT;
  if (vrm.newLen === vrm.oldLen) return 0;
  if ((vma.flags & VM_LOCKED) !== 0 && expanding) vrm.populateExpand = true;
  if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0 && expanding) return -Errno.EFAULT;
  return 0;
}

/** remap_move: MREMAP_FIXED without resizing moves every VMA in the range, keeping the gaps between them. */
function remapMove(mm: Mm, vrm: Remap): number {
  const start = vrm.addr;
  const end = vrm.addr + vrm.oldLen;
  let target = vrm.newAddr;
  let result = -Errno.EFAULT;
  let seen = false;
  let lastEnd = 0;
  for (const vma of mm.vmas.range(start, end)) {
    const from = Math.max(vma.start, start);
    const len = Math.min(end, vma.end) - from;
    if (!seen && start < vma.start) return -Errno.EFAULT;
    const offset = seen ? vma.start - lastEnd : 0;
    lastEnd = vma.end;
    // Several userfaultfd-armed VMAs cannot move in one call.
    if ((vma.flags & VM_UFFD_FLAGS) !== 0 && (seen || vma.end < end)) return -Errno.EFAULT;
    const piece: Remap = { addr: from, oldLen: len, newLen: len, flags: vrm.flags, newAddr: target + offset, populateExpand: false };
    const current = mm.vmas.lookup(from);
    const prep = checkPrepVma(mm, piece, current);
    const moved = prep !== 0 ? prep : mremapTo(mm, piece, current!);
    if (moved < 0) return moved;
    if (!seen) result = moved;
    seen = true;
    target = moved + len;
  }
  return result;
}

/** mremap_to: to a given (MREMAP_FIXED) or a found address (MREMAP_DONTUNMAP). */
function mremapTo(mm: Mm, vrm: Remap, vma: Vma): number {
  if ((vrm.flags & MREMAP_FIXED) !== 0) {
    const err = unmapRegion(mm, vrm.newAddr, vrm.newAddr + vrm.newLen);
    if (err !== 0) return err;
    const again = mm.vmas.lookup(vrm.addr);
    if (again === null) return -Errno.EFAULT;
    vma = again;
  }
  if (vrm.newLen < vrm.oldLen) {
    const err = unmapRegion(mm, vrm.addr + vrm.newLen, vrm.addr + vrm.oldLen);
    if (err !== 0) return err;
    const again = mm.vmas.lookup(vrm.addr);
    if (again === null) return -Errno.EFAULT;
    vma = again;
    vrm.oldLen = vrm.newLen;
  }
  const found = setNewAddr(mm, vrm, vma);
  if (found < 0) return found;
  return moveVma(mm, vrm, vma);
}

/** vrm_set_new_addr: the target, as get_unmapped_area gives it. */
function setNewAddr(mm: Mm, vrm: Remap, vma: Vma): number {
  if ((vrm.flags & MREMAP_FIXED) !== 0) return vrm.newAddr;
  const hint = impliesNewAddr(vrm) ? vrm.newAddr : 0;
  const found = mm.getUnmappedArea(hint, vrm.newLen, vma.isHugetlb ? PMD_SIZE : PAGE_SIZE);
  if (found < 0) return found;
  vrm.newAddr = found;
  return found;
}

/** mremap_at: resize in place, or move when that is impossible and allowed. */
function mremapAt(mm: Mm, vrm: Remap, vma: Vma): number {
  if (vrm.newLen === vrm.oldLen) return vrm.addr;
  if (vrm.newLen < vrm.oldLen) {
    const err = unmapRegion(mm, vrm.addr + vrm.newLen, vrm.addr + vrm.oldLen);
    return err !== 0 ? err : vrm.addr;
  }
  const delta = vrm.newLen - vrm.oldLen;
  if (vma.end - vrm.addr === vrm.oldLen && vma.end + delta <= mm.geometry.taskSize && mm.vmas.isFree(vma.end, vma.end + delta)) {
    // vrm_calc_charge: an accountable VMA charges what it grows by.
    if ((vma.flags & VM_ACCOUNT) !== 0 && !mm.kernel.vmEnoughMemory(delta / PAGE_SIZE)) return -Errno.ENOMEM;
    // vma_merge_extend: the VMA grows; it may now meet (and merge with) the next one.
    writableVma(vma).end += delta;
    mm[VMAS].mergeAround(vma.start, vma.end);
    return vrm.addr;
  }
  if ((vrm.flags & MREMAP_MAYMOVE) === 0) return -Errno.ENOMEM;
  const found = setNewAddr(mm, vrm, vma);
  if (found < 0) return found;
  return moveVma(mm, vrm, vma);
}

/**
 * move_vma: a copy of [addr, addr + oldLen) of `vma` at newAddr (newLen
 * long) takes the page tables; then the source is unmapped, or, with
 * MREMAP_DONTUNMAP, left mapped, empty and no longer mlocked.
 */
function moveVma(mm: Mm, vrm: Remap, vma: Vma): number {
  // vrm_calc_charge: DONTUNMAP keeps the source, so the whole new range is
  // charged; a move charges what it grows by (the source's charge moves along).
  const accountable = (vma.flags & VM_ACCOUNT) !== 0;
  const charge = accountable ? ((vrm.flags & MREMAP_DONTUNMAP) !== 0 ? vrm.newLen : Math.max(0, vrm.newLen - vrm.oldLen)) / PAGE_SIZE : 0;
  if (charge > 0 && !mm.kernel.vmEnoughMemory(charge)) return -Errno.ENOMEM;
  // Cut the moved range out of its VMA.
  let source = writableVma(vma);
  if (source.start < vrm.addr) source = mm[VMAS].splitAt(source, vrm.addr);
  if (source.end > vrm.addr + vrm.oldLen) mm[VMAS].splitAt(source, vrm.addr + vrm.oldLen);
  const target = writableVma(source.clone(vrm.newAddr, vrm.newAddr + vrm.newLen));
  target.pgoff = source.pgoff;
  const keepUffd = uffdFollowsRemap(source);
  if (!keepUffd && (source.flags & VM_UFFD_FLAGS) !== 0) {
    // mremap_userfaultfd_prep: without EVENT_REMAP the moved range is no longer registered.
    target.flags &= ~VM_UFFD_FLAGS;
    target.userfaultfdCtx = null;
  }
  const clearUffdWp = !keepUffd && source.userfaultfdCtx !== null;
  mm[VMAS].insert(target);
  movePageTables(mm, source, vrm.addr, vrm.newAddr, vrm.oldLen, clearUffdWp);
  if ((vrm.flags & MREMAP_DONTUNMAP) !== 0) {
    source.flags &= ~VM_LOCKED_MASK;
  } else {
    // unmap_source_vma: the source's pages stay charged, now to the target.
    source.flags &= ~VM_ACCOUNT;
    unmapRegion(mm, source.start, source.end);
  }
  mm[VMAS].mergeAround(target.start, target.end);
  return vrm.newAddr;
}

/**
 * move_page_tables: every entry of [oldAddr, oldAddr + len) moves to the
 * same offset from newAddr. A huge PMD moves whole when both sides are PMD
 * aligned and it is covered (move_huge_pmd), else it is split first; hugetlb
 * entries move one huge page at a time. Moved PTEs keep their folios and
 * mapcounts; soft-dirty is set on them (the range is "written" for
 * soft-dirty tracking), and uffd-wp bits and markers are dropped when the
 * target is no longer registered.
 */
function movePageTables(mm: Mm, source: Vma, oldAddr: number, newAddr: number, len: number, clearUffdWp: boolean): void {
  const softDirty = mm.kernel.profile.softDirty;
  const adjust = (entry: number, swapLike: boolean): number => {
    let e = entry;
    if (clearUffdWp) e = swapLike ? pteSwpClearUffdWp(e) : pteClearUffdWp(e);
    if (softDirty) e = swapLike ? pteSwpMksoftDirty(e) : pteMksoftDirty(e);
    return e >>> 0;
  };
  let off = 0;
  while (off < len) {
    const from = oldAddr + off;
    const to = newAddr + off;
    const oldPmdSlot = mm.pmdSlot(from, false);
    const pmdEnd = Math.min(len, off + (PMD_SIZE - (from % PMD_SIZE)));
    if (oldPmdSlot < 0) {
      off = pmdEnd;
      continue;
    }
    const pmd = mm.kernel[TABLES].entries[oldPmdSlot]!;
    if (pmd === 0) {
      off = pmdEnd;
      continue;
    }
    if (!isTableEntry(pmd)) {
      const whole = isPmdAligned(from) && isPmdAligned(to) && len - off >= PMD_SIZE;
      if (whole || source.isHugetlb) {
        // Allocating the target's tables may grow the pool: index it afresh.
        const newPmdSlot = pmdSlotOf(mm, to, true);
        const swapLike = !ptePresent(pmd) || !pmdLeaf(pmd);
        mm.kernel[TABLES].entries[newPmdSlot] = clearUffdWp && swapLike && isUffdWpPteMarker(pmd) ? 0 : adjust(pmd, swapLike);
        mm.kernel[TABLES].entries[oldPmdSlot] = 0;
        off += PMD_SIZE;
        continue;
      }
      splitHugePmd(mm, source, oldPmdSlot, from);
    }
    // PTEs, up to the next PMD boundary of either side.
    const toEnd = Math.min(pmdEnd, off + (PMD_SIZE - (to % PMD_SIZE)));
    for (; off < toEnd; off += PAGE_SIZE) {
      const oldSlot = mm.pteSlot(oldAddr + off, false);
      if (oldSlot < 0) continue;
      const entry = mm.kernel[TABLES].entries[oldSlot]!;
      if (entry === 0) continue;
      const swapLike = isSwapPte(entry);
      // Allocating the target table may grow the pool: look the source up again afterwards.
      const newSlot = pteSlotOf(mm, newAddr + off, true);
      const sourceSlot = mm.pteSlot(oldAddr + off, false);
      mm.kernel[TABLES].entries[newSlot] = clearUffdWp && isUffdWpPteMarker(entry) ? 0 : adjust(entry, swapLike);
      mm.kernel[TABLES].entries[sourceSlot] = 0;
    }
  }
}
