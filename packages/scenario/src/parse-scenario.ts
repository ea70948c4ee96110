// parseScenario: JSON text → a fully validated Scenario. Every field is
// checked (type, range, enum value) and unknown fields are errors, so a typo
// never silently turns into a default. Each error is one line naming the
// file, the op index and the field.
import {
  ADVICE_NAMES,
  BACKING_NAMES,
  CATEGORY_NAMES,
  DEVICE_SNAPSHOT_NAMES,
  MAP_NAMES,
  OP_NAMES,
  PAGEMAP_FLAG_NAMES,
  PROFILE_KEYS,
  PROT_NAMES,
  SCAN_FLAG_NAMES,
  SCAN_RAW_FIELD_NAMES,
  SIGNAL_NAMES,
  MREMAP_FLAG_NAMES,
  SWAP_DEVICE_NAMES,
  MTHP_MODE_NAMES,
  MTHP_SIZE_NAMES,
  type MthpModeName,
  type MthpSizeName,
  THP_MODE_NAMES,
  UFFD_FAULT_FLAG_NAMES,
  UFFD_FEATURE_NAMES,
  UFFD_MODE_NAMES,
  isErrnoName,
  type OpName,
} from './names.js';
import { RESULT_FIELD_ORDER, type ExpectedResult, type OpResult, type RecordingProfile, type Scenario, type ScenarioOp, type ScenarioProfile } from './scenario-types.js';

/** Largest arena a scenario may ask for: 2^26 pages = 256 GiB (the kernel runner's limit too). */
export const MAX_ARENA_PAGES = 2 ** 26;

/** A malformed scenario (or result list). The message is one line: `file: op N (name): field "f": problem`. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    message: string,
    readonly file: string,
    readonly opIndex?: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Where a value sits, for error messages. */
interface Location {
  file: string;
  opIndex?: number;
  opName?: string;
}

function describeLocation(location: Location): string {
  if (location.opIndex === undefined) return location.file;
  const name = location.opName === undefined ? '' : ` (${location.opName})`;
  return `${location.file}: op ${location.opIndex}${name}`;
}

function fail(location: Location, field: string, problem: string): never {
  throw new ScenarioError(`${describeLocation(location)}: field "${field}": ${problem}`, location.file, location.opIndex, field);
}

