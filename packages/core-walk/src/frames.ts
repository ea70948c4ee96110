/**
 * Physical memory: frames (struct page) and folios in typed arrays, plus
 * lazily allocated page contents. This module owns the frame-flag layout.
 *
 * Per frame: refcount (Int32), mapcount (Int32), flags (Uint16), folio
 * order (Uint8) = 11 bytes.
 * A folio is order 0 (one frame) or large: 2^order consecutive, naturally
 * aligned frames (PMD order 9, or an mTHP order 2..8), the first flagged
 * HEAD, the rest TAIL, each large-folio frame knowing the folio's order
 * (one byte). Folio-wide state (refcount, most flags) lives in the head frame.
 *
 * Counting rules used by the invariant checker:
 *   refcount(head) = every mapping of any page of the folio (each PTE, each
 *                    PMD) + page-cache reference + pins
 *   mapcount(frame) = PTEs mapping that frame; the PMD mappings of a large
 *                     folio are counted once per folio in entireMapcount.
 */
import { PAGE_SIZE } from './geometry.js';
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

/**
 * Page contents, costing host memory by the bytes that differ from zero.
 * A page never written (or all zero) costs nothing; a page with at most
 * SPARSE_MAX non-zero bytes is a short list of (offset, value) pairs (25
 * bytes); past that it becomes a dense 4 KiB slot in 1 MiB slabs. Keys are
 * small integers (pfns for RAM, slots for swap), so the key → slot map is a
 * typed array. Freed storage is reused by the next page.
 */
export class PageContents {
  private static readonly SLAB_PAGES = 256;
  /** Non-zero bytes a page may have before it goes dense. */
  static readonly SPARSE_MAX = 8;
  /** key → 0 (all zero), dense slot + 1 (> 0) or -(sparse slot + 1) (< 0). */
  private slotOf = new Int32Array(1024);
  private storedKeys = 0;
  private slabs: Uint8Array[] = [];
  private freeDense: number[] = [];
  private nextDense = 0;
  private sparseOffsets = new Uint16Array(PageContents.SPARSE_MAX * 256);
  private sparseValues = new Uint8Array(PageContents.SPARSE_MAX * 256);
  private sparseCount = new Uint8Array(256);
  private freeSparse: number[] = [];
  private nextSparse = 0;
  private scratch = new Uint8Array(PAGE_SIZE);

  /** Keys currently holding data (pfns for RAM, slots for swap). */
  get stored(): number {
    return this.storedKeys;
  }

  /** Host bytes held by this store (typed arrays and slabs), for the benchmarks. */
  get hostBytes(): number {
    return (
      this.slotOf.byteLength +
      this.slabs.length * PageContents.SLAB_PAGES * PAGE_SIZE +
      this.sparseOffsets.byteLength +
      this.sparseValues.byteLength +
      this.sparseCount.byteLength +
      8 * (this.freeDense.length + this.freeSparse.length)
    );
  }

  has(key: number): boolean {
    return key < this.slotOf.length && this.slotOf[key] !== 0;
  }

  readByte(key: number, offset: number): number {
    const slot = key < this.slotOf.length ? this.slotOf[key]! : 0;
    if (slot === 0) return 0;
    if (slot > 0) return this.denseByte(slot - 1, offset);
    const sparse = -slot - 1;
    const base = sparse * PageContents.SPARSE_MAX;
    const count = this.sparseCount[sparse]!;
    for (let i = 0; i < count; i++) if (this.sparseOffsets[base + i] === offset) return this.sparseValues[base + i]!;
    return 0;
  }

