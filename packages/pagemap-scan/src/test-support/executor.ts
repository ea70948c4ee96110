// Test-only: a minimal scenario executor for the core ops (a copy of what the
// CLI's core-op-handlers do; importing @pagewalk/cli would be a cycle) plus
// this package's scan / pagemap handlers, and the corpus file list.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AccessKind,
  createKernel,
  errnoName,
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MADV_WILLNEED,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  type Feature,
  type Kernel,
  type KernelProfile,
  type Mm,
} from '@pagewalk/core-walk';
import { parseResults, parseScenario, type OpName, type OpResult, type Scenario, type ScenarioOp } from '@pagewalk/scenario';
import { pagemapScanFeature, scenarioOps, type ScenarioOpContext } from '../index.js';

export const ARENA_BASE = 0x7e00_0000_0000;
const PAGE = 4096;
const PROT = { none: 0, r: PROT_READ, rw: PROT_READ | PROT_WRITE, rx: PROT_READ | PROT_EXEC, rwx: PROT_READ | PROT_WRITE | PROT_EXEC };
const ADVICE = {
  dontneed: MADV_DONTNEED, free: MADV_FREE, pageout: MADV_PAGEOUT, cold: MADV_COLD, willneed: MADV_WILLNEED,
  hugepage: MADV_HUGEPAGE, nohugepage: MADV_NOHUGEPAGE, populate_read: MADV_POPULATE_READ, populate_write: MADV_POPULATE_WRITE,
  remove: MADV_REMOVE, collapse: MADV_COLLAPSE, guard_install: MADV_GUARD_INSTALL, guard_remove: MADV_GUARD_REMOVE,
};
export const CORE_OPS: readonly OpName[] = ['mmap', 'munmap', 'mprotect', 'madvise', 'mlock', 'munlock', 'write', 'read', 'clear_soft_dirty'];

const sys = (op: OpName, value: number): OpResult => (value >= 0 ? { op, ret: 0 } : { op, ret: -1, errno: errnoName(value) });
const signal = (value: number) => (value === -SIGBUS ? 'SIGBUS' : 'SIGSEGV');

function coreOp(op: ScenarioOp, kernel: Kernel, mm: Mm): OpResult {
  const at = (page: number) => ARENA_BASE + page * PAGE;
  switch (op.op) {
    case 'mmap': {
      let flags = MAP_FIXED_NOREPLACE | (op.map === 'shared' ? MAP_SHARED : MAP_PRIVATE) | (op.populate ? MAP_POPULATE : 0);
      if (op.backing === 'anon') return sys('mmap', mm.mmap(at(op.page), op.pages * PAGE, PROT[op.prot], flags | MAP_ANONYMOUS | (op.hugetlb ? MAP_HUGETLB : 0)));
      const file = kernel.memfdCreate('pagewalk', op.pages * PAGE, { hugetlb: op.hugetlb === true });
      if (typeof file === 'number') return sys('mmap', file);
      flags |= 0;
      return sys('mmap', mm.mmap(at(op.page), op.pages * PAGE, PROT[op.prot], flags, file, 0));
    }
    case 'munmap': return sys('munmap', mm.munmap(at(op.page), op.pages * PAGE));
    case 'mprotect': return sys('mprotect', mm.mprotect(at(op.page), op.pages * PAGE, PROT[op.prot]));
    case 'madvise': return sys('madvise', mm.madvise(at(op.page), op.pages * PAGE, ADVICE[op.advice]));
    case 'mlock': return sys('mlock', mm.mlock(at(op.page), op.pages * PAGE));
    case 'munlock': return sys('munlock', mm.munlock(at(op.page), op.pages * PAGE));
    case 'write':
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(at(page), AccessKind.Write, op.byte);
        if (value < 0) return { op: 'write', signal: signal(value), page };
      }
      return { op: 'write', ret: 0 };
    case 'read': {
      const bytes: number[] = [];
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(at(page), AccessKind.Read);
        if (value < 0) return { op: 'read', signal: signal(value), page, bytes };
        bytes.push(value);
      }
      return { op: 'read', ret: 0, bytes };
    }
    case 'clear_soft_dirty': return sys('clear_soft_dirty', mm.clearRefs(4));
    default: return { op: op.op, unsupported: true };
  }
}

export function profileOf(profile: Scenario['profile']): Partial<KernelProfile> {
  const out: { -readonly [K in keyof KernelProfile]?: KernelProfile[K] } = {};
  if (profile?.thp !== undefined) out.thp = profile.thp;
  if (profile?.thp_zero_page !== undefined) out.thpZeroPage = profile.thp_zero_page;
  if (profile?.soft_dirty !== undefined) out.softDirty = profile.soft_dirty;
  if (profile?.swap !== undefined) out.swap = profile.swap;
  if (profile?.hugetlb_pages !== undefined) out.hugetlbPages = profile.hugetlb_pages;
  return out;
}

/** Runs a scenario with the core ops and this package's ops (plus any extra features). */
export type ExtraOpHandler = (op: ScenarioOp, context: ScenarioOpContext) => OpResult;

export function runScenario(
  scenario: Scenario,
  features: readonly Feature[] = [],
  extraOps: Partial<Record<OpName, ExtraOpHandler>> = {},
): { results: OpResult[]; kernel: Kernel; mm: Mm } {
  const kernel = createKernel({ profile: profileOf(scenario.profile), features: [pagemapScanFeature, ...features] });
  const mm = kernel.createMm();
  const context: ScenarioOpContext = {
    kernel,
    mm,
    arenaBase: ARENA_BASE,
    addressOf: (page) => ARENA_BASE + page * PAGE,
    pageOf: (address) => (address - ARENA_BASE) / PAGE,
  };
  const results = scenario.ops.map((op) => {
    const handler = scenarioOps[op.op] ?? extraOps[op.op];
    return handler !== undefined ? handler(op, context) : coreOp(op, kernel, mm);
  });
  return { results, kernel, mm };
}

const here = dirname(fileURLToPath(import.meta.url));
export const CORPUS_DIR = resolve(here, '..', '..', '..', '..', 'corpus');

export interface CorpusEntry {
  /** Path relative to corpus/, e.g. scan/scan-anyof.json. */
  path: string;
  scenario: Scenario;
  expected: OpResult[] | null;
}

export function loadCorpus(): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.json') && !entry.name.endsWith('.kernel.json')) {
        const recording = file.replace(/\.json$/, '.kernel.json');
        if (!existsSync(recording)) continue; // being written by someone right now
        const scenario = parseScenario(readFileSync(file, 'utf8'), file);
        const recorded = JSON.parse(readFileSync(recording, 'utf8')) as { results?: unknown };
        out.push({ path: relative(CORPUS_DIR, file), scenario, expected: recorded.results === undefined ? null : parseResults(recorded.results, file) });
      }
    }
  };
  visit(CORPUS_DIR);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
