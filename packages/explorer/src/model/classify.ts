// What the map shows for each arena page: the kind of its page-table entry
// (classified with the public walker) and a few entry bits, plus the VMAs.
import {
  PG_ANON,
  PG_ZERO,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PTE_UFFD_WP,
  VM_HUGEPAGE,
  VM_LOCKED,
  VM_LOCKONFAULT,
  VM_NOHUGEPAGE,
  VM_READ,
  VM_SHARED,
  VM_UFFD_WP,
  VM_WRITE,
  VM_EXEC,
  WalkAction,
  isDeviceExclusiveEntry,
  isDevicePrivateEntry,
  isGuardPteMarker,
  isMigrationEntry,
  isRealSwapEntry,
  isSwapPte,
  isUffdWpPteMarker,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  vmFlagNames,
  walkPageRange,
  type Kernel,
  type Mm,
  type MmWalkOps,
  type Vma,
} from '@pagewalk/core-walk';
import { isWpAsync } from '@pagewalk/uffd-wp';

export const PAGE_SIZE = 4096;

/** Entry kinds, one byte per page. */
export const PageKind = {
  Unmapped: 0,
  None: 1,
  Anon: 2,
  File: 3,
  Zero: 4,
  Thp: 5,
  HugeZero: 6,
  Hugetlb: 7,
  Swapped: 8,
  Guard: 9,
  UffdWpMarker: 10,
  DevicePrivate: 11,
  DeviceExclusive: 12,
  Migration: 13,
  Other: 14,
} as const;
export type PageKind = (typeof PageKind)[keyof typeof PageKind];

export const PAGE_KIND_NAMES: readonly string[] = [
  'no VMA',
  'none (not populated)',
  'present anon',
  'present file / shmem',
  'zero page',
  'THP (PMD leaf)',
  'huge zero page',
  'hugetlb',
  'swapped',
  'guard marker',
  'uffd-wp marker',
  'device-private',
  'device-exclusive',
  'migration',
  'other (hwpoison, poisoned)',
];

/** Entry bits, one byte per page. */
export const PageBit = { UffdWp: 1, Dirty: 2, SoftDirty: 4 } as const;

export interface VmaInfo {
  /** Arena pages [startPage, endPage). */
  readonly startPage: number;
  readonly endPage: number;
  readonly prot: string;
  readonly kind: 'anon' | 'file' | 'shmem' | 'hugetlb';
  readonly shared: boolean;
  readonly locked: boolean;
  readonly hugepage: boolean;
  readonly nohugepage: boolean;
  readonly uffdWp: boolean;
  readonly uffdWpAsync: boolean;
  readonly flags: readonly string[];
}

export interface PageMap {
  readonly kinds: Uint8Array;
  readonly bits: Uint8Array;
  readonly vmas: readonly VmaInfo[];
}

interface ClassifyState {
  kernel: Kernel;
  base: number;
  kinds: Uint8Array;
  bits: Uint8Array;
  hugeZero: boolean;
}

function swapKind(entry: number): PageKind {
  if (isRealSwapEntry(entry)) return PageKind.Swapped;
  if (isGuardPteMarker(entry)) return PageKind.Guard;
  if (isUffdWpPteMarker(entry)) return PageKind.UffdWpMarker;
  if (isDevicePrivateEntry(entry)) return PageKind.DevicePrivate;
  if (isDeviceExclusiveEntry(entry)) return PageKind.DeviceExclusive;
  if (isMigrationEntry(entry)) return PageKind.Migration;
  return PageKind.Other;
}

/** The kind and bits of one leaf entry (PTE level). */
export function classifyEntry(kernel: Kernel, entry: number): { kind: PageKind; bits: number } {
  if (entry === 0) return { kind: PageKind.None, bits: 0 };
  if (isSwapPte(entry)) {
    const bits = (pteSwpUffdWp(entry) ? PageBit.UffdWp : 0) | (pteSwpSoftDirty(entry) ? PageBit.SoftDirty : 0);
    return { kind: swapKind(entry), bits };
  }
  const bits = ((entry & PTE_UFFD_WP) !== 0 ? PageBit.UffdWp : 0) | ((entry & PTE_DIRTY) !== 0 ? PageBit.Dirty : 0) | ((entry & PTE_SOFT_DIRTY) !== 0 ? PageBit.SoftDirty : 0);
  const pfn = ptePfn(entry);
  if (pteSpecial(entry) && pfn === kernel.frames.zeroPfn) return { kind: PageKind.Zero, bits };
  // PG_ANON is a folio flag: a large folio's tail pages read it from the head.
  return { kind: (kernel.frames.flags[kernel.frames.folioOf(pfn)]! & PG_ANON) !== 0 ? PageKind.Anon : PageKind.File, bits };
}

