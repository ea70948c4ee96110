/**
 * @pagewalk/kernel-runner — runs pagewalk scenarios on the real Linux kernel,
 * the conformance oracle for the simulator. See README.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  adjustMachine,
  machineProfile,
  probeWithRunner,
  recordingTarget,
  scenarioTarget,
  targetMismatches,
  unknownKeyReasons,
  type KernelProfile,
  type ProfileTarget,
  type RunnerProbe,
} from './profile.js';
import type { RecordingProfile, ScenarioProfile } from '@pagewalk/scenario';
import { translateScenario } from './translate.js';

export {
  adjustMachine,
  completeMthp,
  configHasSoftDirty,
  DEFAULT_PATHS,
  kernelVersion,
  machineProfile,
  parseMthpMode,
  parseSwapDevices,
  parseSwaps,
  parseThpMode,
  probeWithRunner,
  profileMismatches,
  PROFILE_KEYS,
  readMthp,
  recordingTarget,
  scenarioTarget,
  swapKindOf,
  targetMismatches,
  type KernelProfile,
  type MachineChange,
  type Mismatch,
  type ProfilePaths,
  type ProfileTarget,
  type RunnerProbe,
  type SwapDevice,
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

/**
 * Set PAGEWALK_KERNEL_RUNNER=unavailable to make the probe report the kernel
 * runner unavailable (as on a machine without Linux or a C compiler): the
 * test suite's path for such machines.
 */
export const UNAVAILABLE_ENV = 'PAGEWALK_KERNEL_RUNNER';

let probeCache: { support: KernelSupport; probe?: RunnerProbe } | undefined;

function probeHost(): { support: KernelSupport; probe?: RunnerProbe } {
  if (probeCache) return probeCache;
  probeCache = ((): { support: KernelSupport; probe?: RunnerProbe } => {
    if (process.env[UNAVAILABLE_ENV] === 'unavailable')
      return { support: { available: false, reason: `${UNAVAILABLE_ENV}=unavailable is set` } };
    if (platform() !== 'linux') return { support: { available: false, reason: `not Linux (${platform()})` } };
    try {
      const probe = probeWithRunner(buildRunner());
      return { support: { available: true }, probe };
    } catch (e) {
      return { support: { available: false, reason: (e as Error).message } };
    }
  })();
  return probeCache;
}

/** Whether scenarios can run on this machine's kernel (Linux, a C compiler, PAGEMAP_SCAN). */
export function kernelSupport(): KernelSupport {
  return probeHost().support;
}

/**
 * This machine's kernel profile, probed now (sysfs, procfs and one run of the
 * runner). Throws KernelRunnerError when the runner is unavailable.
 */
export function hostProfile(): KernelProfile {
  const { support, probe } = probeHost();
  if (!support.available) throw new KernelRunnerError(`kernel runner unavailable: ${support.reason}`);
  return machineProfile(undefined, probe);
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
  /** Change THP modes, swap and hugetlb pages (root only) to match the profile; default true. */
  adjustMachine?: boolean;
  /**
   * The profile to run under instead of the scenario's own requirements, e.g.
   * {@link recordingTarget} of a recording to re-check it.
   */
  target?: ProfileTarget;
  /** Milliseconds before the runner is killed; default 60 000. */
  timeoutMs?: number;
}

/** A kernel run: the results and the whole profile they were made under, or why it was skipped. */
export type KernelRun = { skipped: string } | { results: Record<string, unknown>[]; profile: RecordingProfile };

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

/** Whether a scenario uses userfaultfd (and so needs it on the host). */
export function usesUserfaultfd(scenario: unknown): boolean {
  const ops = (scenario as { ops?: unknown[] }).ops ?? [];
  return ops.some((op) => typeof (op as { op?: unknown }).op === 'string' && (op as { op: string }).op.startsWith('uffd_'));
}

/**
 * Whether this host can re-check a recording made under `profile`: the
 * reasons it cannot (empty = it can, adjusting what root may adjust).
 */