  writeByte(key: number, offset: number, value: number): void {
    const slot = key < this.slotOf.length ? this.slotOf[key]! : 0;
    if (slot > 0) {
      const dense = slot - 1;
      this.slabs[Math.floor(dense / PageContents.SLAB_PAGES)]![(dense % PageContents.SLAB_PAGES) * PAGE_SIZE + offset] = value;
      return;
    }
    if (slot === 0) {
      if (value === 0) return;
      const sparse = this.allocSparse();
      this.setSlot(key, -(sparse + 1));
      this.sparseOffsets[sparse * PageContents.SPARSE_MAX] = offset;
      this.sparseValues[sparse * PageContents.SPARSE_MAX] = value;
      this.sparseCount[sparse] = 1;
      return;
    }
    const sparse = -slot - 1;
    const base = sparse * PageContents.SPARSE_MAX;
    const count = this.sparseCount[sparse]!;
    for (let i = 0; i < count; i++) {
      if (this.sparseOffsets[base + i] !== offset) continue;
      if (value !== 0) {
        this.sparseValues[base + i] = value;
        return;
      }
      // Back to zero: drop the pair (the last one takes its place); an empty page stores nothing.
      this.sparseOffsets[base + i] = this.sparseOffsets[base + count - 1]!;
      this.sparseValues[base + i] = this.sparseValues[base + count - 1]!;
      this.sparseCount[sparse] = count - 1;
      if (count === 1) this.clear(key);
      return;
    }
    if (value === 0) return;
    if (count < PageContents.SPARSE_MAX) {
      this.sparseOffsets[base + count] = offset;
      this.sparseValues[base + count] = value;
      this.sparseCount[sparse] = count + 1;
      return;
    }
    this.densify(key)[offset] = value;
  }

  /**
   * A writable view of the page's bytes, or null when the page is all zero.
   * A sparse page becomes dense; readers that do not write use peek().
   */
  view(key: number): Uint8Array | null {
    const slot = key < this.slotOf.length ? this.slotOf[key]! : 0;
    if (slot === 0) return null;
    if (slot > 0) return this.denseView(slot - 1);
    return this.densify(key);
  }

  /**
   * The page's bytes for reading, or null when all zero. A sparse page is
   * spelled out in a scratch buffer, valid until the next peek() on this store.
   */
  peek(key: number): Uint8Array | null {
    const slot = key < this.slotOf.length ? this.slotOf[key]! : 0;
    if (slot === 0) return null;
    if (slot > 0) return this.denseView(slot - 1);
    const scratch = this.scratch;
    scratch.fill(0);
    this.spellSparse(-slot - 1, scratch);
    return scratch;
  }

  /** Makes `key` all zero and releases its storage. */
  clear(key: number): void {
    const slot = key < this.slotOf.length ? this.slotOf[key]! : 0;
    if (slot === 0) return;
    this.slotOf[key] = 0;
    this.storedKeys--;
    if (slot > 0) {
      const dense = slot - 1;
      const start = (dense % PageContents.SLAB_PAGES) * PAGE_SIZE;
      this.slabs[Math.floor(dense / PageContents.SLAB_PAGES)]!.fill(0, start, start + PAGE_SIZE);
      this.freeDense.push(dense);
    } else {
      this.sparseCount[-slot - 1] = 0;
      this.freeSparse.push(-slot - 1);
    }
  }

  /** Copies page `from` of `source` into page `to` of this store (a sparse page stays sparse). */
  copyFrom(source: PageContents, from: number, to: number): void {
    if (source === this && from === to) return;
    this.clear(to);
    const slot = from < source.slotOf.length ? source.slotOf[from]! : 0;
    if (slot === 0) return;
    if (slot > 0) {
      const dense = this.allocDense();
      this.setSlot(to, dense + 1);
      this.denseView(dense).set(source.denseView(slot - 1));
      return;
    }
    const fromSparse = -slot - 1;
    const sparse = this.allocSparse();
    this.setSlot(to, -(sparse + 1));
    const count = source.sparseCount[fromSparse]!;
    const src = fromSparse * PageContents.SPARSE_MAX;
    const dst = sparse * PageContents.SPARSE_MAX;
    for (let i = 0; i < count; i++) {
      this.sparseOffsets[dst + i] = source.sparseOffsets[src + i]!;
      this.sparseValues[dst + i] = source.sparseValues[src + i]!;
    }
    this.sparseCount[sparse] = count;
  }

