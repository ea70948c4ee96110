/**
 * The packages as the outside world gets them: publint and
 * are-the-types-wrong report nothing for any public package, and a fresh
 * project installs the packed tarballs with plain npm and runs the README
 * examples there, type-checked by TypeScript and run as ESM.
 *
 * The install needs the npm registry for third-party dependencies (tsyringe,
 * reflect-metadata, fast-check); where it cannot be reached the install test
 * is skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@pagewalk/scenario-runner';

const bin = (name: string) => join(REPOSITORY_ROOT, 'node_modules', '.bin', name);

/** Public packages: every packages/* that is not private. */
const PUBLIC = readdirSync(join(REPOSITORY_ROOT, 'packages'))
  .sort()
  .filter((dir) => {
    const manifest = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'packages', dir, 'package.json'), 'utf8')) as { private?: boolean };
    return manifest.private !== true;
  });

function run(command: string, args: string[], cwd: string, timeout = 180_000) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

describe('package lint', () => {
  it('lists the public packages', () => {
    expect(PUBLIC).toEqual(['cli', 'core-walk', 'explorer', 'guard-pages', 'hmm-migrate', 'kernel-runner', 'pagemap-scan', 'scenario', 'scenario-runner', 'uffd-wp']);
  });

  for (const dir of PUBLIC) {
    it(`publint and are-the-types-wrong report nothing for ${dir}`, { timeout: 60_000 }, () => {
      const cwd = join(REPOSITORY_ROOT, 'packages', dir);
      const publint = run(bin('publint'), ['--strict', '.'], cwd);
      expect(publint.output).toContain('All good!');
      expect(publint.status, publint.output).toBe(0);
      // ESM-only packages: the CommonJS resolutions (node10, require from node16) are out of scope.
      const attw = run(bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'], cwd);
      expect(attw.status, attw.output).toBe(0);
      const rows = attw.output.split('\n').filter((line) => /^(node16 \(from ESM\)|bundler):/.test(line));
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row, `${dir}: ${row}`).toContain('🟢');
    });
  }
});

const registry = run('npm', ['view', 'tsyringe', 'version'], REPOSITORY_ROOT, 30_000);
const registrySkip = registry.status === 0 ? '' : ` (skipped: the npm registry cannot be reached: ${registry.output.split('\n')[0]})`;

describe('pack and install', () => {
  it.skipIf(registrySkip !== '')(`a fresh npm project installs the tarballs and runs the README examples${registrySkip}`, { timeout: 600_000 }, () => {
    const scratch = mkdtempSync(join(tmpdir(), 'pagewalk-pack-'));
    const tarballs = join(scratch, 'tarballs');
    mkdirSync(tarballs);
    // pnpm pack turns workspace: ranges into the real versions, as a publish would.
    for (const dir of PUBLIC) {
      const packed = run(bin('pnpm'), ['pack', '--pack-destination', tarballs], join(REPOSITORY_ROOT, 'packages', dir));
      expect(packed.status, packed.output).toBe(0);
    }
    const files = readdirSync(tarballs).filter((name) => name.endsWith('.tgz'));
    expect(files).toHaveLength(PUBLIC.length);

    const project = join(scratch, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    const dependencies: Record<string, string> = {};
    for (const file of files) {
      const name = `@pagewalk/${basename(file).replace(/^pagewalk-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')}`;
      dependencies[name] = `file:../tarballs/${file}`;
    }
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies, devDependencies: { '@types/node': '^20.19.0' } }, null, 2),
    );

    // The README examples, as their packages ship them (examples/*.ts), and the root README's walker.
    const examples: { file: string; call: string }[] = [
      { file: 'allocator.ts', call: 'runAllocatorExample()' },
      { file: 'gpu-buffer.ts', call: 'gpuExample()' },
      { file: 'write-watch.ts', call: 'writeWatchExample()' },
      { file: 'run-and-walk.ts', call: 'runAndWalkExample()' },
      { file: 'dirty-tracker.ts', call: 'runDirtyTracker()' },
    ];
    for (const dir of ['guard-pages', 'hmm-migrate', 'pagemap-scan', 'scenario-runner', 'uffd-wp']) {
      for (const name of readdirSync(join(REPOSITORY_ROOT, 'packages', dir, 'examples'))) {
        copyFileSync(join(REPOSITORY_ROOT, 'packages', dir, 'examples', name), join(project, 'src', name));
      }
    }
    const readme = readFileSync(join(REPOSITORY_ROOT, 'README.md'), 'utf8');
    const rootExample = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(rootExample, 'the root README has a TypeScript example').toBeDefined();
    writeFileSync(join(project, 'src', 'root-readme.ts'), rootExample!);
    const exported = (file: string) => readFileSync(join(project, 'src', file), 'utf8');
    for (const { file, call } of examples) expect(exported(file), `${file} exports ${call}`).toContain(`export function ${call.replace('()', '')}`);
    writeFileSync(
      join(project, 'src', 'main.ts'),
      [
        ...examples.map(({ file, call }) => `import { ${call.replace('()', '')} } from './${file.replace(/\.ts$/, '.js')}';`),
        "import './root-readme.js';",
        ...examples.map(({ call }) => `console.log(JSON.stringify(${call}));`),
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', rootDir: 'src', skipLibCheck: false, types: ['node'] },
        include: ['src'],
      }),
    );

    const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project, 300_000);
    expect(install.status, install.output).toBe(0);
    const typecheck = run(bin('tsc'), ['-p', 'tsconfig.json'], project);
    expect(typecheck.status, typecheck.output).toBe(0);
    const main = run(process.execPath, [join(project, 'dist', 'main.js')], project);
    expect(main.status, main.output).toBe(0);
    // The root README example prints its present count; each example's result is the JSON line main.ts prints.
    const lines = main.output.trim().split('\n');
    expect(lines).toContain('1');
    const results = lines.slice(-examples.length).map((line) => JSON.parse(line) as unknown);
    expect(results[0]).toContain('stray write at a+8192 caught: SIGSEGV on the guard page');
    expect(results[1]).toMatchObject({ migrated: 4, problems: [] });
    expect(results[2]).toEqual({ first: [3, 4, 10], second: [4], third: [4] });
    expect(results[3]).toMatchObject({ present: 3 });
    // The CLI's bin works from the installed package too.
    const cli = run(process.execPath, [join(project, 'node_modules', '@pagewalk', 'cli', 'dist', 'bin.js'), '--version'], project);
    expect(cli.output).toMatch(/^pagewalk \d+\.\d+\.\d+/);
  });
});

describe('API reference', () => {
  it('builds with TypeDoc from the TSDoc of every public package', { timeout: 180_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'pagewalk-api-'));
    const built = run(bin('typedoc'), ['--out', out], REPOSITORY_ROOT);
    expect(built.status, built.output).toBe(0);
    expect(built.output).toMatch(/Found 0 errors/);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    for (const dir of PUBLIC) expect(index, dir).toContain(`@pagewalk/${dir}`);
  });
});
