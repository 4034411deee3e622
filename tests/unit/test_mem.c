/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc_mem without a VM: region bookkeeping and the checked accessors, at
 * every edge a device model could get wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

/* ---- fixture ---- */

/*
 * The layout most tests use:
 *   low  [0x00000, 0x10000)
 *   mid  [0x10000, 0x14000)   adjacent to low
 *   hole [0x14000, 0x20000)
 *   high [0x20000, 0x22000)   followed by a hole
 *   rom  [0x30000, 0x31000)   read-only, after ram2 [0x2f000, 0x30000)
 */
static struct log_capture cap;
static struct kc_mem *mem;
static struct kc_region *low, *mid, *high, *ram2, *rom;

static struct kc_region *add(uint64_t gpa, uint64_t size, unsigned flags, const char *name)
{
    struct kc_region *r = kc_mem_add_ram(mem, gpa, size, flags, name);

    ck_assert_msg(r != NULL, "adding '%s' at 0x%llx failed: %s", name, (unsigned long long)gpa,
                  cap.text);
    return r;
}

static void setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(mem);
    low = add(0x00000, 0x10000, 0, "low");
    mid = add(0x10000, 0x4000, 0, "mid");
    high = add(0x20000, 0x2000, 0, "high");
    ram2 = add(0x2f000, 0x1000, 0, "ram2");
    rom = add(0x30000, 0x1000, KC_REGION_READONLY, "rom");
    ck_assert_uint_eq(cap.count, 0);
}

static void teardown(void)
{
    kc_mem_destroy(mem);
    mem = NULL;
}

/* Host byte at gpa, through the region's own mapping (not the accessors). */
static uint8_t *host_byte(struct kc_region *r, uint64_t gpa)
{
    return (uint8_t *)kc_region_host(r) + (gpa - kc_region_gpa(r));
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

/* ---- kc_mem_ptr ---- */

START_TEST(test_ptr_edges)
{
    uint8_t *h = kc_region_host(high);

    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x20000, 1), h);
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x21fff, 1), h + 0x1fff);
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x22000, 1));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x1ffff, 1));
    /* Exactly up to the end, and one byte more. */
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x20000, 0x2000), h);
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x21000, 0x1000), h + 0x1000);
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x20000, 0x2001));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x21fff, 2));
    ck_assert_msg(kc_mem_ptr(mem, 0x20000, 0) == NULL, "len 0 must give NULL");
    ck_assert_ptr_null(kc_mem_ptr_rw(mem, 0x20000, 0));
    /* Address 0 is ordinary RAM. */
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0, 0x10000), kc_region_host(low));
    /* One past the end of low is the first byte of mid: another region. */
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x10000, 1), kc_region_host(mid));
}
END_TEST

START_TEST(test_ptr_wrap)
{
    ck_assert_ptr_null(kc_mem_ptr(mem, UINT64_MAX - 10, 100));
    ck_assert_ptr_null(kc_mem_ptr(mem, UINT64_MAX, 1));
    /* Starts inside RAM, and len would take gpa + len around 2^64. */
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x21ff0, UINT64_MAX));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x20000, UINT64_MAX));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x21fff, UINT64_MAX - 0x21ffe));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0, UINT64_MAX));
    ck_assert_ptr_null(kc_mem_ptr_rw(mem, 0x21ff0, UINT64_MAX));
}
END_TEST

START_TEST(test_holes)
{
    ck_assert_ptr_null(kc_mem_find(mem, 0x14000));
    ck_assert_ptr_null(kc_mem_find(mem, 0x1ffff));
    ck_assert_ptr_null(kc_mem_find(mem, 0x22000));
    ck_assert_ptr_null(kc_mem_find(mem, UINT64_MAX));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x14000, 1));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x18000, 0x100));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x13fff, 2));
}
END_TEST

/* ---- kc_mem_read / kc_mem_write ---- */

