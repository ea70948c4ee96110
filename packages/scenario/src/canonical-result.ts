// Canonical results: every list of names sorted in the format's order and
// every result's fields in one order, so two runs compare as plain JSON; plus
// the first difference between two result lists, for readable diffs.
import { CATEGORY_NAMES, DEVICE_SNAPSHOT_NAMES, PAGEMAP_FLAG_NAMES, UFFD_FAULT_FLAG_NAMES, type CategoryName } from './names.js';
import { RESULT_FIELD_ORDER, type ExpectedResult, type OpResult, type ScanRegion } from './scenario-types.js';

function sortByNameOrder<T extends string>(names: readonly T[], order: readonly string[]): T[] {
  const rank = (name: string) => {
    const index = order.indexOf(name);
    return index === -1 ? order.length : index;
  };
  return [...names].sort((left, right) => rank(left) - rank(right) || (left < right ? -1 : left > right ? 1 : 0));
}

/** The category names of a PAGEMAP_SCAN category bit mask, in bit order. */
export function categoryNamesOfMask(mask: number): CategoryName[] {
  return CATEGORY_NAMES.filter((_, bit) => Math.floor(mask / 2 ** bit) % 2 === 1);
}

/** The bit mask of a category list; `"all"` stands for every category. */
export function categoryMaskOf(names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    if (name === 'all') return 2 ** CATEGORY_NAMES.length - 1;
    const bit = (CATEGORY_NAMES as readonly string[]).indexOf(name);
    if (bit >= 0) mask |= 1 << bit;
  }
  return mask;
}

/**
 * The canonical form of one result (or expectation): fields in the order of
 * RESULT_FIELD_ORDER (unknown fields after them), categories sorted in bit
 * order, pagemap / device flags in table order, uffd flags kind-first.
 */
export function canonicalResult<T extends ExpectedResult>(result: T): T {
  const source = result as Record<string, unknown>;
  const canonical: Record<string, unknown> = {};
  const keys = [...RESULT_FIELD_ORDER.filter((key) => key in source), ...Object.keys(source).filter((key) => !(RESULT_FIELD_ORDER as readonly string[]).includes(key))];
  for (const key of keys) {
    const value = source[key];
    if (value === undefined) continue;
    switch (key) {
      case 'regions':
        canonical.regions = (value as ScanRegion[]).map(([start, end, categories]) => [start, end, sortByNameOrder(categories, CATEGORY_NAMES)]);
        break;
      case 'entries': {
        const order: readonly string[] = result.op === 'dev_snapshot' ? DEVICE_SNAPSHOT_NAMES : PAGEMAP_FLAG_NAMES;
        canonical.entries = (value as string[][]).map((flags) => sortByNameOrder(flags, order));
        break;
      }
      case 'uffd':
        canonical.uffd = (value as { page: number; flags: string[] }[]).map((fault) => ({ page: fault.page, flags: sortByNameOrder(fault.flags, UFFD_FAULT_FLAG_NAMES) }));
        break;
      default:
        canonical[key] = Array.isArray(value) ? [...value] : value;
    }
  }
  return canonical as T;
}

export function canonicalResults(results: readonly OpResult[]): OpResult[] {
  return results.map((result) => canonicalResult(result));
}

/** Where two result lists first differ. `field` is a path such as `errno`, `bytes[3]` or `regions[1][2]`. */
export interface ResultDifference {
  opIndex: number;
  field: string;
  expected: unknown;
  actual: unknown;
}

function isPrimitive(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

function deepEqual(left: unknown, right: unknown): boolean {
  if (isPrimitive(left) || isPrimitive(right)) return Object.is(left, right) || left === right;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  const leftKeys = Object.keys(left as object);
  const rightKeys = Object.keys(right as object);
  if (leftKeys.length !== rightKeys.length) return false;
  return leftKeys.every((key) => key in (right as object) && deepEqual((left as Record<string, unknown>)[key], (right as Record<string, unknown>)[key]));
}

/** Descends into lists to name the smallest differing part; a list of plain values of another length differs as a whole. */
function narrowDifference(path: string, expected: unknown, actual: unknown): { field: string; expected: unknown; actual: unknown } {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const flat = expected.every(isPrimitive) && actual.every(isPrimitive);
    if (!flat || expected.length === actual.length) {
      const length = Math.min(expected.length, actual.length);
      for (let index = 0; index < length; index++) {
        if (!deepEqual(expected[index], actual[index])) return narrowDifference(`${path}[${index}]`, expected[index], actual[index]);
      }
      if (expected.length !== actual.length) {
        return { field: `${path}.length`, expected: expected.length, actual: actual.length };
      }
    }
  } else if (!isPrimitive(expected) && !isPrimitive(actual) && !Array.isArray(expected) && !Array.isArray(actual)) {
    const difference = firstFieldDifference(expected as ExpectedResult, actual as ExpectedResult, { onlyExpectedFields: false });
    if (difference !== null) return { ...difference, field: `${path}.${difference.field}` };
  }
  return { field: path, expected, actual };
}

/**
 * The first field where `actual` differs from `expected`, compared in
 * canonical form, or null. With `onlyExpectedFields` (how an op's `expect` is
 * checked), fields absent from `expected` are not compared.
 */
export function firstFieldDifference(
  expected: ExpectedResult,
  actual: ExpectedResult,
  options: { onlyExpectedFields: boolean },
): { field: string; expected: unknown; actual: unknown } | null {
  const left = canonicalResult(expected) as Record<string, unknown>;
  const right = canonicalResult(actual) as Record<string, unknown>;
  const keys = options.onlyExpectedFields ? Object.keys(left) : [...new Set([...Object.keys(left), ...Object.keys(right)])];
  const order = RESULT_FIELD_ORDER as readonly string[];
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  keys.sort((a, b) => rank(a) - rank(b));
  for (const key of keys) {
    if (!deepEqual(left[key], right[key])) return narrowDifference(key, left[key], right[key]);
  }
  return null;
}

/** The first difference between two result lists, or null when they are equal in canonical form. */
export function firstDifference(expected: readonly OpResult[], actual: readonly OpResult[]): ResultDifference | null {
  const length = Math.max(expected.length, actual.length);
  for (let opIndex = 0; opIndex < length; opIndex++) {
    const left = expected[opIndex];
    const right = actual[opIndex];
    if (left === undefined || right === undefined) {
      return { opIndex, field: '(result)', expected: left === undefined ? undefined : canonicalResult(left), actual: right === undefined ? undefined : canonicalResult(right) };
    }
    const difference = firstFieldDifference(left, right, { onlyExpectedFields: false });
    if (difference !== null) return { opIndex, ...difference };
  }
  return null;
}

/** Whether two result lists are equal in canonical form. */
export function resultsEqual(expected: readonly OpResult[], actual: readonly OpResult[]): boolean {
  return firstDifference(expected, actual) === null;
}