  private denseByte(dense: number, offset: number): number {
    return this.slabs[Math.floor(dense / PageContents.SLAB_PAGES)]![(dense % PageContents.SLAB_PAGES) * PAGE_SIZE + offset]!;
  }

  private denseView(dense: number): Uint8Array {
    const base = (dense % PageContents.SLAB_PAGES) * PAGE_SIZE;
    return this.slabs[Math.floor(dense / PageContents.SLAB_PAGES)]!.subarray(base, base + PAGE_SIZE);
  }

  private spellSparse(sparse: number, out: Uint8Array): void {
    const base = sparse * PageContents.SPARSE_MAX;
    const count = this.sparseCount[sparse]!;
    for (let i = 0; i < count; i++) out[this.sparseOffsets[base + i]!] = this.sparseValues[base + i]!;
  }

  /** Turns a sparse page dense; returns its view. */
  private densify(key: number): Uint8Array {
    const sparse = -this.slotOf[key]! - 1;
    const dense = this.allocDense();
    const view = this.denseView(dense);
    this.spellSparse(sparse, view);
    this.sparseCount[sparse] = 0;
    this.freeSparse.push(sparse);
    this.slotOf[key] = dense + 1;
    return view;
  }

  private setSlot(key: number, value: number): void {
    if (key >= this.slotOf.length) {
      let length = this.slotOf.length;
      while (length <= key) length *= 2;
      const grown = new Int32Array(length);
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    if (this.slotOf[key] === 0) this.storedKeys++;
    this.slotOf[key] = value;
  }

  private allocDense(): number {
    const reused = this.freeDense.pop();
    if (reused !== undefined) return reused;
    const slot = this.nextDense++;
    if (slot >= this.slabs.length * PageContents.SLAB_PAGES) this.slabs.push(new Uint8Array(PageContents.SLAB_PAGES * PAGE_SIZE));
    return slot;
  }

  private allocSparse(): number {
    const reused = this.freeSparse.pop();
    if (reused !== undefined) return reused;
    const slot = this.nextSparse++;
    if (slot >= this.sparseCount.length) {
      const grow = <T extends Uint8Array | Uint16Array>(array: T, make: (n: number) => T): T => {
        const grown = make(array.length * 2);
        grown.set(array);
        return grown;
      };
      this.sparseCount = grow(this.sparseCount, (n) => new Uint8Array(n));
      this.sparseOffsets = grow(this.sparseOffsets, (n) => new Uint16Array(n));
      this.sparseValues = grow(this.sparseValues, (n) => new Uint8Array(n));
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
  /** Order of the large folio a HEAD / TAIL frame belongs to (0 elsewhere). */
  order: Uint8Array;
  readonly contents = new PageContents();
  private capacity: number;
  /** Next never-used pfn. */
  private top = 1;
  private free0: number[] = [];
  /** Free naturally aligned blocks by order (index 0 unused: free0). */
  private freeLarge: number[][] = Array.from({ length: 10 }, () => []);
  /** Frames currently allocated (including the zero pages and device memory). */
  used = 0;
  /** Of those, device-private frames (ZONE_DEVICE): the device's memory, not RAM. */
  deviceUsed = 0;
  /** Frames pinned by GUP-style users (pfn → pins), rare. */
  readonly pins = new Map<number, number>();
  /** The shared zero page. */
  readonly zeroPfn: number;
  private hugeZero = 0;

  /** Frames the machine has (RAM size); alloc fails beyond it. */
  readonly limit: number;

  constructor(initialFrames = 4096, limit = MAX_PFN + 1) {
    this.limit = Math.min(limit, MAX_PFN + 1);
    this.capacity = initialFrames;
    this.refcount = new Int32Array(initialFrames);
    this.mapcount = new Int32Array(initialFrames);
    this.flags = new Uint16Array(initialFrames);
    this.order = new Uint8Array(initialFrames);
    this.zeroPfn = this.alloc(0, PG_ZERO);
    this.refcount[this.zeroPfn] = 1; // the kernel's own reference: never freed
  }

  get capacityFrames(): number {
    return this.capacity;
  }

  /** Frames of RAM in use (device memory excluded). */
  get ramUsed(): number {
    return this.used - this.deviceUsed;
  }

  /** Bytes of per-frame metadata for the frames in use. */
  get metadataBytesInUse(): number {
    return this.used * (4 + 4 + 2 + 1);
  }

  /** The huge zero page head (allocated on first use). */
  hugeZeroPfn(): number {
    if (this.hugeZero === 0) {
      this.hugeZero = this.alloc(9, PG_ZERO);
      this.refcount[this.hugeZero] = 1;
    }
    return this.hugeZero;
  }

  /** Allocates a folio of `order` (0, an mTHP order 2..8, or 9) with refcount 0; returns the head pfn or NO_FRAME. */
  alloc(order: number, flags: number): number {
    const device = (flags & PG_ZONE_DEVICE) !== 0;
    const n = 1 << order;
    if (!device && this.used - this.deviceUsed + n > this.limit) return NO_FRAME;
    let pfn: number | undefined;
    if (order === 0) {
      pfn = this.free0.pop();
      if (pfn === undefined) pfn = this.take(1);
    } else {
      pfn = this.freeLarge[order]!.pop();
      if (pfn === undefined) pfn = this.take(n);
    }
    if (pfn === NO_FRAME) return NO_FRAME;
    this.flags[pfn] = PG_ALLOCATED | flags | (order !== 0 ? PG_HEAD : 0);
    for (let i = 1; i < n; i++) this.flags[pfn + i] = PG_ALLOCATED | PG_TAIL | (flags & (PG_ZERO | PG_HUGETLB));
    if (order !== 0) this.order.fill(order, pfn, pfn + n);
    this.used += n;
    if (device) this.deviceUsed += n;
    return pfn;
  }

  private take(n: number): number {
    // Large folios are naturally aligned in pfn space, so a frame's head
    // is found by rounding down; skipped frames feed order-0 use.
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
    const order = new Uint8Array(capacity);
    order.set(this.order);
    this.order = order;
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
    return (this.flags[pfn]! & PG_TAIL) !== 0 ? pfn - (pfn % (1 << this.order[pfn]!)) : pfn;
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
    const n = this.folioPages(head);
    let total = (this.entireMapcount.get(head) ?? 0) * n;
    for (let i = 0; i < n; i++) total += this.mapcount[head + i]!;
    return total;
  }

  folioPages(head: number): number {
    return (this.flags[head]! & PG_HEAD) !== 0 ? 1 << this.order[head]! : 1;
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
    const order = this.order[head]!;
    if (this.has(head, PG_ZONE_DEVICE)) this.deviceUsed -= n;
    for (let i = 0; i < n; i++) {
      this.contents.clear(head + i);
      this.flags[head + i] = 0;
      this.mapcount[head + i] = 0;
      this.order[head + i] = 0;
    }
    this.entireMapcount.delete(head);
    this.used -= n;
    if (n === 1) this.free0.push(head);
    else this.freeLarge[order]!.push(head);
  }

  /**
   * Splits a PTE-mapped large folio into order-0 folios (split_huge_page).
   * Each page keeps its own mappings as its refcount; unmapped pages are
   * freed. The folio must have no PMD mapping left.
   */
  splitFolio(head: number): void {
    if ((this.entireMapcount.get(head) ?? 0) !== 0) throw new MmInvariantError('splitting a PMD-mapped folio');
    const n = this.folioPages(head);
    const folioFlags = this.flags[head]! & ~(PG_HEAD | PG_TAIL | PG_ANON_EXCLUSIVE);
    for (let i = 0; i < n; i++) {
      const pfn = head + i;
      this.flags[pfn] = folioFlags | (this.flags[pfn]! & PG_ANON_EXCLUSIVE);
      this.refcount[pfn] = this.mapcount[pfn]! + (this.pins.get(pfn) ?? 0);
      this.order[pfn] = 0;
    }
    this.entireMapcount.delete(head);
    for (let i = 0; i < n; i++) {
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
