/**
 * Page-table storage: every table of every mm is a 512-entry slice of one
 * growable Uint32Array pool. A table is named by its id; entry i of table t
 * lives at `pool.entries[t * 512 + i]`. Table 0 is never handed out, so a
 * zero word can mean "none" at every level.
 */
import { PTRS_PER_TABLE } from './geometry.js';

export class TablePool {
  /** The backing store. Re-read after any allocation: growth replaces it. */
  entries: Uint32Array;
  private capacity: number;
  private nextId = 1;
  private freeIds: number[] = [];
  /** Tables currently allocated. */
  live = 0;

  /**
   * 256 tables (512 KiB, zero-filled lazily by the OS) cover a 512 MiB
   * populated range without growing; growth quadruples, so a walk that
   * allocates thousands of tables copies the pool at most a few times.
   */
  constructor(initialTables = 256) {
    this.capacity = initialTables;
    this.entries = new Uint32Array(initialTables * PTRS_PER_TABLE);
  }

  /** Allocates a zeroed table and returns its id. */
  alloc(): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.nextId++;
      if (id >= this.capacity) this.grow();
    }
    this.live++;
    return id;
  }

  /** Frees a table; its entries must already be none. */
  release(id: number): void {
    this.entries.fill(0, id * PTRS_PER_TABLE, (id + 1) * PTRS_PER_TABLE);
    this.freeIds.push(id);
    this.live--;
  }

  /** Index of entry `index` of table `id` in `entries`. */
  slot(id: number, index: number): number {
    return id * PTRS_PER_TABLE + index;
  }

  /** Bytes of table storage in use (live tables only). */
  get bytesInUse(): number {
    return this.live * PTRS_PER_TABLE * 4;
  }

  private grow(): void {
    const capacity = this.capacity * 4;
    const next = new Uint32Array(capacity * PTRS_PER_TABLE);
    next.set(this.entries);
    this.entries = next;
    this.capacity = capacity;
  }
}
