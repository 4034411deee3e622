/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CMOS RTC through ports 0x70/0x71 with a clock the test controls:
 * time in BCD and binary, 12- and 24-hour, SET and a guest-set clock that
 * runs on, UIP, the interrupt flags and IRQ 8, the alarm, the periodic
 * rate, index masking, the memory-size bytes; and, with the real clock,
 * the update interrupt delivered by the main loop's timer, which is idle
 * when no interrupt is enabled.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dev/rtc.h"
#include "devices.h"
#include "fake_machine.h"

#define NS  1000000000ll
#define MIB (1ull << 20)

static struct log_capture cap;
static struct em_machine *m;
static struct em_rtc *rtc;
static int64_t clock_ns;

static int64_t test_clock(void *opaque)
{
    return *(int64_t *)opaque;
}

/* 2024-02-29 13:45:56 UTC, a Thursday. */
#define T0 1709214356ll

static void setup(void)
{
    log_capture_init(&cap);
    m = fake_machine_create(256 * MIB, 2, &cap);
    ck_assert_int_eq(em_rtc_create(m), 0);
    rtc = em_machine_device(m, "rtc");
    ck_assert_ptr_nonnull(rtc);
    clock_ns = T0 * NS + NS / 2;
    em_rtc_set_clock(rtc, test_clock, &clock_ns);
}

static void teardown(void)
{
    fake_machine_free(m);
    m = NULL;
}

static uint8_t rd(uint8_t idx)
{
    fake_outb(m, EM_RTC_PORT, idx);
    return fake_inb(m, EM_RTC_PORT + 1);
}

static void wr(uint8_t idx, uint8_t v)
{
    fake_outb(m, EM_RTC_PORT, idx);
    fake_outb(m, EM_RTC_PORT + 1, v);
}

static void advance(int64_t ns)
{
    clock_ns += ns;
}

struct hms {
    uint8_t sec, min, hour, wday, day, mon, year, cent;
};

static struct hms read_time(void)
{
    return (struct hms){ rd(EM_RTC_SECONDS), rd(EM_RTC_MINUTES), rd(EM_RTC_HOURS),
                         rd(EM_RTC_WEEKDAY), rd(EM_RTC_DAY),     rd(EM_RTC_MONTH),
                         rd(EM_RTC_YEAR),    rd(EM_RTC_CENTURY) };
}

static void check_time(struct hms t, const uint8_t want[8])
{
    const uint8_t got[8] = { t.sec, t.min, t.hour, t.wday, t.day, t.mon, t.year, t.cent };
    static const char *const names[8] = { "sec", "min", "hour", "wday",
                                          "day", "mon", "year", "century" };

    for (int i = 0; i < 8; i++)
        ck_assert_msg(got[i] == want[i], "%s: got 0x%02x, expected 0x%02x", names[i], got[i],
                      want[i]);
}

START_TEST(bcd_24h_by_default)
{
    static const uint8_t want[8] = { 0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 };

    ck_assert_uint_eq(rd(EM_RTC_REG_B), EM_RTC_B_24H);
    ck_assert_uint_eq(rd(EM_RTC_REG_A), 0x26);
    ck_assert_uint_eq(rd(EM_RTC_REG_D), EM_RTC_D_VRT);
    check_time(read_time(), want);
}
END_TEST

START_TEST(binary_mode)
{
    static const uint8_t want[8] = { 56, 45, 13, 5, 29, 2, 24, 20 };

    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_DM);
    check_time(read_time(), want);
}
END_TEST

START_TEST(twelve_hour_mode)
{
    wr(EM_RTC_REG_B, 0);                       /* BCD, 12-hour */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x81); /* 1 PM */
    advance(-13 * 3600 * NS);                  /* 00:45 */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x12); /* 12 AM */
    advance(12 * 3600 * NS);                   /* 12:45 */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x92); /* 12 PM */
    advance(-1 * 3600 * NS);                   /* 11:45 */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x11);
    wr(EM_RTC_REG_B, EM_RTC_B_DM); /* binary, 12-hour */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 11);
    advance(10 * 3600 * NS); /* 21:45 */
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x80 | 9);
}
END_TEST

