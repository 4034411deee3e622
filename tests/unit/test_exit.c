/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kc_exit_describe and kc_exit_type_name on hand-built exits. */
#include <stdint.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"
#include "testutil.h"

#define CANARY 0xa5

/* The description of e in a roomy buffer. */
static const char *describe(const struct kc_exit *e)
{
    static char buf[512];

    ck_assert_ptr_eq(kc_exit_describe(e, buf, sizeof(buf)), buf);
    return buf;
}

static void assert_describes(const struct kc_exit *e, const char *want)
{
    const char *got = describe(e);

    ck_assert_msg(strcmp(got, want) == 0, "want \"%s\", got \"%s\"", want, got);
}

static struct kc_exit internal_exit(void)
{
    struct kc_exit e;

    memset(&e, 0, sizeof(e));
    e.type = KC_EXIT_INTERNAL_ERROR;
    e.reason = KVM_EXIT_INTERNAL_ERROR;
    e.internal.suberror = KC_INTERNAL_EMULATION;
    e.internal.rip = 0x1003;
    e.internal.rip_valid = true;
    e.internal.insn_len = 2;
    e.internal.insn[0] = 0xcc;
    e.internal.insn[1] = 0xf4;
    return e;
}

/* ---- internal errors ---- */

START_TEST(test_internal_rip_and_bytes)
{
    struct kc_exit e = internal_exit();

    assert_describes(&e, "internal error: emulation failure (suberror 1) at RIP 0x1003, "
                         "instruction bytes: cc f4");
    e.internal.insn_len = KC_EXIT_MAX_INSN;
    for (unsigned i = 0; i < KC_EXIT_MAX_INSN; i++)
        e.internal.insn[i] = (uint8_t)(0xf0 + i);
    assert_describes(&e, "internal error: emulation failure (suberror 1) at RIP 0x1003, "
                         "instruction bytes: f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 fa fb fc fd fe");
}
END_TEST

START_TEST(test_internal_no_rip)
{
    struct kc_exit e = internal_exit();

    e.internal.rip_valid = false;
    e.internal.rip = 0xdead;
    assert_describes(&e, "internal error: emulation failure (suberror 1) (RIP unavailable), "
                         "instruction bytes: cc f4");
}
END_TEST

START_TEST(test_internal_no_bytes)
{
    struct kc_exit e = internal_exit();

    e.internal.insn_len = 0;
    assert_describes(&e, "internal error: emulation failure (suberror 1) at RIP 0x1003, "
                         "instruction bytes unavailable");
}
END_TEST

START_TEST(test_internal_data_words)
{
    struct kc_exit e = internal_exit();
    const char *d;

    e.internal.ndata = 5;
    e.internal.data_start = 3;
    for (unsigned i = 0; i < 5; i++)
        e.internal.data[i] = 0x111ull * (i + 1);
    assert_describes(&e, "internal error: emulation failure (suberror 1) at RIP 0x1003, "
                         "instruction bytes: cc f4, data: 0x444 0x555");

    /* All words after an error KVM did not decode. */
    e.internal.suberror = KC_INTERNAL_DELIVERY_EV;
    e.internal.data_start = 0;
    e.internal.ndata = 2;
    d = describe(&e);
    ck_assert_msg(strstr(d, "failure while delivering an event (suberror 3)") &&
                      strstr(d, ", data: 0x111 0x222") && !strstr(d, "0x333"),
                  "got \"%s\"", d);

    /* Nothing left over: no data part at all. */
    e.internal.data_start = 2;
    ck_assert_ptr_null(strstr(describe(&e), "data"));
    e.internal.data_start = 5;
    ck_assert_ptr_null(strstr(describe(&e), "data"));
}
END_TEST

START_TEST(test_internal_suberrors)
{
    static const struct {
        uint32_t sub;
        const char *name;
    } cases[] = {
        { KC_INTERNAL_EMULATION, "emulation failure (suberror 1)" },
        { KC_INTERNAL_SIMUL_EX, "exception while delivering an exception (suberror 2)" },
        { KC_INTERNAL_DELIVERY_EV, "failure while delivering an event (suberror 3)" },
        { KC_INTERNAL_UNEXPECTED_EXIT_REASON, "unexpected exit reason (suberror 4)" },
        { 99, "unknown suberror (suberror 99)" },
    };
    struct kc_exit e = internal_exit();

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(cases); i++) {
        const char *d;

        e.internal.suberror = cases[i].sub;
        d = describe(&e);
        ck_assert_msg(strstr(d, cases[i].name) != NULL, "want \"%s\" in \"%s\"", cases[i].name, d);
    }
}
END_TEST

