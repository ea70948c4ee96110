// What a report carries: the scenario file's JSON, every kernel recording of
// the scenario (NAME.kernel.json and NAME.TAG.kernel.json) and, from the
// local server, whether the live kernel can run it. The node side embeds it
// in the page; the app turns it into explorers.
import {
  parseRecordingProfile,
  parseScenarioValue,
  scenarioUnderRecording,
  type OpResult,
  type RecordingProfile,
  type Scenario,
} from '@pagewalk/scenario';

/** One recording file of the scenario, as read. */
export interface RecordingData {
  /** The recording's file name (for titles). */
  readonly file: string;
  /** '' for NAME.kernel.json, 'nozero' for NAME.nozero.kernel.json. */
  readonly tag: string;
  /** The recording file's JSON. */
  readonly value: unknown;
}

/** What the local server says about runs on its host's kernel. */
export type LiveKernelStatus =
  | { readonly available: true; readonly profile: RecordingProfile; readonly endpoint: string }
  | { readonly available: false; readonly reason: string };

export interface ReportData {
  /** The scenario's file name as given (for titles and error messages). */
  readonly file: string;
  /** The scenario file's text. */
  readonly scenarioText: string;
  /** Every kernel recording of the scenario, the untagged one first, then by tag. */
  readonly recordings?: readonly RecordingData[];
  /** Set by `pagewalk explore`'s server only (a static report has no kernel to run on). */
  readonly live?: LiveKernelStatus;
}

export interface PreparedRecording {
  readonly file: string;
  /** The recording's tag ('' for NAME.kernel.json; 'live' for a run on this kernel). */
  readonly tag: string;
  /** The profile the kernel ran under (null for a skipped recording). */
  readonly profile: RecordingProfile | null;
  /** The scenario completed with the recording's profile (what the kernel ran, what the simulator runs for the diff). */
  readonly scenario: Scenario;
  readonly results: readonly OpResult[] | null;
  readonly skipped: string | null;
}

/** One recording's results and the scenario under its profile. */
export function prepareRecording(scenario: Scenario, recording: RecordingData): PreparedRecording {
  const value = recording.value as { results?: OpResult[]; skipped?: string; profile?: unknown };
  const { file, tag } = recording;
  if (value.results === undefined || value.profile === undefined) {
    return { file, tag, profile: null, scenario, results: null, skipped: value.skipped ?? 'no results recorded' };
  }
  const profile = parseRecordingProfile(value.profile, file);
  return { file, tag, profile, scenario: scenarioUnderRecording(parseScenarioValue(scenario, file), profile), results: value.results, skipped: null };
}

/** Every recording of the report, prepared for `scenario` (the untagged one first, then by tag). */
export function prepareRecordings(scenario: Scenario, recordings: readonly RecordingData[] | undefined): PreparedRecording[] {
  return (recordings ?? []).map((recording) => prepareRecording(scenario, recording));
}

/** A run on the live kernel (POST to the local server), as a recording to diff against. */
export function liveRecording(scenario: Scenario, run: { results: readonly OpResult[]; profile: RecordingProfile } | { skipped: string }): PreparedRecording {
  if ('skipped' in run) return { file: 'this kernel', tag: 'live', profile: null, scenario, results: null, skipped: run.skipped };
  const profile = parseRecordingProfile(run.profile, 'live run');
  return { file: `this kernel (${profile.kernel})`, tag: 'live', profile, scenario: scenarioUnderRecording(scenario, profile), results: run.results, skipped: null };
}

/** "6.18.44-fc-v1252" → "6.18.44" (recordings are compared by version, not by build). */
const versionOf = (release: string): string => /^\d+\.\d+(\.\d+)?/.exec(release)?.[0] ?? release;

/** Profile keys the host cannot switch (root can switch the others for a run). */
const FIXED_KEYS = ['zero_page', 'soft_dirty'] as const;
/** Profile keys that decide a run's results and that root can switch. */
const ADJUSTABLE_KEYS = ['thp', 'thp_zero_page', 'mthp', 'swap', 'hugetlb_pages'] as const;

/** Equal values; objects (mTHP modes) whatever their key order. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** The profile keys in which a recording differs from a host (kernel by version); [] = the same kernel configuration. */
export function profileDifferences(recording: RecordingProfile, host: RecordingProfile): string[] {
  const out: string[] = [];
  if (versionOf(recording.kernel) !== versionOf(host.kernel)) out.push('kernel');
  for (const key of [...FIXED_KEYS, ...ADJUSTABLE_KEYS]) if (!sameValue(recording[key], host[key])) out.push(key);
  return out;
}

/**
 * The recording to diff against first: the one made under the host's kernel
 * configuration when the host is known (the server's); else one the host
 * could reproduce by switching THP, mTHP, swap or hugetlb (same kernel
 * version, zero page and soft-dirty setting); else the first.
 */
export function defaultRecordingIndex(recordings: readonly Pick<PreparedRecording, 'profile'>[], host: RecordingProfile | null): number {
  if (host === null || recordings.length === 0) return 0;
  const differences = recordings.map((recording) => (recording.profile === null ? null : profileDifferences(recording.profile, host)));
  const exact = differences.findIndex((keys) => keys !== null && keys.length === 0);
  if (exact >= 0) return exact;
  const reproducible = differences.findIndex((keys) => keys !== null && keys.every((key) => (ADJUSTABLE_KEYS as readonly string[]).includes(key)));
  return reproducible >= 0 ? reproducible : 0;
}

/** A recording's name in the picker: its file's base name (the live run: "this kernel (release)"). */
export function recordingLabel(recording: Pick<PreparedRecording, 'tag' | 'file'>): string {
  return recording.tag === 'live' ? recording.file : (recording.file.split(/[\\/]/).pop() ?? recording.file);
}

/** A profile as short key=value items (mTHP: only the sizes that are not "never"). */
export function profileItems(profile: RecordingProfile): [string, string][] {
  const mthp = Object.entries(profile.mthp).filter(([, mode]) => mode !== 'never').map(([size, mode]) => `${size}:${mode}`);
  return [
    ['kernel', profile.kernel],
    ['zero_page', profile.zero_page ? 'on' : 'off'],
    ['thp', profile.thp],
    ['thp_zero_page', profile.thp_zero_page ? 'on' : 'off'],
    ['mthp', mthp.length > 0 ? mthp.join(' ') : 'never'],
    ['soft_dirty', profile.soft_dirty ? 'yes' : 'no'],
    ['swap', profile.swap === false ? 'off' : profile.swap],
    ['hugetlb_pages', String(profile.hugetlb_pages)],
    ['root', profile.root ? 'yes' : 'no'],
    ['userfaultfd', profile.userfaultfd ? 'yes' : 'no'],
  ];
}
