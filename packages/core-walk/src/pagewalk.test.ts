import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MADV_HUGEPAGE,
  PMD_SIZE,
  PROT_READ,
  PROT_WRITE,
  VM_PFNMAP,
  Vma,
  WalkAction,
  WalkDepth,
  WalkLock,
  MmLockError,
  pmdLeaf,
  ptePresent,
  walkPageMapping,
  walkPageRange,
  walkPageRangeNovma,
  walkPageRangeVma,
  walkPageVma,
  type MmWalkOps,
} from './index.js';
import { claimMmInternal } from './mm-internal.js';
import { VMAS } from './vma.js';

const { walkPageRangeUnsafe } = claimMmInternal();
import { TEST_ARENA_BASE as BASE, assertInvariants, createTestMm, mapAnon, writePages, P } from './testing.js';
import { makeGuardPte } from './swapops.js';

/** Records every callback as a compact string. */
function recorder(extra: Partial<MmWalkOps<string[]>> = {}): MmWalkOps<string[]> {
  const rel = (a: number) => (a - BASE) / P;
  return {
    pgdEntry: (_e, a, n, w) => void w.state.push(`pgd ${rel(a)}-${rel(n)}`),
    p4dEntry: (_e, a, n, w) => void w.state.push(`p4d ${rel(a)}-${rel(n)}`),
    pudEntry: (_e, a, n, w) => void w.state.push(`pud ${rel(a)}-${rel(n)}`),
    pmdEntry: (_e, a, n, w) => void w.state.push(`pmd ${rel(a)}-${rel(n)}`),
    pteEntry: (e, a, _n, w) => void w.state.push(`pte ${rel(a)} ${ptePresent(e) ? 'P' : e === 0 ? '-' : 'S'}`),
    pteHole: (a, n, d, w) => void w.state.push(`hole ${rel(a)}-${rel(n)} d${d}`),
    testWalk: (a, n, w) => void w.state.push(`test ${rel(a)}-${rel(n)}`),
    preVma: (a, n, w) => void w.state.push(`pre ${rel(a)}-${rel(n)}`),
    postVma: (w) => void w.state.push('post'),
    ...extra,
  };
}

describe('walkPageRange: call order and depths', () => {
  it('reports a range outside any VMA as one depth -1 hole and does not descend', () => {
    const { mm } = createTestMm();
    const log: string[] = [];
    expect(walkPageRange(mm, BASE, BASE + 8 * P, recorder(), log)).toBe(0);
    expect(log).toEqual(['hole 0-8 d-1']);
  });

  it('reports holes between VMAs with depth -1, then per-level holes inside a VMA', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 4, 4);
    const log: string[] = [];
    walkPageRange(mm, BASE, BASE + 16 * P, recorder(), log);
    // 4-level x86-64: P4D folded, so pgdEntry sees the empty slot and the miss is depth 0.
    expect(log).toEqual(['hole 0-4 d-1', 'test 4-8', 'pre 4-8', 'pgd 4-8', 'hole 4-8 d0', 'post', 'hole 8-16 d-1']);
  });

  it('calls pteEntry for every PTE of a table, empty ones included, and reports missing PMDs at depth 3', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 1024);
    writePages(mm, BASE + P, 1, 1);
    const log: string[] = [];
    walkPageRange(mm, BASE, BASE + 1024 * P, recorder({ testWalk: undefined, preVma: undefined, postVma: undefined }), log);
    expect(log.slice(0, 7)).toEqual(['pgd 0-1024', 'p4d 0-1024', 'pud 0-1024', 'pmd 0-512', 'pte 0 -', 'pte 1 P', 'pte 2 -']);
    expect(log.filter((l) => l.startsWith('pte')).length).toBe(512);
    expect(log.at(-1)).toBe('hole 512-1024 d3');
  });

  it('reports a missing PUD entry at depth 2', () => {
    const { mm } = createTestMm();
    const gib = 262144; // pages per GiB
    mapAnon(mm, 0, 2 * gib);
    writePages(mm, BASE, 1, 1);
    const log: string[] = [];
    // With only pteHole the walker never descends below the PGD (no lower callbacks).
    walkPageRange(mm, BASE + gib * P, BASE + (gib + 4) * P, { pteHole: (a, n, d, w) => void w.state.push(`hole d${d}`) }, log);
    expect(log).toEqual([]);
    walkPageRange(mm, BASE + gib * P, BASE + (gib + 4) * P, { pmdEntry: () => 0, pteHole: (a, n, d, w) => void w.state.push(`hole d${d}`) }, log);
    expect(log).toEqual(['hole d2']);
  });

  it('clips range callbacks to [addr, next) and gives pteEntry one page', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 1024);
    writePages(mm, BASE + 510 * P, 4, 1);
    const log: string[] = [];
    walkPageRange(mm, BASE + 510 * P, BASE + 514 * P, { pmdEntry: (_e, a, n, w) => void w.state.push(`pmd ${(a - BASE) / P}-${(n - BASE) / P}`) }, log);
    expect(log).toEqual(['pmd 510-512', 'pmd 512-514']);
  });
});

