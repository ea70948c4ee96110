// trace.ts mm events: each hook fires, named after the 6.18 function it models, on a path that takes it.
import { describe, expect, it } from 'vitest';
import { HPAGE_PMD_NR, PMD_SIZE } from './geometry.js';
import { AccessKind, MADV_COLLAPSE, MADV_COLD, MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT, mmTraceCounters, type TraceEvent, type TraceMm } from './index.js';
import { tablesOf } from './kernel.js';
import { makeGuardPte } from './swapops.js';
import { P, assertInvariants, createTestMm, mapAnon, writePages } from './testing.js';
import type { KernelOptions } from './kernel.js';

function traced(options: KernelOptions = {}) {
  const { kernel, mm } = createTestMm(options);
  const events: TraceEvent[] = [];
  kernel.trace((event) => events.push(event));
  const mmEvents = (): TraceMm[] => events.filter((e): e is TraceMm => e.type !== 'walk_start' && e.type !== 'walk_end' && e.type !== 'callback');
  const fns = (): string[] => mmEvents().map((e) => `${e.fn} ${e.result}`);
  const clear = (): void => void events.splice(0);
  return { kernel, mm, events, mmEvents, fns, clear };
}

describe('mm trace: the fault path', () => {
  it('a read fault maps the zero page (do_anonymous_page), a write then breaks it (wp_page_copy)', () => {
    const { mm, fns, mmEvents, kernel } = traced();
    const addr = mapAnon(mm, 0, 4);
    mm.access(addr + 5, AccessKind.Read);
    expect(fns()).toEqual(['handle_mm_fault read', 'do_anonymous_page zero-page']);
    expect(mmEvents()[1]).toMatchObject({ type: 'fault', addr, end: addr + P, pfn: kernel.frames.zeroPfn });
    mm.access(addr, AccessKind.Write, 1);
    expect(fns().slice(2)).toEqual(['handle_mm_fault write', 'wp_page_copy copy-of-zero-page']);
  });

  it('zero page off: a read fault allocates a page; a write fault on a fresh page says page', () => {
    const { mm, fns } = traced({ profile: { zeroPage: false } });
    const addr = mapAnon(mm, 0, 2);
    mm.access(addr, AccessKind.Read);
    mm.access(addr + P, AccessKind.Write, 3);
    expect(fns()).toEqual(['handle_mm_fault read', 'do_anonymous_page page-no-zero-page', 'handle_mm_fault write', 'do_anonymous_page page']);
  });

  it('COW after fork: the parent copies (wp_page_copy), the child then reuses (wp_page_reuse)', () => {
    const { mm, fns, clear } = traced();
    const addr = mapAnon(mm, 0, 1);
    mm.access(addr, AccessKind.Write, 1);
    const child = mm.fork();
    clear();
    mm.access(addr, AccessKind.Write, 2);
    child.access(addr, AccessKind.Write, 3);
    expect(fns()).toEqual(['handle_mm_fault write', 'wp_page_copy copy', 'handle_mm_fault write', 'wp_page_reuse reuse']);
  });

  it('alloc_anon_folio reports the mTHP order it chose and the folio range', () => {
    const { mm, mmEvents } = traced({ profile: { mthp: { '64kB': 'always' } } });
    const addr = mapAnon(mm, 0, 32);
    mm.access(addr + 5 * P, AccessKind.Write, 9);
    expect(mmEvents().find((e) => e.fn === 'alloc_anon_folio')).toMatchObject({ order: 4, addr, end: addr + 16 * P, result: 'folio' });
  });

  it('a THP fault (do_huge_pmd_anonymous_page), a partial zap splits it (__split_huge_pmd_locked, zap_pte_range)', () => {
    const { mm, mmEvents, fns, clear } = traced({ profile: { thp: 'always' } });
    const base = mapAnon(mm, 0, 3 * HPAGE_PMD_NR);
    const addr = Math.ceil(base / PMD_SIZE) * PMD_SIZE;
    mm.access(addr, AccessKind.Write, 1);
    expect(mmEvents()[1]).toMatchObject({ fn: 'do_huge_pmd_anonymous_page', result: 'thp', order: 9, addr, end: addr + PMD_SIZE });
    clear();
    mm.madvise(addr, 4 * P, MADV_DONTNEED);
    expect(fns()).toEqual(['do_madvise advise', '__split_huge_pmd_locked thp', 'zap_pte_range zapped']);
    expect(mmEvents()[2]).toMatchObject({ addr, end: addr + 4 * P, freed: 4 });
  });

  it('a guard marker: handle_pte_marker SIGSEGV; MADV_DONTNEED keeps it, munmap drops it', () => {
    const { kernel, mm, mmEvents, fns, clear } = traced();
    const addr = mapAnon(mm, 0, 2);
    mm.access(addr + P, AccessKind.Write, 1);
    tablesOf(kernel).entries[mm.pteSlot(addr, false)] = makeGuardPte();
    clear();
    expect(mm.access(addr, AccessKind.Read)).toBeLessThan(0);
    expect(fns()).toEqual(['handle_mm_fault read', 'handle_pte_marker SIGSEGV']);
    clear();
    mm.madvise(addr, 2 * P, MADV_DONTNEED);
    expect(mmEvents().find((e) => e.fn === 'zap_pte_range')).toMatchObject({ freed: 1, markersKept: 1, markersDropped: 0 });
    clear();
    mm.munmap(addr, 2 * P);
    expect(mmEvents().find((e) => e.fn === 'zap_pte_range')).toMatchObject({ freed: 0, markersKept: 0, markersDropped: 1 });
  });
});

