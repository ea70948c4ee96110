/**
 * Issue 19: reproductions of the adversarial run that reached the core
 * (internal assertions out of madvise, the zero-page invariant,
 * MAP_SHARED_VALIDATE), each pinned to Linux's result.
 */
import { describe, expect, it } from 'vitest';
import { tablesOf } from './kernel.js';
import {
  AccessKind,
  Errno,
  MADV_COLD,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_PAGEOUT,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_POPULATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_SYNC,
  PAGE_SIZE,
  PROT_READ,
  PTE_PRESENT,
  PTE_SPECIAL,
  PTE_WRITE,
  WalkLock,
  checkInvariants,
  createKernel,
  mkPte,
  walkPageRange,
  ptePfn,
} from './index.js';
import { TEST_ARENA_BASE as BASE, RW, ANON } from './testing.js';

describe('MADV_COLD / MADV_PAGEOUT on a THP the parent PTE-maps and the child PMD-maps', () => {
  for (const [name, advice] of [['MADV_PAGEOUT', MADV_PAGEOUT], ['MADV_COLD', MADV_COLD], ['MADV_FREE', MADV_FREE]] as const) {
    it(`${name} returns 0 and leaves the shared folio whole (folio_maybe_mapped_shared)`, () => {
      const k = createKernel({ profile: { thp: 'always' } });
      const mm = k.createMm();
      const B = BASE + (2 << 20);
      expect(mm.mmap(B, 2 << 20, RW, ANON)).toBe(B);
      expect(mm.access(B, AccessKind.Write, 1)).toBe(0);
      const child = mm.fork();
      expect(mm.munmap(B + 508 * PAGE_SIZE, 4 * PAGE_SIZE)).toBe(0);
      const before = mm.leafEntry(B + 315 * PAGE_SIZE);
      expect(mm.madvise(B + 315 * PAGE_SIZE, 100 * PAGE_SIZE, advice)).toBe(0);
      expect(checkInvariants(k)).toEqual([]);
      // Not split, not reclaimed: the page still maps the same frame, and the child still reads the data.
      expect(ptePfn(mm.leafEntry(B + 315 * PAGE_SIZE))).toBe(ptePfn(before));
      expect(child.access(B, AccessKind.Read)).toBe(1);
    });
  }
});

describe('checkInvariants and the zero page', () => {
  function zeroMapped(): { k: ReturnType<typeof createKernel>; slot: number } {
    const k = createKernel();
    const mm = k.createMm();
    mm.mmap(BASE, 4 * PAGE_SIZE, RW, ANON);
    mm.access(BASE, AccessKind.Read);
    const slot = mm.pteSlot(BASE, false);
    expect(k.tables.entries[slot]! & PTE_SPECIAL).toBe(PTE_SPECIAL);
    expect(checkInvariants(k)).toEqual([]);
    return { k, slot };
  }

  it('flags a writable PTE to the zero page', () => {
    const { k, slot } = zeroMapped();
    tablesOf(k).entries[slot] = (k.tables.entries[slot]! | PTE_WRITE) >>> 0;
    expect(checkInvariants(k).join('\n')).toMatch(/writable PTE maps the zero page/);
  });

  it('flags a non-special PTE to the zero page', () => {
    const { k, slot } = zeroMapped();
    tablesOf(k).entries[slot] = mkPte(k.frames.zeroPfn, PTE_PRESENT);
    expect(checkInvariants(k).join('\n')).toMatch(/non-special PTE maps the zero page/);
  });
});

describe('MAP_SHARED_VALIDATE (Linux 6.18)', () => {
  it('anonymous memory: EINVAL', () => {
    const mm = createKernel().createMm();
    expect(mm.mmap(BASE, PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS)).toBe(-Errno.EINVAL);
    expect(mm.mmap(BASE, PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_POPULATE)).toBe(-Errno.EINVAL);
  });

  it('a file: maps with known flags, EOPNOTSUPP for one it does not know; MAP_SHARED ignores it', () => {
    const k = createKernel();
    const mm = k.createMm();
    const file = k.memfdCreate('f', 8 * PAGE_SIZE);
    if (typeof file === 'number') throw new Error('memfd');
    const at = mm.mmap(0, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_POPULATE, file);
    expect(at).toBeGreaterThan(0);
    expect(mm.mmap(0, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_SYNC, file)).toBe(-Errno.EOPNOTSUPP);
    expect(mm.mmap(BASE, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, file)).toBe(-Errno.EOPNOTSUPP);
    expect(mm.mmap(0, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | 0x200000, file)).toBe(-Errno.EOPNOTSUPP);
    expect(mm.mmap(0, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | 0x80000000, file)).toBe(-Errno.EOPNOTSUPP);
    // EEXIST is checked first.
    expect(mm.mmap(at, 8 * PAGE_SIZE, RW, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, file)).toBe(-Errno.EEXIST);
    expect(mm.mmap(0, 8 * PAGE_SIZE, RW, MAP_SHARED | MAP_SYNC | 0x200000, file)).toBeGreaterThan(0);
    expect(checkInvariants(k)).toEqual([]);
  });
});

describe('a system call from inside a walk on the same mm', () => {
  it('returns -EDEADLK (where the kernel would deadlock) instead of throwing a lock error', () => {
    const k = createKernel();
    const mm = k.createMm();
    expect(mm.mmap(BASE, 8 * PAGE_SIZE, RW, ANON)).toBe(BASE);
    expect(mm.access(BASE, AccessKind.Write, 1)).toBe(0);
    const seen: number[] = [];
    const ops = {
      pteEntry: (entry: number) => {
        if (entry === 0) return 0;
        seen.push(
          mm.munmap(BASE, PAGE_SIZE),
          mm.mprotect(BASE, PAGE_SIZE, PROT_READ),
          mm.mmap(BASE + 16 * PAGE_SIZE, PAGE_SIZE, RW, ANON),
          mm.madvise(BASE, PAGE_SIZE, MADV_HUGEPAGE),
          mm.mlock(BASE, PAGE_SIZE),
          mm.clearRefs(1),
        );
        return 1;
      },
      walkLock: WalkLock.Write,
    };
    expect(walkPageRange(mm, BASE, BASE + 8 * PAGE_SIZE, ops)).toBe(1);
    expect(seen).toEqual(new Array(6).fill(-Errno.EDEADLK));
    expect(checkInvariants(k)).toEqual([]);
    expect(mm.munmap(BASE, PAGE_SIZE)).toBe(0);
  });
});
