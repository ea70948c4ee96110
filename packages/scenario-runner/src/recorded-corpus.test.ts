import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIRECTORY, loadCorpus, recordedResults } from './index.js';

const scenario = (name: string) => ({ name, arena_pages: 4, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }] });
const profile = (zeroPage: boolean) => ({
  kernel: '6.18.44',
  zero_page: zeroPage,
  thp: 'madvise',
  thp_zero_page: true,
  mthp: { '64kB': 'never', '2048kB': 'inherit' },
  soft_dirty: false,
  swap: false,
  hugetlb_pages: 0,
  root: true,
  userfaultfd: true,
});

describe('loadCorpus', () => {
  it('reads scenarios recursively, in path order, with their recordings or the reason there are none', () => {
    const directory = mkdtempSync(join(tmpdir(), 'scenario-runner-corpus-'));
    mkdirSync(join(directory, 'b'));
    writeFileSync(join(directory, 'b', 'two.json'), JSON.stringify(scenario('two')));
    writeFileSync(join(directory, 'b', 'two.kernel.json'), JSON.stringify({ skipped: 'no hugetlb pages' }));
    writeFileSync(join(directory, 'a.json'), JSON.stringify(scenario('one')));
    writeFileSync(join(directory, 'a.kernel.json'), JSON.stringify({ profile: profile(true), results: [{ op: 'mmap', ret: 0 }] }));
    writeFileSync(join(directory, 'c.json'), JSON.stringify(scenario('three')));
    const corpus = loadCorpus(directory);
    expect(corpus.map((entry) => entry.scenario.name)).toEqual(['one', 'two', 'three']);
    expect(corpus.map(recordedResults)).toEqual([[{ op: 'mmap', ret: 0 }], null, null]);
    expect(corpus[1]!.recorded).toEqual({ skipped: 'no hugetlb pages' });
    expect(corpus[2]!.recorded).toMatchObject({ skipped: expect.stringMatching(/^no recording at .*c\.kernel\.json$/) });
  });

  it('gives one entry per recording, the scenario completed with its profile', () => {
    const directory = mkdtempSync(join(tmpdir(), 'scenario-runner-corpus-'));
    writeFileSync(join(directory, 'a.json'), JSON.stringify({ ...scenario('one'), profile: { swap: true } }));
    writeFileSync(join(directory, 'a.kernel.json'), JSON.stringify({ profile: profile(true), results: [{ op: 'mmap', ret: 0 }] }));
    writeFileSync(join(directory, 'a.nozero.kernel.json'), JSON.stringify({ profile: { ...profile(false), swap: 'file' }, results: [{ op: 'mmap', ret: 0 }] }));
    writeFileSync(join(directory, 'a.Bad_Tag.kernel.json'), '{}');
    const corpus = loadCorpus(directory);
    expect(corpus.map((entry) => entry.tag)).toEqual(['', 'nozero']);
    expect(corpus[0]!.scenario.profile).toMatchObject({ zero_page: true, swap: false, thp: 'madvise' });
    expect(corpus[1]!.scenario.profile).toMatchObject({ zero_page: false, swap: 'file' });
    expect(corpus[1]!.source.profile).toEqual({ swap: true });
    expect(corpus[1]!.recording.endsWith('a.nozero.kernel.json')).toBe(true);
  });

  it('refuses a recording with results but no profile, naming the file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'scenario-runner-corpus-'));
    writeFileSync(join(directory, 'a.json'), JSON.stringify(scenario('one')));
    writeFileSync(join(directory, 'a.kernel.json'), JSON.stringify({ results: [] }));
    expect(() => loadCorpus(directory)).toThrow(/a\.kernel\.json: a recording with results must state its profile/);
  });

  it('defaults to the repository corpus', () => {
    const corpus = loadCorpus();
    expect(CORPUS_DIRECTORY.endsWith('corpus')).toBe(true);
    expect(corpus.length).toBeGreaterThan(100);
    expect(corpus.every((entry) => entry.file.startsWith('corpus/'))).toBe(true);
  });
});
