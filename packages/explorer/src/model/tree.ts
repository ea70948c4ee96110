// The page-table tree under one address: PGD -> P4D -> PUD -> PMD -> PTE,
// each entry decoded with core-walk's pgtable.ts / swapops.ts helpers, and
// the folio and swap slot behind the leaf.
import {
  P4D_SHIFT,
  PG_ALLOCATED, PG_ANON, PG_SWAPBACKED, PG_LRU, PG_LOCKED, PG_DIRTY, PG_HEAD, PG_TAIL, PG_ZONE_DEVICE,
  PG_ZERO, PG_HUGETLB, PG_MLOCKED, PG_REFERENCED, PG_ISOLATED, PG_ANON_EXCLUSIVE, PG_PAGECACHE,
  PMD_SHIFT,
  PTRS_PER_TABLE,
  PUD_SHIFT,
  PTE_MARKER_GUARD, PTE_MARKER_POISONED, PTE_MARKER_UFFD_WP,
  SWP_DEVICE_EXCLUSIVE, SWP_DEVICE_READ, SWP_DEVICE_WRITE, SWP_HWPOISON, SWP_MIGRATION_READ, SWP_MIGRATION_READ_EXCLUSIVE,
  SWP_MIGRATION_WRITE, SWP_PTE_MARKER, MAX_SWAPFILES,
  isPteMarker,
  isRealSwapEntry,
  isSwapPte,
  isTableEntry,
  pmdLeaf,
  pteDirty,
  ptePfn,
  ptePresent,
  pteSoftDirty,
  pteSpecial,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteUffdWp,
  pteWrite,
  pteYoung,
  pteMarkerBits,
  swpOffset,
  swpType,
  tableIdOf,
  tableIndex,
  type Kernel,
  type Mm,
} from '@pagewalk/core-walk';

export type LevelName = 'PGD' | 'P4D' | 'PUD' | 'PMD' | 'PTE';

export interface DecodedEntry {
  readonly level: LevelName;
  /** Index of the entry in its table, and the table's id in the pool. */
  readonly index: number;
  readonly table: number;
  readonly raw: number;
  /** 'none', 'table', 'leaf', 'huge leaf', 'swap', 'migration', 'device-private', 'marker', ... */
  readonly kind: string;
  /** Decoded fields, in layout order. */
  readonly fields: readonly (readonly [string, string | number | boolean])[];
  /** For a folded P4D (4-level paging): the PGD entry stands for it. */
  readonly folded?: boolean;
}

export interface FolioInfo {
  readonly pfn: number;
  readonly head: number;
  readonly order: number;
  readonly refcount: number;
  readonly mapcount: number;
  readonly folioMapcount: number;
  readonly flags: readonly string[];
}

export interface TreeInfo {
  readonly address: number;
  readonly levels: readonly DecodedEntry[];
  readonly folio: FolioInfo | null;
  readonly swap: { readonly type: number; readonly slot: number; readonly count: number } | null;
}

const PAGE_FLAG_NAMES: readonly [number, string][] = [
  [PG_ALLOCATED, 'allocated'], [PG_ANON, 'anon'], [PG_SWAPBACKED, 'swapbacked'], [PG_LRU, 'lru'], [PG_LOCKED, 'locked'],
  [PG_DIRTY, 'dirty'], [PG_HEAD, 'head'], [PG_TAIL, 'tail'], [PG_ZONE_DEVICE, 'zone_device'], [PG_ZERO, 'zero'],
  [PG_HUGETLB, 'hugetlb'], [PG_MLOCKED, 'mlocked'], [PG_REFERENCED, 'referenced'], [PG_ISOLATED, 'isolated'],
  [PG_ANON_EXCLUSIVE, 'anon_exclusive'], [PG_PAGECACHE, 'pagecache'],
];

export function swapTypeName(type: number): string {
  if (type < MAX_SWAPFILES) return `swap device ${type}`;
  switch (type) {
    case SWP_HWPOISON: return 'SWP_HWPOISON';
    case SWP_MIGRATION_READ: return 'SWP_MIGRATION_READ';
    case SWP_MIGRATION_READ_EXCLUSIVE: return 'SWP_MIGRATION_READ_EXCLUSIVE';
    case SWP_MIGRATION_WRITE: return 'SWP_MIGRATION_WRITE';
    case SWP_DEVICE_WRITE: return 'SWP_DEVICE_WRITE';
    case SWP_DEVICE_READ: return 'SWP_DEVICE_READ';
    case SWP_DEVICE_EXCLUSIVE: return 'SWP_DEVICE_EXCLUSIVE';
    case SWP_PTE_MARKER: return 'SWP_PTE_MARKER';
    default: return `type ${type}`;
  }
}

function swapKindName(type: number): string {
  if (type < MAX_SWAPFILES) return 'swap';
  if (type === SWP_PTE_MARKER) return 'marker';
  if (type >= SWP_MIGRATION_READ && type <= SWP_MIGRATION_WRITE) return 'migration';
  if (type === SWP_DEVICE_READ || type === SWP_DEVICE_WRITE) return 'device-private';
  if (type === SWP_DEVICE_EXCLUSIVE) return 'device-exclusive';
  return 'hwpoison';
}

