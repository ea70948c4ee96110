// Runs the kernel-recorded userfaultfd scenarios (corpus/uffd and the uffd
// scenarios of other areas) through a minimal local executor — the core ops
// plus this package's scenarioOps — and compares with the recordings.
// Ops another feature provides (scan, pagemap, guard madvise) are not
// available here: such a scenario is compared up to its first one, and
// listed in NEEDS_OTHER_FEATURES.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccessKind,
  MADV_COLD,
  MADV_COLLAPSE,
  MADV_DONTNEED,
  MADV_FREE,
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
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  PG_ANON,
  PG_ZERO,
  createKernel,
  isGuardPteMarker,
  isSwapPte,
  pmdLeaf,
  ptePfn,
  ptePresent,
  pteSpecial,
  pteSwpUffdWpAny,
  pteUffdWp,
  errnoName,
  type KernelProfile,
} from '@pagewalk/core-walk';
import { assertInvariants } from '@pagewalk/core-walk/testing';
import { canonicalResults, firstDifference, parseResults, parseScenario, type OpResult, type PagemapFlagName, type Scenario, type ScenarioOp, type UffdFault } from '@pagewalk/scenario';
import { afterAll, describe, expect, it } from 'vitest';
import { scenarioOps, uffdWp, type ScenarioContext } from '@pagewalk/uffd-wp';

const CORPUS = join(import.meta.dirname, '../../../corpus');
const PAGE = 4096;
const ARENA_BASE = 0x7e00_0000_0000;

const PROT: Record<string, number> = { none: PROT_NONE, r: PROT_READ, rw: PROT_READ | PROT_WRITE, rx: PROT_READ | PROT_EXEC, rwx: PROT_READ | PROT_WRITE | PROT_EXEC };
const ADVICE: Record<string, number> = {
  dontneed: MADV_DONTNEED, free: MADV_FREE, pageout: MADV_PAGEOUT, cold: MADV_COLD, willneed: MADV_WILLNEED,
  hugepage: MADV_HUGEPAGE, nohugepage: MADV_NOHUGEPAGE, populate_read: MADV_POPULATE_READ,
  populate_write: MADV_POPULATE_WRITE, remove: MADV_REMOVE, collapse: MADV_COLLAPSE,
};

const ret = (op: ScenarioOp['op'], value: number): OpResult => (value >= 0 ? { op, ret: 0 } : { op, ret: -1, errno: errnoName(-value) });
const signal = (value: number) => (value === -SIGBUS ? 'SIGBUS' : 'SIGSEGV');

/** Core ops (as packages/cli/src/core-op-handlers.ts maps them); null = needs another feature. */
function coreOp(op: ScenarioOp, context: ScenarioContext): OpResult | null {
  const { mm, kernel, addressOf } = context;
  switch (op.op) {
    case 'mmap': {
      let flags = MAP_FIXED_NOREPLACE | (op.map === 'shared' ? MAP_SHARED : MAP_PRIVATE) | (op.populate ? MAP_POPULATE : 0);
      if (op.backing === 'anon') return ret('mmap', mm.mmap(addressOf(op.page), op.pages * PAGE, PROT[op.prot]!, flags | MAP_ANONYMOUS | (op.hugetlb ? MAP_HUGETLB : 0)));
      if (op.hugetlb) return null;
      const file = kernel.memfdCreate('scenario', op.pages * PAGE);
      if (typeof file === 'number') return ret('mmap', file);
      flags |= 0;
      return ret('mmap', mm.mmap(addressOf(op.page), op.pages * PAGE, PROT[op.prot]!, flags, file, 0));
    }
    case 'munmap':
      return ret('munmap', mm.munmap(addressOf(op.page), op.pages * PAGE));
    case 'mprotect':
      return ret('mprotect', mm.mprotect(addressOf(op.page), op.pages * PAGE, PROT[op.prot]!));
    case 'madvise': {
      const advice = ADVICE[op.advice];
      if (advice === undefined) return null;
      return ret('madvise', mm.madvise(addressOf(op.page), op.pages * PAGE, advice));
    }
    case 'mlock':
      return ret('mlock', mm.mlock(addressOf(op.page), op.pages * PAGE));
    case 'munlock':
      return ret('munlock', mm.munlock(addressOf(op.page), op.pages * PAGE));
    case 'write':
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(addressOf(page), AccessKind.Write, op.byte);
        if (value < 0) return { op: 'write', signal: signal(value), page };
      }
      return { op: 'write', ret: 0 };
    case 'read': {
      const bytes: number[] = [];
      for (let page = op.page; page < op.page + op.pages; page++) {
        const value = mm.access(addressOf(page), AccessKind.Read);
        if (value < 0) return { op: 'read', signal: signal(value), page, bytes };
        bytes.push(value);
      }
      return { op: 'read', ret: 0, bytes };
    }
    case 'pagemap':
      return localPagemap(op.page, op.pages, context);
    default: {
      const handler = scenarioOps[op.op];
      return handler === undefined ? null : handler(op, context);
    }
  }
}

/**
 * A local stand-in for /proc/self/pagemap flags (fs/proc/task_mmu.c
 * pte_to_pagemap_entry), enough for these scenarios until
 * @pagewalk/pagemap-scan provides the real op.
 */
