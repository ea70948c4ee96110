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
});
