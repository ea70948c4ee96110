/**
 * The real-kernel side: a small C helper (native/kbench.c) built on demand
 * with the system C compiler into build/, run once per case.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(PACKAGE_DIR, 'native', 'kbench.c');
const BUILD_DIR = join(PACKAGE_DIR, 'build');
const BINARY = join(BUILD_DIR, 'kbench');

export type KernelCaseName =
  | 'scan-dense'
  | 'scan-alternate'
  | 'scan-thp'
  | 'scan-sparse'
  | 'scan-wp'
  | 'pagemap-read'
  | 'populate'
  | 'guard';

export interface KernelRun {
  case: KernelCaseName;
  pages: number;
  reps: number;
  warmup: number;
  /** Operations per timed sample (each `ns` entry is already divided by it). */
  inner?: number;
  /** The operation's return value (regions found, entries read, pages populated). */
  result: number;
  ns: number[];
  [extra: string]: unknown;
}

export class KernelBenchError extends Error {
  override readonly name = 'KernelBenchError';
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Compiles kbench.c when the binary is missing or older than its source. Returns the binary's path. */
export function buildKbench(): string {
  if (platform() !== 'linux') throw new KernelBenchError(`not Linux (${platform()})`);
  const src = mtime(SOURCE);
  if (src === undefined) throw new KernelBenchError(`helper source missing: ${SOURCE}`);
  const bin = mtime(BINARY);
  if (bin !== undefined && bin >= src) return BINARY;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${BINARY}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, SOURCE], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new KernelBenchError(code === 'ENOENT' ? `C compiler "${cc}" not found (install gcc or set CC)` : `cannot run ${cc}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new KernelBenchError(`compiling ${SOURCE} failed:\n${r.stderr}`);
  }
  renameSync(tmp, BINARY); // atomic: a concurrent run never sees half a binary
  return BINARY;
}

/** Runs one case in a fresh process (so its memory is returned as soon as it exits). */
/**
 * Runs one kernel case. `inner` operations run back to back in each timed
 * sample; the helper reports each sample divided by `inner` (scan-thp only).
 */
export function runKernelCase(name: KernelCaseName, reps: number, pages: number, warmup = 1, timeoutMs = 600_000, inner = 1): KernelRun {
  const bin = buildKbench();
  const r = spawnSync(bin, [name, String(reps), String(pages), String(warmup), String(inner)], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw new KernelBenchError(`kbench ${name}: ${r.error.message}`);
  if (r.status !== 0) throw new KernelBenchError(`kbench ${name} exited with ${r.status ?? r.signal}: ${r.stderr.trim() || '(no message)'}`);
  return JSON.parse(r.stdout.trim()) as KernelRun;
}
