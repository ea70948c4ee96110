// The README's `npm run bench` goes through scripts/bench.mjs and turbo,
// which spawns the package manager in packages/bench. That spawn once
// failed ("No such file or directory") when the root script ran turbo
// under `pnpm exec`, whose PATH starts with a relative directory; this
// runs the same path with such a PATH (quick sizes, no kernel side).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');

describe('root bench command', () => {
  it('package.json runs scripts/bench.mjs', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.bench).toBe('node scripts/bench.mjs');
  });

  it('runs the bench task through turbo, even with a relative PATH entry first', () => {
    const env = { ...process.env, PATH: ['./node_modules/.bin', process.env.PATH ?? ''].join(delimiter) };
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'bench.mjs'), '--skip-setup', '--quick', '--no-kernel', '--no-results'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(out).not.toContain('ERROR');
    expect(r.status).toBe(0);
    expect(out).toMatch(/ratio 1b-scan-alternate sim\/kernel = n\/a \(kernel side skipped/);
    expect(out).toContain('targets: not judged (--quick sizes)');
  }, 120_000);
});
