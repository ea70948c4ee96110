// Reading scenario files: every path is read and validated before anything
// runs, so a bad file is one clear error rather than a half-finished run.
import { closeSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioError, parseScenario, type Scenario } from '@pagewalk/scenario';
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

/** The most bytes read from one scenario file (a regular file larger than this is refused unread). */
export const MAX_SCENARIO_FILE_BYTES = 64 * 2 ** 20;

function fileKind(stats: ReturnType<typeof fstatSync>): string {
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The file's text, at most `limit` bytes: a regular file larger than that
 * is refused before reading, and a device, FIFO or socket (which may never
 * end, like /dev/zero) is read only up to the limit.
 */
export function readCappedText(path: string, limit = MAX_SCENARIO_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CliError(describeFileError(path, error));
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new CliError(`${path}: is a directory`);
    const regular = stats.isFile();
    const mib = limit / 2 ** 20;
    if (regular && stats.size > limit) throw new CliError(`${path}: ${stats.size} bytes, larger than the ${mib} MiB a scenario file may have`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limit + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        throw new CliError(describeFileError(path, error));
      }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > limit) {
        throw new CliError(
          regular
            ? `${path}: grew past the ${mib} MiB a scenario file may have while being read`
            : `${path}: ${fileKind(stats)} that gave more than ${mib} MiB; scenario files are read up to ${mib} MiB`,
        );
      }
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Reads and validates one scenario file; errors are one line naming the file (CliError or ScenarioError). */
export function readScenarioFile(path: string): ScenarioFile {
  const text = readCappedText(path);
  try {
    return { path, scenario: parseScenario(text, path) };
  } catch (error) {
    if (error instanceof ScenarioError) throw error;
    // Whatever else went wrong in the parser, the message names the file.
    throw new CliError(`${path}: cannot parse: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

export function readScenarioFiles(paths: readonly string[], options: { allowDirectories: boolean }): ScenarioFile[] {
  return expandScenarioPaths(paths, options).map(readScenarioFile);
}
