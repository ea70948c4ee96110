/**
 * Test-only helpers (not shipped): a minimal scenario executor for the ops
 * the core implements plus guard advice, and a /proc/pid/pagemap reader
 * built on the public walker, so the guard corpus can run without the
 * pagemap-scan package. The authoritative `pagemap` and `scan` ops belong
 * to @pagewalk/pagemap-scan; this reader only mirrors pte_to_pagemap_entry
 * far enough to check guard visibility.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AccessKind,
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
  PG_ANON,
  PG_ZERO,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  SIGSEGV,
  WalkAction,
  createKernel,
  errnoName,
  isGuardPteMarker,
  isSwapPte,
  isUffdWpPteMarker,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSoftDirty,
  pteSpecial,
  pteSwpSoftDirty,
  pteSwpUffdWp,
  pteUffdWp,
  walkPageRange,
  type Feature,
  type Kernel,
  type KernelProfile,
  type Mm,
  type MmWalk,
  type MmWalkOps,
  type Pmd,
  type Pte,
} from '@pagewalk/core-walk';
import {
  parseResults,
  parseScenario,
  type AdviceName,
  type OpName,
  type OpResult,
  type PagemapFlagName,
  type ProtName,
  type Scenario,
  type ScenarioOp,
} from '@pagewalk/scenario';

export const PAGE = 4096;
export const ARENA_BASE = 0x7e00_0000_0000;

const PROT: Record<ProtName, number> = {
  none: PROT_NONE,
  r: PROT_READ,
  rw: PROT_READ | PROT_WRITE,
  rx: PROT_READ | PROT_EXEC,
  rwx: PROT_READ | PROT_WRITE | PROT_EXEC,
};

const ADVICE: Record<AdviceName, number> = {
  dontneed: MADV_DONTNEED,
  free: MADV_FREE,
  pageout: MADV_PAGEOUT,
  cold: MADV_COLD,
  willneed: MADV_WILLNEED,
  hugepage: MADV_HUGEPAGE,
  nohugepage: MADV_NOHUGEPAGE,
  populate_read: MADV_POPULATE_READ,
  populate_write: MADV_POPULATE_WRITE,
  remove: MADV_REMOVE,
  collapse: MADV_COLLAPSE,
  guard_install: MADV_GUARD_INSTALL,
  guard_remove: MADV_GUARD_REMOVE,
};

/** The ops this executor runs. */
export const LOCAL_OPS: ReadonlySet<OpName> = new Set<OpName>([
  'mmap', 'munmap', 'mprotect', 'madvise', 'mlock', 'munlock', 'write', 'read', 'clear_soft_dirty', 'pagemap',
]);

const PAGEMAP_ORDER: readonly PagemapFlagName[] = ['present', 'swapped', 'file_shared', 'exclusive', 'uffd_wp', 'soft_dirty', 'guard'];
const FLAG_BIT: Record<PagemapFlagName, number> = { present: 1, swapped: 2, file_shared: 4, exclusive: 8, uffd_wp: 16, soft_dirty: 32, guard: 64 };

interface PagemapState {
  kernel: Kernel;
  base: number;
  flags: Uint8Array;
}

function pagemapPte(entry: Pte, addr: number, _next: number, walk: MmWalk<PagemapState>): number {
  const s = walk.state;
  const index = (addr - s.base) / PAGE;
  s.flags[index] = pteFlagsOf(s.kernel, entry);
  return 0;
}

function pteFlagsOf(kernel: Kernel, entry: number): number {
  if (entry === 0) return 0;
  const frames = kernel.frames;
  if (ptePresent(entry)) {
    let f = FLAG_BIT.present;
    if (pteSoftDirty(entry)) f |= FLAG_BIT.soft_dirty;
    if (pteUffdWp(entry)) f |= FLAG_BIT.uffd_wp;
    if (pteSpecial(entry)) return f; // vm_normal_page() is NULL: the zero page
    const pfn = ptePfn(entry);
    if (!frames.has(frames.folioOf(pfn), PG_ANON)) f |= FLAG_BIT.file_shared;
    if (frames.pageMapcount(pfn) === 1) f |= FLAG_BIT.exclusive;
    return f;
  }
  if (isSwapPte(entry)) {
    let f = FLAG_BIT.swapped;
    if (pteSwpSoftDirty(entry)) f |= FLAG_BIT.soft_dirty;
    if (pteSwpUffdWp(entry) || isUffdWpPteMarker(entry)) f |= FLAG_BIT.uffd_wp;
    if (isGuardPteMarker(entry)) f |= FLAG_BIT.guard;
    return f;
  }
  return 0;
}

