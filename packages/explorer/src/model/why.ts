// "Why is this page what it is?": the explorer's answer for one page after
// one op, built from core-walk's mm trace events (kernel.trace) recorded
// while the scenario's ops are replayed — the fault path that mapped it, the
// folio order chosen, the zap, split or reclaim that changed it last, each
// named after the 6.18 function the simulator models.
import type { TraceMm } from '@pagewalk/core-walk';
import { PAGE_KIND_NAMES, PageKind, PAGE_SIZE } from './classify.js';

/** One mm event of the page's history. */
export interface PageEvent {
  /** The scenario op during which it happened. */
  readonly op: number;
  readonly event: TraceMm;
  /**
   * The event is about another page: the fault of the same op that brought
   * this page in with its folio or fault-around window.
   */
  readonly elsewhere: boolean;
}

export interface WhyStep extends PageEvent {
  /** A sentence about the step, naming the kernel function. */
  readonly text: string;
}

export interface WhyAnswer {
  readonly page: number;
  /** The op the answer is for (the state after it), -1 for the empty arena. */
  readonly index: number;
  readonly kind: PageKind;
  /** One line: "zero page: op 3 read-faulted it; do_anonymous_page mapped the shared zero page (zero page on)". */
  readonly summary: string;
  /** The steps of the op the summary names. */
  readonly steps: readonly WhyStep[];
  /** Every mm event that touched the page up to the op, oldest first. */
  readonly history: readonly WhyStep[];
}

/** The madvise names (uapi values) the answers use. */
const ADVICE_NAMES: Readonly<Record<number, string>> = {
  0: 'MADV_NORMAL', 1: 'MADV_RANDOM', 2: 'MADV_SEQUENTIAL', 3: 'MADV_WILLNEED', 4: 'MADV_DONTNEED', 8: 'MADV_FREE', 9: 'MADV_REMOVE',
  10: 'MADV_DONTFORK', 11: 'MADV_DOFORK', 14: 'MADV_HUGEPAGE', 15: 'MADV_NOHUGEPAGE', 16: 'MADV_DONTDUMP', 17: 'MADV_DODUMP',
  18: 'MADV_WIPEONFORK', 19: 'MADV_KEEPONFORK', 20: 'MADV_COLD', 21: 'MADV_PAGEOUT', 22: 'MADV_POPULATE_READ',
  23: 'MADV_POPULATE_WRITE', 24: 'MADV_DONTNEED_LOCKED', 25: 'MADV_COLLAPSE', 102: 'MADV_GUARD_INSTALL', 103: 'MADV_GUARD_REMOVE',
};

/** Advice whose effect on a page shows as its own events (zap, reclaim, faults, collapse): the madvise call alone decides nothing. */
const INDIRECT_ADVICE = new Set([3, 4, 8, 9, 20, 21, 22, 23, 24, 25]);

export function adviceName(advice: number | undefined): string {
  return advice === undefined ? 'madvise' : (ADVICE_NAMES[advice] ?? `advice ${advice}`);
}

const size = (order: number): string => {
  const kib = (PAGE_SIZE << order) / 1024;
  return kib >= 1024 ? `${kib / 1024} MiB` : `${kib} KiB`;
};

