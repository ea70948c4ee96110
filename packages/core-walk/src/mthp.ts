/**
 * Anonymous multi-size THP (mTHP): large folios of order 2..8 (16 KiB to
 * 1 MiB) mapped by PTEs. The per-size sysfs modes (profile `mthp`), the
 * orders a VMA allows (__thp_vma_allowable_orders with the sysfs modes
 * enforced, thp_vma_suitable_orders), and the two places that allocate such
 * folios: the anonymous fault (alloc_anon_folio) and the synchronous swap-in
 * of zram (alloc_swap_folio). The PMD order (9) stays with fault.ts's PMD
 * path: both helpers here work below it, as the kernel's do.
 *
 * Everything else a large folio meets is the generic large-folio code
 * (frames.ts keeps the order, splitFolio splits any order; zap, reclaim,
 * MADV_FREE / COLD / PAGEOUT, guard, uffd-wp and pagemap work per PTE).
 */
import { FRAMES, TABLES } from './readonly-pools.js';
import { NO_FRAME, PG_ANON, PG_ANON_EXCLUSIVE, PG_LRU, PG_SWAPBACKED } from './frames.js';
import { PAGE_SIZE, PTRS_PER_TABLE, tableIndex } from './geometry.js';
import type { Mm } from './mm.js';
import type { KernelProfile } from './profile.js';
import { PTE_ACCESSED, PTE_DIRTY, PTE_SOFT_DIRTY, PTE_UFFD_WP, PTE_WRITE, mkPte } from './pgtable.js';
import { isRealSwapEntry, isSwapPte, pteSwpSoftDirty, pteSwpUffdWp, swpOffset } from './swapops.js';
import { FAULT_FLAG_WRITE, VM_FAULT_FALLBACK } from './uapi.js';
import { VM_HUGEPAGE, VM_NOHUGEPAGE, VM_UFFD_FLAGS, VM_UFFD_WP, VM_WRITE, type Vma } from './vma.js';
import { traceMm } from './trace.js';

/** A per-size mode, as in hugepages-<size>/enabled. */
export type MthpMode = 'always' | 'inherit' | 'madvise' | 'never';
/** The anonymous folio sizes of x86-64 with 4 KiB pages: orders 2..9. */
export const MTHP_SIZES = ['16kB', '32kB', '64kB', '128kB', '256kB', '512kB', '1024kB', '2048kB'] as const;
export type MthpSize = (typeof MTHP_SIZES)[number];

const MTHP_MODES = new Set<string>(['always', 'inherit', 'madvise', 'never']);
const PMD_ORDER = 9;
/** Orders 2..8: the PTE-mapped sizes this module allocates. */
const BELOW_PMD = ((1 << PMD_ORDER) - 1) & ~3;

/** Checks a profile's `mthp` value; a message naming the bad field, or null. */
export function mthpProfileError(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'profile.mthp must be an object of size → mode';
  for (const [size, mode] of Object.entries(value)) {
    if (!(MTHP_SIZES as readonly string[]).includes(size)) return `profile.mthp: unknown size "${size}" (16kB … 2048kB)`;
    if (!MTHP_MODES.has(mode as string)) return `profile.mthp.${size} must be always, inherit, madvise or never`;
  }
  return null;
}

/** huge_anon_orders_always / _madvise / _inherit as bit masks of orders. */
interface OrderMasks {
  readonly always: number;
  readonly madvise: number;
  readonly inherit: number;
}

let cachedProfile: KernelProfile | null = null;
let cachedMasks: OrderMasks = { always: 0, madvise: 0, inherit: 1 << PMD_ORDER };

function orderMasks(profile: KernelProfile): OrderMasks {
  if (profile === cachedProfile) return cachedMasks;
  let always = 0;
  let madvise = 0;
  let inherit = 0;
  for (let i = 0; i < MTHP_SIZES.length; i++) {
    const size = MTHP_SIZES[i]!;
    const order = i + 2;
    const mode = profile.mthp[size] ?? (order === PMD_ORDER ? 'inherit' : 'never');
    if (mode === 'always') always |= 1 << order;
    else if (mode === 'madvise') madvise |= 1 << order;
    else if (mode === 'inherit') inherit |= 1 << order;
  }
  cachedProfile = profile;
  cachedMasks = { always, madvise, inherit };
  return cachedMasks;
}