START_TEST(test_span_adjacent)
{
    uint8_t src[0x20], dst[0x20];

    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(0x80 + i);
    ck_assert_ptr_null(kc_mem_ptr(mem, 0xfff0, 0x20));
    ck_assert_int_eq(kc_mem_write(mem, 0xfff0, src, sizeof(src)), 0);
    /* Half landed in each region. */
    ck_assert_mem_eq(host_byte(low, 0xfff0), src, 0x10);
    ck_assert_mem_eq(host_byte(mid, 0x10000), src + 0x10, 0x10);
    memset(dst, 0, sizeof(dst));
    ck_assert_int_eq(kc_mem_read(mem, 0xfff0, dst, sizeof(dst)), 0);
    ck_assert_mem_eq(dst, src, sizeof(src));

    /* ram2 -> rom is adjacent too: reading across works. */
    *host_byte(ram2, 0x2ffff) = 0x11;
    *host_byte(rom, 0x30000) = 0x22;
    ck_assert_int_eq(kc_mem_read(mem, 0x2ffff, dst, 2), 0);
    ck_assert_uint_eq(dst[0], 0x11);
    ck_assert_uint_eq(dst[1], 0x22);
}
END_TEST

START_TEST(test_hole_copies_nothing)
{
    static const struct {
        uint64_t gpa, len;
    } cases[] = {
        { 0x13ff0, 0x20 },        /* runs off the end of mid into the hole */
        { 0x1fff0, 0x20 },        /* starts in the hole, ends in high */
        { 0xfff0, 0x4020 },       /* low, all of mid, then the hole */
        { 0x21fff, 2 },           /* last byte of high and one past */
        { UINT64_MAX - 10, 100 }, /* wraps around 2^64 */
        { 0x21ff0, UINT64_MAX },  /* inside high, then wraps */
    };
    /* Big enough for every finite case, so a partial copy would show up
     * as changed bytes rather than as a stack overrun. */
    static uint8_t buf[0x8000], src[0x8000];

    memset(src, 0xcc, sizeof(src));
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(cases); i++) {
        memset(buf, 0xaa, sizeof(buf));
        memset(host_byte(low, 0xfff0), 0x55, 0x10);
        memset(host_byte(mid, 0x13ff0), 0x55, 0x10);
        memset(host_byte(high, 0x20000), 0x55, 0x10);
        memset(host_byte(high, 0x21ff0), 0x55, 0x10);

        /* The huge length must be refused before any byte moves. */
        ck_assert_msg(kc_mem_read(mem, cases[i].gpa, buf, cases[i].len) == -EFAULT,
                      "read 0x%llx+0x%llx should be -EFAULT", (unsigned long long)cases[i].gpa,
                      (unsigned long long)cases[i].len);
        ck_assert_msg(all_bytes(buf, sizeof(buf), 0xaa), "a failed read changed the buffer");
        if (cases[i].len > sizeof(src))
            continue;
        ck_assert_int_eq(kc_mem_write(mem, cases[i].gpa, src, cases[i].len), -EFAULT);
        ck_assert_msg(all_bytes(host_byte(low, 0xfff0), 0x10, 0x55) &&
                          all_bytes(host_byte(mid, 0x13ff0), 0x10, 0x55) &&
                          all_bytes(host_byte(high, 0x20000), 0x10, 0x55) &&
                          all_bytes(host_byte(high, 0x21ff0), 0x10, 0x55),
                      "a failed write to 0x%llx changed guest memory",
                      (unsigned long long)cases[i].gpa);
    }
}
END_TEST

START_TEST(test_zero_length_copy)
{
    uint8_t b = 0x77;

    ck_assert_int_eq(kc_mem_read(mem, 0x100, &b, 0), 0);
    ck_assert_int_eq(kc_mem_write(mem, 0x100, &b, 0), 0);
    ck_assert_uint_eq(b, 0x77);
    ck_assert_uint_eq(*host_byte(low, 0x100), 0);
}
END_TEST

START_TEST(test_readonly)
{
    uint8_t src[0x20], dst[0x20];

    memset(src, 0xee, sizeof(src));
    ck_assert_uint_eq(kc_region_flags(rom), KC_REGION_READONLY);
    ck_assert_ptr_eq(kc_mem_ptr(mem, 0x30000, 0x1000), kc_region_host(rom));
    ck_assert_ptr_null(kc_mem_ptr_rw(mem, 0x30000, 1));
    ck_assert_ptr_null(kc_mem_ptr_rw(mem, 0x30fff, 1));
    ck_assert_ptr_eq(kc_mem_ptr_rw(mem, 0x2f000, 0x1000), kc_region_host(ram2));

    /* A loader fills ROM through kc_mem_ptr(); the guest side reads it. */
    memcpy(kc_mem_ptr(mem, 0x30100, 4), "\x90\x90\xeb\xfe", 4);
    ck_assert_int_eq(kc_mem_read(mem, 0x30100, dst, 4), 0);
    ck_assert_mem_eq(dst, "\x90\x90\xeb\xfe", 4);

    ck_assert_int_eq(kc_mem_write(mem, 0x30100, src, 4), -EFAULT);
    ck_assert_mem_eq(host_byte(rom, 0x30100), "\x90\x90\xeb\xfe", 4);
    /* Writable bytes first, then ROM: nothing is written at all. */
    ck_assert_int_eq(kc_mem_write(mem, 0x2fff0, src, sizeof(src)), -EFAULT);
    ck_assert_msg(all_bytes(host_byte(ram2, 0x2fff0), 0x10, 0),
                  "a write refused by ROM modified the RAM before it");
}
END_TEST

