import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIRECTORY, recordingFiles } from '@pagewalk/scenario-runner';
import { findParityTables, formatParitySummary, parseParityTable, summarizeParity } from './parity.js';
import { fakeKernel, runCli } from './test-support.js';

const DOC = `# Kernel self-test parity: demo.c

| case | what | our scenario(s) | status |
|---|---|---|---|
| a | first | [one](../corpus/x/one.json) | \`matches the kernel\` |
| b | second | [one](../corpus/x/one.json), [two](../corpus/x/two.json) | \`matches the kernel\`: both |
| c | third | — | \`not expressible\`: needs threads |
| d | fourth | [one](../corpus/x/one.json) | \`partly\`: half of it |
| e | fifth | — | \`matches the kernel\` |

| status | count |
|---|---|
| matches | 3 |
`;

describe('parity tables', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pagewalk-parity-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'selftest-parity-demo.md'), DOC);
  const one = join(dir, 'corpus', 'x', 'one.json');
  const two = join(dir, 'corpus', 'x', 'two.json');

  it('reads one case per status row, with absolute scenario paths, and skips other tables', () => {
    const table = parseParityTable(join(dir, 'docs', 'selftest-parity-demo.md'));
    expect(table.title).toBe('demo.c');
    expect(table.rows.map((row) => row.status)).toEqual(['matches the kernel', 'matches the kernel', 'not expressible', 'partly', 'matches the kernel']);
    expect(table.rows[1]!.scenarios).toEqual([one, two]);
  });

  it('confirms a claimed row only when every linked scenario matched in the run', () => {
    const [table] = findParityTables(join(dir, 'corpus'));
    const summary = summarizeParity(table!, new Map([[one, true], [two, false]]));
    expect(summary).toMatchObject({ cases: 5, claimed: 3, confirmed: 1 });
    expect(summary.problems).toEqual([
      expect.stringContaining('x/two.json did not match'),
      expect.stringContaining('links no scenario'),
    ]);
    expect(formatParitySummary(summary)).toBe('selftest parity (demo.c): 3/5 cases expressed, 1 of 3 confirmed by this run');
    const good = summarizeParity({ ...table!, rows: table!.rows.slice(0, 1) }, new Map([[one, true]]));
    expect(formatParitySummary(good)).toBe('selftest parity (demo.c): 1/1 cases expressed, all 1 match the kernel');
  });

  it("the repository's tables link only corpus scenarios that exist and have a kernel recording", () => {
    const tables = findParityTables(CORPUS_DIRECTORY);
    expect(tables.map((table) => table.file)).toEqual(['selftest-parity-pagemap.md', 'selftest-parity.md']);
    for (const table of tables) {
      for (const row of table.rows) {
        for (const scenario of row.scenarios) {
          expect(existsSync(scenario), `${table.file}:${row.line} links ${scenario}`).toBe(true);
          expect(recordingFiles(scenario).length, `${table.file}:${row.line}: ${scenario} has no recording`).toBeGreaterThan(0);
        }
      }
      // The pagemap_ioctl.c table must stay at or above 90 % (issue #15).
      if (table.file === 'selftest-parity-pagemap.md') {
        const claimed = table.rows.filter((row) => row.status === 'matches the kernel').length;
        expect(claimed / table.rows.length).toBeGreaterThanOrEqual(0.9);
      }
    }
  });

  it('pagewalk conform on a directory named corpus prints the parity lines and fails on a claim the run does not back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pagewalk-parity-cli-'));
    mkdirSync(join(root, 'corpus', 'x'), { recursive: true });
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'corpus', 'x', 'one.json'), JSON.stringify({ name: 'one', arena_pages: 4, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }] }));
    writeFileSync(join(root, 'docs', 'selftest-parity-demo.md'), DOC);
    const run = await runCli(['conform', join(root, 'corpus')], { kernel: fakeKernel(() => [{ op: 'mmap', ret: 0 }]) });
    expect(run.stdout).toContain('conformance: 1/1 scenarios match the kernel');
    expect(run.stdout).toContain('selftest parity (demo.c): 3/5 cases expressed, 1 of 3 confirmed by this run');
    expect(run.status).toBe(1);
  });
});
