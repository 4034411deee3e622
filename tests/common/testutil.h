/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by all Check test programs. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <kvmcore/log.h>

/* Each test program defines these two. */
Suite *test_suite(void);
extern const bool test_needs_kvm;
/* Optional: what else the skip line says (what was not done, such as a
 * build that a skip spares). */
extern const char *const test_skip_note __attribute__((weak));

/*
 * A logger that keeps every message, so that tests can assert that an
 * error was reported, once, naming the right thing.
 */
struct log_capture {
    char text[8192];
    unsigned count;
    struct kc_logger logger;
};

void log_capture_init(struct log_capture *c);
/* True if some captured message contains every one of the given strings. */
bool log_has(const struct log_capture *c, const char *needle);

/*
 * The index of the first byte of p[0..n) that is not v, or n. Check writes
 * every assertion's location to a file in fork mode, so a buffer is checked
 * with one assertion on this, not one per byte:
 *     ck_assert_uint_eq(first_byte_not(p, n, 0), n);
 */
size_t first_byte_not(const void *p, size_t n, uint8_t v);

#endif