function pagemapPmd(entry: Pmd, addr: number, next: number, walk: MmWalk<PagemapState>): number {
  if (!pmdLeaf(entry)) return 0;
  walk.action = WalkAction.Continue;
  const s = walk.state;
  const frames = s.kernel.frames;
  const head = ptePfn(entry);
  let f = FLAG_BIT.present;
  if (pteUffdWp(entry)) f |= FLAG_BIT.uffd_wp;
  if (frames.has(head, PG_ZERO)) f |= FLAG_BIT.file_shared; // observed: the huge zero page reads as file_shared
  else if (!frames.has(head, PG_ANON)) f |= FLAG_BIT.file_shared;
  for (let a = addr; a < next; a += PAGE) {
    const page = head + (Math.floor(a / PAGE) % 512);
    s.flags[(a - s.base) / PAGE] = f | (!frames.has(head, PG_ZERO) && frames.pageMapcount(page) === 1 ? FLAG_BIT.exclusive : 0);
  }
  return 0;
}

const pagemapWalkOps: MmWalkOps<PagemapState> = { pmdEntry: pagemapPmd, pteEntry: pagemapPte };

/** /proc/pid/pagemap flags of `pages` pages from `addr`, as scenario results name them. */
export function readPagemap(kernel: Kernel, mm: Mm, addr: number, pages: number): PagemapFlagName[][] {
  const state: PagemapState = { kernel, base: addr, flags: new Uint8Array(pages) };
  walkPageRange(mm, addr, addr + pages * PAGE, pagemapWalkOps, state);
  return [...state.flags].map((f) => PAGEMAP_ORDER.filter((name) => (f & FLAG_BIT[name]) !== 0));
}

function syscall(op: OpName, value: number): OpResult {
  return value >= 0 ? { op, ret: 0 } : { op, ret: -1, errno: errnoName(-value) };
}

function signalOf(value: number): 'SIGSEGV' | 'SIGBUS' {
  if (value === -SIGSEGV) return 'SIGSEGV';
  if (value === -SIGBUS) return 'SIGBUS';
  throw new Error(`access returned ${value}`);
}

export function kernelProfileOf(profile: Scenario['profile']): Partial<KernelProfile> {
  const o: { -readonly [K in keyof KernelProfile]?: KernelProfile[K] } = {};
  if (profile?.thp !== undefined) o.thp = profile.thp;
  if (profile?.thp_zero_page !== undefined) o.thpZeroPage = profile.thp_zero_page;
  if (profile?.soft_dirty !== undefined) o.softDirty = profile.soft_dirty;
  if (profile?.swap !== undefined) o.swap = profile.swap;
  if (profile?.hugetlb_pages !== undefined) o.hugetlbPages = profile.hugetlb_pages;
  return o;
}

