// migrate_vma, hmm_range_fault and the core hooks, case by case beyond the selftests.
import { describe, expect, it } from 'vitest';
import {
  AccessKind,
  Errno,
  MADV_DONTNEED,
  MADV_HUGEPAGE,
  PG_ISOLATED,
  PG_LOCKED,
  PROT_READ,
  PROT_WRITE,
  VM_PFNMAP,
  VM_UFFD_MISSING,
  isDevicePrivateEntry,
  isMigrationEntry,
  isWritableDevicePrivateEntry,
  swpOffset,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';
import {
  HMM_PFN_ERROR,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MigrateVmaSelect,
  createHmmRange,
  createMigrateVma,
  hmmPfnToMapOrder,
  hmmRangeFault,
  migratePfnToPfn,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
} from './index.js';
import { P, at, cpuCheck, cpuFill, mapAnon, ok, setup } from './test-support.js';

const { forEachEntry, framesOf, writableVma } = claimMmInternal();

const pfnAt = (mm: { entryAt(a: number): { entry: number } }, addr: number) => mm.entryAt(addr).entry >>> 8;

describe('migrate_vma_setup', () => {
  it('rejects bad requests with -EINVAL', () => {
    const { kernel, mm } = setup();
    const addr = mapAnon(mm, 0, 8);
    const vma = mm.vmas.lookup(addr)!;
    const bad = (start: number, end: number, v = vma) => migrateVmaSetup(createMigrateVma(mm, v, start, end, { flags: MigrateVmaSelect.System }));
    expect(migrateVmaSetup(createMigrateVma(mm, null, addr, addr + P, { flags: MigrateVmaSelect.System }))).toBe(-Errno.EINVAL);
    expect(bad(addr, addr)).toBe(-Errno.EINVAL);
    expect(bad(addr - P, addr + P)).toBe(-Errno.EINVAL);
    expect(bad(addr, addr + 9 * P)).toBe(-Errno.EINVAL);
    writableVma(vma).flags |= VM_PFNMAP;
    expect(bad(addr, addr + P)).toBe(-Errno.EINVAL);
    writableVma(vma).flags &= ~VM_PFNMAP;
    // A fault page that is not a locked device page.
    expect(migrateVmaSetup(createMigrateVma(mm, vma, addr, addr + P, { flags: MigrateVmaSelect.DevicePrivate, faultPage: 5 }))).toBe(-Errno.EINVAL);
    ok(kernel);
  });

  it('records holes, zero page, pages with MIGRATE_PFN_* and leaves migration entries until finalize', () => {
    const { kernel, mm } = setup();
    const addr = mapAnon(mm, 0, 4);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(0); // zero page
    expect(mm.access(addr + 2 * P, AccessKind.Write, 9)).toBe(0);
    expect(mm.access(addr + 3 * P, AccessKind.Write, 9)).toBe(0);
    expect(mm.mprotect(addr + 3 * P, P, PROT_READ)).toBe(0);
    const migrate = createMigrateVma(mm, mm.vmas.lookup(addr + 3 * P)!, addr + 3 * P, addr + 4 * P, { flags: MigrateVmaSelect.System });
    expect(migrateVmaSetup(migrate)).toBe(0);
    expect(migrate.src[0]! & (MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE)).toBe(MIGRATE_PFN_MIGRATE);
    expect(isMigrationEntry(mm.entryAt(addr + 3 * P).entry)).toBe(true);
    migrateVmaPages(migrate); // no destination: nothing moves
    migrateVmaFinalize(migrate);
    expect(mm.access(addr + 3 * P, AccessKind.Read)).toBe(9);
    const rw = mm.vmas.lookup(addr)!;
    const all = createMigrateVma(mm, rw, addr, addr + 3 * P, { flags: MigrateVmaSelect.System });
    expect(migrateVmaSetup(all)).toBe(0);
    expect(all.npages).toBe(3);
    expect(all.cpages).toBe(3);
    expect([...all.src].map((e) => [migratePfnToPfn(e) !== 0, (e & MIGRATE_PFN_MIGRATE) !== 0, (e & MIGRATE_PFN_WRITE) !== 0])).toEqual([
      [false, true, false],
      [false, true, false],
      [true, true, true],
    ]);
    migrateVmaFinalize(all);
    let left = 0;
    forEachEntry(mm, addr, addr + 4 * P, (_slot, entry) => {
      if (isMigrationEntry(entry)) left++;
    });
    expect(left).toBe(0);
    ok(kernel);
  });

  it('skips pages locked by someone else, pages off the LRU and pinned pages', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 4);
    const expected = cpuFill(mm, addr, 4, 3);
    const locked = pfnAt(mm, addr);
    const isolated = pfnAt(mm, addr + P);
    const pinned = pfnAt(mm, addr + 2 * P);
    framesOf(kernel).set(locked, PG_LOCKED);
    framesOf(kernel).set(isolated, PG_ISOLATED);
    framesOf(kernel).pins.set(pinned, 1);
    framesOf(kernel).get(pinned);
    const migrate = createMigrateVma(mm, mm.vmas.lookup(addr)!, addr, addr + 4 * P, { flags: MigrateVmaSelect.System });
    expect(migrateVmaSetup(migrate)).toBe(0);
    expect([...migrate.src].map((e) => e !== 0)).toEqual([false, false, false, true]);
    expect(migrate.cpages).toBe(1);
    migrateVmaFinalize(migrate);
    expect(mirror0.migrateToDevice(addr, 4).ret).toBe(-Errno.ENOENT);
    expect(isDevicePrivateEntry(mm.entryAt(addr + 3 * P).entry)).toBe(true);
    expect(pfnAt(mm, addr)).toBe(locked);
    framesOf(kernel).clear(locked, PG_LOCKED);
    framesOf(kernel).clear(isolated, PG_ISOLATED);
    cpuCheck(mm, addr, 4, expected);
    ok(kernel);
  });

  it('a PMD-mapped THP is split and migrated page by page; a PTE-mapped one stays', () => {
    const { kernel, mm, mirror0 } = setup({ thp: 'madvise' });
    const addr = mapAnon(mm, 512, 1024);
    expect(mm.madvise(addr, 1024 * P, MADV_HUGEPAGE)).toBe(0);
    const expected = cpuFill(mm, addr, 1024, 4);
    expect(mm.entryAt(addr).level).toBe('pmd');
    // DONTNEED of one page splits the second PMD only: its THP stays, PTE-mapped.
    expect(mm.madvise(addr + 1023 * P, P, MADV_DONTNEED)).toBe(0);
    expected.fill(0, 1023 * P);
    expect(mm.entryAt(addr + 513 * P).level).toBe('pte');
    expect(mirror0.migrateToDevice(addr, 512)).toMatchObject({ ret: 0, cpages: 512 });
    expect(mirror0.migrateToDevice(addr + 513 * P, 1).ret).toBe(-Errno.ENOENT);
    cpuCheck(mm, addr, 1024, expected, [0, 4095]);
    ok(kernel);
  });

  it('holes become device pages (writable iff VM_WRITE); a uffd-missing VMA refuses them', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 2);
    expect(mirror0.migrateToDevice(addr, 2)).toMatchObject({ ret: 0, cpages: 2 });
    expect(isWritableDevicePrivateEntry(mm.entryAt(addr).entry)).toBe(true);
    expect(mm.access(addr, AccessKind.Read)).toBe(0);
    const ro = mapAnon(mm, 8, 1, { prot: PROT_READ });
    expect(mirror0.migrateToDevice(ro, 1).ret).toBe(0);
    expect(isDevicePrivateEntry(mm.entryAt(ro).entry) && !isWritableDevicePrivateEntry(mm.entryAt(ro).entry)).toBe(true);
    const uffd = mapAnon(mm, 16, 1);
    writableVma(mm.vmas.lookup(uffd)!).flags |= VM_UFFD_MISSING;
    expect(mirror0.migrateToDevice(uffd, 1).ret).toBe(-Errno.ENOENT);
    expect(mm.entryAt(uffd).entry).toBe(0);
    ok(kernel);
  });
});

