/*
 * pagewalk kernel runner: executes one scenario on the real Linux kernel.
 *
 * Input (stdin), one item per line, produced by the TypeScript wrapper:
 *
 *   arena <pages>
 *   <op> key=value key=value ...
 *
 * Every op line produces exactly one JSON object on stdout (one per line), in
 * the result format of SCENARIO.md. Numbers in the input are decimal; raw
 * 64-bit values are given as unsigned (or, for byte offsets, signed) decimal.
 * Lists are comma separated ("-" = empty list).
 *
 * Helper modes (root only, used by the wrapper to match profiles):
 *   runner --swapon DEV    write a swap header on DEV and swapon(2) it
 *   runner --swapoff DEV   swapoff(2) DEV
 *
 * A malformed input line gives a one-line message on stderr and exit status 2.
 *
 * Written from the documented kernel behaviour and UAPI; all UAPI numbers are
 * defined here because the system headers may be older than the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- UAPI --- */

#define PW_PAGE 4096ULL
#define PW_HPAGE (2ULL << 20)
#define PW_GIB (1ULL << 30)

#define PW_MAP_FIXED_NOREPLACE 0x100000
#define PW_MAP_SHARED_VALIDATE 0x03
#define PW_MAP_HUGETLB 0x40000
#define PW_MAP_HUGE_2MB (21U << 26)
#define PW_MFD_CLOEXEC 1U
#define PW_MFD_HUGETLB 4U
#define PW_SHM_HUGETLB 04000
#define PW_SHM_HUGE_2MB (21 << 26)

struct pw_page_region {
	uint64_t start, end, categories;
};

struct pw_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PW_PAGEMAP_SCAN _IOWR('f', 16, struct pw_scan_arg)

struct pw_uffdio_range {
	uint64_t start, len;
};
struct pw_uffdio_api {
	uint64_t api, features, ioctls;
};
struct pw_uffdio_register {
	struct pw_uffdio_range range;
	uint64_t mode, ioctls;
};
struct pw_uffdio_writeprotect {
	struct pw_uffdio_range range;
	uint64_t mode;
};
struct pw_uffdio_zeropage {
	struct pw_uffdio_range range;
	uint64_t mode;
	int64_t zeropage;
};
struct pw_uffdio_copy {
	uint64_t dst, src, len, mode;
	int64_t copy;
};
struct pw_uffdio_continue {
	struct pw_uffdio_range range;
	uint64_t mode;
	int64_t mapped;
};
struct pw_uffd_msg {
	uint8_t event, reserved1;
	uint16_t reserved2;
	uint32_t reserved3;
	union {
		struct {
			uint64_t flags, address;
			uint32_t ptid;
		} __attribute__((packed)) pagefault;
		uint64_t reserved[3];
	} arg;
} __attribute__((packed));

#define PW_UFFDIO 0xAA
#define PW_UFFDIO_API _IOWR(PW_UFFDIO, 0x3F, struct pw_uffdio_api)
#define PW_UFFDIO_REGISTER _IOWR(PW_UFFDIO, 0x00, struct pw_uffdio_register)
#define PW_UFFDIO_UNREGISTER _IOR(PW_UFFDIO, 0x01, struct pw_uffdio_range)
#define PW_UFFDIO_WAKE _IOR(PW_UFFDIO, 0x02, struct pw_uffdio_range)
#define PW_UFFDIO_COPY _IOWR(PW_UFFDIO, 0x03, struct pw_uffdio_copy)
#define PW_UFFDIO_ZEROPAGE _IOWR(PW_UFFDIO, 0x04, struct pw_uffdio_zeropage)
#define PW_UFFDIO_WRITEPROTECT _IOWR(PW_UFFDIO, 0x06, struct pw_uffdio_writeprotect)
#define PW_UFFDIO_CONTINUE _IOWR(PW_UFFDIO, 0x07, struct pw_uffdio_continue)
#define PW_UFFD_EVENT_PAGEFAULT 0x12
#define PW_UFFD_PF_WRITE 1ULL
#define PW_UFFD_PF_WP 2ULL
#define PW_UFFD_PF_MINOR 4ULL

/* ------------------------------------------------------------- tables --- */

struct name_val {
	const char *name;
	long long val;
};

static const struct name_val errno_names[] = {
	{"EPERM", EPERM},   {"ENOENT", ENOENT},     {"ESRCH", ESRCH},   {"EINTR", EINTR},
	{"EIO", EIO},       {"ENXIO", ENXIO},       {"E2BIG", E2BIG},   {"EBADF", EBADF},
	{"EAGAIN", EAGAIN}, {"ENOMEM", ENOMEM},     {"EACCES", EACCES}, {"EFAULT", EFAULT},
	{"EBUSY", EBUSY},   {"EEXIST", EEXIST},     {"ENODEV", ENODEV}, {"EINVAL", EINVAL},
	{"ENFILE", ENFILE}, {"EMFILE", EMFILE},     {"ENOTTY", ENOTTY}, {"EFBIG", EFBIG},
	{"ENOSPC", ENOSPC}, {"ESPIPE", ESPIPE},     {"EROFS", EROFS},   {"ERANGE", ERANGE},
	{"ENOSYS", ENOSYS}, {"EOVERFLOW", EOVERFLOW}, {"EHWPOISON", EHWPOISON},
	{"EOPNOTSUPP", EOPNOTSUPP}, {NULL, 0},
};

