/** User-visible constants (include/uapi/asm-generic/mman-common.h, x86-64). */
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_VALID = PROT_READ | PROT_WRITE | PROT_EXEC;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_SYNC = 0x80000;
/**
 * The flags MAP_SHARED_VALIDATE accepts on a shmem / memfd file (the
 * kernel's legacy flags; shmem offers no extra mmap_supported_flags), as
 * measured on Linux 6.18: the type bits, MAP_FIXED, MAP_ANONYMOUS, 0x40,
 * 0x80, MAP_GROWSDOWN, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_LOCKED,
 * MAP_NORESERVE, MAP_POPULATE, MAP_NONBLOCK, MAP_STACK, MAP_HUGETLB and
 * the huge page size bits 26..30. Any other bit — MAP_SYNC,
 * MAP_FIXED_NOREPLACE, bit 31 (a negative int, sign-extended) — is
 * -EOPNOTSUPP.
 */
export const MAP_SHARED_VALIDATE_OK = (0xf | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x7c000000) >>> 0;
/** Flags this simulator understands; anything else in `flags` is ignored like the kernel ignores unknown legacy bits. */
export const MAP_KNOWN = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | MAP_HUGETLB | MAP_FIXED_NOREPLACE;

export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;
export const MADV_COLLAPSE = 25;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;

export const MLOCK_ONFAULT = 0x01;

/** clear_refs values (fs/proc/task_mmu.c). */
export const CLEAR_REFS_ALL = 1;
export const CLEAR_REFS_ANON = 2;
export const CLEAR_REFS_MAPPED = 3;
export const CLEAR_REFS_SOFT_DIRTY = 4;
export const CLEAR_REFS_MM_HIWATER_RSS = 5;

/** Kind of a simulated CPU access. */
export const AccessKind = { Read: 0, Write: 1, Exec: 2 } as const;
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

/** vm_fault_t bits returned by the fault handlers (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x1;
export const VM_FAULT_SIGBUS = 0x2;
export const VM_FAULT_HWPOISON = 0x10;
export const VM_FAULT_SIGSEGV = 0x40;
export const VM_FAULT_RETRY = 0x400;
export const VM_FAULT_FALLBACK = 0x800;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_HWPOISON | VM_FAULT_SIGSEGV;

export const FAULT_FLAG_WRITE = 0x1;
/** A fault raised by get_user_pages on behalf of the kernel (populate, mlock). */
export const FAULT_FLAG_REMOTE = 0x80;
/** GUP with FOLL_FORCE: may break COW of a read-only private mapping. */
export const FAULT_FLAG_FORCE = 0x1000;
