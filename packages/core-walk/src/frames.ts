/**
 * Physical memory: frames (struct page) and folios in typed arrays, plus
 * lazily allocated page contents. This module owns the frame-flag layout.
 *
 * Per frame: refcount (Int32), mapcount (Int32), flags (Uint16) = 10 bytes.
 * A folio is order 0 (one frame) or PMD order (512 consecutive, 512-aligned
 * frames, the first flagged HEAD, the rest TAIL). Folio-wide state
 * (refcount, most flags) lives in the head frame.
 *
 * Counting rules used by the invariant checker:
 *   refcount(head) = every mapping of any page of the folio (each PTE, each
 *                    PMD) + page-cache reference + pins
 *   mapcount(frame) = PTEs mapping that frame; the PMD mappings of a large
 *                     folio are counted once per folio in entireMapcount.
 */
import { HPAGE_PMD_NR, PAGE_SIZE } from './geometry.js';
import { MAX_PFN } from './pgtable.js';
import { MmInvariantError } from './errno.js';

export const PG_ALLOCATED = 1 << 0;
export const PG_ANON = 1 << 1;
/** Anonymous-style backing (anon or shmem): reclaimed to swap. Cleared by MADV_FREE (lazyfree). */
export const PG_SWAPBACKED = 1 << 2;
export const PG_LRU = 1 << 3;
export const PG_LOCKED = 1 << 4;
export const PG_DIRTY = 1 << 5;
export const PG_HEAD = 1 << 6;
export const PG_TAIL = 1 << 7;
export const PG_ZONE_DEVICE = 1 << 8;
/** The shared zero page or a frame of the huge zero page. */
export const PG_ZERO = 1 << 9;
export const PG_HUGETLB = 1 << 10;
export const PG_MLOCKED = 1 << 11;
export const PG_REFERENCED = 1 << 12;
export const PG_ISOLATED = 1 << 13;
/** PageAnonExclusive: the page is known to be mapped by one process only. */
export const PG_ANON_EXCLUSIVE = 1 << 14;
/** In a shmem file's page cache. */
export const PG_PAGECACHE = 1 << 15;

/** Page contents, allocated on first non-zero write, in 1 MiB slabs. */
export class PageContents {
  private static readonly SLAB_PAGES = 256;
  private slabs: Uint8Array[] = [];
  private slotOf = new Map<number, number>();
  private freeSlots: number[] = [];
  private nextSlot = 0;

  /** Keys currently holding data (pfns for RAM, slots for swap). */
  get stored(): number {
    return this.slotOf.size;
  }

  has(key: number): boolean {
    return this.slotOf.has(key);
  }

  readByte(key: number, offset: number): number {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return 0;
    return this.slabs[Math.floor(slot / PageContents.SLAB_PAGES)]![(slot % PageContents.SLAB_PAGES) * PAGE_SIZE + offset]!;
  }

  writeByte(key: number, offset: number, value: number): void {
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      if (value === 0) return;
      slot = this.allocSlot();
      this.slotOf.set(key, slot);
    }
    this.slabs[Math.floor(slot / PageContents.SLAB_PAGES)]![(slot % PageContents.SLAB_PAGES) * PAGE_SIZE + offset] = value;
  }

  /** A view of the page's bytes, or null when the page is all zero. */
  view(key: number): Uint8Array | null {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return null;
    const base = (slot % PageContents.SLAB_PAGES) * PAGE_SIZE;
    return this.slabs[Math.floor(slot / PageContents.SLAB_PAGES)]!.subarray(base, base + PAGE_SIZE);
  }

  /** Makes `key` all zero. */
  clear(key: number): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return;
    this.slotOf.delete(key);
    this.slabs[Math.floor(slot / PageContents.SLAB_PAGES)]!.fill(0, (slot % PageContents.SLAB_PAGES) * PAGE_SIZE, (slot % PageContents.SLAB_PAGES + 1) * PAGE_SIZE);
    this.freeSlots.push(slot);
  }

  /** Copies page `from` of `source` into page `to` of this store. */
  copyFrom(source: PageContents, from: number, to: number): void {
    const data = source.view(from);
    if (data === null) {
      this.clear(to);
      return;
    }
    let slot = this.slotOf.get(to);
    if (slot === undefined) {
      slot = this.allocSlot();
      this.slotOf.set(to, slot);
    }
    const base = (slot % PageContents.SLAB_PAGES) * PAGE_SIZE;
    this.slabs[Math.floor(slot / PageContents.SLAB_PAGES)]!.set(data, base);
  }

  private allocSlot(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.nextSlot++;
    if (slot >= this.slabs.length * PageContents.SLAB_PAGES) {
      this.slabs.push(new Uint8Array(PageContents.SLAB_PAGES * PAGE_SIZE));
    }
    return slot;
  }
}