/** Runs one op on `mm`; scenario page numbers are relative to ARENA_BASE. */
export function executeOp(kernel: Kernel, mm: Mm, op: ScenarioOp): OpResult {
  const at = (page: number) => ARENA_BASE + page * PAGE;
  switch (op.op) {
    case 'mmap': {
      let flags = MAP_FIXED_NOREPLACE | (op.map === 'shared' ? MAP_SHARED : MAP_PRIVATE) | (op.populate ? MAP_POPULATE : 0);
      if (op.backing === 'anon') {
        flags |= MAP_ANONYMOUS | (op.hugetlb ? MAP_HUGETLB : 0);
        return syscall('mmap', mm.mmap(at(op.page), op.pages * PAGE, PROT[op.prot], flags));
      }
      if (op.hugetlb) return { op: 'mmap', unsupported: true };
      const file = kernel.memfdCreate('scenario', op.pages * PAGE);
      if (typeof file === 'number') return syscall('mmap', file);
      return syscall('mmap', mm.mmap(at(op.page), op.pages * PAGE, PROT[op.prot], flags, file, 0));
    }
    case 'munmap':
      return syscall('munmap', mm.munmap(at(op.page), op.pages * PAGE));
    case 'mprotect':
      return syscall('mprotect', mm.mprotect(at(op.page), op.pages * PAGE, PROT[op.prot]));
    case 'madvise':
      return syscall('madvise', mm.madvise(at(op.page), op.pages * PAGE, ADVICE[op.advice]));
    case 'mlock':
      return syscall('mlock', mm.mlock(at(op.page), op.pages * PAGE));
    case 'munlock':
      return syscall('munlock', mm.munlock(at(op.page), op.pages * PAGE));
    case 'write':
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(at(page), AccessKind.Write, op.byte);
        if (value < 0) return { op: 'write', signal: signalOf(value), page };
      }
      return { op: 'write', ret: 0 };
    case 'read': {
      const bytes: number[] = [];
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(at(page), AccessKind.Read);
        if (value < 0) return { op: 'read', signal: signalOf(value), page, bytes };
        bytes.push(value);
      }
      return { op: 'read', ret: 0, bytes };
    }
    case 'clear_soft_dirty':
      return syscall('clear_soft_dirty', mm.clearRefs(4));
    case 'pagemap':
      return { op: 'pagemap', ret: 0, entries: readPagemap(kernel, mm, at(op.page), op.pages) };
    default:
      return { op: op.op, unsupported: true };
  }
}

/** Runs a whole scenario on a fresh kernel with the given features. */
export function runLocal(scenario: Scenario, features: readonly Feature[]): { results: OpResult[]; kernel: Kernel; mm: Mm } {
  const kernel = createKernel({ profile: kernelProfileOf(scenario.profile), features });
  const mm = kernel.createMm();
  const results = scenario.ops.map((op) => executeOp(kernel, mm, op));
  return { results, kernel, mm };
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CORPUS_DIR = join(REPO_ROOT, 'corpus');

export interface CorpusEntry {
  /** Path relative to corpus/. */
  path: string;
  scenario: Scenario;
  /** The kernel's results, or null when the recording was skipped or is missing. */
  kernel: OpResult[] | null;
  kernelSkipped: string | null;
}

function listJson(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listJson(p));
    else if (e.name.endsWith('.json') && !e.name.endsWith('.kernel.json')) out.push(p);
  }
  return out.sort();
}

/** Every corpus scenario with its recording. */
export function loadCorpus(): CorpusEntry[] {
  return listJson(CORPUS_DIR).map((file) => {
    const scenario = parseScenario(readFileSync(file, 'utf8'), file);
    const recordingFile = file.replace(/\.json$/, '.kernel.json');
    let kernel: OpResult[] | null = null;
    let kernelSkipped: string | null = 'no recording';
    if (existsSync(recordingFile)) {
      const recording = JSON.parse(readFileSync(recordingFile, 'utf8')) as { results?: unknown; skipped?: string };
      if (recording.results !== undefined) {
        kernel = parseResults(recording.results, recordingFile);
        kernelSkipped = null;
      } else {
        kernelSkipped = recording.skipped ?? 'skipped';
      }
    }
    return { path: relative(CORPUS_DIR, file), scenario, kernel, kernelSkipped };
  });
}

/** Whether a scenario uses guard advice. */
export function usesGuards(scenario: Scenario): boolean {
  return scenario.ops.some((op) => op.op === 'madvise' && (op.advice === 'guard_install' || op.advice === 'guard_remove'));
}

/** Ops of the scenario this executor cannot run. */
export function missingOps(scenario: Scenario): OpName[] {
  return [...new Set(scenario.ops.map((op) => op.op).filter((name) => !LOCAL_OPS.has(name)))];
}
