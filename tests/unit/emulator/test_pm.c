/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI PM device on a fake machine, driven through its ports as a
 * guest would: power-on values, write-1-to-clear status, the SCI level
 * following status and enable, S5 power-off, other sleep types refused
 * with one warning, the PM timer against a substituted clock (rate, wrap,
 * carry status, the carry timer on the main loop), reset, and a power
 * button pressed from another thread while the "guest" acknowledges.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "dev/pm.h"
#include "devices.h"
#include "fake_machine.h"

#define STS EM_PM_IO_BASE
#define EN  (EM_PM_IO_BASE + 2)
#define CNT (EM_PM_IO_BASE + 4)
#define TMR (EM_PM_IO_BASE + 8)

#define NS_PER_SEC 1000000000ull
#define CARRY      (1ull << 23) /* ticks between TMR_STS events */

static struct log_capture cap;
static struct em_machine *m;
static struct em_pm *pm;
static uint64_t fake_ns;

static uint64_t fake_clock(void *opaque)
{
    return *(uint64_t *)opaque;
}

/* Nanoseconds at which the counter has reached `ticks`. */
static uint64_t at_ticks(uint64_t ticks)
{
    return (ticks * NS_PER_SEC + EM_PM_TIMER_HZ - 1) / EM_PM_TIMER_HZ;
}

static void setup(void)
{
    log_capture_init(&cap);
    m = fake_machine_create(128ull << 20, 1, &cap);
    ck_assert_int_eq(em_pm_create(m), 0);
    pm = em_machine_device(m, EM_PM_DEVICE_NAME);
    ck_assert_ptr_nonnull(pm);
    fake_ns = 1000;
    em_pm_set_clock(pm, fake_clock, &fake_ns);
}

static void teardown(void)
{
    fake_machine_free(m);
    m = NULL;
}

static uint16_t inw(uint16_t port)
{
    return (uint16_t)fake_in(m, port, 2);
}

static void outw(uint16_t port, uint16_t v)
{
    fake_out(m, port, v, 2);
}

static int sci(void)
{
    return fake_irq_level(m, EM_SCI_GSI);
}

