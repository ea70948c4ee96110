// The typed model of a scenario file and of its results (SCENARIO.md,
// version 1). Field names keep the file's snake_case spelling so that a parsed
// scenario serialises back to the same JSON.
import type {
  AdviceName,
  BackingName,
  CategoryMaskName,
  CategoryName,
  DeviceSnapshotName,
  MapName,
  OpName,
  PagemapFlagName,
  ProtName,
  ScanFlagName,
  ScanRawFieldName,
  SignalName,
  MremapFlagName,
  MthpModeName,
  MthpSizeName,
  SwapDeviceName,
  ThpModeName,
  UffdFaultFlagName,
  UffdFeatureName,
  UffdModeName,
} from './names.js';

/** The kernel configuration a scenario assumes. Unknown keys are kept: they make the scenario skipped. */
export interface ScenarioProfile {
  thp?: ThpModeName;
  thp_zero_page?: boolean;
  soft_dirty?: boolean;
  /** true = any swap device, "file" = a swap file only, "zram" = zram only, false = none. */
  swap?: boolean | SwapDeviceName;
  hugetlb_pages?: number;
  /** false: anonymous faults never map the shared zero page or the huge zero page. Default true. */
  zero_page?: boolean;
  /** Per-size mTHP modes; sizes not given are "never", except 2048kB ("inherit"). */
  mthp?: Partial<Record<MthpSizeName, MthpModeName>>;
  readonly [unknownKey: string]: unknown;
}

/**
 * The whole kernel configuration a recording was made under: what the kernel
 * runner found on (or set up on) the machine when it ran the scenario. Stored
 * in every `*.kernel.json` as `profile`.
 */
export interface RecordingProfile {
  /** Kernel release, `uname -r`. */
  kernel: string;
  /** Anonymous read faults map the shared zero page. */
  zero_page: boolean;
  thp: ThpModeName;
  thp_zero_page: boolean;
  /** Every anonymous mTHP size the kernel offers, with its mode. */
  mthp: Partial<Record<MthpSizeName, MthpModeName>>;
  soft_dirty: boolean;
  /** The active swap: none, only a swap file, only zram, or something else ("disk", "mixed"). */
  swap: false | SwapDeviceName | 'disk' | 'mixed';
  /** Free 2 MiB hugetlb pages. */
  hugetlb_pages: number;
  /** The runner ran as root. */
  root: boolean;
  /** userfaultfd(2) with UFFD_FEATURE_WP_ASYNC is usable. */
  userfaultfd: boolean;
}

export interface Scenario {
  name: string;
  arena_pages: number;
  profile?: ScenarioProfile;
  /** Extension: the scenario is known not to match the kernel yet, for this reason. */
  known_failing?: string;
  ops: ScenarioOp[];
}

interface OpCommon {
  /** Expected result (or the fields of it to check); device ops carry these. */
  expect?: ExpectedResult;
}

/** A page range relative to the arena base. */
export interface PageRange {
  page: number;
  pages: number;
}

export interface MmapOp extends OpCommon, PageRange {
  op: 'mmap';
  prot: ProtName;
  map: MapName;
  backing: BackingName;
  populate: boolean;
  hugetlb: boolean;
}
export interface MunmapOp extends OpCommon, PageRange {
  op: 'munmap';
}
export interface MprotectOp extends OpCommon, PageRange {
  op: 'mprotect';
  prot: ProtName;
}
export interface MadviseOp extends OpCommon, PageRange {
  op: 'madvise';
  advice: AdviceName;
}
export interface MlockOp extends OpCommon, PageRange {
  op: 'mlock';
}
export interface MunlockOp extends OpCommon, PageRange {
  op: 'munlock';
}
export interface WriteOp extends OpCommon, PageRange {
  op: 'write';
  byte: number;
  /** Byte offset inside each page (version 2; 0 when absent). */
  offset?: number;
  /** Consecutive bytes stored from `offset` in each page, crossing into the next page past its end (1 when absent). */
  length?: number;
}
export interface ReadOp extends OpCommon, PageRange {
  op: 'read';
  /** Byte offset inside each page (version 2; 0 when absent). */
  offset?: number;
  /** Consecutive bytes loaded from `offset` in each page, crossing into the next page past its end (1 when absent). */
  length?: number;
}
export interface UffdOpenOp extends OpCommon {
  op: 'uffd_open';
  features: UffdFeatureName[];
}
export interface UffdRegisterOp extends OpCommon, PageRange {
  op: 'uffd_register';
  modes: UffdModeName[];
}
export interface UffdUnregisterOp extends OpCommon, PageRange {
  op: 'uffd_unregister';
}
export interface UffdWpOp extends OpCommon, PageRange {
  op: 'uffd_wp';
  wp: boolean;
}
/** Numeric overrides of pm_scan_arg fields; exact doubles, offsets may be negative. */
export type ScanRawFields = Partial<Record<ScanRawFieldName, number>>;
export interface ScanOp extends OpCommon, PageRange {
  op: 'scan';
  flags: ScanFlagName[];
  category_mask: CategoryMaskName[];
  category_anyof_mask: CategoryMaskName[];
  category_inverted: CategoryMaskName[];
  return_mask: CategoryMaskName[];
  max_pages: number;
  vec_len: number;
  raw?: ScanRawFields;
}
export interface PagemapOp extends OpCommon, PageRange {
  op: 'pagemap';
}
/** mremap(2) of [page, page + pages) to new_pages pages, moved to new_page with `fixed`. */
export interface MremapOp extends OpCommon, PageRange {
  op: 'mremap';
  new_pages: number;
  flags: MremapFlagName[];
  new_page?: number;
}

