/**
 * migrate_vma (mm/migrate_device.c): moving the pages behind a virtual
 * range between system memory and device memory in three steps.
 *
 *   migrateVmaSetup     collect: walk the range (the core walker, with
 *                       `migrateCollectWalkOps`), record a MIGRATE_PFN_*
 *                       entry per page, trylock each page and replace its
 *                       PTE by a migration entry; then unmap: isolate,
 *                       unmap remaining mappings, refuse pinned pages and
 *                       restore whatever cannot migrate.
 *   (driver)            allocates destination pages, copies data, fills dst.
 *   migrateVmaPages     moves page state to the destinations; holes get
 *                       their new page inserted.
 *   migrateVmaFinalize  migration entries → the new pages (or back to the
 *                       old ones); unlocks and releases.
 *
 * Between setup and finalize the range holds migration entries and the
 * pages are locked; finalize always leaves none behind. The same pages and
 * finalize steps serve migrateDeviceRange (device eviction, no VMA).
 */
import {
  Errno,
  MmInvariantError,
  PAGE_SIZE,
  PG_ANON,
  PG_ANON_EXCLUSIVE,
  PG_DIRTY,
  PG_ISOLATED,
  PG_LOCKED,
  PG_LRU,
  PG_PAGECACHE,
  PG_SWAPBACKED,
  PG_ZERO,
  PG_ZONE_DEVICE,
  VM_HUGETLB,
  VM_SPECIAL,
  VM_UFFD_MISSING,
  VM_WRITE,
  WalkAction,
  HPAGE_PMD_NR,
  isDevicePrivateEntry,
  isSwapPte,
  isWritableDevicePrivateEntry,
  makeDevicePrivateEntry,
  mkPte,
  PTE_DIRTY,
  PTE_WRITE,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteWrite,
  swpOffset,
  type Kernel,
  type MmWalk,
  type MmWalkOps,
  type Mm,
  type Pmd,
  type Pte,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { hmmRegistryOf } from './device-pagemap.js';
import { MIGRATE_PFN_MIGRATE, MIGRATE_PFN_WRITE, MigrateVmaSelect, migratePfn, migratePfnToPfn } from './migrate-pfn.js';
import { MigrationEntries, installMigrationEntry, removeMigrationPtes, tryToMigrate } from './rmap.js';

const { accountPteMap, anonVmaPrepare, forEachEntry, framesOf, pteSlotOf, splitHugePmd, tablesOf, walkPageRangeMm } = claimMmInternal();

/** What a migration batch shares between its steps (struct migrate_vma minus the VMA part). */
export interface MigrationBatch {
  readonly kernel: Kernel;
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  /** Entries of src/dst in use. */
  npages: number;
  /** The locked device page of a CPU fault (0 = none). */
  readonly faultPage: number;
  /** Migration entries this batch installed (the rmap of its pages). */
  readonly entries: MigrationEntries;
}

/** struct migrate_vma. Build with createMigrateVma, then call the three steps. */
export interface MigrateVma extends MigrationBatch {
  readonly mm: Mm;
  readonly vma: Vma | null;
  start: number;
  end: number;
  /** Out: pages collected and unmapped (those with MIGRATE set after setup). */
  cpages: number;
  /** pgmap_owner: selects device-private pages of this owner. */
  readonly pgmapOwner: object | null;
  /** MigrateVmaSelect bits. */
  readonly flags: number;
}

export interface MigrateVmaOptions {
  /** src/dst arrays (default: allocated for the range). */
  src?: Uint32Array;
  dst?: Uint32Array;
  pgmapOwner?: object | null;
  flags: number;
  faultPage?: number;
}

export function createMigrateVma(mm: Mm, vma: Vma | null, start: number, end: number, options: MigrateVmaOptions): MigrateVma {
  const pages = Math.max(0, Math.floor((end - start) / PAGE_SIZE));
  return {
    kernel: mm.kernel,
    mm,
    vma,
    start,
    end,
    src: options.src ?? new Uint32Array(pages),
    dst: options.dst ?? new Uint32Array(pages),
    npages: 0,
    cpages: 0,
    pgmapOwner: options.pgmapOwner ?? null,
    flags: options.flags,
    faultPage: options.faultPage ?? 0,
    entries: new MigrationEntries(),
  };
}

/* ------------------------------------------------------------- collect */

/** The collect walk's state is the migration itself (walk->private). */
export type MigrateCollectState = MigrateVma;

function collectSkip(migrate: MigrateVma, start: number, end: number): void {
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    migrate.dst[migrate.npages] = 0;
    migrate.src[migrate.npages++] = 0;
  }
}

