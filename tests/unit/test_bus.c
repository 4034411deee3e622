/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kc_bus: range registration, dispatch at the edges of ranges, the
 * unclaimed-access policy and its logging, and dispatch racing with
 * registration.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* ---- a device that records what it was asked ---- */

struct rec_dev {
    unsigned reads, writes;
    uint64_t last_off;
    unsigned last_size;
    uint64_t last_value;
    /* What reads return before the bus truncates it. */
    uint64_t read_value;
};

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rec_dev *d = opaque;

    d->reads++;
    d->last_off = offset;
    d->last_size = size;
    return d->read_value;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct rec_dev *d = opaque;

    d->writes++;
    d->last_off = offset;
    d->last_size = size;
    d->last_value = value;
}

static const struct kc_io_ops rec_ops = { rec_read, rec_write };
static const struct kc_io_ops null_ops = { NULL, NULL };

/* ---- a logger that keeps the level of each message ---- */

struct level_log {
    unsigned count[KC_LOG_DEBUG + 1];
    char text[4096];
    struct kc_logger logger;
};

static void level_log_fn(void *opaque, enum kc_log_level level, const char *msg)
{
    struct level_log *l = opaque;
    size_t used = strlen(l->text);

    l->count[level]++;
    snprintf(l->text + used, sizeof(l->text) - used, "[%d] %s\n", (int)level, msg);
}

static void level_log_init(struct level_log *l)
{
    memset(l, 0, sizeof(*l));
    l->logger.fn = level_log_fn;
    l->logger.opaque = l;
    l->logger.max_level = KC_LOG_DEBUG;
}

/* ---- helpers ---- */

/* Reads through the bus, asserting it was claimed; returns the value. */
static uint64_t claimed_read(struct kc_bus *bus, uint64_t addr, unsigned size)
{
    uint64_t v = 0x5a5a5a5a5a5a5a5aull;
    bool stop = true;

    ck_assert_msg(kc_bus_read(bus, addr, size, &v, &stop),
                  "read of %u bytes at 0x%llx should be claimed", size, (unsigned long long)addr);
    ck_assert_msg(!stop, "a claimed access must not ask to stop");
    return v;
}

/* Reads through the bus, asserting nobody claimed it; returns the value. */
static uint64_t unclaimed_read(struct kc_bus *bus, uint64_t addr, unsigned size)
{
    uint64_t v = 0x5a5a5a5a5a5a5a5aull;
    bool stop = true;

    ck_assert_msg(!kc_bus_read(bus, addr, size, &v, &stop),
                  "read of %u bytes at 0x%llx should be unclaimed", size, (unsigned long long)addr);
    return v;
}

/* ---- registration ---- */

START_TEST(test_register_unregister)
{
    struct log_capture log;
    struct rec_dev d = { .read_value = 0x42 };
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_ptr_nonnull(bus);
    ck_assert_int_eq(kc_bus_kind(bus), KC_BUS_PIO);

    ck_assert_int_eq(kc_bus_register(bus, 0x100, 0x10, &rec_ops, &d, "dev"), 0);
    ck_assert_uint_eq(claimed_read(bus, 0x100, 1), 0x42);
    ck_assert_uint_eq(d.reads, 1);

    ck_assert_int_eq(kc_bus_unregister(bus, 0x100), 0);
    unclaimed_read(bus, 0x100, 1);
    ck_assert_msg(d.reads == 1, "an unregistered device must not be called");

    /* The same range can be claimed again once released. */
    ck_assert_int_eq(kc_bus_register(bus, 0x100, 0x10, &rec_ops, &d, "dev"), 0);
    claimed_read(bus, 0x10f, 1);
    ck_assert_uint_eq(d.last_off, 0xf);
    /* The only message: the read while nothing was registered. */
    ck_assert_msg(log.count == 1 && log_has(&log, "0x100"), "got: %s", log.text);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_unregister_unknown)
{
    struct log_capture log;
    struct rec_dev d = { 0 };
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_MMIO, &log.logger);
    ck_assert_int_eq(kc_bus_kind(bus), KC_BUS_MMIO);
    ck_assert_int_eq(kc_bus_unregister(bus, 0x1000), -ENOENT);
    ck_assert_msg(log_has(&log, "0x1000"), "message should name the address: %s", log.text);

    /* Only the exact base releases a range: an address inside does not. */
    ck_assert_int_eq(kc_bus_register(bus, 0x2000, 0x100, &rec_ops, &d, "dev"), 0);
    ck_assert_int_eq(kc_bus_unregister(bus, 0x2001), -ENOENT);
    ck_assert_int_eq(kc_bus_unregister(bus, 0x1fff), -ENOENT);
    claimed_read(bus, 0x2000, 1);
    ck_assert_int_eq(kc_bus_unregister(bus, 0x2000), 0);
    ck_assert_int_eq(kc_bus_unregister(bus, 0x2000), -ENOENT);
    kc_bus_destroy(bus);
}
END_TEST

