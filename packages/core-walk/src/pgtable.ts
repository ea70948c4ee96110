/**
 * Present page-table entries: the only module that knows their bit layout.
 *
 * Every table (PGD, P4D, PUD, PMD, PTE) is a slice of 512 `u32` entries in
 * one `Uint32Array` pool (see page-table.ts). An entry is a plain number
 * branded by level so that a PTE cannot be passed where a PMD is expected.
 *
 *   present leaf (bit 0 = 1, bit 7 = 0 at PTE level, 1 at PMD/PUD level):
 *     31 ............ 8 | 7    | 6       | 5       | 4          | 3        | 2     | 1     | 0
 *     pfn (24 bits)     | huge | special | uffd_wp | soft_dirty | accessed | dirty | write | present
 *   table pointer (PGD/P4D/PUD/PMD, bit 0 = 1, bit 7 = 0):
 *     31 ............ 8 | 7 = 0 | 6..1 = 0 | 0 = 1
 *     table id          |
 *   none: 0. Non-present non-none entries are laid out in swapops.ts.
 *
 * 24 bits of pfn address 2^24 frames = 64 GiB of simulated RAM, enough for
 * every benchmark layout (the largest populates 4 GiB); one u32 per PTE keeps
 * page-table metadata at 4 bytes per page.
 *
 * "special" marks a PTE whose pfn has no struct-page owner to account
 * (the shared zero page and PFN maps): the kernel's vm_normal_page() is NULL.
 * x86 keeps write permission and uffd-wp apart; a uffd-wp PTE is never
 * writable (pte_mkuffd_wp also write-protects).
 */
export type Pte = number & { readonly __level?: 'pte' };
export type Pmd = number & { readonly __level?: 'pmd' };
export type Pud = number & { readonly __level?: 'pud' };
export type P4d = number & { readonly __level?: 'p4d' };
export type Pgd = number & { readonly __level?: 'pgd' };
/** Any entry, whatever its level. */
export type PageTableEntry = Pte | Pmd | Pud | P4d | Pgd;

export const PTE_PRESENT = 1 << 0;
export const PTE_WRITE = 1 << 1;
export const PTE_DIRTY = 1 << 2;
export const PTE_ACCESSED = 1 << 3;
export const PTE_SOFT_DIRTY = 1 << 4;
export const PTE_UFFD_WP = 1 << 5;
export const PTE_SPECIAL = 1 << 6;
export const PTE_HUGE = 1 << 7;
const FLAG_BITS = 8;
const FLAG_MASK = (1 << FLAG_BITS) - 1;
/** Largest pfn an entry can hold. */
export const MAX_PFN = 2 ** (32 - FLAG_BITS) - 1;

export const pteNone = (e: PageTableEntry): boolean => e === 0;
export const ptePresent = (e: PageTableEntry): boolean => (e & PTE_PRESENT) !== 0;
export const pteWrite = (e: PageTableEntry): boolean => (e & PTE_WRITE) !== 0;
export const pteDirty = (e: PageTableEntry): boolean => (e & PTE_DIRTY) !== 0;
export const pteYoung = (e: PageTableEntry): boolean => (e & PTE_ACCESSED) !== 0;
export const pteSoftDirty = (e: PageTableEntry): boolean => (e & PTE_SOFT_DIRTY) !== 0;
export const pteUffdWp = (e: PageTableEntry): boolean => (e & PTE_UFFD_WP) !== 0;
export const pteSpecial = (e: PageTableEntry): boolean => (e & PTE_SPECIAL) !== 0;
export const ptePfn = (e: PageTableEntry): number => e >>> FLAG_BITS;
export const pteFlags = (e: PageTableEntry): number => e & FLAG_MASK;
/**
 * The flag byte of any entry, present or swap-type: swapops.ts keeps a
 * swap-type entry's type and flags in the same low byte, so the byte holds
 * everything but the pfn / swap offset. Readers that decide by flags alone
 * can index a PTE_FLAG_BYTE_VALUES-entry table with it.
 */