function collectHole(start: number, end: number, _depth: number, walk: MmWalk<MigrateCollectState>): number {
  const migrate = walk.state;
  if (walk.vma === null || !walk.vma.isAnonymous) {
    collectSkip(migrate, start, end);
    return 0;
  }
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    migrate.dst[migrate.npages] = 0;
    migrate.src[migrate.npages++] = MIGRATE_PFN_MIGRATE;
    migrate.cpages++;
  }
  return 0;
}

/** Splits the PMD mappings of a THP everywhere, then the folio itself (split_folio). False if it cannot be split. */
function splitThp(kernel: Kernel, head: number): boolean {
  const frames = framesOf(kernel);
  for (let i = 0; i < HPAGE_PMD_NR; i++) if ((frames.pins.get(head + i) ?? 0) > 0) return false;
  for (const mm of kernel.mms) {
    for (const vma of mm.vmas.all()) {
      if (vma.isHugetlb) continue;
      forEachEntry(mm, vma.start, vma.end, (slot, entry) => {
        if (pmdLeaf(entry) && ptePfn(entry) === head) splitHugePmd(mm, vma, slot, vma.start);
      });
    }
  }
  if ((frames.entireMapcount.get(head) ?? 0) !== 0) return false;
  frames.splitFolio(head);
  return true;
}

function collectPmd(pmd: Pmd, addr: number, next: number, walk: MmWalk<MigrateCollectState>): number {
  const migrate = walk.state;
  const kernel = migrate.kernel;
  const frames = framesOf(kernel);
  if (pmdLeaf(pmd)) {
    const head = ptePfn(pmd);
    if (frames.has(head, PG_ZERO)) {
      // The huge zero page: split the PMD into zero-page PTEs and walk those.
      splitHugePmd(walk.mm, walk.vma!, walk.slot, addr);
      return 0;
    }
    if (head === migrate.faultPage || frames.has(head, PG_LOCKED)) {
      collectSkip(migrate, addr, next);
      walk.action = WalkAction.Continue;
      return 0;
    }
    frames.set(head, PG_LOCKED);
    const split = splitThp(kernel, head);
    // split_folio leaves every new page locked like the folio was; unlock them all.
    for (let i = 0; i < (split ? HPAGE_PMD_NR : 1); i++) frames.clear(head + i, PG_LOCKED);
    if (!split) {
      collectSkip(migrate, addr, next);
      walk.action = WalkAction.Continue;
    }
    return 0;
  }
  if (isSwapPte(pmd)) {
    // A PMD migration entry: never at rest in the simulator; nothing to collect.
    collectSkip(migrate, addr, next);
    walk.action = WalkAction.Continue;
  }
  return 0;
}

