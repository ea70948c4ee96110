import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '@pagewalk/scenario';
import { CATEGORY_NAMES } from '@pagewalk/scenario';
import { PageKind, ScenarioExplorer, parseScenarioText } from './index.js';

const corpus = (path: string) => parseScenario(readFileSync(new URL(`../../../../corpus/${path}`, import.meta.url), 'utf8'), path);

describe('ScenarioExplorer', () => {
  it('snapshots guard markers and scan categories after each op', () => {
    const explorer = new ScenarioExplorer(corpus('guard/guard-scan-every-other.json'));
    expect(explorer.eager).toBe(true);
    expect(explorer.snapshotCount).toBe(explorer.scenario.ops.length + 1);
    const after = explorer.snapshot(6);
    expect([...after.kinds.slice(0, 11)]).toEqual([9, 1, 9, 1, 9, 1, 9, 1, 9, 1, 0].map((k) => k as PageKind));
    const guard = 1 << CATEGORY_NAMES.indexOf('guard');
    // The scenario's own scan at op 7 returns the guard pages; the map's categories agree.
    const regions = (explorer.results[7] as { regions: [number, number, string[]][] }).regions;
    for (const [start, end] of regions) for (let page = start; page < end; page++) expect(after.categories![page]! & guard).toBe(guard);
    expect(after.categories![1]! & guard).toBe(0);
    expect(explorer.snapshot(-1).kinds[0]).toBe(PageKind.Unmapped);
  });

  it('decodes the tree of a guard page and of a THP', () => {
    const explorer = new ScenarioExplorer(corpus('guard/guard-basic.json'));
    const tree = explorer.tree(2, 0);
    expect(tree.levels.map((l) => l.level)).toEqual(['PGD', 'P4D', 'PUD', 'PMD', 'PTE']);
    expect(tree.levels.at(-1)).toMatchObject({ kind: 'marker' });
    expect(tree.levels.at(-1)!.fields).toContainEqual(['markers', 'GUARD']);
    const thp = new ScenarioExplorer(parseScenario(JSON.stringify({
      name: 'thp', arena_pages: 1024, profile: { thp: 'always' },
      ops: [{ op: 'mmap', page: 0, pages: 1024, prot: 'rw' }, { op: 'write', page: 512, pages: 1, byte: 1 }],
    }), 'thp.json'));
    expect(thp.snapshot(1).kinds[600]).toBe(PageKind.Thp);
    const thpTree = thp.tree(1, 600);
    expect(thpTree.levels.at(-1)).toMatchObject({ level: 'PMD', kind: 'huge leaf' });
    expect(thpTree.folio).toMatchObject({ order: 9 });
  });

  it('traces a PAGEMAP_SCAN at an op: the walk, its callbacks and its result', () => {
    const explorer = new ScenarioExplorer(corpus('guard/guard-scan-every-other.json'));
    const run = explorer.trace(6, { op: 'scan', page: 0, pages: 10, return_mask: ['all'] });
    expect(run.result).toMatchObject({ op: 'scan' });
    expect(run.events[0]).toMatchObject({ type: 'walk_start', fn: 'walk_page_range_mm' });
    expect(run.events.some((e) => e.type === 'callback' && e.callback === 'test_walk')).toBe(true);
    expect(run.events.at(-1)).toMatchObject({ type: 'walk_end' });
  });

  it('gives the CLI one-line errors for a bad scenario', () => {
    expect(parseScenarioText('{"name": "x", "arena_pages": 0, "ops": []}')).toMatchObject({ error: expect.stringMatching(/^pagewalk: scenario.json/) });
    expect(parseScenarioText('{')).toMatchObject({ error: expect.stringMatching(/^pagewalk: /) });
  });
});

describe('ScenarioExplorer.diff', () => {
  it('finds the first op where a recording differs', () => {
    const explorer = new ScenarioExplorer(corpus('guard/guard-scan-every-other.json'), { categories: false });
    const recorded = explorer.results.map((result) => ({ ...result }));
    expect(explorer.diff(recorded).first).toBeNull();
    const regions = (recorded[7] as unknown as { regions: [number, number, string[]][] }).regions;
    (recorded[7] as unknown as { regions: [number, number, string[]][] }).regions = regions.slice(1);
    const diff = explorer.diff(recorded);
    expect(diff.first).toMatchObject({ opIndex: 7 });
    expect(diff.simulator[7]).not.toEqual(diff.kernel[7]);
  });
});

describe('a scenario too large to snapshot every op', () => {
  it('recomputes snapshots on demand, equal to the eager ones', () => {
    const text = JSON.stringify({
      name: 'big', arena_pages: 1 << 18,
      ops: [
        { op: 'mmap', page: 0, pages: 1 << 18, prot: 'rw' },
        ...Array.from({ length: 64 }, (_, i) => ({ op: 'write', page: i * 4096, pages: 8, byte: 1 })),
        { op: 'madvise', page: 0, pages: 4, advice: 'guard_install' },
      ],
    });
    const lazy = new ScenarioExplorer(parseScenario(text, 'big.json'));
    expect(lazy.eager).toBe(false);
    expect(lazy.snapshotCount).toBe(1);
    for (const index of [65, 3, 40, -1, 64]) {
      const snapshot = lazy.snapshot(index);
      expect(snapshot.index).toBe(index);
      const count = (kind: number) => snapshot.kinds.reduce((n, k) => n + (k === kind ? 1 : 0), 0);
      expect(count(PageKind.Guard)).toBe(index >= 65 ? 4 : 0);
      expect(count(PageKind.Anon)).toBe(index < 0 ? 0 : Math.max(0, Math.min(index, 64)) * 8 - (index >= 65 ? 4 : 0));
    }
    expect(lazy.snapshotCount).toBeLessThanOrEqual(8);
  });
});
