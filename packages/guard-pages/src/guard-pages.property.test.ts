/**
 * Random sequences of mmap / write / read / guard_install / guard_remove /
 * dontneed / mprotect / munmap / fork against a plain per-page model:
 * results and contents must agree and the kernel's invariants must hold
 * after every op. Guards read as SIGSEGV; a removed anon guard reads 0.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  checkInvariants,
  createKernel,
  type Mm,
} from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, P } from '@pagewalk/core-walk/testing';
import { guardPages } from './index.js';

const PAGES = 24;
const at = (page: number) => TEST_ARENA_BASE + page * P;

type Prot = 'none' | 'r' | 'rw';
const PROT: Record<Prot, number> = { none: PROT_NONE, r: PROT_READ, rw: PROT_READ | PROT_WRITE };

/** One process in the model: per page mapped / prot / guard / byte at offset 0. */
interface ModelProcess {
  mapped: boolean[];
  prot: Prot[];
  guard: boolean[];
  value: number[];
}

const emptyProcess = (): ModelProcess => ({
  mapped: Array<boolean>(PAGES).fill(false),
  prot: Array<Prot>(PAGES).fill('none'),
  guard: Array<boolean>(PAGES).fill(false),
  value: Array<number>(PAGES).fill(0),
});
const cloneProcess = (m: ModelProcess): ModelProcess => ({ mapped: [...m.mapped], prot: [...m.prot], guard: [...m.guard], value: [...m.value] });

type Op =
  | { kind: 'mmap' | 'munmap' | 'install' | 'remove' | 'dontneed'; who: number; page: number; pages: number }
  | { kind: 'mprotect'; who: number; page: number; pages: number; prot: Prot }
  | { kind: 'write'; who: number; page: number; byte: number }
  | { kind: 'read'; who: number; page: number }
  | { kind: 'fork'; who: number };

const range = fc.integer({ min: 0, max: PAGES - 1 }).chain((page) => fc.record({ page: fc.constant(page), pages: fc.integer({ min: 1, max: PAGES - page }) }));
const who = fc.integer({ min: 0, max: 1 });
const rangeOp = (kind: 'mmap' | 'munmap' | 'install' | 'remove' | 'dontneed') =>
  fc.record({ who, r: range }).map(({ who, r }): Op => ({ kind, who, ...r }));
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: rangeOp('mmap'), weight: 2 },
  { arbitrary: rangeOp('munmap'), weight: 1 },
  { arbitrary: rangeOp('install'), weight: 4 },
  { arbitrary: rangeOp('remove'), weight: 3 },
  { arbitrary: rangeOp('dontneed'), weight: 1 },
  { arbitrary: fc.record({ who, r: range, prot: fc.constantFrom<Prot>('none', 'r', 'rw') }).map(({ who, r, prot }): Op => ({ kind: 'mprotect', who, prot, ...r })), weight: 2 },
  { arbitrary: fc.record({ who, page: fc.integer({ min: 0, max: PAGES - 1 }), byte: fc.integer({ min: 1, max: 255 }) }).map((o): Op => ({ kind: 'write', ...o })), weight: 4 },
  { arbitrary: fc.record({ who, page: fc.integer({ min: 0, max: PAGES - 1 }) }).map((o): Op => ({ kind: 'read', ...o })), weight: 3 },
  { arbitrary: who.map((w): Op => ({ kind: 'fork', who: w })), weight: 1 },
);
/** A few mappings first, so most later ops land on mapped memory. */
const scriptArbitrary = fc.tuple(fc.array(rangeOp('mmap'), { minLength: 1, maxLength: 4 }), fc.array(opArbitrary, { minLength: 1, maxLength: 60, size: 'large' })).map(([maps, ops]) => [...maps, ...ops]);

/** The model's answer for an access (byte, or -SIGSEGV). */
function modelAccess(m: ModelProcess, page: number, write: boolean, byte = 0): number {
  if (!m.mapped[page] || m.prot[page] === 'none' || (write && m.prot[page] !== 'rw') || m.guard[page]) return -SIGSEGV;
  if (write) {
    m.value[page] = byte;
    return 0;
  }
  return m.value[page]!;
}

