// Every enumerated name of the scenario format (SCENARIO.md, version 1), in
// the order the format defines. Lists that are "sorted in bit order" in
// results are sorted by their index in these arrays.

/** The ops of SCENARIO.md, in the order of its tables. */
export const OP_NAMES = [
  'mmap',
  'munmap',
  'mprotect',
  'madvise',
  'mlock',
  'munlock',
  'write',
  'read',
  'uffd_open',
  'uffd_register',
  'uffd_unregister',
  'uffd_wp',
  'scan',
  'pagemap',
  'clear_soft_dirty',
  'mremap',
  'dev_migrate',
  'dev_migrate_back',
  'dev_read',
  'dev_write',
  'dev_snapshot',
] as const;
export type OpName = (typeof OP_NAMES)[number];

/** Ops that model the HMM test driver; the real-kernel runner reports them as unsupported. */
export const DEVICE_OP_NAMES = ['dev_migrate', 'dev_migrate_back', 'dev_read', 'dev_write', 'dev_snapshot'] as const;
export type DeviceOpName = (typeof DEVICE_OP_NAMES)[number];

export const PROT_NAMES = ['none', 'r', 'rw', 'rx', 'rwx'] as const;
export type ProtName = (typeof PROT_NAMES)[number];

export const MAP_NAMES = ['private', 'shared', 'shared_validate'] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** `sysv_shm`: a SysV shared memory segment (shmget + shmat), always a shared mapping. */
export const BACKING_NAMES = ['anon', 'file', 'sysv_shm'] as const;
export type BackingName = (typeof BACKING_NAMES)[number];

export const ADVICE_NAMES = [
  'dontneed',
  'free',
  'pageout',
  'cold',
  'willneed',
  'hugepage',
  'nohugepage',
  'populate_read',
  'populate_write',
  'remove',
  'collapse',
  'guard_install',
  'guard_remove',
] as const;
export type AdviceName = (typeof ADVICE_NAMES)[number];

/**
 * userfaultfd features a scenario may ask for in `uffd_open`. The format names
 * `wp_async` and `wp_unpopulated` and allows more; these are the lower-case
 * names of the UFFD_FEATURE_* bits of the UAPI.
 */
export const UFFD_FEATURE_NAMES = [
  'pagefault_flag_wp',
  'event_fork',
  'event_remap',
  'event_remove',
  'missing_hugetlbfs',
  'missing_shmem',
  'event_unmap',
  'sigbus',
  'thread_id',
  'minor_hugetlbfs',
  'minor_shmem',
  'exact_address',
  'wp_hugetlbfs_shmem',
  'wp_unpopulated',
  'poison',
  'wp_async',
  'move',
] as const;
export type UffdFeatureName = (typeof UFFD_FEATURE_NAMES)[number];

export const UFFD_MODE_NAMES = ['missing', 'wp', 'minor'] as const;
export type UffdModeName = (typeof UFFD_MODE_NAMES)[number];

/** Kinds of a handled userfaultfd fault in a result's `uffd` list, then the access flag. */
export const UFFD_FAULT_FLAG_NAMES = ['wp', 'missing', 'minor', 'write'] as const;
export type UffdFaultFlagName = (typeof UFFD_FAULT_FLAG_NAMES)[number];

/** PAGEMAP_SCAN category names in bit order (bit 0 first). */
export const CATEGORY_NAMES = [
  'wpallowed',
  'written',
  'file',
  'present',
  'swapped',
  'pfnzero',
  'huge',
  'soft_dirty',
  'guard',
] as const;
export type CategoryName = (typeof CATEGORY_NAMES)[number];
/** A category list in a scenario may also be `["all"]`. */
export type CategoryMaskName = CategoryName | 'all';

export const SCAN_FLAG_NAMES = ['wp_matching', 'check_wpasync'] as const;
export type ScanFlagName = (typeof SCAN_FLAG_NAMES)[number];

