// The live-kernel side of `pagewalk explore`'s server, in a child process
// so that the server keeps answering while the kernel runner (synchronous:
// it compiles, locks the machine and waits for the runner) works.
//   node kernel-child.mjs probe       -> {"available": true, "profile": {...}} | {"available": false, "reason": "..."}
//   node kernel-child.mjs run < job   -> {"results": [...], "profile": {...}} | {"skipped": "..."} | {"error": "..."}
// job: {"scenario": <parsed scenario>, "profile": <recording profile to run under> | null}.
import { readFileSync } from 'node:fs';

const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const firstLine = (error) => (error instanceof Error ? error.message : String(error)).split('\n')[0];

let runner;
try {
  runner = await import('@pagewalk/kernel-runner');
} catch (error) {
  runner = { failed: `@pagewalk/kernel-runner is not usable (${firstLine(error)})` };
}

const mode = process.argv[2];
if (mode === 'probe') {
  if (runner.failed !== undefined) reply({ available: false, reason: runner.failed });
  else {
    const support = runner.kernelSupport();
    if (!support.available) reply({ available: false, reason: support.reason ?? 'unknown' });
    else {
      try {
        reply({ available: true, profile: runner.hostProfile() });
      } catch (error) {
        reply({ available: false, reason: firstLine(error) });
      }
    }
  }
} else if (mode === 'run') {
  if (runner.failed !== undefined) reply({ error: runner.failed });
  else {
    try {
      const job = JSON.parse(readFileSync(0, 'utf8'));
      const target = job.profile ? runner.recordingTarget(job.profile, runner.usesUserfaultfd(job.scenario)) : undefined;
      reply(runner.runOnKernel(job.scenario, target === undefined ? {} : { target }));
    } catch (error) {
      reply({ error: `kernel runner: ${firstLine(error)}` });
    }
  }
} else {
  process.stderr.write('usage: kernel-child.mjs probe|run\n');
  process.exitCode = 2;
}
