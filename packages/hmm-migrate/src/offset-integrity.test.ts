/** Issue 18: pages migrated to the device and faulted back at any byte keep every byte. */
import { AccessKind, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, checkInvariants, createKernel } from '@pagewalk/core-walk';
import { HmmTestDevice, hmmMigrate } from '@pagewalk/hmm-migrate';
import { describe, expect, it } from 'vitest';

const P = PAGE_SIZE;

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