static const struct name_val prot_names[] = {
	{"none", PROT_NONE}, {"r", PROT_READ}, {"rw", PROT_READ | PROT_WRITE},
	{"rx", PROT_READ | PROT_EXEC}, {"rwx", PROT_READ | PROT_WRITE | PROT_EXEC}, {NULL, 0},
};

static const struct name_val advice_names[] = {
	{"willneed", 3},        {"dontneed", 4},       {"free", 8},          {"remove", 9},
	{"hugepage", 14},       {"nohugepage", 15},    {"cold", 20},         {"pageout", 21},
	{"populate_read", 22},  {"populate_write", 23}, {"collapse", 25},
	{"guard_install", 102}, {"guard_remove", 103}, {NULL, 0},
};

/* UFFD_FEATURE_* bits, lower-case names */
static const struct name_val feature_names[] = {
	{"pagefault_flag_wp", 1 << 0},  {"event_fork", 1 << 1},      {"event_remap", 1 << 2},
	{"event_remove", 1 << 3},       {"missing_hugetlbfs", 1 << 4}, {"missing_shmem", 1 << 5},
	{"event_unmap", 1 << 6},        {"sigbus", 1 << 7},          {"thread_id", 1 << 8},
	{"minor_hugetlbfs", 1 << 9},    {"minor_shmem", 1 << 10},    {"exact_address", 1 << 11},
	{"wp_hugetlbfs_shmem", 1 << 12}, {"wp_unpopulated", 1 << 13}, {"poison", 1 << 14},
	{"wp_async", 1 << 15},          {"move", 1 << 16},           {NULL, 0},
};

static const struct name_val mode_names[] = {
	{"missing", 1}, {"wp", 2}, {"minor", 4}, {NULL, 0},
};

static const char *const category_names[] = {
	"wpallowed", "written", "file", "present", "swapped", "pfnzero", "huge", "soft_dirty", "guard",
};

/* pagemap entry bits, in the output order of SCENARIO.md */
static const struct name_val pagemap_bits[] = {
	{"present", 63}, {"swapped", 62}, {"file_shared", 61}, {"exclusive", 56},
	{"uffd_wp", 57}, {"soft_dirty", 55}, {"guard", 58}, {NULL, 0},
};

/* -------------------------------------------------------------- input --- */

#define MAX_OPS 8192
#define MAX_KV 16
#define MAX_LINE 1024

struct kv {
	char key[32];
	char val[160];
};

struct op {
	char name[32];
	int nkv;
	struct kv kv[MAX_KV];
	int line;
};

static struct op ops[MAX_OPS];
static int nops;
static int cur_line;

