/** Fixtures shared by this package's tests (not part of the published API). */
import { AccessKind, PAGE_SIZE, PROT_READ, PROT_WRITE, type Kernel, type KernelProfile, type Mm } from '@pagewalk/core-walk';
import { TEST_ARENA_BASE, assertInvariants, createTestMm, mapAnon } from '@pagewalk/core-walk/testing';
import { HmmTestDevice, hmmMigrate, type HmmMirror } from './index.js';

export const P = PAGE_SIZE;
export const at = (page: number): number => TEST_ARENA_BASE + page * P;
export { TEST_ARENA_BASE, assertInvariants, mapAnon, PROT_READ, PROT_WRITE };

export interface Fixture {
  kernel: Kernel;
  mm: Mm;
  device0: HmmTestDevice;
  device1: HmmTestDevice;
  mirror0: HmmMirror;
  mirror1: HmmMirror;
}

/** The selftest fixtures `hmm` / `hmm2`: one process, two private devices opened by it. */
export function setup(profile: Partial<KernelProfile> = {}): Fixture {
  const { kernel, mm } = createTestMm({ features: [hmmMigrate], profile });
  const device0 = new HmmTestDevice(kernel, 'hmm_dmirror0');
  const device1 = new HmmTestDevice(kernel, 'hmm_dmirror1');
  return { kernel, mm, device0, device1, mirror0: device0.open(mm), mirror1: device1.open(mm) };
}

/** The byte the selftests' int pattern would put at `offset` of `page` (a stand-in: any function of both works). */
export const patternByte = (page: number, offset: number, seed: number): number => (page * 7 + offset * 13 + seed) & 0xff;

/** Offsets the CPU writes per page (writing every byte through the MMU model is needlessly slow). */
export const CPU_OFFSETS = [0, 1, 2, 3, 1000, 2048, 4095];

/** CPU-writes the pattern at CPU_OFFSETS of each page; returns the full expected contents. */
export function cpuFill(mm: Mm, addr: number, npages: number, seed: number): Uint8Array {
  const expected = new Uint8Array(npages * P);
  for (let page = 0; page < npages; page++) {
    for (const offset of CPU_OFFSETS) {
      const value = patternByte(page, offset, seed);
      const r = mm.access(addr + page * P + offset, AccessKind.Write, value);
      if (r < 0) throw new Error(`cpu write failed at page ${page}: ${r}`);
      expected[page * P + offset] = value;
    }
  }
  return expected;
}

/** A full-page pattern for device writes. */
export function devicePattern(npages: number, seed: number): Uint8Array {
  const data = new Uint8Array(npages * P);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

/** CPU-reads the given offsets of each page and compares with `expected`. */
export function cpuCheck(mm: Mm, addr: number, npages: number, expected: Uint8Array, offsets: readonly number[] = CPU_OFFSETS): void {
  for (let page = 0; page < npages; page++) {
    for (const offset of offsets) {
      const value = mm.access(addr + page * P + offset, AccessKind.Read);
      if (value !== expected[page * P + offset]) {
        throw new Error(`page ${page} offset ${offset}: cpu read ${value}, expected ${expected[page * P + offset]}`);
      }
    }
  }
}

export function ok(kernel: Kernel): void {
  assertInvariants(kernel);
}

/** Byte-for-byte equality of two buffers, with the first difference in the message (fast, unlike deep equality). */
export function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array): true | string {
  if (actual === undefined) return 'no data';
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  if (Buffer.compare(Buffer.from(actual.buffer, actual.byteOffset, actual.length), Buffer.from(expected.buffer, expected.byteOffset, expected.length)) === 0) return true;
  const at = actual.findIndex((value, index) => value !== expected[index]);
  return `first difference at byte ${at} (page ${Math.floor(at / P)}): ${actual[at]} != ${expected[at]}`;
}
