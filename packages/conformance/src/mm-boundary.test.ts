/**
 * Issue 13: no package outside core-walk and the mm packages (guard-pages,
 * uffd-wp, hmm-migrate) writes a page table, a frame or a VMA
 * (docs/ARCHITECTURE.md, "The mm-internal boundary"). Three checks:
 * - TypeScript: the public types are read-only, so a write does not compile;
 * - eslint: the mm-boundary rule flags writes by shape, also in plain
 *   JavaScript, and every package outside the mm packages lints clean;
 * - at run time, pagemap-scan's no-table-writes test watches the pools.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as core from '@pagewalk/core-walk';
import { REPOSITORY_ROOT } from '@pagewalk/scenario-runner';

const MARK = 'mm-boundary:';
const MM_PACKAGES = ['core-walk', 'guard-pages', 'hmm-migrate', 'uffd-wp'];

/** Writes an outside package might try, one per line. */
const WRITES = [
  'kernel.tables.entries[0] = 1;',
  'kernel.tables.entries[0] |= 2;',
  'kernel.tables.entries[0]++;',
  'kernel.tables.entries.fill(0);',
  'kernel.frames.refcount[1] = 5;',
  'kernel.frames.mapcount[1] -= 1;',
  'kernel.frames.flags[1] = 0;',
  'kernel.frames.put(1);',
  'kernel.frames.alloc(0, 0);',
  'kernel.frames.contents.writeByte(1, 0, 7);',
  'kernel.tables.alloc();',
  'vma.flags = 0;',
  'vma.end += 4096;',
  'mm.vmas.lookup(0)!.flags |= 1;',
  'mm.vmas.insert(vma);',
  'mm.allocTableAt(0);',
  'mm.pteSlot(0, true);',
  'mm.splitHugePmd(vma, 0, 0);',
  'mm.anonVmaPrepare(vma);',
];

const PREAMBLE = `import { createKernel, type Vma } from '@pagewalk/core-walk';
const kernel = createKernel();
const mm = kernel.createMm();
declare const vma: Vma;
`;

describe('the public types are read-only', () => {
  it('each write is a type error; the same reads compile', () => {
    const dir = join(REPOSITORY_ROOT, 'packages/pagemap-scan/src');
    const writes = join(dir, '__boundary_writes__.ts');
    const reads = join(dir, '__boundary_reads__.ts');
    const sources = new Map([
      [writes, PREAMBLE + WRITES.join('\n') + '\n'],
      [reads, PREAMBLE + 'export const r = [kernel.tables.entries[0], kernel.frames.refcount[1], kernel.frames.folioOf(1), vma.flags, mm.pteSlot(0), mm.pmdSlot(0, false)];\n'],
    ]);
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      customConditions: ['@pagewalk/source'],
      types: ['node'],
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (file) => sources.get(file) ?? readFile(file);
    host.fileExists = (file) => sources.has(file) || fileExists(file);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (file, language) => {
      const text = sources.get(file);
      return text === undefined ? getSourceFile(file, language) : ts.createSourceFile(file, text, language);
    };
    const program = ts.createProgram([writes, reads], options, host);
    const errorLines = (file: string) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start!);
        return line - PREAMBLE.split('\n').length + 1;
      });
    expect(errorLines(reads)).toEqual([]);
    const lines = new Set(errorLines(writes));
    const compiled = WRITES.filter((_, i) => !lines.has(i));
    expect(compiled).toEqual([]);
  }, 60_000);
});

describe('the mm-boundary lint rule', () => {
  const eslint = new ESLint({ cwd: REPOSITORY_ROOT });
  const flagged = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(REPOSITORY_ROOT, file) });
    return result!.messages.filter((m) => m.message.startsWith(MARK)).length;
  };

  it('flags every write outside the mm packages, in source, tests and plain JavaScript', async () => {
    for (const file of ['packages/pagemap-scan/src/x.ts', 'packages/cli/src/x.ts', 'packages/explorer/src/model/x.ts', 'packages/bench/src/x.ts', 'packages/conformance/src/x.test.ts', 'packages/cli/x.mjs']) {
      for (const write of WRITES) {
        const js = file.endsWith('.mjs');
        const code = js ? `export function f(kernel, mm, vma) {\n  ${write.replace('!', '')}\n}\n` : `export function f(kernel: any, mm: any, vma: any) {\n  ${write}\n}\n`;
        expect(await flagged(file, code), `${file}: ${write}`).toBe(1);
      }
    }
  }, 120_000);

  it('does not flag reads, nor the mm packages', async () => {
    const read = 'export function f(kernel: any, mm: any, vma: any) {\n  return [kernel.tables.entries[0], kernel.frames.refcount[1], vma.flags, mm.pteSlot(0, false), kernel.frames.has(1, 2)];\n}\n';
    expect(await flagged('packages/pagemap-scan/src/x.ts', read)).toBe(0);
    for (const dir of MM_PACKAGES) expect(await flagged(`packages/${dir}/src/x.ts`, `export function f(kernel: any) {\n  kernel.tables.entries[0] = 1;\n}\n`)).toBe(0);
  });

  it('plantPteForTest is refused outside tests', async () => {
    const code = "import { plantPteForTest } from '@pagewalk/core-walk/testing';\nexport const p = plantPteForTest;\n";
    const [shipped] = await eslint.lintText(code, { filePath: join(REPOSITORY_ROOT, 'packages/cli/src/x.ts') });
    expect(shipped!.messages.some((m) => m.ruleId === 'no-restricted-imports')).toBe(true);
    const [test] = await eslint.lintText(code, { filePath: join(REPOSITORY_ROOT, 'packages/cli/src/x.test.ts') });
    expect(test!.messages.some((m) => m.ruleId === 'no-restricted-imports')).toBe(false);
  });

  it('no package outside core-walk and the mm packages writes a table, a frame or a VMA', async () => {
    const outside = readdirSync(join(REPOSITORY_ROOT, 'packages')).filter((dir) => !MM_PACKAGES.includes(dir));
    expect(outside).toContain('pagemap-scan');
    const results = await eslint.lintFiles(outside.map((dir) => `packages/${dir}`));
    const writes = results.flatMap((r) => r.messages.filter((m) => m.message.startsWith(MARK)).map((m) => `${r.filePath}:${m.line}`));
    expect(writes).toEqual([]);
  }, 300_000);
});

describe('the writers are mm-internal', () => {
  it('the public barrel exports no writable pool or writer; mm-internal has them', () => {
    const publicNames = new Set(Object.keys(core));
    for (const name of ['TablePool', 'FramePool', 'tablesOf', 'framesOf', 'vmasOf', 'writableVma', 'allocTableAt', 'pteSlotOf', 'pmdSlotOf', 'splitHugePmd', 'anonVmaPrepare', 'unmapRegion']) {
      expect(publicNames.has(name), name).toBe(false);
    }
    const mm = core.createKernel().createMm();
    for (const name of ['allocTableAt', 'splitHugePmd', 'anonVmaPrepare', 'unmapRegion']) expect(name in mm, name).toBe(false);
  });
});
