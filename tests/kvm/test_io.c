/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Port and MMIO exits reach the right handler with the right offset, size
 * and data, in real mode, 32-bit protected mode and 64-bit long mode; and
 * the handler's answers reach the guest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"
#include "recorder.h"

const bool test_needs_kvm = true;

#define IO_BASE   0x600
#define MMIO_HIGH 0xd0000000ull
#define MMIO_REAL 0xd0000ull
#define P(w, o, s, v)                                                                              \
    {                                                                                              \
        'p', w, o, s, v                                                                            \
    }
#define M(w, o, s, v)                                                                              \
    {                                                                                              \
        'm', w, o, s, v                                                                            \
    }
/* recorder_pattern() as a constant expression, for the tables below. */
#define PB(o, s, i) ((s) > (i) ? (uint64_t)(uint8_t)(0xa0 + (o) + (i)) << (8 * (i)) : 0)
#define R(o, s)                                                                                    \
    (PB(o, s, 0) | PB(o, s, 1) | PB(o, s, 2) | PB(o, s, 3) | PB(o, s, 4) | PB(o, s, 5) |           \
     PB(o, s, 6) | PB(o, s, 7))

/* What io.c and rm_io.S do, in order, on each bus. */
static const struct rec_access common_pio[] = {
    P(true, 0, 1, 0x11),     P(true, 2, 2, 0x2233),   P(true, 4, 4, 0x44556677),
    P(false, 1, 1, R(1, 1)), P(false, 2, 2, R(2, 2)), P(false, 4, 4, R(4, 4)),
};
static const struct rec_access string_pio[] = {
    P(true, 8, 1, 'a'),      P(true, 8, 1, 'b'),      P(true, 8, 1, 'c'),
    P(false, 9, 1, R(9, 1)), P(false, 9, 1, R(9, 1)), P(false, 9, 1, R(9, 1)),
};
static const struct rec_access common_mmio[] = {
    M(true, 0x10, 1, 0xaa),        M(true, 0x12, 2, 0xbbcc),      M(true, 0x14, 4, 0xddeeff00),
    M(false, 0x21, 1, R(0x21, 1)), M(false, 0x22, 2, R(0x22, 2)), M(false, 0x24, 4, R(0x24, 4)),
};
static const struct rec_access mmio64[] = {
    M(true, 0x18, 8, 0x1122334455667788ull),
    M(false, 0x28, 8, R(0x28, 8)),
};

struct io_fixture {
    struct kt_vm *t;
    struct recorder pio, mmio;
};

static void attach_recorders(struct io_fixture *f, uint64_t mmio_base)
{
    recorder_init(&f->pio, 'p');
    recorder_init(&f->mmio, 'm');
    ck_assert_int_eq(
        kc_bus_register(kc_vm_pio_bus(f->t->vm), IO_BASE, 16, &recorder_ops, &f->pio, "test-io"),
        0);
    ck_assert_int_eq(kc_bus_register(kc_vm_mmio_bus(f->t->vm), mmio_base, 0x1000, &recorder_ops,
                                     &f->mmio, "test-mmio"),
                     0);
}

static void expect_all(struct io_fixture *f, bool strings, bool wide)
{
    struct rec_access pio[16], mmio[16];
    unsigned np = 0, nm = 0;

    memcpy(pio, common_pio, sizeof(common_pio));
    np = 6;
    if (strings) {
        memcpy(pio + np, string_pio, sizeof(string_pio));
        np += 6;
    }
    memcpy(mmio, common_mmio, sizeof(common_mmio));
    nm = 6;
    if (wide) {
        /* io.c does the 8-byte write and read after the narrow ones. */
        memcpy(mmio + nm, mmio64, sizeof(mmio64));
        nm += 2;
    }
    recorder_expect(&f->pio, pio, np);
    recorder_expect(&f->mmio, mmio, nm);
}

/* The values the guest read back and reported, in order. */
static void expect_reports(struct kt_vm *t, bool strings, bool wide)
{
    uint32_t want[16], got[KT_MAX_REPORTS];
    unsigned n = 0, have;

    want[n++] = (uint32_t)R(1, 1);
    want[n++] = (uint32_t)R(2, 2);
    want[n++] = (uint32_t)R(4, 4);
    want[n++] = (uint32_t)R(0x21, 1);
    want[n++] = (uint32_t)R(0x22, 2);
    want[n++] = (uint32_t)R(0x24, 4);
    if (wide) {
        want[n++] = (uint32_t)R(0x28, 8);
        want[n++] = (uint32_t)(R(0x28, 8) >> 32);
    }
    if (strings)
        want[n++] = 0xa9a9a9;
    have = kt_reports(t, got, KT_MAX_REPORTS);
    ck_assert_uint_eq(have, n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "report %u: got 0x%x, want 0x%x", i, got[i], want[i]);
}

