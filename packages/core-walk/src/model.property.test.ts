/**
 * Property test: random sequences of operations on random processes keep
 * every invariant (checkInvariants) and the memory contents equal a plain
 * byte model of what was written.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKernel, type Kernel } from './kernel.js';
import type { Mm } from './mm.js';
import type { ShmemFile } from './shmem.js';
import { checkInvariants } from './invariants.js';
import { PAGE_SIZE } from './geometry.js';
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
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from './uapi.js';
import { Errno, SIGSEGV } from './errno.js';
import { TEST_ARENA_BASE } from './testing.js';

const ARENA = 1536; // pages: three 2 MiB regions, so THP paths are exercised
const addr = (page: number) => TEST_ARENA_BASE + page * PAGE_SIZE;

type Backing = { kind: 'anon' } | { kind: 'file'; file: ShmemFile; pgoff: number };
interface PageMap {
  prot: number;
  shared: boolean;
  backing: Backing;
}
/** A private page's value: definite, or "either" after MADV_FREE (reclaim may discard it). */
type PrivateValue = number | { either: [number, number] };

class ProcessModel {
  readonly maps = new Map<number, PageMap>();
  readonly priv = new Map<number, PrivateValue>();
  constructor(readonly mm: Mm) {}
  clone(mm: Mm): ProcessModel {
    const copy = new ProcessModel(mm);
    for (const [k, v] of this.maps) copy.maps.set(k, { ...v });
    for (const [k, v] of this.priv) copy.priv.set(k, v);
    return copy;
  }
}

class World {
  readonly kernel: Kernel;
  readonly processes: ProcessModel[];
  readonly fileBytes = new Map<ShmemFile, Uint8Array>();
  constructor(swap: boolean, thp: 'madvise' | 'always' = 'madvise') {
    this.kernel = createKernel({ profile: { swap, thp, hugetlbPages: 0 } });
    this.processes = [new ProcessModel(this.kernel.createMm())];
  }
  fileValue(backing: Backing, page: number): number {
    if (backing.kind !== 'file') return 0;
    return this.fileBytes.get(backing.file)![backing.pgoff + page]!;
  }
}

type Op =
  | { op: 'mmap'; page: number; pages: number; prot: number; shared: boolean; file: boolean; populate: boolean }
  | { op: 'munmap' | 'mlock' | 'munlock'; page: number; pages: number }
  | { op: 'mprotect'; page: number; pages: number; prot: number }
  | { op: 'madvise'; page: number; pages: number; advice: number }
  | { op: 'write'; page: number; value: number }
  | { op: 'read'; page: number }
  | { op: 'fork' }
  | { op: 'exit' };

// Pages cluster around a few spots (a THP boundary among them) so ops meet each other.
const pageArb = fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 505, max: 520 }), fc.integer({ min: 0, max: ARENA - 1 }));
const protArb = fc.constantFrom(PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mmap' as const), page: pageArb, pages: fc.oneof(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 1024 })), prot: protArb, shared: fc.boolean(), file: fc.boolean(), populate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('munmap' as const, 'mlock' as const, 'munlock' as const), page: pageArb, pages: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mprotect' as const), page: pageArb, pages: fc.integer({ min: 1, max: 600 }), prot: protArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('madvise' as const),
      page: pageArb,
      pages: fc.integer({ min: 1, max: 1024 }),
      advice: fc.constantFrom(MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT, MADV_COLD, MADV_WILLNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_REMOVE, MADV_COLLAPSE),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), page: pageArb, value: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), page: pageArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fork' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const) }) },
);

function expectedRead(world: World, p: ProcessModel, page: number): number | { either: [number, number] } | 'segv' {
  const map = p.maps.get(page);
  if (map === undefined || map.prot === PROT_NONE) return 'segv';
  if (map.shared) return world.fileValue(map.backing, page);
  const own = p.priv.get(page);
  if (own !== undefined) {
    if (typeof own === 'number' || map.backing.kind === 'anon') return own;
    // A lazily freed private copy of a file page can only be anon; never happens.
    return own;
  }
  return world.fileValue(map.backing, page);
}