function collectPte(pte: Pte, addr: number, _next: number, walk: MmWalk<MigrateCollectState>): number {
  const migrate = walk.state;
  const kernel = migrate.kernel;
  const frames = framesOf(kernel);
  const vma = walk.vma!;
  let mpfn = 0;
  let pfn = 0;
  let normalPage = false;
  if (pte === 0) {
    if (vma.isAnonymous) {
      mpfn = MIGRATE_PFN_MIGRATE;
      migrate.cpages++;
    }
  } else if (!ptePresent(pte)) {
    // Only device-private entries of the selected owner migrate; swap, markers and the rest stay.
    if (
      isDevicePrivateEntry(pte) &&
      (migrate.flags & MigrateVmaSelect.DevicePrivate) !== 0 &&
      hmmRegistryOf(kernel).pagemapOf(swpOffset(pte))?.owner === migrate.pgmapOwner
    ) {
      pfn = swpOffset(pte);
      normalPage = true;
      mpfn = migratePfn(pfn) | MIGRATE_PFN_MIGRATE | (isWritableDevicePrivateEntry(pte) ? MIGRATE_PFN_WRITE : 0);
    }
  } else {
    pfn = ptePfn(pte);
    if (pfn === frames.zeroPfn && (migrate.flags & MigrateVmaSelect.System) !== 0) {
      // The zero page: migrate "nothing"; the zero PTE stays until the pages step.
      mpfn = MIGRATE_PFN_MIGRATE;
      migrate.cpages++;
    } else if (!pteSpecial(pte) && (frames.has(pfn, PG_ZONE_DEVICE) || (migrate.flags & MigrateVmaSelect.System) !== 0)) {
      normalPage = true;
      mpfn = migratePfn(pfn) | MIGRATE_PFN_MIGRATE | (pteWrite(pte) ? MIGRATE_PFN_WRITE : 0);
    }
  }
  if (normalPage) {
    // Pages of large folios are not migrated (no THP support below the PMD split).
    const folio = frames.folioOf(pfn);
    if (frames.isLarge(folio)) {
      mpfn = 0;
    } else if (pfn === migrate.faultPage || !frames.has(pfn, PG_LOCKED)) {
      // trylock succeeded (or the fault already holds the lock).
      if (pfn !== migrate.faultPage) frames.set(pfn, PG_LOCKED);
      const anonExclusive = frames.has(pfn, PG_ANON) && frames.has(pfn, PG_ANON_EXCLUSIVE);
      if (anonExclusive && (frames.pins.get(pfn) ?? 0) > 0) {
        // folio_try_share_anon_rmap_pte refuses a possibly pinned exclusive page: leave it mapped.
        if (pfn !== migrate.faultPage) frames.clear(pfn, PG_LOCKED);
        mpfn = 0;
      } else {
        if (anonExclusive) frames.clear(pfn, PG_ANON_EXCLUSIVE);
        migrate.cpages++;
        installMigrationEntry(kernel, walk.slot, pfn, anonExclusive);
        migrate.entries.add(pfn, { mm: walk.mm, vma, slot: walk.slot });
        // The mapping's reference becomes the collect reference that pins the page.
      }
    } else {
      mpfn = 0;
    }
  }
  migrate.dst[migrate.npages] = 0;
  migrate.src[migrate.npages++] = mpfn;
  return 0;
}

/** The collect walk (migrate_vma_walk_ops): read-locked, huge PMDs split, holes filled. */
export const migrateCollectWalkOps: MmWalkOps<MigrateCollectState> = {
  pmdEntry: collectPmd,
  pteEntry: collectPte,
  pteHole: collectHole,
};

/* --------------------------------------------------------------- unmap */

/** migrate_vma_check_page: false for large folios and pages with references beyond the expected ones (pins). */
function checkPage(kernel: Kernel, pfn: number, faultPage: number): boolean {
  const frames = framesOf(kernel);
  if (frames.isLarge(frames.folioOf(pfn))) return false;
  let extra = 1 + (pfn === faultPage ? 1 : 0);
  if (frames.has(pfn, PG_ZONE_DEVICE)) extra++;
  if (frames.has(pfn, PG_PAGECACHE)) extra++;
  return frames.refcount[pfn]! - extra <= frames.mapcount[pfn]!;
}