/* [0x1000, 0x2000) is registered; every candidate overlapping it is refused. */
START_TEST(test_overlap_refused)
{
    static const struct {
        uint64_t base, len;
        const char *what;
    } bad[] = {
        { 0x1000, 0x1000, "exact" },
        { 0x0ff0, 0x20, "partial at the start" },
        { 0x1ff0, 0x20, "partial at the end" },
        { 0x1100, 0x10, "contained" },
        { 0x0800, 0x2000, "containing" },
        { 0x0fff, 2, "last byte before + first byte" },
        { 0x1fff, 2, "last byte + first byte after" },
        { 0x1fff, 1, "last byte only" },
        { 0x1000, 1, "first byte only" },
    };
    struct rec_dev d = { .read_value = 7 }, other = { 0 };
    struct kc_bus *bus;

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(bad); i++) {
        struct log_capture log;

        log_capture_init(&log);
        bus = kc_bus_create(KC_BUS_PIO, &log.logger);
        ck_assert_int_eq(kc_bus_register(bus, 0x1000, 0x1000, &rec_ops, &d, "first"), 0);
        ck_assert_msg(kc_bus_register(bus, bad[i].base, bad[i].len, &rec_ops, &other, "second") ==
                          -EEXIST,
                      "%s overlap [0x%llx +0x%llx) should be -EEXIST", bad[i].what,
                      (unsigned long long)bad[i].base, (unsigned long long)bad[i].len);
        ck_assert_msg(log.count == 1 && log_has(&log, "'first'") && log_has(&log, "'second'"),
                      "one message naming both claimants expected, got: %s", log.text);
        /* The refused range changed nothing. */
        ck_assert_uint_eq(claimed_read(bus, 0x1000, 1), 7);
        ck_assert_uint_eq(claimed_read(bus, 0x1fff, 1), 7);
        ck_assert_uint_eq(other.reads, 0);
        kc_bus_destroy(bus);
    }
}
END_TEST

START_TEST(test_adjacent_accepted)
{
    struct rec_dev lo = { .read_value = 1 }, mid = { .read_value = 2 }, hi = { .read_value = 3 };
    struct log_capture log;
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, 0x1000, 0x1000, &rec_ops, &mid, "mid"), 0);
    ck_assert_int_eq(kc_bus_register(bus, 0x0800, 0x800, &rec_ops, &lo, "lo"), 0);
    ck_assert_int_eq(kc_bus_register(bus, 0x2000, 0x10, &rec_ops, &hi, "hi"), 0);
    ck_assert_uint_eq(claimed_read(bus, 0x0fff, 1), 1);
    ck_assert_uint_eq(claimed_read(bus, 0x1000, 1), 2);
    ck_assert_uint_eq(claimed_read(bus, 0x1fff, 1), 2);
    ck_assert_uint_eq(claimed_read(bus, 0x2000, 1), 3);
    /* An access straddling two adjacent ranges belongs to neither. */
    unclaimed_read(bus, 0x1ffe, 4);
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 1);
    ck_assert_msg(log.count == 1, "only the straddling access should be logged: %s", log.text);
    kc_bus_destroy(bus);
}
END_TEST

