/**
 * The HMM test driver (lib/test_hmm.c) on the simulator: a device with
 * private memory (`HmmTestDevice`, the driver's dmirror_device) and, per
 * process that opens it, a mirror of the process's page tables
 * (`HmmMirror`, struct dmirror) with the driver's commands: read, write,
 * migrate to device, migrate to system, snapshot, exclusive access and its
 * check, and release.
 *
 * The mirror ("device page table") maps virtual page numbers to pages
 * tagged READ, WRITE or ATOMIC. The real driver relies on MMU notifiers to
 * drop entries whose CPU mapping changed; the simulator has no notifier
 * chain, so every mirror entry remembers the CPU entry it was made from
 * (minus accessed/dirty/soft-dirty bits) and counts only while the CPU
 * entry is still the same — any unmap, protection change, migration,
 * COW break or exclusive-access revocation invalidates it, as the
 * notifier would. Entries are never trusted beyond that check.
 */
import {
  Errno,
  PAGE_SIZE,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_SOFT_DIRTY,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_READ,
  VM_WRITE,
  ptePresent,
  pteSwpClearSoftDirty,
  type Kernel,
  type Mm,
} from '@pagewalk/core-walk';
import { hmmRegistryOf, type DeviceFault, type DevicePagemap, type DevicePagemapOps, type HmmRegistry } from './device-pagemap.js';
import { makeDeviceExclusive } from './device-exclusive.js';
import {
  HMM_PFN_ERROR,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  createHmmRange,
  hmmPfnToMapOrder,
  hmmRangeFault,
} from './hmm-range-fault.js';
import { MIGRATE_PFN_MIGRATE, MIGRATE_PFN_VALID, MIGRATE_PFN_WRITE, MigrateVmaSelect, migratePfn, migratePfnToPfn } from './migrate-pfn.js';
import {
  allocSystemPage,
  createMigrateVma,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDevicePfns,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
  type MigrateVma,
} from './migrate-vma.js';
import { readPage, writePage } from './page-data.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { framesOf } = claimMmInternal();

/* SNAPSHOT byte codes (test_hmm_uapi.h). */
export const HMM_DMIRROR_PROT_ERROR = 0xff;
export const HMM_DMIRROR_PROT_NONE = 0x00;
export const HMM_DMIRROR_PROT_READ = 0x01;
export const HMM_DMIRROR_PROT_WRITE = 0x02;
export const HMM_DMIRROR_PROT_PMD = 0x04;
export const HMM_DMIRROR_PROT_PUD = 0x08;
export const HMM_DMIRROR_PROT_ZERO = 0x10;
export const HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL = 0x20;
export const HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE = 0x30;

/** Pages per driver step, as the driver's on-stack arrays. */
const CHUNK_PAGES = 32;
/** Fault rounds before a command gives up (the driver's one-second timeout). */
const MAX_FAULT_ROUNDS = 64;

/** Mirror entry tags (DPT_XA_TAG_*). */
export const MirrorTag = { Read: 0, Atomic: 1, Write: 3 } as const;
export type MirrorTag = (typeof MirrorTag)[keyof typeof MirrorTag];

interface MirrorEntry {
  pfn: number;
  tag: MirrorTag;
  /** The CPU entry (stable bits) the mirror entry was made from. */
  cpu: number;
}

/** The out fields of struct hmm_dmirror_cmd, plus data for the commands that return some. */
export interface DmirrorResult {
  /** 0 or -errno. On failure the driver copies nothing back: cpages/faults/data are informational. */
  ret: number;
  cpages: number;
  faults: number;
  /** READ, MIGRATE_TO_DEV, EXCLUSIVE: the pages read back (npages * 4096 bytes). */
  data?: Uint8Array;
  /** SNAPSHOT: one byte code per page. */
  perm?: Uint8Array;
}

export interface HmmTestDeviceOptions {
  /** Device memory limit in pages (default: unlimited, like the driver's on-demand chunks). */
  maxPages?: number;
}

/** The CPU entry at addr reduced to the bits a notifier would care about (0 = none). */
function cpuEntryAt(mm: Mm, addr: number): number {
  const { entry } = mm.entryAt(addr);
  if (entry === 0) return 0;
  if (ptePresent(entry)) return (entry & ~(PTE_ACCESSED | PTE_DIRTY | PTE_SOFT_DIRTY)) >>> 0;
  return pteSwpClearSoftDirty(entry) >>> 0;
}

