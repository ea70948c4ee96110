/** Whole-page copies in and out of simulated memory (the driver's copy_highpage / memcpy_to_page). */
import { PAGE_SIZE, type PageContents } from '@pagewalk/core-walk';

/** Copies page `key` into `out` at `offset` (zeros for a never-written page). */
export function readPage(contents: PageContents, key: number, out: Uint8Array, offset: number): void {
  const view = contents.peek(key);
  if (view === null) out.fill(0, offset, offset + PAGE_SIZE);
  else out.set(view, offset);
}

/** Stores `data[offset .. offset + PAGE_SIZE)` as the contents of page `key`. */
export function writePage(contents: PageContents, key: number, data: Uint8Array, offset: number): void {
  let view = contents.view(key);
  if (view === null) {
    let first = -1;
    for (let i = 0; i < PAGE_SIZE; i++) {
      if (data[offset + i] !== 0) {
        first = i;
        break;
      }
    }
    if (first < 0) return;
    contents.writeByte(key, first, data[offset + first]!);
    view = contents.view(key)!;
  }
  view.set(data.subarray(offset, offset + PAGE_SIZE));
}