START_TEST(time_follows_the_clock)
{
    advance(3 * NS);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x59);
    advance(1 * NS);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x00);
    ck_assert_uint_eq(rd(EM_RTC_MINUTES), 0x46);
    /* Across midnight into March. */
    advance((10 * 3600 + 14 * 60) * NS);
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x00);
    ck_assert_uint_eq(rd(EM_RTC_DAY), 0x01);
    ck_assert_uint_eq(rd(EM_RTC_MONTH), 0x03);
    ck_assert_uint_eq(rd(EM_RTC_WEEKDAY), 0x06);
}
END_TEST

START_TEST(set_freezes_and_guest_time_runs_on)
{
    static const uint8_t y2k[8] = { 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 };
    static const uint8_t later[8] = { 0x15, 0x01, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 };

    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_SET);
    advance(10 * NS);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x56); /* frozen */
    ck_assert_uint_eq(rd(EM_RTC_REG_A) & EM_RTC_A_UIP, 0);
    wr(EM_RTC_SECONDS, 0x00);
    wr(EM_RTC_MINUTES, 0x00);
    wr(EM_RTC_HOURS, 0x00);
    wr(EM_RTC_WEEKDAY, 0x07);
    wr(EM_RTC_DAY, 0x01);
    wr(EM_RTC_MONTH, 0x01);
    wr(EM_RTC_YEAR, 0x00);
    wr(EM_RTC_CENTURY, 0x20);
    advance(5 * NS); /* still frozen at what was written */
    check_time(read_time(), y2k);
    wr(EM_RTC_REG_B, EM_RTC_B_24H);
    check_time(read_time(), y2k);
    advance(75 * NS);
    check_time(read_time(), later);
    /* A reset keeps the guest's clock (the CMOS is battery-backed). */
    fake_machine_reset(m);
    check_time(read_time(), later);
}
END_TEST

START_TEST(far_future_runs_on)
{
    /* 2999-12-31 23:59:59, a Tuesday: past what 64-bit nanoseconds
     * since 1970 can hold. */
    static const uint8_t before[8] = { 0x59, 0x59, 0x23, 0x03, 0x31, 0x12, 0x99, 0x29 };
    static const uint8_t after[8] = { 0x00, 0x00, 0x00, 0x04, 0x01, 0x01, 0x00, 0x30 };

    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_SET);
    for (unsigned i = 0; i < 8; i++) {
        static const uint8_t regs[8] = { EM_RTC_SECONDS, EM_RTC_MINUTES, EM_RTC_HOURS,
                                         EM_RTC_WEEKDAY, EM_RTC_DAY,     EM_RTC_MONTH,
                                         EM_RTC_YEAR,    EM_RTC_CENTURY };

        wr(regs[i], before[i]);
    }
    wr(EM_RTC_REG_B, EM_RTC_B_24H);
    check_time(read_time(), before);
    advance(NS);
    check_time(read_time(), after);
}
END_TEST

START_TEST(single_field_write_without_set)
{
    wr(EM_RTC_MINUTES, 0x10);
    ck_assert_uint_eq(rd(EM_RTC_MINUTES), 0x10);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x56);
    ck_assert_uint_eq(rd(EM_RTC_HOURS), 0x13);
    /* The position within the second is kept: 0.5 s to the next one. */
    advance(NS / 2 - 1);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x56);
    advance(1);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x57);
}
END_TEST

START_TEST(uip_window)
{
    int polls = 0;

    ck_assert_uint_eq(rd(EM_RTC_REG_A) & EM_RTC_A_UIP, 0); /* mid-second */
    clock_ns = (T0 + 1) * NS - EM_RTC_UIP_NS;
    ck_assert_uint_eq(rd(EM_RTC_REG_A) & EM_RTC_A_UIP, EM_RTC_A_UIP);
    clock_ns = (T0 + 1) * NS - EM_RTC_UIP_NS - 1;
    ck_assert_uint_eq(rd(EM_RTC_REG_A) & EM_RTC_A_UIP, 0);
    /* Linux's loop: poll until UIP clears; here each poll takes 50 us. */
    clock_ns = (T0 + 1) * NS - EM_RTC_UIP_NS + 1;
    while (rd(EM_RTC_REG_A) & EM_RTC_A_UIP) {
        advance(50000);
        ck_assert_int_lt(++polls, 10);
    }
    ck_assert_int_eq(polls, 5);
    ck_assert_uint_eq(rd(EM_RTC_SECONDS), 0x57);
}
END_TEST

