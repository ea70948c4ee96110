/**
 * Translation of a parsed scenario (SCENARIO.md, version 1) into the line
 * protocol of runner.c. The scenario is expected to be valid already; this
 * module checks only what it needs and throws {@link ScenarioInputError} with
 * the op index and field otherwise.
 */

import { ADVICE_NAMES, CATEGORY_NAMES, DEVICE_OP_NAMES, MREMAP_FLAG_NAMES, PROT_NAMES, UFFD_FEATURE_NAMES, UFFD_MODE_NAMES } from '@pagewalk/scenario';

export const PAGE_SIZE = 4096;

/** Category names in bit order (PAGE_IS_* bits 0..8). */
export { CATEGORY_NAMES };

export const ALL_CATEGORIES = 0x1ff;

export const SCAN_FLAGS: Record<string, number> = { wp_matching: 1, check_wpasync: 2 };

/** Ops that only the simulator can run (the HMM test-driver device). */
export const DEVICE_OPS: readonly string[] = DEVICE_OP_NAMES;

const RANGE_OPS = new Set([
  'mmap',
  'munmap',
  'mprotect',
  'madvise',
  'mlock',
  'munlock',
  'write',
  'read',
  'uffd_register',
  'uffd_unregister',
  'uffd_wp',
  'pagemap',
]);

const RAW_KEYS = new Set([
  'size',
  'flags',
  'start_byte_offset',
  'end_byte_offset',
  'category_mask',
  'category_anyof_mask',
  'category_inverted',
  'return_mask',
  'max_pages',
  'vec_len',
  'vec',
]);

export class ScenarioInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioInputError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(index: number, field: string, msg: string): never {
  throw new ScenarioInputError(`op ${index}: field "${field}": ${msg}`);
}

