import { describe, expect, it } from 'vitest';
import { parseScenario } from '@pagewalk/scenario';
import { PageKind, ScenarioExplorer } from './index.js';

const explorerOf = (scenario: object) => new ScenarioExplorer(parseScenario(JSON.stringify({ name: 'why', arena_pages: 64, ...scenario }), 'why.json'), { categories: false });

describe('ScenarioExplorer.why', () => {
  it('a zero page: the read fault and do_anonymous_page; a written page: the write fault', () => {
    const explorer = explorerOf({
      ops: [
        { op: 'mmap', page: 0, pages: 8, prot: 'rw' },
        { op: 'write', page: 1, byte: 5 },
        { op: 'read', page: 0, pages: 1 },
      ],
    });
    const zero = explorer.why(2, 0);
    expect(zero.kind).toBe(PageKind.Zero);
    expect(zero.summary).toBe('zero page: op 2 read-faulted it (handle_mm_fault); do_anonymous_page mapped the shared zero page (zero page on)');
    expect(zero.steps.map((s) => s.event.fn)).toEqual(['handle_mm_fault', 'do_anonymous_page']);
    expect(explorer.why(2, 1).summary).toBe('present anon: op 1 write-faulted it (handle_mm_fault); do_anonymous_page allocated a fresh private page');
    // Before the read, page 0 is untouched; before the mmap, it has no VMA.
    expect(explorer.why(1, 0).summary).toBe('none (not populated): no fault, zap or reclaim has touched this page up to op 1');
    expect(explorer.why(-1, 0).summary).toBe('no VMA: no mapping covers this page');
  });

  it('no hole here: a neighbour page came with the 64 KiB folio alloc_anon_folio chose', () => {
    const explorer = explorerOf({
      profile: { mthp: { '64kB': 'always' } },
      ops: [
        { op: 'mmap', page: 0, pages: 32, prot: 'rw' },
        { op: 'write', page: 5, byte: 1 },
      ],
    });
    const answer = explorer.why(1, 2);
    expect(answer.kind).toBe(PageKind.Anon);
    expect(answer.summary).toBe('present anon: op 1 write-faulted page 5 (handle_mm_fault); alloc_anon_folio chose order 4: a 64 KiB folio over pages 0..15');
    expect(answer.steps[0]!.elsewhere).toBe(true);
  });

  it('swapped: MADV_PAGEOUT, and the slot shrink_folio_list wrote it to', () => {
    const explorer = explorerOf({
      profile: { swap: true },
      ops: [
        { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
        { op: 'write', page: 0, pages: 4, byte: 1 },
        { op: 'madvise', page: 0, pages: 4, advice: 'pageout' },
      ],
    });
    const answer = explorer.why(2, 3);
    expect(answer.kind).toBe(PageKind.Swapped);
    expect(answer.summary).toMatch(/^swapped: op 2 madvise\(MADV_PAGEOUT\); madvise_cold_or_pageout_pte_range: reclaim 0\.\.3; shrink_folio_list swapped it out to zram slot \d+$/);
    expect(answer.history.map((s) => s.op)).toEqual([1, 1, 2, 2, 2]);
  });

  it('guard: MADV_GUARD_INSTALL; a later zap keeps the marker', () => {
    const explorer = explorerOf({
      ops: [
        { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
        { op: 'madvise', page: 1, pages: 1, advice: 'guard_install' },
        { op: 'madvise', page: 0, pages: 4, advice: 'dontneed' },
      ],
    });
    expect(explorer.why(1, 1)).toMatchObject({ kind: PageKind.Guard, summary: 'guard marker: op 1 madvise(MADV_GUARD_INSTALL)' });
    expect(explorer.why(2, 1).summary).toBe('guard marker: op 2 madvise(MADV_DONTNEED); zap_pte_range zapped 0..3: 0 page(s) unmapped, 1 marker(s) kept');
  });
});
