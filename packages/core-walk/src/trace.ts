/**
 * Structured tracing of page-table walks: `kernel.trace(listener)`.
 *
 * With no listener set (the default) the walkers pay one null check per
 * walk and nothing per entry. With a listener, every walk is announced
 * (named after the 6.18 entry point it models: walk_page_range_mm,
 * walk_page_vma, walk_page_range_vma, walk_page_range_debug,
 * walk_page_mapping) and its ops are wrapped, so each callback is reported
 * in call order with its arguments, return value and, for pud_entry /
 * pmd_entry, the action it left in walk->action. `fn` names the kernel
 * function that makes the call (walk_pmd_range for pmd_entry, ...).
 */
import { ptePresent } from './pgtable.js';
import { isPteMarker, isRealSwapEntry } from './swapops.js';
import { WalkAction, WalkDepth, type MmWalk, type MmWalkOpsUnsafe } from './walk-ops.js';

/** The walk entry points, by their kernel names. */
export type TraceWalkFunction = 'walk_page_range_mm' | 'walk_page_vma' | 'walk_page_range_vma' | 'walk_page_range_debug' | 'walk_page_mapping';

/** The mm_walk_ops callbacks, by their kernel names. */
export type TraceCallbackName =
  | 'pgd_entry'
  | 'p4d_entry'
  | 'pud_entry'
  | 'pmd_entry'
  | 'pte_entry'
  | 'pte_batch'
  | 'pte_hole'
  | 'hugetlb_entry'
  | 'test_walk'
  | 'pre_vma'
  | 'post_vma'
  | 'install_pte'
  | 'install_pte_batch';

export interface TraceWalkStart {
  readonly type: 'walk_start';
  readonly fn: TraceWalkFunction;
  readonly start: number;
  readonly end: number;
  /** Names of the callbacks the ops carry (camelCase, as in MmWalkOps). */
  readonly ops: readonly string[];
}

export interface TraceWalkEnd {
  readonly type: 'walk_end';
  readonly fn: TraceWalkFunction;
  readonly start: number;
  readonly end: number;
  /** What the walk returned: 0, a positive stop value, or a negative errno. */
  readonly ret: number;
}

export interface TraceCallback {
  readonly type: 'callback';
  /** The callback, by its kernel name (ops->pmd_entry is 'pmd_entry'). */
  readonly callback: TraceCallbackName;
  /** The kernel function that calls it (walk_pmd_range for pmd_entry). */
  readonly fn: string;
  /** Range the callback was given ([addr, next)); post_vma reports its VMA. */
  readonly addr: number;
  readonly next: number;
  /** pte_hole's depth (WalkDepth), else undefined. */
  readonly depth?: number;
  /** The entry handed to *_entry callbacks (its raw u32), else undefined. */
  readonly entry?: number;
  /** pte_batch / install_pte_batch: the number of PTEs of the call. */
  readonly count?: number;
  /** The VMA being walked ([start, end)), or null outside VMAs. */
  readonly vma: { readonly start: number; readonly end: number } | null;
  /** What the callback returned (undefined counts as 0). */
  readonly ret: number;
  /** pud_entry / pmd_entry: walk->action after the call ('subtree' | 'continue' | 'again'). */
  readonly action?: 'subtree' | 'continue' | 'again';
}

export type TraceEvent = TraceWalkStart | TraceWalkEnd | TraceCallback | TraceMm;
export type TraceListener = (event: TraceEvent) => void;

const ACTION_NAMES = { [WalkAction.Subtree]: 'subtree', [WalkAction.Continue]: 'continue', [WalkAction.Again]: 'again' } as const;

/** The kernel function that calls pte_hole at this depth. */
export function pteHoleCaller(depth: number): string {
  switch (depth) {
    case WalkDepth.Pmd:
      return 'walk_pmd_range';
    case WalkDepth.Pud:
      return 'walk_pud_range';
    case WalkDepth.P4d:
      return 'walk_p4d_range';
    case WalkDepth.Pgd:
      return 'walk_pgd_range';
    default:
      return 'walk_page_range_mm';
  }
}

const vmaOf = (walk: MmWalk<any>): TraceCallback['vma'] => (walk.vma === null ? null : { start: walk.vma.start, end: walk.vma.end });
const retOf = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * The ops with every callback wrapped to report to `listener`. Keys the
 * ops do not have stay absent, so the walker takes the same paths.
 */