describe('walk actions and return values', () => {
  it('Continue from pmdEntry skips the PTEs below', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE, 8, 1);
    let ptes = 0;
    walkPageRange(mm, BASE, BASE + 8 * P, {
      pmdEntry: (_e, _a, _n, w) => void (w.action = WalkAction.Continue),
      pteEntry: () => void ptes++,
    });
    expect(ptes).toBe(0);
  });

  it('Again re-evaluates the same entry', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE, 1, 1);
    let calls = 0;
    walkPageRange(mm, BASE, BASE + 8 * P, {
      pmdEntry: (_e, _a, _n, w) => {
        calls++;
        if (calls < 3) w.action = WalkAction.Again;
      },
    });
    expect(calls).toBe(3);
  });

  it('a positive callback result stops the walk and is returned; a negative one is an error', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE, 1, 1);
    let seen = 0;
    expect(walkPageRange(mm, BASE, BASE + 8 * P, { pteEntry: () => (++seen === 3 ? 42 : 0) })).toBe(42);
    expect(seen).toBe(3);
    expect(walkPageRange(mm, BASE + 100 * P, BASE + 108 * P, { pteHole: () => -Errno.EIO })).toBe(-Errno.EIO);
  });

  it('testWalk: positive skips the VMA silently, negative aborts, zero walks', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    mapAnon(mm, 8, 4, { prot: PROT_READ });
    const log: string[] = [];
    const ops = recorder({ testWalk: (a, _n, w) => (w.vma!.start === BASE ? 1 : (w.state.push(`test ${(a - BASE) / P}`), 0)) });
    expect(walkPageRange(mm, BASE, BASE + 12 * P, ops, log)).toBe(0);
    expect(log[0]).toBe('hole 4-8 d-1');
    expect(log).toContain('test 8');
    expect(log.some((l) => l.startsWith('pre 0'))).toBe(false);
    expect(walkPageRange(mm, BASE, BASE + 12 * P, { testWalk: () => -Errno.EPERM })).toBe(-Errno.EPERM);
  });

  it('preVma failing skips the VMA and postVma; postVma still runs after a failed walk', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    const log: string[] = [];
    expect(walkPageRange(mm, BASE, BASE + 4 * P, recorder({ preVma: () => 7 }), log)).toBe(7);
    expect(log).not.toContain('post');
    const log2: string[] = [];
    expect(walkPageRange(mm, BASE, BASE + 4 * P, recorder({ pgdEntry: () => -Errno.EIO }), log2)).toBe(-Errno.EIO);
    expect(log2.at(-1)).toBe('post');
  });

  it('a PFN-map VMA without testWalk is skipped, reported once as a depth -1 hole', () => {
    const { mm } = createTestMm();
    mm[VMAS].insert(new Vma(BASE, BASE + 4 * P, VM_PFNMAP | 1, BASE / P, null));
    const log: string[] = [];
    expect(walkPageRange(mm, BASE, BASE + 4 * P, recorder({ testWalk: undefined }), log)).toBe(0);
    expect(log).toEqual(['hole 0-4 d-1']);
  });
});

