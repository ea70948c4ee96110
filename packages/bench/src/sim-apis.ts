/**
 * Thin adapters from the benchmark's needs to the feature packages' public
 * APIs. Each throws a descriptive error when the package does not export
 * what the adapter expects, so an API change shows up as an n/a line that
 * names the missing export instead of a wrong number.
 */
import type { Feature, Mm } from '@pagewalk/core-walk';

export interface ScanArgs {
  start: number;
  end: number;
  flags: number;
  categoryMask: number;
  returnMask: number;
  vecLen: number;
}

/** Runs one PAGEMAP_SCAN; returns the number of regions, or -errno. */
export type ScanApi = (mm: Mm, args: ScanArgs) => number;

export class ApiMismatchError extends Error {
  override readonly name = 'ApiMismatchError';
}

type Mod = Record<string, unknown>;

function fn(mod: Mod, pkg: string, ...names: string[]): (...args: any[]) => any {
  for (const name of names) if (typeof mod[name] === 'function') return mod[name] as (...args: any[]) => any;
  throw new ApiMismatchError(`${pkg} exports none of ${names.join(', ')}`);
}

function feature(mod: Mod, pkg: string, ...names: string[]): Feature {
  for (const name of names) {
    const f = mod[name] as Feature | undefined;
    if (f !== undefined && typeof f === 'object' && typeof f.install === 'function') return f;
  }
  throw new ApiMismatchError(`${pkg} exports no feature object named ${names.join(' or ')}`);
}

function regionsOf(result: unknown): number {
  if (typeof result === 'number') return result;
  if (result !== null && typeof result === 'object') {
    const r = result as { ret?: unknown; regions?: unknown };
    if (typeof r.ret === 'number') return r.ret;
    if (Array.isArray(r.regions)) return r.regions.length;
  }
  throw new ApiMismatchError(`@pagewalk/pagemap-scan: unexpected pagemapScan result ${String(result)}`);
}

/**
 * The closest analogue of the ioctl: pagemapScanIoctl with a raw pm_scan_arg
 * and a region vector allocated once (the kernel copies into a user buffer
 * the caller already owns). Falls back to the typed pagemapScan(mm, arg).
 */
export function makeScanApi(mod: Mod): ScanApi {
  const pkg = '@pagewalk/pagemap-scan';
  if (typeof mod.pagemapScanIoctl === 'function' && typeof mod.PageRegionVec === 'function' && typeof mod.pmScanArgRaw === 'function') {
    const ioctl = mod.pagemapScanIoctl as (mm: Mm, raw: Record<string, number>, vec: { clear(): void }) => number;
    const toRaw = mod.pmScanArgRaw as (arg: object) => Record<string, number>;
    const Vec = mod.PageRegionVec as new (capacity: number) => { clear(): void; length: number };
    let vec: { clear(): void; length: number } | null = null;
    return (mm, a) => {
      if (vec === null) vec = new Vec(Math.min(a.vecLen, 1 << 21));
      const raw = toRaw({ start: a.start, end: a.end, flags: a.flags, categoryMask: a.categoryMask, returnMask: a.returnMask, vecLen: a.vecLen });
      vec.clear();
      return ioctl(mm, raw, vec);
    };
  }
  const scan = fn(mod, pkg, 'pagemapScan');
  return (mm, a) =>
    regionsOf(scan(mm, { start: a.start, end: a.end, flags: a.flags, categoryMask: a.categoryMask, returnMask: a.returnMask, vecLen: a.vecLen }));
}

/**
 * pread() of `pages` pagemap entries at the entry of `start` into a buffer
 * allocated once (pagemapRead with a PagemapEntries of the right size).
 * Returns the entries read, or -errno.
 */
export function makePagemapApi(mod: Mod, pages: number): (mm: Mm, start: number, pages: number) => number {
  const pkg = '@pagewalk/pagemap-scan';
  if (typeof mod.pagemapRead === 'function' && typeof mod.PagemapEntries === 'function') {
    const read = mod.pagemapRead as (mm: Mm, pos: number, count: number, out: unknown) => number;
    const out = new (mod.PagemapEntries as new (capacity: number) => unknown)(pages);
    return (mm, start, n) => {
      const bytes = read(mm, (start / 4096) * 8, n * 8, out);
      return bytes < 0 ? bytes : bytes / 8;
    };
  }
  const read = fn(mod, pkg, 'readPagemap');
  return (mm, start, n) => {
    const r = read(mm, start, n) as unknown;
    if (typeof r === 'number') return r;
    if (r !== null && typeof r === 'object' && typeof (r as { length?: unknown }).length === 'number') return (r as { length: number }).length;
    throw new ApiMismatchError(`${pkg}: unexpected pagemap read result ${String(r)}`);
  };
}

export interface UffdApi {
  features: Feature[];
  /** Opens a WP_ASYNC userfaultfd, registers [start, start+len) for WP and write-protects it. */
  registerWpAsync(mm: Mm, start: number, len: number): void;
}

const UFFD_API = 0xaa;
const UFFD_FEATURE_WP_UNPOPULATED = 1 << 13;
const UFFD_FEATURE_WP_ASYNC = 1 << 15;
const UFFDIO_REGISTER_MODE_WP = 2;
const UFFDIO_WRITEPROTECT_MODE_WP = 1;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

interface UffdCtxLike {
  api(arg: { api: number; features: number }): number;
  register(arg: { range: { start: number; len: number }; mode: number }): number;
  writeProtect(arg: { range: { start: number; len: number }; mode: number }): number;
}

/** userfaultfd() + UFFDIO_API(WP_ASYNC) + UFFDIO_REGISTER(WP) + UFFDIO_WRITEPROTECT, as kbench.c does. */
export function makeUffdApi(mod: Mod): UffdApi {
  const pkg = '@pagewalk/uffd-wp';
  const f = feature(mod, pkg, 'uffdWp', 'uffdWpFeature');
  const open = fn(mod, pkg, 'userfaultfd');
  return {
    features: [f],
    registerWpAsync(mm, start, len) {
      const ctx = open(mm, O_CLOEXEC | O_NONBLOCK) as UffdCtxLike | number;
      if (typeof ctx === 'number') throw new Error(`userfaultfd() returned ${ctx}`);
      const range = { start, len };
      const steps: [string, () => number][] = [
        ['UFFDIO_API', () => ctx.api({ api: UFFD_API, features: UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED })],
        ['UFFDIO_REGISTER', () => ctx.register({ range, mode: UFFDIO_REGISTER_MODE_WP })],
        ['UFFDIO_WRITEPROTECT', () => ctx.writeProtect({ range, mode: UFFDIO_WRITEPROTECT_MODE_WP })],
      ];
      for (const [name, step] of steps) {
        if (typeof (ctx as unknown as Record<string, unknown>)[name === 'UFFDIO_API' ? 'api' : name === 'UFFDIO_REGISTER' ? 'register' : 'writeProtect'] !== 'function') {
          throw new ApiMismatchError(`${pkg}: the userfaultfd context has no method for ${name}`);
        }
        const r = step();
        if (r !== 0) throw new Error(`${name} returned ${r}`);
      }
    },
  };
}

export interface GuardApi {
  features: Feature[];
}

export function makeGuardApi(mod: Mod): GuardApi {
  return { features: [feature(mod, '@pagewalk/guard-pages', 'guardPages')] };
}