START_TEST(register_a_writable_bits)
{
    wr(EM_RTC_REG_A, 0xff);
    ck_assert_uint_eq(rd(EM_RTC_REG_A), 0x7f); /* UIP is read-only, and 0 mid-second */
    wr(EM_RTC_REG_A, 0x20);
    ck_assert_uint_eq(rd(EM_RTC_REG_A), 0x20);
}
END_TEST

/* Periodic flags come at 1024 Hz by default (PF is set whether or not
 * PIE is): tests of the other flags turn the rate off first. */
static void no_periodic(void)
{
    wr(EM_RTC_REG_A, 0x20);
    (void)rd(EM_RTC_REG_C);
}

START_TEST(register_c_read_to_clear)
{
    no_periodic();
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
    advance(NS);
    /* Update-ended, but not enabled: flag without IRQF or interrupt. */
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_UF);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
    ck_assert_uint_eq(fake_irq_calls(m, EM_RTC_GSI), 0);
    /* C and D are read-only. */
    wr(EM_RTC_REG_C, 0xff);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
    wr(EM_RTC_REG_D, 0x00);
    ck_assert_uint_eq(rd(EM_RTC_REG_D), EM_RTC_D_VRT);
}
END_TEST

START_TEST(update_interrupt)
{
    no_periodic();
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_UIE);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    advance(NS / 2);
    (void)rd(EM_RTC_REG_A); /* any access accounts for what passed */
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_IRQF | EM_RTC_C_UF);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    advance(NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_IRQF | EM_RTC_C_UF);
    /* SET stops updates and clears UIE. */
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_UIE | EM_RTC_B_SET);
    ck_assert_uint_eq(rd(EM_RTC_REG_B) & EM_RTC_B_UIE, 0);
    advance(3 * NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
}
END_TEST

START_TEST(enabling_with_flag_pending_interrupts)
{
    no_periodic();
    advance(NS);
    (void)rd(EM_RTC_REG_A);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_UIE);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_IRQF | EM_RTC_C_UF);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
}
END_TEST

START_TEST(alarm)
{
    no_periodic();
    /* 13:45:58, two seconds ahead. */
    wr(EM_RTC_SECONDS_ALARM, 0x58);
    wr(EM_RTC_MINUTES_ALARM, 0x45);
    wr(EM_RTC_HOURS_ALARM, 0x13);
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_AIE);
    advance(NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_UF);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    advance(NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_IRQF | EM_RTC_C_AF | EM_RTC_C_UF);
    /* Passed over between two accesses, it is still seen. */
    advance(86399 * NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_AF, 0);
    advance(10 * NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_AF, EM_RTC_C_AF);
    /* Don't-care values match every second. */
    wr(EM_RTC_SECONDS_ALARM, 0xc0);
    wr(EM_RTC_MINUTES_ALARM, 0xff);
    wr(EM_RTC_HOURS_ALARM, 0xc5);
    advance(NS);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_AF, EM_RTC_C_AF);
}
END_TEST

/* Moves the clock to the next multiple of `period` (ticks are counted
 * from the epoch) and clears the flags. */
static void align_to(int64_t period)
{
    clock_ns = (clock_ns / period + 1) * period;
    (void)rd(EM_RTC_REG_C);
}

START_TEST(periodic_interrupt)
{
    const int64_t p1024 = 976562; /* 1 s / 1024, as the divider rounds it */

    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_PIE);
    align_to(p1024);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    advance(p1024 - 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
    advance(1);
    (void)rd(EM_RTC_REG_A);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), EM_RTC_C_IRQF | EM_RTC_C_PF);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    /* Rate 0: no periodic interrupt at all. */
    wr(EM_RTC_REG_A, 0x20);
    (void)rd(EM_RTC_REG_C);
    advance(NS / 4);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_PF, 0);
    /* Rate 15: 2 Hz. */
    wr(EM_RTC_REG_A, 0x2f);
    align_to(NS / 2);
    advance(NS / 2 - 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_PF, 0);
    advance(1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_PF, EM_RTC_C_PF);
    /* Rate 1 is 256 Hz, not 32 kHz. */
    wr(EM_RTC_REG_A, 0x21);
    align_to(3906250);
    advance(3906249);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_PF, 0);
    advance(1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & EM_RTC_C_PF, EM_RTC_C_PF);
}
END_TEST