/* ---- other exits ---- */

START_TEST(test_shutdown)
{
    struct kc_exit e = { .type = KC_EXIT_SHUTDOWN, .reason = KVM_EXIT_SHUTDOWN };

    e.shutdown.rip = 0xfff0;
    e.shutdown.rip_valid = true;
    assert_describes(&e, "shutdown (triple fault) at RIP 0xfff0");
    e.shutdown.rip_valid = false;
    assert_describes(&e, "shutdown (triple fault) (RIP unavailable)");
}
END_TEST

START_TEST(test_fail_entry)
{
    struct kc_exit e = { .type = KC_EXIT_FAIL_ENTRY, .reason = KVM_EXIT_FAIL_ENTRY };

    e.fail_entry.hardware_reason = 0x80000021;
    e.fail_entry.cpu = 3;
    e.fail_entry.rip = 0x7c00;
    e.fail_entry.rip_valid = true;
    assert_describes(&e, "VM entry failed: hardware reason 0x80000021 on host CPU 3 at RIP 0x7c00");
    e.fail_entry.rip_valid = false;
    assert_describes(&e, "VM entry failed: hardware reason 0x80000021 on host CPU 3 "
                         "(RIP unavailable)");
}
END_TEST

START_TEST(test_io_mmio_unhandled)
{
    struct kc_exit e = { .type = KC_EXIT_IO, .reason = KVM_EXIT_IO };

    e.io.port = 0x3f8;
    e.io.size = 1;
    e.io.is_write = true;
    e.io.count = 1;
    assert_describes(&e, "io port write of 1 byte at 0x3f8");
    e.io.port = 0x60;
    e.io.size = 2;
    e.io.is_write = false;
    assert_describes(&e, "io port read of 2 bytes at 0x60");
    e.type = KC_EXIT_UNHANDLED;
    assert_describes(&e, "unhandled port read of 2 bytes at 0x60");

    memset(&e, 0, sizeof(e));
    e.type = KC_EXIT_MMIO;
    e.reason = KVM_EXIT_MMIO;
    e.mmio.gpa = 0xfee000b0;
    e.mmio.size = 4;
    e.mmio.is_write = true;
    assert_describes(&e, "MMIO write of 4 bytes at 0xfee000b0");
    e.mmio.size = 1;
    e.mmio.is_write = false;
    assert_describes(&e, "MMIO read of 1 byte at 0xfee000b0");
    e.type = KC_EXIT_UNHANDLED;
    e.mmio.gpa = 0xd0000000;
    e.mmio.size = 8;
    e.mmio.is_write = true;
    assert_describes(&e, "unhandled MMIO write of 8 bytes at 0xd0000000");
}
END_TEST

START_TEST(test_plain_types)
{
    struct kc_exit e = { .type = KC_EXIT_HLT, .reason = KVM_EXIT_HLT };

    assert_describes(&e, "hlt exit (KVM exit reason 5)");
    e = (struct kc_exit){ .type = KC_EXIT_INTR, .reason = KVM_EXIT_INTR };
    assert_describes(&e, "interrupted exit (KVM exit reason 10)");
    e = (struct kc_exit){ .type = KC_EXIT_OTHER, .reason = 99 };
    assert_describes(&e, "other exit (KVM exit reason 99)");
    e = (struct kc_exit){ .type = KC_EXIT_SYSTEM_EVENT, .reason = KVM_EXIT_SYSTEM_EVENT };
    e.system_event.type = KVM_SYSTEM_EVENT_RESET;
    e.system_event.flags = 0x10;
    assert_describes(&e, "system event 2 (flags 0x10)");
}
END_TEST

START_TEST(test_unknown_type)
{
    struct kc_exit e = { .type = (enum kc_exit_type)42, .reason = 7 };

    assert_describes(&e, "unknown exit (KVM exit reason 7)");
}
END_TEST

/* ---- truncation ---- */

/*
 * Describes e into exactly `len` bytes followed by a canary, and checks
 * the result is a NUL-terminated prefix of the full text.
 */
