/**
 * A userfaultfd (fs/userfaultfd.c struct userfaultfd_ctx): its features,
 * its message queues, the faults waiting on it, and its ioctls. Every
 * ioctl takes the in/out struct as a plain object, writes its out fields
 * back as the kernel does, and returns 0 or -errno.
 *
 * Waiting in a single-threaded simulator: a synchronous fault queues its
 * message and then calls the context's handler (the program's fault
 * handling thread) with the mmap lock dropped, as handle_userfault drops
 * it before sleeping. The handler reads messages and resolves them with
 * UFFDIO_WRITEPROTECT / ZEROPAGE / COPY / CONTINUE / WAKE. When it
 * returns, a fault that was woken is retried; one that was not would sleep
 * forever on Linux, so here the access gets SIGBUS instead and the fault
 * is counted in `stats.unresolved` (its unread message is withdrawn). With
 * no handler attached every synchronous fault ends that way. A fault raised
 * while the handler itself runs would deadlock on Linux; it gets SIGBUS too.
 */
import {
  Errno,
  PAGE_SIZE,
  PMD_SIZE,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_UFFD_FLAGS,
  VM_UFFD_MINOR,
  VM_UFFD_MISSING,
  VM_UFFD_WP,
  type Mm,
  type Vma,
} from '@pagewalk/core-walk';
import { MfillMode, mfillAtomic } from './mfill.js';
import {
  O_CLOEXEC,
  O_NONBLOCK,
  UFFD_API,
  UFFD_API_FEATURES,
  UFFD_API_IOCTLS,
  UFFD_API_RANGE_IOCTLS,
  UFFD_API_RANGE_IOCTLS_BASIC,
  UFFD_API_REGISTER_MODES,
  UFFD_EVENT_FORK,
  UFFD_EVENT_PAGEFAULT,
  UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_WP_ASYNC,
  UFFD_FEATURE_WP_UNPOPULATED,
  UFFD_USER_MODE_ONLY,
  UFFDIO_CONTINUE_IOCTL_BIT,
  UFFDIO_CONTINUE_MODE_DONTWAKE,
  UFFDIO_CONTINUE_MODE_WP,
  UFFDIO_COPY_MODE_DONTWAKE,
  UFFDIO_COPY_MODE_WP,
  UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_REGISTER_MODE_WP,
  UFFDIO_WRITEPROTECT_IOCTL_BIT,
  UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
  UFFDIO_WRITEPROTECT_MODE_WP,
  UFFDIO_ZEROPAGE_MODE_DONTWAKE,
} from './uapi.js';
import { isKernelAnonymous, isWpRegistered, markUffdCtx } from './vma-state.js';
import { uffdWpRange } from './wp-range.js';
import { claimMmInternal } from '@pagewalk/core-walk/mm-internal';

const { vmasOf } = claimMmInternal();

/* ------------------------------------------------------------- structs */

export interface UffdioApi {
  api: number;
  features: number;
  /** Out: UFFD_API_IOCTLS. */
  ioctls?: bigint;
}
export interface UffdioRange {
  start: number;
  len: number;
}
export interface UffdioRegister {
  range: UffdioRange;
  mode: number;
  /** Out: the range ioctls guaranteed to work on the range. */
  ioctls?: bigint;
}
export interface UffdioWriteprotect {
  range: UffdioRange;
  mode: number;
}
export interface UffdioZeropage {
  range: UffdioRange;
  mode: number;
  /** Out: bytes zero-filled, or -errno. */
  zeropage?: number;
}
export interface UffdioCopy {
  dst: number;
  /** The source bytes (at least `len`). */
  src: Uint8Array;
  len: number;
  mode: number;
  /** Out: bytes copied, or -errno. */
  copy?: number;
}
export interface UffdioContinue {
  range: UffdioRange;
  mode: number;
  /** Out: bytes mapped, or -errno. */
  mapped?: number;
}

/** struct uffd_msg, PAGEFAULT arm. */
export interface UffdPagefaultMsg {
  readonly event: typeof UFFD_EVENT_PAGEFAULT;
  /** UFFD_PAGEFAULT_FLAG_* bits. */
  readonly flags: number;
  /** Page-aligned (huge-page aligned for hugetlb) unless EXACT_ADDRESS. */
  readonly address: number;
  /** With THREAD_ID: the faulting thread (the simulator's one thread per mm: the mm id). */
  readonly ptid: number;
}
/** struct uffd_msg, FORK arm: the child's new userfaultfd. */
export interface UffdForkMsg {
  readonly event: typeof UFFD_EVENT_FORK;
  readonly ufd: UserfaultfdCtx;
}
export type UffdMsg = UffdPagefaultMsg | UffdForkMsg;