START_TEST(index_masked)
{
    /* Bit 7 is the NMI mask, not part of the index. */
    wr(0x80 | 0x40, 0xab);
    ck_assert_uint_eq(rd(0x40), 0xab);
    wr(0xff, 0x5c);
    ck_assert_uint_eq(rd(0x7f), 0x5c);
    ck_assert_uint_eq(rd(0x7e), 0x00);
    ck_assert_uint_eq(rd(0x40), 0xab);
    /* The index port reads as nothing. */
    ck_assert_uint_eq(fake_inb(m, EM_RTC_PORT), 0xff);
    /* A 16-bit write sets the index and writes the data. */
    fake_out(m, EM_RTC_PORT, 0x7700 | 0x41, 2);
    ck_assert_uint_eq(rd(0x41), 0x77);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

static unsigned cmos16(uint8_t lo)
{
    return rd(lo) | (unsigned)rd((uint8_t)(lo + 1)) << 8;
}

START_TEST(memory_size_bytes_256m)
{
    unsigned sum = 0;

    ck_assert_uint_eq(cmos16(0x15), 640);
    ck_assert_uint_eq(cmos16(0x17), 0xffff); /* 255 MiB in KiB, capped */
    ck_assert_uint_eq(cmos16(0x30), 0xffff);
    ck_assert_uint_eq(cmos16(0x34), (256 - 16) * 16);
    ck_assert_uint_eq(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 0);
    ck_assert_uint_eq(rd(0x5f), 1); /* CPUs - 1 */
    ck_assert_uint_eq(rd(0x10), 0);
    ck_assert_uint_eq(rd(0x14), 0x06);
    for (uint8_t i = 0x10; i < 0x2e; i++)
        sum += rd(i);
    ck_assert_uint_eq(rd(0x2e) << 8 | rd(0x2f), sum);
}
END_TEST

START_TEST(memory_size_bytes_small_and_large)
{
    struct em_machine *small = fake_machine_create(32 * MIB, 1, NULL);
    struct em_machine *large = fake_machine_create(6ull << 30, 1, NULL);
    struct em_machine *keep = m;

    ck_assert_int_eq(em_rtc_create(small), 0);
    ck_assert_int_eq(em_rtc_create(large), 0);
    m = small;
    ck_assert_uint_eq(cmos16(0x17), 31 * 1024);
    ck_assert_uint_eq(cmos16(0x34), 16 * 16);
    m = large;
    /* 3 GiB below 4 GiB, 3 GiB above. */
    ck_assert_uint_eq(cmos16(0x34), (3072 - 16) * 16);
    ck_assert_uint_eq(rd(0x5b) | rd(0x5c) << 8 | rd(0x5d) << 16, 3072 * 16);
    m = keep;
    fake_machine_free(small);
    fake_machine_free(large);
}
END_TEST

/* --rtc base=localtime: the registers show the host's local time, here a
 * zone 5 h 30 min ahead of UTC with no daylight saving; the default, UTC,
 * is what every other test reads. */
START_TEST(localtime_base)
{
    struct em_machine *local = fake_machine_create(32 * MIB, 1, NULL);
    struct em_machine *keep = m;
    struct em_rtc *r;
    int64_t now = T0 * NS;

    setenv("TZ", "IST-5:30", 1);
    tzset();
    fake_machine_config(local)->rtc_localtime = true;
    ck_assert_int_eq(em_rtc_create(local), 0);
    r = em_machine_device(local, "rtc");
    em_rtc_set_clock(r, test_clock, &now);
    m = local;
    /* 13:45:56 UTC is 19:15:56 there, the same day. */
    check_time(read_time(), (const uint8_t[8]){ 0x56, 0x15, 0x19, 0x05, 0x29, 0x02, 0x24, 0x20 });
    m = keep;
    check_time(read_time(), (const uint8_t[8]){ 0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });
    fake_machine_free(local);
    unsetenv("TZ");
    tzset();
}
END_TEST

START_TEST(reset_clears_enables_and_flags)
{
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_UIE | EM_RTC_B_PIE | EM_RTC_B_AIE | EM_RTC_B_DM);
    wr(0x50, 0x99);
    advance(NS);
    (void)rd(EM_RTC_REG_A);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 1);
    fake_machine_reset(m);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    ck_assert_uint_eq(rd(EM_RTC_REG_B), EM_RTC_B_24H | EM_RTC_B_DM);
    ck_assert_uint_eq(rd(EM_RTC_REG_C), 0);
    ck_assert_uint_eq(rd(0x50), 0x99); /* CMOS RAM kept */
}
END_TEST

