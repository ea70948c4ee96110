/**
 * The corpus under version control: every scenario file with the real
 * kernel's recorded output next to it. A scenario may have several
 * recordings, one per kernel profile it was recorded under:
 * `name.json` + `name.kernel.json` (the first) + `name.<tag>.kernel.json`
 * (e.g. `name.nozero.kernel.json`, `name.swapfile.kernel.json`). Each
 * recording stores the profile it was made under.
 *
 * The default directory is the repository's corpus/ (this file sits at the
 * same depth in src/ and dist/).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseRecordingProfile,
  parseScenario,
  recordingTagOf,
  scenarioUnderRecording,
  type OpResult,
  type RecordingProfile,
  type Scenario,
} from '@pagewalk/scenario';

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CORPUS_DIRECTORY = join(REPOSITORY_ROOT, 'corpus');

/** One recording of one scenario. */
export interface CorpusEntry {
  /** The scenario's path relative to the repository root. */
  readonly file: string;
  /** The recording's path relative to the repository root. */
  readonly recording: string;
  /** The recording's tag: '' for `name.kernel.json`, 'nozero' for `name.nozero.kernel.json`. */
  readonly tag: string;
  /**
   * The scenario as recorded: its profile completed with the recording's
   * profile (see scenarioUnderRecording), ready to simulate.
   */
  readonly scenario: Scenario;
  /** The scenario as written in its file. */
  readonly source: Scenario;
  /** The profile the recording was made under (absent for skipped recordings). */
  readonly profile?: RecordingProfile;
  /** The kernel's recorded results, or the reason the kernel skipped it. */
  readonly recorded: { results: OpResult[] } | { skipped: string };
}

function scenarioFiles(directory: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) out.push(...scenarioFiles(path));
    else if (name.endsWith('.json') && !name.endsWith('.kernel.json')) out.push(path);
  }
  return out;
}

/** The recording files of a scenario file: `name.kernel.json` first, then `name.<tag>.kernel.json` by tag. */
export function recordingFiles(scenarioPath: string): { path: string; tag: string }[] {
  const stem = basename(scenarioPath).replace(/\.json$/, '');
  const directory = dirname(scenarioPath);
  const out: { path: string; tag: string }[] = [];
  for (const name of readdirSync(directory).sort()) {
    const tag = recordingTagOf(stem, name);
    if (tag === '') out.unshift({ path: join(directory, name), tag });
    else if (tag !== null) out.push({ path: join(directory, name), tag });
  }
  return out;
}

function readRecording(path: string, file: string): { recorded: CorpusEntry['recorded']; profile?: RecordingProfile } {
  const recording = JSON.parse(readFileSync(path, 'utf8')) as { results?: OpResult[]; skipped?: string; profile?: unknown };
  if (recording.results === undefined) return { recorded: { skipped: recording.skipped ?? 'no results recorded' } };
  if (recording.profile === undefined) throw new Error(`${file}: a recording with results must state its profile`);
  return { recorded: { results: recording.results }, profile: parseRecordingProfile(recording.profile, file) };
}

/**
 * Every recording of every scenario under `directory` (recursively, sorted by
 * scenario path, then tag). A scenario without a recording gives one entry
 * whose `recorded` says so.
 */
export function loadCorpus(directory = CORPUS_DIRECTORY): CorpusEntry[] {
  return scenarioFiles(directory).flatMap((path): CorpusEntry[] => {
    const file = relative(REPOSITORY_ROOT, path);
    const source = parseScenario(readFileSync(path, 'utf8'), file);
    const recordings = recordingFiles(path);
    if (recordings.length === 0) {
      const missing = relative(REPOSITORY_ROOT, path.replace(/\.json$/, '.kernel.json'));
      return [{ file, recording: missing, tag: '', scenario: source, source, recorded: { skipped: `no recording at ${missing}` } }];
    }
    return recordings.map(({ path: recordingPath, tag }) => {
      const recording = relative(REPOSITORY_ROOT, recordingPath);
      const { recorded, profile } = readRecording(recordingPath, recording);
      const scenario = profile === undefined ? source : scenarioUnderRecording(source, profile);
      return profile === undefined
        ? { file, recording, tag, scenario, source, recorded }
        : { file, recording, tag, scenario, source, recorded, profile };
    });
  });
}

/** The recorded kernel results of an entry, or null when the kernel skipped it (or it has no recording). */
export function recordedResults(entry: Pick<CorpusEntry, 'recorded'>): OpResult[] | null {
  return 'results' in entry.recorded ? entry.recorded.results : null;
}