export interface ClearSoftDirtyOp extends OpCommon {
  op: 'clear_soft_dirty';
}
export interface DevMigrateOp extends OpCommon, PageRange {
  op: 'dev_migrate';
}
export interface DevMigrateBackOp extends OpCommon, PageRange {
  op: 'dev_migrate_back';
}
export interface DevReadOp extends OpCommon, PageRange {
  op: 'dev_read';
}
export interface DevWriteOp extends OpCommon, PageRange {
  op: 'dev_write';
  byte: number;
}
export interface DevSnapshotOp extends OpCommon, PageRange {
  op: 'dev_snapshot';
}

export type ScenarioOp =
  | MmapOp
  | MunmapOp
  | MprotectOp
  | MadviseOp
  | MlockOp
  | MunlockOp
  | WriteOp
  | ReadOp
  | UffdOpenOp
  | UffdRegisterOp
  | UffdUnregisterOp
  | UffdWpOp
  | ScanOp
  | PagemapOp
  | ClearSoftDirtyOp
  | MremapOp
  | DevMigrateOp
  | DevMigrateBackOp
  | DevReadOp
  | DevWriteOp
  | DevSnapshotOp;

/** T with the keys K optional: fields the parser fills with their defaults when a file leaves them out. */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * An op as a scenario file may write it: like {@link ScenarioOp}, with the
 * defaulted fields optional. The JSON Schema (schema/scenario.schema.json)
 * is generated from this type.
 */
export type ScenarioFileOp =
  | WithDefaults<MmapOp, 'map' | 'backing' | 'populate' | 'hugetlb'>
  | MunmapOp
  | MprotectOp
  | MadviseOp
  | MlockOp
  | MunlockOp
  | WithDefaults<WriteOp, 'pages'>
  | WithDefaults<ReadOp, 'pages'>
  | WithDefaults<UffdOpenOp, 'features'>
  | UffdRegisterOp
  | UffdUnregisterOp
  | UffdWpOp
  | WithDefaults<ScanOp, 'flags' | 'category_mask' | 'category_anyof_mask' | 'category_inverted' | 'return_mask' | 'max_pages' | 'vec_len'>
  | PagemapOp
  | ClearSoftDirtyOp
  | WithDefaults<MremapOp, 'flags'>
  | DevMigrateOp
  | DevMigrateBackOp
  | DevReadOp
  | DevWriteOp
  | DevSnapshotOp;

/** A scenario file as written (see docs/SCENARIO.md); parseScenario turns it into a {@link Scenario}. */
export interface ScenarioFile {
  /** The JSON Schema of the format, for editors (ignored by the parser). */
  $schema?: string;
  name: string;
  arena_pages: number;
  profile?: ScenarioProfile;
  known_failing?: string;
  ops: ScenarioFileOp[];
}

/** The op of a given name. */
export type ScenarioOpOf<Name extends OpName> = Extract<ScenarioOp, { op: Name }>;

/** One handled userfaultfd fault in a result. */
export interface UffdFault {
  page: number;
  flags: UffdFaultFlagName[];
}

/** `[start, end, categories]`, bounds in pages relative to the arena base. */
export type ScanRegion = [start: number, end: number, categories: CategoryName[]];

/**
 * One op's result. Every result has `op` and then `ret` (with `errno` when
 * it is -1), or `signal` + `page`, or `unsupported: true` when the runner
 * cannot execute the op.
 */
export interface OpResult {
  op: OpName;
  ret?: number;
  errno?: string;
  signal?: SignalName;
  /** The faulting page of a signal; for `mremap`, the new start (null: placed outside the arena). */
  page?: number | null;
  bytes?: number[];
  uffd?: UffdFault[];
  walk_end?: number;
  regions?: ScanRegion[];
  /** `pagemap`: flags per page; `dev_snapshot`: device flags per page. */
  entries?: (PagemapFlagName | DeviceSnapshotName)[][];
  migrated?: number;
  unsupported?: true;
}

/** The `expect` of an op: the result fields to check (a partial result). */
export type ExpectedResult = Partial<OpResult>;

/** The order of fields when a result is printed. */
export const RESULT_FIELD_ORDER = [
  'op',
  'ret',
  'errno',
  'signal',
  'page',
  'bytes',
  'migrated',
  'walk_end',
  'regions',
  'entries',
  'uffd',
  'unsupported',
] as const satisfies readonly (keyof OpResult)[];