/** The program's fault handling thread: read messages, resolve them. */
export type UffdHandler = (ctx: UserfaultfdCtx) => void;

/** A thread blocked in handle_userfault. */
interface Waiter {
  readonly msg: UffdPagefaultMsg;
  woken: boolean;
}

export interface UserfaultfdStats {
  /** Faults delivered as messages. */
  delivered: number;
  /** Faults no handler resolved (the access got SIGBUS). */
  unresolved: number;
  /** WP faults resolved in place (WP_ASYNC). */
  asyncResolved: number;
}

export interface UserfaultfdOptions {
  /** CAP_SYS_PTRACE (needed for EVENT_FORK). Default true: the reference runner runs as root. */
  capSysPtrace?: boolean;
}

/* ---------------------------------------------------------------- ctx */

/** vma_can_userfault(). */
export function vmaCanUserfault(vma: Vma, vmFlags: number, wpAsync: boolean): boolean {
  const modes = vmFlags & VM_UFFD_FLAGS;
  if (vma.isPfnMap || (vma.flags & VM_PFNMAP) !== 0) return false;
  // MINOR needs a page cache: hugetlb or shmem (every file VMA here is shmem).
  if ((modes & VM_UFFD_MINOR) !== 0 && !vma.isHugetlb && isKernelAnonymous(vma)) return false;
  if (wpAsync && modes === VM_UFFD_WP) return true;
  return true; // anonymous, hugetlb or shmem: every VMA the simulator has
}

function validateRange(mm: Mm, start: number, len: number): number {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0) return -Errno.EINVAL;
  if (start % PAGE_SIZE !== 0 || len % PAGE_SIZE !== 0 || len === 0) return -Errno.EINVAL;
  const taskSize = mm.geometry.taskSize;
  if (start < mm.geometry.mmapMinAddr || start >= taskSize || len > taskSize - start) return -Errno.EINVAL;
  return 0;
}

export class UserfaultfdCtx {
  /** Enabled features (0 until UFFDIO_API; then the requested set, WP_ASYNC implying WP_UNPOPULATED). */
  features = 0;
  private initialized = false;
  private released = false;
  private handler: UffdHandler | null = null;
  private inHandler = false;
  private readonly faultQueue: UffdPagefaultMsg[] = [];
  private readonly eventQueue: UffdMsg[] = [];
  private readonly waiters: Waiter[] = [];
  readonly stats: UserfaultfdStats = { delivered: 0, unresolved: 0, asyncResolved: 0 };

