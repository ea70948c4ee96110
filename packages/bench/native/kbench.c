/*
 * kbench: builds one benchmark layout in this (real) process and times one
 * memory-management operation on it with CLOCK_MONOTONIC, printing JSON.
 *
 *   kbench <case> <reps> <pages> [warmup] [inner]
 *
 * cases: scan-dense scan-alternate scan-thp scan-sparse scan-wp
 *        pagemap-read populate guard
 *
 * Only the operation itself is timed; state an operation changes is rebuilt
 * (untimed) before every repetition. `inner` (scan-thp only, default 1)
 * runs the operation that many times back to back inside one timed sample
 * and reports the sample divided by `inner`: a 1 GiB THP scan takes ~15 us,
 * too short for one clock_gettime pair and one call to weigh under 5 %. Output, one line:
 *   {"case":"...","pages":N,"reps":R,"ns":[...],"result":X, ...}
 * Part of @pagewalk/bench (MIT). UAPI constants are defined here so that the
 * helper builds against old headers too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KB_PAGE 4096ULL
#define KB_HPAGE (2ULL << 20)
#define KB_BASE 0x100000000000ULL /* 16 TiB: 1 GiB aligned, far from libraries and stack */

#define KB_MAP_FIXED_NOREPLACE 0x100000
#define KB_MADV_HUGEPAGE 14
#define KB_MADV_GUARD_INSTALL 102
#define KB_MADV_GUARD_REMOVE 103

struct kb_page_region {
	uint64_t start, end, categories;
};
struct kb_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define KB_PAGEMAP_SCAN _IOWR('f', 16, struct kb_scan_arg)
#define KB_PM_SCAN_WP_MATCHING (1ULL << 0)
#define KB_PM_SCAN_CHECK_WPASYNC (1ULL << 1)
#define KB_PAGE_IS_WPALLOWED (1ULL << 0)
#define KB_PAGE_IS_WRITTEN (1ULL << 1)
#define KB_PAGE_IS_PRESENT (1ULL << 3)
#define KB_PAGE_IS_HUGE (1ULL << 6)

struct kb_uffdio_range {
	uint64_t start, len;
};
struct kb_uffdio_api {
	uint64_t api, features, ioctls;
};
struct kb_uffdio_register {
	struct kb_uffdio_range range;
	uint64_t mode, ioctls;
};
struct kb_uffdio_writeprotect {
	struct kb_uffdio_range range;
	uint64_t mode;
};
#define KB_UFFDIO 0xAA
#define KB_UFFDIO_API _IOWR(KB_UFFDIO, 0x3F, struct kb_uffdio_api)
#define KB_UFFDIO_REGISTER _IOWR(KB_UFFDIO, 0x00, struct kb_uffdio_register)
#define KB_UFFDIO_WRITEPROTECT _IOWR(KB_UFFDIO, 0x06, struct kb_uffdio_writeprotect)
#define KB_UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#define KB_UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#define KB_UFFDIO_REGISTER_MODE_WP 2ULL
#define KB_UFFDIO_WRITEPROTECT_MODE_WP 1ULL