describe('mm trace: reclaim and collapse', () => {
  it('MADV_PAGEOUT: shrink_folio_list swaps out to a slot of the device; the next fault swaps it in', () => {
    const { mm, mmEvents, fns, clear } = traced({ profile: { swap: true } });
    const addr = mapAnon(mm, 0, 1);
    mm.access(addr, AccessKind.Write, 42);
    clear();
    mm.madvise(addr, P, MADV_PAGEOUT);
    expect(fns()).toEqual(['do_madvise advise', 'madvise_cold_or_pageout_pte_range pageout', 'shrink_folio_list swapped']);
    const out = mmEvents()[2]!;
    expect(out).toMatchObject({ addr, device: 'zram' });
    expect(out.slot).toBeGreaterThan(0);
    clear();
    expect(mm.access(addr, AccessKind.Read)).toBe(42);
    expect(mmEvents()[1]).toMatchObject({ fn: 'do_swap_page', result: 'swapin', slot: out.slot });
  });

  it('MADV_FREE then MADV_PAGEOUT: lazyfree freed, or kept when written again; MADV_COLD deactivates', () => {
    const { mm, fns, clear } = traced();
    const addr = mapAnon(mm, 0, 2);
    writePages(mm, addr, 2, 1);
    mm.madvise(addr, 2 * P, MADV_FREE);
    mm.access(addr + P, AccessKind.Write, 5);
    clear();
    mm.madvise(addr, 2 * P, MADV_PAGEOUT);
    expect(fns()).toEqual(['do_madvise advise', 'madvise_cold_or_pageout_pte_range pageout', 'shrink_folio_list lazyfree-freed', 'shrink_folio_list lazyfree-kept']);
    clear();
    mm.madvise(addr, 2 * P, MADV_COLD);
    expect(fns()).toEqual(['do_madvise advise', 'madvise_cold_or_pageout_pte_range deactivate']);
  });

  it('MADV_COLLAPSE reports each block scan by its SCAN_* result', () => {
    const { kernel, mm, mmEvents } = traced({ profile: { thp: 'never' } });
    const addr = mapAnon(mm, 0, HPAGE_PMD_NR);
    writePages(mm, addr, HPAGE_PMD_NR, 7);
    mm.madvise(addr, PMD_SIZE, MADV_COLLAPSE);
    expect(mmEvents().find((e) => e.type === 'collapse')).toMatchObject({ fn: 'hpage_collapse_scan_pmd', result: 'SCAN_SUCCEED', addr, end: addr + PMD_SIZE });
    assertInvariants(kernel);
  });
});

describe('mm trace off', () => {
  it('builds no event object and calls no listener when tracing is off', () => {
    const { kernel, mm } = createTestMm({ profile: { swap: true, thp: 'always', mthp: { '64kB': 'always' } } });
    let calls = 0;
    kernel.trace(() => calls++);
    kernel.trace(null);
    const before = mmTraceCounters.built;
    const addr = mapAnon(mm, 0, 3 * HPAGE_PMD_NR);
    mm.access(addr, AccessKind.Read);
    writePages(mm, addr, 3 * HPAGE_PMD_NR, 3);
    mm.madvise(addr, 64 * P, MADV_PAGEOUT);
    mm.access(addr, AccessKind.Read);
    mm.madvise(addr, 3 * PMD_SIZE, MADV_DONTNEED);
    mm.munmap(addr, 3 * PMD_SIZE);
    expect(mmTraceCounters.built).toBe(before);
    expect(calls).toBe(0);
    // The same run traced builds events (the counter works).
    kernel.trace(() => calls++);
    const again = mapAnon(mm, 0, 2);
    mm.access(again, AccessKind.Write, 1);
    expect(mmTraceCounters.built).toBeGreaterThan(before);
    expect(calls).toBeGreaterThan(0);
  });
});