/* A new range between two registered ones that reaches into the second. */
START_TEST(test_overlap_next_neighbour)
{
    struct rec_dev d = { 0 };
    struct log_capture log;
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_MMIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, 0x1000, 0x100, &rec_ops, &d, "a"), 0);
    ck_assert_int_eq(kc_bus_register(bus, 0x2000, 0x100, &rec_ops, &d, "b"), 0);
    ck_assert_int_eq(kc_bus_register(bus, 0x3000, 0x100, &rec_ops, &d, "c"), 0);
    ck_assert_int_eq(kc_bus_register(bus, 0x1800, 0x1000, &rec_ops, &d, "x"), -EEXIST);
    ck_assert_msg(log_has(&log, "'b'"), "should name 'b': %s", log.text);
    /* Spanning several registered ranges. */
    ck_assert_int_eq(kc_bus_register(bus, 0x0000, 0x10000, &rec_ops, &d, "y"), -EEXIST);
    ck_assert_int_eq(kc_bus_register(bus, 0x1100, 0xf00, &rec_ops, &d, "gap"), 0);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_invalid_ranges)
{
    struct rec_dev d = { 0 };
    struct log_capture log;
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, 0x100, 0, &rec_ops, &d, "empty"), -EINVAL);
    ck_assert_msg(log_has(&log, "'empty'") && log_has(&log, "empty range"), "got: %s", log.text);
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX, 2, &rec_ops, &d, "wrap1"), -EINVAL);
    ck_assert_msg(log_has(&log, "'wrap1'") && log_has(&log, "range wraps"), "got: %s", log.text);
    ck_assert_int_eq(kc_bus_register(bus, 0x10, UINT64_MAX, &rec_ops, &d, "wrap2"), -EINVAL);
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX - 0xf, 0x11, &rec_ops, &d, "wrap3"), -EINVAL);
    ck_assert_int_eq(kc_bus_register(bus, 0x100, 0x10, NULL, &d, "noops"), -EINVAL);
    ck_assert_uint_eq(log.count, 5);
    /* Nothing was registered by the refused calls. */
    unclaimed_read(bus, 0x100, 1);
    unclaimed_read(bus, UINT64_MAX, 1);
    kc_bus_destroy(bus);
}
END_TEST

/* ---- dispatch ---- */

START_TEST(test_lookup_edges)
{
    struct rec_dev d = { .read_value = 0xabcd };
    struct log_capture log;
    struct kc_bus *bus;
    bool stop = true;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, 0x3f8, 8, &rec_ops, &d, "uart"), 0);

    claimed_read(bus, 0x3f8, 1);
    ck_assert_uint_eq(d.last_off, 0);
    ck_assert_uint_eq(d.last_size, 1);
    claimed_read(bus, 0x3ff, 1);
    ck_assert_uint_eq(d.last_off, 7);
    ck_assert_uint_eq(claimed_read(bus, 0x3f8, 8), 0xabcd);
    ck_assert_uint_eq(d.last_off, 0);
    ck_assert_uint_eq(d.last_size, 8);
    ck_assert_uint_eq(d.reads, 3);

    unclaimed_read(bus, 0x400, 1);
    unclaimed_read(bus, 0x3f7, 1);
    /* Starts before the range and runs into it. */
    unclaimed_read(bus, 0x3f7, 2);
    /* Starts inside, runs past the end: the device never sees it. */
    unclaimed_read(bus, 0x3fe, 4);
    unclaimed_read(bus, 0x3f8, 9);
    ck_assert_msg(d.reads == 3, "device called for an access it does not fully contain");

    ck_assert(kc_bus_write(bus, 0x3fc, 0x11223344, 4, &stop));
    ck_assert(!stop);
    ck_assert_uint_eq(d.writes, 1);
    ck_assert_uint_eq(d.last_off, 4);
    ck_assert_uint_eq(d.last_size, 4);
    ck_assert_uint_eq(d.last_value, 0x11223344);
    ck_assert(!kc_bus_write(bus, 0x3fd, 0x11223344, 4, &stop));
    ck_assert_uint_eq(d.writes, 1);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_read_truncated)
{
    static const struct {
        unsigned size;
        uint64_t want;
    } cases[] = {
        { 1, 0x88 },
        { 2, 0x7788 },
        { 3, 0x667788 },
        { 4, 0x55667788 },
        { 8, 0x1122334455667788ull },
    };
    struct rec_dev d = { .read_value = 0x1122334455667788ull };
    struct kc_bus *bus = kc_bus_create(KC_BUS_MMIO, NULL);
    bool stop;

    ck_assert_int_eq(kc_bus_register(bus, 0xfee00000, 0x1000, &rec_ops, &d, "lapic"), 0);
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(cases); i++) {
        uint64_t v = claimed_read(bus, 0xfee00010, cases[i].size);

        ck_assert_msg(v == cases[i].want, "read of %u bytes: want 0x%llx, got 0x%llx",
                      cases[i].size, (unsigned long long)cases[i].want, (unsigned long long)v);
    }
    /* Writes hand the device only the low `size` bytes of the value. */
    ck_assert(kc_bus_write(bus, 0xfee00020, 0xffffffffffff1234ull, 2, &stop));
    ck_assert_uint_eq(d.last_value, 0x1234);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_null_handlers)
{
    struct log_capture log;
    struct kc_bus *bus;
    bool stop = true;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, 0x80, 4, &null_ops, NULL, "sink"), 0);
    ck_assert_uint_eq(claimed_read(bus, 0x80, 1), 0xff);
    ck_assert_uint_eq(claimed_read(bus, 0x80, 2), 0xffff);
    ck_assert_uint_eq(claimed_read(bus, 0x80, 4), 0xffffffff);
    ck_assert(kc_bus_write(bus, 0x81, 0x12, 1, &stop));
    ck_assert(!stop);
    /* A claimed access is not an unhandled one, even without handlers. */
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 0);
    ck_assert_uint_eq(log.count, 0);
    kc_bus_destroy(bus);
}
END_TEST

