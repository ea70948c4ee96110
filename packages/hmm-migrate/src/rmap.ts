/**
 * The reverse-map work of a device migration: installing migration
 * entries (try_to_migrate), finding every mapping of a page across all
 * address spaces, and putting pages back behind migration entries
 * (remove_migration_ptes).
 *
 * The simulator keeps no rmap, so finding the mappings of a page scans the
 * page tables of every mm; it runs only when a page being migrated is
 * still mapped somewhere else (after fork, for eviction), never per entry
 * of an ordinary migration. Migration entries a batch installs are recorded
 * with their table slot, so restoring them needs no scan.
 */
import {
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_DIRTY,
  PG_ZONE_DEVICE,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  PTE_UFFD_WP,
  PTE_WRITE,
  isDevicePrivateEntry,
  isMigrationEntry,
  isWritableDevicePrivateEntry,
  isWritableMigrationEntry,
  makeDevicePrivateEntry,
  makeMigrationEntry,
  mkPte,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteDirty,
  pteSoftDirty,
  pteSpecial,
  pteSwpMksoftDirty,
  pteSwpMkuffdWp,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteUffdWp,
  pteWrite,
  swpOffset,
  swpType,
  SWP_MIGRATION_READ_EXCLUSIVE,
  type Kernel,
  type Mm,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { accountPteMap, forEachEntry, framesOf, tablesOf } = claimMmInternal();

/** Where one mapping (or migration entry) lives. */
export interface MappingSlot {
  readonly mm: Mm;
  readonly vma: Vma;
  /** Index into kernel.tables.entries. */
  readonly slot: number;
}

/** The migration entries one migration batch installed, by the pfn they point at. */
export class MigrationEntries {
  private readonly byPfn = new Map<number, MappingSlot[]>();

  add(pfn: number, where: MappingSlot): void {
    const list = this.byPfn.get(pfn);
    if (list === undefined) this.byPfn.set(pfn, [where]);
    else list.push(where);
  }

  take(pfn: number): MappingSlot[] {
    const list = this.byPfn.get(pfn) ?? [];
    this.byPfn.delete(pfn);
    return list;
  }

  get size(): number {
    return this.byPfn.size;
  }
}

/**
 * Replaces the mapping at `slot` (a present PTE of `pfn` or a device-private
 * entry for it) by a migration entry and removes its rmap (mapcount); the
 * mapping's reference stays with the caller. Returns the new entry.
 */
export function installMigrationEntry(kernel: Kernel, slot: number, pfn: number, anonExclusive: boolean): number {
  const tables = tablesOf(kernel);
  const frames = framesOf(kernel);
  const old = tables.entries[slot]!;
  let entry: number;
  if (ptePresent(old)) {
    const write = pteWrite(old);
    if (pteDirty(old)) frames.set(frames.folioOf(pfn), PG_DIRTY);
    entry = makeMigrationEntry(pfn, write, anonExclusive && !write);
    if (pteSoftDirty(old)) entry = pteSwpMksoftDirty(entry);
    if (pteUffdWp(old)) entry = pteSwpMkuffdWp(entry);
  } else {
    const write = isWritableDevicePrivateEntry(old);
    entry = makeMigrationEntry(pfn, write, anonExclusive && !write);
    if (pteSwpSoftDirty(old)) entry = pteSwpMksoftDirty(entry);
    if (pteSwpUffdWp(old)) entry = pteSwpMkuffdWp(entry);
  }
  tables.entries[slot] = entry >>> 0;
  frames.mapcount[pfn] = frames.mapcount[pfn]! - 1;
  return entry;
}

/**
 * Every PTE-level mapping of the given order-0 pages in every mm: present
 * PTEs and device-private entries (an rmap walk, done by scanning).
 */
export function findMappings(kernel: Kernel, pfns: ReadonlySet<number>): Map<number, MappingSlot[]> {
  const found = new Map<number, MappingSlot[]>();
  if (pfns.size === 0) return found;
  for (const mm of kernel.mms) {
    for (const vma of mm.vmas.all()) {
      if (vma.isHugetlb) continue;
      forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
        if (pmdLeaf(entry)) return;
        let pfn: number;
        if (ptePresent(entry)) {
          if (pteSpecial(entry)) return;
          pfn = ptePfn(entry);
        } else if (isDevicePrivateEntry(entry)) {
          pfn = swpOffset(entry);
        } else {
          return;
        }
        if (!pfns.has(pfn)) return;
        const list = found.get(pfn);
        const where = { mm, vma, slot };
        if (list === undefined) found.set(pfn, [where]);
        else list.push(where);
      });
    }
  }
  return found;
}

/**
 * try_to_migrate(): replaces every remaining mapping of each page by a
 * migration entry, dropping the mappings' references (the caller holds its
 * own). Pages whose mappings are all gone afterwards are "unmapped".
 */
export function tryToMigrate(kernel: Kernel, pfns: ReadonlySet<number>, entries: MigrationEntries): void {
  const frames = framesOf(kernel);
  for (const [pfn, slots] of findMappings(kernel, pfns)) {
    for (const where of slots) {
      // A page mapped more than once is never anon-exclusive.
      installMigrationEntry(kernel, where.slot, pfn, false);
      frames.clear(pfn, PG_ANON_EXCLUSIVE);
      frames.put(frames.folioOf(pfn));
      entries.add(pfn, where);
    }
  }
}

/**
 * remove_migration_ptes(src, dst): every migration entry this batch left
 * pointing at `src` is replaced by a mapping of `dst` — a device-private
 * entry when dst is device memory, else a present PTE — keeping write
 * permission, soft-dirty and uffd-wp. Each new mapping takes its own
 * reference and rmap.
 */
export function removeMigrationPtes(kernel: Kernel, entries: MigrationEntries, src: number, dst: number): void {
  const tables = tablesOf(kernel);
  const frames = framesOf(kernel);
  const device = frames.has(dst, PG_ZONE_DEVICE);
  for (const where of entries.take(src)) {
    const old = tables.entries[where.slot]!;
    if (!isMigrationEntry(old) || swpOffset(old) !== src) continue;
    const write = isWritableMigrationEntry(old);
    const exclusive = write || swpType(old) === SWP_MIGRATION_READ_EXCLUSIVE;
    let entry: number;
    if (device) {
      entry = makeDevicePrivateEntry(dst, write);
      if (pteSwpSoftDirty(old)) entry = pteSwpMksoftDirty(entry);
      if (pteSwpUffdWp(old)) entry = pteSwpMkuffdWp(entry);
    } else {
      let bits = PTE_ACCESSED;
      if (pteSwpSoftDirty(old)) bits |= PTE_SOFT_DIRTY;
      if (pteSwpUffdWp(old)) bits |= PTE_UFFD_WP;
      else if (write) {
        bits |= PTE_WRITE;
        if (frames.has(frames.folioOf(dst), PG_DIRTY)) bits |= PTE_DIRTY;
      }
      entry = mkPte(dst, bits);
    }
    if (frames.has(frames.folioOf(dst), PG_ANON)) {
      if (exclusive) frames.set(dst, PG_ANON_EXCLUSIVE);
      else frames.clear(dst, PG_ANON_EXCLUSIVE);
    }
    accountPteMap(where.mm, dst);
    tables.entries[where.slot] = entry >>> 0;
  }
}