describe('core hooks on device-private entries', () => {
  it('mprotect read-only downgrades them; the CPU write after mprotect RW faults back', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 2);
    const expected = cpuFill(mm, addr, 2, 5);
    expect(mirror0.migrateToDevice(addr, 2).ret).toBe(0);
    expect(mm.mprotect(addr, 2 * P, PROT_READ)).toBe(0);
    expect(isWritableDevicePrivateEntry(mm.entryAt(addr).entry)).toBe(false);
    expect([...mirror0.snapshot(addr, 2).perm!]).toEqual([0x21, 0x21]);
    // hmm_range_fault reports the local page read-only without faulting; the driver turns that into -EFAULT.
    expect(mirror0.write(addr, 1, new Uint8Array(P)).ret).toBe(-Errno.EFAULT);
    expect(mm.mprotect(addr, 2 * P, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mm.access(addr, AccessKind.Write, 77)).toBe(0);
    expected[0] = 77;
    cpuCheck(mm, addr, 2, expected);
    ok(kernel);
  });

  it('munmap frees the device pages; fork shares them read-only', () => {
    const { kernel, mm, mirror0, device0 } = setup();
    const addr = mapAnon(mm, 0, 4);
    const expected = cpuFill(mm, addr, 4, 6);
    expect(mirror0.migrateToDevice(addr, 4).ret).toBe(0);
    const child = mm.fork();
    expect(isWritableDevicePrivateEntry(child.entryAt(addr).entry)).toBe(false);
    expect(swpOffset(child.entryAt(addr).entry)).toBe(swpOffset(mm.entryAt(addr).entry));
    cpuCheck(child, addr, 4, expected);
    child.exit();
    expect(mm.munmap(addr, 4 * P)).toBe(0);
    expect(device0.pagesInUse).toBe(0);
    ok(kernel);
  });

  it('a CPU fault on a device page locked by someone else retries (and gives up as SIGBUS in the model)', () => {
    const { kernel, mm, mirror0 } = setup();
    const addr = mapAnon(mm, 0, 1);
    cpuFill(mm, addr, 1, 7);
    expect(mirror0.migrateToDevice(addr, 1).ret).toBe(0);
    const page = swpOffset(mm.entryAt(addr).entry);
    framesOf(kernel).set(page, PG_LOCKED);
    expect(mm.access(addr, AccessKind.Read)).toBeLessThan(0);
    framesOf(kernel).clear(page, PG_LOCKED);
    expect(mm.access(addr, AccessKind.Read)).toBe(7);
    ok(kernel);
  });
});