const show = (value: unknown): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = Array.isArray(value) ? '[...]' : typeof value === 'object' && value !== null ? '{...}' : undefined;
  }
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 37)}...` : text;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- primitive field readers ------------------------------------------------

function readObject(value: unknown, location: Location, field: string): Record<string, unknown> {
  if (!isPlainObject(value)) fail(location, field, `must be an object, got ${show(value)}`);
  return value;
}

function readBoolean(value: unknown, location: Location, field: string): boolean {
  if (typeof value !== 'boolean') fail(location, field, `must be true or false, got ${show(value)}`);
  return value;
}

function readString(value: unknown, location: Location, field: string): string {
  if (typeof value !== 'string' || value === '') fail(location, field, `must be a non-empty string, got ${show(value)}`);
  return value;
}

function readInteger(value: unknown, location: Location, field: string, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(location, field, `must be an integer, got ${show(value)}`);
  if (value < minimum || value > maximum) fail(location, field, `must be between ${minimum} and ${maximum}, got ${value}`);
  return value;
}

function readName<T extends string>(value: unknown, names: readonly T[], kind: string, location: Location, field: string): T {
  if (typeof value !== 'string') fail(location, field, `must be a string (one of ${names.join(' ')}), got ${show(value)}`);
  if (!(names as readonly string[]).includes(value)) fail(location, field, `unknown ${kind} ${show(value)}`);
  return value as T;
}

function readNameList<T extends string>(value: unknown, names: readonly T[], kind: string, location: Location, field: string): T[] {
  if (!Array.isArray(value)) fail(location, field, `must be a list of ${kind} names, got ${show(value)}`);
  const seen = new Set<string>();
  return value.map((item, index) => {
    const name = readName(item, names, kind, location, `${field}[${index}]`);
    if (seen.has(name)) fail(location, `${field}[${index}]`, `duplicate ${kind} ${show(name)}`);
    seen.add(name);
    return name;
  });
}

/** An exact double that is an integer: raw pm_scan_arg values such as 2^63 are beyond the safe range. */
function readRawNumber(value: unknown, location: Location, field: string, allowNegative: boolean): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(location, field, `must be an integer, got ${show(value)}`);
  if (value >= 2 ** 64 || value <= -(2 ** 64)) fail(location, field, `must be below 2^64 in magnitude, got ${value}`);
  if (!allowNegative && value < 0) fail(location, field, `must not be negative, got ${value}`);
  return value;
}

function rejectUnknownFields(object: Record<string, unknown>, known: readonly string[], location: Location, prefix = ''): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) fail(location, `${prefix}${key}`, 'unknown field');
  }
}

// ---- ops ---------------------------------------------------------------------

interface OpContext {
  location: Location;
  object: Record<string, unknown>;
  arenaPages: number;
}

/** How one op field is read: `undefined` result means "leave the field out". */
interface FieldSpec {
  required?: boolean;
  defaultValue?: unknown;
  read: (value: unknown, context: OpContext, field: string) => unknown;
}

const pageField: FieldSpec = {
  required: true,
  read: (value, context, field) => readInteger(value, context.location, field, 0, context.arenaPages),
};
const pagesField = (defaultValue?: number): FieldSpec => ({
  required: defaultValue === undefined,
  defaultValue,
  read: (value, context, field) => readInteger(value, context.location, field, 0, context.arenaPages),
});
const enumField = (names: readonly string[], kind: string, defaultValue?: string): FieldSpec => ({
  required: defaultValue === undefined,
  defaultValue,
  read: (value, context, field) => readName(value, names, kind, context.location, field),
});
const booleanField = (defaultValue?: boolean): FieldSpec => ({
  required: defaultValue === undefined,
  defaultValue,
  read: (value, context, field) => readBoolean(value, context.location, field),
});
const byteField: FieldSpec = { required: true, read: (value, context, field) => readInteger(value, context.location, field, 0, 255) };
/** Version 2: the byte inside each page that a read or write touches. */
const offsetField: FieldSpec = { read: (value, context, field) => readInteger(value, context.location, field, 0, 4095) };
/** Version 2 extension: how many consecutive bytes from `offset` each page's access covers (crossing into the next page past 4095). */
const lengthField: FieldSpec = { read: (value, context, field) => readInteger(value, context.location, field, 1, 4096) };
const nameListField = (names: readonly string[], kind: string, required: boolean): FieldSpec => ({
  required,
  defaultValue: required ? undefined : [],
  read: (value, context, field) => readNameList(value, names, kind, context.location, field),
});
/** A u64 count (vec_len, max_pages): any integer that is an exact double below 2^64, such as 2^60. */
const countField = (defaultValue: number): FieldSpec => ({
  defaultValue,
  read: (value, context, field) => readRawNumber(value, context.location, field, false),
});

const CATEGORY_MASK_NAMES = [...CATEGORY_NAMES, 'all'] as const;
const categoryListField = nameListField(CATEGORY_MASK_NAMES, 'category', false);

const rawField: FieldSpec = {
  read: (value, context, field) => {
    const raw = readObject(value, context.location, field);
    rejectUnknownFields(raw, SCAN_RAW_FIELD_NAMES, context.location, `${field}.`);
    const result: Record<string, number> = {};
    for (const [key, item] of Object.entries(raw)) {
      result[key] = readRawNumber(item, context.location, `${field}.${key}`, key.endsWith('_byte_offset'));
    }
    return result;
  },
};

const RANGE = { page: pageField, pages: pagesField() };

const OP_FIELDS: Record<OpName, Record<string, FieldSpec>> = {
  mmap: {
    ...RANGE,
    prot: enumField(PROT_NAMES, 'prot'),
    map: enumField(MAP_NAMES, 'map', 'private'),
    backing: enumField(BACKING_NAMES, 'backing', 'anon'),
    populate: booleanField(false),
    hugetlb: booleanField(false),
  },
  munmap: RANGE,
  mprotect: { ...RANGE, prot: enumField(PROT_NAMES, 'prot') },
  madvise: { ...RANGE, advice: enumField(ADVICE_NAMES, 'advice') },
  mlock: RANGE,
  munlock: RANGE,
  write: { page: pageField, pages: pagesField(1), byte: byteField, offset: offsetField, length: lengthField },
  read: { page: pageField, pages: pagesField(1), offset: offsetField, length: lengthField },
  uffd_open: { features: nameListField(UFFD_FEATURE_NAMES, 'uffd feature', false) },
  uffd_register: { ...RANGE, modes: nameListField(UFFD_MODE_NAMES, 'uffd mode', true) },
  uffd_unregister: RANGE,
  uffd_wp: { ...RANGE, wp: booleanField() },
  scan: {
    ...RANGE,
    flags: nameListField(SCAN_FLAG_NAMES, 'scan flag', false),
    category_mask: categoryListField,
    category_anyof_mask: categoryListField,
    category_inverted: categoryListField,
    return_mask: categoryListField,
    max_pages: countField(0),
    vec_len: countField(4096),
    raw: rawField,
  },
  pagemap: RANGE,
  clear_soft_dirty: {},
  mremap: { ...RANGE, new_pages: { required: true, read: (value, context, field) => readInteger(value, context.location, field, 0, context.arenaPages) }, flags: nameListField(MREMAP_FLAG_NAMES, 'mremap flag', false), new_page: { read: pageField.read } },
  dev_migrate: RANGE,
  dev_migrate_back: RANGE,
  dev_read: RANGE,
  dev_write: { ...RANGE, byte: byteField },
  dev_snapshot: RANGE,
};

function parseOp(value: unknown, opIndex: number, file: string, arenaPages: number): ScenarioOp {
  const bare: Location = { file, opIndex };
  const object = readObject(value, bare, 'op');
  if (!('op' in object)) fail(bare, 'op', 'missing');
  const opName = readName(object.op, OP_NAMES, 'op', bare, 'op');
  const location: Location = { file, opIndex, opName };
  const specs = OP_FIELDS[opName];
  rejectUnknownFields(object, ['op', 'expect', ...Object.keys(specs)], location);
  const context: OpContext = { location, object, arenaPages };
  const op: Record<string, unknown> = { op: opName };
  for (const [field, spec] of Object.entries(specs)) {
    if (!(field in object)) {
      if (spec.required) fail(location, field, 'missing');
      if (spec.defaultValue !== undefined) op[field] = structuredClone(spec.defaultValue);
      continue;
    }
    op[field] = spec.read(object[field], context, field);
  }
  if ('page' in op && typeof op.page === 'number' && typeof op.pages === 'number' && op.page + op.pages > arenaPages) {
    fail(location, 'pages', `page ${op.page} + pages ${op.pages} goes past arena_pages ${arenaPages}`);
  }
  // shmat always maps MAP_SHARED: a private SysV mapping does not exist.
  if (opName === 'mmap' && op.backing === 'sysv_shm') {
    if (op.map !== 'shared') fail(location, 'map', 'must be "shared" with backing "sysv_shm"');
    // shmat has no MAP_POPULATE, and a read-only attach differs from a read-only mmap in later mprotects.
    if (op.prot !== 'rw') fail(location, 'prot', 'must be "rw" with backing "sysv_shm"');
    if (op.populate === true) fail(location, 'populate', 'must be false with backing "sysv_shm"');
  }
  if (opName === 'mremap') {
    const target = typeof op.new_page === 'number' ? op.new_page : 0;
    if (target + (op.new_pages as number) > arenaPages) fail(location, 'new_pages', `new_page ${target} + new_pages ${op.new_pages as number} goes past arena_pages ${arenaPages}`);
  }
  if ('expect' in object) op.expect = readResult(object.expect, location, opName, 'expect', true);
  return op as unknown as ScenarioOp;
}

// ---- results -----------------------------------------------------------------

function readByteList(value: unknown, location: Location, field: string): number[] {
  if (!Array.isArray(value)) fail(location, field, `must be a list of bytes, got ${show(value)}`);
  return value.map((item, index) => readInteger(item, location, `${field}[${index}]`, 0, 255));
}

function readRegions(value: unknown, location: Location, field: string): OpResult['regions'] {
  if (!Array.isArray(value)) fail(location, field, `must be a list of [start, end, categories], got ${show(value)}`);
  return value.map((region, index) => {
    const where = `${field}[${index}]`;
    if (!Array.isArray(region) || region.length !== 3) fail(location, where, `must be [start, end, categories], got ${show(region)}`);
    const [start, end, categories] = region as [unknown, unknown, unknown];
    if (typeof start !== 'number' || !Number.isFinite(start)) fail(location, `${where}[0]`, `must be a page number, got ${show(start)}`);
    if (typeof end !== 'number' || !Number.isFinite(end)) fail(location, `${where}[1]`, `must be a page number, got ${show(end)}`);
    return [start, end, readNameList(categories, CATEGORY_NAMES, 'category', location, `${where}[2]`)];
  });
}

function readEntries(value: unknown, opName: OpName, location: Location, field: string): OpResult['entries'] {
  const names: readonly string[] = opName === 'dev_snapshot' ? DEVICE_SNAPSHOT_NAMES : PAGEMAP_FLAG_NAMES;
  const kind = opName === 'dev_snapshot' ? 'device flag' : 'pagemap flag';
  if (!Array.isArray(value)) fail(location, field, `must be a list with one flag list per page, got ${show(value)}`);
  return value.map((flags, index) => readNameList(flags, names, kind, location, `${field}[${index}]`)) as OpResult['entries'];
}

function readUffdFaults(value: unknown, location: Location, field: string): OpResult['uffd'] {
  if (!Array.isArray(value)) fail(location, field, `must be a list of faults, got ${show(value)}`);
  return value.map((fault, index) => {
    const where = `${field}[${index}]`;
    const object = readObject(fault, location, where);
    rejectUnknownFields(object, ['page', 'flags'], location, `${where}.`);
    if (!('page' in object)) fail(location, `${where}.page`, 'missing');
    if (!('flags' in object)) fail(location, `${where}.flags`, 'missing');
    return {
      page: readInteger(object.page, location, `${where}.page`, 0, Number.MAX_SAFE_INTEGER),
      flags: readNameList(object.flags, UFFD_FAULT_FLAG_NAMES, 'uffd fault flag', location, `${where}.flags`),
    };
  });
}

/**
 * Validates one result object. With `partial` (an op's `expect`), fields
 * may be left out, including `op`.
 */
function readResult(value: unknown, location: Location, opName: OpName | undefined, field: string, partial: boolean): OpResult {
  const object = readObject(value, location, field);
  rejectUnknownFields(object, RESULT_FIELD_ORDER, location, `${field}.`);
  const at = (key: string) => `${field}.${key}`;
  const result: Record<string, unknown> = {};
  let name = opName;
  if ('op' in object) {
    name = readName(object.op, OP_NAMES, 'op', location, at('op'));
    if (opName !== undefined && name !== opName) fail(location, at('op'), `must be ${show(opName)}, got ${show(name)}`);
    result.op = name;
  } else if (!partial) {
    fail(location, at('op'), 'missing');
  }
  for (const [key, item] of Object.entries(object)) {
    switch (key) {
      case 'op':
        break;
      case 'ret':
        result.ret = readInteger(item, location, at(key), -1, Number.MAX_SAFE_INTEGER);
        break;
      case 'errno':
        if (typeof item !== 'string' || !isErrnoName(item)) fail(location, at(key), `unknown errno ${show(item)}`);
        result.errno = item;
        break;
      case 'signal':
        result.signal = readName(item, SIGNAL_NAMES, 'signal', location, at(key));
        break;
      case 'page':
        result.page = item === null && name === 'mremap' ? null : readInteger(item, location, at(key), 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'bytes':
        result.bytes = readByteList(item, location, at(key));
        break;
      case 'migrated':
        result.migrated = readInteger(item, location, at(key), 0, Number.MAX_SAFE_INTEGER);
        break;
      case 'walk_end':
        if (typeof item !== 'number' || !Number.isFinite(item)) fail(location, at(key), `must be a page number, got ${show(item)}`);
        result.walk_end = item;
        break;
      case 'regions':
        result.regions = readRegions(item, location, at(key));
        break;
      case 'entries':
        result.entries = readEntries(item, name ?? 'pagemap', location, at(key));
        break;
      case 'uffd':
        result.uffd = readUffdFaults(item, location, at(key));
        break;
      case 'unsupported':
        if (item !== true) fail(location, at(key), `must be true, got ${show(item)}`);
        result.unsupported = true;
        break;
    }
  }
  if (result.ret === -1 && !partial && result.errno === undefined) fail(location, at('errno'), 'missing (ret is -1)');
  return result as unknown as ExpectedResult as OpResult;
}

/** Validates a list of results (for example a recorded kernel run); `file` names the source in errors. */
export function parseResults(value: unknown, file: string): OpResult[] {
  if (!Array.isArray(value)) fail({ file }, 'results', `must be a list, got ${show(value)}`);
  return value.map((item, opIndex) => readResult(item, { file, opIndex }, undefined, 'result', false));
}

// ---- scenario ----------------------------------------------------------------

const SCENARIO_FIELDS = ['$schema', 'name', 'arena_pages', 'profile', 'known_failing', 'ops'] as const;

function parseProfile(value: unknown, location: Location): ScenarioProfile {
  const object = readObject(value, location, 'profile');
  const profile: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) {
    const field = `profile.${key}`;
    switch (key) {
      case 'thp':
        profile.thp = readName(item, THP_MODE_NAMES, 'thp mode', location, field);
        break;
      case 'thp_zero_page':
      case 'soft_dirty':
      case 'zero_page':
        profile[key] = readBoolean(item, location, field);
        break;
      case 'swap':
        if (typeof item !== 'boolean' && !(SWAP_DEVICE_NAMES as readonly unknown[]).includes(item))
          fail(location, field, `must be true, false, "file" or "zram", got ${show(item)}`);
        profile.swap = item;
        break;
      case 'hugetlb_pages':
        profile.hugetlb_pages = readInteger(item, location, field, 0, 1 << 20);
        break;
      case 'mthp':
        profile.mthp = readMthp(item, location, field);
        break;
      default:
        // Not an error: an unknown requirement makes the scenario skipped (see skipReason).
        profile[key] = item;
    }
  }
  return profile as ScenarioProfile;
}

function readMthp(value: unknown, location: Location, field: string): Partial<Record<MthpSizeName, MthpModeName>> {
  const object = readObject(value, location, field);
  const out: Partial<Record<MthpSizeName, MthpModeName>> = {};
  for (const [size, mode] of Object.entries(object)) {
    const name = readName(size, MTHP_SIZE_NAMES, 'mTHP size', location, `${field}`);
    out[name] = readName(mode, MTHP_MODE_NAMES, 'mTHP mode', location, `${field}.${size}`);
  }
  return out;
}

const RECORDING_PROFILE_FIELDS = [
  'kernel',
  'zero_page',
  'thp',
  'thp_zero_page',
  'mthp',
  'soft_dirty',
  'swap',
  'hugetlb_pages',
  'root',
  'userfaultfd',
] as const;

/** Validates the `profile` of a recording (`*.kernel.json`): every field is required. */
export function parseRecordingProfile(value: unknown, file: string): RecordingProfile {
  const location: Location = { file };
  const object = readObject(value, location, 'profile');
  rejectUnknownFields(object, RECORDING_PROFILE_FIELDS, location);
  for (const key of RECORDING_PROFILE_FIELDS) if (!(key in object)) fail(location, `profile.${key}`, 'missing');
  const swap = object.swap;
  return {
    kernel: readString(object.kernel, location, 'profile.kernel'),
    zero_page: readBoolean(object.zero_page, location, 'profile.zero_page'),
    thp: readName(object.thp, THP_MODE_NAMES, 'thp mode', location, 'profile.thp'),
    thp_zero_page: readBoolean(object.thp_zero_page, location, 'profile.thp_zero_page'),
    mthp: readMthp(object.mthp, location, 'profile.mthp'),
    soft_dirty: readBoolean(object.soft_dirty, location, 'profile.soft_dirty'),
    swap: swap === false ? false : readName(swap, [...SWAP_DEVICE_NAMES, 'disk', 'mixed'] as const, 'swap kind', location, 'profile.swap'),
    hugetlb_pages: readInteger(object.hugetlb_pages, location, 'profile.hugetlb_pages', 0, 1 << 20),
    root: readBoolean(object.root, location, 'profile.root'),
    userfaultfd: readBoolean(object.userfaultfd, location, 'profile.userfaultfd'),
  };
}

/** Validates an already-decoded scenario value. */
export function parseScenarioValue(value: unknown, file: string): Scenario {
  const location: Location = { file };
  if (!isPlainObject(value)) throw new ScenarioError(`${file}: a scenario must be a JSON object, got ${show(value)}`, file);
  rejectUnknownFields(value, SCENARIO_FIELDS, location);
  if (!('name' in value)) fail(location, 'name', 'missing');
  if (!('arena_pages' in value)) fail(location, 'arena_pages', 'missing');
  if (!('ops' in value)) fail(location, 'ops', 'missing');
  const scenario: Scenario = {
    name: readString(value.name, location, 'name'),
    arena_pages: readInteger(value.arena_pages, location, 'arena_pages', 1, MAX_ARENA_PAGES),
    ops: [],
  };
  if ('profile' in value) scenario.profile = parseProfile(value.profile, location);
  if ('known_failing' in value) scenario.known_failing = readString(value.known_failing, location, 'known_failing');
  if (!Array.isArray(value.ops)) fail(location, 'ops', `must be a list, got ${show(value.ops)}`);
  scenario.ops = value.ops.map((op, index) => parseOp(op, index, file, scenario.arena_pages));
  return scenario;
}

/**
 * Parses and validates a scenario file's text. Throws a ScenarioError whose
 * message is one line, e.g.
 * `bad.json: op 3 (madvise): field "advice": unknown advice "dontneeed"`.
 */
/**
 * Deepest nesting a scenario file may have. A scenario needs about six
 * levels (scenario, ops, op, expect, regions, a region, its categories);
 * anything far deeper is refused before JSON.parse, whose result the
 * validator (and error messages) would otherwise walk recursively.
 */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of JSON text (brackets outside strings), stopping once it passes `limit`. */
export function jsonNestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export function parseScenario(text: string, file: string): Scenario {
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH) {
    throw new ScenarioError(`${file}: invalid scenario: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, file);
  }
  let value: unknown;
  try {
    // A byte-order mark (editors on some systems write one) is not part of the JSON.
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ScenarioError(`${file}: invalid JSON: ${reason}`, file);
  }
  return parseScenarioValue(value, file);
}

