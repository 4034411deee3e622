/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The e820 table writer and the placement bookkeeping the loaders share:
 * where things may go, where they may not, and what is said when they
 * do not fit.
 */
#include <errno.h>
#include <string.h>

#include "loader/layout.h"
#include "loader_fixture.h"

const bool test_needs_kvm = false;

static struct loader_fx fx;
static struct em_layout l;

static void setup(void)
{
    fx_init(&fx, 64 * MIB);
    em_layout_init(&l, &fx.ctx, "test", "/images/x");
}

static void teardown(void)
{
    fx_fini(&fx);
}

static void check_table(uint64_t gpa, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t e = gpa + i * 20;

        ck_assert_uint_eq(fx_rd64(&fx, e), fx.mm.e820[i].addr);
        ck_assert_uint_eq(fx_rd64(&fx, e + 8), fx.mm.e820[i].size);
        ck_assert_uint_eq(fx_rd32(&fx, e + 16), fx.mm.e820[i].type);
    }
}

START_TEST(table_matches_memmap)
{
    ck_assert_int_eq(em_write_e820_table(&fx.ctx, 0x50000, 128), (int)fx.mm.nr_e820);
    ck_assert_uint_eq(fx.cap.count, 0);
    check_table(0x50000, fx.mm.nr_e820);
    ck_assert(fx_all(&fx, 0x50000 + fx.mm.nr_e820 * 20, 20, CANARY));
    ck_assert(fx_all(&fx, 0x50000 - 20, 20, CANARY));
}
END_TEST

START_TEST(table_with_high_ram)
{
    fx_add_high_ram(&fx, 8 * MIB);
    ck_assert_uint_eq(fx.mm.nr_e820, 6);
    ck_assert_int_eq(em_write_e820_table(&fx.ctx, 0x50000, 6), 6);
    check_table(0x50000, 6);
    ck_assert_uint_eq(fx_rd64(&fx, 0x50000 + 5 * 20), EM_HIGH_RAM_BASE);
}
END_TEST

START_TEST(table_too_small)
{
    ck_assert_int_eq(em_write_e820_table(&fx.ctx, 0x50000, 3), -E2BIG);
    fx_expect_error(&fx, (const char *const[]){ "e820", "5 entries", "table of 3", NULL });
    ck_assert(fx_untouched(&fx));
}
END_TEST

START_TEST(table_outside_ram)
{
    ck_assert_int_eq(em_write_e820_table(&fx.ctx, 64 * MIB - 40, 128), -EFAULT);
    fx_expect_error(&fx, (const char *const[]){ "e820 table", "0x3ffffd8", NULL });
    ck_assert(fx_untouched(&fx));
}
END_TEST

START_TEST(memmap_formats)
{
    uint8_t buf[16 * 24];
    int n;

    n = em_memmap_format(&fx.ctx, EM_MEMMAP_HVM, buf, sizeof(buf));
    ck_assert_int_eq(n, 5);
    ck_assert_uint_eq(em_memmap_entry_size(EM_MEMMAP_HVM), 24);
    /* Entry 3: RAM from 1 MiB; the reserved word is zero. */
    ck_assert_mem_eq(buf + 3 * 24, &(uint64_t){ MIB }, 8);
    ck_assert_mem_eq(buf + 3 * 24 + 8, &(uint64_t){ 63 * MIB }, 8);
    ck_assert_mem_eq(buf + 3 * 24 + 16, &(uint32_t){ 1 }, 4);
    ck_assert_mem_eq(buf + 3 * 24 + 20, &(uint32_t){ 0 }, 4);

    n = em_memmap_format(&fx.ctx, EM_MEMMAP_MULTIBOOT, buf, sizeof(buf));
    ck_assert_int_eq(n, 5);
    ck_assert_mem_eq(buf + 3 * 24, &(uint32_t){ 20 }, 4);
    ck_assert_mem_eq(buf + 3 * 24 + 4, &(uint64_t){ MIB }, 8);
    ck_assert_mem_eq(buf + 3 * 24 + 12, &(uint64_t){ 63 * MIB }, 8);
    ck_assert_mem_eq(buf + 3 * 24 + 20, &(uint32_t){ 1 }, 4);
    ck_assert_uint_eq(fx.cap.count, 0);
}
END_TEST

START_TEST(find_high_takes_the_top)
{
    uint64_t a = 0;

    ck_assert(em_layout_find_high(&l, MIB, 4096, MIB, 64 * MIB, &a));
    ck_assert_uint_eq(a, 63 * MIB);
    /* An unaligned size still ends at or below the top. */
    ck_assert(em_layout_find_high(&l, MIB + 1, 4096, MIB, 64 * MIB, &a));
    ck_assert_uint_eq(a, 63 * MIB - 4096);
    /* hi above RAM is clipped to RAM. */
    ck_assert(em_layout_find_high(&l, MIB, 2 * MIB, 0, 1ull << 40, &a));
    ck_assert_uint_eq(a, 62 * MIB);
}
END_TEST