  /** Use userfaultfd(). */
  constructor(
    readonly mm: Mm,
    readonly flags: number,
    private readonly capSysPtrace: boolean,
  ) {
    markUffdCtx(this);
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** Attaches (or with null detaches) the fault handling thread. */
  setHandler(handler: UffdHandler | null): void {
    this.handler = handler;
  }

  /* ---------------------------------------------------------- UFFDIO_API */

  api(arg: UffdioApi): number {
    const fail = (errno: number): number => {
      arg.features = 0;
      arg.ioctls = 0n;
      arg.api = 0;
      return -errno;
    };
    if (this.released) return -Errno.EBADF;
    if (!Number.isSafeInteger(arg.features) || arg.features < 0) return fail(Errno.EINVAL);
    let features = arg.features;
    if (arg.api !== UFFD_API) return fail(Errno.EINVAL);
    if ((features & UFFD_FEATURE_EVENT_FORK) !== 0 && !this.capSysPtrace) return fail(Errno.EPERM);
    if ((features & UFFD_FEATURE_WP_ASYNC) !== 0) features |= UFFD_FEATURE_WP_UNPOPULATED;
    if (features > UFFD_API_FEATURES || (features & ~UFFD_API_FEATURES) !== 0) return fail(Errno.EINVAL);
    arg.features = UFFD_API_FEATURES;
    arg.ioctls = UFFD_API_IOCTLS;
    if (this.initialized) return fail(Errno.EINVAL);
    this.features = features;
    this.initialized = true;
    return 0;
  }

  /* ----------------------------------------------------- UFFDIO_REGISTER */

  register(arg: UffdioRegister): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const mode = arg.mode;
    if (!Number.isSafeInteger(mode) || mode === 0 || (mode & ~UFFD_API_REGISTER_MODES) !== 0) return -Errno.EINVAL;
    let vmFlags = 0;
    if ((mode & UFFDIO_REGISTER_MODE_MISSING) !== 0) vmFlags |= VM_UFFD_MISSING;
    if ((mode & UFFDIO_REGISTER_MODE_WP) !== 0) vmFlags |= VM_UFFD_WP;
    if ((mode & UFFDIO_REGISTER_MODE_MINOR) !== 0) vmFlags |= VM_UFFD_MINOR;
    const mm = this.mm;
    const { start, len } = arg.range;
    const bad = validateRange(mm, start, len);
    if (bad) return bad;
    if (!mm.isLive) return -Errno.ENOMEM;
    const end = start + len;
    const wpAsync = (this.features & UFFD_FEATURE_WP_ASYNC) !== 0;
    mm.lock.writeLock();
    try {
      const vmas = mm.vmas.range(start, end);
      const first = vmas[0];
      if (first === undefined) return -Errno.EINVAL;
      if (first.isHugetlb && start % PMD_SIZE !== 0) return -Errno.EINVAL;
      let basic = false;
      for (const cur of vmas) {
        if (!vmaCanUserfault(cur, vmFlags, wpAsync)) return -Errno.EINVAL;
        if ((cur.flags & VM_MAYWRITE) === 0) return -Errno.EPERM;
        if (cur.isHugetlb && end <= cur.end && end > cur.start && end % PMD_SIZE !== 0) return -Errno.EINVAL;
        if (cur.userfaultfdCtx !== null && cur.userfaultfdCtx !== this) return -Errno.EBUSY;
        if (cur.isHugetlb) basic = true;
      }
      // userfaultfd_register_range: replace the mode set of each VMA piece.
      for (const vma of vmas) {
        if (vma.userfaultfdCtx === this && (vma.flags & vmFlags) === vmFlags) continue;
        for (const piece of vmasOf(mm).splitRange(Math.max(start, vma.start), Math.min(end, vma.end))) {
          piece.flags = (piece.flags & ~VM_UFFD_FLAGS) | vmFlags;
          piece.userfaultfdCtx = this;
        }
      }
      vmasOf(mm).mergeAround(start, end);
      let ioctls = basic ? UFFD_API_RANGE_IOCTLS_BASIC : UFFD_API_RANGE_IOCTLS;
      if ((mode & UFFDIO_REGISTER_MODE_WP) === 0) ioctls &= ~UFFDIO_WRITEPROTECT_IOCTL_BIT;
      if ((mode & UFFDIO_REGISTER_MODE_MINOR) === 0) ioctls &= ~UFFDIO_CONTINUE_IOCTL_BIT;
      arg.ioctls = ioctls;
      return 0;
    } finally {
      mm.lock.writeUnlock();
    }
  }

  /* --------------------------------------------------- UFFDIO_UNREGISTER */

