import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario, type RecordingProfile } from '@pagewalk/scenario';
import { loadReportData } from '../report.js';
import { regionRows, resultRegions } from './diff-regions.js';
import { ScenarioExplorer } from './explorer.js';
import { defaultRecordingIndex, liveRecording, prepareRecordings, profileDifferences, profileItems, recordingLabel } from './report-data.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** A recording profile like this machine's: 6.18.44, zero page off on read faults, no swap. */
const HOST: RecordingProfile = {
  kernel: '6.18.44-other-build',
  zero_page: false,
  thp: 'madvise',
  thp_zero_page: true,
  mthp: { '16kB': 'never', '32kB': 'never', '64kB': 'never', '128kB': 'never', '256kB': 'never', '512kB': 'never', '1024kB': 'never', '2048kB': 'inherit' },
  soft_dirty: false,
  swap: false,
  hugetlb_pages: 0,
  root: true,
  userfaultfd: true,
};

function prepared(path: string) {
  const data = loadReportData(join(root, path));
  return prepareRecordings(parseScenario(data.scenarioText, path), data.recordings);
}

describe('recordings of a scenario', () => {
  it('loads every recording: the untagged one first, then by tag, each with its profile', () => {
    const recordings = prepared('corpus/core/cold-then-pageout-swap.json');
    expect(recordings.map((r) => r.tag)).toEqual(['', 'nozero', 'swapfile']);
    expect(recordings.map(recordingLabel)).toEqual(['cold-then-pageout-swap.kernel.json', 'cold-then-pageout-swap.nozero.kernel.json', 'cold-then-pageout-swap.swapfile.kernel.json']);
    expect(recordings.map((r) => [r.profile?.zero_page, r.profile?.swap])).toEqual([[true, 'zram'], [false, 'zram'], [false, 'file']]);
    // The simulator runs each under its recording's profile.
    expect(recordings.map((r) => [r.scenario.profile?.zero_page, r.scenario.profile?.swap])).toEqual([[true, 'zram'], [false, 'zram'], [false, 'file']]);
  });

  it('defaults to the recording made under the host configuration, else one the host can reproduce, else the first', () => {
    const zeroPage = prepared('corpus/core/mlock-readonly-zero.json');
    expect(zeroPage.map((r) => r.tag)).toEqual(['', 'nozero']);
    expect(defaultRecordingIndex(zeroPage, HOST)).toBe(1);
    expect(defaultRecordingIndex(zeroPage, { ...HOST, zero_page: true })).toBe(0);
    expect(defaultRecordingIndex(zeroPage, null)).toBe(0);
    // Swap: no recording has the host's (none); both zero-page-off ones could be reproduced by switching swap on: the first of them.
    const swap = prepared('corpus/core/cold-then-pageout-swap.json');
    expect(defaultRecordingIndex(swap, HOST)).toBe(1);
    expect(defaultRecordingIndex(swap, { ...HOST, swap: 'file' })).toBe(2);
    // Another kernel version reproduces none: the first.
    expect(defaultRecordingIndex(swap, { ...HOST, kernel: '6.19.0' })).toBe(0);
    expect(defaultRecordingIndex([], HOST)).toBe(0);
  });

  it('names the profile keys a recording differs in, the kernel by version', () => {
    const [untagged] = prepared('corpus/core/cold-then-pageout-swap.json');
    expect(profileDifferences(untagged!.profile!, HOST)).toEqual(['zero_page', 'swap']);
    expect(profileItems(untagged!.profile!)).toContainEqual(['swap', 'zram']);
    // mTHP modes compare whatever their order.
    const reversed = Object.fromEntries(Object.entries(HOST.mthp).reverse());
    expect(profileDifferences({ ...HOST, mthp: reversed }, HOST)).toEqual([]);
    expect(profileDifferences({ ...HOST, mthp: { ...reversed, '64kB': 'always' } }, HOST)).toEqual(['mthp']);
    expect(profileItems(untagged!.profile!)).toContainEqual(['mthp', '2048kB:inherit']);
  });

  it('a skipped recording has no profile and no results', () => {
    const [recording] = prepareRecordings(parseScenario('{"name": "d", "arena_pages": 4, "ops": []}', 'd.json'), [{ file: 'd.kernel.json', tag: '', value: { name: 'd', skipped: 'device ops' } }]);
    expect(recording).toMatchObject({ profile: null, results: null, skipped: 'device ops' });
    expect(defaultRecordingIndex([recording!], HOST)).toBe(0);
  });

  it('a live run is a recording under the profile the kernel reported', () => {
    const scenario = parseScenario('{"name": "r", "arena_pages": 4, "ops": [{"op": "mmap", "page": 0, "pages": 4, "prot": "rw"}]}', 'r.json');
    const live = liveRecording(scenario, { results: [{ op: 'mmap', ret: 0 }], profile: HOST });
    expect(live).toMatchObject({ tag: 'live', file: 'this kernel (6.18.44-other-build)', skipped: null });
    expect(live.scenario.profile).toMatchObject({ zero_page: false, swap: false });
    expect(liveRecording(scenario, { skipped: 'no' })).toMatchObject({ results: null, skipped: 'no' });
  });
});

describe('the diff against the picked recording', () => {
  it('zero page off: the simulator under each recording matches it, and not the other one', () => {
    const recordings = prepared('corpus/core/mlock-readonly-zero.json');
    const explorers = recordings.map((r) => new ScenarioExplorer(r.scenario, { categories: false }));
    expect(explorers[0]!.diff(recordings[0]!.results!).first).toBeNull();
    expect(explorers[1]!.diff(recordings[1]!.results!).first).toBeNull();
    // Under the zero-page-on profile against the zero-page-off recording: the pagemap read (op 2) differs.
    const crossed = explorers[0]!.diff(recordings[1]!.results!);
    expect(crossed.first).toMatchObject({ opIndex: 2 });
    const rows = regionRows(explorers[0]!.scenario.ops[2], crossed.simulator[2], crossed.kernel[2], 1024)!;
    expect(rows.range).toEqual([0, 8]);
    expect(rows.simulator).toEqual([[0, 8, ['present']]]);
    expect(rows.kernel).toEqual([[0, 8, ['exclusive', 'present']]]);
    expect(rows.differs).toEqual([[0, 8]]);
  });

  it('scan regions: the pages where the rows differ', () => {
    const op = parseScenario('{"name": "s", "arena_pages": 16, "ops": [{"op": "scan", "page": 0, "pages": 10}]}', 's.json').ops[0];
    const rows = regionRows(op, { op: 'scan', ret: 2, regions: [[0, 2, ['written']], [4, 6, ['written']]] } as never, { op: 'scan', ret: 1, regions: [[0, 2, ['written']]] } as never, 16)!;
    expect(rows.range).toEqual([0, 10]);
    expect(rows.differs).toEqual([[4, 6]]);
    expect(resultRegions({ op: 'mmap', ret: 0 } as never, op)).toBeNull();
    expect(regionRows(op, { op: 'mmap', ret: 0 } as never, { op: 'mmap', ret: -1 } as never, 16)).toBeNull();
  });
});
