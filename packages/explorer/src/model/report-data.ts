// What a report carries: the scenario file's JSON and, for a corpus
// scenario, its kernel recording. The node side embeds it in the page;
// the app turns it into explorers.
import { parseRecordingProfile, parseScenarioValue, scenarioUnderRecording, type OpResult, type Scenario } from '@pagewalk/scenario';

export interface ReportData {
  /** The scenario's file name as given (for titles and error messages). */
  readonly file: string;
  /** The scenario file's text. */
  readonly scenarioText: string;
  /** A kernel recording next to the scenario (name.kernel.json), if any. */
  readonly recording?: { readonly file: string; readonly value: unknown };
}

export interface PreparedRecording {
  readonly file: string;
  /** The scenario completed with the recording's profile (what the kernel ran). */
  readonly scenario: Scenario;
  readonly results: readonly OpResult[] | null;
  readonly skipped: string | null;
}

/** The recording's results and the scenario under its profile; null when absent. */
export function prepareReport(scenario: Scenario, recording: ReportData['recording']): PreparedRecording | null {
  if (recording === undefined) return null;
  const value = recording.value as { results?: OpResult[]; skipped?: string; profile?: unknown };
  if (value.results === undefined || value.profile === undefined) {
    return { file: recording.file, scenario, results: null, skipped: value.skipped ?? 'no results recorded' };
  }
  const profile = parseRecordingProfile(value.profile, recording.file);
  return { file: recording.file, scenario: scenarioUnderRecording(parseScenarioValue(scenario, recording.file), profile), results: value.results, skipped: null };
}
