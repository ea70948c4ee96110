/**
 * A simulated kernel: physical memory, swap, page-table storage, the live
 * mms, and the features installed into it through dependency injection.
 */
import { createKernelContainer, type DependencyContainer } from './di/container.js';
import { resolveAllTokens, type Token } from './di/tokens.js';
import { Errno } from './errno.js';
import {
  DevicePrivateHandlerToken,
  KernelProfileToken,
  KernelReadyToken,
  MadviseBehaviorToken,
  UserfaultHandlerToken,
  type DevicePrivateHandler,
  type Feature,
  type MadviseBehavior,
  type UserfaultHandler,
} from './feature.js';
import { FramePool } from './frames.js';
import { PAGE_SIZE, PMD_SIZE, pagingGeometry, type PagingGeometry } from './geometry.js';
import { Mm } from './mm.js';
import { TablePool } from './page-table.js';
import { FRAMES, TABLES, type ReadonlyFramePool, type ReadonlyTablePool } from './readonly-pools.js';
import { DEFAULT_PROFILE, profileError, type KernelProfile } from './profile.js';
import { ShmemFile } from './shmem.js';
import { SwapDevice } from './swapfile.js';
import type { TraceListener } from './trace.js';

export interface KernelOptions {
  /** Overrides of the default (reference machine) profile. */
  profile?: Partial<KernelProfile>;
  /** Features to install, in any combination. */
  features?: readonly Feature[];
}

export class KernelConfigError extends Error {
  override readonly name = 'KernelConfigError';
}

export class Kernel {
  readonly profile: KernelProfile;
  readonly geometry: PagingGeometry;
  /** Page-table storage, writable: for the mm code only (mm-internal `tablesOf`). */
  readonly [TABLES] = new TablePool();
  /** Physical memory, writable: for the mm code only (mm-internal `framesOf`). */
  readonly [FRAMES]: FramePool;
  /** Page-table storage, read-only (the same pool as the writable one). */
  readonly tables: ReadonlyTablePool;
  /** Physical memory, read-only (the same pool as the writable one). */
  readonly frames: ReadonlyFramePool;
  /** Pages charged against the commit limit (Committed_AS) by accountable mappings. */
  committedPages = 0;
  readonly swap: SwapDevice | null;
  /** Free 2 MiB hugetlb pages not reserved by any mapping. */
  hugetlbFree: number;
  readonly mms = new Set<Mm>();
  /** shmem files alive: open, or mapped somewhere. */
  readonly files = new Set<ShmemFile>();
  readonly featureNames: readonly string[];
  readonly madviseBehaviors: ReadonlyMap<number, MadviseBehavior>;
  readonly userfault: UserfaultHandler | null;
  readonly devicePrivate: DevicePrivateHandler | null;
  /** The trace listener (see trace()), null when tracing is off. */
  tracer: TraceListener | null = null;
  private readonly container: DependencyContainer;

  /** Use createKernel(). */
  constructor(profile: KernelProfile, features: readonly Feature[]) {
    this.profile = profile;
    this[FRAMES] = new FramePool(4096, profile.ramPages);
    this.tables = this[TABLES];
    this.frames = this[FRAMES];
    this.geometry = pagingGeometry(profile.fiveLevel);
    this.swap = profile.swap ? new SwapDevice(profile.swapPages) : null;
    this.hugetlbFree = profile.hugetlbPages;
    const container = createKernelContainer();
    container.register(KernelProfileToken, { useValue: profile });
    const names = new Set<string>();
    for (const feature of features) {
      if (names.has(feature.name)) throw new KernelConfigError(`feature "${feature.name}" installed twice`);
      names.add(feature.name);
      feature.install(container);
    }
    this.container = container;
    this.featureNames = [...names];
    const behaviors = new Map<number, MadviseBehavior>();
    for (const behavior of resolveAllTokens(container, MadviseBehaviorToken)) {
      if (behaviors.has(behavior.advice)) throw new KernelConfigError(`madvise advice ${behavior.advice} registered twice`);
      behaviors.set(behavior.advice, behavior);
    }
    this.madviseBehaviors = behaviors;
    this.userfault = resolveAllTokens(container, UserfaultHandlerToken)[0] ?? null;
    this.devicePrivate = resolveAllTokens(container, DevicePrivateHandlerToken)[0] ?? null;
    for (const hook of resolveAllTokens(container, KernelReadyToken)) hook.onKernelReady(this);
  }

  hasFeature(name: string): boolean {
    return this.featureNames.includes(name);
  }

  /** Resolves a token from this kernel's container (for wiring only, never on a hot path). */
  resolve<T>(t: Token<T>): T[] {
    return resolveAllTokens(this.container, t);
  }