static void run_mode(enum kt_mode mode, const char *guest, uint64_t mmio_base, bool strings,
                     bool wide)
{
    struct io_fixture f;

    f.t = kt_vm_new(1, NULL);
    attach_recorders(&f, mmio_base);
    kt_boot(f.t, guest, mode);
    ck_assert_int_eq(kt_run(f.t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_msg(!f.t->timed_out, "guest timed out");
    ck_assert_msg(f.t->exit_code[0] == 0, "guest exit code %d (last exit %s)", f.t->exit_code[0],
                  kc_exit_type_name(f.t->last[0].type));
    expect_all(&f, strings, wide);
    expect_reports(f.t, strings, wide);
    kt_vm_free(f.t);
}

START_TEST(real_mode)
{
    run_mode(KT_REAL, "rm_io", MMIO_REAL, false, false);
}
END_TEST

START_TEST(protected_mode)
{
    run_mode(KT_PROTECTED, "io32", MMIO_HIGH, true, false);
}
END_TEST

START_TEST(long_mode)
{
    run_mode(KT_LONG, "io64", MMIO_HIGH, true, true);
}
END_TEST

/* Two VMs in one process, running at once: nothing is shared between them. */
START_TEST(two_vms_at_once)
{
    struct io_fixture f[2];

    for (int i = 0; i < 2; i++) {
        f[i].t = kt_vm_new(1, NULL);
        attach_recorders(&f[i], MMIO_HIGH);
        kt_boot(f[i].t, "io64", KT_LONG);
    }
    kt_start(f[0].t, 0);
    kt_start(f[1].t, 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(kt_join(f[i].t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
        ck_assert_int_eq(f[i].t->exit_code[0], 0);
        expect_all(&f[i], true, true);
        expect_reports(f[i].t, true, true);
    }
    kt_vm_free(f[0].t);
    kt_vm_free(f[1].t);
}
END_TEST

/* Without devices, reads see all-ones and the guest carries on. */
START_TEST(unclaimed_reads_all_ones)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    uint32_t got[KT_MAX_REPORTS];
    static const uint32_t want[] = { 0xff,       0xffff,     0xffffffff, 0xff,    0xffff,
                                     0xffffffff, 0xffffffff, 0xffffffff, 0xffffff };

    kt_boot(t, "io64", KT_LONG);
    ck_assert_int_eq(kt_run(t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(t->exit_code[0], 0);
    ck_assert_uint_eq(kt_reports(t, got, KT_MAX_REPORTS), 9);
    for (unsigned i = 0; i < 9; i++)
        ck_assert_msg(got[i] == want[i], "report %u: got 0x%x, want 0x%x", i, got[i], want[i]);
    /* 12 port accesses (6 + 6 string elements), 8 MMIO, plus the exit port. */
    ck_assert_uint_eq(kc_bus_unhandled_count(kc_vm_mmio_bus(t->vm)), 8);
    ck_assert_uint_eq(kc_bus_unhandled_count(kc_vm_pio_bus(t->vm)), 13);
    ck_assert_msg(log_has(&t->log, "unhandled MMIO write of 1 byte at 0xd0000010"), "%s",
                  t->log.text);
    kt_vm_free(t);
}
END_TEST

static enum kc_unhandled_action stop_all(void *opaque, const struct kc_bus_access *a)
{
    (void)opaque;
    (void)a;
    return KC_UNHANDLED_STOP;
}

/* A stop policy hands the access to the caller, decoded. */
START_TEST(unclaimed_stop_policy)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct kc_exit *e = &t->last[0];
    struct recorder pio;

    recorder_init(&pio, 'p');
    kc_bus_set_unhandled_policy(kc_vm_mmio_bus(t->vm), stop_all, NULL);
    ck_assert_int_eq(kc_bus_register(kc_vm_pio_bus(t->vm), IO_BASE, 16, &recorder_ops, &pio, "io"),
                     0);
    kt_boot(t, "io64", KT_LONG);
    ck_assert_int_eq(kt_run(t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(t->exit_code[0], -1);
    ck_assert_int_eq(e->type, KC_EXIT_UNHANDLED);
    ck_assert_uint_eq(e->mmio.gpa, MMIO_HIGH + 0x10);
    ck_assert(e->mmio.is_write);
    ck_assert_uint_eq(e->mmio.size, 1);
    ck_assert_uint_eq(e->mmio.data[0], 0xaa);
    kt_vm_free(t);
}
END_TEST

/* Guest writes that match an ioeventfd signal it inside KVM and never
 * reach the bus; non-matching data still exits. */
START_TEST(ioeventfd_pio_and_mmio)
{
    struct io_fixture f;
    int pfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), mfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct kc_ioeventfd pev = { IO_BASE, 1, pfd, true, true, 0x11 };
    struct kc_ioeventfd pev_nomatch = { IO_BASE + 2, 2, pfd, true, true, 0x9999 };
    struct kc_ioeventfd mev = { MMIO_HIGH + 0x10, 1, mfd, false, false, 0 };
    static const struct rec_access want_pio[] = {
        P(true, 2, 2, 0x2233),   P(true, 4, 4, 0x44556677), P(false, 1, 1, R(1, 1)),
        P(false, 2, 2, R(2, 2)), P(false, 4, 4, R(4, 4)),
    };
    uint64_t count = 0;

    ck_assert_int_ge(pfd, 0);
    ck_assert_int_ge(mfd, 0);
    f.t = kt_vm_new(1, NULL);
    attach_recorders(&f, MMIO_HIGH);
    ck_assert_int_eq(kc_vm_ioeventfd_add(f.t->vm, &pev), 0);
    ck_assert_int_eq(kc_vm_ioeventfd_add(f.t->vm, &pev_nomatch), 0);
    ck_assert_int_eq(kc_vm_ioeventfd_add(f.t->vm, &mev), 0);
    kt_boot(f.t, "io64", KT_LONG);
    ck_assert_int_eq(kt_run(f.t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(f.t->exit_code[0], 0);

    ck_assert_int_eq(read(pfd, &count, sizeof(count)), sizeof(count));
    ck_assert_uint_eq(count, 1);
    ck_assert_int_eq(read(mfd, &count, sizeof(count)), sizeof(count));
    ck_assert_uint_eq(count, 1);
    /* The first port write and first MMIO write went to the eventfds. */
    pthread_mutex_lock(&f.pio.lock);
    ck_assert_uint_ge(f.pio.n, 5);
    f.pio.n = 5; /* only the non-string part is compared here */
    pthread_mutex_unlock(&f.pio.lock);
    recorder_expect(&f.pio, want_pio, 5);
    pthread_mutex_lock(&f.mmio.lock);
    ck_assert_uint_eq(f.mmio.log[0].offset, 0x12);
    pthread_mutex_unlock(&f.mmio.lock);

    ck_assert_int_eq(kc_vm_ioeventfd_remove(f.t->vm, &pev), 0);
    ck_assert_int_eq(kc_vm_ioeventfd_remove(f.t->vm, &mev), 0);
    ck_assert_int_eq(kc_vm_ioeventfd_remove(f.t->vm, &pev_nomatch), 0);
    /* Removing again: KVM has no such ioeventfd, and the error names it. */
    ck_assert_int_lt(kc_vm_ioeventfd_remove(f.t->vm, &pev), 0);
    ck_assert_msg(log_has(&f.t->log, "KVM_IOEVENTFD deassign port 0x600"), "%s", f.t->log.text);
    pev.len = 3;
    ck_assert_int_eq(kc_vm_ioeventfd_add(f.t->vm, &pev), -EINVAL);
    kt_vm_free(f.t);
    close(pfd);
    close(mfd);
}
END_TEST

/* A read-only region: guest reads come from memory with no exit, guest
 * writes become MMIO exits and leave the memory unchanged. */
START_TEST(readonly_memory)
{
    struct io_fixture f;
    struct kc_region *rom;
    uint8_t *p;
    uint32_t got[KT_MAX_REPORTS];
    static const struct rec_access want_mmio[] = {
        M(true, 0x10, 1, 0xaa),
        M(true, 0x12, 2, 0xbbcc),
        M(true, 0x14, 4, 0xddeeff00),
        M(true, 0x18, 8, 0x1122334455667788ull),
    };

    f.t = kt_vm_new(1, NULL);
    rom = kc_vm_add_ram(f.t->vm, MMIO_HIGH, 0x1000, KC_REGION_READONLY, "rom");
    ck_assert_msg(rom, "%s", f.t->log.text);
    ck_assert_ptr_null(kc_mem_ptr_rw(kc_vm_mem(f.t->vm), MMIO_HIGH, 1));
    p = kc_mem_ptr(kc_vm_mem(f.t->vm), MMIO_HIGH, 0x1000);
    ck_assert_ptr_nonnull(p);
    for (unsigned i = 0; i < 0x1000; i++)
        p[i] = (uint8_t)(0x30 + i);
    attach_recorders(&f, MMIO_HIGH);
    kt_boot(f.t, "io64", KT_LONG);
    ck_assert_int_eq(kt_run(f.t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(f.t->exit_code[0], 0);
    recorder_expect(&f.mmio, want_mmio, 4);
    ck_assert_uint_eq(p[0x10], (uint8_t)(0x30 + 0x10));
    ck_assert_uint_ge(kt_reports(f.t, got, KT_MAX_REPORTS), 6);
    ck_assert_uint_eq(got[3], 0x51);       /* byte at 0x21 */
    ck_assert_uint_eq(got[4], 0x5352);     /* word at 0x22 */
    ck_assert_uint_eq(got[5], 0x57565554); /* dword at 0x24 */
    kt_vm_free(f.t);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kvm-io");
    TCase *tc = tcase_create("io");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, real_mode);
    tcase_add_test(tc, protected_mode);
    tcase_add_test(tc, long_mode);
    tcase_add_test(tc, two_vms_at_once);
    tcase_add_test(tc, unclaimed_reads_all_ones);
    tcase_add_test(tc, unclaimed_stop_policy);
    tcase_add_test(tc, ioeventfd_pio_and_mmio);
    tcase_add_test(tc, readonly_memory);
    suite_add_tcase(s, tc);
    return s;
}