function localPagemap(first: number, pages: number, context: ScenarioContext): OpResult {
  const { mm, kernel } = context;
  const frames = kernel.frames;
  const entries: PagemapFlagName[][] = [];
  for (let page = first; page < first + pages; page++) {
    const addr = context.addressOf(page);
    const { level, entry } = mm.entryAt(addr);
    const flags: PagemapFlagName[] = [];
    if (entry !== 0 && (level === 'pte' || pmdLeaf(entry) || isSwapPte(entry))) {
      if (ptePresent(entry)) {
        flags.push('present');
        let pfn = ptePfn(entry);
        const vma = mm.vmas.lookup(addr);
        if (level === 'pmd' && !(vma?.isHugetlb ?? false)) pfn += Math.floor(addr / PAGE) % 512;
        if (frames.has(pfn, PG_ZERO)) {
          if (level === 'pmd') flags.push('file_shared');
        } else if (!pteSpecial(entry)) {
          const head = frames.folioOf(pfn);
          if (!frames.has(head, PG_ANON)) flags.push('file_shared');
          if (frames.mapcount[pfn]! + (frames.entireMapcount.get(head) ?? 0) === 1) flags.push('exclusive');
        }
        if (pteUffdWp(entry)) flags.push('uffd_wp');
      } else if (isSwapPte(entry) && (mm.vmas.lookup(addr)?.isHugetlb ?? false)) {
        // pagemap_hugetlb_range reports a marker by its uffd-wp bit only.
        if (pteSwpUffdWpAny(entry)) flags.push('uffd_wp');
      } else if (isSwapPte(entry)) {
        flags.push('swapped');
        if (pteSwpUffdWpAny(entry)) flags.push('uffd_wp');
        if (isGuardPteMarker(entry)) flags.push('guard');
      }
    }
    entries.push(flags);
  }
  return { op: 'pagemap', ret: 0, entries };
}

interface LocalRun {
  /** Results up to (not including) the first op this executor cannot run. */
  results: OpResult[];
  /** That op's name, or null when every op ran. */
  stoppedAt: string | null;
}

export function runLocally(scenario: Scenario): LocalRun {
  const profile: { -readonly [K in keyof KernelProfile]?: KernelProfile[K] } = {};
  if (scenario.profile?.thp !== undefined) profile.thp = scenario.profile.thp;
  if (scenario.profile?.thp_zero_page !== undefined) profile.thpZeroPage = scenario.profile.thp_zero_page;
  if (scenario.profile?.soft_dirty !== undefined) profile.softDirty = scenario.profile.soft_dirty;
  if (scenario.profile?.swap !== undefined) profile.swap = scenario.profile.swap;
  if (scenario.profile?.hugetlb_pages !== undefined) profile.hugetlbPages = scenario.profile.hugetlb_pages;
  const kernel = createKernel({ profile, features: [uffdWp] });
  const mm = kernel.createMm();
  let faults: UffdFault[] = [];
  const context: ScenarioContext = {
    kernel,
    mm,
    addressOf: (page) => ARENA_BASE + page * PAGE,
    pageOf: (address) => (address - ARENA_BASE) / PAGE,
    recordUffdFault: (fault) => faults.push(fault),
    featureState: new Map(),
  };
  const results: OpResult[] = [];
  for (const op of scenario.ops) {
    faults = [];
    const result = coreOp(op, context);
    if (result === null) return { results, stoppedAt: op.op === 'madvise' ? `madvise ${op.advice}` : op.op };
    results.push(faults.length > 0 ? { ...result, uffd: faults } : result);
    assertInvariants(kernel);
  }
  return { results, stoppedAt: null };
}

function scenarioFiles(): string[] {
  const uffd = readdirSync(join(CORPUS, 'uffd')).filter((f) => f.endsWith('.json') && !f.endsWith('.kernel.json')).map((f) => join(CORPUS, 'uffd', f));
  const others: string[] = [];
  for (const area of readdirSync(CORPUS)) {
    if (area === 'uffd') continue;
    for (const f of readdirSync(join(CORPUS, area))) {
      if (!f.endsWith('.json') || f.endsWith('.kernel.json')) continue;
      const path = join(CORPUS, area, f);
      if (readFileSync(path, 'utf8').includes('"uffd_')) others.push(path);
    }
  }
  return [...uffd, ...others].sort();
}

/** Scenarios that need ops of other features, and the first such op (kept in sync by the test below). */
export const NEEDS_OTHER_FEATURES = new Map<string, string>();

describe('kernel-recorded userfaultfd scenarios', () => {
  afterAll(() => {
    if (process.env.UFFD_CONFORMANCE_REPORT) {
      for (const [name, op] of [...NEEDS_OTHER_FEATURES].sort()) console.log(`prefix only: ${name} (stops at ${op})`);
    }
  });
  for (const file of scenarioFiles()) {
    const scenario = parseScenario(readFileSync(file, 'utf8'), file);
    const recorded = parseResults(JSON.parse(readFileSync(file.replace(/\.json$/, '.kernel.json'), 'utf8')).results, file);
    it(scenario.name, () => {
      const run = runLocally(scenario);
      if (run.stoppedAt !== null) NEEDS_OTHER_FEATURES.set(scenario.name, run.stoppedAt);
      const expected = canonicalResults(recorded.slice(0, run.results.length));
      const actual = canonicalResults(run.results);
      const difference = firstDifference(expected, actual);
      if (process.env.UFFD_CONFORMANCE_REPORT) console.log(`${scenario.name}: ${run.results.length}/${recorded.length} ops compared`);
      expect(difference, JSON.stringify(difference)).toBeNull();
    });
  }
});
