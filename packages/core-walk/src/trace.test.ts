import { describe, expect, it } from 'vitest';
import { WalkAction, walkPageRange, walkPageVma, type MmWalkOps, type TraceEvent } from './index.js';
import { TEST_ARENA_BASE as BASE, createTestMm, mapAnon, writePages, P } from './testing.js';

describe('kernel.trace', () => {
  it('reports a walk and its callbacks in call order, with returns and actions', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 4);
    writePages(mm, BASE, 2, 1);
    const events: TraceEvent[] = [];
    const stop = kernel.trace((event) => events.push(event));
    const seen: string[] = [];
    const ops: MmWalkOps<string[]> = {
      pmdEntry: () => undefined,
      pteEntry: (_e, a, _n, w) => {
        w.state.push(`pte ${(a - BASE) / P}`);
        return a === BASE + 2 * P ? 7 : 0;
      },
      pteHole: () => 0,
    };
    expect(walkPageRange(mm, BASE - P, BASE + 4 * P, ops, seen)).toBe(7);
    stop();
    expect(seen).toEqual(['pte 0', 'pte 1', 'pte 2']);
    expect(events[0]).toMatchObject({ type: 'walk_start', fn: 'walk_page_range_mm', start: BASE - P, end: BASE + 4 * P, ops: ['pmdEntry', 'pteEntry', 'pteHole'] });
    const callbacks = events.filter((e) => e.type === 'callback');
    expect(callbacks.map((e) => e.callback)).toEqual(['pte_hole', 'pmd_entry', 'pte_entry', 'pte_entry', 'pte_entry']);
    expect(callbacks[0]).toMatchObject({ fn: 'walk_page_range_mm', depth: -1, vma: null, ret: 0 });
    expect(callbacks[1]).toMatchObject({ fn: 'walk_pmd_range', action: 'subtree', vma: { start: BASE, end: BASE + 4 * P } });
    expect(callbacks[4]).toMatchObject({ fn: 'walk_pte_range_inner', addr: BASE + 2 * P, ret: 7 });
    expect(events.at(-1)).toEqual({ type: 'walk_end', fn: 'walk_page_range_mm', start: BASE - P, end: BASE + 4 * P, ret: 7 });
    // Off again: nothing more is reported.
    walkPageRange(mm, BASE, BASE + P, ops, []);
    expect(events.at(-1)?.type).toBe('walk_end');
    expect(events).toHaveLength(7);
  });

  it('reports the action a pmd_entry leaves and names walk_page_vma', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 2);
    const events: TraceEvent[] = [];
    kernel.trace((event) => events.push(event));
    const vma = mm.vmas.find(BASE)!;
    walkPageVma(vma, { pmdEntry: (_e, _a, _n, w) => void (w.action = WalkAction.Continue), pteHole: () => 0 });
    kernel.trace(null);
    expect(events.map((e) => (e.type === 'callback' ? `${e.callback}` : `${e.type} ${e.fn}`))).toEqual(['walk_start walk_page_vma', 'pte_hole', 'walk_end walk_page_vma']);
  });
});