START_TEST(test_reads_zero)
{
    struct kc_region *big = add(0x1000000, 4 * MIB, 0, "big");
    static uint8_t buf[4 * MIB];

    memset(buf, 0xff, sizeof(buf));
    ck_assert_int_eq(kc_mem_read(mem, 0x1000000, buf, sizeof(buf)), 0);
    ck_assert_msg(all_bytes(buf, sizeof(buf), 0), "new RAM must read as zero");
    ck_assert_msg(all_bytes(kc_region_host(big), kc_region_size(big), 0),
                  "new RAM must be zero in the host mapping");
}
END_TEST

/* ---- regions ---- */

START_TEST(test_memfd_contents)
{
    static const char msg[] = "hello through the memfd";
    int fd = kc_region_fd(high);
    char path[64], target[PATH_MAX], back[sizeof(msg)];
    struct stat st;
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, target, sizeof(target) - 1);
    ck_assert_int_gt(n, 0);
    target[n] = '\0';
    ck_assert_msg(strncmp(target, "/memfd:high", 11) == 0, "fd %d is %s, not the memfd 'high'", fd,
                  target);
    ck_assert_int_eq(fstat(fd, &st), 0);
    ck_assert_int_eq(st.st_size, 0x2000);

    /* Guest writes are visible through the fd... */
    ck_assert_int_eq(kc_mem_write(mem, 0x21fe0, msg, sizeof(msg)), 0);
    ck_assert_int_eq(pread(fd, back, sizeof(back), 0x1fe0), (ssize_t)sizeof(msg));
    ck_assert_str_eq(back, msg);
    /* ...and writes to the fd are guest memory. */
    ck_assert_int_eq(pwrite(fd, "XY", 2, 0x10), 2);
    ck_assert_int_eq(kc_mem_read(mem, 0x20010, back, 2), 0);
    ck_assert_mem_eq(back, "XY", 2);
    /* Each region has its own memfd. */
    ck_assert_int_ne(kc_region_fd(low), fd);
}
END_TEST

START_TEST(test_find_and_iterate)
{
    struct kc_region *all[] = { low, mid, high, ram2, rom };
    bool seen[KCI_ARRAY_SIZE(all)] = { false };

    ck_assert_uint_eq(kc_mem_region_count(mem), 5);
    for (unsigned i = 0; i < 5; i++) {
        struct kc_region *r = kc_mem_region_at(mem, i);
        unsigned k;

        for (k = 0; k < KCI_ARRAY_SIZE(all) && all[k] != r; k++)
            ;
        ck_assert_msg(k < KCI_ARRAY_SIZE(all), "region_at(%u) is not one of the added", i);
        ck_assert_msg(!seen[k], "region_at returned '%s' twice", kc_region_name(r));
        seen[k] = true;
    }
    ck_assert_ptr_null(kc_mem_region_at(mem, 5));
    ck_assert_ptr_null(kc_mem_region_at(mem, UINT_MAX));

    ck_assert_ptr_eq(kc_mem_find(mem, 0), low);
    ck_assert_ptr_eq(kc_mem_find(mem, 0xffff), low);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x10000), mid);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x13fff), mid);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x21fff), high);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x30000), rom);

    ck_assert_uint_eq(kc_region_gpa(mid), 0x10000);
    ck_assert_uint_eq(kc_region_size(mid), 0x4000);
    ck_assert_str_eq(kc_region_name(mid), "mid");
    ck_assert_uint_eq(kc_region_flags(mid), 0);
    ck_assert_int_eq(kc_region_slot(mid), -1);
    ck_assert_ptr_nonnull(kc_region_host(mid));
}
END_TEST

