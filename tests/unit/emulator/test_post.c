/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The POST code port: the latch, the first 64 codes kept and marked on
 * the timeline, the rest counted and summarised once, and the port taken
 * by someone else reported as an error.
 */
#include <errno.h>

#include "dev/post.h"
#include "devices.h"
#include "fake_machine.h"

static struct log_capture cap;
static struct em_machine *m;
static struct em_post *post;

static void setup(void)
{
    log_capture_init(&cap);
    m = fake_machine_create(128ull << 20, 1, &cap);
    ck_assert_int_eq(em_post_create(m), 0);
    post = em_machine_device(m, "post");
    ck_assert_ptr_nonnull(post);
}

static void teardown(void)
{
    fake_machine_free(m);
    m = NULL;
}

START_TEST(reads_return_the_last_write)
{
    ck_assert_uint_eq(fake_inb(m, EM_POST_PORT), 0xff);
    fake_outb(m, EM_POST_PORT, 0x12);
    ck_assert_uint_eq(fake_inb(m, EM_POST_PORT), 0x12);
    fake_outb(m, EM_POST_PORT, 0x00);
    ck_assert_uint_eq(fake_inb(m, EM_POST_PORT), 0x00);
    ck_assert_uint_eq(fake_timeline_count(m, "POST 0x12"), 1);
    ck_assert_uint_eq(fake_timeline_count(m, "POST 0x00"), 1);
}
END_TEST

START_TEST(first_64_kept_rest_counted)
{
    uint8_t codes[100];
    unsigned n;

    for (unsigned i = 0; i < 70; i++)
        fake_outb(m, EM_POST_PORT, (uint8_t)(i + 1));
    ck_assert_uint_eq(em_post_count(post), 70);
    n = em_post_codes(post, codes, sizeof(codes));
    ck_assert_uint_eq(n, EM_POST_MAX_CODES);
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_eq(codes[i], i + 1);
    ck_assert_uint_eq(fake_timeline_count(m, "POST 0x"), EM_POST_MAX_CODES);
    ck_assert_uint_eq(fake_timeline_count(m, "POST 0x41"), 0); /* write 65 not marked */
    ck_assert_uint_eq(fake_inb(m, EM_POST_PORT), 70);          /* the latch still follows */
    /* The summary comes once, when the machine ends. */
    ck_assert_uint_eq(fake_timeline_count(m, "more writes"), 0);
    fake_machine_finish(m);
    ck_assert_uint_eq(fake_timeline_count(m, "post: 6 more writes"), 1);
}
END_TEST

START_TEST(exactly_64_needs_no_summary)
{
    for (unsigned i = 0; i < EM_POST_MAX_CODES; i++)
        fake_outb(m, EM_POST_PORT, 0x55);
    fake_machine_finish(m);
    ck_assert_uint_eq(fake_timeline_count(m, "POST 0x55"), EM_POST_MAX_CODES);
    ck_assert_uint_eq(fake_timeline_count(m, "more writes"), 0);
}
END_TEST

START_TEST(codes_copy_respects_max)
{
    uint8_t codes[3] = { 0, 0, 0xee };

    fake_outb(m, EM_POST_PORT, 0xa1);
    fake_outb(m, EM_POST_PORT, 0xa2);
    fake_outb(m, EM_POST_PORT, 0xa3);
    ck_assert_uint_eq(em_post_codes(post, codes, 2), 2);
    ck_assert_uint_eq(codes[0], 0xa1);
    ck_assert_uint_eq(codes[1], 0xa2);
    ck_assert_uint_eq(codes[2], 0xee); /* untouched */
    ck_assert_uint_eq(em_post_codes(post, codes, 0), 0);
}
END_TEST

START_TEST(reset_clears_latch_keeps_history)
{
    uint8_t code;

    fake_outb(m, EM_POST_PORT, 0x42);
    fake_machine_reset(m);
    ck_assert_uint_eq(fake_inb(m, EM_POST_PORT), 0xff);
    ck_assert_uint_eq(em_post_codes(post, &code, 1), 1);
    ck_assert_uint_eq(code, 0x42);
    ck_assert_uint_eq(em_post_count(post), 1);
}
END_TEST

static uint64_t other_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0x5a;
}

static const struct kc_io_ops other_ops = { .read = other_read };

START_TEST(port_taken_is_an_error)
{
    struct log_capture c2;
    struct em_machine *m2;

    log_capture_init(&c2);
    m2 = fake_machine_create(128ull << 20, 1, &c2);
    ck_assert_int_eq(kc_bus_register(fake_pio(m2), EM_POST_PORT, 1, &other_ops, NULL, "squatter"),
                     0);
    ck_assert_int_eq(em_post_create(m2), -EEXIST);
    ck_assert_uint_eq(c2.count, 1);
    ck_assert(log_has(&c2, "'post'") && log_has(&c2, "'squatter'"));
    /* The other device keeps its port. */
    ck_assert_uint_eq(fake_inb(m2, EM_POST_PORT), 0x5a);
    fake_machine_free(m2); /* frees the half-made device: ASan checks */
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_post");
    TCase *tc = tcase_create("post");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reads_return_the_last_write);
    tcase_add_test(tc, first_64_kept_rest_counted);
    tcase_add_test(tc, exactly_64_needs_no_summary);
    tcase_add_test(tc, codes_copy_respects_max);
    tcase_add_test(tc, reset_clears_latch_keeps_history);
    tcase_add_test(tc, port_taken_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