  unregister(range: UffdioRange): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const mm = this.mm;
    const bad = validateRange(mm, range.start, range.len);
    if (bad) return bad;
    if (!mm.isLive) return -Errno.ENOMEM;
    const start = range.start;
    const end = start + range.len;
    const wpAsync = (this.features & UFFD_FEATURE_WP_ASYNC) !== 0;
    mm.lock.writeLock();
    try {
      const vmas = mm.vmas.range(start, end);
      const first = vmas[0];
      if (first === undefined) return -Errno.EINVAL;
      if (first.isHugetlb && start % PMD_SIZE !== 0) return -Errno.EINVAL;
      for (const cur of vmas) {
        if (cur.userfaultfdCtx !== null && cur.userfaultfdCtx !== this) return -Errno.EINVAL;
        if (!vmaCanUserfault(cur, cur.flags, wpAsync)) return -Errno.EINVAL;
      }
      for (const vma of vmas) {
        if (vma.userfaultfdCtx === null) continue;
        const from = Math.max(start, vma.start);
        const to = Math.min(end, vma.end);
        this.clearVma(vma, from, to);
        // Missing-mode waiters are woken so they do not hang.
        this.wakeRange(from, to - from);
      }
      vmasOf(mm).mergeAround(start, end);
      return 0;
    } finally {
      mm.lock.writeUnlock();
    }
  }

  /** userfaultfd_clear_vma: drop protection, flags and ctx of [from, to) of `vma`. */
  private clearVma(vma: Vma, from: number, to: number): void {
    if (isWpRegistered(vma)) uffdWpRange(this.mm, vma, from, to, false);
    for (const piece of vmasOf(this.mm).splitRange(from, to)) {
      piece.flags &= ~VM_UFFD_FLAGS;
      piece.userfaultfdCtx = null;
    }
  }

  /* -------------------------------------------------------- UFFDIO_WAKE */

  wake(range: UffdioRange): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const bad = validateRange(this.mm, range.start, range.len);
    if (bad) return bad;
    this.wakeRange(range.start, range.len);
    return 0;
  }

  /** wake_userfault: wakes waiters whose fault address lies in [start, start+len); their unread messages go. */
  private wakeRange(start: number, len: number): void {
    for (const waiter of this.waiters) {
      const address = waiter.msg.address;
      if (waiter.woken || address < start || address >= start + len) continue;
      waiter.woken = true;
      const queued = this.faultQueue.indexOf(waiter.msg);
      if (queued >= 0) this.faultQueue.splice(queued, 1);
    }
  }

  /* ------------------------------------------------- UFFDIO_WRITEPROTECT */

  writeProtect(arg: UffdioWriteprotect): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const mm = this.mm;
    const { start, len } = arg.range;
    const bad = validateRange(mm, start, len);
    if (bad) return bad;
    const mode = arg.mode;
    if (!Number.isSafeInteger(mode) || (mode & ~(UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE)) !== 0) return -Errno.EINVAL;
    const wp = (mode & UFFDIO_WRITEPROTECT_MODE_WP) !== 0;
    const dontWake = (mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE) !== 0;
    if (wp && dontWake) return -Errno.EINVAL;
    if (!mm.isLive) return -Errno.ESRCH;
    const end = start + len;
    let err = -Errno.ENOENT;
    mm.lock.readLock();
    try {
      for (const vma of mm.vmas.range(start, end)) {
        if (!isWpRegistered(vma)) {
          err = -Errno.ENOENT;
          break;
        }
        if (vma.isHugetlb && (start % PMD_SIZE !== 0 || len % PMD_SIZE !== 0)) {
          err = -Errno.EINVAL;
          break;
        }
        uffdWpRange(mm, vma, Math.max(vma.start, start), Math.min(vma.end, end), wp);
        err = 0;
      }
    } finally {
      mm.lock.readUnlock();
    }
    if (err) return err;
    if (!wp && !dontWake) this.wakeRange(start, len);
    return 0;
  }

  /* ----------------------------------------- UFFDIO_ZEROPAGE / COPY / CONTINUE */

  private fill(mode: MfillMode, dst: number, len: number, src: Uint8Array | null, wp: boolean, dontWake: boolean, out: (value: number) => void): number {
    if (!this.mm.isLive) return -Errno.ESRCH;
    this.mm.lock.readLock();
    let done: number;
    try {
      done = mfillAtomic(this.mm, { mode, dst, len, src, wp });
    } finally {
      this.mm.lock.readUnlock();
    }
    out(done);
    if (done < 0) return done;
    if (!dontWake) this.wakeRange(dst, done);
    return done === len ? 0 : -Errno.EAGAIN;
  }

  zeropage(arg: UffdioZeropage): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const bad = validateRange(this.mm, arg.range.start, arg.range.len);
    if (bad) return bad;
    if (!Number.isSafeInteger(arg.mode) || (arg.mode & ~UFFDIO_ZEROPAGE_MODE_DONTWAKE) !== 0) return -Errno.EINVAL;
    return this.fill(MfillMode.Zeropage, arg.range.start, arg.range.len, null, false, (arg.mode & UFFDIO_ZEROPAGE_MODE_DONTWAKE) !== 0, (v) => {
      arg.zeropage = v;
    });
  }

  copy(arg: UffdioCopy): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    if (!(arg.src instanceof Uint8Array) || arg.src.length < arg.len) return -Errno.EFAULT;
    const bad = validateRange(this.mm, arg.dst, arg.len);
    if (bad) return bad;
    if (!Number.isSafeInteger(arg.mode) || (arg.mode & ~(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP)) !== 0) return -Errno.EINVAL;
    return this.fill(MfillMode.Copy, arg.dst, arg.len, arg.src, (arg.mode & UFFDIO_COPY_MODE_WP) !== 0, (arg.mode & UFFDIO_COPY_MODE_DONTWAKE) !== 0, (v) => {
      arg.copy = v;
    });
  }

  /** UFFDIO_CONTINUE: map the page-cache page behind a MINOR fault. */
  continueRange(arg: UffdioContinue): number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    const bad = validateRange(this.mm, arg.range.start, arg.range.len);
    if (bad) return bad;
    if (!Number.isSafeInteger(arg.mode) || (arg.mode & ~(UFFDIO_CONTINUE_MODE_DONTWAKE | UFFDIO_CONTINUE_MODE_WP)) !== 0) return -Errno.EINVAL;
    return this.fill(MfillMode.Continue, arg.range.start, arg.range.len, null, (arg.mode & UFFDIO_CONTINUE_MODE_WP) !== 0, (arg.mode & UFFDIO_CONTINUE_MODE_DONTWAKE) !== 0, (v) => {
      arg.mapped = v;
    });
  }

  /* -------------------------------------------------------------- read() */

  /**
   * read(): up to `max` messages, pending faults before events. An empty
   * queue gives -EAGAIN (a blocking read would sleep forever here); before
   * UFFDIO_API, -EINVAL.
   */
  read(max = Number.POSITIVE_INFINITY): UffdMsg[] | number {
    if (!this.initialized || this.released) return -Errno.EINVAL;
    if (!(max >= 1)) return -Errno.EINVAL;
    const out: UffdMsg[] = [];
    while (out.length < max && this.faultQueue.length > 0) out.push(this.faultQueue.shift()!);
    while (out.length < max && this.eventQueue.length > 0) out.push(this.eventQueue.shift()!);
    return out.length > 0 ? out : -Errno.EAGAIN;
  }

  /** Messages waiting to be read. */
  get pending(): number {
    return this.faultQueue.length + this.eventQueue.length;
  }

  /* -------------------------------------------------------------- close */

  /** close(): every VMA of this context is unregistered (protection dropped) and all waiters woken. */
  close(): void {
    if (this.released) return;
    this.released = true;
    const mm = this.mm;
    if (mm.isLive) {
      mm.lock.writeLock();
      try {
        for (const vma of [...mm.vmas.all()]) {
          if (vma.userfaultfdCtx !== this) continue;
          this.clearVma(vma, vma.start, vma.end);
        }
        vmasOf(mm).mergeAround(0, mm.geometry.taskSize);
      } finally {
        mm.lock.writeUnlock();
      }
    }
    for (const waiter of this.waiters) waiter.woken = true;
    this.faultQueue.length = 0;
    this.eventQueue.length = 0;
  }

  /* ------------------------------------------- the fault side (internal) */

  /** dup_userfaultfd: the child's context, with the same features, already initialised. */
  forkInto(child: Mm): UserfaultfdCtx {
    const copy = new UserfaultfdCtx(child, this.flags, this.capSysPtrace);
    copy.features = this.features;
    copy.initialized = true;
    return copy;
  }

  /** Queues a non-fault event (FORK). */
  queueEvent(msg: UffdMsg): void {
    this.eventQueue.push(msg);
  }

  /**
   * handle_userfault for a synchronous fault: queue the message, let the
   * handler run, report whether the faulting access may retry.
   */
  waitForResolution(msg: UffdPagefaultMsg): boolean {
    if (this.handler === null || this.inHandler || this.released || this.mm.lock.writer) {
      this.stats.unresolved++;
      return false;
    }
    const waiter: Waiter = { msg, woken: false };
    this.faultQueue.push(msg);
    this.waiters.push(waiter);
    this.stats.delivered++;
    // The faulting thread sleeps without the mmap lock.
    const lock = this.mm.lock;
    const readers = lock.readers;
    lock.readers = 0;
    this.inHandler = true;
    try {
      this.handler(this);
    } finally {
      this.inHandler = false;
      lock.readers = readers;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      const queued = this.faultQueue.indexOf(msg);
      if (queued >= 0) this.faultQueue.splice(queued, 1);
    }
    if (!waiter.woken) this.stats.unresolved++;
    return waiter.woken;
  }
}

/**
 * userfaultfd(2): a new context bound to `mm`. Flags: O_CLOEXEC, O_NONBLOCK,
 * UFFD_USER_MODE_ONLY; anything else is -EINVAL. -ENOSYS when the kernel was
 * built without this feature.
 */
export function userfaultfd(mm: Mm, flags = 0, options: UserfaultfdOptions = {}): UserfaultfdCtx | number {
  if (!mm.kernel.hasFeature('uffd-wp')) return -Errno.ENOSYS;
  if (!Number.isSafeInteger(flags) || (flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY)) !== 0) return -Errno.EINVAL;
  if (!mm.isLive) return -Errno.EINVAL;
  return new UserfaultfdCtx(mm, flags, options.capSysPtrace ?? true);
}
