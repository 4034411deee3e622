/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running vCPUs as a machine: two at once, pause and resume of a guest that
 * spins without exits, stop requests from any thread, and the calls that
 * would deadlock refused.
 */
#include <errno.h>
#include <time.h>

#include "harness.h"

const bool test_needs_kvm = true;

#define COUNTER KT_MAILBOX

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until the spin guest's counter moves past `from`; false on timeout. */
static bool counter_moves(struct kt_vm *t, uint64_t from, double timeout_s)
{
    double end = now_s() + timeout_s;

    while (now_s() < end) {
        if (kt_peek64(t, COUNTER) > from)
            return true;
        kt_sleep_ms(5);
    }
    return false;
}

START_TEST(two_vcpus_run_at_once)
{
    struct kt_vm *t = kt_vm_new(2, NULL);
    uint32_t got[KT_MAX_REPORTS];
    bool seen0 = false, seen1 = false;
    unsigned n;

    kt_boot(t, "smp", KT_LONG);
    kt_start(t, 0);
    kt_start(t, 1);
    /* The guest only finishes if both vCPUs run at the same time. */
    ck_assert_int_eq(kt_join(t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(kt_join(t, 1, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_msg(!t->timed_out, "the vCPUs never met");
    ck_assert_int_eq(t->exit_code[0], 0);
    ck_assert_int_eq(t->exit_code[1], 0);
    n = kt_reports(t, got, KT_MAX_REPORTS);
    ck_assert_uint_eq(n, 2);
    /* Each saw its own index and, through CPUID leaf 1, its own APIC id. */
    for (unsigned i = 0; i < n; i++) {
        seen0 |= got[i] == 0x5000;
        seen1 |= got[i] == 0x5101;
    }
    ck_assert_msg(seen0 && seen1, "reports 0x%x 0x%x, want 0x5000 and 0x5101", got[0], got[1]);
    kt_vm_free(t);
}
END_TEST

START_TEST(pause_stops_a_spinning_guest)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct kvm_regs regs;
    uint64_t c1, c2;

    kt_boot(t, "spin", KT_LONG);
    kt_start(t, 0);
    ck_assert_msg(counter_moves(t, 0, KT_TIMEOUT_S), "the guest never started counting");

    /* A guest that never exits must still pause promptly (the kick). */
    ck_assert_int_eq(kc_vm_pause(t->vm), 0);
    ck_assert(kc_vm_is_paused(t->vm));
    c1 = kt_peek64(t, COUNTER);
    kt_sleep_ms(200);
    c2 = kt_peek64(t, COUNTER);
    ck_assert_msg(c1 == c2, "counter moved while paused: %llu -> %llu", (unsigned long long)c1,
                  (unsigned long long)c2);
    /* Paused means out of KVM_RUN: the state can be read. */
    ck_assert_int_eq(kc_vcpu_get_regs(t->vcpu[0], &regs), 0);
    ck_assert_msg(regs.rip >= KT_IMAGE && regs.rip < KT_IMAGE + 0x1000, "RIP 0x%llx",
                  (unsigned long long)regs.rip);

    ck_assert_int_eq(kc_vm_resume(t->vm), 0);
    ck_assert(!kc_vm_is_paused(t->vm));
    ck_assert_msg(counter_moves(t, c2, KT_TIMEOUT_S), "the guest did not resume");

    /* Many quick pause/resume cycles: none may hang or lose the vCPU. */
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(kc_vm_pause(t->vm), 0);
        c1 = kt_peek64(t, COUNTER);
        ck_assert_int_eq(kc_vm_resume(t->vm), 0);
    }
    ck_assert_msg(counter_moves(t, c1, KT_TIMEOUT_S), "the guest did not resume after cycles");

    ck_assert_int_eq(kc_vm_stop(t->vm), 0);
    ck_assert(!kc_vcpu_is_started(t->vcpu[0]));
    ck_assert_int_eq(t->exit_code[0], -1);
    kt_vm_free(t);
}
END_TEST

START_TEST(pause_waits_for_both_vcpus)
{
    struct kt_vm *t = kt_vm_new(2, NULL);
    uint64_t c1, c2;

    /* Both vCPUs spin on the same counter. */
    kt_boot(t, "spin", KT_LONG);
    kt_start(t, 0);
    kt_start(t, 1);
    ck_assert(counter_moves(t, 0, KT_TIMEOUT_S));
    ck_assert_int_eq(kc_vm_pause(t->vm), 0);
    c1 = kt_peek64(t, COUNTER);
    kt_sleep_ms(100);
    c2 = kt_peek64(t, COUNTER);
    ck_assert_uint_eq(c1, c2);
    ck_assert_int_eq(kc_vm_resume(t->vm), 0);
    ck_assert(counter_moves(t, c2, KT_TIMEOUT_S));
    ck_assert_int_eq(kc_vm_stop(t->vm), 0);
    kt_vm_free(t);
}
END_TEST

START_TEST(started_while_paused_waits)
{
    struct kt_vm *t = kt_vm_new(1, NULL);

    kt_boot(t, "spin", KT_LONG);
    ck_assert_int_eq(kc_vm_pause(t->vm), 0);
    kt_start(t, 0);
    kt_sleep_ms(200);
    ck_assert_uint_eq(kt_peek64(t, COUNTER), 0);
    ck_assert_int_eq(kc_vm_resume(t->vm), 0);
    ck_assert(counter_moves(t, 0, KT_TIMEOUT_S));
    /* Stopping a paused VM works too. */
    ck_assert_int_eq(kc_vm_pause(t->vm), 0);
    ck_assert_int_eq(kc_vm_stop(t->vm), 0);
    ck_assert(!kc_vcpu_is_started(t->vcpu[0]));
    kt_vm_free(t);
}
END_TEST

START_TEST(request_stop_from_another_thread)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct kc_exit last;

    kt_boot(t, "spin", KT_LONG);
    kt_start(t, 0);
    ck_assert(counter_moves(t, 0, KT_TIMEOUT_S));
    ck_assert_int_eq(kc_vcpu_start(t->vcpu[0], NULL, NULL), -EBUSY);
    ck_assert_msg(log_has(&t->log, "vCPU 0 is already running"), "%s", t->log.text);
    kc_vcpu_request_stop(t->vcpu[0]);
    ck_assert_int_eq(kc_vcpu_join(t->vcpu[0], &last), KC_LOOP_STOPPED);
    ck_assert_int_eq(last.type, KC_EXIT_INTR);
    ck_assert_int_eq(kc_vcpu_join(t->vcpu[0], NULL), -ESRCH);
    /* The vCPU can run again after a stop. */
    kt_start(t, 0);
    ck_assert(counter_moves(t, kt_peek64(t, COUNTER), KT_TIMEOUT_S));
    ck_assert_int_eq(kc_vm_stop(t->vm), 0);
    kt_vm_free(t);
}
END_TEST

/* Calls made by a device handler, on the vCPU's own thread. */
struct self_calls {
    struct kt_vm *t;
    int pause_ret, stop_ret;
    unsigned writes;
    struct kc_vcpu *self;
};

static void self_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct self_calls *s = opaque;

    (void)offset;
    (void)value;
    (void)size;
    if (s->writes++ == 0) {
        s->self = kc_vcpu_self();
        s->pause_ret = kc_vm_pause(s->t->vm);
        s->stop_ret = kc_vm_stop(s->t->vm);
        kc_vcpu_request_stop(s->t->vcpu[0]);
    }
}