describe('hmm_range_fault', () => {
  it('snapshots without faulting and faults on request, with the kernel errors', () => {
    const { kernel, mm } = setup();
    const addr = mapAnon(mm, 0, 4);
    expect(mm.access(addr, AccessKind.Write, 1)).toBe(0);
    expect(mm.access(addr + P, AccessKind.Read)).toBe(0);
    const snap = createHmmRange(mm, addr, addr + 4 * P);
    expect(hmmRangeFault(snap)).toBe(0);
    expect([...snap.flags]).toEqual([HMM_PFN_VALID | HMM_PFN_WRITE, HMM_PFN_VALID, 0, 0]);
    expect(snap.pfns[1]).toBe(framesOf(kernel).zeroPfn);
    const write = createHmmRange(mm, addr, addr + 4 * P, { defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE });
    expect(hmmRangeFault(write)).toBe(0);
    expect([...write.flags]).toEqual(new Array(4).fill(HMM_PFN_VALID | HMM_PFN_WRITE));
    expect(write.pfns[1]).not.toBe(framesOf(kernel).zeroPfn);
    // Outside any VMA: ERROR without a request, -EFAULT with one.
    const hole = createHmmRange(mm, at(100), at(101));
    expect(hmmRangeFault(hole)).toBe(0);
    expect(hole.flags[0]).toBe(HMM_PFN_ERROR);
    expect(hmmRangeFault(createHmmRange(mm, at(100), at(101), { defaultFlags: HMM_PFN_REQ_FAULT }))).toBe(-Errno.EFAULT);
    // Write fault in a read-only VMA: -EPERM.
    const ro = mapAnon(mm, 200, 1, { prot: PROT_READ });
    expect(hmmRangeFault(createHmmRange(mm, ro, ro + P, { defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE }))).toBe(-Errno.EPERM);
    expect(mm.mprotect(ro, P, PROT_READ | PROT_WRITE)).toBe(0);
    ok(kernel);
  });

  it('reports THP mappings with order 9 and per-page pfn requests through pfnFlagsMask', () => {
    const { kernel, mm } = setup({ thp: 'always' });
    const addr = mapAnon(mm, 512, 512);
    expect(mm.access(addr, AccessKind.Write, 1)).toBe(0);
    const range = createHmmRange(mm, addr + 510 * P, addr + 512 * P);
    expect(hmmRangeFault(range)).toBe(0);
    expect(hmmPfnToMapOrder(range.flags[0]!)).toBe(9);
    expect(range.pfns[1]! - range.pfns[0]!).toBe(1);
    const small = mapAnon(mm, 2048, 2);
    const masked = createHmmRange(mm, small, small + 2 * P, { pfnFlagsMask: HMM_PFN_REQ_FAULT });
    masked.flags[1] = HMM_PFN_REQ_FAULT;
    expect(hmmRangeFault(masked)).toBe(0);
    // The range is one table hole: the kernel faults the whole hole, so both pages come back valid.
    expect([...masked.flags]).toEqual([HMM_PFN_VALID, HMM_PFN_VALID]);
    const none = createHmmRange(mm, small, small + 2 * P, { pfnFlagsMask: HMM_PFN_REQ_FAULT });
    expect(mm.madvise(small, 2 * P, MADV_DONTNEED)).toBe(0);
    none.flags[1] = HMM_PFN_REQ_FAULT;
    expect(hmmRangeFault(none)).toBe(0);
    expect([...none.flags]).toEqual([0, HMM_PFN_VALID]);
    void PROT_WRITE;
    ok(kernel);
  });
});