function nonNegInt(op: Json, index: number, field: string, dflt?: number): number {
  const v = op[field];
  if (v === undefined) {
    if (dflt === undefined) fail(index, field, 'missing');
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(index, field, 'expected a non-negative integer');
  return v;
}

function nameToken(op: Json, index: number, field: string, allowed: readonly string[], dflt?: string): string {
  const v = op[field] ?? dflt;
  if (typeof v !== 'string' || !allowed.includes(v)) fail(index, field, `expected one of ${allowed.join(', ')}`);
  return v;
}

function nameList(op: Json, index: number, field: string, allowed: readonly string[]): string {
  const v = op[field] ?? [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string' && allowed.includes(x)))
    fail(index, field, `expected a list of ${allowed.join(', ')}`);
  return v.length === 0 ? '-' : v.join(',');
}

function bool(op: Json, index: number, field: string): boolean {
  const v = op[field] ?? false;
  if (typeof v !== 'boolean') fail(index, field, 'expected a boolean');
  return v;
}

/** Category list (or ["all"]) → bit mask. */
export function categoryMask(list: unknown, where = 'category list'): number {
  if (list === undefined) return 0;
  if (!Array.isArray(list)) throw new ScenarioInputError(`${where}: expected a list of category names`);
  let mask = 0;
  for (const name of list) {
    if (name === 'all') {
      mask |= ALL_CATEGORIES;
      continue;
    }
    const bit = CATEGORY_NAMES.indexOf(name as (typeof CATEGORY_NAMES)[number]);
    if (bit < 0) throw new ScenarioInputError(`${where}: unknown category ${JSON.stringify(name)}`);
    mask |= 1 << bit;
  }
  return mask;
}

/** An exact raw number → decimal u64 (negative values wrap, as in C). */
export function rawU64(v: unknown, where: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ScenarioInputError(`${where}: expected an integer`);
  return BigInt.asUintN(64, BigInt(v)).toString();
}

/** An exact raw number → decimal s64 (values ≥ 2^63 wrap, as in C). */
export function rawI64(v: unknown, where: string): string {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ScenarioInputError(`${where}: expected an integer`);
  return BigInt.asIntN(64, BigInt(v)).toString();
}

export type Translation = { lines: string } | { skipped: string };

const PROTS: readonly string[] = PROT_NAMES;
// The names the scenario format allows, from the one place that defines them.
const ADVICE: readonly string[] = ADVICE_NAMES;
const FEATURES: readonly string[] = UFFD_FEATURE_NAMES;
const MODES: readonly string[] = UFFD_MODE_NAMES;

function scanLine(op: Json, i: number, arenaPages: number): string {
  const page = nonNegInt(op, i, 'page');
  const pages = nonNegInt(op, i, 'pages');
  if (page + pages > arenaPages) fail(i, 'pages', 'range outside the arena');
  const raw = op.raw ?? {};
  if (!isObject(raw)) fail(i, 'raw', 'expected an object');
  for (const k of Object.keys(raw)) if (!RAW_KEYS.has(k)) fail(i, `raw.${k}`, 'unknown raw field');
  const where = (k: string) => `op ${i}: field "raw.${k}"`;

  let flags = 0;
  const fl = op.flags ?? [];
  if (!Array.isArray(fl)) fail(i, 'flags', 'expected a list');
  for (const f of fl) {
    const bit = typeof f === 'string' ? SCAN_FLAGS[f] : undefined;
    if (bit === undefined) fail(i, 'flags', `unknown scan flag ${JSON.stringify(f)}`);
    flags |= bit;
  }
  const mask = (field: string): string => {
    if (raw[field] !== undefined) return rawU64(raw[field], where(field));
    return String(categoryMask(op[field], `op ${i}: field "${field}"`));
  };
  const parts = ['scan'];
  parts.push(`size=${raw.size !== undefined ? rawU64(raw.size, where('size')) : '96'}`);
  parts.push(`flags=${raw.flags !== undefined ? rawU64(raw.flags, where('flags')) : String(flags)}`);
  parts.push(
    `start=${raw.start_byte_offset !== undefined ? rawI64(raw.start_byte_offset, where('start_byte_offset')) : String(page * PAGE_SIZE)}`,
  );
  parts.push(
    `end=${raw.end_byte_offset !== undefined ? rawI64(raw.end_byte_offset, where('end_byte_offset')) : String((page + pages) * PAGE_SIZE)}`,
  );
  parts.push(`mask=${mask('category_mask')}`);
  parts.push(`anyof=${mask('category_anyof_mask')}`);
  parts.push(`inverted=${mask('category_inverted')}`);
  parts.push(`return=${mask('return_mask')}`);
  parts.push(
    `max_pages=${raw.max_pages !== undefined ? rawU64(raw.max_pages, where('max_pages')) : rawU64(op.max_pages ?? 0, where('max_pages'))}`,
  );
  parts.push(
    `vec_len=${raw.vec_len !== undefined ? rawU64(raw.vec_len, where('vec_len')) : rawU64(op.vec_len ?? 4096, where('vec_len'))}`,
  );
  if (raw.vec !== undefined) {
    if (raw.vec !== 0) fail(i, 'raw.vec', 'only 0 (a NULL vector) is supported');
    parts.push('vec_null=1');
  }
  return parts.join(' ');
}

/**
 * Translates a scenario into runner input. Device ops (simulator only) make
 * the whole scenario skipped on the kernel.
 */
export function translateScenario(scenario: unknown): Translation {
  if (!isObject(scenario)) throw new ScenarioInputError('scenario: expected a JSON object');
  const arenaPages = scenario.arena_pages;
  if (typeof arenaPages !== 'number' || !Number.isSafeInteger(arenaPages) || arenaPages <= 0 || arenaPages > 1 << 26)
    throw new ScenarioInputError('field "arena_pages": expected a positive integer (at most 2^26)');
  const ops = scenario.ops;
  if (!Array.isArray(ops)) throw new ScenarioInputError('field "ops": expected a list');
  const lines = [`arena ${arenaPages}`];
  for (const [i, op] of ops.entries()) {
    if (!isObject(op)) throw new ScenarioInputError(`op ${i}: expected an object`);
    const name = op.op;
    if (typeof name !== 'string') fail(i, 'op', 'expected an op name');
    if (DEVICE_OPS.includes(name)) return { skipped: `op ${i} (${name}) is a simulator-only device op` };
    let line: string;
    if (name === 'scan') {
      line = scanLine(op, i, arenaPages);
    } else if (name === 'uffd_open') {
      line = `uffd_open features=${nameList(op, i, 'features', FEATURES)}`;
    } else if (name === 'clear_soft_dirty') {
      line = 'clear_soft_dirty';
    } else if (name === 'mremap') {
      const page = nonNegInt(op, i, 'page');
      const pages = nonNegInt(op, i, 'pages');
      const newPages = nonNegInt(op, i, 'new_pages');
      if (page + pages > arenaPages) fail(i, 'pages', 'range outside the arena');
      const flagNames = op.flags ?? [];
      if (!Array.isArray(flagNames)) fail(i, 'flags', 'expected a list');
      let flags = 0;
      for (const flag of flagNames) {
        const bit = (MREMAP_FLAG_NAMES as readonly unknown[]).indexOf(flag);
        if (bit < 0) fail(i, 'flags', `unknown mremap flag ${JSON.stringify(flag)}`);
        flags |= 1 << bit;
      }
      const parts = ['mremap', `page=${page}`, `pages=${pages}`, `new_pages=${newPages}`, `flags=${flags}`];
      if (op.new_page !== undefined) {
        const newPage = nonNegInt(op, i, 'new_page');
        if (newPage + newPages > arenaPages) fail(i, 'new_pages', 'range outside the arena');
        parts.push(`new_page=${newPage}`);
      }
      line = parts.join(' ');
    } else if (RANGE_OPS.has(name)) {
      const page = nonNegInt(op, i, 'page');
      const dfltPages = name === 'write' || name === 'read' ? 1 : undefined;
      const pages = nonNegInt(op, i, 'pages', dfltPages);
      if (page + pages > arenaPages) fail(i, 'pages', 'range outside the arena');
      const parts = [name, `page=${page}`, `pages=${pages}`];
      switch (name) {
        case 'mmap':
          parts.push(`prot=${nameToken(op, i, 'prot', PROTS)}`);
          parts.push(`map=${nameToken(op, i, 'map', ['private', 'shared', 'shared_validate'], 'private')}`);
          parts.push(`backing=${nameToken(op, i, 'backing', ['anon', 'file', 'sysv_shm'], 'anon')}`);
          parts.push(`populate=${bool(op, i, 'populate') ? 1 : 0}`);
          parts.push(`hugetlb=${bool(op, i, 'hugetlb') ? 1 : 0}`);
          break;
        case 'mprotect':
          parts.push(`prot=${nameToken(op, i, 'prot', PROTS)}`);
          break;
        case 'madvise':
          parts.push(`advice=${nameToken(op, i, 'advice', ADVICE)}`);
          break;
        case 'write': {
          const byte = nonNegInt(op, i, 'byte', 0);
          if (byte > 255) fail(i, 'byte', 'expected 0..255');
          parts.push(`byte=${byte}`);
          pushOffset(parts, op, i);
          break;
        }
        case 'read':
          pushOffset(parts, op, i);
          break;
        case 'uffd_register':
          parts.push(`modes=${nameList(op, i, 'modes', MODES)}`);
          break;
        case 'uffd_wp':
          parts.push(`wp=${bool(op, i, 'wp') ? 1 : 0}`);
          break;
        default:
          break;
      }
      line = parts.join(' ');
    } else {
      fail(i, 'op', `unknown op ${JSON.stringify(name)}`);
    }
    lines.push(line);
  }
  return { lines: lines.join('\n') + '\n' };
}

/** Version 2 `offset` (and `length`) of read / write: only written when not the default, so version 1 scripts are unchanged. */
function pushOffset(parts: string[], op: Record<string, unknown>, i: number): void {
  const offset = nonNegInt(op, i, 'offset', 0);
  if (offset > 4095) fail(i, 'offset', 'expected 0..4095');
  if (offset !== 0) parts.push(`offset=${offset}`);
  if (op.length === undefined) return;
  const length = nonNegInt(op, i, 'length', 1);
  if (length < 1 || length > 4096) fail(i, 'length', 'expected 1..4096');
  if (length !== 1) parts.push(`length=${length}`);
}