/** Thrown when simulated RAM (2^24 frames) is exhausted; callers turn it into ENOMEM / VM_FAULT_OOM. */
export const NO_FRAME = -1;

export class FramePool {
  refcount: Int32Array;
  mapcount: Int32Array;
  flags: Uint16Array;
  readonly contents = new PageContents();
  private capacity: number;
  /** Next never-used pfn. */
  private top = 1;
  private free0: number[] = [];
  private free9: number[] = [];
  /** Frames currently allocated (including the zero pages). */
  used = 0;
  /** Frames pinned by GUP-style users (pfn → pins), rare. */
  readonly pins = new Map<number, number>();
  /** The shared zero page. */
  readonly zeroPfn: number;
  private hugeZero = 0;

  constructor(initialFrames = 4096) {
    this.capacity = initialFrames;
    this.refcount = new Int32Array(initialFrames);
    this.mapcount = new Int32Array(initialFrames);
    this.flags = new Uint16Array(initialFrames);
    this.zeroPfn = this.alloc(0, PG_ZERO);
    this.refcount[this.zeroPfn] = 1; // the kernel's own reference: never freed
  }

  get capacityFrames(): number {
    return this.capacity;
  }

  /** Bytes of per-frame metadata for the frames in use. */
  get metadataBytesInUse(): number {
    return this.used * (4 + 4 + 2);
  }

  /** The huge zero page head (allocated on first use). */
  hugeZeroPfn(): number {
    if (this.hugeZero === 0) {
      this.hugeZero = this.alloc(9, PG_ZERO);
      this.refcount[this.hugeZero] = 1;
    }
    return this.hugeZero;
  }

  /** Allocates a folio of `order` (0 or 9) with refcount 0; returns the head pfn or NO_FRAME. */
  alloc(order: 0 | 9, flags: number): number {
    let pfn: number | undefined;
    if (order === 0) {
      pfn = this.free0.pop();
      if (pfn === undefined) pfn = this.take(1);
    } else {
      pfn = this.free9.pop();
      if (pfn === undefined) pfn = this.take(HPAGE_PMD_NR);
    }
    if (pfn === NO_FRAME) return NO_FRAME;
    const n = order === 0 ? 1 : HPAGE_PMD_NR;
    this.flags[pfn] = PG_ALLOCATED | flags | (order === 9 ? PG_HEAD : 0);
    for (let i = 1; i < n; i++) this.flags[pfn + i] = PG_ALLOCATED | PG_TAIL | (flags & (PG_ZERO | PG_HUGETLB));
    this.used += n;
    return pfn;
  }

  private take(n: number): number {
    // PMD-order folios are naturally aligned in pfn space, so a frame's
    // head is found by rounding down; skipped frames feed order-0 use.
    let pfn = this.top;
    if (n > 1 && pfn % n !== 0) pfn += n - (pfn % n);
    if (pfn + n - 1 > MAX_PFN) return NO_FRAME;
    for (let skipped = this.top; skipped < pfn; skipped++) this.free0.push(skipped);
    this.top = pfn + n;
    while (this.top > this.capacity) this.grow();
    return pfn;
  }

  private grow(): void {
    const capacity = Math.min(this.capacity * 2, MAX_PFN + 1);
    const refcount = new Int32Array(capacity);
    refcount.set(this.refcount);
    const mapcount = new Int32Array(capacity);
    mapcount.set(this.mapcount);
    const flags = new Uint16Array(capacity);
    flags.set(this.flags);
    this.refcount = refcount;
    this.mapcount = mapcount;
    this.flags = flags;
    this.capacity = capacity;
  }