static void check_truncated(const struct kc_exit *e, size_t len)
{
    static char full[512];
    char buf[600];

    ck_assert_uint_lt(len + 16, sizeof(buf));
    kc_exit_describe(e, full, sizeof(full));
    memset(buf, CANARY, sizeof(buf));
    ck_assert_ptr_eq(kc_exit_describe(e, buf, len), buf);
    for (size_t i = len; i < sizeof(buf); i++)
        ck_assert_msg((unsigned char)buf[i] == CANARY, "len %zu: byte %zu after the buffer written",
                      len, i);
    ck_assert_msg(memchr(buf, '\0', len) != NULL, "len %zu: not NUL-terminated", len);
    ck_assert_msg(strlen(buf) == (len - 1 < strlen(full) ? len - 1 : strlen(full)),
                  "len %zu: got %zu characters of %zu", len, strlen(buf), strlen(full));
    ck_assert_msg(strncmp(buf, full, strlen(buf)) == 0, "len %zu: \"%s\" is not a prefix of \"%s\"",
                  len, buf, full);
}

START_TEST(test_truncation)
{
    struct kc_exit e = internal_exit();
    size_t full;

    e.internal.ndata = 4;
    e.internal.data_start = 1;
    e.internal.data[1] = 0x123456789abcdef0ull;
    full = strlen(describe(&e));
    ck_assert_uint_gt(full, 100);

    check_truncated(&e, 1);
    check_truncated(&e, 8);
    /* Every length up to past the full text, so each append's edge is hit. */
    for (size_t len = 1; len <= full + 2; len++)
        check_truncated(&e, len);

    e = (struct kc_exit){ .type = KC_EXIT_SHUTDOWN };
    for (size_t len = 1; len < 50; len++)
        check_truncated(&e, len);
}
END_TEST

START_TEST(test_len_zero)
{
    struct kc_exit e = internal_exit();
    char buf[16];

    memset(buf, CANARY, sizeof(buf));
    ck_assert_ptr_eq(kc_exit_describe(&e, buf, 0), buf);
    for (size_t i = 0; i < sizeof(buf); i++)
        ck_assert_msg((unsigned char)buf[i] == CANARY, "len 0 wrote byte %zu", i);
}
END_TEST

/* ---- kc_exit_type_name ---- */

START_TEST(test_type_names)
{
    static const struct {
        enum kc_exit_type type;
        const char *name;
    } names[] = {
        { KC_EXIT_IO, "io" },
        { KC_EXIT_MMIO, "mmio" },
        { KC_EXIT_HLT, "hlt" },
        { KC_EXIT_SHUTDOWN, "shutdown" },
        { KC_EXIT_INTERNAL_ERROR, "internal-error" },
        { KC_EXIT_FAIL_ENTRY, "fail-entry" },
        { KC_EXIT_INTR, "interrupted" },
        { KC_EXIT_SYSTEM_EVENT, "system-event" },
        { KC_EXIT_DEBUG, "debug" },
        { KC_EXIT_UNHANDLED, "unhandled-access" },
        { KC_EXIT_OTHER, "other" },
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(names); i++)
        ck_assert_str_eq(kc_exit_type_name(names[i].type), names[i].name);
    ck_assert_str_eq(kc_exit_type_name((enum kc_exit_type)(KC_EXIT_OTHER + 1)), "unknown");
    ck_assert_str_eq(kc_exit_type_name((enum kc_exit_type)1000), "unknown");
    ck_assert_str_eq(kc_exit_type_name((enum kc_exit_type)(-1)), "unknown");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("exit");
    TCase *internal = tcase_create("internal");
    TCase *others = tcase_create("others");
    TCase *trunc = tcase_create("truncation");

    tcase_add_test(internal, test_internal_rip_and_bytes);
    tcase_add_test(internal, test_internal_no_rip);
    tcase_add_test(internal, test_internal_no_bytes);
    tcase_add_test(internal, test_internal_data_words);
    tcase_add_test(internal, test_internal_suberrors);
    suite_add_tcase(s, internal);

    tcase_add_test(others, test_shutdown);
    tcase_add_test(others, test_fail_entry);
    tcase_add_test(others, test_io_mmio_unhandled);
    tcase_add_test(others, test_plain_types);
    tcase_add_test(others, test_unknown_type);
    tcase_add_test(others, test_type_names);
    suite_add_tcase(s, others);

    tcase_add_test(trunc, test_truncation);
    tcase_add_test(trunc, test_len_zero);
    suite_add_tcase(s, trunc);
    return s;
}

const bool test_needs_kvm = false;