/** Profile keys of the scenario that this format version does not know. */
export function unknownProfileKeys(scenario: Scenario): string[] {
  const known: readonly string[] = PROFILE_KEYS;
  return Object.keys(scenario.profile ?? {}).filter((key) => !known.includes(key));
}

/** Why a runner must skip the scenario (an unknown profile key), or null. */
export function skipReason(scenario: Scenario): string | null {
  const unknown = unknownProfileKeys(scenario);
  if (unknown.length === 0) return null;
  return `unknown profile key${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}`;
}

/** mTHP modes of a kernel with every size but the PMD size off (the default of the format). */
export function isDefaultMthp(mthp: Partial<Record<MthpSizeName, MthpModeName>> | undefined): boolean {
  if (mthp === undefined) return true;
  return MTHP_SIZE_NAMES.every((size) => (mthp[size] ?? (size === '2048kB' ? 'inherit' : 'never')) === (size === '2048kB' ? 'inherit' : 'never'));
}

/**
 * The scenario as it ran when a recording was made: its profile completed
 * with everything of the recording's profile that the simulator models, so
 * that simulating the result equals the recording.
 */
export function scenarioUnderRecording(scenario: Scenario, profile: RecordingProfile): Scenario {
  const merged: Record<string, unknown> = {
    ...scenario.profile,
    thp: profile.thp,
    thp_zero_page: profile.thp_zero_page,
    soft_dirty: profile.soft_dirty,
    swap: profile.swap === 'disk' || profile.swap === 'mixed' ? true : profile.swap,
    hugetlb_pages: profile.hugetlb_pages,
    zero_page: profile.zero_page,
  };
  if (!isDefaultMthp(profile.mthp)) merged.mthp = profile.mthp;
  else delete merged.mthp;
  return { ...scenario, profile: merged as ScenarioProfile };
}

/**
 * The tag of a recording file of the scenario file `<stem>.json`:
 * '' for `<stem>.kernel.json`, 'nozero' for `<stem>.nozero.kernel.json`
 * (tags are lower-case letters, digits and '-'); null for any other name.
 */
export function recordingTagOf(stem: string, fileName: string): string | null {
  if (fileName === `${stem}.kernel.json`) return '';
  if (!fileName.startsWith(`${stem}.`) || !fileName.endsWith('.kernel.json')) return null;
  const tag = fileName.slice(stem.length + 1, -'.kernel.json'.length);
  return /^[a-z0-9-]+$/.test(tag) ? tag : null;
}
