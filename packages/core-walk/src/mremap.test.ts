import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  checkInvariants,
  createKernel,
} from './index.js';
import { P, RW } from './testing.js';

describe('mremap', () => {
  it('moves pages with their contents and folios, and the invariants hold', () => {
    const kernel = createKernel({ profile: { thp: 'madvise' } });
    const mm = kernel.createMm();
    const a = mm.mmap(0, 1024 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    mm.madvise(a, 1024 * P, MADV_HUGEPAGE);
    for (let i = 0; i < 1024; i += 37) mm.access(a + i * P + (i % P), AccessKind.Write, i & 0xff);
    const target = a + 4096 * P;
    expect(mm.mremap(a + 100 * P, 600 * P, 600 * P, MREMAP_MAYMOVE | MREMAP_FIXED, target)).toBe(target);
    expect(checkInvariants(kernel)).toEqual([]);
    for (let i = 0; i < 1024; i += 37) {
      const at = i >= 100 && i < 700 ? target + (i - 100) * P : a + i * P;
      expect(mm.access(at + (i % P), AccessKind.Read), `page ${i}`).toBe(i & 0xff);
    }
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('keeps a shared mapping shared after a move and after DONTUNMAP', () => {
    const kernel = createKernel();
    const mm = kernel.createMm();
    const a = mm.mmap(0, 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS);
    mm.access(a + 3 * P + 4095, AccessKind.Write, 99);
    const moved = mm.mremap(a, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    expect(moved).toBeGreaterThan(0);
    expect(mm.access(moved + 3 * P + 4095, AccessKind.Read)).toBe(99);
    // The source stays mapped: a shared mapping sees the same file page there.
    expect(mm.access(a + 3 * P + 4095, AccessKind.Read)).toBe(99);
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('gives the kernel errors for bad arguments', () => {
    const mm = createKernel().createMm();
    const a = mm.mmap(0, 8 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS);
    expect(mm.mremap(a + 1, P, P, 0)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a, P, 0, 0)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a, P, P, 8)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a, P, P, MREMAP_FIXED, a + 64 * P)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, a + P)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a + 64 * P, P, 2 * P, 0)).toBe(-Errno.EFAULT);
    expect(mm.mremap(a, 16 * P, 16 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0)).toBe(-Errno.EFAULT);
    expect(mm.mremap(a, 0, P, MREMAP_MAYMOVE)).toBe(-Errno.EINVAL);
    expect(mm.mremap(Number.NaN, P, P, 0)).toBe(-Errno.EINVAL);
  });
});
