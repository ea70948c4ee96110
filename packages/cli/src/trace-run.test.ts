import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './test-support.js';

const corpus = fileURLToPath(new URL('../../../corpus/', import.meta.url));

describe('pagewalk run --trace', () => {
  it('prints each walk as JSON lines before the unchanged results line', async () => {
    const file = join(corpus, 'guard/guard-scan-every-other.json');
    const plain = await runCli(['run', file]);
    const traced = await runCli(['run', '--trace', file]);
    expect(traced.status).toBe(0);
    const lines = traced.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(plain.stdout.trimEnd());
    const events = lines.slice(0, -1).map((line) => JSON.parse(line) as { op: number; trace: { type: string; fn: string; callback?: string } });
    // Op 1 is PAGEMAP_SCAN: walk_page_range_mm, test_walk, ..., walk_end.
    const scan = events.filter((e) => e.op === 1).map((e) => e.trace);
    expect(scan[0]).toMatchObject({ type: 'walk_start', fn: 'walk_page_range_mm' });
    expect(scan[1]).toMatchObject({ type: 'callback', callback: 'test_walk', fn: 'walk_page_test' });
    expect(scan.at(-1)).toMatchObject({ type: 'walk_end', fn: 'walk_page_range_mm' });
    // Op 2 installs a guard marker through the installing walker.
    expect(events.filter((e) => e.op === 2).map((e) => e.trace.callback ?? e.trace.type)).toContain('install_pte_batch');
  });

  it('prints the mm events too (faults, reclaim), and --trace=KINDS keeps only those kinds', async () => {
    const file = join(corpus, 'core/cold-then-pageout-swap.json');
    const plain = await runCli(['run', file]);
    type Line = { op: number; trace: { type: string; fn: string; result?: string; slot?: number } };
    const parse = (stdout: string): Line[] => stdout.trimEnd().split('\n').slice(0, -1).map((line) => JSON.parse(line) as Line);
    const all = await runCli(['run', '--trace', file]);
    expect(all.stdout.trimEnd().split('\n').at(-1)).toBe(plain.stdout.trimEnd());
    const events = parse(all.stdout);
    // Op 1 writes the 4 pages: handle_mm_fault then do_anonymous_page for each.
    const writes = events.filter((e) => e.op === 1).map((e) => `${e.trace.fn} ${e.trace.result}`);
    expect(writes.slice(0, 2)).toEqual(['handle_mm_fault write', 'do_anonymous_page page']);
    // Op 3 is MADV_PAGEOUT: shrink_folio_list swaps each page out to a slot.
    const swapped = events.filter((e) => e.op === 3 && e.trace.fn === 'shrink_folio_list');
    expect(swapped).toHaveLength(4);
    expect(swapped[0]!.trace).toMatchObject({ type: 'reclaim', result: 'swapped', device: 'zram' });
    const only = await runCli(['run', '--trace=fault,reclaim', file]);
    expect(only.status).toBe(0);
    const kinds = new Set(parse(only.stdout).map((e) => e.trace.type));
    expect([...kinds].sort()).toEqual(['fault', 'reclaim']);
    const bad = await runCli(['run', '--trace=faults', file]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown trace kind "faults"/);
  });
});