START_TEST(power_on_values)
{
    ck_assert_uint_eq(inw(STS), 0);
    ck_assert_uint_eq(inw(EN), 0);
    ck_assert_uint_eq(inw(CNT), EM_PM1_CNT_SCI_EN);
    ck_assert_uint_eq(fake_in(m, TMR, 4), 0);
    /* Reserved bytes read 0. */
    ck_assert_uint_eq(inw(EM_PM_IO_BASE + 6), 0);
    ck_assert_uint_eq(fake_in(m, EM_PM_IO_BASE + 12, 4), 0);
    ck_assert_int_eq(sci(), 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(status_is_write_one_to_clear)
{
    em_pm_power_button(pm);
    ck_assert_uint_eq(inw(STS), EM_PM1_PWRBTN);
    ck_assert_uint_eq(fake_timeline_count(m, "ACPI power button pressed"), 1);
    outw(STS, 0); /* zeros change nothing */
    ck_assert_uint_eq(inw(STS), EM_PM1_PWRBTN);
    outw(STS, EM_PM1_TMR); /* another bit's 1 neither */
    ck_assert_uint_eq(inw(STS), EM_PM1_PWRBTN);
    fake_outb(m, STS + 1, EM_PM1_PWRBTN >> 8); /* a byte write of the high half */
    ck_assert_uint_eq(inw(STS), 0);
}
END_TEST

START_TEST(enable_keeps_only_its_bits)
{
    outw(EN, 0xffff);
    ck_assert_uint_eq(inw(EN), EM_PM1_TMR | EM_PM1_PWRBTN);
    outw(EN, 0);
    ck_assert_uint_eq(inw(EN), 0);
}
END_TEST

START_TEST(accesses_across_registers)
{
    em_pm_power_button(pm);
    /* One 32-bit write: STS (clear PWRBTN) in the low half, EN above. */
    fake_out(m, STS, (uint32_t)EM_PM1_PWRBTN | (uint32_t)EM_PM1_PWRBTN << 16, 4);
    ck_assert_uint_eq(inw(STS), 0);
    ck_assert_uint_eq(inw(EN), EM_PM1_PWRBTN);
    /* A 16-bit write at offset 1: STS's high byte and EN's low byte. */
    em_pm_power_button(pm);
    fake_out(m, STS + 1, 0x0101, 2);
    ck_assert_uint_eq(inw(STS), 0);
    ck_assert_uint_eq(inw(EN), EM_PM1_PWRBTN | EM_PM1_TMR);
    ck_assert_uint_eq(fake_in(m, STS, 4), (uint32_t)(EM_PM1_PWRBTN | EM_PM1_TMR) << 16);
}
END_TEST

START_TEST(sci_follows_status_and_enable)
{
    em_pm_power_button(pm);
    ck_assert_int_eq(sci(), 0); /* not enabled */
    outw(EN, EM_PM1_PWRBTN);
    ck_assert_int_eq(sci(), 1);
    outw(EN, 0);
    ck_assert_int_eq(sci(), 0);
    outw(EN, EM_PM1_PWRBTN);
    ck_assert_int_eq(sci(), 1);
    outw(STS, EM_PM1_PWRBTN); /* the guest acknowledges */
    ck_assert_int_eq(sci(), 0);
    em_pm_power_button(pm);
    ck_assert_int_eq(sci(), 1);
    /* Only changes of level reach the interrupt controller. */
    ck_assert_uint_eq(fake_irq_calls(m, EM_SCI_GSI), 5);
}
END_TEST

START_TEST(s5_powers_off)
{
    /* As ACPICA does: SLP_TYP first, then SLP_TYP with SLP_EN. */
    outw(CNT, EM_PM_SLP_TYP_S5 << EM_PM1_CNT_SLP_TYP_SHIFT);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 0);
    ck_assert_uint_eq(inw(CNT), EM_PM_SLP_TYP_S5 << EM_PM1_CNT_SLP_TYP_SHIFT | EM_PM1_CNT_SCI_EN);
    outw(CNT, EM_PM_SLP_TYP_S5 << EM_PM1_CNT_SLP_TYP_SHIFT | EM_PM1_CNT_SLP_EN);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 1);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_RESET), 0);
    ck_assert_uint_eq(fake_timeline_count(m, "ACPI S5 power-off"), 1);
    /* SLP_EN is write-only. */
    ck_assert_uint_eq(inw(CNT) & EM_PM1_CNT_SLP_EN, 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(s5_by_a_byte_write)
{
    /* SLP_TYP and SLP_EN are both in the high byte. */
    fake_outb(m, CNT + 1, (uint8_t)((EM_PM_SLP_TYP_S5 << 2) | (1u << 5)));
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 1);
    /* Writing the low byte alone (SCI_EN) asks for nothing more. */
    fake_outb(m, CNT, 0xff);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 1);
}
END_TEST

START_TEST(other_sleep_types_wake_at_once_with_one_warning)
{
    outw(CNT, 1 << EM_PM1_CNT_SLP_TYP_SHIFT | EM_PM1_CNT_SLP_EN);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 0);
    ck_assert_uint_eq(inw(STS), EM_PM1_WAK_STS);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "SLP_TYP=1"));
    outw(STS, EM_PM1_WAK_STS);
    ck_assert_uint_eq(inw(STS), 0);
    outw(CNT, 3 << EM_PM1_CNT_SLP_TYP_SHIFT | EM_PM1_CNT_SLP_EN);
    ck_assert_uint_eq(inw(STS), EM_PM1_WAK_STS);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_uint_eq(fake_requests(m, EM_REQ_POWEROFF), 0);
    /* WAK_STS raises no SCI. */
    outw(EN, 0xffff);
    ck_assert_int_eq(sci(), 0);
}
END_TEST