static void die_input(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "runner: input line %d: ", cur_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void die_sys(const char *what)
{
	fprintf(stderr, "runner: %s: %s\n", what, strerror(errno));
	exit(3);
}

static const char *kv_get(const struct op *o, const char *key)
{
	for (int i = 0; i < o->nkv; i++)
		if (strcmp(o->kv[i].key, key) == 0)
			return o->kv[i].val;
	return NULL;
}

static uint64_t parse_u64(const char *s, const char *key)
{
	char *end;
	if (!s || !*s || *s == '-')
		die_input("bad unsigned value for %s", key);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		die_input("bad unsigned value for %s: '%s'", key, s);
	return v;
}

static int64_t parse_i64(const char *s, const char *key)
{
	char *end;
	if (!s || !*s)
		die_input("bad signed value for %s", key);
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		die_input("bad signed value for %s: '%s'", key, s);
	return v;
}

static uint64_t req_u64(const struct op *o, const char *key)
{
	const char *v = kv_get(o, key);
	if (!v)
		die_input("op %s: missing %s", o->name, key);
	return parse_u64(v, key);
}

static uint64_t opt_u64(const struct op *o, const char *key, uint64_t dflt)
{
	const char *v = kv_get(o, key);
	return v ? parse_u64(v, key) : dflt;
}

static long long lookup(const struct name_val *t, const char *name, const char *what)
{
	for (int i = 0; t[i].name; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].val;
	die_input("unknown %s '%s'", what, name);
	return 0;
}

/* comma-separated names OR-ed together; "-" or empty = 0 */
static long long lookup_list(const struct name_val *t, const char *list, const char *what)
{
	long long acc = 0;
	char buf[160];
	if (!list || !*list || strcmp(list, "-") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		acc |= lookup(t, tok, what);
	return acc;
}

static const char *const known_ops[] = {
	"mmap", "munmap", "mprotect", "madvise", "mlock", "munlock", "write", "read",
	"uffd_open", "uffd_register", "uffd_unregister", "uffd_wp", "scan", "pagemap",
	"clear_soft_dirty", "mremap", NULL,
};

static void parse_line(char *line, struct op *o)
{
	char *save = NULL;
	char *tok = strtok_r(line, " \t", &save);
	int known = 0;
	memset(o, 0, sizeof(*o));
	o->line = cur_line;
	if (!tok)
		die_input("empty op line");
	if (strlen(tok) >= sizeof(o->name))
		die_input("op name too long");
	strcpy(o->name, tok);
	for (int i = 0; known_ops[i]; i++)
		if (strcmp(known_ops[i], tok) == 0)
			known = 1;
	if (!known)
		die_input("unknown op '%s'", tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok)
			die_input("expected key=value, got '%s'", tok);
		if (o->nkv == MAX_KV)
			die_input("too many fields");
		*eq = 0;
		if (strlen(tok) >= sizeof(o->kv[0].key) || strlen(eq + 1) >= sizeof(o->kv[0].val))
			die_input("field too long");
		strcpy(o->kv[o->nkv].key, tok);
		strcpy(o->kv[o->nkv].val, eq + 1);
		o->nkv++;
	}
}

/* ------------------------------------------------------------- output --- */

static void print_errno_name(int e)
{
	for (int i = 0; errno_names[i].name; i++)
		if (errno_names[i].val == e) {
			printf("\"%s\"", errno_names[i].name);
			return;
		}
	printf("\"E%d\"", e);
}

/* Prints a byte offset from the arena base as a page number (exact decimal). */
static void print_page_number(int64_t byte_off)
{
	int neg = byte_off < 0;
	uint64_t a = neg ? (uint64_t)0 - (uint64_t)byte_off : (uint64_t)byte_off;
	uint64_t whole = a / PW_PAGE, rem = a % PW_PAGE;
	if (neg)
		putchar('-');
	printf("%" PRIu64, whole);
	if (rem) {
		/* rem/4096 has at most 12 fractional decimal digits */
		char digits[16];
		int n = 0;
		putchar('.');
		while (rem && n < 14) {
			rem *= 10;
			digits[n++] = (char)('0' + rem / PW_PAGE);
			rem %= PW_PAGE;
		}
		digits[n] = 0;
		fputs(digits, stdout);
	}
}

/* ------------------------------------------------------------- state --- */

static uint8_t *arena;          /* 1 GiB aligned */
static uint64_t arena_pages;
static int pagemap_fd = -1;
static int uffd = -1;
static int uffd_opened;
static void *zero_huge_buf;     /* 2 MiB of zeros (UFFDIO_COPY source for hugetlb) */
static struct pw_page_region *scan_vec;
static uint64_t scan_vec_cap;

/* hugetlb mappings, by page range, to round fault pages to 2 MiB */
#define MAX_HUGE_MAPS 256
static struct {
	uint64_t page, pages;
} huge_maps[MAX_HUGE_MAPS];
static int nhuge_maps;

/* ------------------------------------------------------ uffd handler --- */

#define MAX_FAULTS 4096
struct fault_rec {
	uint64_t page;
	uint64_t flags;
};
static struct fault_rec faults[MAX_FAULTS];
static int nfaults; /* protected by fault_lock */
static int faults_overflow;
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t uffd_ready;

static int addr_is_hugetlb(uint64_t addr)
{
	uint64_t page = (addr - (uint64_t)(uintptr_t)arena) / PW_PAGE;
	for (int i = 0; i < nhuge_maps; i++)
		if (page >= huge_maps[i].page && page < huge_maps[i].page + huge_maps[i].pages)
			return 1;
	return 0;
}

static void *uffd_handler(void *unused)
{
	(void)unused;
	sem_wait(&uffd_ready);
	for (;;) {
		struct pw_uffd_msg msg;
		ssize_t n = read(uffd, &msg, sizeof(msg));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)sizeof(msg))
			return NULL;
		if (msg.event != PW_UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t addr = msg.arg.pagefault.address & ~(PW_PAGE - 1);
		uint64_t len = PW_PAGE;
		uint64_t flags = msg.arg.pagefault.flags;
		int huge = addr_is_hugetlb(addr);
		if (huge) {
			addr &= ~(PW_HPAGE - 1);
			len = PW_HPAGE;
		}
		/* Record before resolving: the faulting access cannot complete
		 * (and so the op cannot end) before this record exists. */
		pthread_mutex_lock(&fault_lock);
		if (nfaults < MAX_FAULTS) {
			faults[nfaults].page = (addr - (uint64_t)(uintptr_t)arena) / PW_PAGE;
			faults[nfaults].flags = flags;
			nfaults++;
		} else {
			faults_overflow = 1;
		}
		pthread_mutex_unlock(&fault_lock);

		int ok;
		if (flags & PW_UFFD_PF_WP) {
			struct pw_uffdio_writeprotect wp = {{addr, len}, 0};
			ok = ioctl(uffd, PW_UFFDIO_WRITEPROTECT, &wp) == 0;
		} else if (flags & PW_UFFD_PF_MINOR) {
			struct pw_uffdio_continue c = {{addr, len}, 0, 0};
			ok = ioctl(uffd, PW_UFFDIO_CONTINUE, &c) == 0;
		} else if (huge) {
			struct pw_uffdio_copy cp = {addr, (uint64_t)(uintptr_t)zero_huge_buf, len, 0, 0};
			ok = ioctl(uffd, PW_UFFDIO_COPY, &cp) == 0;
		} else {
			struct pw_uffdio_zeropage zp = {{addr, len}, 0, 0};
			ok = ioctl(uffd, PW_UFFDIO_ZEROPAGE, &zp) == 0;
		}
		if (!ok) {
			/* never leave the faulting thread asleep */
			struct pw_uffdio_range r = {addr, len};
			ioctl(uffd, PW_UFFDIO_WAKE, &r);
		}
	}
}