/** A device with private memory (struct dmirror_device). */
export class HmmTestDevice implements DevicePagemap {
  readonly owner: object = this;
  readonly ops: DevicePagemapOps = { migrateToRam: (fault) => this.devmemFault(fault) };
  private readonly registry: HmmRegistry;
  private readonly maxPages: number;

  constructor(
    readonly kernel: Kernel,
    readonly name: string,
    options: HmmTestDeviceOptions = {},
  ) {
    this.registry = hmmRegistryOf(kernel);
    this.maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  }

  /** Opens the device for a process: a new mirror of `mm`. */
  open(mm: Mm): HmmMirror {
    return new HmmMirror(this, mm, this.registry);
  }

  /** Device pages currently allocated. */
  get pagesInUse(): number {
    return this.registry.pagesOf(this).length;
  }

  /** dmirror_devmem_alloc_page: a locked device page for `mirror`, or 0 when the device is full. */
  allocPage(mirror: HmmMirror): number {
    this.registry.prune();
    if (this.registry.pagesOf(this).length >= this.maxPages) return 0;
    return this.registry.allocDevicePage(this, mirror);
  }

  /** The mirror a device page was migrated for (the driver keeps it in the page's private data). */
  mirrorOf(page: number): HmmMirror | null {
    const data = this.registry.pageDataOf(page);
    return data instanceof HmmMirror ? data : null;
  }

  /**
   * dmirror_devmem_fault: a CPU touched one of this device's pages. Migrate
   * that one page to system memory; a setup failure is SIGBUS.
   */
  private devmemFault(fault: DeviceFault): number {
    const migrate = createMigrateVma(fault.mm, fault.vma, fault.address, fault.address + PAGE_SIZE, {
      flags: MigrateVmaSelect.DevicePrivate,
      pgmapOwner: this,
      faultPage: fault.page,
    });
    if (migrateVmaSetup(migrate) !== 0) return VM_FAULT_SIGBUS;
    const mirror = this.mirrorOf(fault.page);
    const copied = this.copyToSystem(migrate, mirror !== null && mirror.mm === fault.mm ? mirror : null);
    migrateVmaPages(migrate);
    migrateVmaFinalize(migrate);
    // No system page for it: the fault is out of memory (the OOM killer runs, then the CPU retries).
    return copied ? 0 : VM_FAULT_OOM;
  }