  isAllocated(pfn: number): boolean {
    return pfn > 0 && pfn < this.top && (this.flags[pfn]! & PG_ALLOCATED) !== 0;
  }

  isLarge(pfn: number): boolean {
    return (this.flags[pfn]! & PG_HEAD) !== 0;
  }

  /** Head pfn of the folio containing `pfn`. */
  folioOf(pfn: number): number {
    return (this.flags[pfn]! & PG_TAIL) !== 0 ? pfn - (pfn % HPAGE_PMD_NR) : pfn;
  }

  /** PMD mappings of a large folio (the kernel's entire_mapcount). */
  readonly entireMapcount = new Map<number, number>();

  /** page_mapcount(): PTE mappings of this page plus PMD mappings of its folio. */
  pageMapcount(pfn: number): number {
    const head = this.folioOf(pfn);
    return this.mapcount[pfn]! + (head !== pfn || this.isLarge(pfn) ? this.entireMapcount.get(head) ?? 0 : 0);
  }

  /** folio_mapcount(): every mapping of every page of the folio. */
  folioMapcount(head: number): number {
    if (!this.isLarge(head)) return this.mapcount[head]!;
    let total = (this.entireMapcount.get(head) ?? 0) * HPAGE_PMD_NR;
    for (let i = 0; i < HPAGE_PMD_NR; i++) total += this.mapcount[head + i]!;
    return total;
  }

  folioPages(head: number): number {
    return (this.flags[head]! & PG_HEAD) !== 0 ? HPAGE_PMD_NR : 1;
  }

  has(pfn: number, flag: number): boolean {
    return (this.flags[pfn]! & flag) !== 0;
  }

  set(pfn: number, flag: number): void {
    this.flags[pfn] = this.flags[pfn]! | flag;
  }

  clear(pfn: number, flag: number): void {
    this.flags[pfn] = this.flags[pfn]! & ~flag;
  }

  get(head: number): void {
    this.refcount[head] = this.refcount[head]! + 1;
  }

  /** Drops a reference; frees the folio (and its contents) when it reaches zero. */
  put(head: number): void {
    const count = this.refcount[head]! - 1;
    this.refcount[head] = count;
    if (count === 0) this.freeFolio(head);
    else if (count < 0) throw new MmInvariantError(`refcount underflow on pfn ${head}`);
  }

  private freeFolio(head: number): void {
    if (this.has(head, PG_ZERO)) throw new MmInvariantError('freeing the zero page');
    const n = this.folioPages(head);
    for (let i = 0; i < n; i++) {
      this.contents.clear(head + i);
      this.flags[head + i] = 0;
      this.mapcount[head + i] = 0;
    }
    this.entireMapcount.delete(head);
    this.used -= n;
    if (n === 1) this.free0.push(head);
    else this.free9.push(head);
  }

  /**
   * Splits a PTE-mapped PMD-order folio into 512 order-0 folios
   * (split_huge_page). Each page keeps its own mappings as its refcount;
   * unmapped pages are freed. The folio must have no PMD mapping left.
   */
  splitFolio(head: number): void {
    if ((this.entireMapcount.get(head) ?? 0) !== 0) throw new MmInvariantError('splitting a PMD-mapped folio');
    const folioFlags = this.flags[head]! & ~(PG_HEAD | PG_TAIL | PG_ANON_EXCLUSIVE);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const pfn = head + i;
      this.flags[pfn] = folioFlags | (this.flags[pfn]! & PG_ANON_EXCLUSIVE);
      this.refcount[pfn] = this.mapcount[pfn]! + (this.pins.get(pfn) ?? 0);
    }
    this.entireMapcount.delete(head);
    for (let i = 0; i < HPAGE_PMD_NR; i++) {
      const pfn = head + i;
      if (this.refcount[pfn] === 0) {
        this.contents.clear(pfn);
        this.flags[pfn] = 0;
        this.mapcount[pfn] = 0;
        this.used--;
        this.free0.push(pfn);
      }
    }
  }
}