static void fault_reset(void)
{
	pthread_mutex_lock(&fault_lock);
	nfaults = 0;
	pthread_mutex_unlock(&fault_lock);
}

static void print_faults(void)
{
	pthread_mutex_lock(&fault_lock);
	if (nfaults > 0) {
		printf(",\"uffd\":[");
		for (int i = 0; i < nfaults; i++) {
			const char *kind = (faults[i].flags & PW_UFFD_PF_WP)      ? "wp"
					   : (faults[i].flags & PW_UFFD_PF_MINOR) ? "minor"
										  : "missing";
			printf("%s{\"page\":%" PRIu64 ",\"flags\":[\"%s\"%s]}", i ? "," : "", faults[i].page,
			       kind, (faults[i].flags & PW_UFFD_PF_WRITE) ? ",\"write\"" : "");
		}
		printf("]");
	}
	if (faults_overflow) {
		fprintf(stderr, "runner: too many uffd faults in one op\n");
		exit(3);
	}
	pthread_mutex_unlock(&fault_lock);
}

/* ----------------------------------------------------- signal capture --- */

static sigjmp_buf access_env;
static volatile sig_atomic_t in_access;
static volatile sig_atomic_t caught_signal;

static void on_fault_signal(int sig)
{
	if (!in_access) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	caught_signal = sig;
	in_access = 0;
	siglongjmp(access_env, 1);
}

/* -------------------------------------------------- settled state --- */

/* Drain every CPU's LRU batches: move_pages(2) with a node list and zero
 * pages runs the "disable LRU caching" path, which drains all CPUs. */
static void drain_all_lru(void)
{
	int node = 0, status = 0;
	syscall(SYS_move_pages, 0, 0UL, NULL, &node, &status, 0);
}

