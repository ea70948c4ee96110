/** Issue 18: pages migrated to the device and faulted back at any byte keep every byte. */
import { AccessKind, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, checkInvariants, createKernel } from '@pagewalk/core-walk';
import { HmmTestDevice, hmmMigrate } from '@pagewalk/hmm-migrate';
import { describe, expect, it } from 'vitest';
import { P } from '@pagewalk/core-walk/testing';

describe.each([0, 1, 2048, 4095])('device migration back at +%i', (off) => {
  it.each([MAP_PRIVATE, MAP_SHARED])('flags %i: bytes at the offset and its neighbours survive the round trip', (type) => {
    const kernel = createKernel({ features: [hmmMigrate], profile: { swap: true } });
    const mm = kernel.createMm();
    const buf = mm.mmap(0, 4 * P, PROT_READ | PROT_WRITE, type | MAP_ANONYMOUS);
    for (let i = 0; i < 4; i++) {
      expect(mm.access(buf + i * P + off, AccessKind.Write, 10 + i)).toBe(0);
      if (off > 0) expect(mm.access(buf + i * P + off - 1, AccessKind.Write, 50 + i)).toBe(0);
    }
    const gpu = new HmmTestDevice(kernel, 'gpu0');
    const ctx = gpu.open(mm);
    ctx.migrateToDevice(buf, 4);
    for (let i = 0; i < 4; i++) {
      expect(mm.access(buf + i * P + off, AccessKind.Read)).toBe(10 + i);
      if (off > 0) expect(mm.access(buf + i * P + off - 1, AccessKind.Read)).toBe(50 + i);
    }
    expect(checkInvariants(kernel)).toEqual([]);
  });
});

describe('device memory is not RAM; a migration back with RAM full runs the OOM killer', () => {
  it('kills the largest process, then the device page comes back with its bytes', () => {
    const kernel = createKernel({ features: [hmmMigrate], profile: { ramPages: 64, thp: 'never', overcommit: 'always' } });
    const mm = kernel.createMm();
    const buf = mm.mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect(mm.access(buf + P + 4095, AccessKind.Write, 42)).toBe(0);
    const gpu = new HmmTestDevice(kernel, 'gpu0');
    gpu.open(mm).migrateToDevice(buf, 2);
    const hog = kernel.createMm();
    const big = hog.mmap(0, 128 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const free = kernel.frames.limit - kernel.frames.ramUsed;
    for (let i = 0; i < free; i++) expect(hog.access(big + i * P, AccessKind.Write, 1)).toBe(0);
    expect(kernel.frames.ramUsed).toBe(kernel.frames.limit);
    expect(mm.access(buf + P + 4095, AccessKind.Read)).toBe(42);
    expect(hog.killed).toBe(true);
    expect(mm.killed).toBe(false);
    expect(checkInvariants(kernel)).toEqual([]);
  });
});
