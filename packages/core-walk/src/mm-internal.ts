/**
 * DO NOT IMPORT outside the mm-internal packages (guard-pages, uffd-wp,
 * hmm-migrate).
 *
 * This is the simulator's mm/internal.h: the PTE-installing walker
 * (the kernel's walk_page_range_mm, renamed walk_page_range_mm_unsafe),
 * walks whose callbacks may write entries, and the helpers
 * memory-management code uses to change page tables while keeping
 * refcounts, mapcounts and rmap consistent. Ordinary walkers use the public
 * walkPageRange, which refuses installPte with -EINVAL and hands callbacks
 * read-only copies of the entries.
 *
 * Two fences keep other code out:
 * - at build time, eslint (docs/ARCHITECTURE.md, "The mm-internal boundary") rejects the import outside the
 *   packages listed in MM_INTERNAL_PACKAGE_NAMES;
 * - at run time, this module exports no function but `claimMmInternal()`,
 *   which hands the API only to a caller whose source file lies in one of
 *   those packages. It finds the caller from V8's structured stack trace
 *   (the call site that called it, taken with Error.captureStackTrace and
 *   a prepareStackTrace of its own, both captured when this module loaded,
 *   so later monkey-patching of Error cannot fake a frame), walks up from
 *   that file to the nearest package.json and checks its name. A caller
 *   elsewhere, or a stack it cannot read, gets MmInternalAccessError. The
 *   feature packages claim once, at module load, and keep the API in a
 *   module-scoped constant they do not export.
 *
 * What it does not stop: code that imports core-walk's dist/ files by
 * absolute path (outside the package exports map), or plain JavaScript
 * that writes through the read-only views (`kernel.tables.entries`,
 * `kernel.frames.refcount`, `vma.flags`): they are the same objects as the
 * writable ones, typed read-only. TypeScript rejects such writes; the lint
 * rule and conformance's boundary test catch them in this repository.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { walkPageRangeUnsafe, walkPageRangeVmaUnsafe } from './pagewalk.js';
import { accountPteMap, accountPteUnmap } from './rmap.js';
import { handleMmFault, wantsWriteNotify } from './memory.js';
import { splitHugePmd, thpAllowed } from './huge-memory.js';
import { shmemGetPage } from './shmem.js';
import { zapVmaRange, freePgtables, ZAP_DROP_MARKER, ZAP_FILE_PAGES_ONLY } from './zap.js';
import { madviseWalkVmas } from './madvise.js';
import { populateRange } from './gup.js';
import { allocTableAt, forEachEntry, pmdSlotOf, pteSlotOf, pudSlotOf } from './pgtable-nav.js';
import { framesOf, tablesOf } from './kernel.js';
import { anonVmaPrepare } from './rmap.js';
import { unmapRegion } from './mmap.js';
import { VMAS, writableVma, type VmaList } from './vma.js';
import type { Mm } from './mm.js';

export type { MmWalkOpsUnsafe } from './walk-ops.js';
export type { TablePool } from './page-table.js';
export type { FramePool } from './frames.js';
export type { WritableVma, VmaList } from './vma.js';

/** The writable VMA list of an mm (its `vmas` is the same list, read-only). */
function vmasOf(mm: Mm): VmaList {
  return mm[VMAS];
}

const api = Object.freeze({
  walkPageRangeUnsafe,
  walkPageRangeMm: walkPageRangeUnsafe,
  walkPageRangeVmaUnsafe,
  walkPageRangeVmaMm: walkPageRangeVmaUnsafe,
  accountPteMap,
  accountPteUnmap,
  handleMmFault,
  splitHugePmd,
  shmemGetPage,
  thpAllowed,
  wantsWriteNotify,
  zapVmaRange,
  freePgtables,
  ZAP_DROP_MARKER,
  ZAP_FILE_PAGES_ONLY,
  madviseWalkVmas,
  populateRange,
  forEachEntry,
  // The writers public code does not get: writable pools and VMAs, and the
  // table-allocating lookups (the public Mm's pudSlot / pmdSlot / pteSlot never allocate).
  tablesOf,
  framesOf,
  vmasOf,
  writableVma,
  allocTableAt,
  pudSlotOf,
  pmdSlotOf,
  pteSlotOf,
  anonVmaPrepare,
  unmapRegion,
});

