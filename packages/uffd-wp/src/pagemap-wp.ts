/**
 * The page-table writes of PAGEMAP_SCAN's PM_SCAN_WP_MATCHING (core-walk's
 * UffdWpRange token): fs/proc/task_mmu.c's make_uffd_wp_pte,
 * make_uffd_wp_pmd and make_uffd_wp_huge_pte, the uffd_wp_range call of
 * pagemap_scan_pte_hole and the split_huge_pmd of pagemap_scan_thp_entry.
 * They live here, with the rest of the uffd-wp table code, so that
 * pagemap-scan only reads page tables.
 *
 * make_uffd_wp_pte is not uffd_wp_range on one page: it leaves a writable
 * migration entry writable and sets the swap uffd-wp bit on any swap-type
 * entry, PTE markers included (uffd_wp_range leaves guard and poison
 * markers alone).
 */
import {
  isHwpoisonEntry,
  isMigrationEntry,
  isPteMarker,
  isTableEntry,
  makeUffdWpMarker,
  PTE_FLAG_BYTE_VALUES,
  pteFlagByte,
  ptePresent,
  pteReplaceFlagByte,
  pteWithFlagByte,
  pteMkuffdWp,
  pteSwpMkuffdWp,
  pteSwpUffdWpAny,
  pteUffdWp,
  type Mm,
  type UffdWpRange,
  type Vma,
} from '@pagewalk/core-walk';
import { uffdWpRange } from './wp-range.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { splitHugePmd: mmSplitHugePmd, tablesOf } = claimMmInternal();

/** make_uffd_wp_pte's new value: present → uffd-wp bit, swap-type → swap uffd-wp bit, none → marker. */
function uffdWpPteValue(entry: number): number {
  if (ptePresent(entry)) return pteMkuffdWp(entry);
  if (entry !== 0) return pteSwpMkuffdWp(entry);
  return makeUffdWpMarker();
}

/** WP_BYTE answers: the entry is protected already. */
const WP_KEEP = 0x100;
/** WP_BYTE answers: the flag byte does not decide (none, PTE markers): take the general path. */
const WP_SLOW = 0x200;

/**
 * make_uffd_wp_pte per flag byte: the new flag byte, WP_KEEP or WP_SLOW.
 * Setting a uffd-wp bit (and write-protecting) changes only the flag byte
 * of a present or swap-type entry, so the byte decides the result; none
 * entries become markers and markers keep their kind in the offset, so
 * both take the general path. The scan hands over one run per written
 * page (every other page in the GetWriteWatch pattern): a table lookup per
 * entry keeps this pass near the cost of the in-place flip it replaces.
 */
const WP_BYTE = (() => {
  const table = new Uint16Array(PTE_FLAG_BYTE_VALUES);
  for (let byte = 0; byte < PTE_FLAG_BYTE_VALUES; byte++) {
    const rep = pteWithFlagByte(byte);
    if (byte === 0 || isPteMarker(rep)) table[byte] = WP_SLOW;
    else if (ptePresent(rep) ? pteUffdWp(rep) : pteSwpUffdWpAny(rep)) table[byte] = WP_KEEP;
    else {
      const next = uffdWpPteValue(rep) >>> 0;
      table[byte] = next >>> 8 === rep >>> 8 ? pteFlagByte(next) : WP_SLOW;
    }
  }
  return table;
})();

/** make_uffd_wp_pte on every entry of the runs that is not pte_uffd_wp / pte_swp_uffd_wp_any yet. */
function wpPtes(mm: Mm, _vma: Vma, addr: number, runs: Int32Array, runCount: number): number {
  if (runCount === 0) return 0;
  const first = mm.pteSlot(addr, false);
  if (first < 0) return 0;
  // Nothing below allocates: the view stays the pool's array for the loop.
  // eslint-disable-next-line no-restricted-syntax -- no allocation until its last use
  const entries = tablesOf(mm.kernel).entries;
  let changed = 0;
  for (let k = 0; k < runCount; k++) {
    const end = first + runs[2 * k + 1]!;
    for (let slot = first + runs[2 * k]!; slot < end; slot++) {
      const entry = entries[slot]!;
      const byte = WP_BYTE[pteFlagByte(entry)]!;
      if (byte === WP_KEEP) continue;
      if (byte !== WP_SLOW) entries[slot] = pteReplaceFlagByte(entry, byte);
      else if (ptePresent(entry) ? pteUffdWp(entry) : pteSwpUffdWpAny(entry)) continue;
      else entries[slot] = uffdWpPteValue(entry) >>> 0;
      changed++;
    }
  }
  return changed;
}

function wpPmd(mm: Mm, _vma: Vma, addr: number): void {
  const slot = mm.pmdSlot(addr, false);
  if (slot < 0) return;
  const pmd = tablesOf(mm.kernel).entries[slot]!;
  if (ptePresent(pmd)) tablesOf(mm.kernel).entries[slot] = pteMkuffdWp(pmd) >>> 0;
  else if (isMigrationEntry(pmd)) tablesOf(mm.kernel).entries[slot] = pteSwpMkuffdWp(pmd) >>> 0;
}

function wpHugePte(mm: Mm, _vma: Vma, addr: number): void {
  const slot = mm.pmdSlot(addr, false);
  if (slot < 0) return;
  const entry = tablesOf(mm.kernel).entries[slot]!;
  if (isHwpoisonEntry(entry) || isPteMarker(entry)) return;
  let next: number;
  if (isMigrationEntry(entry)) next = pteSwpMkuffdWp(entry);
  else if (entry !== 0) next = pteMkuffdWp(entry);
  else next = makeUffdWpMarker();
  tablesOf(mm.kernel).entries[slot] = next >>> 0;
}

function splitHugePmd(mm: Mm, vma: Vma, addr: number): void {
  const slot = mm.pmdSlot(addr, false);
  if (slot < 0) return;
  const pmd = tablesOf(mm.kernel).entries[slot]!;
  if (pmd === 0 || isTableEntry(pmd)) return;
  mmSplitHugePmd(mm, vma, slot, addr);
}

/** What uffd-wp registers under UffdWpRangeToken. */
export const pagemapWpOps: UffdWpRange = Object.freeze({
  wpRange: (mm: Mm, vma: Vma, start: number, len: number, protect: boolean) => uffdWpRange(mm, vma, start, start + len, protect),
  wpPtes,
  wpPmd,
  wpHugePte,
  splitHugePmd,
});
