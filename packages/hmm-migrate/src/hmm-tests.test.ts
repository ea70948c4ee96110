// One test per case of tools/testing/selftests/mm/hmm-tests.c that the
// model covers, with the selftest's expectations (private device memory
// variants). Buffers are smaller than the selftest's 1024 pages where the
// size does not matter; every test ends with the invariant check.
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
} from '@pagewalk/core-walk';
import {
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL,
  HMM_DMIRROR_PROT_ERROR,
  HMM_DMIRROR_PROT_NONE,
  HMM_DMIRROR_PROT_PMD,
  HMM_DMIRROR_PROT_READ,
  HMM_DMIRROR_PROT_WRITE,
  HMM_DMIRROR_PROT_ZERO,
} from './index.js';
import { P, at, cpuCheck, cpuFill, devicePattern, mapAnon, ok, sameBytes, setup } from './test-support.js';
import type { DmirrorResult } from './index.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { framesOf } = claimMmInternal();

function expectRead(result: DmirrorResult, fields: Partial<DmirrorResult>, expected: Uint8Array): void {
  expect(result).toMatchObject(fields);
  expect(sameBytes(result.data, expected)).toBe(true);
}

const NPAGES = 64;

describe('hmm-tests.c (fixture hmm / hmm2, private device memory)', () => {
  it('open_close', () => {
    const { kernel, device0, mm } = setup();
    const mirror = device0.open(mm);
    expect(mirror.device).toBe(device0);
    ok(kernel);
  });

  it('anon_read: none page, zero page, data; one fault round', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr + 2 * P, NPAGES - 2, 1);
    const full = new Uint8Array(NPAGES * P);
    full.set(expected, 2 * P);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(0); // page 1: the zero page
    expect(mm.mprotect(addr, NPAGES * P, PROT_READ)).toBe(0);
    const r = mirror0.read(addr, NPAGES);
    expect(r.ret).toBe(0);
    expect(r.cpages).toBe(NPAGES);
    expect(r.faults).toBe(1);
    expect(sameBytes(r.data, full)).toBe(true);
    ok(kernel);
  });

  it('anon_read_prot: PROT_NONE → -EFAULT', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    cpuFill(mm, addr, NPAGES, 2);
    expect(mm.mprotect(addr, NPAGES * P, PROT_NONE)).toBe(0);
    const r = mirror0.read(addr, NPAGES);
    expect(r.ret).toBe(-Errno.EFAULT);
    expect(r.data).toBeUndefined();
    ok(kernel);
  });

  it('anon_write: device write lands in CPU memory', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const data = devicePattern(NPAGES, 3);
    const r = mirror0.write(addr, NPAGES, data);
    expect(r).toMatchObject({ ret: 0, cpages: NPAGES, faults: 1 });
    cpuCheck(mm, addr, NPAGES, data);
    ok(kernel);
  });

  it('anon_write_prot: read-only → READ ok, WRITE -EPERM; after mprotect RW → WRITE ok', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES, { prot: PROT_READ });
    expect(mirror0.read(addr, 1)).toMatchObject({ ret: 0, cpages: 1, faults: 1 });
    const data = devicePattern(NPAGES, 4);
    expect(mirror0.write(addr, NPAGES, data).ret).toBe(-Errno.EPERM);
    expect(mm.access(addr, AccessKind.Read)).toBe(0);
    expect(mm.mprotect(addr, NPAGES * P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mirror0.write(addr, NPAGES, data)).toMatchObject({ ret: 0, cpages: NPAGES, faults: 1 });
    cpuCheck(mm, addr, NPAGES, data);
    ok(kernel);
  });

  it('anon_write_child: the child device write does not reach the parent (COW)', () => {
    const { kernel, mm, device0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const parentData = cpuFill(mm, addr, NPAGES, 5);
    const child = mm.fork();
    const childMirror = device0.open(child);
    const childData = devicePattern(NPAGES, 6);
    expect(childMirror.write(addr, NPAGES, childData)).toMatchObject({ ret: 0, cpages: NPAGES, faults: 1 });
    cpuCheck(child, addr, NPAGES, childData);
    cpuCheck(mm, addr, NPAGES, parentData);
    ok(kernel);
  });

  it('anon_write_child_shared: MAP_SHARED anon, the child device write is seen by the parent', () => {
    const { kernel, mm, device0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES, { shared: true });
    cpuFill(mm, addr, NPAGES, 7);
    const child = mm.fork();
    const childData = devicePattern(NPAGES, 8);
    expect(device0.open(child).write(addr, NPAGES, childData)).toMatchObject({ ret: 0, cpages: NPAGES, faults: 1 });
    cpuCheck(mm, addr, NPAGES, childData);
    ok(kernel);
  });

  it('anon_write_huge: a THP range', () => {
    const { kernel, mm, mirror0 } = setup({ thp: 'madvise' });
    const addr = mapAnon(mm, 512, 512);
    expect(mm.madvise(addr, 512 * P, MADV_HUGEPAGE)).toBe(0);
    const data = devicePattern(512, 9);
    expect(mirror0.write(addr, 512, data)).toMatchObject({ ret: 0, cpages: 512, faults: 1 });
    expect(mm.entryAt(addr).level).toBe('pmd');
    cpuCheck(mm, addr, 512, data, [0, 4095]);
    ok(kernel);
  });

  it('anon_write_hugetlbfs: MAP_HUGETLB', () => {
    const { kernel, mm, mirror0 } = setup({ hugetlbPages: 2 });
    const addr = at(512);
    expect(mm.mmap(addr, 512 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE)).toBe(addr);
    const data = devicePattern(512, 10);
    expect(mirror0.write(addr, 512, data)).toMatchObject({ ret: 0, cpages: 512, faults: 1 });
    cpuCheck(mm, addr, 512, data, [0, 4095]);
    ok(kernel);
  });

  it('file_read / file_write: a shared file mapping', () => {
    const { kernel, mm, mirror0 } = setup();
    const file = kernel.memfdCreate('hmm', NPAGES * P);
    if (typeof file === 'number') throw new Error('memfd');
    const addr = at(0);
    expect(mm.mmap(addr, NPAGES * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0)).toBe(addr);
    const cpu = cpuFill(mm, addr, NPAGES, 11);
    expectRead(mirror0.read(addr, NPAGES), { ret: 0, cpages: NPAGES, faults: 1 }, cpu);
    const data = devicePattern(NPAGES, 12);
    expect(mirror0.write(addr, NPAGES, data)).toMatchObject({ ret: 0, cpages: NPAGES });
    // The write reached the file: a second mapping of it sees the data.
    const other = at(1024);
    expect(mm.mmap(other, NPAGES * P, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, file, 0)).toBe(other);
    cpuCheck(mm, other, NPAGES, data);
    ok(kernel);
  });

  it('migrate: all pages move to the device with their data', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 13);
    const r = mirror0.migrateToDevice(addr, NPAGES);
    expect(r).toMatchObject({ ret: 0, cpages: NPAGES });
    expect(sameBytes(r.data, expected)).toBe(true);
    expect(mirror0.snapshot(addr, NPAGES).perm).toEqual(new Uint8Array(NPAGES).fill(HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE));
    ok(kernel);
  });

  it('migrate_fault: CPU reads fault half back, migrating again gets all pages', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 14);
    expect(mirror0.migrateToDevice(addr, NPAGES)).toMatchObject({ ret: 0, cpages: NPAGES });
    cpuCheck(mm, addr, NPAGES / 2, expected);
    const snap = mirror0.snapshot(addr, NPAGES).perm!;
    expect(snap[0]).toBe(HMM_DMIRROR_PROT_WRITE);
    expect(snap[NPAGES - 1]).toBe(HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE);
    const again = mirror0.migrateToDevice(addr, NPAGES);
    expect(again).toMatchObject({ ret: 0, cpages: NPAGES });
    expect(sameBytes(again.data, expected)).toBe(true);
    ok(kernel);
  });

  it('migrate_release: RELEASE evicts the device memory, the CPU still reads the data', () => {
    const { kernel, mm, mirror0, device0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 15);
    expect(mirror0.migrateToDevice(addr, NPAGES).ret).toBe(0);
    expect(device0.pagesInUse).toBe(NPAGES);
    expect(mirror0.release().ret).toBe(0);
    expect(device0.pagesInUse).toBe(0);
    expect(mirror0.snapshot(addr, NPAGES).perm).toEqual(new Uint8Array(NPAGES).fill(HMM_DMIRROR_PROT_WRITE));
    cpuCheck(mm, addr, NPAGES, expected);
    ok(kernel);
  });

  it('migrate_shared: MAP_SHARED anon → -ENOENT', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES, { shared: true });
    const expected = cpuFill(mm, addr, NPAGES, 16);
    expect(mirror0.migrateToDevice(addr, NPAGES).ret).toBe(-Errno.ENOENT);
    cpuCheck(mm, addr, NPAGES, expected);
    ok(kernel);
  });

  it('migrate_mixed: PROT_NONE and holes → -EINVAL; zero/RO/RW pages migrate; a page on the other device → -ENOENT', () => {
    const { kernel, mm, mirror0, mirror1 } = setup();
    const p = mapAnon(mm, 0, 6, { prot: PROT_NONE });
    expect(mirror1.migrateToDevice(p, 6).ret).toBe(-Errno.EINVAL);
    expect(mm.munmap(p + P, P)).toBe(0);
    expect(mirror1.migrateToDevice(p, 3).ret).toBe(-Errno.EINVAL);
    expect(mm.mprotect(p + 2 * P, P, PROT_READ)).toBe(0);
    expect(mm.access(p + 2 * P, AccessKind.Read)).toBe(0);
    expect(mm.mprotect(p + 3 * P, P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mm.access(p + 3 * P, AccessKind.Write, 3)).toBe(0);
    expect(mm.mprotect(p + 3 * P, P, PROT_READ)).toBe(0);
    expect(mm.mprotect(p + 4 * P, 2 * P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mm.access(p + 4 * P, AccessKind.Write, 3)).toBe(0);
    expect(mm.access(p + 5 * P, AccessKind.Write, 3)).toBe(0);
    expect(mirror1.migrateToDevice(p + 2 * P, 4)).toMatchObject({ ret: 0, cpages: 4 });
    expect(mirror0.migrateToDevice(p + 5 * P, 1).ret).toBe(-Errno.ENOENT);
    ok(kernel);
  });

  it('migrate_multiple: migrate and fault back ten times; MIGRATE_TO_SYS moves everything back', () => {
    const { kernel, mm, mirror0 } = setup();
    for (let c = 0; c < 10; c++) {
      const addr = mapAnon(mm, 0, NPAGES);
      const expected = cpuFill(mm, addr, NPAGES, 20 + c);
      const r = mirror0.migrateToDevice(addr, NPAGES);
      expect(r).toMatchObject({ ret: 0, cpages: NPAGES });
      expect(sameBytes(r.data, expected)).toBe(true);
      if (c % 2 === 0) cpuCheck(mm, addr, NPAGES, expected);
      else {
        expect(mirror0.migrateToSystem(addr, NPAGES)).toMatchObject({ ret: 0, cpages: NPAGES });
        cpuCheck(mm, addr, NPAGES, expected);
      }
      expect(mm.munmap(addr, NPAGES * P)).toBe(0);
      ok(kernel);
    }
  });

  it('anon_read_multiple: ten reads of fresh buffers, one fault round each', () => {
    const { kernel, mm, mirror0 } = setup();
    for (let c = 0; c < 10; c++) {
      const addr = mapAnon(mm, 0, NPAGES);
      const expected = cpuFill(mm, addr, NPAGES, 40 + c);
      expectRead(mirror0.read(addr, NPAGES), { ret: 0, cpages: NPAGES, faults: 1 }, expected);
      expect(mm.munmap(addr, NPAGES * P)).toBe(0);
    }
    ok(kernel);
  });

  it('snapshot (hmm2): error, error, zero, read, write, local device, other device', () => {
    const { kernel, mm, mirror0, mirror1 } = setup();
    const p = mapAnon(mm, 0, 7, { prot: PROT_NONE });
    expect(mm.munmap(p + P, P)).toBe(0);
    expect(mm.mprotect(p + 2 * P, P, PROT_READ)).toBe(0);
    expect(mm.access(p + 2 * P, AccessKind.Read)).toBe(0);
    expect(mm.mprotect(p + 3 * P, P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mm.access(p + 3 * P, AccessKind.Write, 3)).toBe(0);
    expect(mm.mprotect(p + 3 * P, P, PROT_READ)).toBe(0);
    expect(mm.mprotect(p + 4 * P, 3 * P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mm.access(p + 4 * P, AccessKind.Write, 3)).toBe(0);
    expect(mirror0.migrateToDevice(p + 5 * P, 1).ret).toBe(0);
    expect(mirror1.migrateToDevice(p + 6 * P, 1).ret).toBe(0);
    const r = mirror0.snapshot(p, 7);
    expect(r.ret).toBe(0);
    expect([...r.perm!]).toEqual([
      HMM_DMIRROR_PROT_ERROR,
      HMM_DMIRROR_PROT_ERROR,
      HMM_DMIRROR_PROT_ZERO | HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_READ,
      HMM_DMIRROR_PROT_WRITE,
      HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_WRITE,
      HMM_DMIRROR_PROT_NONE,
    ]);
    ok(kernel);
  });

  it('compound: a hugetlb page reads WRITE|PMD, then READ|PMD after mprotect', () => {
    const { kernel, mm, mirror0 } = setup({ hugetlbPages: 1 });
    const addr = at(512);
    expect(mm.mmap(addr, 512 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED_NOREPLACE)).toBe(addr);
    expect(mm.access(addr, AccessKind.Write, 1)).toBe(0);
    expect(mirror0.snapshot(addr, 512).perm).toEqual(new Uint8Array(512).fill(HMM_DMIRROR_PROT_WRITE | HMM_DMIRROR_PROT_PMD));
    expect(mm.mprotect(addr, 512 * P, PROT_READ)).toBe(0);
    expect(mirror0.snapshot(addr, 512).perm).toEqual(new Uint8Array(512).fill(HMM_DMIRROR_PROT_READ | HMM_DMIRROR_PROT_PMD));
    ok(kernel);
  });

  it('double_map (hmm2): both devices read; after migrating to device 1, device 0 still reads (one fault)', () => {
    const { kernel, mm, mirror0, mirror1 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 50);
    expect(mm.mprotect(addr, NPAGES * P, PROT_READ)).toBe(0);
    expectRead(mirror0.read(addr, NPAGES), { ret: 0, cpages: NPAGES, faults: 1 }, expected);
    expectRead(mirror1.read(addr, NPAGES), { ret: 0, cpages: NPAGES, faults: 1 }, expected);
    expect(mirror1.migrateToDevice(addr, NPAGES)).toMatchObject({ ret: 0, cpages: NPAGES });
    expectRead(mirror0.read(addr, NPAGES), { ret: 0, cpages: NPAGES, faults: 1 }, expected);
    ok(kernel);
  });

  it('exclusive: atomic access, CPU increments revoke it', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 60);
    const r = mirror0.exclusive(addr, NPAGES);
    expectRead(r, { ret: 0, cpages: NPAGES }, expected);
    expect(mirror0.checkExclusive(addr, NPAGES).ret).toBe(-Errno.EPERM);
    for (let page = 0; page < NPAGES; page++) {
      const value = mm.access(addr + page * P, AccessKind.Read);
      expect(mm.access(addr + page * P, AccessKind.Write, (value + 1) & 0xff)).toBe(0);
    }
    expect(mirror0.checkExclusive(addr, NPAGES).ret).toBe(0);
    for (let page = 0; page < NPAGES; page++) expect(mm.access(addr + page * P, AccessKind.Read)).toBe((expected[page * P]! + 1) & 0xff);
    ok(kernel);
  });

  it('exclusive_mprotect: after mprotect read-only a device write is -EPERM', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    cpuFill(mm, addr, NPAGES, 61);
    expect(mirror0.exclusive(addr, NPAGES).ret).toBe(0);
    expect(mm.mprotect(addr, NPAGES * P, PROT_READ)).toBe(0);
    expect(mirror0.write(addr, NPAGES, devicePattern(NPAGES, 1)).ret).toBe(-Errno.EPERM);
    ok(kernel);
  });

  it('exclusive_cow: after fork both processes write their own copies', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    const expected = cpuFill(mm, addr, NPAGES, 62);
    expect(mirror0.exclusive(addr, NPAGES).ret).toBe(0);
    const child = mm.fork();
    for (let page = 0; page < NPAGES; page++) {
      expect(mm.access(addr + page * P, AccessKind.Write, (expected[page * P]! + 1) & 0xff)).toBe(0);
      expect(child.access(addr + page * P, AccessKind.Write, (expected[page * P]! + 2) & 0xff)).toBe(0);
    }
    for (let page = 0; page < NPAGES; page++) {
      expect(mm.access(addr + page * P, AccessKind.Read)).toBe((expected[page * P]! + 1) & 0xff);
      expect(child.access(addr + page * P, AccessKind.Read)).toBe((expected[page * P]! + 2) & 0xff);
    }
    ok(kernel);
  });

  it('hmm_gup_test: GUP on device pages migrates them back; pinned pages then refuse to migrate', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 4);
    const expected = cpuFill(mm, addr, 4, 63);
    expect(mirror0.migrateToDevice(addr, 4)).toMatchObject({ ret: 0, cpages: 4 });
    // A FOLL_LONGTERM-style pin on pages 2-3: fault them in (migrate_to_ram), then pin.
    for (const page of [2, 3]) {
      expect(mm.access(addr + page * P, AccessKind.Read)).toBe(expected[page * P]);
      const pfn = mm.entryAt(addr + page * P).entry >>> 8;
      framesOf(kernel).pins.set(pfn, 1);
      framesOf(kernel).get(pfn);
    }
    expect(mm.access(addr, AccessKind.Read)).toBe(expected[0]);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(expected[P]);
    expect(mirror0.snapshot(addr, 4).perm).toEqual(new Uint8Array(4).fill(HMM_DMIRROR_PROT_WRITE));
    ok(kernel);
    // Pinned pages stay in system memory: migrating them is -ENOENT, the others move.
    expect(mirror0.migrateToDevice(addr, 4).ret).toBe(-Errno.ENOENT);
    const snap = mirror0.snapshot(addr, 4).perm!;
    expect([...snap]).toEqual([0x22, 0x22, 0x02, 0x02]);
    cpuCheck(mm, addr, 4, expected);
    ok(kernel);
  });

  it('hmm_cow_in_device: fork with pages on the device, the parent write brings them back', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 4);
    const expected = cpuFill(mm, addr, 4, 64);
    expect(mirror0.migrateToDevice(addr, 4)).toMatchObject({ ret: 0, cpages: 4 });
    const child = mm.fork();
    // Both processes now map the device pages read-only (COW).
    expect(mirror0.snapshot(addr, 4).perm).toEqual(new Uint8Array(4).fill(HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | HMM_DMIRROR_PROT_READ));
    for (let page = 0; page < 4; page++) expect(mm.access(addr + page * P, AccessKind.Write, 0xaa)).toBe(0);
    expect(mirror0.snapshot(addr, 4).perm).toEqual(new Uint8Array(4).fill(HMM_DMIRROR_PROT_WRITE));
    cpuCheck(child, addr, 4, expected);
    ok(kernel);
  });

  it('anon_teardown (single-threaded form): a read after munmap is -EFAULT', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, NPAGES);
    cpuFill(mm, addr, NPAGES, 65);
    expect(mirror0.read(addr, NPAGES).ret).toBe(0);
    expect(mm.munmap(addr, NPAGES * P)).toBe(0);
    expect(mirror0.read(addr, NPAGES).ret).toBe(-Errno.EFAULT);
    expect(mm.access(addr, AccessKind.Read)).not.toBe(-SIGBUS);
    ok(kernel);
  });
});
