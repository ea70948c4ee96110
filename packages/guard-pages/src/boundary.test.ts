/**
 * The mm-internal boundary (docs/ARCHITECTURE.md, "The mm-internal boundary"): the installing walker is reachable
 * only through '@pagewalk/core-walk/mm-internal', only the mm packages may
 * import it (lint fence + import scan), the public walkers refuse installPte
 * at run time, and this package needs nothing beyond its declared peer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import * as core from '@pagewalk/core-walk';
import * as internal from '@pagewalk/core-walk/mm-internal';
import corePackage from '@pagewalk/core-walk/package.json' with { type: 'json' };
import { MADV_GUARD_INSTALL, MADV_GUARD_REMOVE, createKernel, walkPageMapping, walkPageRange, walkPageRangeNovma, walkPageRangeVma, walkPageVma } from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, mapAnon } from '@pagewalk/core-walk/testing';
import { guardInstallVma, guardInstallWalkOps, guardPages } from './index.js';
import ownPackage from '../package.json' with { type: 'json' };

const REPO_ROOT = join(import.meta.dirname, '../../..');
const ALLOWED = ['guard-pages', 'hmm-migrate', 'uffd-wp'];
const INTERNAL_IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"]@pagewalk\/core-walk\/mm-internal['"]/;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('lint fence', () => {
  const eslint = new ESLint({ cwd: REPO_ROOT });
  const code = "import { walkPageRangeMm } from '@pagewalk/core-walk/mm-internal';\nexport const w = walkPageRangeMm;\n";
  const fenced = async (filePath: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, filePath) });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
  };

  it('flags an ordinary package importing mm-internal', async () => {
    const messages = await fenced('packages/scenario-runner/src/x.ts');
    expect(messages).toHaveLength(1);
    expect(messages[0]!.message).toMatch(/mm-internal is only for guard-pages, uffd-wp and hmm-migrate/);
    expect(await fenced('packages/cli/src/x.ts')).toHaveLength(1);
  });

  it('allows guard-pages (and the other mm packages)', async () => {
    expect(await fenced('packages/guard-pages/src/x.ts')).toEqual([]);
    expect(await fenced('packages/uffd-wp/src/x.ts')).toEqual([]);
  });

  it('rejects keeping a pool view in a name (issue 19: uffd-wp wrote into a discarded table array)', async () => {
    const lint = async (code: string) => {
      const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, 'packages/uffd-wp/src/x.ts') });
      return result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').length;
    };
    expect(await lint('export function f(mm: any) { const entries = mm.kernel.tables.entries; return entries[0]; }\n')).toBe(1);
    expect(await lint('export function f(k: any) { const { refcount } = k.frames; return refcount[0]; }\n')).toBe(1);
    expect(await lint('export function f(frames: any) { const flags = frames.flags; return flags[0]; }\n')).toBe(1);
    expect(await lint('export function f(mm: any) { let e; e = mm.kernel.tables.entries; return e[0]; }\n')).toBe(1);
    expect(await lint('export function f(mm: any, slot: number) { return mm.kernel.tables.entries[slot]; }\n')).toBe(0);
  });

  it('the fence and this test agree on the allowlist', async () => {
    const config = (await import(join(REPO_ROOT, 'eslint.config.js'))) as { MM_INTERNAL_PACKAGES: string[] };
    expect([...config.MM_INTERNAL_PACKAGES].sort()).toEqual(ALLOWED);
  });
});

describe('exports map', () => {
  it("core-walk's only internal subpath is ./mm-internal", () => {
    expect(Object.keys(corePackage.exports).sort()).toEqual(['.', './mm-internal', './package.json', './pgtable', './swapops', './testing']);
    expect(Object.keys(corePackage.exports).filter((key) => /internal|unsafe/.test(key))).toEqual(['./mm-internal']);
  });

  it('the public barrel has none of the mm-internal functions', () => {
    const publicNames = new Set(Object.keys(core));
    for (const name of ['walkPageRangeUnsafe', 'walkPageRangeMm', 'zapVmaRange', 'accountPteMap', 'splitHugePmd', 'madviseWalkVmas', 'populateRange']) {
      expect(publicNames.has(name), name).toBe(false);
    }
    expect(Object.keys(internal).filter((name) => publicNames.has(name))).toEqual([]);
    // The module itself exports no mm function: only the claim (checked at run time).
    expect(Object.keys(internal).sort()).toEqual(['MM_INTERNAL_PACKAGE_NAMES', 'MmInternalAccessError', 'claimMmInternal']);
    expect(typeof internal.claimMmInternal().walkPageRangeMm).toBe('function');
  });

  it('a package that does not declare core-walk cannot resolve mm-internal; nobody can resolve unexported paths', () => {
    // Plain Node resolution in a child process (the test runner's own resolver is more lenient).
    const resolveFrom = (pkg: string, specifier: string): string => {
      const script = `const r = require('node:module').createRequire(${JSON.stringify(join(REPO_ROOT, 'packages', pkg, 'package.json'))});
try { console.log(r.resolve(${JSON.stringify(specifier)})); } catch (e) { console.log(e.code); }`;
      return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).stdout.trim();
    };
    expect(resolveFrom('scenario', '@pagewalk/core-walk/mm-internal')).toBe('MODULE_NOT_FOUND');
    expect(resolveFrom('guard-pages', '@pagewalk/core-walk/mm-internal')).toMatch(/core-walk\/dist\/mm-internal\.js$/);
    expect(resolveFrom('guard-pages', '@pagewalk/core-walk/dist/pagewalk.js')).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(resolveFrom('guard-pages', '@pagewalk/core-walk/src/mm-internal.ts')).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

describe('runtime check in the public walkers', () => {
  it('every public entry point returns -EINVAL for ops carrying installPte', () => {
    const kernel = createKernel();
    const mm = kernel.createMm();
    mapAnon(mm, 0, 4);
    const vma = mm.vmas.lookup(TEST_ARENA_BASE)!;
    const ops = guardInstallWalkOps as any;
    const state = { nrPages: 0 };
    const file = kernel.memfdCreate('f', 4096);
    if (typeof file === 'number') throw new Error('memfd');
    expect(walkPageRange(mm, TEST_ARENA_BASE, TEST_ARENA_BASE + 4096, ops, state)).toBe(-core.Errno.EINVAL);
    expect(walkPageVma(vma, ops, state)).toBe(-core.Errno.EINVAL);
    expect(walkPageRangeVma(vma, TEST_ARENA_BASE, TEST_ARENA_BASE + 4096, ops, state)).toBe(-core.Errno.EINVAL);
    expect(walkPageRangeNovma(mm, TEST_ARENA_BASE, TEST_ARENA_BASE + 4096, ops, state)).toBe(-core.Errno.EINVAL);
    expect(walkPageMapping(file, 0, 1, ops, state)).toBe(-core.Errno.EINVAL);
    expect(state.nrPages).toBe(0);
    expect(mm.entryAt(TEST_ARENA_BASE).entry).toBe(0);
  });
});

describe('import scan', () => {
  it('only guard-pages, uffd-wp and hmm-migrate import mm-internal', () => {
    const packagesDir = join(REPO_ROOT, 'packages');
    const importers = new Set<string>();
    for (const dir of readdirSync(packagesDir)) {
      // core-walk owns mm-internal (its attack suite quotes the import in a child's script).
      if (dir === 'core-walk') continue;
      let files: string[];
      try {
        files = sourceFiles(join(packagesDir, dir, 'src'));
      } catch {
        continue;
      }
      for (const file of files) if (INTERNAL_IMPORT.test(readFileSync(file, 'utf8'))) importers.add(dir);
    }
    expect(importers.has('guard-pages')).toBe(true);
    expect([...importers].filter((dir) => !ALLOWED.includes(dir))).toEqual([]);
  });
});

describe('declared capabilities only', () => {
  it('package.json declares exactly core-walk as a peer and nothing at run time', () => {
    expect(ownPackage.peerDependencies).toEqual({ '@pagewalk/core-walk': 'workspace:>=0.1.0 <1.0.0' });
    expect((ownPackage as { dependencies?: unknown }).dependencies).toBeUndefined();
  });

  it('shipped sources import only core-walk (and the plugin contract\'s types), and only register.ts touches the container', () => {
    const files = sourceFiles(join(REPO_ROOT, 'packages/guard-pages/src')).filter((f) => !/\.test(-d)?\.ts$/.test(f));
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Type-only imports of the contract (@pagewalk/scenario's FeaturePlugin) leave nothing at run time.
      const runtime = text.replace(/import type [^;]*from '@pagewalk\/scenario';/g, '');
      for (const [, specifier] of runtime.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        expect(specifier!.startsWith('./') || specifier === '@pagewalk/core-walk' || specifier === '@pagewalk/core-walk/mm-internal', `${file}: ${specifier}`).toBe(true);
      }
      if (!file.endsWith('register.ts')) expect(/container\.|tsyringe/.test(text), file).toBe(false);
    }
  });

  it('a kernel with only this feature installs and removes guards', () => {
    const kernel = createKernel({ features: [guardPages] });
    expect(kernel.featureNames).toEqual(['guard-pages']);
    expect([...kernel.madviseBehaviors.keys()].sort()).toEqual([MADV_GUARD_INSTALL, MADV_GUARD_REMOVE]);
    const mm = kernel.createMm();
    mapAnon(mm, 0, 2);
    expect(mm.madvise(TEST_ARENA_BASE, 8192, MADV_GUARD_INSTALL)).toBe(0);
    expect(mm.access(TEST_ARENA_BASE, core.AccessKind.Read)).toBe(-core.SIGSEGV);
    expect(mm.madvise(TEST_ARENA_BASE, 8192, MADV_GUARD_REMOVE)).toBe(0);
    expect(mm.access(TEST_ARENA_BASE, core.AccessKind.Read)).toBe(0);
  });

  it('installing the feature twice is a configuration error', () => {
    expect(() => createKernel({ features: [guardPages, guardPages] })).toThrow(/installed twice/);
  });
});

describe('issue 19: the public guard helpers and polluted prototypes', () => {
  it('guardInstallVma clamps to its VMA: an mlocked neighbour is left alone', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 8);
    expect(mm.mlock(TEST_ARENA_BASE + 4 * 4096, 4 * 4096)).toBe(0);
    const first = mm.vmas.lookup(TEST_ARENA_BASE)!;
    expect(first.end).toBe(TEST_ARENA_BASE + 4 * 4096);
    // madvise refuses the locked part; the helper called with too wide a range guards only its own VMA.
    expect(mm.madvise(TEST_ARENA_BASE, 8 * 4096, MADV_GUARD_INSTALL)).toBe(-core.Errno.EINVAL);
    expect(guardInstallVma(mm, first, TEST_ARENA_BASE, TEST_ARENA_BASE + 8 * 4096)).toBe(0);
    for (let i = 0; i < 4; i++) expect(mm.access(TEST_ARENA_BASE + i * 4096, core.AccessKind.Read)).toBe(-core.SIGSEGV);
    for (let i = 4; i < 8; i++) expect(core.isGuardPteMarker(mm.leafEntry(TEST_ARENA_BASE + i * 4096))).toBe(false);
    const locked = mm.vmas.lookup(TEST_ARENA_BASE + 4 * 4096)!;
    expect(guardInstallVma(mm, locked, locked.start, locked.end)).toBe(-core.Errno.EINVAL);
    // A VMA of another mm, and a range outside the VMA, are EINVAL.
    expect(guardInstallVma(kernel.createMm(), first, first.start, first.end)).toBe(-core.Errno.EINVAL);
    expect(guardInstallVma(mm, first, first.end, first.end + 4096)).toBe(-core.Errno.EINVAL);
  });

  it('Object.prototype.testWalk / installPte / walkLock do not change guard install or remove', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 4);
    const proto = Object.prototype as Record<string, unknown>;
    proto.testWalk = () => 1;
    proto.installPte = () => 0;
    proto.walkLock = 99;
    try {
      expect(mm.madvise(TEST_ARENA_BASE, 4 * 4096, MADV_GUARD_INSTALL)).toBe(0);
      for (let i = 0; i < 4; i++) expect(mm.access(TEST_ARENA_BASE + i * 4096, core.AccessKind.Read)).toBe(-core.SIGSEGV);
      expect(mm.madvise(TEST_ARENA_BASE, 4 * 4096, MADV_GUARD_REMOVE)).toBe(0);
      expect(mm.access(TEST_ARENA_BASE, core.AccessKind.Read)).toBe(0);
    } finally {
      delete proto.testWalk;
      delete proto.installPte;
      delete proto.walkLock;
    }
  });
});
