/**
 * A swap device (one swap area of type 0): a slot map of use counts
 * (swap_map) and the contents of swapped-out pages. Slot 0 is the header
 * and is never allocated.
 */
import { PageContents } from './frames.js';
import { MmInvariantError } from './errno.js';

export class SwapDevice {
  readonly contents = new PageContents();
  private readonly counts: Uint16Array;
  private nextFree = 1;
  used = 0;

  constructor(readonly slots: number) {
    this.counts = new Uint16Array(Math.max(slots, 1));
  }

  /** Allocates a slot with count 1; returns 0 when the device is full. */
  alloc(): number {
    for (let tries = 0; tries < this.slots; tries++) {
      const slot = this.nextFree;
      this.nextFree = slot + 1 >= this.slots ? 1 : slot + 1;
      if (slot !== 0 && this.counts[slot] === 0) {
        this.counts[slot] = 1;
        this.used++;
        return slot;
      }
    }
    return 0;
  }

  /**
   * Makes the next `nr` allocations one naturally aligned run of free
   * slots, as the cluster allocator gives a large folio swapped out whole;
   * leaves the cursor alone when no such run is free.
   */
  alignNext(nr: number): void {
    for (let start = Math.ceil(this.nextFree / nr) * nr, tries = 0; tries < this.slots; start += nr, tries += nr) {
      if (start + nr > this.slots) start = nr; // slot 0 is the header
      let free = true;
      for (let i = 0; i < nr && free; i++) free = this.counts[start + i] === 0;
      if (free) {
        this.nextFree = start;
        return;
      }
    }
  }

  count(slot: number): number {
    return this.counts[slot] ?? 0;
  }

  /** swap_duplicate(): another PTE (fork) or the page cache refers to the slot. */
  dup(slot: number): void {
    this.counts[slot] = this.counts[slot]! + 1;
  }

  /** swap_free(): drops one reference; the slot and its data are freed at zero. */
  free(slot: number): void {
    const count = this.counts[slot]! - 1;
    if (count < 0) throw new MmInvariantError(`swap slot ${slot} freed twice`);
    this.counts[slot] = count;
    if (count === 0) {
      this.contents.clear(slot);
      this.used--;
    }
  }
}
