/**
 * A friendlier layer beside the kernel-faithful API, for JavaScript users:
 * typed errors instead of `number | T` results, and names for the numbers.
 * The faithful API stays as it is (a negative errno, a negative signal);
 * these helpers turn its results into values or exceptions.
 *
 *   const addr = orThrow(mm.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), 'mmap');
 *   const byte = readByte(mm, addr);          // throws SignalError('SIGSEGV', addr) on a fault
 */
import { errnoName } from './errno.js';
import { AccessKind } from './uapi.js';
import type { Mm } from './mm.js';

/** A system call returned -errno: `code` is its name ('EINVAL'), `call` the call, `address` the address it was about. */
export class ErrnoError extends Error {
  override readonly name = 'ErrnoError';
  readonly errno: number;
  readonly code: string;
  constructor(
    errno: number,
    readonly call: string,
    readonly address?: number,
  ) {
    const code = errnoName(-Math.abs(errno));
    super(`${call}${address === undefined ? '' : ` at 0x${address.toString(16)}`} failed: ${code}`);
    this.errno = Math.abs(errno);
    this.code = code;
  }
}

/** A memory access ended in a signal (the faithful API's -SIGSEGV / -SIGBUS). */
export class SignalError extends Error {
  override readonly name = 'SignalError';
  constructor(
    readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL',
    readonly address: number,
  ) {
    super(`${signal} at 0x${address.toString(16)}`);
  }
}

/** An argument no kernel could be given (a byte above 255, an unknown name, null ops): the call names it. */
export class PagewalkArgumentError extends RangeError {
  override readonly name = 'PagewalkArgumentError';
  constructor(
    readonly call: string,
    readonly argument: string,
    detail: string,
  ) {
    super(`${call}: argument "${argument}" ${detail}`);
  }
}

/**
 * The value of a faithful call, or an {@link ErrnoError} thrown for its
 * -errno: `orThrow(mm.mmap(...), 'mmap')`, `orThrow(userfaultfd(mm), 'userfaultfd')`.
 * Any negative number is an errno; other values (objects, addresses, 0) pass.
 */
export function orThrow<T>(result: T | number, call: string, address?: number): T {
  if (typeof result === 'number' && result < 0) throw new ErrnoError(result, call, address);
  return result as T;
}

const SIGNALS: Record<number, 'SIGSEGV' | 'SIGBUS' | 'SIGKILL'> = { 11: 'SIGSEGV', 7: 'SIGBUS', 9: 'SIGKILL' };

/** The byte at `addr` (a read access), or a {@link SignalError}. */
export function readByte(mm: Mm, addr: number): number {
  return accessResult(mm.access(addr, AccessKind.Read), addr);
}

/** Stores `value` (0..255) at `addr` (a write access), or throws a {@link SignalError}. */
export function writeByte(mm: Mm, addr: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new PagewalkArgumentError('writeByte', 'value', `must be a byte (0..255), got ${String(value)}`);
  accessResult(mm.access(addr, AccessKind.Write, value), addr);
}

function accessResult(result: number, addr: number): number {
  if (result >= 0) return result;
  const signal = SIGNALS[-result];
  if (signal === undefined) throw new ErrnoError(result, 'access', addr);
  throw new SignalError(signal, addr);
}

/** `Symbol.for('nodejs.util.inspect.custom')`: Node's util.inspect hook, without importing node:util (the package also runs in browsers). */
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** 0x7f0000000000 style. */
export const hex = (value: number): string => `0x${value.toString(16)}`;

/** Page flag names of a frame (PG_*), lower-case without the prefix. */
const PAGE_FLAG_NAMES: readonly [number, string][] = [
  [1 << 1, 'anon'],
  [1 << 2, 'swapbacked'],
  [1 << 3, 'lru'],
  [1 << 4, 'locked'],
  [1 << 5, 'dirty'],
  [1 << 6, 'head'],
  [1 << 7, 'tail'],
  [1 << 8, 'zone_device'],
  [1 << 9, 'zero'],
  [1 << 10, 'hugetlb'],
  [1 << 11, 'mlocked'],
  [1 << 12, 'referenced'],
  [1 << 13, 'isolated'],
  [1 << 14, 'anon_exclusive'],
  [1 << 15, 'pagecache'],
];

/** What a folio looks like: its head, order, counts and flag names. */
export interface FolioInfo {
  pfn: number;
  head: number;
  order: number;
  refcount: number;
  mapcount: number;
  flags: string[];
}

/** The folio behind a page frame, readable (for `console.log` and debugging). */
export function describeFolio(mm: Mm, pfn: number): FolioInfo {
  const frames = mm.kernel.frames;
  if (!Number.isSafeInteger(pfn) || pfn < 0 || !frames.isAllocated(pfn)) throw new PagewalkArgumentError('describeFolio', 'pfn', `is not an allocated frame: ${String(pfn)}`);
  const head = frames.folioOf(pfn);
  const pages = frames.folioPages(head);
  const flags: string[] = [];
  for (const [bit, name] of PAGE_FLAG_NAMES) if (frames.has(pfn, bit)) flags.push(name);
  return { pfn, head, order: Math.log2(pages), refcount: frames.refcount[head]!, mapcount: frames.pageMapcount(pfn), flags };
}