  /**
   * __vm_enough_memory: may `pages` more be committed? Heuristic mode only
   * refuses a single request larger than RAM + swap; `never` keeps the
   * running total under RAM * ratio + swap; `always` never refuses. Charges
   * them when it answers yes.
   */
  vmEnoughMemory(pages: number): boolean {
    const swapPages = this.swap === null ? 0 : this.profile.swapPages;
    switch (this.profile.overcommit) {
      case 'always':
        break;
      case 'heuristic':
        if (pages > this.profile.ramPages + swapPages) return false;
        break;
      case 'never': {
        const limit = Math.floor((this.profile.ramPages * this.profile.overcommitRatio) / 100) + swapPages;
        if (this.committedPages + pages > limit) return false;
        break;
      }
    }
    this.committedPages += pages;
    return true;
  }

  /** vm_unacct_memory */
  vmUnacctMemory(pages: number): void {
    this.committedPages -= pages;
  }

  /**
   * The OOM killer (out_of_memory → select_bad_process): the live process
   * with the most resident and swapped pages (oom_badness; on a tie the
   * oldest; one holding nothing is still eligible) is killed and its memory
   * freed. Returns the victim, or null when no process is left (where the
   * kernel would panic: memory full of unreclaimable page cache).
   */
  oomKill(): Mm | null {
    let victim: Mm | null = null;
    let most = -1;
    for (const mm of this.mms) {
      const points = mm.oomBadness();
      if (points > most) {
        most = points;
        victim = mm;
      }
    }
    if (victim !== null) victim.oomKilled();
    return victim;
  }

  /**
   * Reports every page-table walk of this kernel to `listener` (null turns
   * tracing off): see trace.ts for the events. Returns a function that
   * restores the previous listener.
   */
  trace(listener: TraceListener | null): () => void {
    const previous = this.tracer;
    this.tracer = listener;
    return () => {
      this.tracer = previous;
    };
  }

  /** A new, empty address space. */
  /** util.inspect / console.log: a summary, not the typed arrays behind it. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    const p = this.profile;
    const features = this.featureNames.length > 0 ? this.featureNames.join(', ') : 'none';
    return `Kernel { thp: ${p.thp}, zeroPage: ${p.zeroPage}, swap: ${p.swap ? p.swapDevice : 'none'}, hugetlbFree: ${this.hugetlbFree}, features: ${features}, mms: ${this.mms.size} }`;
  }

  createMm(): Mm {
    const mm = new Mm(this);
    this.mms.add(mm);
    return mm;
  }

  /** memfd_create() + ftruncate(): an open shmem file of `bytes` (rounded up to pages). */
  memfdCreate(name: string, bytes: number, options: { hugetlb?: boolean } = {}): ShmemFile | number {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > 2 ** 46) return -Errno.EINVAL;
    // MFD_HUGETLB: a hugetlbfs file, sized in 2 MiB pages.
    const unit = options.hugetlb ? PMD_SIZE : PAGE_SIZE;
    const size = Math.ceil(bytes / unit) * unit;
    const file = new ShmemFile(name, size / PAGE_SIZE, () => this.mms, options.hugetlb === true);
    this.files.add(file);
    return file;
  }

  /** close(): the file lives on while some VMA maps it. */
  closeFile(file: ShmemFile): void {
    file.open = false;
    this.releaseFileIfUnused(file);
  }

  /** Frees a closed, unmapped file's pages (inode eviction). */
  releaseFileIfUnused(file: ShmemFile): void {
    if (file.open || !this.files.has(file)) return;
    for (const mm of this.mms) for (const vma of mm.vmas.all()) if (vma.file === file) return;
    for (const index of file.cache.stored()) {
      const value = file.cache.get(index);
      if (value > 0) {
        if (file.hugetlb) this[FRAMES].entireMapcount.delete(value);
        this[FRAMES].put(value);
      }
      else if (value < 0) this.swap?.free(-value);
      file.cache.set(index, 0);
    }
    this.files.delete(file);
  }
}

/** Builds a kernel with the given profile and features (none by default). */
export function createKernel(options: KernelOptions = {}): Kernel {
  const overrides = options.profile ?? {};
  const problem = profileError(overrides);
  if (problem !== null) throw new KernelConfigError(problem);
  const profile: KernelProfile = Object.freeze({ ...DEFAULT_PROFILE, ...overrides });
  return new Kernel(profile, options.features ?? []);
}

/** The writable page-table pool of a kernel (mm code only). */
export function tablesOf(kernel: Kernel): TablePool {
  return kernel[TABLES];
}

/** The writable frame pool of a kernel (mm code only). */
export function framesOf(kernel: Kernel): FramePool {
  return kernel[FRAMES];
}