/** Decodes one entry of a level. */
export function decodeEntry(level: LevelName, entry: number): Pick<DecodedEntry, 'kind' | 'fields'> {
  if (entry === 0) return { kind: 'none', fields: [] };
  if (isSwapPte(entry)) {
    const type = swpType(entry);
    const fields: [string, string | number | boolean][] = [
      ['present', false],
      ['type', `${type} (${swapTypeName(type)})`],
      [type < MAX_SWAPFILES ? 'offset (slot)' : type === SWP_PTE_MARKER ? 'marker bits' : 'pfn', swpOffset(entry)],
      ['swp_soft_dirty', pteSwpSoftDirty(entry)],
      ['swp_uffd_wp', pteSwpUffdWp(entry)],
    ];
    if (isPteMarker(entry)) {
      const bits = pteMarkerBits(entry);
      const names = [bits & PTE_MARKER_UFFD_WP ? 'UFFD_WP' : '', bits & PTE_MARKER_POISONED ? 'POISONED' : '', bits & PTE_MARKER_GUARD ? 'GUARD' : ''].filter(Boolean);
      fields.push(['markers', names.join(' | ')]);
    }
    return { kind: swapKindName(type), fields };
  }
  if (level !== 'PTE' && isTableEntry(entry)) return { kind: 'table', fields: [['present', true], ['table id', tableIdOf(entry)]] };
  const fields: [string, string | number | boolean][] = [
    ['present', ptePresent(entry)],
    ['write', pteWrite(entry)],
    ['dirty', pteDirty(entry)],
    ['accessed', pteYoung(entry)],
    ['soft_dirty', pteSoftDirty(entry)],
    ['uffd_wp', pteUffdWp(entry)],
    ['special', pteSpecial(entry)],
    ['huge', level !== 'PTE' && pmdLeaf(entry)],
    ['pfn', ptePfn(entry)],
  ];
  return { kind: level !== 'PTE' && pmdLeaf(entry) ? 'huge leaf' : 'leaf', fields };
}

export function folioInfo(kernel: Kernel, pfn: number): FolioInfo | null {
  const frames = kernel.frames;
  if (pfn <= 0 || pfn >= frames.capacityFrames || !frames.isAllocated(pfn)) return null;
  const head = frames.folioOf(pfn);
  const pages = frames.folioPages(head);
  const flags = frames.flags[head]!;
  return {
    pfn,
    head,
    order: Math.round(Math.log2(pages)),
    refcount: frames.refcount[head]!,
    mapcount: frames.pageMapcount(pfn),
    folioMapcount: frames.folioMapcount(head),
    flags: PAGE_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name),
  };
}

/** Walks the tables under `address` by hand (read only), top to bottom. */
export function pageTableTree(kernel: Kernel, mm: Mm, address: number): TreeInfo {
  // Read only: nothing here allocates a table, so the view stays current.
  // eslint-disable-next-line no-restricted-syntax
  const entries = kernel.tables.entries;
  const fiveLevel = mm.geometry.levels === 5;
  const steps: [LevelName, number][] = fiveLevel
    ? [['PGD', mm.geometry.pgdShift], ['P4D', P4D_SHIFT], ['PUD', PUD_SHIFT], ['PMD', PMD_SHIFT], ['PTE', 12]]
    : [['PGD', mm.geometry.pgdShift], ['PUD', PUD_SHIFT], ['PMD', PMD_SHIFT], ['PTE', 12]];
  const levels: DecodedEntry[] = [];
  let table = mm.pgd;
  let leaf = 0;
  for (const [level, shift] of steps) {
    const index = tableIndex(address, shift);
    const raw = entries[table * PTRS_PER_TABLE + index]! >>> 0;
    const decoded: DecodedEntry = { level, index, table, raw, ...decodeEntry(level, raw) };
    levels.push(decoded);
    if (!fiveLevel && level === 'PGD') levels.push({ ...decoded, level: 'P4D', folded: true });
    if (level !== 'PTE' && isTableEntry(raw)) {
      table = tableIdOf(raw);
      continue;
    }
    leaf = raw;
    break;
  }
  let folio: FolioInfo | null = null;
  let swap: TreeInfo['swap'] = null;
  const last = levels.at(-1)!;
  if (leaf !== 0 && !isSwapPte(leaf)) {
    let pfn = ptePfn(leaf);
    if (last.level !== 'PTE') pfn += Math.floor(address / 4096) % PTRS_PER_TABLE;
    folio = folioInfo(kernel, pfn);
  } else if (isRealSwapEntry(leaf)) {
    const slot = swpOffset(leaf);
    swap = { type: swpType(leaf), slot, count: kernel.swap?.count(slot) ?? 0 };
  } else if (isSwapPte(leaf) && swpType(leaf) >= SWP_HWPOISON && swpType(leaf) <= SWP_DEVICE_EXCLUSIVE && swpType(leaf) !== SWP_DEVICE_READ && swpType(leaf) !== SWP_DEVICE_WRITE) {
    folio = folioInfo(kernel, swpOffset(leaf));
  }
  return { address, levels, folio, swap };
}
