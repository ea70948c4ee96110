// Shared helpers of the CLI tests (not exported from the package barrel).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpResult, Scenario } from '@pagewalk/scenario';
import type { KernelExecutor, KernelRun } from './kernel-executor.js';
import type { CliDependencies, CliIo } from './main.js';
import { main } from './main.js';

export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs main() with captured output. */
export async function runCli(argv: string[], dependencies: CliDependencies = {}, isTty = false): Promise<CapturedRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    isTty,
  };
  const status = await main(argv, io, dependencies);
  return { status, stdout, stderr };
}

/** A fresh temporary directory. */
export function temporaryDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'pagewalk-cli-test-'));
}

/** Writes files (name → content; objects are JSON-encoded) into a new directory and returns it. */
export function writeFiles(files: Record<string, unknown>): string {
  const directory = temporaryDirectory();
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(directory, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return directory;
}

/** A kernel executor that answers from a function. */
export function fakeKernel(answer: (scenario: Scenario) => KernelRun | OpResult[], available = true): KernelExecutor {
  return {
    support: () => (available ? { available: true } : { available: false, reason: 'fake kernel is switched off' }),
    run: async (scenario) => {
      const run = answer(scenario);
      return Array.isArray(run) ? { results: run } : run;
    },
  };
}