/** The mm-internal API (what claimMmInternal returns). */
export type MmInternalApi = typeof api;

/** Packages whose modules may claim the mm-internal API (core-walk for its own tests). */
export const MM_INTERNAL_PACKAGE_NAMES: readonly string[] = Object.freeze([
  '@pagewalk/core-walk',
  '@pagewalk/guard-pages',
  '@pagewalk/uffd-wp',
  '@pagewalk/hmm-migrate',
]);

export class MmInternalAccessError extends Error {
  override readonly name = 'MmInternalAccessError';
}

// Captured at load: what the check relies on cannot be swapped afterwards.
const UNDER_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
const ErrorCtor = Error;
const captureStackTrace = Error.captureStackTrace;
const describeProperty = Object.getOwnPropertyDescriptor;
const defineProperty = Object.defineProperty;
const includes = Array.prototype.includes;
const call = Function.prototype.call;
const callIncludes = call.bind(includes) as (list: readonly string[], item: string) => boolean;
const packageNames = new Map<string, string | null>();

function fileNames(_error: Error, sites: NodeJS.CallSite[]): string[] {
  const out: string[] = [];
  for (const site of sites) out.push(site.getFileName() ?? '');
  return out;
}

/** The source file of the function that called `callee`, or null when the stack cannot be read reliably. */
function callerFile(callee: (...args: never[]) => unknown): string | null {
  const saved = describeProperty(ErrorCtor, 'prepareStackTrace');
  const savedLimit = describeProperty(ErrorCtor, 'stackTraceLimit');
  if ((saved !== undefined && !saved.configurable) || (savedLimit !== undefined && !savedLimit.configurable)) return null;
  try {
    defineProperty(ErrorCtor, 'prepareStackTrace', { value: fileNames, writable: true, configurable: true });
    defineProperty(ErrorCtor, 'stackTraceLimit', { value: 4, writable: true, configurable: true });
    const holder: { stack?: unknown } = {};
    captureStackTrace(holder, callee);
    const files = holder.stack;
    if (!Array.isArray(files) || typeof files[0] !== 'string' || files[0] === '') return null;
    return files[0];
  } finally {
    if (saved === undefined) delete (ErrorCtor as { prepareStackTrace?: unknown }).prepareStackTrace;
    else defineProperty(ErrorCtor, 'prepareStackTrace', saved);
    if (savedLimit === undefined) delete (ErrorCtor as { stackTraceLimit?: unknown }).stackTraceLimit;
    else defineProperty(ErrorCtor, 'stackTraceLimit', savedLimit);
  }
}

/** The name in the nearest package.json above `file`, or null. */
function packageOf(file: string): string | null {
  let dir: string;
  try {
    dir = dirname(file.startsWith('file:') ? fileURLToPath(file) : file);
  } catch {
    return null;
  }
  const seen: string[] = [];
  for (;;) {
    const known = packageNames.get(dir);
    if (known !== undefined) {
      for (const d of seen) packageNames.set(d, known);
      return known;
    }
    seen.push(dir);
    let name: string | null | undefined;
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      name = typeof parsed.name === 'string' ? parsed.name : undefined;
    } catch {
      name = undefined;
    }
    if (name !== undefined) {
      for (const d of seen) packageNames.set(d, name);
      return name;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      for (const d of seen) packageNames.set(d, null);
      return null;
    }
    dir = parent;
  }
}

/**
 * The mm-internal API, for modules of the mm packages only (see above).
 * Throws MmInternalAccessError for any other caller.
 */
export function claimMmInternal(): MmInternalApi {
  // In a browser bundle (the explorer) every package is one file its author
  // built: there is no package to tell apart at run time, and no package.json
  // to read. The build-time fences (exports map, eslint) still hold there.
  if (!UNDER_NODE) return api;
  const file = callerFile(claimMmInternal);
  const name = file === null ? null : packageOf(file);
  if (name === null || !callIncludes(MM_INTERNAL_PACKAGE_NAMES, name)) {
    throw new MmInternalAccessError(
      `@pagewalk/core-walk/mm-internal is only for ${MM_INTERNAL_PACKAGE_NAMES.join(', ')}; ` +
        `refused a caller in ${name ?? 'no known package'} (${file ?? 'unreadable stack'})`,
    );
  }
  return api;
}
