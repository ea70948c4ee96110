/**
 * Device-private memory (struct dev_pagemap, MEMORY_DEVICE_PRIVATE): which
 * zone-device frames belong to which device, and the per-kernel registry
 * the CPU fault path consults to find a page's owner and its
 * migrate_to_ram callback.
 *
 * Device frames come from the kernel's FramePool flagged PG_ZONE_DEVICE, so
 * the core's invariant checker covers them: a device page's refcount is
 * its mappings (device-private entries) plus the transient references a
 * migration holds, and it returns to the pool when the last one goes (the
 * kernel's page_free callback). Ownership is recorded per pfn and is only
 * trusted while the frame is still an allocated zone-device frame.
 */
import {
  PG_ALLOCATED,
  PG_LOCKED,
  PG_ZONE_DEVICE,
  VM_FAULT_SIGBUS,
  token,
  type DevicePrivateHandler,
  type Kernel,
  type Mm,
  type Vma,
} from '@pagewalk/core-walk';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { framesOf } = claimMmInternal();

/** What the CPU fault hands to a device's migrate_to_ram (the parts of struct vm_fault it needs). */
export interface DeviceFault {
  readonly mm: Mm;
  readonly vma: Vma;
  /** Faulting address, page aligned. */
  readonly address: number;
  /** The device-private page the PTE points at (locked and referenced by the fault). */
  readonly page: number;
}

/** struct dev_pagemap_ops for MEMORY_DEVICE_PRIVATE. */
export interface DevicePagemapOps {
  /** Migrates at least `fault.page` back to system memory; returns 0 or a VM_FAULT_* code. */
  migrateToRam(fault: DeviceFault): number;
}

/** struct dev_pagemap: one device's private memory. */
export interface DevicePagemap {
  /** pgmap->owner: compared with migrate_vma.pgmap_owner and hmm_range.dev_private_owner. */
  readonly owner: object;
  readonly ops: DevicePagemapOps;
}

/** The per-kernel state of the feature: its kernel and the owner of every device frame. */
export class HmmRegistry {
  private kernelRef: Kernel | null = null;
  private readonly pagemaps = new Map<number, DevicePagemap>();
  /** Per-page driver data (page->zone_device_data). */
  private readonly pageData = new Map<number, unknown>();

  get kernel(): Kernel {
    if (this.kernelRef === null) throw new Error('hmm-migrate: the kernel is not assembled yet');
    return this.kernelRef;
  }

  attach(kernel: Kernel): void {
    this.kernelRef = kernel;
  }

  /**
   * Allocates one device-private frame for `pagemap` (zone_device_page_init):
   * refcount 1 (the allocation's reference) and locked. Returns the pfn, or
   * 0 when simulated memory is exhausted.
   */
  allocDevicePage(pagemap: DevicePagemap, data: unknown = null): number {
    const frames = framesOf(this.kernel);
    const pfn = frames.alloc(0, PG_ZONE_DEVICE);
    if (pfn < 0) return 0;
    frames.get(pfn);
    frames.set(pfn, PG_LOCKED);
    this.pagemaps.set(pfn, pagemap);
    this.pageData.set(pfn, data);
    return pfn;
  }

  /** page_pgmap(): the pagemap of a live device-private frame, or null. */
  pagemapOf(pfn: number): DevicePagemap | null {
    const frames = framesOf(this.kernel);
    if (pfn <= 0 || pfn >= frames.capacityFrames) return null;
    const flags = frames.flags[pfn]!;
    if ((flags & (PG_ALLOCATED | PG_ZONE_DEVICE)) !== (PG_ALLOCATED | PG_ZONE_DEVICE)) return null;
    return this.pagemaps.get(pfn) ?? null;
  }

  /** page->zone_device_data of a live device frame. */
  pageDataOf(pfn: number): unknown {
    return this.pagemapOf(pfn) === null ? null : this.pageData.get(pfn) ?? null;
  }

  setPageData(pfn: number, data: unknown): void {
    if (this.pagemapOf(pfn) !== null) this.pageData.set(pfn, data);
  }

  /** Drops ownership records of frames that went back to the pool. */
  prune(): void {
    for (const pfn of [...this.pagemaps.keys()]) {
      if (this.pagemapOf(pfn) === null) {
        this.pagemaps.delete(pfn);
        this.pageData.delete(pfn);
      }
    }
  }

  /** The live frames of one pagemap. */
  pagesOf(pagemap: DevicePagemap): number[] {
    const pages: number[] = [];
    for (const [pfn, owner] of this.pagemaps) if (owner === pagemap && this.pagemapOf(pfn) === pagemap) pages.push(pfn);
    return pages.sort((a, b) => a - b);
  }

  /**
   * The core's DevicePrivateHandler (do_swap_page on a device-private
   * entry): trylock the page (someone else holding it → retry the fault),
   * take a reference, call the owner's migrate_to_ram, unlock, drop.
   */
  readonly handler: DevicePrivateHandler = {
    migrateToRam: (mm, vma, addr, devicePfn) => {
      const pagemap = this.pagemapOf(devicePfn);
      if (pagemap === null) return VM_FAULT_SIGBUS;
      const frames = framesOf(this.kernel);
      if (frames.has(devicePfn, PG_LOCKED)) return 0;
      frames.set(devicePfn, PG_LOCKED);
      frames.get(devicePfn);
      let ret: number;
      try {
        ret = pagemap.ops.migrateToRam({ mm, vma, address: addr - (addr % 4096), page: devicePfn });
      } finally {
        frames.clear(devicePfn, PG_LOCKED);
        frames.put(devicePfn);
      }
      return ret;
    },
  };
}

/**
 * The feature's name.
 * @deprecated The registry is no longer looked up by name: use HmmRegistryToken (or hmmRegistryOf).
 */
export const HMM_SERVICE_NAME = 'hmm-migrate';

/** The kernel's registry of device pages (`Symbol.for('@pagewalk/hmm-migrate/HmmRegistry')`). */
export const HmmRegistryToken = token<HmmRegistry>('hmm-migrate/HmmRegistry');

/** The feature's registry in `kernel`; throws a clear error when the feature is not installed. */
export function hmmRegistryOf(kernel: Kernel): HmmRegistry {
  const registry = kernel.resolve(HmmRegistryToken)[0];
  if (registry === undefined) throw new Error('hmm-migrate is not installed in this kernel: createKernel({ features: [hmmMigrate] })');
  return registry;
}
