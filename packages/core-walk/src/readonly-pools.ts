/**
 * Read-only views of the page-table and frame pools, the types public code
 * sees as `kernel.tables` / `kernel.frames`. They are the same objects as
 * the writable pools (reading costs nothing extra); only their types differ.
 * The writable pools are reached through `@pagewalk/core-walk/mm-internal`
 * (`tablesOf`, `framesOf`). See docs/ARCHITECTURE.md, "The mm-internal boundary".
 */
import type { FramePool, PageContents } from './frames.js';
import type { TablePool } from './page-table.js';

/** Key of a kernel's writable page-table pool (mm-internal: `tablesOf`). Not exported from the package. */
export const TABLES: unique symbol = Symbol('tables');
/** Key of a kernel's writable frame pool (mm-internal: `framesOf`). Not exported from the package. */
export const FRAMES: unique symbol = Symbol('frames');

/**
 * A typed array without its writing members (TypeScript has no
 * ReadonlyUint32Array). Uint32Array, Int32Array and Uint16Array fit it.
 */
export interface ReadonlyTypedArray {
  readonly [index: number]: number;
  readonly length: number;
  readonly byteLength: number;
  subarray(begin?: number, end?: number): ReadonlyTypedArray;
  slice(begin?: number, end?: number): ReadonlyTypedArray;
  indexOf(value: number, fromIndex?: number): number;
  includes(value: number, fromIndex?: number): boolean;
  [Symbol.iterator](): IterableIterator<number>;
}

/** Page-table storage, read-only: entry i of table t is `entries[t * 512 + i]`. */
export interface ReadonlyTablePool extends Readonly<Pick<TablePool, 'slot' | 'live' | 'bytesInUse'>> {
  /** The backing store. Re-read after anything that may allocate: growth replaces it. */
  readonly entries: ReadonlyTypedArray;
}

/** Page contents, read-only (writes go through user accesses). */
export type ReadonlyPageContents = Readonly<Pick<PageContents, 'has' | 'readByte' | 'peek' | 'stored' | 'hostBytes'>>;

/** Physical memory, read-only: per-frame counts and flags, folio queries. */
export interface ReadonlyFramePool
  extends Readonly<
    Pick<
      FramePool,
      | 'used' | 'deviceUsed' | 'zeroPfn' | 'limit' | 'capacityFrames' | 'ramUsed' | 'metadataBytesInUse'
      | 'isAllocated' | 'isLarge' | 'folioOf' | 'pageMapcount' | 'folioMapcount' | 'folioPages' | 'has'
    >
  > {
  readonly refcount: ReadonlyTypedArray;
  readonly mapcount: ReadonlyTypedArray;
  readonly flags: ReadonlyTypedArray;
  readonly contents: ReadonlyPageContents;
  /** Frames pinned by GUP-style users (pfn → pins). */
  readonly pins: ReadonlyMap<number, number>;
  /** PMD mappings of each large folio (head pfn → count). */
  readonly entireMapcount: ReadonlyMap<number, number>;
}