function unlockUnlessFault(batch: MigrationBatch, pfn: number): void {
  if (pfn !== batch.faultPage) framesOf(batch.kernel).clear(pfn, PG_LOCKED);
}

/**
 * migrate_device_unmap: isolates system pages, unmaps what is still mapped
 * elsewhere, refuses pinned pages and restores every page that cannot
 * migrate (its src entry becomes 0). Returns the entries still migrating.
 */
function migrateDeviceUnmap(batch: MigrationBatch): number {
  const frames = framesOf(batch.kernel);
  const { src, npages } = batch;
  let unmapped = 0;
  let restore = 0;
  const stillMapped = new Set<number>();
  for (let i = 0; i < npages; i++) {
    const pfn = migratePfnToPfn(src[i]!);
    if (pfn !== 0 && frames.mapcount[pfn]! > 0) stillMapped.add(pfn);
  }
  for (let i = 0; i < npages; i++) {
    const pfn = migratePfnToPfn(src[i]!);
    if (pfn === 0) {
      if ((src[i]! & MIGRATE_PFN_MIGRATE) !== 0) unmapped++;
      continue;
    }
    const device = frames.has(pfn, PG_ZONE_DEVICE);
    if (!device) {
      // folio_isolate_lru: fails when someone else already took it off the LRU.
      if (frames.has(pfn, PG_ISOLATED) || !frames.has(pfn, PG_LRU)) {
        src[i] = src[i]! & ~MIGRATE_PFN_MIGRATE;
        restore++;
        stillMapped.delete(pfn);
        continue;
      }
      frames.clear(pfn, PG_LRU);
      frames.set(pfn, PG_ISOLATED);
    }
  }
  // try_to_migrate for every page still mapped somewhere else (one rmap scan).
  if (stillMapped.size > 0) tryToMigrate(batch.kernel, stillMapped, batch.entries);
  for (let i = 0; i < npages; i++) {
    const pfn = migratePfnToPfn(src[i]!);
    if (pfn === 0 || (src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
    if (frames.mapcount[pfn]! > 0 || !checkPage(batch.kernel, pfn, batch.faultPage)) {
      if (!frames.has(pfn, PG_ZONE_DEVICE)) {
        frames.clear(pfn, PG_ISOLATED);
        frames.set(pfn, PG_LRU);
      }
      src[i] = src[i]! & ~MIGRATE_PFN_MIGRATE;
      restore++;
      continue;
    }
    unmapped++;
  }
  for (let i = 0; i < npages && restore > 0; i++) {
    const pfn = migratePfnToPfn(src[i]!);
    if (pfn === 0 || (src[i]! & MIGRATE_PFN_MIGRATE) !== 0) continue;
    removeMigrationPtes(batch.kernel, batch.entries, pfn, pfn);
    src[i] = 0;
    unlockUnlessFault(batch, pfn);
    frames.put(pfn);
    restore--;
  }
  return unmapped;
}

/* --------------------------------------------------------------- setup */

/**
 * migrate_vma_setup(). Returns 0 (even when nothing can migrate) or
 * -EINVAL for a bad request: no VMA, a hugetlb or special VMA, an empty
 * range, a range not inside the VMA, src/dst too short, or a fault page
 * that is not a locked device-private page.
 */
export function migrateVmaSetup(migrate: MigrateVma): number {
  const nrPages = Math.floor((migrate.end - migrate.start) / PAGE_SIZE);
  migrate.start -= migrate.start % PAGE_SIZE;
  migrate.end -= migrate.end % PAGE_SIZE;
  const vma = migrate.vma;
  if (vma === null || (vma.flags & (VM_HUGETLB | VM_SPECIAL)) !== 0) return -Errno.EINVAL;
  if (nrPages <= 0) return -Errno.EINVAL;
  if (migrate.start < vma.start || migrate.start >= vma.end) return -Errno.EINVAL;
  if (migrate.end <= vma.start || migrate.end > vma.end) return -Errno.EINVAL;
  if (migrate.src.length < nrPages || migrate.dst.length < nrPages) return -Errno.EINVAL;
  const frames = framesOf(migrate.kernel);
  if (migrate.faultPage !== 0) {
    if (hmmRegistryOf(migrate.kernel).pagemapOf(migrate.faultPage) === null) return -Errno.EINVAL;
    if (!frames.has(migrate.faultPage, PG_LOCKED)) return -Errno.EINVAL;
  }
  migrate.src.fill(0, 0, nrPages);
  migrate.cpages = 0;
  migrate.npages = 0;
  // mm-internal walk: the collect callbacks install migration entries at walk.slot.
  const err = walkPageRangeMm(migrate.mm, migrate.start, migrate.end, migrateCollectWalkOps, migrate);
  if (err < 0) return err;
  migrate.end = migrate.start + migrate.npages * PAGE_SIZE;
  if (migrate.cpages > 0) migrate.cpages = migrateDeviceUnmap(migrate);
  return 0;
}

/* --------------------------------------------------------------- pages */

/** migrate_vma_insert_page: a hole (or the zero page) gets the new page directly. */
function insertPage(migrate: MigrateVma, addr: number, page: number, index: number): void {
  const kernel = migrate.kernel;
  const frames = framesOf(kernel);
  const tables = tablesOf(kernel);
  const vma = migrate.vma!;
  const abort = () => {
    migrate.src[index] = migrate.src[index]! & ~MIGRATE_PFN_MIGRATE;
  };
  if (!vma.isAnonymous) return abort();
  const slot = pteSlotOf(migrate.mm, addr, true);
  if (slot < 0) return abort(); // a THP maps the PMD now
  anonVmaPrepare(migrate.mm, vma);
  const writable = (vma.flags & VM_WRITE) !== 0;
  const entry = frames.has(page, PG_ZONE_DEVICE)
    ? makeDevicePrivateEntry(page, writable)
    : mkPte(page, writable ? PTE_WRITE | PTE_DIRTY : 0);
  const orig = tables.entries[slot]!;
  if (ptePresent(orig)) {
    if (ptePfn(orig) !== frames.zeroPfn) return abort();
  } else if (orig !== 0) {
    return abort();
  }
  if ((vma.flags & VM_UFFD_MISSING) !== 0) return abort();
  frames.set(page, PG_ANON | PG_ANON_EXCLUSIVE);
  if (!frames.has(page, PG_ZONE_DEVICE)) frames.set(page, PG_SWAPBACKED | PG_LRU);
  accountPteMap(migrate.mm, page);
  tables.entries[slot] = entry >>> 0;
  migrate.src[index] = MIGRATE_PFN_MIGRATE;
}

function migratePages(batch: MigrationBatch, migrate: MigrateVma | null): void {
  const frames = framesOf(batch.kernel);
  const { src, dst, npages } = batch;
  for (let i = 0; i < npages; i++) {
    const newPage = migratePfnToPfn(dst[i]!);
    const page = migratePfnToPfn(src[i]!);
    if (newPage === 0) {
      src[i] = src[i]! & ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    if (page === 0) {
      if ((src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
      if (migrate === null) throw new MmInvariantError('migrate_device_pages: a hole without a VMA');
      insertPage(migrate, migrate.start + i * PAGE_SIZE, newPage, i);
      continue;
    }
    if ((src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
    const pageCache = frames.has(page, PG_PAGECACHE);
    if (frames.has(newPage, PG_ZONE_DEVICE) && pageCache) {
      // Only anonymous memory moves to device memory.
      src[i] = src[i]! & ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    // folio_migrate_mapping: exactly the expected references (collect/isolation, fault).
    const expected = 1 + (page === batch.faultPage ? 1 : 0);
    if (pageCache || frames.refcount[page] !== expected) {
      src[i] = src[i]! & ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    // folio_migrate_flags.
    let flags = frames.flags[page]! & (PG_ANON | PG_DIRTY);
    if (!frames.has(newPage, PG_ZONE_DEVICE) && (flags & PG_ANON) !== 0) flags |= PG_SWAPBACKED;
    frames.set(newPage, flags);
  }
}

/** migrate_vma_pages(). */
export function migrateVmaPages(migrate: MigrateVma): void {
  migratePages(migrate, migrate);
}

/* ------------------------------------------------------------ finalize */

function finalize(batch: MigrationBatch): void {
  const frames = framesOf(batch.kernel);
  const { src, dst, npages } = batch;
  for (let i = 0; i < npages; i++) {
    let target = migratePfnToPfn(dst[i]!);
    const page = migratePfnToPfn(src[i]!);
    if (page === 0) {
      if (target !== 0) {
        frames.clear(target, PG_LOCKED);
        frames.put(target);
      }
      continue;
    }
    if ((src[i]! & MIGRATE_PFN_MIGRATE) === 0 || target === 0) {
      if (target !== 0) {
        frames.clear(target, PG_LOCKED);
        frames.put(target);
      }
      target = page;
    }
    if (!frames.has(target, PG_ZONE_DEVICE)) {
      frames.clear(target, PG_ISOLATED);
      frames.set(target, PG_LRU);
    }
    removeMigrationPtes(batch.kernel, batch.entries, page, target);
    unlockUnlessFault(batch, page);
    if (target !== page) frames.clear(page, PG_ISOLATED);
    frames.put(page);
    if (target !== page) {
      frames.clear(target, PG_LOCKED);
      frames.put(target);
    }
  }
  if (batch.entries.size !== 0) throw new MmInvariantError('migrate finalize left migration entries behind');
}

/** migrate_vma_finalize(). */
export function migrateVmaFinalize(migrate: MigrateVma): void {
  finalize(migrate);
}

/* ----------------------------------------------------- device eviction */

/** A migration by device pfns (migrate_device_range / migrate_device_pfns): no VMA, no holes. */
export type MigrateDevice = MigrationBatch;

/**
 * migrate_device_pfns(): takes each live, unlocked device page (a
 * reference and its lock), then unmaps them all. Entries that cannot be
 * taken are 0.
 */
export function migrateDevicePfns(kernel: Kernel, pfns: readonly number[]): MigrateDevice {
  const frames = framesOf(kernel);
  const batch: MigrateDevice = {
    kernel,
    src: new Uint32Array(pfns.length),
    dst: new Uint32Array(pfns.length),
    npages: pfns.length,
    faultPage: 0,
    entries: new MigrationEntries(),
  };
  for (let i = 0; i < pfns.length; i++) {
    const pfn = pfns[i]!;
    if (!frames.isAllocated(pfn) || frames.refcount[pfn]! <= 0 || frames.has(pfn, PG_LOCKED)) continue;
    frames.get(pfn);
    frames.set(pfn, PG_LOCKED);
    batch.src[i] = migratePfn(pfn) | MIGRATE_PFN_MIGRATE;
  }
  migrateDeviceUnmap(batch);
  return batch;
}

/** migrate_device_pages(). */
export function migrateDevicePages(batch: MigrateDevice): void {
  migratePages(batch, null);
}

/** migrate_device_finalize(). */
export function migrateDeviceFinalize(batch: MigrateDevice): void {
  finalize(batch);
}

/**
 * A destination page for the driver step: a locked system page with the
 * allocation's reference (alloc_page + lock_page). Returns 0 when memory
 * is exhausted.
 */
export function allocSystemPage(kernel: Kernel): number {
  const frames = framesOf(kernel);
  const pfn = frames.alloc(0, 0);
  if (pfn < 0) return 0;
  frames.get(pfn);
  frames.set(pfn, PG_LOCKED);
  return pfn;
}