/* Wait until no swap device has I/O in flight. */
static void wait_swap_idle(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[512];
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char dev[256], path[400];
		if (sscanf(line, "%255s", dev) != 1 || strncmp(dev, "/dev/", 5) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/inflight", dev + 5);
		for (int tries = 0; tries < 10000; tries++) {
			FILE *g = fopen(path, "r");
			unsigned long r = 0, w = 0;
			if (!g)
				break;
			int got = fscanf(g, "%lu %lu", &r, &w);
			fclose(g);
			if (got != 2 || (r == 0 && w == 0))
				break;
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
	fclose(f);
}

static void settle(void)
{
	wait_swap_idle();
	drain_all_lru();
}

/* ----------------------------------------------------------- helpers --- */

static uint8_t *page_addr(uint64_t page)
{
	return arena + page * PW_PAGE;
}

static void range_of(const struct op *o, uint64_t *page, uint64_t *pages)
{
	*page = req_u64(o, "page");
	*pages = opt_u64(o, "pages", 1);
	if (*page > arena_pages || *pages > arena_pages - *page)
		die_input("op %s: range outside the arena", o->name);
}

static void print_ret(long r, int err)
{
	if (r < 0) {
		printf(",\"ret\":-1,\"errno\":");
		print_errno_name(err);
	} else {
		printf(",\"ret\":%ld", r);
	}
}

/* ---------------------------------------------------------------- ops --- */

static void op_mmap(const struct op *o)
{
	uint64_t page, pages;
	range_of(o, &page, &pages);
	int prot = (int)lookup(prot_names, kv_get(o, "prot") ? kv_get(o, "prot") : "rw", "prot");
	const char *map = kv_get(o, "map") ? kv_get(o, "map") : "private";
	const char *backing = kv_get(o, "backing") ? kv_get(o, "backing") : "anon";
	int populate = (int)opt_u64(o, "populate", 0);
	int hugetlb = (int)opt_u64(o, "hugetlb", 0);
	int flags = PW_MAP_FIXED_NOREPLACE;
	int fd = -1;
	uint64_t len = pages * PW_PAGE;

	if (strcmp(map, "private") == 0)
		flags |= MAP_PRIVATE;
	else if (strcmp(map, "shared") == 0)
		flags |= MAP_SHARED;
	else if (strcmp(map, "shared_validate") == 0)
		flags |= PW_MAP_SHARED_VALIDATE;
	else
		die_input("unknown map '%s'", map);
	if (populate)
		flags |= MAP_POPULATE;
	if (strcmp(backing, "anon") == 0) {
		flags |= MAP_ANONYMOUS;
		if (hugetlb)
			flags |= PW_MAP_HUGETLB | PW_MAP_HUGE_2MB;
	} else if (strcmp(backing, "file") == 0) {
		unsigned mfd_flags = PW_MFD_CLOEXEC | (hugetlb ? PW_MFD_HUGETLB | PW_MAP_HUGE_2MB : 0);
		uint64_t fsize = len;
		if (hugetlb)
			fsize = (len + PW_HPAGE - 1) & ~(PW_HPAGE - 1);
		fd = (int)syscall(SYS_memfd_create, "pagewalk", mfd_flags);
		if (fd < 0 || ftruncate(fd, (off_t)fsize) != 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			printf(",\"ret\":-1,\"errno\":");
			print_errno_name(e);
			return;
		}
	} else if (strcmp(backing, "sysv_shm") == 0) {
		/* the parser allows only map=shared prot=rw populate=false here */
		uint64_t ssize = hugetlb ? (len + PW_HPAGE - 1) & ~(PW_HPAGE - 1) : len;
		int shmflg = IPC_CREAT | 0600 | (hugetlb ? PW_SHM_HUGETLB | PW_SHM_HUGE_2MB : 0);
		int id = shmget(IPC_PRIVATE, (size_t)ssize, shmflg);
		if (id < 0) {
			print_ret(-1, errno);
			return;
		}
		fault_reset();
		void *swant = page_addr(page);
		void *sgot = shmat(id, swant, 0);
		int se = errno;
		/* removed now: the segment lives as long as it is attached */
		shmctl(id, IPC_RMID, NULL);
		if (sgot == (void *)-1) {
			print_ret(-1, se);
		} else {
			if (hugetlb && nhuge_maps < MAX_HUGE_MAPS) {
				huge_maps[nhuge_maps].page = page;
				huge_maps[nhuge_maps].pages = pages;
				nhuge_maps++;
			}
			print_ret(0, 0);
		}
		print_faults();
		return;
	} else {
		die_input("unknown backing '%s'", backing);
	}
	fault_reset();
	void *want = page_addr(page);
	void *got = mmap(want, len, prot, flags, fd, 0);
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (got == MAP_FAILED) {
		print_ret(-1, e);
	} else if (got != want) {
		munmap(got, len);
		print_ret(-1, EEXIST);
	} else {
		if (hugetlb && nhuge_maps < MAX_HUGE_MAPS) {
			huge_maps[nhuge_maps].page = page;
			huge_maps[nhuge_maps].pages = pages;
			nhuge_maps++;
		}
		print_ret(0, 0);
	}
	print_faults();
}

static void op_range_syscall(const struct op *o)
{
	uint64_t page, pages;
	long r;
	range_of(o, &page, &pages);
	void *a = page_addr(page);
	size_t len = pages * PW_PAGE;
	fault_reset();
	if (strcmp(o->name, "munmap") == 0) {
		r = munmap(a, len);
	} else if (strcmp(o->name, "mprotect") == 0) {
		const char *p = kv_get(o, "prot");
		if (!p)
			die_input("mprotect: missing prot");
		r = mprotect(a, len, (int)lookup(prot_names, p, "prot"));
	} else if (strcmp(o->name, "mlock") == 0) {
		r = mlock(a, len);
	} else if (strcmp(o->name, "munlock") == 0) {
		r = munlock(a, len);
	} else { /* madvise */
		const char *adv = kv_get(o, "advice");
		if (!adv)
			die_input("madvise: missing advice");
		int advice = (int)lookup(advice_names, adv, "advice");
		if (advice == 21)
			settle();
		r = madvise(a, len, advice);
		int e = errno;
		if (advice == 21)
			settle();
		errno = e;
	}
	print_ret(r, errno);
	/* nothing to unmap-remember for hugetlb: stale entries only round fault pages */
	print_faults();
}

/*
 * mremap page=P pages=N new_pages=M flags=F [new_page=Q]: F is the
 * MREMAP_* mask. The result's "page" is the new start relative to the arena,
 * or null when the kernel placed it outside the arena.
 */
static void op_mremap(const struct op *o)
{
	uint64_t page, pages;
	range_of(o, &page, &pages);
	uint64_t new_pages = opt_u64(o, "new_pages", pages);
	unsigned long flags = (unsigned long)opt_u64(o, "flags", 0);
	void *new_addr = kv_get(o, "new_page") ? (void *)(arena + opt_u64(o, "new_page", 0) * PW_PAGE) : NULL;
	fault_reset();
	void *r = mremap(arena + page * PW_PAGE, pages * PW_PAGE, new_pages * PW_PAGE, (int)flags, new_addr);
	if (r == MAP_FAILED) {
		print_ret(-1, errno);
	} else {
		uint8_t *p = r;
		printf(",\"ret\":0,\"page\":");
		if (p >= arena && p < arena + arena_pages * PW_PAGE)
			printf("%" PRIu64, (uint64_t)((uint64_t)(p - arena) / PW_PAGE));
		else
			printf("null");
	}
	print_faults();
}

static void op_access(const struct op *o, int is_write)
{
	uint64_t page, pages;
	range_of(o, &page, &pages);
	int byte = (int)opt_u64(o, "byte", 0);
	/* version 2: the byte inside each page where the access starts, and how
	 * many consecutive bytes it covers (past 4095 it goes on in the next page) */
	uint64_t offset = opt_u64(o, "offset", 0);
	uint64_t length = opt_u64(o, "length", 1);
	static uint8_t bytes[1 << 20];
	volatile uint64_t i = 0, k = 0, done = 0;
	if (pages * length > sizeof(bytes))
		die_input("too many bytes in one access");
	fault_reset();
	caught_signal = 0;
	if (sigsetjmp(access_env, 1) == 0) {
		for (i = 0; i < pages; i++) {
			for (k = 0; k < length; k++) {
				volatile uint8_t *p = (volatile uint8_t *)page_addr(page + i) + offset + k;
				in_access = 1;
				if (is_write)
					*p = (uint8_t)byte;
				else
					bytes[done] = *p;
				in_access = 0;
				done++;
			}
		}
	}
	in_access = 0;
	if (caught_signal) {
		printf(",\"signal\":\"%s\",\"page\":%" PRIu64, caught_signal == SIGBUS ? "SIGBUS" : "SIGSEGV",
		       (uint64_t)(page + i + (offset + k) / PW_PAGE));
	} else {
		printf(",\"ret\":0");
	}
	if (!is_write) {
		printf(",\"bytes\":[");
		for (uint64_t n = 0; n < done; n++)
			printf("%s%u", n ? "," : "", bytes[n]);
		printf("]");
	}
	print_faults();
}

static void op_uffd_open(const struct op *o)
{
	uint64_t features = (uint64_t)lookup_list(feature_names, kv_get(o, "features"), "uffd feature");
	if (uffd_opened) {
		print_ret(-1, EINVAL);
		return;
	}
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0) {
		print_ret(-1, errno);
		return;
	}
	struct pw_uffdio_api api = {0xAA, features, 0};
	if (ioctl(fd, PW_UFFDIO_API, &api) != 0) {
		int e = errno;
		close(fd);
		print_ret(-1, e);
		return;
	}
	uffd = fd;
	uffd_opened = 1;
	sem_post(&uffd_ready);
	print_ret(0, 0);
}

static void op_uffd_range(const struct op *o)
{
	uint64_t page, pages;
	long r;
	range_of(o, &page, &pages);
	struct pw_uffdio_range range = {(uint64_t)(uintptr_t)page_addr(page), pages * PW_PAGE};
	if (strcmp(o->name, "uffd_register") == 0) {
		uint64_t modes = (uint64_t)lookup_list(mode_names, kv_get(o, "modes"), "uffd mode");
		struct pw_uffdio_register reg = {range, modes, 0};
		if (!uffd_opened) {
			print_ret(-1, EBADF);
			return;
		}
		r = ioctl(uffd, PW_UFFDIO_REGISTER, &reg);
	} else if (strcmp(o->name, "uffd_unregister") == 0) {
		if (!uffd_opened) {
			print_ret(-1, EBADF);
			return;
		}
		r = ioctl(uffd, PW_UFFDIO_UNREGISTER, &range);
	} else { /* uffd_wp */
		struct pw_uffdio_writeprotect wp = {range, req_u64(o, "wp") ? 1ULL : 0ULL};
		if (!uffd_opened) {
			print_ret(-1, EBADF);
			return;
		}
		fault_reset();
		r = ioctl(uffd, PW_UFFDIO_WRITEPROTECT, &wp);
	}
	print_ret(r, errno);
}

static void op_scan(const struct op *o)
{
	struct pw_scan_arg a;
	uint64_t base = (uint64_t)(uintptr_t)arena;
	memset(&a, 0, sizeof(a));
	a.size = opt_u64(o, "size", sizeof(a));
	a.flags = opt_u64(o, "flags", 0);
	a.start = base + (uint64_t)parse_i64(kv_get(o, "start"), "start");
	a.end = base + (uint64_t)parse_i64(kv_get(o, "end"), "end");
	a.vec_len = opt_u64(o, "vec_len", 4096);
	a.vec = opt_u64(o, "vec_null", 0) ? 0 : (uint64_t)(uintptr_t)scan_vec;
	a.max_pages = opt_u64(o, "max_pages", 0);
	a.category_inverted = opt_u64(o, "inverted", 0);
	a.category_mask = opt_u64(o, "mask", 0);
	a.category_anyof_mask = opt_u64(o, "anyof", 0);
	a.return_mask = opt_u64(o, "return", 0);
	/* The kernel never writes more regions than found pages, but keep the
	 * buffer honest: a vec_len above the buffer capacity is only accepted
	 * when the range cannot produce more regions than the capacity. */
	if (a.vec && a.vec_len > scan_vec_cap && a.end > a.start && (a.end - a.start) / PW_PAGE + 1 > scan_vec_cap &&
	    a.vec_len < (UINT64_MAX / sizeof(struct pw_page_region)))
		die_input("scan: vec_len %" PRIu64 " exceeds the runner's buffer", a.vec_len);
	fault_reset();
	long r = ioctl(pagemap_fd, PW_PAGEMAP_SCAN, &a);
	int e = errno;
	print_ret(r, e);
	if (r >= 0) {
		printf(",\"walk_end\":");
		print_page_number((int64_t)(a.walk_end - base));
		printf(",\"regions\":[");
		for (long k = 0; k < r && a.vec; k++) {
			struct pw_page_region *reg = &scan_vec[k];
			printf("%s[", k ? "," : "");
			print_page_number((int64_t)(reg->start - base));
			putchar(',');
			print_page_number((int64_t)(reg->end - base));
			printf(",[");
			int first = 1;
			for (int b = 0; b < 64; b++) {
				if (!(reg->categories & (1ULL << b)))
					continue;
				if (b < 9)
					printf("%s\"%s\"", first ? "" : ",", category_names[b]);
				else
					printf("%s\"bit%d\"", first ? "" : ",", b);
				first = 0;
			}
			printf("]]");
		}
		printf("]");
	}
	print_faults();
}

static void op_pagemap(const struct op *o)
{
	uint64_t page, pages;
	range_of(o, &page, &pages);
	uint64_t vpn = (uint64_t)(uintptr_t)page_addr(page) / PW_PAGE;
	printf(",\"ret\":0,\"entries\":[");
	for (uint64_t k = 0; k < pages; k++) {
		uint64_t ent = 0;
		ssize_t n = pread(pagemap_fd, &ent, sizeof(ent), (off_t)((vpn + k) * 8));
		if (n != (ssize_t)sizeof(ent)) {
			fprintf(stderr, "runner: pagemap read failed: %s\n", n < 0 ? strerror(errno) : "short read");
			exit(3);
		}
		printf("%s[", k ? "," : "");
		int first = 1;
		for (int b = 0; pagemap_bits[b].name; b++) {
			if (ent & (1ULL << pagemap_bits[b].val)) {
				printf("%s\"%s\"", first ? "" : ",", pagemap_bits[b].name);
				first = 0;
			}
		}
		printf("]");
	}
	printf("]");
}

static void op_clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	long r;
	if (fd < 0) {
		print_ret(-1, errno);
		return;
	}
	r = write(fd, "4", 1);
	int e = errno;
	close(fd);
	print_ret(r < 0 ? -1 : 0, e);
}

