// Property: random sequences of CPU and device accesses, migrations both
// ways, protection changes, zaps, forks and evictions never lose or corrupt
// a byte (compared with a plain byte-array model) and keep every invariant.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  PROT_READ,
  PROT_WRITE,
  checkInvariants,
  isDevicePrivateEntry,
  isMigrationEntry,
  isWritableDevicePrivateEntry,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import { P, mapAnon, sameBytes, setup } from './test-support.js';

const { forEachEntry } = claimMmInternal();

const PAGES = 12;

type Op =
  | { kind: 'cpuWrite'; page: number; offset: number; value: number }
  | { kind: 'cpuRead'; page: number; offset: number }
  | { kind: 'devRead' | 'migrate' | 'migrateBack' | 'exclusive'; device: number; page: number; pages: number }
  | { kind: 'devWrite'; device: number; page: number; pages: number; seed: number }
  | { kind: 'snapshot' | 'release'; device: number }
  | { kind: 'mprotect'; page: number; pages: number; writable: boolean }
  | { kind: 'dontneed'; page: number; pages: number }
  | { kind: 'forkAndWrite'; page: number; value: number };

const range = (max: number) =>
  fc.integer({ min: 0, max: max - 1 }).chain((page) => fc.integer({ min: 1, max: max - page }).map((pages) => ({ page, pages })));
const device = fc.integer({ min: 0, max: 1 });
const offset = fc.constantFrom(0, 1, 7, 2048, 4095);