START_TEST(find_high_skips_what_is_taken)
{
    uint64_t a = 0;

    ck_assert_int_eq(em_layout_reserve(&l, 60 * MIB, 4 * MIB, "the top"), 0);
    ck_assert_int_eq(em_layout_reserve(&l, 50 * MIB, 9 * MIB, "the middle"), 0);
    /* [59, 60) MiB is free but too small for 2 MiB: below 50 MiB then. */
    ck_assert(em_layout_find_high(&l, 2 * MIB, 4096, MIB, 64 * MIB, &a));
    ck_assert_uint_eq(a, 48 * MIB);
    ck_assert(em_layout_find_high(&l, MIB, 4096, MIB, 64 * MIB, &a));
    ck_assert_uint_eq(a, 59 * MIB);
    /* Nothing above lo. */
    ck_assert(!em_layout_find_high(&l, 2 * MIB, 4096, 49 * MIB, 64 * MIB, &a));
    /* Low memory: below 640 KiB, clear of the boot areas. */
    ck_assert(em_layout_find_high(&l, 0x8000, 4096, 0, MIB, &a));
    ck_assert_uint_eq(a, 0x97000);
    ck_assert(!em_layout_find_high(&l, 0x80000, 4096, 0, MIB, &a));
    ck_assert(!em_layout_find_high(&l, 0, 4096, 0, MIB, &a));
    ck_assert(!em_layout_find_high(&l, 4096, 3000, 0, MIB, &a));
    ck_assert_uint_eq(fx.cap.count, 0);
}
END_TEST

START_TEST(fits)
{
    ck_assert(em_layout_fits(&l, MIB, MIB));
    ck_assert(em_layout_fits(&l, 0x8000, 0x1000));   /* between info and page tables */
    ck_assert(!em_layout_fits(&l, 0x7000, 0x2000));  /* into the boot information */
    ck_assert(!em_layout_fits(&l, 0x9f000, 0x1000)); /* into the EBDA */
    ck_assert(!em_layout_fits(&l, 63 * MIB, 2 * MIB));
    ck_assert(!em_layout_fits(&l, ~0ull - 10, 100));
    ck_assert(!em_layout_fits(&l, MIB, 0));
    ck_assert_uint_eq(fx.cap.count, 0);
}
END_TEST

START_TEST(reserve_errors)
{
    ck_assert_int_eq(em_layout_reserve(&l, ~0ull - 0xfff, 0x2000, "a wrapper"), -EINVAL);
    fx_expect_error(&fx, (const char *const[]){ "test /images/x: a wrapper", "wraps", NULL });

    log_capture_init(&fx.cap);
    ck_assert_int_eq(em_layout_reserve(&l, 0x20800, 0x100, "a thing"), -EINVAL);
    fx_expect_error(&fx, (const char *const[]){ "a thing [0x20800, 0x20900) overlaps the command "
                                                "line [0x20000, 0x30000)",
                                                NULL });

    log_capture_init(&fx.cap);
    ck_assert_int_eq(em_layout_reserve(&l, 0xe0000, 0x100, "a table"), -EINVAL);
    fx_expect_error(&fx, (const char *const[]){ "a table [0xe0000, 0xe0100) is not inside usable "
                                                "guest RAM",
                                                NULL });

    ck_assert_int_eq(em_layout_reserve(&l, 2 * MIB, 0, "nothing"), 0);
    ck_assert_int_eq(em_layout_reserve(&l, 2 * MIB, MIB, "first"), 0);
    log_capture_init(&fx.cap);
    ck_assert_int_eq(em_layout_reserve(&l, 3 * MIB - 1, 2, "second"), -EINVAL);
    fx_expect_error(&fx,
                    (const char *const[]){ "second", "overlaps first [0x200000, 0x300000)", NULL });
    ck_assert(fx_untouched(&fx));
}
END_TEST

/* The map says RAM where no memory backs it: refused, not written. */
START_TEST(reserve_unbacked)
{
    fx.mm.e820[3].size = 127 * MIB; /* claims 128 MiB; 64 are there */
    ck_assert(!em_layout_fits(&l, 100 * MIB, MIB));
    ck_assert_int_eq(em_layout_reserve(&l, 100 * MIB, MIB, "a blob"), -EFAULT);
    fx_expect_error(&fx, (const char *const[]){ "a blob", "not backed by guest memory", NULL });
}
END_TEST

START_TEST(reserve_until_full)
{
    int ret = 0;
    unsigned taken = 0;

    for (unsigned i = 0; i < EM_LAYOUT_MAX + 1 && ret == 0; i++) {
        ret = em_layout_reserve(&l, MIB + i * 4096, 4096, "a page");
        taken += ret == 0;
    }
    ck_assert_int_eq(ret, -ENOSPC);
    ck_assert_uint_eq(taken, EM_LAYOUT_MAX - 4); /* four boot areas to start with */
    fx_expect_error(&fx, (const char *const[]){ "more than 32 ranges", NULL });
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("loader_e820");
    TCase *tc = tcase_create("e820");
    TCase *lay = tcase_create("layout");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, table_matches_memmap);
    tcase_add_test(tc, table_with_high_ram);
    tcase_add_test(tc, table_too_small);
    tcase_add_test(tc, table_outside_ram);
    tcase_add_test(tc, memmap_formats);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(lay, setup, teardown);
    tcase_add_test(lay, find_high_takes_the_top);
    tcase_add_test(lay, find_high_skips_what_is_taken);
    tcase_add_test(lay, fits);
    tcase_add_test(lay, reserve_errors);
    tcase_add_test(lay, reserve_unbacked);
    tcase_add_test(lay, reserve_until_full);
    suite_add_tcase(s, lay);
    return s;
}