/** Whether any size below the PMD size may be enabled for some VMA (the fault hook's quick test). */
export function mthpConfigured(profile: KernelProfile): boolean {
  const masks = orderMasks(profile);
  return ((masks.always | masks.madvise | (profile.thp === 'never' ? 0 : masks.inherit)) & BELOW_PMD) !== 0;
}

/**
 * __thp_vma_allowable_orders for an anonymous VMA at fault time (sysfs
 * enforced), restricted to the orders below PMD: `always` sizes, `madvise`
 * sizes in a MADV_HUGEPAGE VMA, `inherit` sizes where the top-level mode
 * would allow a THP. VM_NOHUGEPAGE allows none.
 */
export function allowableAnonOrders(profile: KernelProfile, vmaFlags: number): number {
  if ((vmaFlags & VM_NOHUGEPAGE) !== 0) return 0;
  const masks = orderMasks(profile);
  const advised = (vmaFlags & VM_HUGEPAGE) !== 0;
  let mask = masks.always;
  if (advised) mask |= masks.madvise;
  if (profile.thp === 'always' || (advised && profile.thp === 'madvise')) mask |= masks.inherit;
  return mask & BELOW_PMD;
}

/** thp_vma_suitable_orders: the orders whose naturally aligned block around `addr` lies inside the VMA. */
function suitableOrders(vma: Vma, addr: number, orders: number): number {
  let out = 0;
  for (let order = PMD_ORDER - 1; order >= 2; order--) {
    if ((orders & (1 << order)) === 0) continue;
    const size = PAGE_SIZE << order;
    const start = addr - (addr % size);
    if (start >= vma.start && start + size <= vma.end) out |= 1 << order;
  }
  return out;
}

/**
 * alloc_anon_folio + the large-folio half of do_anonymous_page, for a
 * fault on the empty PTE at `slot` (mapping `addr`) that needs a fresh
 * page. Picks the highest allowed order whose aligned block fits the VMA
 * and has only empty PTEs (markers count as entries), allocates it (a
 * lower order when that fails) and maps every page of it, exclusive, with
 * the bits an order-0 fault would give. Not in a VMA registered with
 * userfaultfd (userfaultfd_armed). VM_FAULT_FALLBACK: map one page instead.
 */
export function doAnonymousLarge(mm: Mm, vma: Vma, addr: number, slot: number): number {
  const profile = mm.kernel.profile;
  if ((vma.flags & VM_UFFD_FLAGS) !== 0) return VM_FAULT_FALLBACK;
  let orders = suitableOrders(vma, addr, allowableAnonOrders(profile, vma.flags));
  if (orders === 0) return VM_FAULT_FALLBACK;
  // eslint-disable-next-line no-restricted-syntax -- no page table is allocated while this view is used (frame allocation grows only the frame arrays)
  const entries = mm.kernel[TABLES].entries;
  const index = tableIndex(addr, 12);
  // The highest order whose block is all pte_none; lower ones are tried only if allocation fails.
  for (let order = PMD_ORDER - 1; order >= 2; order--) {
    if ((orders & (1 << order)) === 0) continue;
    const nr = 1 << order;
    const first = slot - (index % nr);
    let none = true;
    for (let i = 0; i < nr; i++) {
      if (entries[first + i] !== 0) {
        none = false;
        break;
      }
    }
    if (none) break;
    orders &= ~(1 << order);
  }
  const frames = mm.kernel[FRAMES];
  for (let order = PMD_ORDER - 1; order >= 2; order--) {
    if ((orders & (1 << order)) === 0) continue;
    const head = frames.alloc(order, PG_ANON | PG_SWAPBACKED | PG_LRU);
    if (head === NO_FRAME) continue;
    const nr = 1 << order;
    let bits = PTE_ACCESSED | PTE_DIRTY | (profile.softDirty ? PTE_SOFT_DIRTY : 0);
    if ((vma.flags & VM_WRITE) !== 0) bits |= PTE_WRITE;
    if (mm.kernel.tracer !== null) traceMm(mm.kernel, { type: 'fault', fn: 'alloc_anon_folio', addr: addr - (index % nr) * PAGE_SIZE, end: addr - (index % nr) * PAGE_SIZE + nr * PAGE_SIZE, result: 'folio', pfn: head, order });
    const first = slot - (index % nr);
    mapLargeFolio(mm, first, head, nr, bits);
    return 0;
  }
  return VM_FAULT_FALLBACK;
}

