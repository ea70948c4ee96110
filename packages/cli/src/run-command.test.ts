import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioValue } from '@pagewalk/scenario';
import * as runner from '@pagewalk/scenario-runner';
import * as cli from './index.js';
import { runCli, writeFiles } from './test-support.js';

const TOUCH = {
  name: 'touch',
  arena_pages: 64,
  ops: [
    { op: 'mmap', page: 0, pages: 4, prot: 'rw' },
    { op: 'write', page: 0, pages: 2, byte: 7 },
    { op: 'read', page: 0, pages: 3 },
    { op: 'mprotect', page: 0, pages: 4, prot: 'r' },
    { op: 'write', page: 1, byte: 1 },
    { op: 'munmap', page: 0, pages: 0 },
    { op: 'mmap', page: 2, pages: 1, prot: 'rw' },
    { op: 'read', page: 3, pages: 3 },
    { op: 'scan', page: 0, pages: 4 },
  ],
};

const EXPECTED_TOUCH_RESULTS = [
  { op: 'mmap', ret: 0 },
  { op: 'write', ret: 0 },
  { op: 'read', ret: 0, bytes: [7, 7, 0] },
  { op: 'mprotect', ret: 0 },
  { op: 'write', signal: 'SIGSEGV', page: 1 },
  { op: 'munmap', ret: -1, errno: 'EINVAL' },
  { op: 'mmap', ret: -1, errno: 'EEXIST' },
  { op: 'read', signal: 'SIGSEGV', page: 4, bytes: [0] },
];

describe('issue #3: the scenario executor is part of the public API', () => {
  it('re-exports runScenario and createScenarioSession from @pagewalk/scenario-runner', () => {
    expect(cli.runScenario).toBe(runner.runScenario);
    expect(cli.createScenarioSession).toBe(runner.createScenarioSession);
    const run = cli.runScenario(parseScenarioValue(TOUCH, 'touch.json'));
    expect(run.results.slice(0, 8)).toEqual(EXPECTED_TOUCH_RESULTS);
    expect(run.arenaBase).toBe(cli.DEFAULT_ARENA_BASE);
  });
});

describe('pagewalk run', () => {
  const directory = writeFiles({
    'touch.json': TOUCH,
    'skip.json': { name: 'skip', arena_pages: 8, profile: { thp: 'never', five_level: true }, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }] },
  });

  it('prints one JSON line per file', async () => {
    const run = await runCli(['run', '--allow-skips', join(directory, 'touch.json'), join(directory, 'skip.json')], { features: [] });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first.name).toBe('touch');
    expect(first.results.slice(0, 8)).toEqual(EXPECTED_TOUCH_RESULTS);
    expect(JSON.parse(lines[1]!)).toEqual({ name: 'skip', skipped: 'unknown profile key "five_level"' });
  });
});