describe('huge pages', () => {
  function thpMm() {
    const setup = createTestMm({ profile: { thp: 'madvise' } });
    mapAnon(setup.mm, 0, 1024);
    expect(setup.mm.madvise(BASE, 1024 * P, MADV_HUGEPAGE)).toBe(0);
    writePages(setup.mm, BASE, 1, 9);
    expect(pmdLeaf(setup.mm.entryAt(BASE).entry)).toBe(true);
    return setup;
  }

  it('pmdEntry sees a THP leaf whole; a walk without pteEntry never splits it', () => {
    const { mm } = thpMm();
    const leaves: boolean[] = [];
    walkPageRange(mm, BASE, BASE + 512 * P, { pmdEntry: (e) => void leaves.push(pmdLeaf(e)) });
    expect(leaves).toEqual([true]);
    expect(pmdLeaf(mm.entryAt(BASE).entry)).toBe(true);
  });

  it('a THP is split when pteEntry exists and pmdEntry leaves the action at Subtree', () => {
    const { kernel, mm } = thpMm();
    let ptes = 0;
    walkPageRange(mm, BASE, BASE + 512 * P, { pmdEntry: () => 0, pteEntry: (e) => void (ptePresent(e) && ptes++) });
    expect(ptes).toBe(512);
    expect(pmdLeaf(mm.entryAt(BASE).entry)).toBe(false);
    expect(mm.access(BASE, AccessKind.Read)).toBe(9);
    assertInvariants(kernel);
  });

  it('hugetlb VMAs: invisible without hugetlbEntry, one call per huge page with hmask otherwise', () => {
    const { mm } = createTestMm({ profile: { hugetlbPages: 4 } });
    expect(mm.mmap(BASE, 2 * PMD_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_HUGETLB)).toBe(BASE);
    writePages(mm, BASE, 1, 3);
    const log: string[] = [];
    expect(walkPageRange(mm, BASE, BASE + 2 * PMD_SIZE, { pteHole: () => void log.push('hole'), pteEntry: () => void log.push('pte') }, log)).toBe(0);
    expect(log).toEqual([]);
    const calls: [number, number, number][] = [];
    walkPageRange(mm, BASE + P, BASE + 2 * PMD_SIZE, { hugetlbEntry: (e, hmask, a, n) => void calls.push([hmask, (a - BASE) / P, (n - BASE) / P]) });
    expect(calls).toEqual([[-PMD_SIZE, 1, 512], [-PMD_SIZE, 512, 1024]]);
  });
});