/** The sentence for one event; `pages(a, b)` names an address range by arena pages. */
export function stepText(event: TraceMm, pages: (start: number, end: number) => string, elsewhere = false): string {
  const it = elsewhere ? `page ${pages(event.addr, event.addr + PAGE_SIZE)}` : 'it';
  const order = event.order ?? 0;
  switch (event.fn) {
    case 'handle_mm_fault':
      return `${event.write === true ? 'write' : 'read'}-faulted ${it} (handle_mm_fault)`;
    case 'do_anonymous_page':
      if (event.result === 'zero-page') return 'do_anonymous_page mapped the shared zero page (zero page on)';
      if (event.result === 'page-no-zero-page') return 'do_anonymous_page allocated a private page: this kernel maps no zero page on read faults';
      return 'do_anonymous_page allocated a fresh private page';
    case 'alloc_anon_folio':
      return `alloc_anon_folio chose order ${order}: a ${size(order)} folio over pages ${pages(event.addr, event.end)}`;
    case 'do_read_fault':
      return 'do_read_fault mapped the page-cache page read-only';
    case 'do_fault_around':
      return `do_fault_around mapped the page-cache pages it found in ${pages(event.addr, event.end)}`;
    case 'do_shared_fault':
      return 'do_shared_fault mapped the page-cache page writable';
    case 'do_cow_fault':
      return 'do_cow_fault copied the file page into a private page';
    case 'do_wp_page':
    case 'wp_page_reuse':
      return 'wp_page_reuse: the page was exclusive, so the write kept it and made the PTE writable';
    case 'wp_page_shared':
      return 'wp_page_shared made the shared mapping writable in place';
    case 'wp_page_copy':
      return event.result === 'copy-of-zero-page' ? 'wp_page_copy replaced the zero page by a fresh private page' : 'wp_page_copy broke COW with a private copy';
    case 'do_swap_page':
      return `do_swap_page swapped it back in from ${event.device ?? 'swap'} slot ${event.slot ?? '?'}`;
    case 'alloc_swap_folio':
      return `alloc_swap_folio swapped in a whole ${size(order)} folio (order ${order}) from ${event.device ?? 'swap'} slots ${event.slot ?? '?'}..`;
    case 'handle_pte_marker':
      return event.result === 'SIGSEGV' ? 'handle_pte_marker: a guard marker, so the access got SIGSEGV' : `handle_pte_marker: ${event.result}`;
    case 'do_huge_pmd_anonymous_page':
      return event.result === 'huge-zero-page'
        ? `do_huge_pmd_anonymous_page mapped the huge zero page over ${pages(event.addr, event.end)}`
        : `do_huge_pmd_anonymous_page mapped a 2 MiB THP over ${pages(event.addr, event.end)}`;
    case 'do_huge_pmd_wp_page':
      return event.result === 'reuse' ? 'do_huge_pmd_wp_page reused the exclusive THP' : 'do_huge_pmd_wp_page could not reuse the THP: split it';
    case 'do_huge_zero_wp_pmd':
      return event.result === 'thp' ? 'do_huge_zero_wp_pmd replaced the huge zero page by a fresh THP' : 'do_huge_zero_wp_pmd found no THP: split the huge zero page';
    case 'handle_userfault':
      return `handle_userfault: a userfaultfd ${event.result} fault went to the handler`;
    case 'hugetlb_fault':
      return `hugetlb_fault: ${event.result === 'copy' ? 'a private copy of the huge page' : event.result === 'reuse' ? 'reused the huge page' : event.result === 'page-cache' ? 'mapped the huge page from the file' : 'a new huge page'}`;
    case 'zap_pte_range': {
      const parts = [`${event.freed ?? 0} page(s) unmapped`];
      if ((event.swapFreed ?? 0) > 0) parts.push(`${event.swapFreed} swap slot(s) freed`);
      if ((event.markersKept ?? 0) > 0) parts.push(`${event.markersKept} marker(s) kept`);
      if ((event.markersDropped ?? 0) > 0) parts.push(`${event.markersDropped} marker(s) dropped`);
      if ((event.markersInstalled ?? 0) > 0) parts.push(`${event.markersInstalled} uffd-wp marker(s) left`);
      return `zap_pte_range zapped ${pages(event.addr, event.end)}: ${parts.join(', ')}`;
    }
    case 'zap_huge_pmd':
    case '__unmap_hugepage_range':
      return `${event.fn} zapped the huge mapping of ${pages(event.addr, event.end)}`;
    case '__split_huge_pmd_locked':
      return `__split_huge_pmd_locked split the ${event.result === 'huge-zero-page' ? 'huge zero page' : 'THP'} mapping of ${pages(event.addr, event.end)} into PTEs`;
    case 'split_folio':
      return `split_folio split the order-${order} folio (pfn ${event.pfn ?? '?'}) ${event.result === 'swapped-whole' ? 'after swapping it out whole' : 'for reclaim'}`;
    case 'shrink_folio_list':
      switch (event.result) {
        case 'swapped':
          return `shrink_folio_list swapped it out to ${event.device ?? 'swap'} slot ${event.slot ?? '?'}`;
        case 'lazyfree-freed':
          return 'shrink_folio_list discarded it: lazily freed (MADV_FREE) and clean';
        case 'lazyfree-kept':
          return 'shrink_folio_list kept it: written again since MADV_FREE, swap-backed again';
        case 'kept-no-swap':
          return 'shrink_folio_list kept it: no swap device';
        case 'kept-referenced':
          return 'shrink_folio_list kept it: someone else holds the page';
        case 'unmapped-file':
          return 'shrink_folio_list unmapped the page-cache page';
        default:
          return `shrink_folio_list: ${event.result}`;
      }
    case 'shmem_writeout':
      return `shmem_writeout wrote the shmem page to ${event.device ?? 'swap'} slot ${event.slot ?? '?'}`;
    case 'madvise_cold_or_pageout_pte_range':
      return `madvise_cold_or_pageout_pte_range: ${event.result === 'pageout' ? 'reclaim' : 'deactivate'} ${pages(event.addr, event.end)}`;
    case 'madvise_free_pte_range':
      return `madvise_free_pte_range marked ${pages(event.addr, event.end)} lazily freeable`;
    case 'do_madvise':
      return `madvise(${adviceName(event.advice)})`;
    case 'hpage_collapse_scan_pmd':
      return `hpage_collapse_scan_pmd: ${event.result}${event.result === 'SCAN_SUCCEED' ? ' (collapsed into a THP)' : ''}`;
    default:
      return `${String(event.fn)}: ${event.result}`;
  }
}