/** Maps all `nr` pages of the fresh exclusive folio `head` from `first` on: one reference and one mapcount per PTE. */
function mapLargeFolio(mm: Mm, first: number, head: number, nr: number, bits: number): void {
  const frames = mm.kernel[FRAMES];
  // eslint-disable-next-line no-restricted-syntax -- no page table is allocated while this view is used (frame allocation grows only the frame arrays)
  const entries = mm.kernel[TABLES].entries;
  for (let i = 0; i < nr; i++) {
    frames.set(head + i, PG_ANON_EXCLUSIVE);
    frames.mapcount[head + i] = 1;
    entries[first + i] = mkPte(head + i, bits);
  }
  frames.refcount[head] = nr;
}

/**
 * do_swap_page's large-folio swap-in (alloc_swap_folio), only on a
 * synchronous device (zram) and for an entry no one else holds: the
 * highest allowed order whose aligned block fits the VMA, whose swap
 * offset has the same alignment as the address (thp_swap_suitable_orders),
 * and whose PTEs are all swap entries of consecutive slots with the same
 * soft-dirty / uffd-wp bits (can_swapin_thp). The folio comes back whole,
 * mapped as do_swap_page maps an exclusive page. VM_FAULT_FALLBACK: swap
 * in one page instead.
 */
export function swapInLarge(mm: Mm, vma: Vma, addr: number, slot: number, flags: number): number {
  const kernel = mm.kernel;
  const swap = kernel.swap;
  if (swap === null || kernel.profile.swapDevice !== 'zram') return VM_FAULT_FALLBACK;
  if ((vma.flags & VM_UFFD_FLAGS) !== 0) return VM_FAULT_FALLBACK;
  const orders = suitableOrders(vma, addr, allowableAnonOrders(kernel.profile, vma.flags));
  if (orders === 0) return VM_FAULT_FALLBACK;
  // eslint-disable-next-line no-restricted-syntax -- no page table is allocated while this view is used (frame allocation grows only the frame arrays)
  const entries = kernel[TABLES].entries;
  const entry = entries[slot]!;
  const offset = swpOffset(entry);
  if (swap.count(offset) !== 1) return VM_FAULT_FALLBACK;
  const page = Math.floor(addr / PAGE_SIZE);
  const index = page % PTRS_PER_TABLE;
  const sameBits = (e: number): boolean => pteSwpSoftDirty(e) === pteSwpSoftDirty(entry) && pteSwpUffdWp(e) === pteSwpUffdWp(entry);
  for (let order = PMD_ORDER - 1; order >= 2; order--) {
    if ((orders & (1 << order)) === 0) continue;
    const nr = 1 << order;
    if (page % nr !== offset % nr) continue;
    const first = slot - (index % nr);
    const firstOffset = offset - (index % nr);
    let ok = true;
    for (let i = 0; i < nr && ok; i++) {
      const e = entries[first + i]!;
      ok = isSwapPte(e) && isRealSwapEntry(e) && swpOffset(e) === firstOffset + i && swap.count(firstOffset + i) === 1 && sameBits(e);
    }
    if (!ok) continue;
    const frames = kernel[FRAMES];
    const head = frames.alloc(order, PG_ANON | PG_SWAPBACKED | PG_LRU);
    if (head === NO_FRAME) continue;
    for (let i = 0; i < nr; i++) {
      frames.contents.copyFrom(swap.contents, firstOffset + i, head + i);
      swap.free(firstOffset + i);
    }
    let bits = PTE_ACCESSED;
    if (pteSwpSoftDirty(entry)) bits |= PTE_SOFT_DIRTY;
    const wp = pteSwpUffdWp(entry) && (vma.flags & VM_UFFD_WP) !== 0;
    if (wp) bits |= PTE_UFFD_WP;
    if ((vma.flags & VM_WRITE) !== 0 && !wp) {
      bits |= PTE_WRITE;
      if ((flags & FAULT_FLAG_WRITE) !== 0) bits |= PTE_DIRTY;
    }
    if (kernel.tracer !== null) traceMm(kernel, { type: 'fault', fn: 'alloc_swap_folio', addr: addr - (index % nr) * PAGE_SIZE, end: addr - (index % nr) * PAGE_SIZE + nr * PAGE_SIZE, result: 'swapin', pfn: head, order, slot: firstOffset, device: 'zram' });
    mapLargeFolio(mm, first, head, nr, bits);
    return 0;
  }
  return VM_FAULT_FALLBACK;
}