  /** dmirror_devmem_fault_alloc_and_copy: system pages for every migrating device page; false when one could not be had. */
  copyToSystem(migrate: MigrateVma, mirror: HmmMirror | null): boolean {
    const frames = framesOf(this.kernel);
    let complete = true;
    for (let i = 0; i < migrate.npages; i++) {
      const source = migratePfnToPfn(migrate.src[i]!);
      if (source === 0 || (migrate.src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
      if (this.registry.pagemapOf(source) === null) continue;
      const page = allocSystemPage(this.kernel);
      if (page === 0) {
        complete = false;
        continue;
      }
      mirror?.erase(migrate.start + i * PAGE_SIZE);
      frames.contents.copyFrom(frames.contents, source, page);
      migrate.dst[i] = migratePfn(page) | (migrate.src[i]! & MIGRATE_PFN_WRITE);
    }
    return complete;
  }

  /**
   * RELEASE (dmirror_device_remove_chunks): evict every page of the device
   * back to system memory (migrate_device_range) and give up the memory.
   */
  release(): number {
    const frames = framesOf(this.kernel);
    const batch = migrateDevicePfns(this.kernel, this.registry.pagesOf(this));
    for (let i = 0; i < batch.npages; i++) {
      const source = migratePfnToPfn(batch.src[i]!);
      if (source === 0 || (batch.src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
      const page = allocSystemPage(this.kernel);
      if (page === 0) continue;
      frames.contents.copyFrom(frames.contents, source, page);
      batch.dst[i] = migratePfn(page) | (batch.src[i]! & MIGRATE_PFN_WRITE);
    }
    migrateDevicePages(batch);
    migrateDeviceFinalize(batch);
    this.registry.prune();
    return 0;
  }
}

/** One process's view through the device (struct dmirror). */
export class HmmMirror {
  /** The device page table: virtual page number → entry. */
  private readonly pt = new Map<number, MirrorEntry>();

  constructor(
    readonly device: HmmTestDevice,
    readonly mm: Mm,
    private readonly registry: HmmRegistry,
  ) {}

  private get kernel(): Kernel {
    return this.device.kernel;
  }

  /** The mirror entry for addr if the CPU mapping it came from is unchanged (else it is dropped). */
  lookup(addr: number): MirrorEntry | null {
    const key = addr / PAGE_SIZE;
    const entry = this.pt.get(key);
    if (entry === undefined) return null;
    if (cpuEntryAt(this.mm, addr) !== entry.cpu) {
      this.pt.delete(key);
      return null;
    }
    return entry;
  }

  erase(addr: number): void {
    this.pt.delete(addr / PAGE_SIZE);
  }

  private store(addr: number, pfn: number, tag: MirrorTag): void {
    this.pt.set(addr / PAGE_SIZE, { pfn, tag, cpu: cpuEntryAt(this.mm, addr) });
  }

  /** The ioctl's common checks: page-aligned addr, npages ≥ 1, no overflow. */
  private static badCommand(addr: number, npages: number): boolean {
    return (
      !Number.isSafeInteger(addr) ||
      !Number.isSafeInteger(npages) ||
      addr < 0 ||
      addr % PAGE_SIZE !== 0 ||
      npages <= 0 ||
      addr + npages * PAGE_SIZE > 2 ** 52
    );
  }

  private withReadLock<T>(run: () => T): T {
    const take = !this.mm.lock.held;
    if (take) this.mm.lock.readLock();
    try {
      return run();
    } finally {
      if (take) this.mm.lock.readUnlock();
    }
  }

  /** dmirror_do_read: copies mirrored pages until the first missing one (-ENOENT). */
  private doRead(start: number, end: number, base: number, out: Uint8Array, result: DmirrorResult): number {
    const contents = framesOf(this.kernel).contents;
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      const entry = this.lookup(addr);
      if (entry === null) return -Errno.ENOENT;
      readPage(contents, entry.pfn, out, addr - base);
      result.cpages++;
    }
    return 0;
  }

  private doWrite(start: number, end: number, base: number, data: Uint8Array, result: DmirrorResult): number {
    const contents = framesOf(this.kernel).contents;
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      const entry = this.lookup(addr);
      if (entry === null || entry.tag !== MirrorTag.Write) return -Errno.ENOENT;
      writePage(contents, entry.pfn, data, addr - base);
      result.cpages++;
    }
    return 0;
  }

  /** dmirror_fault: hmm_range_fault over [start, end) in 32-page steps, mirroring what it returns. */
  private fault(start: number, end: number, write: boolean): number {
    for (let addr = start; addr < end; ) {
      const next = Math.min(addr + CHUNK_PAGES * PAGE_SIZE, end);
      const range = createHmmRange(this.mm, addr, next, {
        defaultFlags: HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
        devPrivateOwner: this.device,
      });
      const ret = this.withReadLock(() => hmmRangeFault(range));
      if (ret !== 0) return ret;
      for (let i = 0, a = addr; a < next; i++, a += PAGE_SIZE) {
        const flags = range.flags[i]!;
        if ((flags & HMM_PFN_VALID) === 0 || (flags & HMM_PFN_ERROR) !== 0) return -Errno.EFAULT;
        // A local device page is reported as it is, never faulted: a write request it cannot satisfy is -EFAULT.
        if (write && (flags & HMM_PFN_WRITE) === 0) return -Errno.EFAULT;
        this.store(a, range.pfns[i]!, (flags & HMM_PFN_WRITE) !== 0 ? MirrorTag.Write : MirrorTag.Read);
      }
      addr = next;
    }
    return 0;
  }

  /** HMM_DMIRROR_READ: the device reads `npages` pages at addr, faulting them in as needed. */
  read(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    const end = addr + npages * PAGE_SIZE;
    const data = new Uint8Array(npages * PAGE_SIZE);
    let ret = 0;
    for (let round = 0; ; round++) {
      const start = addr + result.cpages * PAGE_SIZE;
      ret = this.doRead(start, end, addr, data, result);
      if (ret !== -Errno.ENOENT) break;
      if (round >= MAX_FAULT_ROUNDS) {
        ret = -Errno.EBUSY;
        break;
      }
      ret = this.fault(addr + result.cpages * PAGE_SIZE, end, false);
      if (ret !== 0) break;
      result.faults++;
    }
    result.ret = ret;
    if (ret === 0) result.data = data;
    return result;
  }

  /** HMM_DMIRROR_WRITE: the device writes `data` (npages * 4096 bytes) at addr. */
  write(addr: number, npages: number, data: Uint8Array): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    if (data.length < npages * PAGE_SIZE) return { ...result, ret: -Errno.EFAULT };
    const end = addr + npages * PAGE_SIZE;
    let ret = 0;
    for (let round = 0; ; round++) {
      const start = addr + result.cpages * PAGE_SIZE;
      ret = this.doWrite(start, end, addr, data, result);
      if (ret !== -Errno.ENOENT) break;
      if (round >= MAX_FAULT_ROUNDS) {
        ret = -Errno.EBUSY;
        break;
      }
      ret = this.fault(addr + result.cpages * PAGE_SIZE, end, true);
      if (ret !== 0) break;
      result.faults++;
    }
    result.ret = ret;
    return result;
  }

  /** dmirror_migrate_alloc_and_copy: device pages for every migrating system page or hole. */
  private copyToDevice(migrate: MigrateVma): void {
    const frames = framesOf(this.kernel);
    const vmaWritable = ((migrate.vma?.flags ?? 0) & VM_WRITE) !== 0;
    for (let i = 0; i < migrate.npages; i++) {
      const entry = migrate.src[i]!;
      if ((entry & MIGRATE_PFN_MIGRATE) === 0) continue;
      const source = migratePfnToPfn(entry);
      if (source !== 0 && this.registry.pagemapOf(source) !== null) continue;
      const page = this.device.allocPage(this);
      if (page === 0) continue;
      if (source !== 0) frames.contents.copyFrom(frames.contents, source, page);
      else frames.contents.clear(page);
      let dst = migratePfn(page);
      if ((entry & MIGRATE_PFN_WRITE) !== 0 || (source === 0 && vmaWritable)) dst |= MIGRATE_PFN_WRITE;
      migrate.dst[i] = dst;
    }
  }

  /**
   * HMM_DMIRROR_MIGRATE_TO_DEV: migrate_vma with SELECT_SYSTEM in ≤ 32-page
   * steps within one VMA each, then read the range back through the mirror.
   * -EINVAL for an unmapped or unreadable page (earlier steps stay done);
   * -ENOENT when some page did not end up on this device.
   */
  migrateToDevice(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    const end = addr + npages * PAGE_SIZE;
    const ret = this.withReadLock(() => {
      for (let start = addr; start < end; ) {
        const vma = this.mm.vmas.lookup(start);
        if (vma === null || (vma.flags & VM_READ) === 0) return -Errno.EINVAL;
        const next = Math.min(end, start + CHUNK_PAGES * PAGE_SIZE, vma.end);
        const migrate = createMigrateVma(this.mm, vma, start, next, { flags: MigrateVmaSelect.System, pgmapOwner: this.device });
        const err = migrateVmaSetup(migrate);
        if (err !== 0) return err;
        this.copyToDevice(migrate);
        migrateVmaPages(migrate);
        // dmirror_migrate_finalize_and_map: the migrated pages go into the mirror.
        const mapped: number[] = [];
        for (let i = 0; i < migrate.npages; i++) {
          if ((migrate.src[i]! & MIGRATE_PFN_MIGRATE) === 0) continue;
          const page = migratePfnToPfn(migrate.dst[i]!);
          if (page === 0) continue;
          mapped.push(i, page, (migrate.dst[i]! & MIGRATE_PFN_WRITE) !== 0 ? MirrorTag.Write : MirrorTag.Read);
        }
        migrateVmaFinalize(migrate);
        for (let k = 0; k < mapped.length; k += 3) this.store(migrate.start + mapped[k]! * PAGE_SIZE, mapped[k + 1]!, mapped[k + 2] as MirrorTag);
        start = next;
      }
      return 0;
    });
    if (ret !== 0) return { ...result, ret };
    return this.readBack(addr, end, result);
  }

  /** Reads [addr, end) through the mirror after a command, as the test driver returns the data. */
  private readBack(addr: number, end: number, result: DmirrorResult): DmirrorResult {
    const data = new Uint8Array(end - addr);
    result.ret = this.doRead(addr, end, addr, data, result);
    if (result.ret === 0) result.data = data;
    return result;
  }

  /**
   * HMM_DMIRROR_MIGRATE_TO_SYS: migrate this device's pages in the range back
   * to system memory. cpages = pages migrated. -EINVAL for an unmapped or
   * unreadable page.
   */
  migrateToSystem(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    const end = addr + npages * PAGE_SIZE;
    result.ret = this.withReadLock(() => {
      for (let start = addr; start < end; ) {
        const vma = this.mm.vmas.lookup(start);
        if (vma === null || (vma.flags & VM_READ) === 0) return -Errno.EINVAL;
        const next = Math.min(end, start + CHUNK_PAGES * PAGE_SIZE, vma.end);
        const migrate = createMigrateVma(this.mm, vma, start, next, { flags: MigrateVmaSelect.DevicePrivate, pgmapOwner: this.device });
        const err = migrateVmaSetup(migrate);
        if (err !== 0) return err;
        this.device.copyToSystem(migrate, this);
        migrateVmaPages(migrate);
        for (let i = 0; i < migrate.npages; i++) {
          const entry = migrate.src[i]!;
          if ((entry & MIGRATE_PFN_VALID) !== 0 && (entry & MIGRATE_PFN_MIGRATE) !== 0) result.cpages++;
        }
        migrateVmaFinalize(migrate);
        start = next;
      }
      return 0;
    });
    return result;
  }

  /** dmirror_mkentry: the SNAPSHOT byte of one hmm_range_fault result. */
  private snapshotCode(flags: number, pfn: number): number {
    if ((flags & HMM_PFN_ERROR) !== 0) return HMM_DMIRROR_PROT_ERROR;
    if ((flags & HMM_PFN_VALID) === 0) return HMM_DMIRROR_PROT_NONE;
    const pagemap = this.registry.pagemapOf(pfn);
    let code: number;
    if (pagemap !== null) code = pagemap === this.device ? HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL : HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
    else if (pfn === framesOf(this.kernel).zeroPfn) code = HMM_DMIRROR_PROT_ZERO;
    else code = HMM_DMIRROR_PROT_NONE;
    code |= (flags & HMM_PFN_WRITE) !== 0 ? HMM_DMIRROR_PROT_WRITE : HMM_DMIRROR_PROT_READ;
    const order = hmmPfnToMapOrder(flags);
    if (order === 9) code |= HMM_DMIRROR_PROT_PMD;
    else if (order === 18) code |= HMM_DMIRROR_PROT_PUD;
    return code;
  }

  /** HMM_DMIRROR_SNAPSHOT: hmm_range_fault without faulting, one byte code per page. */
  snapshot(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    const end = addr + npages * PAGE_SIZE;
    const perm = new Uint8Array(npages);
    for (let start = addr; start < end; ) {
      const next = Math.min(start + CHUNK_PAGES * PAGE_SIZE, end);
      const range = createHmmRange(this.mm, start, next, { devPrivateOwner: this.device });
      const ret = this.withReadLock(() => hmmRangeFault(range));
      if (ret !== 0) return { ...result, ret };
      const n = (next - start) / PAGE_SIZE;
      for (let i = 0; i < n; i++) perm[result.cpages + i] = this.snapshotCode(range.flags[i]!, range.pfns[i]!);
      result.cpages += n;
      start = next;
    }
    result.perm = perm;
    return result;
  }

  /**
   * HMM_DMIRROR_EXCLUSIVE: make_device_exclusive on every page, mirror them
   * ATOMIC, then read them back. -EFAULT / -EOPNOTSUPP from
   * make_device_exclusive stop the command.
   */
  exclusive(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    const end = addr + npages * PAGE_SIZE;
    const ret = this.withReadLock(() => {
      for (let a = addr; a < end; a += PAGE_SIZE) {
        const made = makeDeviceExclusive(this.mm, a);
        if (typeof made === 'number') return made;
        this.store(a, made.page, MirrorTag.Atomic);
      }
      return 0;
    });
    if (ret !== 0) return { ...result, ret };
    return this.readBack(addr, end, result);
  }

  /** HMM_DMIRROR_CHECK_EXCLUSIVE: -EPERM while the device still holds atomic access to a page of the range. */
  checkExclusive(addr: number, npages: number): DmirrorResult {
    const result: DmirrorResult = { ret: 0, cpages: 0, faults: 0 };
    if (HmmMirror.badCommand(addr, npages)) return { ...result, ret: -Errno.EINVAL };
    for (let a = addr; a < addr + npages * PAGE_SIZE; a += PAGE_SIZE) {
      if (this.lookup(a)?.tag === MirrorTag.Atomic) return { ...result, ret: -Errno.EPERM };
    }
    return result;
  }

  /** HMM_DMIRROR_RELEASE: evicts all of the device's memory (for every process using it). */
  release(): DmirrorResult {
    return { ret: this.device.release(), cpages: 0, faults: 0 };
  }
}