static void die(const char *what)
{
	fprintf(stderr, "kbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static char *map_at(uint64_t bytes, int extra_flags)
{
	void *p = mmap((void *)(uintptr_t)KB_BASE, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | KB_MAP_FIXED_NOREPLACE | extra_flags, -1, 0);
	if (p == MAP_FAILED) die("mmap");
	if ((uint64_t)(uintptr_t)p != KB_BASE) {
		errno = EEXIST;
		die("mmap placed elsewhere (old kernel without MAP_FIXED_NOREPLACE?)");
	}
	return p;
}

/* One write per page, in order: the write-fault path. */
static void touch(char *base, uint64_t pages, uint64_t stride)
{
	for (uint64_t i = 0; i < pages; i += stride) ((volatile char *)base)[i * KB_PAGE] = 1;
}

static int pagemap_fd = -1;
static struct kb_page_region *vec;
static uint64_t vec_cap;

static long scan(char *base, uint64_t bytes, uint64_t flags, uint64_t mask, uint64_t ret_mask, uint64_t *walk_end)
{
	struct kb_scan_arg a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.flags = flags;
	a.start = (uint64_t)(uintptr_t)base;
	a.end = a.start + bytes;
	a.vec = (uint64_t)(uintptr_t)vec;
	a.vec_len = vec_cap;
	a.category_mask = mask;
	a.return_mask = ret_mask;
	long r = ioctl(pagemap_fd, KB_PAGEMAP_SCAN, &a);
	if (r < 0) die("PAGEMAP_SCAN");
	if (walk_end) *walk_end = a.walk_end;
	return r;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: kbench <case> <reps> <pages> [warmup] [inner]\n");
		return 2;
	}
	const char *name = argv[1];
	int reps = atoi(argv[2]);
	uint64_t pages = strtoull(argv[3], NULL, 0);
	int warmup = argc > 4 ? atoi(argv[4]) : 1;
	int inner = argc > 5 ? atoi(argv[5]) : 1;
	if (reps < 1 || reps > 1000 || pages == 0 || inner < 1 || inner > 100000) {
		fprintf(stderr, "kbench: bad arguments\n");
		return 2;
	}
	uint64_t bytes = pages * KB_PAGE;
	uint64_t *ns = calloc((size_t)reps, sizeof(uint64_t));
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0) die("open /proc/self/pagemap");
	vec_cap = pages + 1;
	if (strcmp(name, "scan-sparse") == 0) vec_cap = 4096;
	vec = calloc((size_t)vec_cap, sizeof(*vec));
	if (!vec) die("calloc vec");
	/* fault the result buffer in so the first repetition does not pay for it */
	memset(vec, 0, (size_t)vec_cap * sizeof(*vec));
	long result = 0;
	char extra[256] = "";
	char *base = NULL;
	int total = reps + warmup;

	if (strcmp(name, "scan-dense") == 0 || strcmp(name, "scan-alternate") == 0) {
		base = map_at(bytes, 0);
		touch(base, pages, strcmp(name, "scan-dense") == 0 ? 1 : 2);
		for (int r = 0; r < total; r++) {
			uint64_t t0 = now_ns();
			result = scan(base, bytes, 0, KB_PAGE_IS_PRESENT, KB_PAGE_IS_PRESENT, NULL);
			uint64_t t1 = now_ns();
			if (r >= warmup) ns[r - warmup] = t1 - t0;
		}
	} else if (strcmp(name, "scan-thp") == 0) {
		base = map_at(bytes, 0);
		if (madvise(base, bytes, KB_MADV_HUGEPAGE) != 0) die("madvise(MADV_HUGEPAGE)");
		for (uint64_t off = 0; off < bytes; off += KB_HPAGE) base[off] = 1;
		uint64_t huge = 0;
		for (int r = 0; r < total; r++) {
			uint64_t t0 = now_ns();
			for (int i = 0; i < inner; i++)
				result = scan(base, bytes, 0, KB_PAGE_IS_PRESENT, KB_PAGE_IS_PRESENT | KB_PAGE_IS_HUGE, NULL);
			uint64_t t1 = now_ns();
			if (r >= warmup) ns[r - warmup] = (t1 - t0) / (uint64_t)inner;
		}
		for (long i = 0; i < result; i++)
			if (vec[i].categories & KB_PAGE_IS_HUGE) huge += (vec[i].end - vec[i].start) / KB_PAGE;
		snprintf(extra, sizeof(extra), ",\"huge_pages_4k\":%" PRIu64, huge);
	} else if (strcmp(name, "scan-sparse") == 0) {
		/* `pages` is the size of the range; 1,000 pages spread evenly are populated. */
		base = map_at(bytes, MAP_NORESERVE);
		uint64_t step = pages / 1000;
		for (uint64_t i = 0; i < 1000; i++) base[i * step * KB_PAGE] = 1;
		for (int r = 0; r < total; r++) {
			uint64_t t0 = now_ns();
			result = scan(base, bytes, 0, KB_PAGE_IS_PRESENT, KB_PAGE_IS_PRESENT, NULL);
			uint64_t t1 = now_ns();
			if (r >= warmup) ns[r - warmup] = t1 - t0;
		}
	} else if (strcmp(name, "scan-wp") == 0) {
		base = map_at(bytes, 0);
		touch(base, pages, 1);
		int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		if (uffd < 0) die("userfaultfd");
		struct kb_uffdio_api api = {0xAA, KB_UFFD_FEATURE_WP_ASYNC | KB_UFFD_FEATURE_WP_UNPOPULATED, 0};
		if (ioctl(uffd, KB_UFFDIO_API, &api) != 0) die("UFFDIO_API");
		struct kb_uffdio_register reg = {{(uint64_t)(uintptr_t)base, bytes}, KB_UFFDIO_REGISTER_MODE_WP, 0};
		if (ioctl(uffd, KB_UFFDIO_REGISTER, &reg) != 0) die("UFFDIO_REGISTER");
		struct kb_uffdio_writeprotect wp = {{(uint64_t)(uintptr_t)base, bytes}, KB_UFFDIO_WRITEPROTECT_MODE_WP};
		if (ioctl(uffd, KB_UFFDIO_WRITEPROTECT, &wp) != 0) die("UFFDIO_WRITEPROTECT");
		for (int r = 0; r < total; r++) {
			touch(base, pages, 2); /* every other page written (async: un-protects it) */
			uint64_t t0 = now_ns();
			result = scan(base, bytes, KB_PM_SCAN_WP_MATCHING | KB_PM_SCAN_CHECK_WPASYNC, KB_PAGE_IS_WRITTEN,
				      KB_PAGE_IS_WRITTEN, NULL);
			uint64_t t1 = now_ns();
			if (r >= warmup) ns[r - warmup] = t1 - t0;
		}
		/* after the last scan everything is protected again: a second scan finds nothing */
		long again = scan(base, bytes, 0, KB_PAGE_IS_WRITTEN, KB_PAGE_IS_WRITTEN, NULL);
		snprintf(extra, sizeof(extra), ",\"written_after\":%ld", again);
		close(uffd);
	} else if (strcmp(name, "pagemap-read") == 0) {
		base = map_at(bytes, 0);
		touch(base, pages, 1);
		uint64_t *buf = malloc((size_t)pages * 8);
		if (!buf) die("malloc");
		memset(buf, 0, (size_t)pages * 8);
		off_t off = (off_t)((uint64_t)(uintptr_t)base / KB_PAGE * 8);
		uint64_t present = 0;
		for (int r = 0; r < total; r++) {
			uint64_t t0 = now_ns();
			ssize_t got = pread(pagemap_fd, buf, (size_t)pages * 8, off);
			uint64_t t1 = now_ns();
			if (got != (ssize_t)(pages * 8)) die("pread pagemap");
			result = (long)(got / 8);
			if (r >= warmup) ns[r - warmup] = t1 - t0;
		}
		for (uint64_t i = 0; i < pages; i++) present += buf[i] >> 63;
		snprintf(extra, sizeof(extra), ",\"present\":%" PRIu64, present);
		free(buf);
	} else if (strcmp(name, "populate") == 0) {
		for (int r = 0; r < total; r++) {
			base = map_at(bytes, 0);
			uint64_t t0 = now_ns();
			touch(base, pages, 1);
			uint64_t t1 = now_ns();
			if (r >= warmup) ns[r - warmup] = t1 - t0;
			if (munmap(base, bytes) != 0) die("munmap");
		}
		base = NULL;
		result = (long)pages;
	} else if (strcmp(name, "guard") == 0) {
		uint64_t *install = calloc((size_t)reps, sizeof(uint64_t));
		for (int r = 0; r < total; r++) {
			base = map_at(bytes, 0);
			uint64_t t0 = now_ns();
			if (madvise(base, bytes, KB_MADV_GUARD_INSTALL) != 0) die("madvise(MADV_GUARD_INSTALL)");
			uint64_t t1 = now_ns();
			if (madvise(base, bytes, KB_MADV_GUARD_REMOVE) != 0) die("madvise(MADV_GUARD_REMOVE)");
			uint64_t t2 = now_ns();
			if (r >= warmup) {
				ns[r - warmup] = t2 - t0;
				install[r - warmup] = t1 - t0;
			}
			if (munmap(base, bytes) != 0) die("munmap");
		}
		base = NULL;
		qsort(install, (size_t)reps, sizeof(uint64_t), cmp_u64);
		snprintf(extra, sizeof(extra), ",\"install_median_ns\":%" PRIu64, install[reps / 2]);
		result = (long)pages;
	} else {
		fprintf(stderr, "kbench: unknown case %s\n", name);
		return 2;
	}

	printf("{\"case\":\"%s\",\"pages\":%" PRIu64 ",\"reps\":%d,\"warmup\":%d,\"inner\":%d,\"result\":%ld%s,\"ns\":[", name,
	       pages, reps, warmup, inner, result, extra);
	for (int r = 0; r < reps; r++) printf("%s%" PRIu64, r ? "," : "", ns[r]);
	printf("]}\n");
	if (base) munmap(base, bytes);
	return 0;
}