/* ---- unclaimed accesses ---- */

struct policy_rec {
    unsigned calls;
    struct kc_bus_access last;
    enum kc_unhandled_action answer;
};

static enum kc_unhandled_action policy_fn(void *opaque, const struct kc_bus_access *a)
{
    struct policy_rec *p = opaque;

    p->calls++;
    p->last = *a;
    return p->answer;
}

START_TEST(test_unhandled_value_and_count)
{
    static const struct {
        unsigned size;
        uint64_t want;
    } cases[] = { { 1, 0xff }, { 2, 0xffff }, { 4, 0xffffffff }, { 8, UINT64_MAX } };
    struct log_capture log;
    struct kc_bus *bus;
    bool stop = true;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 0);
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(cases); i++) {
        uint64_t v = unclaimed_read(bus, 0x70, cases[i].size);

        ck_assert_msg(v == cases[i].want, "unclaimed read of %u bytes: want 0x%llx, got 0x%llx",
                      cases[i].size, (unsigned long long)cases[i].want, (unsigned long long)v);
        ck_assert_uint_eq(kc_bus_unhandled_count(bus), i + 1);
    }
    ck_assert(!kc_bus_write(bus, 0x70, 1, 1, &stop));
    ck_assert_msg(!stop, "without a policy hook the action is IGNORE");
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 5);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_unhandled_policy)
{
    struct policy_rec p = { .answer = KC_UNHANDLED_STOP };
    struct rec_dev d = { 0 };
    struct log_capture log;
    struct kc_bus *bus;
    uint64_t v = 0;
    bool stop = false;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_MMIO, &log.logger);
    kc_bus_set_unhandled_policy(bus, policy_fn, &p);
    ck_assert_int_eq(kc_bus_register(bus, 0x1000, 0x10, &rec_ops, &d, "dev"), 0);

    ck_assert(!kc_bus_read(bus, 0xd0000004, 2, &v, &stop));
    ck_assert_msg(stop, "policy said STOP");
    ck_assert_uint_eq(v, 0xffff);
    ck_assert_uint_eq(p.calls, 1);
    ck_assert_int_eq(p.last.kind, KC_BUS_MMIO);
    ck_assert_uint_eq(p.last.addr, 0xd0000004);
    ck_assert_uint_eq(p.last.size, 2);
    ck_assert(!p.last.is_write);

    p.answer = KC_UNHANDLED_IGNORE;
    ck_assert(!kc_bus_write(bus, 0xd0000008, 0xbeef, 4, &stop));
    ck_assert_msg(!stop, "policy said IGNORE");
    ck_assert_uint_eq(p.calls, 2);
    ck_assert(p.last.is_write);
    ck_assert_uint_eq(p.last.value, 0xbeef);
    ck_assert_uint_eq(p.last.size, 4);

    /* Claimed accesses never reach the policy. */
    claimed_read(bus, 0x1000, 4);
    ck_assert_uint_eq(p.calls, 2);
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 2);

    /* Without the hook again, the default is IGNORE. */
    kc_bus_set_unhandled_policy(bus, NULL, NULL);
    ck_assert(!kc_bus_write(bus, 0xd0000008, 0, 4, &stop));
    ck_assert(!stop);
    ck_assert_uint_eq(p.calls, 2);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_unhandled_warnings)
{
    struct log_capture log;
    struct kc_bus *bus;
    bool stop;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    unclaimed_read(bus, 0x1234, 2);
    ck_assert_uint_eq(log.count, 1);
    ck_assert_msg(log_has(&log, "0x1234") && log_has(&log, "read") && log_has(&log, "port"),
                  "warning should name the access, got: %s", log.text);
    ck_assert(!kc_bus_write(bus, 0x4321, 0, 1, &stop));
    ck_assert_msg(log_has(&log, "0x4321") && log_has(&log, "write"), "got: %s", log.text);

    /* The first few (UNHANDLED_WARN_LIMIT in bus.c: 10) are warnings, the
     * rest only debug, which this logger drops: a guest probing every port
     * must not flood the log. */
    for (unsigned i = 0; i < 20; i++)
        unclaimed_read(bus, 0x2000 + i, 1);
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 22);
    ck_assert_msg(log.count == 10, "want the first 10 of 22 accesses warned, got %u: %s", log.count,
                  log.text);
    ck_assert_msg(log_has(&log, "0x2007") && !log_has(&log, "0x2008"),
                  "the 10th access (0x2007) is the last warned: %s", log.text);
    ck_assert_msg(log_has(&log, "debug level"), "the last warning should say what follows: %s",
                  log.text);
    kc_bus_destroy(bus);
}
END_TEST

