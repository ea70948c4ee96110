// Runs on this host's kernel for `pagewalk explore`'s server, through
// @pagewalk/kernel-runner in a child process (src/kernel-child.mjs): the
// runner is synchronous and can wait for the machine lock, and the server
// must keep answering meanwhile.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpResult, RecordingProfile, Scenario } from '@pagewalk/scenario';

/** Whether the host's kernel can run scenarios, and its profile. */
export type LiveKernelProbe = { available: true; profile: RecordingProfile } | { available: false; reason: string };

/** A run on the live kernel: the results and the profile they were made under, or why the runner skipped it. */
export type LiveKernelRun = { results: OpResult[]; profile: RecordingProfile } | { skipped: string };

export interface LiveKernel {
  probe(): Promise<LiveKernelProbe>;
  /** Runs a parsed scenario (under a recording's profile when given, else under the scenario's own requirements). */
  run(scenario: Scenario, profile: RecordingProfile | null): Promise<LiveKernelRun>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Where kernel-child.mjs is (src/, also when running from dist/). */
function childScript(): string {
  for (const candidate of [join(here, 'kernel-child.mjs'), join(here, '../src/kernel-child.mjs')]) if (existsSync(candidate)) return candidate;
  throw new Error('kernel-child.mjs is missing from @pagewalk/explorer');
}

/** Runs the child once; resolves with its one JSON line. */
function child(mode: 'probe' | 'run', input: string, env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [childScript(), mode], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        const why = stderr.trim().split('\n')[0] || `exit ${code ?? signal}`;
        reject(new Error(`kernel runner process failed: ${why}`));
      }
    });
    proc.stdin.end(input);
  });
}

/** The live kernel through @pagewalk/kernel-runner (PAGEWALK_KERNEL_RUNNER=unavailable in `env` turns it off). */
export function kernelRunnerProcess(options: { env?: NodeJS.ProcessEnv } = {}): LiveKernel {
  const env = options.env ?? process.env;
  return {
    probe: async () => {
      try {
        const answer = await child('probe', '', env);
        return answer.available === true
          ? { available: true, profile: answer.profile as RecordingProfile }
          : { available: false, reason: String(answer.reason ?? 'unknown') };
      } catch (error) {
        return { available: false, reason: error instanceof Error ? error.message : String(error) };
      }
    },
    run: async (scenario, profile) => {
      const answer = await child('run', JSON.stringify({ scenario, profile }), env);
      if (typeof answer.error === 'string') throw new Error(answer.error);
      if (typeof answer.skipped === 'string') return { skipped: answer.skipped };
      return { results: answer.results as OpResult[], profile: answer.profile as RecordingProfile };
    },
  };
}