describe('entry points', () => {
  it('walkPageVma and walkPageRangeVma do not call testWalk and check bounds', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 8);
    const vma = mm.vmas.lookup(BASE)!;
    const log: string[] = [];
    expect(walkPageVma(vma, recorder(), log)).toBe(0);
    expect(log.some((l) => l.startsWith('test'))).toBe(false);
    expect(log[0]).toBe('pre 0-8');
    expect(walkPageRangeVma(vma, BASE - P, BASE + P, recorder(), [])).toBe(-Errno.EINVAL);
    expect(walkPageRangeVma(vma, BASE + P, BASE + 2 * P, recorder(), [])).toBe(0);
    // A VMA of no mm (walk->mm == NULL), or one no longer in its mm, is EINVAL.
    expect(walkPageVma(new Vma(BASE, BASE + P, 1, BASE / P, null), recorder(), [])).toBe(-Errno.EINVAL);
    expect(mm.munmap(BASE, 8 * P)).toBe(0);
    expect(walkPageVma(vma, recorder(), [])).toBe(-Errno.EINVAL);
  });

  it('walkPageRangeNovma walks tables regardless of VMAs and skips huge leaves', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE, 2, 1);
    let present = 0;
    expect(walkPageRangeNovma(mm, BASE, BASE + 8 * P, { pteEntry: (e, _a, _n, w) => void (w.noVma && ptePresent(e) && present++) })).toBe(0);
    expect(present).toBe(2);
  });

  it('walkPageMapping visits every VMA mapping the file range; a positive testWalk ends the iteration', () => {
    const { kernel, mm } = createTestMm();
    const file = kernel.memfdCreate('f', 8 * P);
    if (typeof file === 'number') throw new Error('memfd');
    expect(mm.mmap(BASE, 8 * P, PROT_READ | PROT_WRITE, 1 /* MAP_SHARED */ | MAP_FIXED_NOREPLACE, file, 0)).toBe(BASE);
    expect(mm.mmap(BASE + 16 * P, 4 * P, PROT_READ, 1 | MAP_FIXED_NOREPLACE, file, 4 * P)).toBe(BASE + 16 * P);
    const starts: number[] = [];
    expect(walkPageMapping(file, 2, 4, { preVma: (s) => void starts.push((s - BASE) / P) })).toBe(0);
    expect(starts.sort((a, b) => a - b)).toEqual([2, 16]);
    let tests = 0;
    expect(walkPageMapping(file, 0, 8, { testWalk: () => (++tests, 1) })).toBe(0);
    expect(tests).toBe(1);
  });

  it('rejects bad ranges with EINVAL', () => {
    const { mm } = createTestMm();
    expect(walkPageRange(mm, BASE, BASE, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE + 8 * P, BASE, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE + 1, BASE + P, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE, 2 ** 60, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, Number.NaN, BASE, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, BASE, BASE + P, { pteEntry: () => 0, pteBatch: () => 0 })).toBe(-Errno.EINVAL);
  });
});

describe('installPte and the public walkers', () => {
  it('every public walker refuses ops carrying installPte (check_ops_valid)', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 8);
    const vma = mm.vmas.lookup(BASE)!;
    const ops = { installPte: () => makeGuardPte() } as unknown as MmWalkOps;
    expect(walkPageRange(mm, BASE, BASE + P, ops)).toBe(-Errno.EINVAL);
    expect(walkPageVma(vma, ops)).toBe(-Errno.EINVAL);
    expect(walkPageRangeVma(vma, BASE, BASE + P, ops)).toBe(-Errno.EINVAL);
    expect(walkPageRangeNovma(mm, BASE, BASE + P, ops)).toBe(-Errno.EINVAL);
    const file = kernel.memfdCreate('f', P);
    if (typeof file === 'number') throw new Error('memfd');
    expect(walkPageMapping(file, 0, 1, ops)).toBe(-Errno.EINVAL);
  });

  it('the unsafe walker allocates tables, calls installPte for empty PTEs and pteEntry for the rest', () => {
    const { kernel, mm } = createTestMm();
    mapAnon(mm, 0, 8);
    writePages(mm, BASE + 2 * P, 1, 5);
    const seen: string[] = [];
    const holes: number[] = [];
    const result = walkPageRangeUnsafe(mm, BASE, BASE + 4 * P, {
      installPte: (a) => (seen.push(`install ${(a - BASE) / P}`), makeGuardPte()),
      pteEntry: (_e, a) => void seen.push(`pte ${(a - BASE) / P}`),
      pteHole: (a) => void holes.push(a),
    }, null);
    expect(result).toBe(0);
    expect(seen).toEqual(['install 0', 'install 1', 'pte 2', 'install 3']);
    expect(holes).toEqual([]);
    expect(mm.access(BASE, AccessKind.Read)).toBe(-11);
    assertInvariants(kernel);
  });

  it('the unsafe walker refuses hugetlb VMAs with EINVAL', () => {
    const { mm } = createTestMm({ profile: { hugetlbPages: 1 } });
    expect(mm.mmap(BASE, PMD_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_HUGETLB)).toBe(BASE);
    expect(walkPageRangeUnsafe(mm, BASE, BASE + PMD_SIZE, { installPte: () => 0 }, null)).toBe(-Errno.EINVAL);
  });
});