START_TEST(test_stop_not_warned)
{
    struct policy_rec p = { .answer = KC_UNHANDLED_STOP };
    struct level_log log;
    struct kc_bus *bus;
    bool stop = false;

    level_log_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    kc_bus_set_unhandled_policy(bus, policy_fn, &p);
    unclaimed_read(bus, 0x5678, 1);
    ck_assert(!kc_bus_write(bus, 0x5679, 0, 1, &stop));
    ck_assert(stop);
    ck_assert_msg(log.count[KC_LOG_WARN] == 0 && log.count[KC_LOG_ERROR] == 0,
                  "a STOP access is reported by the run loop's caller, not warned: %s", log.text);
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 2);

    /* The same access ignored is warned. */
    p.answer = KC_UNHANDLED_IGNORE;
    unclaimed_read(bus, 0x5678, 1);
    ck_assert_uint_eq(log.count[KC_LOG_WARN], 1);
    kc_bus_destroy(bus);
}
END_TEST

/*
 * Stopped accesses are not warned (the caller reports them), so they must
 * not use up the warnings meant for ignored ones: after many stops, the
 * first ignored access is still a warning (bus.c: "Only an ignored access
 * is reported here (the first few as warnings)").
 */
START_TEST(test_stops_leave_warnings_for_ignored)
{
    struct policy_rec p = { .answer = KC_UNHANDLED_STOP };
    struct level_log log;
    struct kc_bus *bus;

    level_log_init(&log);
    bus = kc_bus_create(KC_BUS_PIO, &log.logger);
    kc_bus_set_unhandled_policy(bus, policy_fn, &p);
    for (unsigned i = 0; i < 12; i++)
        unclaimed_read(bus, 0x100 + i, 1);
    ck_assert_uint_eq(log.count[KC_LOG_WARN], 0);

    p.answer = KC_UNHANDLED_IGNORE;
    unclaimed_read(bus, 0x9999, 1);
    ck_assert_msg(log.count[KC_LOG_WARN] == 1 && strstr(log.text, "[1] unhandled port read") &&
                      strstr(log.text, "0x9999"),
                  "after 12 stopped accesses, the first ignored one should be a warning; got %u "
                  "warnings (the stops used up the warning budget?)",
                  log.count[KC_LOG_WARN]);
    kc_bus_destroy(bus);
}
END_TEST

/* ---- the top of the address space ---- */