/** madvise over [page, page+pages): applies `fn` to mapped pages; a gap makes it ENOMEM. */
function modelMadvise(m: ModelProcess, page: number, pages: number, fn: (i: number) => void): number {
  let gap = false;
  for (let i = page; i < page + pages; i++) {
    if (m.mapped[i]) fn(i);
    else gap = true;
  }
  return gap ? -Errno.ENOMEM : 0;
}

function step(kernel: ReturnType<typeof createKernel>, procs: Mm[], models: ModelProcess[], op: Op): void {
  const index = op.who % procs.length;
  const mm = procs[index]!;
  const m = models[index]!;
  let actual: number;
  let expected: number;
  switch (op.kind) {
    case 'mmap': {
      actual = mm.mmap(at(op.page), op.pages * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
      const busy = m.mapped.slice(op.page, op.page + op.pages).some(Boolean);
      expected = busy ? -Errno.EEXIST : at(op.page);
      if (!busy) for (let i = op.page; i < op.page + op.pages; i++) [m.mapped[i], m.prot[i], m.guard[i], m.value[i]] = [true, 'rw', false, 0];
      break;
    }
    case 'munmap':
      actual = mm.munmap(at(op.page), op.pages * P);
      expected = 0;
      for (let i = op.page; i < op.page + op.pages; i++) [m.mapped[i], m.guard[i], m.value[i]] = [false, false, 0];
      break;
    case 'install':
      actual = mm.madvise(at(op.page), op.pages * P, MADV_GUARD_INSTALL);
      expected = modelMadvise(m, op.page, op.pages, (i) => {
        m.guard[i] = true;
        m.value[i] = 0;
      });
      break;
    case 'remove':
      actual = mm.madvise(at(op.page), op.pages * P, MADV_GUARD_REMOVE);
      expected = modelMadvise(m, op.page, op.pages, (i) => {
        m.guard[i] = false;
      });
      break;
    case 'dontneed':
      actual = mm.madvise(at(op.page), op.pages * P, MADV_DONTNEED);
      expected = modelMadvise(m, op.page, op.pages, (i) => {
        m.value[i] = 0;
      });
      break;
    case 'mprotect': {
      actual = mm.mprotect(at(op.page), op.pages * P, PROT[op.prot]);
      expected = 0;
      for (let i = op.page; i < op.page + op.pages; i++) {
        if (!m.mapped[i]) {
          expected = -Errno.ENOMEM;
          break;
        }
        m.prot[i] = op.prot;
      }
      break;
    }
    case 'write':
      actual = mm.access(at(op.page), AccessKind.Write, op.byte);
      expected = modelAccess(m, op.page, true, op.byte);
      break;
    case 'read':
      actual = mm.access(at(op.page), AccessKind.Read);
      expected = modelAccess(m, op.page, false);
      break;
    case 'fork': {
      const child = mm.fork();
      const other = 1 - index;
      procs[other]?.exit();
      procs[other] = child;
      models[other] = cloneProcess(m);
      actual = expected = 0;
      break;
    }
  }
  expect(actual, JSON.stringify(op)).toBe(expected);
  expect(checkInvariants(kernel), JSON.stringify(op)).toEqual([]);
}

describe('guard pages against a byte-array model', () => {
  it('random op sequences agree with the model and keep the invariants', () => {
    fc.assert(
      fc.property(scriptArbitrary, (ops) => {
        const kernel = createKernel({ features: [guardPages] });
        const procs: Mm[] = [kernel.createMm()];
        const models: ModelProcess[] = [emptyProcess()];
        for (const op of ops) step(kernel, procs, models, op);
        // Final sweep: every page of every process reads as the model says.
        procs.forEach((mm, i) => {
          for (let page = 0; page < PAGES; page++) {
            expect(mm.access(at(page), AccessKind.Read), `process ${i} page ${page}`).toBe(modelAccess(models[i]!, page, false));
          }
        });
        expect(checkInvariants(kernel)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