/** Whether a step decides the page's state (a fault's handler, a zap, a reclaim), not just announces the op. */
function decisive(step: PageEvent): boolean {
  const { fn, advice } = step.event;
  if (fn === 'handle_mm_fault' || fn === 'madvise_cold_or_pageout_pte_range') return false;
  if (fn === 'do_madvise') return advice === undefined || !INDIRECT_ADVICE.has(advice);
  return true;
}

/**
 * The answer for `page` after op `index`, from the page's event history
 * (ScenarioExplorer.pageHistory) and its kind in the snapshot.
 */
export function explainPage(history: readonly PageEvent[], index: number, page: number, kind: PageKind, arenaBase: number): WhyAnswer {
  const pages = (start: number, end: number): string => {
    const first = Math.floor((start - arenaBase) / PAGE_SIZE);
    const last = Math.ceil((end - arenaBase) / PAGE_SIZE) - 1;
    return last <= first ? String(first) : `${first}..${last}`;
  };
  const steps: WhyStep[] = history.filter((e) => e.op <= index).map((e) => ({ ...e, text: stepText(e.event, pages, e.elsewhere) }));
  const kindName = PAGE_KIND_NAMES[kind] ?? 'unknown';
  let last = -1;
  for (const step of steps) if (decisive(step)) last = step.op;
  if (last < 0) {
    const summary =
      kind === PageKind.Unmapped
        ? `${kindName}: no mapping covers this page${index >= 0 ? ` after op ${index}` : ''}`
        : `${kindName}: no fault, zap or reclaim has touched this page${index >= 0 ? ` up to op ${index}` : ''}`;
    return { page, index, kind, summary, steps: [], history: steps };
  }
  const opSteps = steps.filter((s) => s.op === last);
  return { page, index, kind, summary: `${kindName}: op ${last} ${opSteps.map((s) => s.text).join('; ')}`, steps: opSteps, history: steps };
}