static void run_op(const struct op *o)
{
	cur_line = o->line;
	printf("{\"op\":\"%s\"", o->name);
	if (strcmp(o->name, "mmap") == 0)
		op_mmap(o);
	else if (!strcmp(o->name, "munmap") || !strcmp(o->name, "mprotect") || !strcmp(o->name, "madvise") ||
		 !strcmp(o->name, "mlock") || !strcmp(o->name, "munlock"))
		op_range_syscall(o);
	else if (strcmp(o->name, "write") == 0)
		op_access(o, 1);
	else if (strcmp(o->name, "read") == 0)
		op_access(o, 0);
	else if (strcmp(o->name, "uffd_open") == 0)
		op_uffd_open(o);
	else if (!strcmp(o->name, "uffd_register") || !strcmp(o->name, "uffd_unregister") ||
		 !strcmp(o->name, "uffd_wp"))
		op_uffd_range(o);
	else if (strcmp(o->name, "scan") == 0)
		op_scan(o);
	else if (strcmp(o->name, "pagemap") == 0)
		op_pagemap(o);
	else if (strcmp(o->name, "mremap") == 0)
		op_mremap(o);
	else
		op_clear_soft_dirty();
	printf("}\n");
	fflush(stdout);
}

/* --------------------------------------------------------- swap setup --- */