START_TEST(garbage_time_registers_do_not_crash)
{
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_SET);
    for (uint8_t r = 0; r <= EM_RTC_YEAR; r++)
        if (r != 1 && r != 3 && r != 5)
            wr(r, 0xff);
    wr(EM_RTC_CENTURY, 0xff);
    wr(EM_RTC_REG_B, EM_RTC_B_24H);
    /* Whatever date that is, the registers read back as valid BCD. */
    for (uint8_t r = 0; r <= EM_RTC_YEAR; r++) {
        uint8_t v = rd(r);

        if (r == 1 || r == 3 || r == 5)
            continue;
        ck_assert_msg((v & 0x0f) <= 9 && (v >> 4) <= 9, "register %u: 0x%02x", r, v);
    }
}
END_TEST

/* ---- the real clock and the main loop ---- */

static void count_active_timers(uv_handle_t *h, void *arg)
{
    int *n = arg;

    if (h->type == UV_TIMER && uv_is_active(h))
        (*n)++;
}

static int active_timers(void)
{
    int n = 0;

    uv_walk(em_machine_loop(m), count_active_timers, &n);
    return n;
}

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(timer_delivers_update_interrupt)
{
    uv_loop_t *loop = em_machine_loop(m);
    double t0;

    em_rtc_set_clock(rtc, NULL, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(active_timers(), 0); /* nothing enabled: idle */
    wr(EM_RTC_REG_B, EM_RTC_B_24H | EM_RTC_B_UIE);
    uv_run(loop, UV_RUN_NOWAIT); /* the write woke the loop */
    ck_assert_int_eq(active_timers(), 1);
    t0 = mono_s();
    while (fake_irq_level(m, EM_RTC_GSI) == 0) {
        ck_assert_msg(mono_s() - t0 < 2.5, "no update interrupt within 2.5 s");
        uv_run(loop, UV_RUN_ONCE);
    }
    ck_assert_uint_eq(fake_irq_calls(m, EM_RTC_GSI), 1);
    ck_assert_uint_eq(rd(EM_RTC_REG_C) & (EM_RTC_C_IRQF | EM_RTC_C_UF),
                      EM_RTC_C_IRQF | EM_RTC_C_UF);
    ck_assert_int_eq(fake_irq_level(m, EM_RTC_GSI), 0);
    /* Disabled again: the timer stops once it has looked. */
    wr(EM_RTC_REG_B, EM_RTC_B_24H);
    uv_run(loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(active_timers(), 0);
}
END_TEST

START_TEST(port_taken_is_an_error)
{
    struct log_capture c2;
    struct em_machine *m2;

    log_capture_init(&c2);
    m2 = fake_machine_create(128 * MIB, 1, &c2);
    ck_assert_int_eq(kc_bus_register(fake_pio(m2), EM_RTC_PORT + 1, 1,
                                     &(const struct kc_io_ops){ 0 }, NULL, "squatter"),
                     0);
    ck_assert_int_eq(em_rtc_create(m2), -EEXIST);
    ck_assert_uint_eq(c2.count, 1);
    ck_assert(log_has(&c2, "'rtc'") && log_has(&c2, "'squatter'"));
    fake_machine_free(m2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_rtc");
    TCase *tc = tcase_create("rtc");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bcd_24h_by_default);
    tcase_add_test(tc, binary_mode);
    tcase_add_test(tc, twelve_hour_mode);
    tcase_add_test(tc, time_follows_the_clock);
    tcase_add_test(tc, set_freezes_and_guest_time_runs_on);
    tcase_add_test(tc, far_future_runs_on);
    tcase_add_test(tc, single_field_write_without_set);
    tcase_add_test(tc, uip_window);
    tcase_add_test(tc, register_a_writable_bits);
    tcase_add_test(tc, register_c_read_to_clear);
    tcase_add_test(tc, update_interrupt);
    tcase_add_test(tc, enabling_with_flag_pending_interrupts);
    tcase_add_test(tc, alarm);
    tcase_add_test(tc, periodic_interrupt);
    tcase_add_test(tc, index_masked);
    tcase_add_test(tc, memory_size_bytes_256m);
    tcase_add_test(tc, memory_size_bytes_small_and_large);
    tcase_add_test(tc, reset_clears_enables_and_flags);
    tcase_add_test(tc, localtime_base);
    tcase_add_test(tc, garbage_time_registers_do_not_crash);
    tcase_add_test(tc, timer_delivers_update_interrupt);
    tcase_add_test(tc, port_taken_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
