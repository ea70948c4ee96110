/**
 * The corpus under version control: every scenario file with the real
 * kernel's recorded output next to it (`name.json` + `name.kernel.json`).
 * The default directory is the repository's corpus/ (this file sits at the
 * same depth in src/ and dist/).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, type OpResult, type Scenario } from '@pagewalk/scenario';

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CORPUS_DIRECTORY = join(REPOSITORY_ROOT, 'corpus');

export interface CorpusEntry {
  /** Path relative to the repository root. */
  readonly file: string;
  readonly scenario: Scenario;
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

/** Every scenario under `directory` (recursively, sorted by path) with its recording. */
export function loadCorpus(directory = CORPUS_DIRECTORY): CorpusEntry[] {
  return scenarioFiles(directory).map((path) => {
    const file = relative(REPOSITORY_ROOT, path);
    const scenario = parseScenario(readFileSync(path, 'utf8'), file);
    const recordingPath = path.replace(/\.json$/, '.kernel.json');
    let recorded: CorpusEntry['recorded'];
    try {
      const recording = JSON.parse(readFileSync(recordingPath, 'utf8')) as { results?: OpResult[]; skipped?: string };
      recorded = recording.results !== undefined ? { results: recording.results } : { skipped: recording.skipped ?? 'no results recorded' };
    } catch {
      recorded = { skipped: `no recording at ${relative(REPOSITORY_ROOT, recordingPath)}` };
    }
    return { file, scenario, recorded };
  });
}

/** The recorded kernel results of an entry, or null when the kernel skipped it (or it has no recording). */
export function recordedResults(entry: Pick<CorpusEntry, 'recorded'>): OpResult[] | null {
  return 'results' in entry.recorded ? entry.recorded.results : null;
}