START_TEST(timer_counts_at_3_579545_mhz)
{
    fake_ns += NS_PER_SEC;
    ck_assert_uint_eq(fake_in(m, TMR, 4), EM_PM_TIMER_HZ);
    fake_ns += 1000000; /* 1 ms */
    ck_assert_uint_eq(fake_in(m, TMR, 4), EM_PM_TIMER_HZ + 3579);
    /* Byte and word reads see the same counter. */
    ck_assert_uint_eq(fake_inb(m, TMR + 2), (EM_PM_TIMER_HZ + 3579) >> 16);
    ck_assert_uint_eq(inw(TMR), (EM_PM_TIMER_HZ + 3579) & 0xffff);
    /* Writes are ignored. */
    fake_out(m, TMR, 0, 4);
    ck_assert_uint_eq(fake_in(m, TMR, 4), EM_PM_TIMER_HZ + 3579);
}
END_TEST

START_TEST(timer_wraps_at_24_bits)
{
    fake_ns = 1000 + at_ticks(EM_PM_TIMER_MASK);
    ck_assert_uint_eq(fake_in(m, TMR, 4), EM_PM_TIMER_MASK);
    fake_ns = 1000 + at_ticks(EM_PM_TIMER_MASK + 1ull);
    ck_assert_uint_eq(fake_in(m, TMR, 4), 0);
    /* Hours later the counter still advances at the same rate. */
    fake_ns = 1000 + 10000 * NS_PER_SEC;
    ck_assert_uint_eq(fake_in(m, TMR, 4), (10000 * EM_PM_TIMER_HZ) & EM_PM_TIMER_MASK);
}
END_TEST

START_TEST(timer_carry_sets_tmr_sts)
{
    fake_ns = 1000 + at_ticks(CARRY - 1);
    ck_assert_uint_eq(inw(STS), 0);
    fake_ns = 1000 + at_ticks(CARRY);
    ck_assert_uint_eq(inw(STS), EM_PM1_TMR);
    ck_assert_int_eq(sci(), 0); /* TMR_EN is clear */
    outw(STS, EM_PM1_TMR);
    ck_assert_uint_eq(inw(STS), 0);
    /* Set again at the next change of bit 23, not before. */
    fake_ns = 1000 + at_ticks(2 * CARRY - 1);
    ck_assert_uint_eq(inw(STS), 0);
    fake_ns = 1000 + at_ticks(2 * CARRY);
    ck_assert_uint_eq(inw(STS), EM_PM1_TMR);
    outw(EN, EM_PM1_TMR);
    ck_assert_int_eq(sci(), 1);
}
END_TEST

START_TEST(real_clock_is_monotonic_time)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    uint32_t t0, t1;

    em_pm_set_clock(pm, NULL, NULL);
    t0 = (uint32_t)fake_in(m, TMR, 4);
    nanosleep(&ts, NULL);
    t1 = (uint32_t)fake_in(m, TMR, 4);
    /* 20 ms is about 71591 ticks; allow for a slow machine. */
    ck_assert_uint_ge((t1 - t0) & EM_PM_TIMER_MASK, 20 * 3579);
    ck_assert_uint_le((t1 - t0) & EM_PM_TIMER_MASK, 2000 * 3579);
}
END_TEST

/* Runs the fake machine's loop until the SCI is up, for at most 2 s. */
static bool loop_until_sci(void)
{
    struct timespec ms = { 0, 1000 * 1000 };

    for (int i = 0; i < 2000; i++) {
        uv_run(em_machine_loop(m), UV_RUN_NOWAIT);
        if (sci())
            return true;
        nanosleep(&ms, NULL);
    }
    return false;
}