/** Fields of `scan.raw`: numeric overrides of the pm_scan_arg struct for bad-input tests. */
export const SCAN_RAW_FIELD_NAMES = [
  'size',
  'flags',
  'start_byte_offset',
  'end_byte_offset',
  'vec',
  'vec_len',
  'max_pages',
  'category_inverted',
  'category_mask',
  'category_anyof_mask',
  'return_mask',
] as const;
export type ScanRawFieldName = (typeof SCAN_RAW_FIELD_NAMES)[number];

/** `/proc/self/pagemap` flag names, in the order of the SCENARIO.md table. */
export const PAGEMAP_FLAG_NAMES = ['present', 'swapped', 'file_shared', 'exclusive', 'uffd_wp', 'soft_dirty', 'guard'] as const;
export type PagemapFlagName = (typeof PAGEMAP_FLAG_NAMES)[number];

/** `dev_snapshot` entry names (the HMM test driver's per-page flags), in table order. */
export const DEVICE_SNAPSHOT_NAMES = [
  'none',
  'error',
  'read',
  'write',
  'pmd',
  'pud',
  'dev_private_local',
  'dev_private_remote',
  'zero',
] as const;
export type DeviceSnapshotName = (typeof DEVICE_SNAPSHOT_NAMES)[number];

export const SIGNAL_NAMES = ['SIGSEGV', 'SIGBUS'] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/** mremap flags (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP), in bit order. */
export const MREMAP_FLAG_NAMES = ['maymove', 'fixed', 'dontunmap'] as const;
export type MremapFlagName = (typeof MREMAP_FLAG_NAMES)[number];

export const THP_MODE_NAMES = ['always', 'madvise', 'never'] as const;
export type ThpModeName = (typeof THP_MODE_NAMES)[number];

/** Profile keys this format version defines; any other key skips the scenario. */
export const PROFILE_KEYS = ['thp', 'thp_zero_page', 'soft_dirty', 'swap', 'hugetlb_pages', 'zero_page', 'mthp'] as const;

/** Swap device kinds a profile may ask for (`swap: "file"` / `"zram"`). */
export const SWAP_DEVICE_NAMES = ['file', 'zram'] as const;
export type SwapDeviceName = (typeof SWAP_DEVICE_NAMES)[number];

/** Per-size multi-size THP modes (/sys/kernel/mm/transparent_hugepage/hugepages-<size>/enabled). */
export const MTHP_MODE_NAMES = ['always', 'inherit', 'madvise', 'never'] as const;
export type MthpModeName = (typeof MTHP_MODE_NAMES)[number];

/** Anonymous folio sizes x86-64 offers for mTHP (orders 2..9). */
export const MTHP_SIZE_NAMES = ['16kB', '32kB', '64kB', '128kB', '256kB', '512kB', '1024kB', '2048kB'] as const;
export type MthpSizeName = (typeof MTHP_SIZE_NAMES)[number];
export type ProfileKey = (typeof PROFILE_KEYS)[number];

/** Linux errno names, indexed by number (x86-64 / generic numbering); index 0 and gaps are ''. */
const ERRNO_BY_NUMBER: readonly string[] = [
  '', 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF', 'ECHILD',
  'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS',
  'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY', 'ELOOP',
  '', 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH', 'ENOCSI',
  'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', '', 'EBFONT', 'ENOSTR',
  'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT', 'ECOMM',
  'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC', 'ELIBBAD',
  'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ', 'EMSGSIZE',
  'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL', 'ENETDOWN',
  'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS', 'ETIMEDOUT',
  'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL', 'EISNAM',
  'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED', 'EOWNERDEAD',
  'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];

/** Every errno name a result may carry, including the libc aliases of shared numbers. */
export const ERRNO_NAMES: readonly string[] = [
  ...ERRNO_BY_NUMBER.filter((name) => name !== ''),
  'EWOULDBLOCK',
  'EDEADLOCK',
  'ENOTSUP',
];

/** The symbolic name of a positive errno number (`22` → `"EINVAL"`), or `"E<n>"` when unknown. */
export function errnoNameOf(errno: number): string {
  const name = ERRNO_BY_NUMBER[errno];
  return name === undefined || name === '' ? `E${errno}` : name;
}

export function isErrnoName(name: string): boolean {
  return ERRNO_NAMES.includes(name);
}