export function tracedOps<S>(ops: MmWalkOpsUnsafe<S>, listener: TraceListener): MmWalkOpsUnsafe<S> {
  const o = ops as MmWalkOpsUnsafe<any>;
  const traced: MmWalkOpsUnsafe<any> = {};
  if (o.walkLock !== undefined) traced.walkLock = o.walkLock;
  const entry = (
    callback: TraceCallbackName,
    fn: string,
    original: (entry: any, addr: number, next: number, walk: MmWalk<any>) => unknown,
    withAction: boolean,
  ) =>
    (value: any, addr: number, next: number, walk: MmWalk<any>) => {
      const result = original(value, addr, next, walk);
      const event: TraceCallback = { type: 'callback', callback, fn, addr, next, entry: value >>> 0, vma: vmaOf(walk), ret: retOf(result) };
      listener(withAction ? { ...event, action: ACTION_NAMES[walk.action] } : event);
      return result as number;
    };
  if (o.pgdEntry) traced.pgdEntry = entry('pgd_entry', 'walk_pgd_range', o.pgdEntry, false);
  if (o.p4dEntry) traced.p4dEntry = entry('p4d_entry', 'walk_p4d_range', o.p4dEntry, false);
  if (o.pudEntry) traced.pudEntry = entry('pud_entry', 'walk_pud_range', o.pudEntry, true);
  if (o.pmdEntry) traced.pmdEntry = entry('pmd_entry', 'walk_pmd_range', o.pmdEntry, true);
  if (o.pteEntry) traced.pteEntry = entry('pte_entry', 'walk_pte_range_inner', o.pteEntry, false);
  if (o.pteBatch) {
    const original = o.pteBatch;
    traced.pteBatch = (entries, first, count, addr, walk) => {
      const result = original(entries, first, count, addr, walk);
      listener({ type: 'callback', callback: 'pte_batch', fn: 'walk_pte_range_inner', addr, next: addr + count * 4096, count, vma: vmaOf(walk), ret: retOf(result) });
      return result;
    };
  }
  if (o.pteHole) {
    const original = o.pteHole;
    traced.pteHole = (addr, next, depth, walk) => {
      const result = original(addr, next, depth, walk);
      listener({ type: 'callback', callback: 'pte_hole', fn: pteHoleCaller(depth), addr, next, depth, vma: vmaOf(walk), ret: retOf(result) });
      return result;
    };
  }
  if (o.hugetlbEntry) {
    const original = o.hugetlbEntry;
    traced.hugetlbEntry = (value, hmask, addr, next, walk) => {
      const result = original(value, hmask, addr, next, walk);
      listener({ type: 'callback', callback: 'hugetlb_entry', fn: 'walk_hugetlb_range', addr, next, entry: value >>> 0, vma: vmaOf(walk), ret: retOf(result) });
      return result;
    };
  }
  const range = (callback: TraceCallbackName, fn: string, original: (addr: number, next: number, walk: MmWalk<any>) => unknown) =>
    (addr: number, next: number, walk: MmWalk<any>) => {
      const result = original(addr, next, walk);
      listener({ type: 'callback', callback, fn, addr, next, vma: vmaOf(walk), ret: retOf(result) });
      return result as number;
    };
  if (o.testWalk) traced.testWalk = range('test_walk', 'walk_page_test', o.testWalk);
  if (o.preVma) traced.preVma = range('pre_vma', '__walk_page_range', o.preVma);
  if (o.installPte) traced.installPte = range('install_pte', 'walk_pte_range_inner', o.installPte) as (addr: number, next: number, walk: MmWalk<any>) => number;
  if (o.postVma) {
    const original = o.postVma;
    traced.postVma = (walk) => {
      original(walk);
      const vma = vmaOf(walk);
      listener({ type: 'callback', callback: 'post_vma', fn: '__walk_page_range', addr: vma?.start ?? 0, next: vma?.end ?? 0, vma, ret: 0 });
    };
  }
  if (o.installPteBatch) {
    const original = o.installPteBatch;
    traced.installPteBatch = (entries, first, count, addr, walk) => {
      const result = original(entries, first, count, addr, walk);
      listener({ type: 'callback', callback: 'install_pte_batch', fn: 'walk_pte_range_inner', addr, next: addr + count * 4096, count, vma: vmaOf(walk), ret: retOf(result) });
      return result;
    };
  }
  return traced as MmWalkOpsUnsafe<S>;
}

/** Runs a walk under the listener: walk_start, the callbacks, walk_end. */
export function tracedWalk<S>(
  listener: TraceListener,
  fn: TraceWalkFunction,
  start: number,
  end: number,
  ops: MmWalkOpsUnsafe<S>,
  walk: (ops: MmWalkOpsUnsafe<S>) => number,
): number {
  const names = Object.keys(ops).filter((key) => typeof (ops as Record<string, unknown>)[key] === 'function');
  listener({ type: 'walk_start', fn, start, end, ops: names });
  const ret = walk(tracedOps(ops, listener));
  listener({ type: 'walk_end', fn, start, end, ret });
  return ret;
}

// ---------------------------------------------------------------------------
// mm events: what the memory manager did, each named after the 6.18
// function whose decision it models. Hooks in the mm modules are one line,
// `if (kernel.tracer !== null) traceMm(kernel, {...})`: with tracing off the
// event object is never built.

