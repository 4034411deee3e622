/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dirty page logging reports exactly the pages the guest wrote. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

const bool test_needs_kvm = true;

#define REGION_GPA  0x1000000ull
#define REGION_SIZE (1ull << 20)
#define PAGES       (REGION_SIZE / 4096)

static struct kc_region *add_logged_region(struct kt_vm *t)
{
    struct kc_region *r = kc_vm_add_ram(t->vm, REGION_GPA, REGION_SIZE, 0, "dirty");

    ck_assert_msg(r, "%s", t->log.text);
    ck_assert_uint_eq(kc_vm_dirty_log_words(r), PAGES / 64);
    ck_assert_int_eq(kc_vm_dirty_log_enable(t->vm, r, true), 0);
    return r;
}

/* Hands the guest its page list through the mailbox. */
static void set_pages(struct kt_vm *t, const uint64_t *pages, unsigned n)
{
    uint64_t count = n;

    ck_assert_int_eq(kc_mem_write(kc_vm_mem(t->vm), KT_MAILBOX, &count, 8), 0);
    ck_assert_int_eq(kc_mem_write(kc_vm_mem(t->vm), KT_MAILBOX + 8, pages, n * 8ull), 0);
}

static void expect_exactly(const uint64_t *bitmap, const uint64_t *pages, unsigned n)
{
    uint64_t want[PAGES / 64];

    memset(want, 0, sizeof(want));
    for (unsigned i = 0; i < n; i++)
        want[pages[i] / 64] |= 1ull << (pages[i] % 64);
    for (unsigned w = 0; w < PAGES / 64; w++)
        ck_assert_msg(bitmap[w] == want[w],
                      "bitmap word %u (pages %u-%u): 0x%016llx, want 0x%016llx", w, w * 64,
                      w * 64 + 63, (unsigned long long)bitmap[w], (unsigned long long)want[w]);
}

static void run_guest(struct kt_vm *t)
{
    kt_setup(t, 0, KT_LONG);
    ck_assert_int_eq(kt_run(t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(t->exit_code[0], 0);
}

START_TEST(reports_exactly_the_written_pages)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    /* Edges of bitmap words and of the region, and a few in between. */
    static const uint64_t pages[] = { 0, 1, 7, 63, 64, 65, 127, 128, 200, 254, 255 };
    static const uint64_t again[] = { 3, 100 };
    uint64_t bitmap[PAGES / 64], host_word = 0x1234;
    struct kc_region *r;

    kt_load(t, "dirty", KT_IMAGE);
    r = add_logged_region(t);
    /* A host write is not the guest's, and is not logged. */
    ck_assert_int_eq(kc_mem_write(kc_vm_mem(t->vm), REGION_GPA + 50 * 4096, &host_word, 8), 0);
    set_pages(t, pages, sizeof(pages) / sizeof(pages[0]));
    run_guest(t);
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64), 0);
    expect_exactly(bitmap, pages, sizeof(pages) / sizeof(pages[0]));
    ck_assert_uint_eq(kt_peek64(t, REGION_GPA + 200 * 4096 + (200 * 8) % 4096), 0x5a5a0000 + 200);

    /* Fetching cleared the log. */
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64), 0);
    expect_exactly(bitmap, NULL, 0);

    /* A second run logs only its own pages. */
    set_pages(t, again, 2);
    t->exit_code[0] = -1;
    run_guest(t);
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64), 0);
    expect_exactly(bitmap, again, 2);
    kt_vm_free(t);
}
END_TEST

START_TEST(misuse_is_refused)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct kc_region *r = kc_vm_add_ram(t->vm, REGION_GPA, REGION_SIZE, 0, "dirty");
    uint64_t bitmap[PAGES / 64];

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64), -EINVAL);
    ck_assert_msg(log_has(&t->log, "RAM region 'dirty': dirty logging is not enabled"), "%s",
                  t->log.text);
    ck_assert_int_eq(kc_vm_dirty_log_enable(t->vm, r, true), 0);
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64 - 1), -EINVAL);
    ck_assert_msg(log_has(&t->log, "dirty bitmap needs 4 words, got 3"), "%s", t->log.text);
    ck_assert_int_eq(kc_vm_dirty_log_enable(t->vm, r, false), 0);
    ck_assert_int_eq(kc_vm_dirty_log_fetch(t->vm, r, bitmap, PAGES / 64), -EINVAL);
    kt_vm_free(t);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kvm-dirty");
    TCase *tc = tcase_create("dirty");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reports_exactly_the_written_pages);
    tcase_add_test(tc, misuse_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
