/**
 * Linux errno values (x86-64, asm-generic/errno-base.h and errno.h).
 * Every operation in the simulator returns 0 / a count, or a negative errno,
 * exactly like the kernel's internal convention.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  ERANGE: 34,
  EDEADLK: 35,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  EHWPOISON: 133,
  /** Kernel-internal: the syscall is restarted transparently (never reaches user space). */
  ERESTARTNOINTR: 513,
} as const;

export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** Symbolic name of an errno value; accepts positive or negative numbers. */
export function errnoName(value: number): ErrnoName | `E${number}` {
  const abs = Math.abs(value);
  return NAMES.get(abs) ?? `E${abs}`;
}

/**
 * What a simulated syscall returns for a case the simulator does not model
 * (instead of a made-up errno): below every errno (the kernel's MAX_ERRNO
 * is 4095). The scenario runner reports such an op as unsupported, so
 * conformance checks and fuzzing leave the scenario out rather than
 * compare it. Currently: MADV_COLLAPSE that would build a file (shmem) THP.
 */
export const NOT_MODELLED = -4096;

/** Signals a memory access can end in. */
export const SIGBUS = 7;
export const SIGSEGV = 11;
/** The OOM killer's signal: the access's process was chosen as the victim and is gone. */
export const SIGKILL = 9;

export function signalName(signal: number): 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' | `SIG${number}` {
  if (signal === SIGKILL) return 'SIGKILL';
  if (signal === SIGSEGV) return 'SIGSEGV';
  if (signal === SIGBUS) return 'SIGBUS';
  return `SIG${signal}`;
}

/**
 * Error thrown only for programming errors inside the simulator (a broken
 * invariant). Invalid arguments never throw: they return -errno.
 */
export class MmInvariantError extends Error {
  override readonly name = 'MmInvariantError';
}