const accessOps = (kinds: readonly ('devRead' | 'migrate' | 'migrateBack' | 'exclusive')[]) =>
  fc.tuple(fc.constantFrom(...kinds), device, range(PAGES)).map(([kind, d, r]) => ({ kind, device: d, ...r }));

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('cpuWrite' as const), page: fc.integer({ min: 0, max: PAGES - 1 }), offset, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cpuRead' as const), page: fc.integer({ min: 0, max: PAGES - 1 }), offset }) },
  { weight: 5, arbitrary: accessOps(['migrate']) },
  { weight: 3, arbitrary: accessOps(['migrateBack']) },
  { weight: 2, arbitrary: accessOps(['devRead', 'exclusive']) },
  { weight: 2, arbitrary: fc.tuple(device, range(PAGES), fc.integer({ min: 0, max: 255 })).map(([d, r, seed]) => ({ kind: 'devWrite' as const, device: d, seed, ...r })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('snapshot' as const, 'release' as const), device).map(([kind, d]) => ({ kind, device: d })) },
  { weight: 1, arbitrary: fc.tuple(range(PAGES), fc.boolean()).map(([r, writable]) => ({ kind: 'mprotect' as const, writable, ...r })) },
  { weight: 1, arbitrary: range(PAGES).map((r) => ({ kind: 'dontneed' as const, ...r })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forkAndWrite' as const), page: fc.integer({ min: 0, max: PAGES - 1 }), value: fc.integer({ min: 0, max: 255 }) }) },
);

function pattern(pages: number, seed: number): Uint8Array {
  const data = new Uint8Array(pages * P);
  for (let i = 0; i < data.length; i++) data[i] = (i * 29 + seed * 7 + (i >> 12)) & 0xff;
  return data;
}

function run(ops: readonly Op[]): void {
  const { kernel, mm, mirror0, mirror1 } = setup();
  const mirrors = [mirror0, mirror1];
  const addr = mapAnon(mm, 0, PAGES);
  const model = new Uint8Array(PAGES * P);
  const writable = new Array<boolean>(PAGES).fill(true);
  const check = (label: string) => {
    const problems = checkInvariants(kernel);
    if (problems.length > 0) throw new Error(`${label}: ${problems.slice(0, 5).join('; ')}`);
    forEachEntry(mm, addr, addr + PAGES * P, (_slot, entry) => {
      if (isMigrationEntry(entry)) throw new Error(`${label}: migration entry left behind`);
    });
  };
  for (const [index, op] of ops.entries()) {
    const label = `op ${index} ${JSON.stringify(op)}`;
    const base = addr + ('page' in op ? op.page : 0) * P;
    switch (op.kind) {
      case 'cpuWrite': {
        const r = mm.access(base + op.offset, AccessKind.Write, op.value);
        if (writable[op.page]) {
          expect(r, label).toBe(0);
          model[op.page * P + op.offset] = op.value;
        } else {
          expect(r, label).toBeLessThan(0);
        }
        break;
      }
      case 'cpuRead':
        expect(mm.access(base + op.offset, AccessKind.Read), label).toBe(model[op.page * P + op.offset]);
        break;
      case 'devRead': {
        const r = mirrors[op.device]!.read(base, op.pages);
        expect(r.ret, label).toBe(0);
        expect(sameBytes(r.data, model.subarray(op.page * P, (op.page + op.pages) * P)), label).toBe(true);
        break;
      }
      case 'devWrite': {
        const data = pattern(op.pages, op.seed);
        const r = mirrors[op.device]!.write(base, op.pages, data);
        // Pages are written in order; a failure leaves the first `cpages` written.
        if (r.ret !== 0) {
          expect([-Errno.EPERM, -Errno.EFAULT], label).toContain(r.ret);
          // Some page from `cpages` on cannot be written: the VMA is read-only, or (hmm_range_fault
          // never faults a page of the asking device) it sits read-only in that device's memory.
          let explained = false;
          for (let page = op.page + r.cpages; page < op.page + op.pages; page++) {
            const entry = mm.entryAt(addr + page * P).entry;
            if (!writable[page] || (isDevicePrivateEntry(entry) && !isWritableDevicePrivateEntry(entry))) explained = true;
          }
          expect(explained, label).toBe(true);
        }
        model.set(data.subarray(0, (r.ret === 0 ? op.pages : r.cpages) * P), op.page * P);
        break;
      }
      case 'migrate': {
        const r = mirrors[op.device]!.migrateToDevice(base, op.pages);
        expect([0, -Errno.ENOENT], label).toContain(r.ret);
        if (r.ret === 0) expect(sameBytes(r.data, model.subarray(op.page * P, (op.page + op.pages) * P)), label).toBe(true);
        break;
      }
      case 'migrateBack':
        expect(mirrors[op.device]!.migrateToSystem(base, op.pages).ret, label).toBe(0);
        break;
      case 'exclusive': {
        const r = mirrors[op.device]!.exclusive(base, op.pages);
        const allWritable = writable.slice(op.page, op.page + op.pages).every(Boolean);
        expect(r.ret, label).toBe(allWritable ? 0 : -Errno.EFAULT);
        if (r.ret === 0) expect(sameBytes(r.data, model.subarray(op.page * P, (op.page + op.pages) * P)), label).toBe(true);
        break;
      }
      case 'snapshot':
        expect(mirrors[op.device]!.snapshot(addr, PAGES).ret, label).toBe(0);
        break;
      case 'release':
        expect(mirrors[op.device]!.release().ret, label).toBe(0);
        break;
      case 'mprotect':
        expect(mm.mprotect(base, op.pages * P, op.writable ? PROT_READ | PROT_WRITE : PROT_READ), label).toBe(0);
        writable.fill(op.writable, op.page, op.page + op.pages);
        break;
      case 'dontneed':
        expect(mm.madvise(base, op.pages * P, MADV_DONTNEED), label).toBe(0);
        model.fill(0, op.page * P, (op.page + op.pages) * P);
        break;
      case 'forkAndWrite': {
        const child = mm.fork();
        const r = child.access(base, AccessKind.Write, op.value);
        if (writable[op.page]) {
          expect(r, label).toBe(0);
          expect(child.access(base, AccessKind.Read), label).toBe(op.value);
        }
        child.exit();
        break;
      }
    }
    check(label);
  }
  // Every byte, read once by a device and sampled by the CPU.
  const final = mirror0.read(addr, PAGES);
  expect(final.ret).toBe(0);
  expect(sameBytes(final.data, model)).toBe(true);
  for (let page = 0; page < PAGES; page++) for (const o of [0, 7, 4095]) expect(mm.access(addr + page * P + o, AccessKind.Read)).toBe(model[page * P + o]);
  check('final');
}

describe('hmm-migrate property', () => {
  it('CPU and device accesses and migrations never lose a byte and keep the invariants', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { minLength: 5, maxLength: 40 }), (ops) => {
        run(ops);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