START_TEST(test_remove)
{
    int fd = kc_region_fd(mid);
    uint8_t b;

    kc_mem_remove(mem, mid);
    ck_assert_uint_eq(kc_mem_region_count(mem), 4);
    ck_assert_ptr_null(kc_mem_find(mem, 0x10000));
    ck_assert_ptr_null(kc_mem_ptr(mem, 0x10000, 1));
    ck_assert_int_eq(kc_mem_read(mem, 0x10000, &b, 1), -EFAULT);
    ck_assert_int_eq(kc_mem_read(mem, 0xffff, &b, 2), -EFAULT);
    ck_assert_msg(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "the memfd should be closed");
    /* The others are untouched. */
    ck_assert_ptr_eq(kc_mem_find(mem, 0xffff), low);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x20000), high);
    ck_assert_ptr_eq(kc_mem_find(mem, 0x30000), rom);
    for (unsigned i = 0; i < kc_mem_region_count(mem); i++)
        ck_assert_ptr_ne(kc_mem_region_at(mem, i), mid);

    /* NULL is ignored; the space can be reused. */
    kc_mem_remove(mem, NULL);
    ck_assert_uint_eq(kc_mem_region_count(mem), 4);
    mid = add(0x10000, 0x4000, 0, "mid2");
    ck_assert_ptr_eq(kc_mem_find(mem, 0x12000), mid);
    ck_assert_uint_eq(*host_byte(mid, 0x12000), 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(test_overlap_refused)
{
    static const struct {
        uint64_t gpa, size;
    } bad[] = {
        { 0x20000, 0x2000 },  /* exact */
        { 0x1f000, 0x2000 },  /* partial at the start */
        { 0x21000, 0x2000 },  /* partial at the end */
        { 0x21000, 0x1000 },  /* contained */
        { 0x18000, 0x10000 }, /* containing */
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(bad); i++) {
        log_capture_init(&cap);
        /* The logger was copied at create: rebind it to this capture. */
        ck_assert_msg(kc_mem_add_ram(mem, bad[i].gpa, bad[i].size, 0, "new") == NULL,
                      "[0x%llx +0x%llx) overlaps 'high' and must be refused",
                      (unsigned long long)bad[i].gpa, (unsigned long long)bad[i].size);
        ck_assert_msg(cap.count == 1 && log_has(&cap, "'new'") && log_has(&cap, "'high'") &&
                          log_has(&cap, "overlaps"),
                      "one message naming both regions expected: %s", cap.text);
    }
    ck_assert_uint_eq(kc_mem_region_count(mem), 5);
    /* Filling the holes exactly is fine. */
    add(0x14000, 0xc000, 0, "fill1");
    add(0x22000, 0xd000, 0, "fill2");
    ck_assert_uint_eq(kc_mem_region_count(mem), 7);
}
END_TEST

START_TEST(test_bad_geometry)
{
    static const struct {
        uint64_t gpa, size;
        unsigned flags;
        const char *why;
    } bad[] = {
        { 0x100800, 0x1000, 0, "unaligned gpa" },
        { 0x100000, 0x800, 0, "unaligned size" },
        { 0x100000, 0x1001, 0, "size not a page multiple" },
        { 0x100000, 0, 0, "size 0" },
        { 0x100000, 0x1000, KC_REGION_HUGETLB, "hugetlb with 4 KiB" },
        { 0x100000, 3 * MIB, KC_REGION_HUGETLB, "hugetlb with 3 MiB" },
        { 0x101000, 2 * MIB, KC_REGION_HUGETLB, "hugetlb at 4 KiB-aligned gpa" },
        { 0xfffffffffffff000ull, 0x2000, 0, "wraps" },
        { 0x100000, 0x1000, 1u << 7, "unknown flag" },
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(bad); i++) {
        log_capture_init(&cap);
        ck_assert_msg(kc_mem_add_ram(mem, bad[i].gpa, bad[i].size, bad[i].flags, "bad") == NULL,
                      "%s must be refused", bad[i].why);
        ck_assert_msg(cap.count == 1 && log_has(&cap, "'bad'"),
                      "%s: one message naming the region expected: %s", bad[i].why, cap.text);
    }
    log_capture_init(&cap);
    kc_mem_add_ram(mem, 0x100000, 0x1000, KC_REGION_HUGETLB, "huge");
    ck_assert_msg(log_has(&cap, "0x200000"), "should state the 2 MiB alignment: %s", cap.text);
    ck_assert_uint_eq(kc_mem_region_count(mem), 5);
}
END_TEST

/* Free 2 MiB huge pages, from /proc/meminfo; 0 if the default huge page
 * size is another (MFD_HUGETLB uses the default size). */
static long free_2m_huge_pages(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    long free_pages = 0, size_kb = 0;
    char line[128];

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "HugePages_Free: %ld", &free_pages);
        sscanf(line, "Hugepagesize: %ld kB", &size_kb);
    }
    fclose(f);
    return size_kb == 2048 ? free_pages : 0;
}