START_TEST(carry_timer_raises_the_sci_unprompted)
{
    /* 2 ms before a carry, the guest enables the timer event... */
    fake_ns = 1000 + at_ticks(CARRY) - 2000000;
    outw(EN, EM_PM1_TMR);
    uv_run(em_machine_loop(m), UV_RUN_NOWAIT); /* the main loop arms its timer */
    ck_assert_int_eq(sci(), 0);
    /* ...then does not touch the device: the carry comes, and with it
     * the SCI, from the main loop's timer alone. */
    fake_ns += 2000000;
    ck_assert(loop_until_sci());
    ck_assert_uint_eq(inw(STS), EM_PM1_TMR);
}
END_TEST

START_TEST(reset_restores_power_on_values)
{
    outw(EN, EM_PM1_PWRBTN | EM_PM1_TMR);
    outw(CNT, 3 << EM_PM1_CNT_SLP_TYP_SHIFT);
    em_pm_power_button(pm);
    fake_ns += 5 * NS_PER_SEC;
    ck_assert_int_eq(sci(), 1);
    fake_machine_reset(m);
    ck_assert_int_eq(sci(), 0);
    ck_assert_uint_eq(inw(STS), 0);
    ck_assert_uint_eq(inw(EN), 0);
    ck_assert_uint_eq(inw(CNT), EM_PM1_CNT_SCI_EN);
    ck_assert_uint_eq(fake_in(m, TMR, 4), 0);
    fake_ns += NS_PER_SEC;
    ck_assert_uint_eq(fake_in(m, TMR, 4), EM_PM_TIMER_HZ);
}
END_TEST

START_TEST(a_taken_port_is_an_error)
{
    /* A second PM device finds the block claimed. */
    ck_assert_int_eq(em_pm_create(m), -EEXIST);
    ck_assert(log_has(&cap, "acpi-pm"));
}
END_TEST

struct presser {
    unsigned presses;
};

static void *press(void *opaque)
{
    struct presser *p = opaque;

    for (unsigned i = 0; i < p->presses; i++)
        em_pm_power_button(pm);
    return NULL;
}

START_TEST(button_pressed_while_the_guest_acknowledges)
{
    struct presser p = { 20000 };
    pthread_t t;
    unsigned acks = 0;
    uint16_t sts;

    outw(EN, EM_PM1_PWRBTN);
    ck_assert_int_eq(pthread_create(&t, NULL, press, &p), 0);
    for (unsigned i = 0; i < 20000; i++) {
        if (inw(STS) & EM_PM1_PWRBTN) {
            outw(STS, EM_PM1_PWRBTN);
            acks++;
        }
    }
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_gt(acks, 0);
    /* Once both sides stop, the SCI is up exactly while the enabled
     * event is pending. */
    sts = inw(STS);
    ck_assert_int_eq(sci(), (sts & EM_PM1_PWRBTN) != 0);
    outw(STS, EM_PM1_PWRBTN);
    ck_assert_int_eq(sci(), 0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("pm");
    TCase *tc = tcase_create("pm");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, power_on_values);
    tcase_add_test(tc, status_is_write_one_to_clear);
    tcase_add_test(tc, enable_keeps_only_its_bits);
    tcase_add_test(tc, accesses_across_registers);
    tcase_add_test(tc, sci_follows_status_and_enable);
    tcase_add_test(tc, s5_powers_off);
    tcase_add_test(tc, s5_by_a_byte_write);
    tcase_add_test(tc, other_sleep_types_wake_at_once_with_one_warning);
    tcase_add_test(tc, timer_counts_at_3_579545_mhz);
    tcase_add_test(tc, timer_wraps_at_24_bits);
    tcase_add_test(tc, timer_carry_sets_tmr_sts);
    tcase_add_test(tc, real_clock_is_monotonic_time);
    tcase_add_test(tc, carry_timer_raises_the_sci_unprompted);
    tcase_add_test(tc, reset_restores_power_on_values);
    tcase_add_test(tc, a_taken_port_is_an_error);
    tcase_add_test(tc, button_pressed_while_the_guest_acknowledges);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
