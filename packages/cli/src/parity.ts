// The kernel self-test parity tables (docs/selftest-parity*.md) as data,
// so that `pagewalk conform` can check what they claim: every row marked
// `matches the kernel` links corpus scenarios, and each of them must have
// matched the kernel in the same run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type ParityStatus = 'matches the kernel' | 'partly' | 'not expressible' | 'no scenario yet';
const STATUSES: readonly ParityStatus[] = ['matches the kernel', 'partly', 'not expressible', 'no scenario yet'];

export interface ParityRow {
  /** 1-based line in the document, for messages. */
  readonly line: number;
  readonly status: ParityStatus;
  /** Absolute paths of the scenario files the row links. */
  readonly scenarios: readonly string[];
}

export interface ParityTable {
  /** The document's file name, e.g. selftest-parity-pagemap.md. */
  readonly file: string;
  /** Its title without "Kernel self-test parity" (e.g. "pagemap_ioctl.c"), or the file name. */
  readonly title: string;
  readonly rows: readonly ParityRow[];
}

const LINK = /\]\(([^)]+\.json)\)/g;

/**
 * Reads one parity document: every table row whose last cell starts with a
 * status in backticks is a case. Rows of other tables (counts, legends) are
 * not cases.
 */
export function parseParityTable(path: string, text = readFileSync(path, 'utf8')): ParityTable {
  const rows: ParityRow[] = [];
  const lines = text.split('\n');
  const heading = lines.find((line) => line.startsWith('# '));
  const title = heading?.replace(/^# Kernel self-test parity:?\s*/, '').trim() || (path.split('/').pop() ?? path);
  lines.forEach((line, index) => {
    if (!line.startsWith('|')) return;
    const cells = line.split('|').slice(1, -1);
    const last = cells.at(-1)?.trim() ?? '';
    const status = STATUSES.find((candidate) => last.startsWith(`\`${candidate}\``));
    if (status === undefined) return;
    const scenarios = [...line.matchAll(LINK)].map((match) => resolve(dirname(path), match[1]!));
    rows.push({ line: index + 1, status, scenarios });
  });
  return { file: path.split('/').pop() ?? path, title: title === '' ? path : title, rows };
}

/** The parity documents of the repository holding `corpusDir` (../docs/selftest-parity*.md), if any. */
export function findParityTables(corpusDir: string): ParityTable[] {
  const docs = join(corpusDir, '..', 'docs');
  if (!existsSync(docs)) return [];
  return readdirSync(docs)
    .filter((name) => /^selftest-parity.*\.md$/.test(name))
    .sort()
    .map((name) => parseParityTable(join(docs, name)));
}

export interface ParitySummary {
  readonly table: ParityTable;
  readonly cases: number;
  readonly claimed: number;
  /** `matches the kernel` rows whose every linked scenario matched in this run. */
  readonly confirmed: number;
  /** One line per claimed row that this run does not back up. */
  readonly problems: readonly string[];
}

/**
 * Checks a table's `matches the kernel` rows against this run's outcomes
 * (absolute scenario path → matched). A row is confirmed when it links at
 * least one scenario and every linked scenario was run and matched.
 */
export function summarizeParity(table: ParityTable, matched: ReadonlyMap<string, boolean>): ParitySummary {
  const problems: string[] = [];
  let claimed = 0;
  let confirmed = 0;
  for (const row of table.rows) {
    if (row.status !== 'matches the kernel') continue;
    claimed++;
    if (row.scenarios.length === 0) {
      problems.push(`${table.file}:${row.line}: marked "matches the kernel" but links no scenario`);
      continue;
    }
    const bad = row.scenarios.filter((path) => matched.get(path) !== true);
    if (bad.length === 0) confirmed++;
    else problems.push(`${table.file}:${row.line}: ${bad.map((path) => `${path.split('/corpus/').pop()} ${matched.has(path) ? 'did not match' : 'was not run'}`).join(', ')}`);
  }
  return { table, cases: table.rows.length, claimed, confirmed, problems };
}

/** `selftest parity (pagemap_ioctl.c): 108/117 cases expressed, all 108 match the kernel`. */
export function formatParitySummary(summary: ParitySummary): string {
  const { table, cases, claimed, confirmed } = summary;
  const tail = confirmed === claimed ? `all ${claimed} match the kernel` : `${confirmed} of ${claimed} confirmed by this run`;
  return `selftest parity (${table.title}): ${claimed}/${cases} cases expressed, ${tail}`;
}
