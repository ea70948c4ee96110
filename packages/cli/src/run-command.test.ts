import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioValue } from '@pagewalk/scenario';
import * as runner from '@pagewalk/scenario-runner';
import * as cli from './index.js';
import { readCappedText } from './scenario-files.js';
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

describe('issue 19: hostile inputs to pagewalk run', () => {
  it('JSON nested 100k+ deep is a one-line error naming the file (wherever the nesting is)', async () => {
    const deep = 150_000;
    const directory = writeFiles({
      'top.json': '['.repeat(deep) + ']'.repeat(deep),
      'ops.json': `{"name":"x","arena_pages":4,"ops":${'['.repeat(deep)}${']'.repeat(deep)}}`,
      'field.json': `{"name":"x","arena_pages":4,"ops":[{"op":"mmap","page":0,"pages":1,"prot":"rw","x":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}]}`,
      'string.json': `{"name":"${'['.repeat(deep)}","arena_pages":4,"ops":[]}`,
    });
    for (const name of ['top.json', 'ops.json', 'field.json']) {
      const path = join(directory, name);
      const run = await runCli(['run', path], { features: [] });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(`pagewalk: ${path}: invalid scenario: JSON nested deeper than 64 levels\n`);
    }
    // Brackets inside a string are not nesting.
    const run = await runCli(['run', join(directory, 'string.json')], { features: [] });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('/dev/zero and an endless FIFO are capped with a clear error', async () => {
    const zero = await runCli(['run', '/dev/zero'], { features: [] });
    expect(zero.status).toBe(1);
    expect(zero.stderr).toBe('pagewalk: /dev/zero: a character device that gave more than 64 MiB; scenario files are read up to 64 MiB\n');
    expect(() => readCappedText('/dev/zero', 1000)).toThrow('/dev/zero: a character device that gave more than 0.00095367431640625 MiB');
    const fifo = join(writeFiles({}), 'fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `exec cat /dev/zero > '${fifo}'`], { stdio: 'ignore' });
    try {
      expect(() => readCappedText(fifo, 1 << 20)).toThrow(`${fifo}: a FIFO that gave more than 1 MiB; scenario files are read up to 1 MiB`);
    } finally {
      writer.kill();
    }
  });

  it('streams each scenario line as its ops run, the same JSON as before', async () => {
    const ops: unknown[] = [{ op: 'mmap', page: 0, pages: 64, prot: 'rw' }, { op: 'write', page: 0, pages: 64, byte: 3 }];
    for (let i = 0; i < 2000; i++) ops.push({ op: 'read', page: 0, pages: 64 });
    const directory = writeFiles({ 'many.json': { name: 'many', arena_pages: 64, ops } });
    const pieces: string[] = [];
    let drains = 0;
    const io = { stdout: (t: string) => void pieces.push(t), stderr: () => {}, isTty: false, drain: async () => void drains++ };
    const status = await cli.main(['run', join(directory, 'many.json')], io, { features: [] });
    expect(status).toBe(0);
    expect(pieces.length).toBeGreaterThan(3); // written while running, not once at the end
    expect(drains).toBe(pieces.length); // and it waited for stdout after every piece
    const line = JSON.parse(pieces.join(''));
    expect(line.results).toHaveLength(2002);
    expect(line.results[2001]).toEqual({ op: 'read', ret: 0, bytes: new Array(64).fill(3) });
    expect(pieces.join('')).toBe(`${JSON.stringify({ name: 'many', results: line.results })}\n`);
  });
});