/*
 * With huge pages available a HUGETLB region works; without, it fails and
 * the message says what to fix (mem.c adds the nr_hugepages hint).
 */
START_TEST(test_hugetlb_failure_names_fix)
{
    struct kc_region *r;

    log_capture_init(&cap);
    r = kc_mem_add_ram(mem, 0x40000000, 2 * MIB, KC_REGION_HUGETLB, "huge");
    if (free_2m_huge_pages() > 0) {
        ck_assert_msg(r != NULL, "huge pages are free, yet: %s", cap.text);
        ck_assert_uint_eq(kc_region_flags(r), KC_REGION_HUGETLB);
        ck_assert_ptr_eq(kc_mem_ptr(mem, 0x40000000, 2 * MIB), kc_region_host(r));
    } else {
        ck_assert_msg(r == NULL, "no free huge pages, yet the region was created");
        ck_assert_msg(cap.count == 1 && log_has(&cap, "'huge'") && log_has(&cap, "nr_hugepages"),
                      "want one message naming the region and /proc/sys/vm/nr_hugepages, got: %s",
                      cap.text);
    }
}
END_TEST

START_TEST(test_region_limit)
{
    /* 5 regions exist; fill the table. */
    for (unsigned i = 5; i < KC_MEM_MAX_REGIONS; i++)
        add(0x1000000 + i * 0x1000ull, 0x1000, 0, "many");
    ck_assert_uint_eq(kc_mem_region_count(mem), KC_MEM_MAX_REGIONS);
    ck_assert_ptr_null(kc_mem_add_ram(mem, 0x2000000, 0x1000, 0, "one-too-many"));
    ck_assert_msg(log_has(&cap, "'one-too-many'"), "got: %s", cap.text);
    ck_assert_uint_eq(kc_mem_region_count(mem), KC_MEM_MAX_REGIONS);
    /* The last one added works. */
    ck_assert_ptr_nonnull(kc_mem_ptr(mem, 0x1000000 + (KC_MEM_MAX_REGIONS - 1) * 0x1000ull, 1));
}
END_TEST

START_TEST(test_destroy_closes)
{
    int fd = kc_region_fd(low);

    ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
    kc_mem_destroy(mem);
    mem = NULL;
    ck_assert_msg(fcntl(fd, F_GETFD) == -1 && errno == EBADF,
                  "kc_mem_destroy must close the region memfds");
    /* Safe, like free(NULL); teardown does it again. */
    kc_mem_destroy(NULL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *access = tcase_create("access");
    TCase *regions = tcase_create("regions");

    tcase_add_checked_fixture(access, setup, teardown);
    tcase_add_test(access, test_ptr_edges);
    tcase_add_test(access, test_ptr_wrap);
    tcase_add_test(access, test_holes);
    tcase_add_test(access, test_span_adjacent);
    tcase_add_test(access, test_hole_copies_nothing);
    tcase_add_test(access, test_zero_length_copy);
    tcase_add_test(access, test_readonly);
    tcase_add_test(access, test_reads_zero);
    suite_add_tcase(s, access);

    tcase_add_checked_fixture(regions, setup, teardown);
    tcase_add_test(regions, test_memfd_contents);
    tcase_add_test(regions, test_find_and_iterate);
    tcase_add_test(regions, test_remove);
    tcase_add_test(regions, test_overlap_refused);
    tcase_add_test(regions, test_bad_geometry);
    tcase_add_test(regions, test_hugetlb_failure_names_fix);
    tcase_add_test(regions, test_region_limit);
    tcase_add_test(regions, test_destroy_closes);
    suite_add_tcase(s, regions);
    return s;
}

const bool test_needs_kvm = false;