static int swap_on(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die_sys(dev);
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < (off_t)(16 * PW_PAGE)) {
		fprintf(stderr, "runner: %s too small for swap\n", dev);
		return 3;
	}
	static unsigned char hdr[4096];
	memset(hdr, 0, sizeof(hdr));
	uint32_t version = 1, last_page = (uint32_t)((uint64_t)size / PW_PAGE - 1);
	memcpy(hdr + 1024, &version, 4);
	memcpy(hdr + 1028, &last_page, 4);
	for (int i = 0; i < 16; i++) /* uuid: fixed, any value will do */
		hdr[1036 + i] = (unsigned char)(0x50 + i);
	memcpy(hdr + 4096 - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || fsync(fd) != 0)
		die_sys("writing swap header");
	close(fd);
	if (syscall(SYS_swapon, dev, 0) != 0)
		die_sys("swapon");
	return 0;
}

/* --------------------------------------------------------------- main --- */

static void pin_to_one_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		die_sys("sched_getaffinity");
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &set)) {
			CPU_ZERO(&set);
			CPU_SET(c, &set);
			if (sched_setaffinity(0, sizeof(set), &set) != 0)
				die_sys("sched_setaffinity");
			return;
		}
	}
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE + 2];

	if (argc == 3 && strcmp(argv[1], "--swapon") == 0)
		return swap_on(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--swapoff") == 0) {
		if (syscall(SYS_swapoff, argv[2]) != 0)
			die_sys("swapoff");
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: runner < scenario-lines | runner --swapon DEV | runner --swapoff DEV\n");
		return 2;
	}

	/* Read and validate the whole input first. */
	while (fgets(line, sizeof(line), stdin)) {
		size_t n = strlen(line);
		cur_line++;
		if (n && line[n - 1] != '\n' && !feof(stdin))
			die_input("line too long");
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n == 0 || line[0] == '#')
			continue;
		if (arena_pages == 0) {
			char *save = NULL;
			char *tok = strtok_r(line, " \t", &save);
			if (!tok || strcmp(tok, "arena") != 0)
				die_input("first line must be 'arena <pages>'");
			arena_pages = parse_u64(strtok_r(NULL, " \t", &save), "arena");
			if (arena_pages == 0 || arena_pages > (1ULL << 26))
				die_input("arena pages out of range");
			if (strtok_r(NULL, " \t", &save))
				die_input("trailing text after arena");
			continue;
		}
		if (nops == MAX_OPS)
			die_input("too many ops");
		parse_line(line, &ops[nops++]);
	}
	if (arena_pages == 0) {
		cur_line = 0;
		die_input("missing 'arena <pages>' line");
	}
	/* Validate every op's fields before touching memory. */
	for (int i = 0; i < nops; i++) {
		const struct op *o = &ops[i];
		static const char *const allowed[] = {"page", "pages", "prot", "map", "backing", "populate",
						      "hugetlb", "advice", "byte", "offset", "length", "features", "modes", "wp",
						      "size", "flags", "start", "end", "vec_len", "vec_null",
						      "max_pages", "inverted", "mask", "anyof", "return",
						      "new_pages", "new_page", NULL};
		cur_line = o->line;
		for (int k = 0; k < o->nkv; k++) {
			int ok = 0;
			for (int j = 0; allowed[j]; j++)
				if (strcmp(allowed[j], o->kv[k].key) == 0)
					ok = 1;
			if (!ok)
				die_input("unknown field '%s'", o->kv[k].key);
		}
		if (strcmp(o->name, "scan") == 0) {
			if (!kv_get(o, "start") || !kv_get(o, "end"))
				die_input("scan: missing start/end");
			parse_i64(kv_get(o, "start"), "start");
			parse_i64(kv_get(o, "end"), "end");
		} else if (strcmp(o->name, "uffd_open") && strcmp(o->name, "clear_soft_dirty")) {
			uint64_t p, n;
			range_of(o, &p, &n);
		}
		if (kv_get(o, "prot"))
			lookup(prot_names, kv_get(o, "prot"), "prot");
		if (kv_get(o, "advice"))
			lookup(advice_names, kv_get(o, "advice"), "advice");
		if (kv_get(o, "features"))
			lookup_list(feature_names, kv_get(o, "features"), "uffd feature");
		if (kv_get(o, "modes"))
			lookup_list(mode_names, kv_get(o, "modes"), "uffd mode");
		if (kv_get(o, "byte") && opt_u64(o, "byte", 0) > 255)
			die_input("byte out of range");
		if (strcmp(o->name, "mremap") == 0) {
			uint64_t np = opt_u64(o, "new_page", 0), nn = opt_u64(o, "new_pages", 1);
			if (np > arena_pages || nn > arena_pages - np)
				die_input("mremap: new range outside the arena");
		}
		if (kv_get(o, "offset") && opt_u64(o, "offset", 0) >= PW_PAGE)
			die_input("offset out of range");
		if (kv_get(o, "length") && (opt_u64(o, "length", 1) < 1 || opt_u64(o, "length", 1) > PW_PAGE))
			die_input("length out of range");
		for (int k = 0; k < o->nkv; k++) {
			const char *key = o->kv[k].key;
			if (strcmp(key, "prot") && strcmp(key, "map") && strcmp(key, "backing") && strcmp(key, "advice") &&
			    strcmp(key, "features") && strcmp(key, "modes") && strcmp(key, "start") && strcmp(key, "end"))
				parse_u64(o->kv[k].val, key);
		}
	}

	/* Everything that allocates address space happens before the arena is
	 * chosen, so nothing lands in it later. */
	pin_to_one_cpu();
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		die_sys("/proc/self/pagemap");
	if (sem_init(&uffd_ready, 0, 0) != 0)
		die_sys("sem_init");
	zero_huge_buf = mmap(NULL, PW_HPAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (zero_huge_buf == MAP_FAILED)
		die_sys("mmap zero buffer");
	scan_vec_cap = arena_pages + 1024;
	if (scan_vec_cap < 65536)
		scan_vec_cap = 65536;
	scan_vec = mmap(NULL, scan_vec_cap * sizeof(*scan_vec), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (scan_vec == MAP_FAILED)
		die_sys("mmap scan buffer");
	pthread_t th;
	if (pthread_create(&th, NULL, uffd_handler, NULL) != 0)
		die_sys("pthread_create");

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("%s", ""); /* allocate stdout's buffer now */

	/* Find a 1 GiB aligned arena with 1 GiB of free space on both sides,
	 * then release the reservation: nothing is mapped there at start. */
	uint64_t arena_bytes = (arena_pages * PW_PAGE + PW_GIB - 1) & ~(PW_GIB - 1);
	uint64_t resv_len = arena_bytes + 3 * PW_GIB;
	void *resv = mmap(NULL, resv_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		die_sys("reserving the arena");
	uint64_t base = ((uint64_t)(uintptr_t)resv + PW_GIB + PW_GIB - 1) & ~(PW_GIB - 1);
	arena = (uint8_t *)(uintptr_t)base;
	if (munmap(resv, resv_len) != 0)
		die_sys("releasing the arena reservation");

	alarm(60); /* watchdog: a stuck fault must not hang the caller forever */
	for (int i = 0; i < nops; i++)
		run_op(&ops[i]);
	fflush(stdout);
	_exit(0);
}
