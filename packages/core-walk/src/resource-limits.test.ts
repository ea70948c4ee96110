/** Issue 18, item 4: RAM and swap sizes from the profile, overcommit policies, the OOM killer. */
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_POPULATE_WRITE,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PAGE_SIZE,
  PROT_READ,
  SIGKILL,
  checkInvariants,
  createKernel,
} from './index.js';
import { RW, MIB, TIB } from './testing.js';

const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('overcommit', () => {
  it('heuristic (the default): one private writable mapping larger than RAM + swap is refused; MAP_NORESERVE is not charged', () => {
    const k = createKernel({ profile: { ramPages: 4096, swap: true, swapPages: 1024 } });
    const mm = k.createMm();
    expect(mm.mmap(0, TIB, RW, ANON)).toBe(-Errno.ENOMEM);
    expect(mm.mmap(0, 5121 * PAGE_SIZE, RW, ANON)).toBe(-Errno.ENOMEM);
    expect(mm.mmap(0, 5120 * PAGE_SIZE, RW, ANON)).toBeGreaterThan(0);
    expect(mm.mmap(0, 5120 * PAGE_SIZE, RW, ANON)).toBeGreaterThan(0); // heuristic: no running total
    expect(mm.mmap(0, TIB, RW, ANON | MAP_NORESERVE)).toBeGreaterThan(0);
    expect(mm.mmap(0, TIB, PROT_READ, ANON)).toBeGreaterThan(0); // read-only: not accountable
    expect(mm.mmap(0, 64 * MIB, RW, MAP_SHARED | MAP_ANONYMOUS)).toBeGreaterThan(0); // shared: charged to shmem, not modelled
    expect(checkInvariants(k)).toEqual([]);
  });

  it('always: nothing is refused', () => {
    const mm = createKernel({ profile: { ramPages: 4096, overcommit: 'always' } }).createMm();
    expect(mm.mmap(0, TIB, RW, ANON)).toBeGreaterThan(0);
  });

  it('never: a running total under RAM * ratio + swap, given back by munmap and exit, taken by mprotect', () => {
    const k = createKernel({ profile: { ramPages: 4096, overcommit: 'never', overcommitRatio: 50 } });
    const mm = k.createMm();
    const a = mm.mmap(0, 1024 * PAGE_SIZE, RW, ANON);
    expect(a).toBeGreaterThan(0);
    expect(mm.mmap(0, 1024 * PAGE_SIZE, RW, ANON | MAP_NORESERVE)).toBeGreaterThan(0); // NORESERVE does not escape "never"
    expect(mm.mmap(0, PAGE_SIZE, RW, ANON)).toBe(-Errno.ENOMEM);
    const ro = mm.mmap(0, 1024 * PAGE_SIZE, PROT_READ, ANON);
    expect(ro).toBeGreaterThan(0);
    expect(mm.munmap(a, 512 * PAGE_SIZE)).toBe(0);
    expect(k.committedPages).toBe(1536);
    expect(mm.mprotect(ro, 1024 * PAGE_SIZE, RW)).toBe(-Errno.ENOMEM);
    expect(mm.mprotect(ro, 512 * PAGE_SIZE, RW)).toBe(0);
    expect(k.committedPages).toBe(2048);
    const child = mm.fork();
    expect(k.committedPages).toBe(4096);
    child.exit();
    expect(checkInvariants(k)).toEqual([]);
    mm.exit();
    expect(k.committedPages).toBe(0);
  });
});

describe('RAM exhaustion: the OOM killer', () => {
  it('populating 1 TiB with 64 MiB of RAM ends in the OOM kill of the process, in bounded time, never a crash', () => {
    const k = createKernel({ profile: { ramPages: (64 * MIB) / PAGE_SIZE } });
    const mm = k.createMm();
    const a = mm.mmap(0, TIB, RW, ANON | MAP_NORESERVE);
    expect(a).toBeGreaterThan(0);
    const started = performance.now();
    expect(mm.madvise(a, TIB, MADV_POPULATE_WRITE)).toBe(-Errno.ENOMEM);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(mm.killed).toBe(true);
    expect(mm.access(a, AccessKind.Read)).toBe(-SIGKILL);
    expect(k.mms.size).toBe(0);
    expect(k.frames.used).toBeLessThanOrEqual(1);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('a fault that finds no free frame kills the largest process; the faulting one goes on when it was not that one', () => {
    const k = createKernel({ profile: { ramPages: 2048, thp: 'never' } });
    const big = k.createMm();
    const small = k.createMm();
    const b = big.mmap(0, 1500 * PAGE_SIZE, RW, ANON | MAP_POPULATE);
    expect(b).toBeGreaterThan(0);
    expect(big.killed).toBe(false);
    const s = small.mmap(0, 1000 * PAGE_SIZE, RW, ANON);
    for (let i = 0; i < 1000; i++) expect(small.access(s + i * PAGE_SIZE + 7, AccessKind.Write, 1)).toBe(0);
    expect(big.killed).toBe(true);
    expect(small.killed).toBe(false);
    expect(big.access(b, AccessKind.Read)).toBe(-SIGKILL);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('the faulting process is killed when it is the largest: its access ends in SIGKILL', () => {
    const k = createKernel({ profile: { ramPages: 1024, thp: 'never' } });
    const mm = k.createMm();
    const a = mm.mmap(0, 2048 * PAGE_SIZE, RW, ANON | MAP_NORESERVE);
    let last = 0;
    for (let i = 0; i < 2048 && last === 0; i++) last = mm.access(a + i * PAGE_SIZE, AccessKind.Write, 1);
    expect(last).toBe(-SIGKILL);
    expect(mm.killed).toBe(true);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('a 1 TiB shared mapping and a 64 TiB memfd cost nothing until written; populating them ends in an OOM kill', () => {
    const k = createKernel({ profile: { ramPages: (64 * MIB) / PAGE_SIZE } });
    const mm = k.createMm();
    const huge = k.memfdCreate('huge', 2 ** 46);
    if (typeof huge === 'number') throw new Error(`memfd ${huge}`);
    const m = mm.mmap(0, TIB, RW, MAP_SHARED, huge, 2 ** 45);
    expect(m).toBeGreaterThan(0);
    expect(mm.access(m + TIB - 1, AccessKind.Write, 5)).toBe(0);
    expect(mm.access(m + TIB - 1, AccessKind.Read)).toBe(5);
    const a = mm.mmap(0, TIB, RW, MAP_SHARED | MAP_ANONYMOUS);
    expect(a).toBeGreaterThan(0);
    expect(mm.madvise(a, TIB, MADV_POPULATE_WRITE)).toBe(-Errno.ENOMEM);
    expect(mm.killed).toBe(true);
    expect(checkInvariants(k)).toEqual([]);
    k.closeFile(huge);
    expect(k.frames.used).toBeLessThanOrEqual(1);
  });
});
