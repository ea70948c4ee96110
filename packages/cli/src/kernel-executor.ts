// The real-kernel side of `conform` and `fuzz`, behind a small interface so
// tests can inject a fake. The default one wraps @pagewalk/kernel-runner.
import type { OpResult, RecordingProfile, Scenario } from '@pagewalk/scenario';
import { CliError } from './cli-error.js';

/** A kernel run: its results and, from the real runner, the whole profile it ran under. */
export type KernelRun = { skipped: string } | { results: OpResult[]; profile?: RecordingProfile };

export interface KernelExecutor {
  /** Whether scenarios can run on this machine's kernel, and why not. */
  support(): { available: boolean; reason?: string };
  run(scenario: Scenario): Promise<KernelRun>;
  /** This machine's kernel profile (only when support() says available). */
  profile?(): RecordingProfile;
}

interface KernelRunnerModule {
  runOnKernel(scenario: unknown): KernelRun | Promise<KernelRun>;
  kernelSupport(): { available: boolean; reason?: string };
  hostProfile(): RecordingProfile;
}

const KERNEL_RUNNER = '@pagewalk/kernel-runner';

/** The kernel runner failed on a scenario (bad input for it, runner crash): reported as one line, not as a bug. */
export class KernelRunError extends CliError {
  constructor(message: string) {
    super(`kernel runner: ${message}`);
  }
}

/** Loads @pagewalk/kernel-runner; when it cannot be loaded the executor reports itself unavailable. */
export async function loadKernelExecutor(): Promise<KernelExecutor> {
  let module: KernelRunnerModule;
  try {
    module = (await import(KERNEL_RUNNER)) as KernelRunnerModule;
    if (typeof module.runOnKernel !== 'function' || typeof module.kernelSupport !== 'function') {
      throw new Error('it does not export runOnKernel and kernelSupport');
    }
  } catch (error) {
    const reason = `${KERNEL_RUNNER} is not usable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    return {
      support: () => ({ available: false, reason }),
      run: () => Promise.reject(new Error(reason)),
    };
  }
  return {
    support: () => module.kernelSupport(),
    profile: () => module.hostProfile(),
    run: async (scenario) => {
      try {
        return await module.runOnKernel(scenario);
      } catch (error) {
        throw new KernelRunError(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error));
      }
    },
  };
}