static const struct kc_io_ops self_ops = { .write = self_write };

START_TEST(vcpu_thread_calls)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct self_calls s = { t, 1, 1, 0, NULL };

    ck_assert_int_eq(kc_bus_register(kc_vm_pio_bus(t->vm), 0x600, 16, &self_ops, &s, "self"), 0);
    kt_boot(t, "io64", KT_LONG);
    /* The handler's own stop request ends the loop before the guest's exit. */
    ck_assert_int_eq(kt_run(t, 0, KT_TIMEOUT_S), KC_LOOP_STOPPED);
    ck_assert(!t->timed_out);
    ck_assert_ptr_eq(s.self, t->vcpu[0]);
    ck_assert_ptr_null(kc_vcpu_self()); /* this thread runs no loop now */
    ck_assert_int_eq(s.pause_ret, -EDEADLK);
    ck_assert_int_eq(s.stop_ret, -EDEADLK);
    ck_assert_uint_eq(s.writes, 1);
    ck_assert_int_eq(t->exit_code[0], -1);
    ck_assert_msg(log_has(&t->log, "from a vCPU thread"), "%s", t->log.text);
    kt_vm_free(t);
}
END_TEST

START_TEST(kick_interrupts_one_run)
{
    struct kt_vm *t = kt_vm_new(1, NULL);
    struct kc_exit e;

    kt_boot(t, "spin", KT_LONG);
    /* A kick before the run makes that run return at once, and only it. */
    kc_vcpu_kick(t->vcpu[0]);
    ck_assert_int_eq(kc_vcpu_run(t->vcpu[0], &e), 0);
    ck_assert_int_eq(e.type, KC_EXIT_INTR);
    ck_assert_uint_eq(kt_peek64(t, COUNTER), 0);
    ck_assert_int_eq(kc_vcpu_run_page(t->vcpu[0])->immediate_exit, 0);
    kt_vm_free(t);
}
END_TEST

START_TEST(duplicate_vcpu_id)
{
    struct kt_vm *t = kt_vm_new(1, NULL);

    ck_assert_ptr_null(kc_vcpu_create(t->vm, 0));
    ck_assert_msg(log_has(&t->log, "vCPU 0: KVM_CREATE_VCPU: a vCPU with this id exists"), "%s",
                  t->log.text);
    ck_assert_ptr_null(kc_vcpu_create(t->vm, 1u << 30));
    ck_assert_msg(log_has(&t->log, "allows vCPU ids below"), "%s", t->log.text);
    ck_assert_uint_eq(kc_vm_vcpu_count(t->vm), 1);
    kt_vm_free(t);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kvm-vcpus");
    TCase *tc = tcase_create("vcpus");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, two_vcpus_run_at_once);
    tcase_add_test(tc, pause_stops_a_spinning_guest);
    tcase_add_test(tc, pause_waits_for_both_vcpus);
    tcase_add_test(tc, started_while_paused_waits);
    tcase_add_test(tc, request_stop_from_another_thread);
    tcase_add_test(tc, vcpu_thread_calls);
    tcase_add_test(tc, kick_interrupts_one_run);
    tcase_add_test(tc, duplicate_vcpu_id);
    suite_add_tcase(s, tc);
    return s;
}
