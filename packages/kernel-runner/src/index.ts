/**
 * @pagewalk/kernel-runner — runs pagewalk scenarios on the real Linux kernel,
 * the conformance oracle for the simulator. See README.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adjustMachine, machineProfile, profileMismatches } from './profile.js';
import { translateScenario } from './translate.js';

export {
  adjustMachine,
  configHasSoftDirty,
  machineProfile,
  parseSwaps,
  parseThpMode,
  profileMismatches,
  PROFILE_KEYS,
  type KernelProfile,
  type ProfilePaths,
  type ThpMode,
} from './profile.js';
export { categoryMask, CATEGORY_NAMES, ScenarioInputError, translateScenario, type Translation } from './translate.js';

/** Package root (works from src/ and from dist/). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RUNNER_SOURCE = join(PACKAGE_ROOT, 'runner', 'runner.c');
export const BUILD_DIR = join(PACKAGE_ROOT, 'build');
export const RUNNER_BINARY = join(BUILD_DIR, 'runner');

export class KernelRunnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelRunnerError';
  }
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Compiles runner.c (only when the binary is missing or older) and returns its path. */
export function buildRunner(): string {
  const src = mtime(RUNNER_SOURCE);
  if (src === undefined) throw new KernelRunnerError(`runner source missing: ${RUNNER_SOURCE}`);
  const bin = mtime(RUNNER_BINARY);
  if (bin !== undefined && bin >= src) return RUNNER_BINARY;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${RUNNER_BINARY}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, RUNNER_SOURCE, '-lpthread'], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new KernelRunnerError(
      code === 'ENOENT' ? `C compiler "${cc}" not found (install gcc or set CC)` : `cannot run ${cc}: ${r.error.message}`,
    );
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new KernelRunnerError(`compiling ${RUNNER_SOURCE} failed:\n${r.stderr}`);
  }
  // rename is atomic: concurrent builders never see a half-written binary
  renameSync(tmp, RUNNER_BINARY);
  return RUNNER_BINARY;
}

export interface KernelSupport {
  available: boolean;
  reason?: string;
}

let supportCache: KernelSupport | undefined;

/** Whether scenarios can run on this machine's kernel. */
export function kernelSupport(): KernelSupport {
  if (supportCache) return supportCache;
  supportCache = probeSupport();
  return supportCache;
}

function probeSupport(): KernelSupport {
  if (platform() !== 'linux') return { available: false, reason: `not Linux (${platform()})` };
  let runner: string;
  try {
    runner = buildRunner();
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
  const probe =
    'arena 16\nmmap page=0 pages=2 prot=rw\nwrite page=0 pages=1 byte=1\n' +
    'scan size=96 flags=0 start=0 end=8192 mask=8 anyof=0 inverted=0 return=8 max_pages=0 vec_len=16\n' +
    'uffd_open features=wp_async\n';
  const r = spawnSync(runner, [], { input: probe, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) return { available: false, reason: `runner probe failed: ${r.stderr.trim() || r.error?.message}` };
  const lines = r.stdout.trim().split('\n');
  const scan = JSON.parse(lines[2] ?? '{}') as { ret?: number; errno?: string };
  if (scan.ret !== 1) return { available: false, reason: `PAGEMAP_SCAN unusable (${scan.errno ?? JSON.stringify(scan)})` };
  const uffd = JSON.parse(lines[3] ?? '{}') as { ret?: number; errno?: string };
  if (uffd.ret !== 0) return { available: false, reason: `userfaultfd with WP_ASYNC unusable (${uffd.errno ?? '?'})` };
  return { available: true };
}

// ------------------------------------------------------------------ lock ---

const LOCK_DIR = '/tmp/pagewalk-kernel-runner.lock';
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Machine-wide lock: profile adjustments (swap, hugetlb) must not interleave. */
function withMachineLock<T>(fn: () => T, timeoutMs = 120_000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number.parseInt(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'), 10);
      } catch {
        /* being created or removed */
      }
      if (Number.isFinite(owner) && (owner === process.pid || !pidAlive(owner))) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new KernelRunnerError(`timed out waiting for ${LOCK_DIR}`);
      Atomics.wait(sleeper, 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------- run ---

export interface RunOptions {
  /** Change swap / hugetlb pages (root only) to match the profile; default true. */
  adjustMachine?: boolean;
  /** Milliseconds before the runner is killed; default 60 000. */
  timeoutMs?: number;
}

export type KernelRun = { skipped: string } | { results: Record<string, unknown>[] };

/** Runs the runner binary on already translated input (no profile handling). */
export function runLines(input: string, timeoutMs = 60_000): Record<string, unknown>[] {
  const runner = buildRunner();
  const r = spawnSync(runner, [], { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  if (r.error) throw new KernelRunnerError(`runner failed: ${r.error.message}`);
  if (r.status !== 0)
    throw new KernelRunnerError(
      `runner exited with ${r.status ?? r.signal}: ${r.stderr.trim() || '(no message)'}`,
    );
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs one parsed scenario on the real kernel in a fresh process. Returns the
 * per-op results, or a skip reason when the machine cannot provide the
 * scenario's profile (or the scenario uses simulator-only ops).
 */
export function runOnKernel(scenario: unknown, options: RunOptions = {}): KernelRun {
  const translation = translateScenario(scenario);
  if ('skipped' in translation) return translation;
  const nOps = ((scenario as { ops: unknown[] }).ops ?? []).length;
  const support = kernelSupport();
  if (!support.available) return { skipped: `kernel runner unavailable: ${support.reason}` };
  const profile = (scenario as { profile?: unknown }).profile;
  const runner = buildRunner();
  return withMachineLock((): KernelRun => {
    let changes: { restore(): void }[] = [];
    if (options.adjustMachine === false) {
      const reasons = profileMismatches(profile, machineProfile());
      if (reasons.length > 0) return { skipped: reasons.join('; ') };
    } else {
      const adj = adjustMachine(profile, runner);
      if ('skipped' in adj) return adj;
      changes = adj.changes;
    }
    try {
      const results = runLines(translation.lines, options.timeoutMs);
      if (results.length !== nOps)
        throw new KernelRunnerError(`runner produced ${results.length} results for ${nOps} ops`);
      return { results };
    } finally {
      for (const c of changes.reverse()) c.restore();
    }
  });
}
