// Random register / unregister / write-protect / write / read / dontneed /
// pageout / mprotect / fork sequences against a byte-array model: the
// kernel's invariants hold after every op, contents match, and the pages
// not write-protected (what PAGEMAP_SCAN reports WRITTEN in async mode)
// are exactly the model's. In sync mode every write to a protected page
// raises exactly one fault, answered like the scenario runner does.
import {
  AccessKind,
  MADV_DONTNEED,
  MADV_PAGEOUT,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  checkInvariants,
  createKernel,
  type Mm,
} from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, mapAnon } from '@pagewalk/core-walk/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  UFFD_API,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_MODE_WP,
  isUffdWpProtected,
  userfaultfd,
  uffdWp,
  type UserfaultfdCtx,
} from '@pagewalk/uffd-wp';

const PAGES = 24;
const addr = (page: number) => TEST_ARENA_BASE + page * PAGE_SIZE;

type Op =
  | { kind: 'register' }
  | { kind: 'unregister' }
  | { kind: 'wp'; page: number; pages: number; protect: boolean }
  | { kind: 'write'; page: number; byte: number }
  | { kind: 'read'; page: number }
  | { kind: 'dontneed'; page: number; pages: number }
  | { kind: 'pageout'; page: number; pages: number }
  | { kind: 'mprotect'; page: number; pages: number; writable: boolean }
  | { kind: 'fork' };

const rangeArb = fc.integer({ min: 0, max: PAGES - 1 }).chain((page) => fc.record({ page: fc.constant(page), pages: fc.integer({ min: 1, max: PAGES - page }) }));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'register' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'unregister' }) },
  { weight: 4, arbitrary: fc.tuple(rangeArb, fc.boolean()).map(([r, protect]): Op => ({ kind: 'wp', ...r, protect })) },
  { weight: 6, arbitrary: fc.record({ page: fc.integer({ min: 0, max: PAGES - 1 }), byte: fc.integer({ min: 1, max: 255 }) }).map((r): Op => ({ kind: 'write', ...r })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: PAGES - 1 }).map((page): Op => ({ kind: 'read', page })) },
  { weight: 2, arbitrary: rangeArb.map((r): Op => ({ kind: 'dontneed', ...r })) },
  { weight: 2, arbitrary: rangeArb.map((r): Op => ({ kind: 'pageout', ...r })) },
  { weight: 2, arbitrary: fc.tuple(rangeArb, fc.boolean()).map(([r, writable]): Op => ({ kind: 'mprotect', ...r, writable })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'fork' }) },
);

interface Model {
  bytes: number[];
  protectedPages: boolean[];
  writable: boolean[];
  registered: boolean;
  faults: number;
}

function run(ops: Op[], async: boolean): void {
  const kernel = createKernel({ features: [uffdWp], profile: { swap: true, swapPages: 4096 } });
  const mm: Mm = kernel.createMm();
  mapAnon(mm, 0, PAGES);
  const ctx = userfaultfd(mm) as UserfaultfdCtx;
  expect(ctx.api({ api: UFFD_API, features: async ? UFFD_FEATURE_WP_ASYNC : UFFD_FEATURE_WP_UNPOPULATED })).toBe(0);
  let faults = 0;
  ctx.setHandler((c) => {
    const msgs = c.read();
    if (typeof msgs === 'number') return;
    for (const msg of msgs) {
      if (msg.event !== UFFD_EVENT_PAGEFAULT) continue;
      faults++;
      c.writeProtect({ range: { start: msg.address, len: PAGE_SIZE }, mode: 0 });
    }
  });
  const model: Model = {
    bytes: new Array<number>(PAGES).fill(0),
    protectedPages: new Array<boolean>(PAGES).fill(false),
    writable: new Array<boolean>(PAGES).fill(true),
    registered: false,
    faults: 0,
  };
  const register = () => ctx.register({ range: { start: addr(0), len: PAGES * PAGE_SIZE }, mode: UFFDIO_REGISTER_MODE_WP });
  expect(register()).toBe(0);
  model.registered = true;
  const children: Mm[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'register':
        expect(register()).toBe(0);
        model.registered = true;
        break;
      case 'unregister':
        expect(ctx.unregister({ start: addr(0), len: PAGES * PAGE_SIZE })).toBe(0);
        model.registered = false;
        model.protectedPages.fill(false);
        break;
      case 'wp': {
        const ret = ctx.writeProtect({ range: { start: addr(op.page), len: op.pages * PAGE_SIZE }, mode: op.protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0 });
        expect(ret).toBe(model.registered ? 0 : -2);
        if (model.registered) for (let p = op.page; p < op.page + op.pages; p++) model.protectedPages[p] = op.protect;
        break;
      }
      case 'write': {
        const ret = mm.access(addr(op.page) + 8, AccessKind.Write, op.byte);
        if (!model.writable[op.page]) {
          expect(ret).toBe(-SIGSEGV);
          break;
        }
        expect(ret).toBe(0);
        if (model.protectedPages[op.page] && !async) model.faults++;
        model.protectedPages[op.page] = false;
        model.bytes[op.page] = op.byte;
        break;
      }
      case 'read':
        expect(mm.access(addr(op.page) + 8, AccessKind.Read)).toBe(model.bytes[op.page]);
        break;
      case 'dontneed':
        expect(mm.madvise(addr(op.page), op.pages * PAGE_SIZE, MADV_DONTNEED)).toBe(0);
        for (let p = op.page; p < op.page + op.pages; p++) {
          model.bytes[p] = 0;
          model.protectedPages[p] = false; // anonymous zaps drop bits and markers
        }
        break;
      case 'pageout':
        expect(mm.madvise(addr(op.page), op.pages * PAGE_SIZE, MADV_PAGEOUT)).toBe(0);
        break;
      case 'mprotect':
        expect(mm.mprotect(addr(op.page), op.pages * PAGE_SIZE, PROT_READ | (op.writable ? PROT_WRITE : 0))).toBe(0);
        for (let p = op.page; p < op.page + op.pages; p++) model.writable[p] = op.writable;
        break;
      case 'fork':
        children.push(mm.fork());
        break;
    }
    expect(checkInvariants(kernel)).toEqual([]);
    for (let p = 0; p < PAGES; p++) expect(isUffdWpProtected(mm, addr(p)), `page ${p} after ${JSON.stringify(op)}`).toBe(model.protectedPages[p]);
    expect(faults).toBe(model.faults);
  }
  for (let p = 0; p < PAGES; p++) expect(mm.access(addr(p) + 8, AccessKind.Read)).toBe(model.bytes[p]);
  for (const child of children) for (let p = 0; p < PAGES; p++) expect(isUffdWpProtected(child, addr(p))).toBe(false);
  for (const child of children) child.exit();
  expect(checkInvariants(kernel)).toEqual([]);
}

describe('uffd-wp model', () => {
  it('async mode: WRITTEN pages and contents follow the model', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => run(ops, true)), { numRuns: 150 });
  });
  it('sync mode: one fault per write to a protected page', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => run(ops, false)), { numRuns: 150 });
  });
});