const classifyOps: MmWalkOps<ClassifyState> = {
  pmdEntry(entry, addr, next, walk) {
    const s = walk.state;
    if (pmdLeaf(entry) || isSwapPte(entry)) {
      let kind: PageKind;
      if (isSwapPte(entry)) kind = swapKind(entry);
      else kind = (s.kernel.frames.flags[ptePfn(entry)]! & PG_ZERO) !== 0 ? PageKind.HugeZero : PageKind.Thp;
      const { bits } = classifyEntry(s.kernel, entry);
      const first = (addr - s.base) / PAGE_SIZE;
      const last = (next - s.base) / PAGE_SIZE;
      s.kinds.fill(kind, first, last);
      s.bits.fill(bits, first, last);
      walk.action = WalkAction.Continue;
    }
  },
  pteBatch(entries, first, count, addr, walk) {
    const s = walk.state;
    const page = (addr - s.base) / PAGE_SIZE;
    for (let i = 0; i < count; i++) {
      const entry = entries[first + i]!;
      if (entry === 0) continue;
      const { kind, bits } = classifyEntry(s.kernel, entry);
      s.kinds[page + i] = kind;
      s.bits[page + i] = bits;
    }
  },
  hugetlbEntry(entry, _hmask, addr, next, walk) {
    const s = walk.state;
    const first = (addr - s.base) / PAGE_SIZE;
    const last = (next - s.base) / PAGE_SIZE;
    if (entry === 0) return;
    s.kinds.fill(ptePresent(entry) ? PageKind.Hugetlb : swapKind(entry), first, last);
  },
};

export function vmaInfo(vma: Vma, base: number): VmaInfo {
  const f = vma.flags;
  const prot = `${f & VM_READ ? 'r' : '-'}${f & VM_WRITE ? 'w' : '-'}${f & VM_EXEC ? 'x' : '-'}${f & VM_SHARED ? 's' : 'p'}`;
  const kind = vma.isHugetlb ? 'hugetlb' : vma.file === null ? 'anon' : vma.isShared ? 'shmem' : 'file';
  let uffdWpAsync = false;
  try {
    uffdWpAsync = (f & VM_UFFD_WP) !== 0 && isWpAsync(vma);
  } catch {
    uffdWpAsync = false;
  }
  return {
    startPage: (vma.start - base) / PAGE_SIZE,
    endPage: (vma.end - base) / PAGE_SIZE,
    prot,
    kind,
    shared: (f & VM_SHARED) !== 0,
    locked: (f & (VM_LOCKED | VM_LOCKONFAULT)) !== 0,
    hugepage: (f & VM_HUGEPAGE) !== 0,
    nohugepage: (f & VM_NOHUGEPAGE) !== 0,
    uffdWp: (f & VM_UFFD_WP) !== 0,
    uffdWpAsync,
    flags: vmFlagNames(f),
  };
}

/** Classifies every page of the arena [base, base + pages * 4096). */
export function classifyArena(kernel: Kernel, mm: Mm, base: number, pages: number): PageMap {
  const kinds = new Uint8Array(pages);
  const bits = new Uint8Array(pages);
  const end = base + pages * PAGE_SIZE;
  const vmas: VmaInfo[] = [];
  for (const vma of mm.vmas.range(base, end)) {
    const info = vmaInfo(vma, base);
    vmas.push(info);
    kinds.fill(PageKind.None, Math.max(0, info.startPage), Math.min(pages, info.endPage));
  }
  if (vmas.length > 0) {
    // Tracing stays off for the explorer's own walks.
    const restore = kernel.trace(null);
    try {
      walkPageRange(mm, base, end, classifyOps, { kernel, base, kinds, bits, hugeZero: false });
    } finally {
      restore();
    }
  }
  return { kinds, bits, vmas };
}