export const pteFlagByte = (e: PageTableEntry): number => e & FLAG_MASK;
/** How many flag bytes there are (256). */
export const PTE_FLAG_BYTE_VALUES = 1 << FLAG_BITS;
/**
 * An entry with flag byte `byte` and pfn / swap offset 1: a representative
 * for code that tabulates decisions per flag byte (offset 0 would make the
 * all-zero byte the none entry).
 */
export const pteWithFlagByte = (byte: number): PageTableEntry => ((1 << FLAG_BITS) | (byte & FLAG_MASK)) >>> 0;
/** `e` with its flag byte replaced by `byte` (pfn / swap offset kept): applies a per-flag-byte table's answer. */
export const pteReplaceFlagByte = <E extends PageTableEntry>(e: E, byte: number): E => (((e & ~FLAG_MASK) | (byte & FLAG_MASK)) >>> 0) as E;

/** A present leaf mapping `pfn` with the given PTE_* flag bits. */
export function mkPte(pfn: number, flags: number): Pte {
  return ((pfn * 256 + ((flags | PTE_PRESENT) & FLAG_MASK)) >>> 0) as Pte;
}
export const pteSetFlags = <E extends PageTableEntry>(e: E, flags: number): E => ((e | flags) >>> 0) as E;
export const pteClearFlags = <E extends PageTableEntry>(e: E, flags: number): E => ((e & ~flags) >>> 0) as E;
export const pteMkwrite = <E extends PageTableEntry>(e: E): E => pteSetFlags(e, PTE_WRITE);
export const pteWrprotect = <E extends PageTableEntry>(e: E): E => pteClearFlags(e, PTE_WRITE);
export const pteMkdirty = <E extends PageTableEntry>(e: E): E => pteSetFlags(e, PTE_DIRTY);
export const pteMkclean = <E extends PageTableEntry>(e: E): E => pteClearFlags(e, PTE_DIRTY);
export const pteMkyoung = <E extends PageTableEntry>(e: E): E => pteSetFlags(e, PTE_ACCESSED);
export const pteMkold = <E extends PageTableEntry>(e: E): E => pteClearFlags(e, PTE_ACCESSED);
export const pteMksoftDirty = <E extends PageTableEntry>(e: E): E => pteSetFlags(e, PTE_SOFT_DIRTY);
export const pteClearSoftDirty = <E extends PageTableEntry>(e: E): E => pteClearFlags(e, PTE_SOFT_DIRTY);
/** Sets uffd-wp; on x86 this also removes write permission. */
export const pteMkuffdWp = <E extends PageTableEntry>(e: E): E => ((e & ~PTE_WRITE) | PTE_UFFD_WP) >>> 0 as E;
export const pteClearUffdWp = <E extends PageTableEntry>(e: E): E => pteClearFlags(e, PTE_UFFD_WP);

/* ---- upper levels ---- */

/** A present PMD or PUD that is a leaf (THP, huge zero page, hugetlb) rather than a table. */
export const pmdLeaf = (e: PageTableEntry): boolean => (e & (PTE_PRESENT | PTE_HUGE)) === (PTE_PRESENT | PTE_HUGE);
/** A present upper-level entry pointing at a lower table. */
export const isTableEntry = (e: PageTableEntry): boolean => (e & (PTE_PRESENT | PTE_HUGE)) === PTE_PRESENT;
export const mkTableEntry = <E extends PageTableEntry>(tableId: number): E => ((tableId * 256 + PTE_PRESENT) >>> 0) as E;
export const tableIdOf = (e: PageTableEntry): number => e >>> FLAG_BITS;
/** A PMD/PUD leaf mapping the folio whose head frame is `pfn`. */
export const mkHugeLeaf = <E extends PageTableEntry>(pfn: number, flags: number): E =>
  mkPte(pfn, flags | PTE_HUGE) as number as E;
