/**
 * Reverse-mapping accounting (mm/rmap.c): the refcount and mapcount a PTE
 * mapping holds on its page, and anon_vma creation.
 */
import type { Mm } from './mm.js';
import { writableVma, type AnonVma, type Vma } from './vma.js';
import { FRAMES } from './readonly-pools.js';

/** Takes a mapping reference on `pfn` for one PTE (folio refcount + page mapcount). */
export function accountPteMap(mm: Mm, pfn: number): void {
  const frames = mm.kernel[FRAMES];
  frames.get(frames.folioOf(pfn));
  frames.mapcount[pfn] = frames.mapcount[pfn]! + 1;
}

/** Drops the mapping reference of one PTE on `pfn`. */
export function accountPteUnmap(mm: Mm, pfn: number): void {
  const frames = mm.kernel[FRAMES];
  frames.mapcount[pfn] = frames.mapcount[pfn]! - 1;
  frames.put(frames.folioOf(pfn));
}

let nextAnonVmaId = 1;

/** A new anon_vma for a VMA (anon_vma_prepare). */
export function anonVmaPrepare(mm: Mm, vma: Vma, root?: AnonVma): AnonVma {
  if (vma.anonVma !== null) return vma.anonVma;
  const id = nextAnonVmaId++;
  const anonVma: AnonVma = root === undefined ? ({ id, get root() { return anonVma; } } as AnonVma) : { id, root };
  writableVma(vma).anonVma = anonVma;
  return anonVma;
}
