// Reading scenario files: every path is read and validated before anything
// runs, so a bad file is one clear error rather than a half-finished run.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, type Scenario } from '@pagewalk/scenario';
import { CliError } from './cli-error.js';

export interface ScenarioFile {
  /** The path as the user wrote it (or as found under a directory). */
  path: string;
  scenario: Scenario;
}

function describeFileError(path: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return `${path}: no such file or directory`;
  if (code === 'EACCES') return `${path}: permission denied`;
  if (code === 'EISDIR') return `${path}: is a directory`;
  return `${path}: cannot read (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
}

/** `*.json` files under a directory, recursively and sorted; recorded kernel output (`*.kernel.json`) is ignored. */
function scenarioFilesUnder(directory: string): string[] {
  const files: string[] = [];
  const entries = readdirSync(directory, { withFileTypes: true }).sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...scenarioFilesUnder(path));
    else if (entry.name.endsWith('.json') && !entry.name.endsWith('.kernel.json')) files.push(path);
  }
  return files;
}

/** Expands the paths (directories only when allowed) into scenario file paths. */
export function expandScenarioPaths(paths: readonly string[], options: { allowDirectories: boolean }): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      throw new CliError(describeFileError(path, error));
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    if (!options.allowDirectories) throw new CliError(`${path}: is a directory (give scenario files)`);
    try {
      files.push(...scenarioFilesUnder(path));
    } catch (error) {
      throw new CliError(describeFileError(path, error));
    }
  }
  return files;
}

/** Reads and validates one scenario file; errors are one line (CliError or ScenarioError). */
export function readScenarioFile(path: string): ScenarioFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(describeFileError(path, error));
  }
  return { path, scenario: parseScenario(text, path) };
}

export function readScenarioFiles(paths: readonly string[], options: { allowDirectories: boolean }): ScenarioFile[] {
  return expandScenarioPaths(paths, options).map(readScenarioFile);
}