describe('lock modes', () => {
  it('takes the mmap lock for the walk when none is held, and releases it', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    writePages(mm, BASE, 1, 1);
    let heldDuring = false;
    walkPageRange(mm, BASE, BASE + P, { pteEntry: (_e, _a, _n, w) => void (heldDuring = w.mm.lock.held) });
    expect(heldDuring).toBe(true);
    expect(mm.lock.idle).toBe(true);
  });

  it('Write mode write-locks each VMA entered; it refuses to run under a read lock', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    let locked = false;
    walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.Write, preVma: (_s, _e, w) => void (locked = w.mm.lock.vmaWriteLocked.has(w.vma!)) });
    expect(locked).toBe(true);
    mm.lock.readLock();
    expect(() => walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.Write })).toThrow(MmLockError);
    mm.lock.readUnlock();
  });

  it('WriteVerify asserts the VMA is already write-locked; VmaReadVerify asserts the VMA lock', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 4);
    expect(() => walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.WriteVerify })).toThrow(MmLockError);
    mm.lock.writeLock();
    expect(() => walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.WriteVerify })).toThrow(MmLockError);
    mm.lock.vmaStartWrite(mm.vmas.lookup(BASE)!);
    expect(walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.WriteVerify })).toBe(0);
    mm.lock.writeUnlock();
    expect(() => walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.VmaReadVerify })).toThrow(MmLockError);
    const vma = mm.vmas.lookup(BASE)!;
    mm.lock.vmaReadLocked.add(vma);
    expect(walkPageRange(mm, BASE, BASE + P, { walkLock: WalkLock.VmaReadVerify })).toBe(0);
    mm.lock.vmaReadLocked.delete(vma);
  });
});

describe('pteBatch', () => {
  it('sees exactly what per-entry pteEntry sees', () => {
    const { mm } = createTestMm();
    mapAnon(mm, 0, 3000);
    for (let i = 0; i < 3000; i += 7) writePages(mm, BASE + i * P, 1, i & 255);
    for (let i = 3; i < 3000; i += 11) mm.access(BASE + i * P, AccessKind.Read);
    const perEntry: number[] = [];
    walkPageRange(mm, BASE + 5 * P, BASE + 2990 * P, { pteEntry: (e, a) => void perEntry.push(a, e) });
    const batched: number[] = [];
    walkPageRange(mm, BASE + 5 * P, BASE + 2990 * P, {
      pteBatch: (entries, first, count, addr) => {
        for (let i = 0; i < count; i++) batched.push(addr + i * P, entries[first + i]!);
      },
    });
    expect(batched).toEqual(perEntry);
    expect(perEntry.length).toBe(2 * 2985);
  });
});

describe('depth values on 5-level paging', () => {
  it('reports a missing PGD at 0 and a missing P4D at 1', () => {
    const { mm } = createTestMm({ profile: { fiveLevel: true } });
    mapAnon(mm, 0, 4);
    const depths: WalkDepth[] = [];
    walkPageRange(mm, BASE, BASE + 4 * P, { pteHole: (_a, _n, d) => void depths.push(d) });
    expect(depths).toEqual([WalkDepth.Pgd]);
    writePages(mm, BASE, 1, 1);
    const far = BASE + 2 ** 39; // another P4D entry of the same PGD entry
    expect(mm.mmap(far, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE)).toBe(far);
    const more: WalkDepth[] = [];
    walkPageRange(mm, far, far + P, { pteEntry: () => 0, pteHole: (_a, _n, d) => void more.push(d) });
    expect(more).toEqual([WalkDepth.P4d]);
  });
});
