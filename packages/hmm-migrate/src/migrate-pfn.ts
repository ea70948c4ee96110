/**
 * The `src` / `dst` entries of a device migration (include/linux/migrate.h):
 * a pfn shifted up by MIGRATE_PFN_SHIFT with flag bits below it. Pfns fit
 * in 24 bits, so every entry fits in a u32 and lives in a Uint32Array.
 */

/** The entry holds a pfn. */
export const MIGRATE_PFN_VALID = 1 << 0;
/** The entry is (still) being migrated. */
export const MIGRATE_PFN_MIGRATE = 1 << 1;
/** The source mapping was writable, or the destination should be. */
export const MIGRATE_PFN_WRITE = 1 << 3;
export const MIGRATE_PFN_SHIFT = 6;
const PFN_MULTIPLIER = 2 ** MIGRATE_PFN_SHIFT;

/** migrate_pfn(): a VALID entry for `pfn`. */
export const migratePfn = (pfn: number): number => pfn * PFN_MULTIPLIER + MIGRATE_PFN_VALID;

/** migrate_pfn_to_page(): the pfn of a VALID entry, 0 (no page) otherwise. */
export const migratePfnToPfn = (entry: number): number => ((entry & MIGRATE_PFN_VALID) !== 0 ? entry >>> MIGRATE_PFN_SHIFT : 0);

/** enum migrate_vma_direction: which pages migrate_vma_setup selects. */
export const MigrateVmaSelect = {
  System: 1 << 0,
  DevicePrivate: 1 << 1,
  /** Device-coherent memory is not modelled; the bit is accepted and selects nothing. */
  DeviceCoherent: 1 << 2,
} as const;
export type MigrateVmaSelect = (typeof MigrateVmaSelect)[keyof typeof MigrateVmaSelect];
