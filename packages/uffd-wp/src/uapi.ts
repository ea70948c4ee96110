/**
 * userfaultfd user-visible constants (include/uapi/linux/userfaultfd.h).
 * Every value here fits a double exactly except the 64-bit ioctl masks,
 * which are bigints (the API ioctl is bit 63).
 */

/** UFFD_API: the only API version. */
export const UFFD_API = 0xaa;

/** UFFD_USER_MODE_ONLY: the only userfaultfd() flag besides O_CLOEXEC / O_NONBLOCK. */
export const UFFD_USER_MODE_ONLY = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** UFFD_FEATURE_* bits, in bit order. */
export const UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0;
export const UFFD_FEATURE_EVENT_FORK = 1 << 1;
export const UFFD_FEATURE_EVENT_REMAP = 1 << 2;
export const UFFD_FEATURE_EVENT_REMOVE = 1 << 3;
export const UFFD_FEATURE_MISSING_HUGETLBFS = 1 << 4;
export const UFFD_FEATURE_MISSING_SHMEM = 1 << 5;
export const UFFD_FEATURE_EVENT_UNMAP = 1 << 6;
export const UFFD_FEATURE_SIGBUS = 1 << 7;
export const UFFD_FEATURE_THREAD_ID = 1 << 8;
export const UFFD_FEATURE_MINOR_HUGETLBFS = 1 << 9;
export const UFFD_FEATURE_MINOR_SHMEM = 1 << 10;
export const UFFD_FEATURE_EXACT_ADDRESS = 1 << 11;
export const UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12;
export const UFFD_FEATURE_WP_UNPOPULATED = 1 << 13;
export const UFFD_FEATURE_POISON = 1 << 14;
export const UFFD_FEATURE_WP_ASYNC = 1 << 15;
export const UFFD_FEATURE_MOVE = 1 << 16;

/** Every feature this kernel offers (x86-64 with PTE markers): the UFFDIO_API reply. */
export const UFFD_API_FEATURES = (1 << 17) - 1;

/** Feature names as the scenario format spells them (lower-case UFFD_FEATURE_* names), by bit. */
export const UFFD_FEATURE_BITS = {
  pagefault_flag_wp: UFFD_FEATURE_PAGEFAULT_FLAG_WP,
  event_fork: UFFD_FEATURE_EVENT_FORK,
  event_remap: UFFD_FEATURE_EVENT_REMAP,
  event_remove: UFFD_FEATURE_EVENT_REMOVE,
  missing_hugetlbfs: UFFD_FEATURE_MISSING_HUGETLBFS,
  missing_shmem: UFFD_FEATURE_MISSING_SHMEM,
  event_unmap: UFFD_FEATURE_EVENT_UNMAP,
  sigbus: UFFD_FEATURE_SIGBUS,
  thread_id: UFFD_FEATURE_THREAD_ID,
  minor_hugetlbfs: UFFD_FEATURE_MINOR_HUGETLBFS,
  minor_shmem: UFFD_FEATURE_MINOR_SHMEM,
  exact_address: UFFD_FEATURE_EXACT_ADDRESS,
  wp_hugetlbfs_shmem: UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
  wp_unpopulated: UFFD_FEATURE_WP_UNPOPULATED,
  poison: UFFD_FEATURE_POISON,
  wp_async: UFFD_FEATURE_WP_ASYNC,
  move: UFFD_FEATURE_MOVE,
} as const;
export type UffdFeatureKey = keyof typeof UFFD_FEATURE_BITS;

/** UFFDIO_REGISTER modes. */
export const UFFDIO_REGISTER_MODE_MISSING = 1;
export const UFFDIO_REGISTER_MODE_WP = 2;
export const UFFDIO_REGISTER_MODE_MINOR = 4;
export const UFFD_API_REGISTER_MODES = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR;

/** Mode bits of the range ioctls. */
export const UFFDIO_COPY_MODE_DONTWAKE = 1;
export const UFFDIO_COPY_MODE_WP = 2;
export const UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1;
export const UFFDIO_WRITEPROTECT_MODE_WP = 1;
export const UFFDIO_WRITEPROTECT_MODE_DONTWAKE = 2;
export const UFFDIO_CONTINUE_MODE_DONTWAKE = 1;
export const UFFDIO_CONTINUE_MODE_WP = 2;

/** _UFFDIO_* ioctl numbers (bit positions in the `ioctls` masks). */
export const _UFFDIO_REGISTER = 0x00;
export const _UFFDIO_UNREGISTER = 0x01;
export const _UFFDIO_WAKE = 0x02;
export const _UFFDIO_COPY = 0x03;
export const _UFFDIO_ZEROPAGE = 0x04;
export const _UFFDIO_MOVE = 0x05;
export const _UFFDIO_WRITEPROTECT = 0x06;
export const _UFFDIO_CONTINUE = 0x07;
export const _UFFDIO_POISON = 0x08;
export const _UFFDIO_API = 0x3f;

const bit = (n: number): bigint => 1n << BigInt(n);
export const UFFD_API_IOCTLS = bit(_UFFDIO_REGISTER) | bit(_UFFDIO_UNREGISTER) | bit(_UFFDIO_API);
export const UFFD_API_RANGE_IOCTLS =
  bit(_UFFDIO_WAKE) | bit(_UFFDIO_COPY) | bit(_UFFDIO_ZEROPAGE) | bit(_UFFDIO_MOVE) | bit(_UFFDIO_WRITEPROTECT) | bit(_UFFDIO_CONTINUE) | bit(_UFFDIO_POISON);
export const UFFD_API_RANGE_IOCTLS_BASIC =
  bit(_UFFDIO_WAKE) | bit(_UFFDIO_COPY) | bit(_UFFDIO_WRITEPROTECT) | bit(_UFFDIO_CONTINUE) | bit(_UFFDIO_POISON);
export const UFFDIO_WRITEPROTECT_IOCTL_BIT = bit(_UFFDIO_WRITEPROTECT);
export const UFFDIO_CONTINUE_IOCTL_BIT = bit(_UFFDIO_CONTINUE);

/** uffd_msg.event values. */
export const UFFD_EVENT_PAGEFAULT = 0x12;
export const UFFD_EVENT_FORK = 0x13;
export const UFFD_EVENT_REMAP = 0x14;
export const UFFD_EVENT_REMOVE = 0x15;
export const UFFD_EVENT_UNMAP = 0x16;

/** uffd_msg.arg.pagefault.flags. Neither WP nor MINOR: a missing-page fault. */
export const UFFD_PAGEFAULT_FLAG_WRITE = 1;
export const UFFD_PAGEFAULT_FLAG_WP = 2;
export const UFFD_PAGEFAULT_FLAG_MINOR = 4;

/** sizeof(struct uffd_msg): read() needs room for at least one. */
export const UFFD_MSG_SIZE = 32;
