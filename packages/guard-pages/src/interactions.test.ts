/**
 * Guards and the rest of the mm: fork, unmapping, MAP_FIXED, exit,
 * userfaultfd, collapse, file mappings, visibility, and the core's poison
 * handling next to guards.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_COLLAPSE,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_GUARD_INSTALL,
  MADV_GUARD_REMOVE,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  SIGSEGV,
  UserfaultHandlerToken,
  UserfaultOutcome,
  VM_UFFD_MISSING,
  createKernel,
  isGuardPteMarker,
  makeGuardPte,
  makePoisonedMarker,
  pagemapSwapFrame,
  ptePresent,
  type Feature,
  type Kernel,
  type Mm,
  type UserfaultHandler,
} from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, assertInvariants, mapAnon, writePages, P } from '@pagewalk/core-walk/testing';
import { guardPages } from './index.js';
import { pagemapFlagNames, readPagemap } from '@pagewalk/pagemap-scan';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { pteSlotOf, tablesOf, writableVma } = claimMmInternal();

const at = (page: number) => TEST_ARENA_BASE + page * P;
const read = (mm: Mm, page: number) => mm.access(at(page), AccessKind.Read);
const write = (mm: Mm, page: number, value: number) => mm.access(at(page), AccessKind.Write, value);
const reads = (mm: Mm, from: number, count: number) => [...Array(count).keys()].map((i) => read(mm, from + i));

type Backing = 'anon' | 'shmem' | 'private-file';

function mapBacked(kernel: Kernel, mm: Mm, backing: Backing, page: number, pages: number): void {
  if (backing === 'anon') {
    mapAnon(mm, page, pages);
    return;
  }
  const file = kernel.memfdCreate(backing, pages * P);
  if (typeof file === 'number') throw new Error('memfd');
  const type = backing === 'shmem' ? MAP_SHARED : MAP_PRIVATE;
  expect(mm.mmap(at(page), pages * P, PROT_READ | PROT_WRITE, type | MAP_FIXED_NOREPLACE, file, 0)).toBe(at(page));
}

describe('fork', () => {
  for (const backing of ['anon', 'shmem', 'private-file'] as const) {
    it(`copies guards to the child (${backing}); the two then change independently`, () => {
      const kernel = createKernel({ features: [guardPages] });
      const parent = kernel.createMm();
      mapBacked(kernel, parent, backing, 0, 10);
      expect(parent.madvise(at(0), 5 * P, MADV_GUARD_INSTALL)).toBe(0);
      const child = parent.fork();
      for (let page = 0; page < 5; page++) expect(read(child, page)).toBe(-SIGSEGV);
      expect(read(child, 5)).toBe(0);
      expect(child.madvise(at(0), 10 * P, MADV_GUARD_REMOVE)).toBe(0);
      expect(read(child, 0)).toBe(0);
      expect(read(parent, 0)).toBe(-SIGSEGV);
      expect(parent.madvise(at(0), 10 * P, MADV_GUARD_REMOVE)).toBe(0);
      expect(child.madvise(at(0), P, MADV_GUARD_INSTALL)).toBe(0);
      expect(read(parent, 0)).toBe(0);
      expect(read(child, 0)).toBe(-SIGSEGV);
      assertInvariants(kernel);
      child.exit();
      parent.exit();
      assertInvariants(kernel);
    });
  }

  it('COW: the child guards and removes; it reads zeros, the parent keeps its data', () => {
    const kernel = createKernel({ features: [guardPages] });
    const parent = kernel.createMm();
    mapAnon(parent, 0, 4);
    writePages(parent, at(0), 4, 0x79);
    const child = parent.fork();
    expect(child.madvise(at(0), 4 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(read(child, 1)).toBe(-SIGSEGV);
    expect(child.madvise(at(0), 4 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(reads(child, 0, 4)).toEqual([0, 0, 0, 0]);
    expect(reads(parent, 0, 4)).toEqual([0x79, 0x79, 0x79, 0x79]);
    expect(write(parent, 0, 1)).toBe(0);
    assertInvariants(kernel);
  });

  it('MADV_WIPEONFORK: the child has no guards; MADV_DONTFORK: the child has no VMA', () => {
    const kernel = createKernel({ features: [guardPages] });
    const parent = kernel.createMm();
    mapAnon(parent, 0, 4);
    mapAnon(parent, 8, 4);
    parent.madvise(at(0), 4 * P, MADV_WIPEONFORK);
    parent.madvise(at(8), 4 * P, MADV_DONTFORK);
    parent.madvise(at(0), 12 * P, MADV_GUARD_INSTALL);
    const child = parent.fork();
    expect(read(child, 0)).toBe(0);
    expect(read(parent, 0)).toBe(-SIGSEGV);
    expect(child.vmas.lookup(at(8))).toBeNull();
    expect(read(child, 8)).toBe(-SIGSEGV); // unmapped, not guarded
    assertInvariants(kernel);
  });

  it('a shared file VMA without guards has no anon_vma, so fork does not copy its tables', () => {
    const kernel = createKernel({ features: [guardPages] });
    const parent = kernel.createMm();
    mapBacked(kernel, parent, 'shmem', 0, 4);
    write(parent, 0, 5);
    const child = parent.fork();
    expect(child.entryAt(at(0)).entry).toBe(0); // refaults from the page cache instead
    expect(read(child, 0)).toBe(5);
  });
});

describe('unmapping', () => {
  it('munmap removes guards; a new mapping there is not guarded', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 8);
    mm.madvise(at(0), 8 * P, MADV_GUARD_INSTALL);
    expect(mm.munmap(at(0), P)).toBe(0);
    expect(mm.munmap(at(7), P)).toBe(0);
    mapAnon(mm, 0, 1);
    mapAnon(mm, 7, 1);
    expect(read(mm, 0)).toBe(0);
    expect(read(mm, 7)).toBe(0);
    expect(read(mm, 1)).toBe(-SIGSEGV);
  });

  it('mmap MAP_FIXED over guards replaces them; MAP_POPULATE then populates every page', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 8);
    mm.madvise(at(0), 8 * P, MADV_GUARD_INSTALL);
    expect(mm.mmap(at(2), 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE)).toBe(at(2));
    for (let page = 2; page < 6; page++) expect(ptePresent(mm.entryAt(at(page)).entry)).toBe(true);
    expect(read(mm, 1)).toBe(-SIGSEGV);
    expect(read(mm, 6)).toBe(-SIGSEGV);
    assertInvariants(kernel);
  });

  it('exit drops every guard and frees the tables', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 8);
    mm.madvise(at(0), 8 * P, MADV_GUARD_INSTALL);
    mm.exit();
    expect(kernel.mms.size).toBe(0);
    assertInvariants(kernel);
  });
});

describe('userfaultfd', () => {
  it('a guard raises SIGSEGV before any MISSING fault reaches the handler; installing raises none', () => {
    const calls: number[] = [];
    const handler: UserfaultHandler = {
      handleUserfault(mm, _vma, addr) {
        calls.push(addr);
        // Answer like UFFDIO_ZEROPAGE would.
        const slot = pteSlotOf(mm, addr, true);
        tablesOf(mm.kernel).entries[slot] = 0;
        return UserfaultOutcome.Sigbus;
      },
    };
    const recorder: Feature = { name: 'uffd-recorder', install: (c) => c.register(UserfaultHandlerToken, { useValue: handler }) };
    const kernel = createKernel({ features: [guardPages, recorder] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 4);
    writableVma(mm.vmas.lookup(at(0))!).flags |= VM_UFFD_MISSING;
    expect(mm.madvise(at(1), 2 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(calls).toEqual([]);
    expect(read(mm, 1)).toBe(-SIGSEGV);
    expect(write(mm, 2, 1)).toBe(-SIGSEGV);
    expect(calls).toEqual([]);
    read(mm, 0);
    expect(calls).toEqual([at(0)]);
  });
});

describe('collapse and khugepaged', () => {
  it('MADV_COLLAPSE refuses a range with a guard (EINVAL) and keeps it', () => {
    const kernel = createKernel({ features: [guardPages], profile: { thp: 'madvise' } });
    const mm = kernel.createMm();
    mapAnon(mm, 512, 512);
    writePages(mm, at(512), 8, 2);
    mm.madvise(at(520), P, MADV_GUARD_INSTALL);
    expect(mm.madvise(at(512), 512 * P, MADV_COLLAPSE)).toBe(-Errno.EINVAL);
    expect(isGuardPteMarker(mm.entryAt(at(520)).entry)).toBe(true);
    expect(reads(mm, 512, 8)).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
    assertInvariants(kernel);
  });
});

describe('file-backed mappings', () => {
  it('shared and private mappings of one file have their own guards; install discards private COW copies only', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    const file = kernel.memfdCreate('f', 4 * P);
    if (typeof file === 'number') throw new Error('memfd');
    mm.mmap(at(0), 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0);
    mm.mmap(at(8), 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, file, 0);
    writePages(mm, at(0), 4, 1); // the file
    writePages(mm, at(8), 2, 2); // private COW copies of pages 0-1
    expect(mm.madvise(at(8), 4 * P, MADV_GUARD_INSTALL)).toBe(0);
    expect(read(mm, 8)).toBe(-SIGSEGV);
    expect(reads(mm, 0, 4)).toEqual([1, 1, 1, 1]);
    expect(mm.madvise(at(8), 4 * P, MADV_GUARD_REMOVE)).toBe(0);
    expect(reads(mm, 8, 4)).toEqual([1, 1, 1, 1]); // the shared data again
    expect(mm.madvise(at(0), P, MADV_GUARD_INSTALL)).toBe(0);
    expect(read(mm, 0)).toBe(-SIGSEGV);
    expect(read(mm, 8)).toBe(1);
    assertInvariants(kernel);
  });
});

describe('visibility', () => {
  it('pagemap: guard + swapped, frame 31 | 4 << 5', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 4);
    write(mm, 0, 1);
    mm.madvise(at(1), 2 * P, MADV_GUARD_INSTALL);
    const entries = readPagemap(mm, at(0), 4);
    if (typeof entries === 'number') throw new Error(`pagemap read failed: ${entries}`);
    expect([...entries.flags.subarray(0, entries.length)].map(pagemapFlagNames)).toEqual([['present', 'exclusive'], ['swapped', 'guard'], ['swapped', 'guard'], []]);
    expect(pagemapSwapFrame(makeGuardPte())).toBe(0x9f);
  });
});

describe('core fixes next to guards', () => {
  it('an ordinary zap and MADV_FREE drop poison markers but keep guards', () => {
    const kernel = createKernel({ features: [guardPages] });
    const mm = kernel.createMm();
    mapAnon(mm, 0, 4);
    mm.madvise(at(0), P, MADV_GUARD_INSTALL);
    const poisoned = pteSlotOf(mm, at(1), true);
    tablesOf(kernel).entries[poisoned] = makePoisonedMarker();
    expect(mm.madvise(at(0), 4 * P, MADV_DONTNEED)).toBe(0);
    expect(tablesOf(kernel).entries[poisoned]).toBe(0);
    tablesOf(kernel).entries[poisoned] = makePoisonedMarker();
    expect(mm.madvise(at(0), 4 * P, MADV_FREE)).toBe(0);
    expect(tablesOf(kernel).entries[poisoned]).toBe(0);
    expect(mm.entryAt(at(0)).entry).toBe(makeGuardPte());
  });
});