export function reproduceReasons(profile: RecordingProfile, scenario: unknown, host: KernelProfile = hostProfile()): string[] {
  const mismatches = targetMismatches(recordingTarget(profile, usesUserfaultfd(scenario)), host);
  const fixed = mismatches.filter((m) => !m.adjustable).map((m) => m.reason);
  if (fixed.length > 0) return fixed;
  if (mismatches.length > 0 && !host.root) return [`${mismatches.map((m) => m.reason).join('; ')} (not root, cannot adjust)`];
  return [];
}

/**
 * Runs one parsed scenario on the real kernel in a fresh process. Returns the
 * per-op results with the profile they were made under, or a skip reason when
 * the machine cannot provide the scenario's profile (or the scenario uses
 * simulator-only ops).
 */
export function runOnKernel(scenario: unknown, options: RunOptions = {}): KernelRun {
  const translation = translateScenario(scenario);
  if ('skipped' in translation) return translation;
  const nOps = ((scenario as { ops: unknown[] }).ops ?? []).length;
  const { support, probe } = probeHost();
  if (!support.available) return { skipped: `kernel runner unavailable: ${support.reason}` };
  const stated = (scenario as { profile?: ScenarioProfile }).profile;
  const unknown = unknownKeyReasons(stated);
  if (unknown.length > 0) return { skipped: unknown.join('; ') };
  const target: ProfileTarget = options.target ?? scenarioTarget(stated);
  if (usesUserfaultfd(scenario) && probe?.userfaultfd !== true)
    return { skipped: 'userfaultfd with WP_ASYNC is not available to this user (vm.unprivileged_userfaultfd=0 or no CONFIG_USERFAULTFD)' };
  const runner = buildRunner();
  return withMachineLock((): KernelRun => {
    let changes: { restore(): void }[] = [];
    if (options.adjustMachine === false) {
      const reasons = targetMismatches(target, machineProfile(undefined, probe));
      if (reasons.length > 0) return { skipped: reasons.map((m) => m.reason).join('; ') };
    } else {
      const adj = adjustMachine(target, runner, undefined, probe);
      if ('skipped' in adj) return adj;
      changes = adj.changes;
    }
    try {
      const profile = machineProfile(undefined, probe);
      const results = runLines(translation.lines, options.timeoutMs);
      if (results.length !== nOps)
        throw new KernelRunnerError(`runner produced ${results.length} results for ${nOps} ops`);
      return { results, profile };
    } finally {
      for (const c of changes.reverse()) c.restore();
    }
  });
}

/** The outcome of re-running a recording's scenario on this host under the recording's profile. */
export type Recheck =
  | { status: 'match' }
  | { status: 'drift'; live: Record<string, unknown>[] }
  | { status: 'skipped'; reason: string };

/**
 * Re-runs a recorded scenario on the live kernel under the profile the
 * recording was made under (adjusting THP, mTHP, swap and hugetlb as root)
 * and compares the results. A recording this host cannot reproduce (another
 * kernel release, zero page or soft-dirty setting, no userfaultfd, not root
 * where an adjustment is needed) is skipped with the reason, never failed.
 */
export function recheckRecording(
  scenario: unknown,
  recording: { profile: RecordingProfile; results: unknown[] },
  options: Omit<RunOptions, 'target'> = {},
): Recheck {
  const support = kernelSupport();
  if (!support.available) return { status: 'skipped', reason: `kernel runner unavailable: ${support.reason}` };
  const reasons = reproduceReasons(recording.profile, scenario);
  if (reasons.length > 0) return { status: 'skipped', reason: reasons.join('; ') };
  const run = runOnKernel(scenario, { ...options, target: recordingTarget(recording.profile, usesUserfaultfd(scenario)) });
  if ('skipped' in run) return { status: 'skipped', reason: run.skipped };
  return isDeepStrictEqual(run.results, recording.results) ? { status: 'match' } : { status: 'drift', live: run.results };
}
