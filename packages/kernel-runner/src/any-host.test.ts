/**
 * The test suite must pass on any machine: with the zero page on or off, as
 * a non-root user (no userfaultfd, no profile switching) and where no kernel
 * runner can run at all. These tests take each path for real, in a child
 * process: PAGEWALK_KERNEL_RUNNER=unavailable, and (as root) the same calls
 * as the unprivileged user "nobody".
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, hostProfile, kernelSupport, UNAVAILABLE_ENV } from './index.js';

const DIST = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'index.js')).href;
const CORPUS = join(PACKAGE_ROOT, '..', '..', 'corpus');
const recording = (path: string) => JSON.parse(readFileSync(join(CORPUS, path), 'utf8')) as { profile: unknown; results: unknown[] };
const scenario = (path: string) => JSON.parse(readFileSync(join(CORPUS, path), 'utf8')) as unknown;

/** Runs `body` (an async function body using `m`, the kernel runner module) in a child node; returns what it prints as JSON. */
function inChild(body: string, options: { env?: Record<string, string>; uid?: number } = {}): unknown {
  const script = `const m = await import(${JSON.stringify(DIST)}); const out = await (async () => { ${body} })(); process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    cwd: PACKAGE_ROOT,
    timeout: 60_000,
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

describe('a machine where no kernel runner can run', () => {
  it('reports the runner unavailable with the reason, and every kernel call skips', () => {
    const out = inChild(
      `return {
        support: m.kernelSupport(),
        run: m.runOnKernel({ name: 'x', arena_pages: 4, ops: [{ op: 'mmap', page: 0, pages: 1, prot: 'rw' }] }),
        recheck: m.recheckRecording(${JSON.stringify(scenario('core/mmap-basic-anon.json'))}, ${JSON.stringify(recording('core/mmap-basic-anon.kernel.json'))}),
        profile: (() => { try { m.hostProfile(); return 'no error'; } catch (e) { return e.message; } })(),
      };`,
      { env: { [UNAVAILABLE_ENV]: 'unavailable' } },
    );
    const reason = `${UNAVAILABLE_ENV}=unavailable is set`;
    expect(out).toEqual({
      support: { available: false, reason },
      run: { skipped: `kernel runner unavailable: ${reason}` },
      recheck: { status: 'skipped', reason: `kernel runner unavailable: ${reason}` },
      profile: `kernel runner unavailable: ${reason}`,
    });
  });

  it('the kernel-runner tests pass there, skipping the live comparisons with the reason', () => {
    const vitest = join(PACKAGE_ROOT, '..', '..', 'node_modules', '.bin', 'vitest');
    const r = spawnSync(vitest, ['run', 'src/kernel-runner.test.ts', '--reporter=verbose'], {
      cwd: PACKAGE_ROOT,
      encoding: 'utf8',
      env: { ...process.env, [UNAVAILABLE_ENV]: 'unavailable', CI: 'true' },
      timeout: 120_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`skipped: ${UNAVAILABLE_ENV}=unavailable is set`);
  });
});

const support = kernelSupport();
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** Whether "nobody" can read this checkout (a clone under a private directory cannot be). */
const nobodyCanRead =
  isRoot &&
  spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(PACKAGE_ROOT, 'dist', 'index.js'))}, require('fs').constants.R_OK)`], {
    uid: 65534,
    gid: 65534,
  }).status === 0;
const nonRootSkip = !support.available
  ? ` (skipped: ${support.reason})`
  : !isRoot
    ? ' (skipped: needs root to become nobody; a non-root run takes this path itself)'
    : !nobodyCanRead
      ? ' (skipped: the user nobody cannot read this checkout)'
      : '';

describe('a non-root user', () => {
  it.skipIf(nonRootSkip !== '')(
    `probes the profile, runs plain scenarios and skips what it cannot switch or use${nonRootSkip}`,
    () => {
      const host = hostProfile();
      const tag = host.zero_page ? '' : '.nozero';
      const out = inChild(
        `return {
          profile: m.hostProfile(),
          plain: m.recheckRecording(${JSON.stringify(scenario('core/mmap-basic-anon.json'))}, ${JSON.stringify(recording(`core/mmap-basic-anon${tag}.kernel.json`))}),
          otherZero: m.recheckRecording(${JSON.stringify(scenario('core/mmap-basic-anon.json'))}, ${JSON.stringify(recording(`core/mmap-basic-anon${host.zero_page ? '.nozero' : ''}.kernel.json`))}),
          swapFile: m.recheckRecording(${JSON.stringify(scenario('thp/thp-pageout-swap-file.json'))}, ${JSON.stringify(recording('thp/thp-pageout-swap-file.kernel.json'))}),
          uffd: m.runOnKernel(${JSON.stringify(scenario('uffd/uffd-sync-wp-faults.json'))}),
        };`,
        { uid: 65534 },
      ) as { profile: { root: boolean; userfaultfd: boolean; swap: unknown }; plain: unknown; otherZero: unknown; swapFile: unknown; uffd: unknown };
      expect(out.profile.root).toBe(false);
      expect(out.plain).toEqual({ status: 'match' });
      expect(out.otherZero).toEqual({
        status: 'skipped',
        reason: `profile zero_page=${!host.zero_page} but the machine has ${host.zero_page}`,
      });
      if (out.profile.swap !== 'file') {
        expect(out.swapFile).toEqual({ status: 'skipped', reason: expect.stringMatching(/profile swap="file" .*\(not root, cannot adjust\)$/) });
      }
      if (!out.profile.userfaultfd) {
        expect(out.uffd).toEqual({ skipped: expect.stringMatching(/^userfaultfd with WP_ASYNC is not available to this user/) });
      }
    },
  );
});
