/**
 * What each call gives for arguments from plain JavaScript that no kernel
 * could be given (the table in README.md, "Bad arguments"): the kernel's
 * errno where a real system call would get one, a typed error otherwise —
 * never a raw TypeError and never a silent wrong result.
 */
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  ErrnoError,
  KernelConfigError,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  PagewalkArgumentError,
  SIGSEGV,
  SignalError,
  createKernel,
  orThrow,
  readByte,
  walkPageRange,
  writeByte,
  type MmWalkOps,
} from './index.js';
import { P } from './testing.js';

function setup() {
  const kernel = createKernel();
  const mm = kernel.createMm();
  const a = mm.mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  return { kernel, mm, a };
}

describe('bad arguments from plain JavaScript', () => {
  it('system calls return the kernel errno', () => {
    const { mm, a } = setup();
    const loose = mm as unknown as Record<string, (...args: unknown[]) => number>;
    expect(mm.mmap(0, P, 99, MAP_PRIVATE | MAP_ANONYMOUS)).toBe(-Errno.EINVAL);
    expect(loose.mmap!.call(mm, 0, '4096', PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)).toBe(-Errno.EINVAL);
    expect(mm.mmap(0, 1.5, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)).toBe(-Errno.EINVAL);
    expect(mm.mmap(0, P, PROT_READ, 0)).toBe(-Errno.EINVAL);
    expect(mm.munmap(a + 1, P)).toBe(-Errno.EINVAL);
    expect(mm.munmap(Number.NaN, P)).toBe(-Errno.EINVAL);
    expect(mm.mprotect(a, P, -1)).toBe(-Errno.EINVAL);
    expect(mm.madvise(a, P, 999)).toBe(-Errno.EINVAL);
    expect(loose.madvise!.call(mm, a, P, null)).toBe(-Errno.EINVAL);
    expect(loose.mlock!.call(mm, a)).toBe(-Errno.EINVAL);
    expect(mm.mremap(a, P, P, 8)).toBe(-Errno.EINVAL);
  });

  it('walkers return -EINVAL for null or foreign ops and unaligned ranges', () => {
    const { mm, a } = setup();
    const call = walkPageRange as unknown as (...args: unknown[]) => number;
    expect(call(mm, a, a + P, null)).toBe(-Errno.EINVAL);
    expect(call(mm, a, a + P, 42)).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, a + 1, a + P, {})).toBe(-Errno.EINVAL);
    expect(walkPageRange(mm, a, a + P, { installPte: () => 0 } as unknown as MmWalkOps)).toBe(-Errno.EINVAL);
  });

  it('memory accesses refuse a value that is not a byte or an unknown access kind', () => {
    const { mm, a } = setup();
    expect(() => mm.access(a, AccessKind.Write, 300)).toThrow(PagewalkArgumentError);
    expect(() => mm.access(a, AccessKind.Write, -1)).toThrow(/must be a byte/);
    expect(() => mm.access(a, AccessKind.Write, 1.5)).toThrow(PagewalkArgumentError);
    expect(() => mm.access(a, 7 as AccessKind)).toThrow(/unknown access kind/);
    expect(mm.access(a, AccessKind.Write, 255)).toBe(0);
    expect(mm.access(a, AccessKind.Read)).toBe(255);
    // A bad address is a fault, as on a CPU.
    expect(mm.access(null as unknown as number, AccessKind.Read)).toBe(-SIGSEGV);
  });

  it('the friendly helpers throw typed errors', () => {
    const { mm, a } = setup();
    expect(() => orThrow(mm.munmap(a + 1, P), 'munmap', a + 1)).toThrow(ErrnoError);
    try {
      orThrow(-Errno.ENOMEM, 'mmap');
    } catch (error) {
      expect(error).toMatchObject({ name: 'ErrnoError', code: 'ENOMEM', errno: Errno.ENOMEM, call: 'mmap' });
    }
    expect(() => writeByte(mm, a, 300)).toThrow(PagewalkArgumentError);
    expect(() => readByte(mm, 4096)).toThrow(SignalError);
    expect(orThrow(mm.mmap(0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), 'mmap')).toBeGreaterThan(0);
  });

  it('a bad profile is a KernelConfigError naming the field', () => {
    expect(() => createKernel({ profile: { thp: 'sometimes' as 'never' } })).toThrow(KernelConfigError);
    expect(() => createKernel({ profile: { thp: 'sometimes' as 'never' } })).toThrow(/profile\.thp/);
  });
});
