import { mthpProfileError, type MthpMode, type MthpSize } from './mthp.js';

/**
 * The kernel configuration the simulator follows: what /proc/config.gz and
 * /sys/kernel/mm/transparent_hugepage/* say on the machine being modelled.
 */
export interface KernelProfile {
  /** /sys/kernel/mm/transparent_hugepage/enabled */
  readonly thp: 'always' | 'madvise' | 'never';
  /**
   * Anonymous multi-size THP: /sys/kernel/mm/transparent_hugepage/hugepages-<size>/enabled
   * by size name (`16kB` … `2048kB`). Sizes not given are `never`, except
   * `2048kB` (the PMD size), which is `inherit` (it follows `thp`).
   */
  readonly mthp: Readonly<Partial<Record<MthpSize, MthpMode>>>;
  /** /sys/kernel/mm/transparent_hugepage/use_zero_page */
  readonly thpZeroPage: boolean;
  /** CONFIG_MEM_SOFT_DIRTY */
  readonly softDirty: boolean;
  /**
   * Anonymous faults may map the shared zero page (read faults,
   * MADV_POPULATE_READ, read-only MAP_POPULATE) and the huge zero page. Some
   * kernels are booted without (the analogue of mm_forbids_zeropage()).
   */
  readonly zeroPage: boolean;
  /** An active swap device. */
  readonly swap: boolean;
  /**
   * Its kind: zram (a block device: a THP swaps out whole) or a swap file
   * (no THP swap-out: reclaim splits the THP and swaps its pages one by one).
   */
  readonly swapDevice: 'zram' | 'file';
  /** Size of that swap device in pages. */
  readonly swapPages: number;
  /** Free 2 MiB hugetlb pages (vm.nr_hugepages). */
  readonly hugetlbPages: number;
  /** 5-level paging (CONFIG_PGTABLE_LEVELS=5 and a CPU with LA57). */
  readonly fiveLevel: boolean;
  /** khugepaged/max_ptes_none, used by MADV_COLLAPSE's sibling khugepaged only. */
  readonly maxPtesNone: number;
  /** RAM size in 4 KiB pages (MemTotal); allocations beyond it fail and call the OOM killer. */
  readonly ramPages: number;
  /** vm.overcommit_memory: 0 heuristic, 1 always, 2 never (strict commit limit). */
  readonly overcommit: 'heuristic' | 'always' | 'never';
  /** vm.overcommit_ratio (percent of RAM in the commit limit under `never`). */
  readonly overcommitRatio: number;
}

/**
 * The reference machine (Linux 6.18.44, x86-64): THP "madvise", huge zero
 * page on, soft-dirty not configured, no swap active, no hugetlb pages,
 * 4-level paging, 23.5 GiB of RAM, heuristic overcommit.
 */
export const DEFAULT_PROFILE: KernelProfile = Object.freeze({
  thp: 'madvise',
  mthp: Object.freeze({}),
  thpZeroPage: true,
  softDirty: false,
  zeroPage: true,
  swap: false,
  swapDevice: 'zram',
  swapPages: 1 << 20,
  hugetlbPages: 0,
  fiveLevel: false,
  maxPtesNone: 511,
  ramPages: 6_170_939, // 23.5 GiB
  overcommit: 'heuristic',
  overcommitRatio: 50,
});

const THP_MODES = new Set(['always', 'madvise', 'never']);

/** Checks a partial profile; returns a message naming the bad field, or null. */
export function profileError(profile: Partial<KernelProfile>): string | null {
  for (const [key, value] of Object.entries(profile)) {
    switch (key) {
      case 'thp':
        if (!THP_MODES.has(value as string)) return `profile.thp must be always, madvise or never`;
        break;
      case 'mthp': {
        const error = mthpProfileError(value);
        if (error !== null) return error;
        break;
      }
      case 'thpZeroPage':
      case 'softDirty':
      case 'swap':
      case 'zeroPage':
      case 'fiveLevel':
        if (typeof value !== 'boolean') return `profile.${key} must be a boolean`;
        break;
      case 'swapDevice':
        if (value !== 'zram' && value !== 'file') return `profile.swapDevice must be zram or file`;
        break;
      case 'overcommit':
        if (value !== 'heuristic' && value !== 'always' && value !== 'never') return `profile.overcommit must be heuristic, always or never`;
        break;
      case 'ramPages':
        if (!Number.isSafeInteger(value) || (value as number) < 2) return `profile.ramPages must be an integer >= 2`;
        break;
      case 'swapPages':
      case 'hugetlbPages':
      case 'maxPtesNone':
      case 'overcommitRatio':
        if (!Number.isSafeInteger(value) || (value as number) < 0) return `profile.${key} must be a non-negative integer`;
        break;
      default:
        return `unknown profile key "${key}"`;
    }
  }
  return null;
}