START_TEST(test_top_of_space)
{
    struct rec_dev d = { .read_value = 0x55 }, one = { .read_value = 0x66 };
    struct log_capture log;
    struct kc_bus *bus;

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_MMIO, &log.logger);
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX - 0xf, 0x10, &rec_ops, &d, "top"), 0);
    claimed_read(bus, UINT64_MAX, 1);
    ck_assert_uint_eq(d.last_off, 0xf);
    claimed_read(bus, UINT64_MAX - 7, 8);
    ck_assert_uint_eq(d.last_off, 8);
    claimed_read(bus, UINT64_MAX - 0xf, 1);
    ck_assert_uint_eq(d.last_off, 0);
    /* Would wrap past 2^64: not inside the range. */
    unclaimed_read(bus, UINT64_MAX, 2);
    unclaimed_read(bus, UINT64_MAX - 0x10, 1);
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX, 1, &rec_ops, &one, "last"), -EEXIST);
    ck_assert_int_eq(kc_bus_unregister(bus, UINT64_MAX - 0xf), 0);

    /* A one-byte range at the very last address. */
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX, 1, &rec_ops, &one, "last"), 0);
    ck_assert_uint_eq(claimed_read(bus, UINT64_MAX, 1), 0x66);
    ck_assert_uint_eq(one.last_off, 0);
    unclaimed_read(bus, UINT64_MAX - 1, 1);
    ck_assert_int_eq(kc_bus_unregister(bus, UINT64_MAX), 0);

    /* Everything but the last byte. */
    ck_assert_int_eq(kc_bus_register(bus, 0, UINT64_MAX, &rec_ops, &d, "all"), 0);
    claimed_read(bus, UINT64_MAX - 1, 1);
    ck_assert_uint_eq(d.last_off, UINT64_MAX - 1);
    unclaimed_read(bus, UINT64_MAX, 1);
    ck_assert_int_eq(kc_bus_register(bus, UINT64_MAX, 1, &rec_ops, &one, "last"), 0);
    ck_assert_uint_eq(claimed_read(bus, UINT64_MAX, 1), 0x66);
    /* Four unclaimed accesses warned, one -EEXIST reported. */
    ck_assert_uint_eq(kc_bus_unhandled_count(bus), 4);
    ck_assert_msg(log.count == 5, "got: %s", log.text);
    kc_bus_destroy(bus);
}
END_TEST

/* ---- many ranges against a reference model ---- */

#define MANY 1000

struct model_range {
    uint64_t base, len;
    bool registered;
};

/* Where the last dispatch landed, written by model_read. */
static const struct model_range *last_hit;
static uint64_t last_hit_off;

static uint64_t model_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)size;
    last_hit = opaque;
    last_hit_off = offset;
    return 0;
}

static const struct kc_io_ops model_ops = { model_read, NULL };

/* Deterministic, so that a failure reproduces. */
static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const struct model_range *model_lookup(const struct model_range *m, unsigned n,
                                              uint64_t addr, unsigned size)
{
    for (unsigned i = 0; i < n; i++) {
        if (!m[i].registered || addr < m[i].base)
            continue;
        if (addr - m[i].base < m[i].len && size <= m[i].len - (addr - m[i].base))
            return &m[i];
    }
    return NULL;
}

/* One access through the bus, compared with the model. */
static void probe(struct kc_bus *bus, const struct model_range *m, unsigned n, uint64_t addr,
                  unsigned size)
{
    const struct model_range *want = model_lookup(m, n, addr, size);
    uint64_t v;
    bool stop, got;

    last_hit = NULL;
    got = kc_bus_read(bus, addr, size, &v, &stop);
    ck_assert_msg(got == (want != NULL), "access 0x%llx/%u: bus says %s, model says %s",
                  (unsigned long long)addr, size, got ? "claimed" : "unclaimed",
                  want ? "claimed" : "unclaimed");
    ck_assert_msg(last_hit == want, "access 0x%llx/%u landed on the wrong range",
                  (unsigned long long)addr, size);
    if (want)
        ck_assert_uint_eq(last_hit_off, addr - want->base);
}

static void probe_all(struct kc_bus *bus, const struct model_range *m, unsigned n, uint64_t end,
                      uint64_t *seed)
{
    for (unsigned i = 0; i < n; i++) {
        const uint64_t b = m[i].base, l = m[i].len;
        const uint64_t addrs[] = { b, b + l - 1, b + l, b - 1, b + l / 2 };

        for (unsigned k = 0; k < KCI_ARRAY_SIZE(addrs); k++) {
            probe(bus, m, n, addrs[k], 1);
            probe(bus, m, n, addrs[k], 2);
        }
    }
    for (unsigned i = 0; i < 2000; i++)
        probe(bus, m, n, xorshift(seed) % end, 1 + xorshift(seed) % 8);
}