/** The mm functions an event can name. */
export type TraceMmFunction =
  // fault path (mm/memory.c, mm/huge_memory.c, mm/hugetlb.c, fs/userfaultfd.c)
  | 'handle_mm_fault'
  | 'do_anonymous_page'
  | 'alloc_anon_folio'
  | 'do_read_fault'
  | 'do_fault_around'
  | 'do_cow_fault'
  | 'do_shared_fault'
  | 'do_wp_page'
  | 'wp_page_reuse'
  | 'wp_page_shared'
  | 'wp_page_copy'
  | 'do_swap_page'
  | 'alloc_swap_folio'
  | 'handle_pte_marker'
  | 'do_huge_pmd_anonymous_page'
  | 'do_huge_pmd_wp_page'
  | 'do_huge_zero_wp_pmd'
  | 'handle_userfault'
  | 'hugetlb_fault'
  // zaps (mm/memory.c, mm/hugetlb.c)
  | 'zap_pte_range'
  | 'zap_huge_pmd'
  | '__unmap_hugepage_range'
  // splits (mm/huge_memory.c)
  | '__split_huge_pmd_locked'
  | 'split_folio'
  // reclaim (mm/vmscan.c, mm/shmem.c, mm/madvise.c)
  | 'shrink_folio_list'
  | 'shmem_writeout'
  | 'madvise_cold_or_pageout_pte_range'
  | 'madvise_free_pte_range'
  | 'do_madvise'
  // collapse (mm/khugepaged.c)
  | 'hpage_collapse_scan_pmd';

/** What kind of mm decision an event reports. */
export type TraceMmKind = 'fault' | 'zap' | 'split' | 'reclaim' | 'madvise' | 'collapse';

/**
 * One mm decision. [addr, end) is what it concerns: the faulting page, the
 * folio mapped, the range zapped or advised. `result` says which way the
 * function went (see each hook); the optional fields add what the decision
 * produced.
 */
export interface TraceMm {
  readonly type: TraceMmKind;
  readonly fn: TraceMmFunction;
  readonly addr: number;
  readonly end: number;
  /** The outcome, e.g. 'zero-page', 'page', 'reuse', 'copy', 'swapped', 'SIGSEGV', 'SCAN_SUCCEED'. */
  readonly result: string;
  /** handle_mm_fault / handle_userfault: a write access. */
  readonly write?: boolean;
  /** The page (or the folio's head) the decision mapped, freed or split. */
  readonly pfn?: number;
  /** The folio order (alloc_anon_folio's choice, a THP's 9, a split folio's). */
  readonly order?: number;
  /** Swap: the slot written or read, and the device kind. */
  readonly slot?: number;
  readonly device?: 'zram' | 'file';
  /** madvise: the advice (MADV_* value). */
  readonly advice?: number;
  /** Zaps: present pages unmapped, swap slots freed, PTE markers dropped, kept and installed. */
  readonly freed?: number;
  readonly swapFreed?: number;
  readonly markersDropped?: number;
  readonly markersKept?: number;
  readonly markersInstalled?: number;
}

/** Counts of mm events built (tests check that tracing off builds none). */
export const mmTraceCounters = { built: 0 };

/** Reports an mm event; call only under `kernel.tracer !== null`. */
export function traceMm(kernel: { readonly tracer: TraceListener | null }, event: TraceMm): void {
  mmTraceCounters.built++;
  kernel.tracer?.(event);
}

// zap_pte_range: a copy of the PTE range taken before the zap (tracing only).
const zapBefore = new Uint32Array(512);

/** zap_pte_range hook, before the loop: remembers the entries of [first, first + count). */
export function zapSnapshot(entries: Uint32Array, first: number, count: number): void {
  zapBefore.set(entries.subarray(first, first + count));
}

/**
 * zap_pte_range hook, after the loop: compares the range with the
 * snapshot and reports what went (pages, swap slots, markers) and what
 * stayed.
 */
export function traceZap(
  kernel: { readonly tracer: TraceListener | null },
  addr: number,
  end: number,
  entries: Uint32Array,
  first: number,
  count: number,
): void {
  let freed = 0;
  let swapFreed = 0;
  let markersDropped = 0;
  let markersKept = 0;
  let markersInstalled = 0;
  let changed = false;
  for (let i = 0; i < count; i++) {
    const before = zapBefore[i]!;
    const after = entries[first + i]!;
    if (before === after) {
      if (before !== 0 && isPteMarker(before)) markersKept++;
      continue;
    }
    changed = true;
    if (isPteMarker(before)) markersDropped++;
    else if (ptePresent(before)) freed++;
    else if (isRealSwapEntry(before)) swapFreed++;
    if (after !== 0 && isPteMarker(after)) markersInstalled++;
  }
  if (!changed && markersKept === 0) return;
  traceMm(kernel, { type: 'zap', fn: 'zap_pte_range', addr, end, result: 'zapped', freed, swapFreed, markersDropped, markersKept, markersInstalled });
}