function apply(world: World, op: Op, who: number): void {
  const p = world.processes[who % world.processes.length]!;
  const mm = p.mm;
  const pagesOf = (o: { page: number; pages: number }) => {
    const out: number[] = [];
    for (let i = o.page; i < Math.min(ARENA, o.page + o.pages); i++) out.push(i);
    return out;
  };
  switch (op.op) {
    case 'mmap': {
      const pages = Math.min(op.pages, ARENA - op.page);
      let file: ShmemFile | null = null;
      if (op.file) {
        const made = world.kernel.memfdCreate('f', pages * PAGE_SIZE);
        if (typeof made === 'number') throw new Error('memfd');
        file = made;
        world.fileBytes.set(file, new Uint8Array(pages));
      }
      const flags = (op.shared ? MAP_SHARED : MAP_PRIVATE) | (file ? 0 : MAP_ANONYMOUS) | MAP_FIXED_NOREPLACE | (op.populate ? MAP_POPULATE : 0);
      const r = mm.mmap(addr(op.page), pages * PAGE_SIZE, op.prot, flags, file, 0);
      if (file !== null) world.kernel.closeFile(file);
      if (r < 0) {
        expect(r).toBe(-Errno.EEXIST);
        return;
      }
      let backing: Backing = file ? { kind: 'file', file, pgoff: -op.page } : { kind: 'anon' };
      if (!file && op.shared) {
        // Shared anonymous memory is a shmem file the simulator made itself.
        const vma = mm.vmas.lookup(addr(op.page))!;
        world.fileBytes.set(vma.file!, new Uint8Array(pages));
        backing = { kind: 'file', file: vma.file!, pgoff: -op.page };
      }
      for (let i = 0; i < pages; i++) {
        p.maps.set(op.page + i, { prot: op.prot, shared: op.shared, backing });
        p.priv.delete(op.page + i);
      }
      return;
    }
    case 'munmap': {
      const r = mm.munmap(addr(op.page), op.pages * PAGE_SIZE);
      expect(r).toBe(0);
      for (const page of pagesOf(op)) {
        p.maps.delete(page);
        p.priv.delete(page);
      }
      return;
    }
    case 'mprotect': {
      const r = mm.mprotect(addr(op.page), op.pages * PAGE_SIZE, op.prot);
      if (r === 0 || r === -Errno.ENOMEM) {
        for (const page of pagesOf(op)) {
          const map = p.maps.get(page);
          if (map === undefined) break;
          map.prot = op.prot;
        }
      }
      return;
    }
    case 'mlock':
      mm.mlock(addr(op.page), op.pages * PAGE_SIZE);
      return;
    case 'munlock':
      mm.munlock(addr(op.page), op.pages * PAGE_SIZE);
      return;
    case 'madvise': {
      const r = mm.madvise(addr(op.page), op.pages * PAGE_SIZE, op.advice);
      if (r !== 0 && r !== -Errno.ENOMEM) return;
      for (const page of pagesOf(op)) {
        const map = p.maps.get(page);
        if (map === undefined) continue;
        if (op.advice === MADV_DONTNEED && !map.shared) p.priv.delete(page);
        if (op.advice === MADV_FREE && !map.shared && map.backing.kind === 'anon') {
          const old = p.priv.get(page);
          if (typeof old === 'number') p.priv.set(page, { either: [old, 0] });
        }
        if (op.advice === MADV_REMOVE && map.shared && map.backing.kind === 'file') {
          world.fileBytes.get(map.backing.file)![map.backing.pgoff + page] = 0;
        }
      }
      return;
    }
    case 'write': {
      const map = p.maps.get(op.page);
      const r = mm.access(addr(op.page), AccessKind.Write, op.value);
      if (map === undefined || (map.prot & PROT_WRITE) === 0) {
        expect(r).toBe(-SIGSEGV);
        return;
      }
      expect(r).toBe(0);
      if (map.shared && map.backing.kind === 'file') world.fileBytes.get(map.backing.file)![map.backing.pgoff + op.page] = op.value;
      else p.priv.set(op.page, op.value);
      return;
    }
    case 'read': {
      const expected = expectedRead(world, p, op.page);
      const r = mm.access(addr(op.page), AccessKind.Read);
      if (expected === 'segv') expect(r).toBe(-SIGSEGV);
      else if (typeof expected === 'number') expect(r).toBe(expected);
      else {
        expect(expected.either).toContain(r);
        p.priv.set(op.page, r);
      }
      return;
    }
    case 'fork': {
      if (world.processes.length >= 4) return;
      const child = mm.fork();
      world.processes.push(p.clone(child));
      return;
    }
    case 'exit': {
      if (world.processes.length <= 1) return;
      const index = who % world.processes.length;
      world.processes[index]!.mm.exit();
      world.processes.splice(index, 1);
      return;
    }
  }
}

function checkAll(world: World): void {
  expect(checkInvariants(world.kernel)).toEqual([]);
  for (const p of world.processes) {
    for (const [page] of p.maps) {
      const expected = expectedRead(world, p, page);
      if (expected === 'segv') continue;
      const r = p.mm.access(addr(page), AccessKind.Read);
      if (typeof expected === 'number') expect(r).toBe(expected);
      else expect(expected.either).toContain(r);
    }
  }
}

describe('random operation sequences', () => {
  // THP 'always' (issue 19): every fault of an aligned range is a THP, so
  // fork + partial munmap + madvise reach the split paths that threw.
  for (const [swap, thp] of [[false, 'madvise'], [true, 'madvise'], [true, 'always']] as const) {
    it(`keep invariants and contents (swap ${swap ? 'on' : 'off'}${thp === 'always' ? ', THP always' : ''})`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(opArb, fc.nat(3)), { minLength: 10, maxLength: 60, size: 'max' }), (ops) => {
          const world = new World(swap, thp);
          for (const [op, who] of ops) {
            apply(world, op, who);
            expect(checkInvariants(world.kernel)).toEqual([]);
          }
          checkAll(world);
          for (const p of world.processes) p.mm.exit();
          expect(checkInvariants(world.kernel)).toEqual([]);
          expect(world.kernel.frames.used).toBeLessThanOrEqual(1 + 512);
        }),
        { numRuns: 80, seed: thp === 'always' ? 1919 : swap ? 1234 : 4321 },
      );
    }, 120_000);
  }
});

describe('the model catches what it should', () => {
  it('a write after fork stays private to the writer', () => {
    const world = new World(false);
    apply(world, { op: 'mmap', page: 0, pages: 4, prot: PROT_READ | PROT_WRITE, shared: false, file: false, populate: false }, 0);
    apply(world, { op: 'write', page: 0, value: 1 }, 0);
    apply(world, { op: 'fork' }, 0);
    apply(world, { op: 'write', page: 0, value: 2 }, 0);
    apply(world, { op: 'read', page: 0 }, 1);
    checkAll(world);
  });
});