START_TEST(test_many_ranges)
{
    static struct model_range m[MANY];
    static unsigned order[MANY];
    uint64_t seed = 0x9e3779b97f4a7c15ull, cursor = 0x10;
    struct log_capture log;
    struct kc_bus *bus;

    /* Non-overlapping ranges with gaps of 0 (adjacent) to 0xff bytes. */
    for (unsigned i = 0; i < MANY; i++) {
        uint64_t gap = xorshift(&seed) % 3 == 0 ? 0 : xorshift(&seed) % 0x100;

        m[i].base = cursor + gap;
        m[i].len = 1 + xorshift(&seed) % 0x200;
        m[i].registered = false;
        cursor = m[i].base + m[i].len;
        order[i] = i;
    }
    for (unsigned i = MANY - 1; i > 0; i--) {
        unsigned j = (unsigned)(xorshift(&seed) % (i + 1)), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }

    log_capture_init(&log);
    bus = kc_bus_create(KC_BUS_MMIO, &log.logger);
    for (unsigned i = 0; i < MANY; i++) {
        struct model_range *r = &m[order[i]];

        ck_assert_int_eq(kc_bus_register(bus, r->base, r->len, &model_ops, r, "r"), 0);
        r->registered = true;
    }
    /* Each range again, shifted by one byte: always overlaps itself. */
    for (unsigned i = 0; i < MANY; i += 7)
        ck_assert_int_eq(kc_bus_register(bus, m[i].base + 1, m[i].len, &model_ops, NULL, "x"),
                         -EEXIST);
    probe_all(bus, m, MANY, cursor + 0x100, &seed);

    /* Release half in random order; the rest must be unaffected. */
    for (unsigned i = 0; i < MANY; i += 2) {
        struct model_range *r = &m[order[i]];

        ck_assert_int_eq(kc_bus_unregister(bus, r->base), 0);
        r->registered = false;
    }
    probe_all(bus, m, MANY, cursor + 0x100, &seed);
    kc_bus_destroy(bus);
}
END_TEST

/* ---- dispatch racing with (un)registration ---- */

#define N_STABLE      8
#define N_CHURN       64
#define N_DISPATCHERS 3
#define DISPATCHES    40000
#define STABLE_STRIDE 0x1000ull
#define STABLE_LEN    0x10ull
#define CHURN_BASE(j) (0x100 + 0x200 * (uint64_t)(j))

struct race_dev {
    uint64_t id;
    _Atomic unsigned long hits;
};

struct race {
    struct kc_bus *bus;
    struct race_dev stable[N_STABLE];
    struct race_dev churn[N_CHURN];
    _Atomic bool done;
    _Atomic unsigned long wrong, unclaimed_stable, churn_errors, log_messages;
    _Atomic unsigned long churn_cycles;
};

struct dispatcher_arg {
    struct race *race;
    unsigned tid;
};

/* Returns the device id above the offset, so the caller sees who answered. */
static uint64_t race_read(void *opaque, uint64_t offset, unsigned size)
{
    struct race_dev *d = opaque;

    (void)size;
    atomic_fetch_add(&d->hits, 1);
    return d->id << 8 | offset;
}

static const struct kc_io_ops race_ops = { race_read, NULL };

/* Thread-safe: only counts (log_capture is not meant for threads). */
static void race_log(void *opaque, enum kc_log_level level, const char *msg)
{
    struct race *r = opaque;

    (void)level;
    (void)msg;
    atomic_fetch_add(&r->log_messages, 1);
}

static void *dispatcher(void *opaque)
{
    struct dispatcher_arg *a = opaque;
    struct race *r = a->race;

    for (unsigned n = 0; n < DISPATCHES; n++) {
        unsigned i = (n * 7 + a->tid) % N_STABLE;
        uint64_t off = n % 13, v = 0;
        bool stop;

        if (!kc_bus_read(r->bus, i * STABLE_STRIDE + off, 4, &v, &stop))
            atomic_fetch_add(&r->unclaimed_stable, 1);
        else if (v != (r->stable[i].id << 8 | off))
            atomic_fetch_add(&r->wrong, 1);
        /* A churning range may or may not be there, but if it answers it
         * must be the right one. */
        if (n % 16 == 0) {
            unsigned j = n / 16 % N_CHURN;

            if (kc_bus_read(r->bus, CHURN_BASE(j), 4, &v, &stop) && v != r->churn[j].id << 8)
                atomic_fetch_add(&r->wrong, 1);
        }
    }
    return NULL;
}

/* Registers then unregisters every churn range, which also regrows and
 * shifts the sorted array under the readers. */
static void *churner(void *opaque)
{
    struct race *r = opaque;

    do {
        for (unsigned j = 0; j < N_CHURN; j++)
            if (kc_bus_register(r->bus, CHURN_BASE(j), 0x10, &race_ops, &r->churn[j], "churn"))
                atomic_fetch_add(&r->churn_errors, 1);
        for (unsigned j = 0; j < N_CHURN; j++)
            if (kc_bus_unregister(r->bus, CHURN_BASE(N_CHURN - 1 - j)))
                atomic_fetch_add(&r->churn_errors, 1);
        atomic_fetch_add(&r->churn_cycles, 1);
    } while (!atomic_load(&r->done));
    return NULL;
}

START_TEST(test_concurrent_dispatch)
{
    static struct race r;
    struct dispatcher_arg args[N_DISPATCHERS];
    pthread_t threads[N_DISPATCHERS], churn;
    struct kc_logger logger = { race_log, &r, KC_LOG_DEBUG };
    unsigned long hits = 0;

    r.bus = kc_bus_create(KC_BUS_MMIO, &logger);
    for (unsigned i = 0; i < N_STABLE; i++) {
        r.stable[i].id = 0x100 + i;
        ck_assert_int_eq(kc_bus_register(r.bus, i * STABLE_STRIDE, STABLE_LEN, &race_ops,
                                         &r.stable[i], "stable"),
                         0);
    }
    for (unsigned j = 0; j < N_CHURN; j++)
        r.churn[j].id = 0x200 + j;

    ck_assert_int_eq(pthread_create(&churn, NULL, churner, &r), 0);
    for (unsigned t = 0; t < N_DISPATCHERS; t++) {
        args[t] = (struct dispatcher_arg){ &r, t };
        ck_assert_int_eq(pthread_create(&threads[t], NULL, dispatcher, &args[t]), 0);
    }
    for (unsigned t = 0; t < N_DISPATCHERS; t++)
        pthread_join(threads[t], NULL);
    atomic_store(&r.done, true);
    pthread_join(churn, NULL);

    ck_assert_uint_eq(r.unclaimed_stable, 0);
    ck_assert_uint_eq(r.wrong, 0);
    ck_assert_uint_eq(r.churn_errors, 0);
    ck_assert_uint_ge(r.churn_cycles, 1);
    for (unsigned i = 0; i < N_STABLE; i++)
        hits += r.stable[i].hits;
    ck_assert_uint_eq(hits, (unsigned long)N_DISPATCHERS * DISPATCHES);
    /* Every logged message is an unclaimed churn probe, nothing else. */
    ck_assert_uint_eq(r.log_messages, kc_bus_unhandled_count(r.bus));
    kc_bus_destroy(r.bus);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("bus");
    TCase *reg = tcase_create("register");
    TCase *dispatch = tcase_create("dispatch");
    TCase *unhandled = tcase_create("unhandled");
    TCase *stress = tcase_create("stress");

    tcase_add_test(reg, test_register_unregister);
    tcase_add_test(reg, test_unregister_unknown);
    tcase_add_test(reg, test_overlap_refused);
    tcase_add_test(reg, test_adjacent_accepted);
    tcase_add_test(reg, test_overlap_next_neighbour);
    tcase_add_test(reg, test_invalid_ranges);
    suite_add_tcase(s, reg);

    tcase_add_test(dispatch, test_lookup_edges);
    tcase_add_test(dispatch, test_read_truncated);
    tcase_add_test(dispatch, test_null_handlers);
    tcase_add_test(dispatch, test_top_of_space);
    suite_add_tcase(s, dispatch);

    tcase_add_test(unhandled, test_unhandled_value_and_count);
    tcase_add_test(unhandled, test_unhandled_policy);
    tcase_add_test(unhandled, test_unhandled_warnings);
    tcase_add_test(unhandled, test_stop_not_warned);
    tcase_add_test(unhandled, test_stops_leave_warnings_for_ignored);
    suite_add_tcase(s, unhandled);

    tcase_add_test(stress, test_many_ranges);
    tcase_add_test(stress, test_concurrent_dispatch);
    tcase_set_timeout(stress, 20);
    suite_add_tcase(s, stress);
    return s;
}

const bool test_needs_kvm = false;
