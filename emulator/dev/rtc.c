/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CMOS RTC (an MC146818 as on a PC): 128 bytes of CMOS with the
 * memory size where firmware-era software looks for it, and a clock that
 * follows the host's, read at access time: in UTC, or with --rtc
 * base=localtime in the host's local time zone (its offset at start, as
 * QEMU's -rtc base=localtime; Windows and some old systems expect it).
 *
 * The guest's time is the host clock plus an offset. Setting SET in
 * register B freezes the time registers so the guest can write them;
 * clearing it computes the new offset, so the guest's clock runs on from
 * what it wrote. A write to a time register without SET does the same for
 * that one field.
 *
 * Interrupt flags are accounted lazily: on every access and timer tick the
 * device works out which second boundaries (update-ended, alarm match)
 * and periodic ticks have passed since it last looked. A timer on the main
 * loop delivers IRQ 8 while an interrupt is enabled in register B, and is
 * stopped otherwise. The main loop's timers have millisecond resolution,
 * so periodic rates above 1 kHz deliver one interrupt per millisecond
 * (the flag is simply found set, as when a guest reads C late).
 *
 * Not modelled: the divider chain (DV bits are kept but the clock always
 * runs), the square-wave output, daylight saving (bit 0 of B).
 */
#define _GNU_SOURCE /* timegm */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/rtc.h"
#include "devices.h"

#define NS_PER_SEC  1000000000ll
#define DAY_SECONDS 86400

#define A_WRITABLE 0x7f
#define A_DEFAULT  0x26 /* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_DEFAULT  EM_RTC_B_24H

/* CMOS RAM, as SeaBIOS and QEMU lay it out. */
#define CMOS_EQUIPMENT     0x14
#define CMOS_BASE_MEM_LO   0x15
#define CMOS_EXT_MEM_LO    0x17
#define CMOS_CHECKSUM_HI   0x2e
#define CMOS_EXT_MEM2_LO   0x30
#define CMOS_MEM_16M_LO    0x34
#define CMOS_MEM_4G_LO     0x5b
#define CMOS_NR_CPUS       0x5f
#define EQUIPMENT_FPU_PS2M 0x06 /* FPU present, PS/2 mouse installed */

struct em_rtc {
    struct em_machine *m;
    pthread_mutex_t lock;
    uint8_t cmos[EM_RTC_CMOS_LEN];
    uint8_t index;
    bool nmi_masked;
    em_rtc_clock_fn clock;
    void *clock_opaque;
    /* Guest time = clock + offset, unless SET freezes it. In seconds and
     * nanoseconds (0 to 1e9 - 1): a guest may set any year up to 9999
     * and beyond, which 64-bit nanoseconds cannot hold. */
    int64_t offset_sec, offset_nsec;
    /* The guest second and periodic tick last accounted for. */
    int64_t last_sec;
    int64_t last_tick;
    bool irq; /* the level on IRQ 8 */

    /* Main loop only. */
    uv_timer_t timer;
    uv_async_t wake;
    unsigned open_handles;
};

static int64_t realtime_ns(void *opaque)
{
    struct timespec ts;

    (void)opaque;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* ---- register formats ---- */

static bool binary_mode(const struct em_rtc *r)
{
    return r->cmos[EM_RTC_REG_B] & EM_RTC_B_DM;
}

static uint8_t to_reg(const struct em_rtc *r, int v)
{
    if (binary_mode(r))
        return (uint8_t)v;
    return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* Any byte decodes to something; nonsense BCD gives a nonsense number,
 * which the date arithmetic below normalises rather than trusts. */
static int from_reg(const struct em_rtc *r, uint8_t v)
{
    if (binary_mode(r))
        return v;
    return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(const struct em_rtc *r, int hour)
{
    int h12;

    if (r->cmos[EM_RTC_REG_B] & EM_RTC_B_24H)
        return to_reg(r, hour);
    h12 = hour % 12 ? hour % 12 : 12;
    return (uint8_t)(to_reg(r, h12) | (hour >= 12 ? 0x80 : 0));
}

static int hour_from_reg(const struct em_rtc *r, uint8_t v)
{
    if (r->cmos[EM_RTC_REG_B] & EM_RTC_B_24H)
        return from_reg(r, v);
    return from_reg(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* ---- time ---- */

static int64_t now_ns(const struct em_rtc *r)
{
    return r->clock(r->clock_opaque);
}

static bool frozen(const struct em_rtc *r)
{
    return r->cmos[EM_RTC_REG_B] & EM_RTC_B_SET;
}

struct guest_time {
    int64_t sec;
    int64_t nsec; /* 0 to 1e9 - 1 */
};

static struct guest_time guest_time(const struct em_rtc *r, int64_t now)
{
    int64_t nsec = floor_mod(now, NS_PER_SEC) + r->offset_nsec; /* below 2e9 */

    return (struct guest_time){ floor_div(now, NS_PER_SEC) + r->offset_sec + nsec / NS_PER_SEC,
                                nsec % NS_PER_SEC };
}

/* The time registers (and century) for guest second `sec`. */
static void time_to_regs(struct em_rtc *r, int64_t sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    int year;

    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    year = tm.tm_year + 1900;
    r->cmos[EM_RTC_SECONDS] = to_reg(r, tm.tm_sec);
    r->cmos[EM_RTC_MINUTES] = to_reg(r, tm.tm_min);
    r->cmos[EM_RTC_HOURS] = hour_to_reg(r, tm.tm_hour);
    r->cmos[EM_RTC_WEEKDAY] = to_reg(r, tm.tm_wday + 1);
    r->cmos[EM_RTC_DAY] = to_reg(r, tm.tm_mday);
    r->cmos[EM_RTC_MONTH] = to_reg(r, tm.tm_mon + 1);
    r->cmos[EM_RTC_YEAR] = to_reg(r, year % 100);
    r->cmos[EM_RTC_CENTURY] = to_reg(r, year / 100);
}

/* The guest second the time registers describe. */
static int64_t regs_to_time(const struct em_rtc *r)
{
    struct tm tm = {
        .tm_sec = from_reg(r, r->cmos[EM_RTC_SECONDS]),
        .tm_min = from_reg(r, r->cmos[EM_RTC_MINUTES]),
        .tm_hour = hour_from_reg(r, r->cmos[EM_RTC_HOURS]),
        .tm_mday = from_reg(r, r->cmos[EM_RTC_DAY]),
        .tm_mon = from_reg(r, r->cmos[EM_RTC_MONTH]) - 1,
        .tm_year =
            from_reg(r, r->cmos[EM_RTC_CENTURY]) * 100 + from_reg(r, r->cmos[EM_RTC_YEAR]) - 1900,
    };

    /* Every field is at most 165 (0xff as BCD), so timegm() cannot
     * overflow; it normalises out-of-range fields. */
    return (int64_t)timegm(&tm);
}

static bool is_time_reg(unsigned idx)
{
    return idx == EM_RTC_SECONDS || idx == EM_RTC_MINUTES || idx == EM_RTC_HOURS ||
           (idx >= EM_RTC_WEEKDAY && idx <= EM_RTC_YEAR) || idx == EM_RTC_CENTURY;
}

/* The guest's time now lives in the registers: derive the offset from
 * them, keeping the position within the second. */
static void commit_regs(struct em_rtc *r, int64_t now, int64_t frac_ns)
{
    int64_t now_nsec = floor_mod(now, NS_PER_SEC);

    r->offset_nsec = floor_mod(frac_ns - now_nsec, NS_PER_SEC);
    r->offset_sec =
        regs_to_time(r) - floor_div(now, NS_PER_SEC) - (now_nsec + r->offset_nsec) / NS_PER_SEC;
    r->last_sec = guest_time(r, now).sec;
}

/* ---- interrupts ---- */

static uint8_t reg_in_format(const struct em_rtc *r, int64_t sec, unsigned idx)
{
    int64_t s = floor_mod(sec, DAY_SECONDS);

    if (idx == EM_RTC_SECONDS)
        return to_reg(r, (int)(s % 60));
    if (idx == EM_RTC_MINUTES)
        return to_reg(r, (int)(s / 60 % 60));
    return hour_to_reg(r, (int)(s / 3600));
}

static bool alarm_matches(const struct em_rtc *r, int64_t sec)
{
    static const unsigned regs[3] = { EM_RTC_SECONDS, EM_RTC_MINUTES, EM_RTC_HOURS };

    for (unsigned i = 0; i < 3; i++) {
        uint8_t alarm = r->cmos[regs[i] + 1];

        /* 0xc0-0xff is "don't care". */
        if ((alarm & 0xc0) != 0xc0 && alarm != reg_in_format(r, sec, regs[i]))
            return false;
    }
    return true;
}

/* The periodic interrupt's period, or 0 when RS selects none. */
static int64_t period_ns(const struct em_rtc *r)
{
    unsigned rs = r->cmos[EM_RTC_REG_A] & 0x0f;

    if (rs == 0)
        return 0;
    if (rs <= 2) /* 256 Hz and 128 Hz, as on the MC146818 */
        rs += 7;
    /* 32768 Hz >> (rs - 1) */
    return (NS_PER_SEC << (rs - 1)) / 32768;
}

static void update_irq(struct em_rtc *r)
{
    uint8_t c = r->cmos[EM_RTC_REG_C];
    bool want;

    if (c & r->cmos[EM_RTC_REG_B] & (EM_RTC_C_PF | EM_RTC_C_AF | EM_RTC_C_UF))
        c |= EM_RTC_C_IRQF;
    r->cmos[EM_RTC_REG_C] = c;
    want = c & EM_RTC_C_IRQF;
    if (want != r->irq) {
        r->irq = want;
        em_machine_irq(r->m, EM_RTC_GSI, want);
    }
}

/* Sets the flags of everything that happened up to `now`. Lock held. */
static void catch_up(struct em_rtc *r, int64_t now)
{
    int64_t period = period_ns(r);

    if (!frozen(r)) {
        int64_t sec = guest_time(r, now).sec;

        if (sec > r->last_sec) {
            /* Every alarm time recurs within a day: look at no more. */
            int64_t first =
                sec - r->last_sec > DAY_SECONDS ? sec - DAY_SECONDS + 1 : r->last_sec + 1;

            r->cmos[EM_RTC_REG_C] |= EM_RTC_C_UF;
            for (int64_t s = first; s <= sec; s++) {
                if (alarm_matches(r, s)) {
                    r->cmos[EM_RTC_REG_C] |= EM_RTC_C_AF;
                    break;
                }
            }
            r->last_sec = sec;
        }
    }
    if (period) {
        int64_t tick = floor_div(now, period);

        if (tick > r->last_tick) {
            r->cmos[EM_RTC_REG_C] |= EM_RTC_C_PF;
            r->last_tick = tick;
        }
    }
    update_irq(r);
}

/* Time to the next event the enabled interrupts need, or -1. Lock held. */
static int64_t next_event_ns(const struct em_rtc *r, int64_t now)
{
    uint8_t b = r->cmos[EM_RTC_REG_B];
    int64_t period = period_ns(r), next = -1;

    if ((b & (EM_RTC_B_UIE | EM_RTC_B_AIE)) && !frozen(r))
        next = NS_PER_SEC - guest_time(r, now).nsec;
    if ((b & EM_RTC_B_PIE) && period) {
        int64_t p = period - floor_mod(now, period);

        if (next < 0 || p < next)
            next = p;
    }
    return next;
}

static void on_timer(uv_timer_t *t);

/* Main loop: (re)arms the timer for the next event, or stops it. */
static void schedule(struct em_rtc *r)
{
    int64_t next;

    pthread_mutex_lock(&r->lock);
    next = next_event_ns(r, now_ns(r));
    pthread_mutex_unlock(&r->lock);
    if (next < 0) {
        uv_timer_stop(&r->timer);
        return;
    }
    /* Round up, so that the event has happened when the timer fires. */
    uv_timer_start(&r->timer, on_timer, (uint64_t)((next + 999999) / 1000000), 0);
}

static void on_timer(uv_timer_t *t)
{
    struct em_rtc *r = t->data;

    pthread_mutex_lock(&r->lock);
    catch_up(r, now_ns(r));
    pthread_mutex_unlock(&r->lock);
    schedule(r);
}

static void on_wake(uv_async_t *a)
{
    schedule(a->data);
}

/* ---- registers ---- */

static uint8_t reg_read(struct em_rtc *r, unsigned idx)
{
    int64_t now = now_ns(r);
    uint8_t v;

    catch_up(r, now);
    if (is_time_reg(idx) && !frozen(r)) {
        time_to_regs(r, guest_time(r, now).sec);
        return r->cmos[idx];
    }
    switch (idx) {
    case EM_RTC_REG_A:
        v = r->cmos[EM_RTC_REG_A] & A_WRITABLE;
        if (!frozen(r) && guest_time(r, now).nsec >= NS_PER_SEC - EM_RTC_UIP_NS)
            v |= EM_RTC_A_UIP;
        return v;
    case EM_RTC_REG_C:
        /* Reading C acknowledges every flag and the interrupt. */
        v = r->cmos[EM_RTC_REG_C];
        r->cmos[EM_RTC_REG_C] = 0;
        update_irq(r);
        return v;
    case EM_RTC_REG_D:
        return EM_RTC_D_VRT;
    default:
        return r->cmos[idx];
    }
}

/* Returns true if the timer needs to look at the registers again. */
static bool reg_write(struct em_rtc *r, unsigned idx, uint8_t v)
{
    int64_t now = now_ns(r);
    uint8_t old_b = r->cmos[EM_RTC_REG_B];

    catch_up(r, now);
    if (is_time_reg(idx)) {
        if (frozen(r)) {
            r->cmos[idx] = v;
        } else {
            struct guest_time g = guest_time(r, now);

            time_to_regs(r, g.sec);
            r->cmos[idx] = v;
            commit_regs(r, now, g.nsec);
        }
        return true;
    }
    switch (idx) {
    case EM_RTC_REG_A:
        r->cmos[EM_RTC_REG_A] = v & A_WRITABLE;
        if (period_ns(r))
            r->last_tick = floor_div(now, period_ns(r));
        return true;
    case EM_RTC_REG_B:
        if (v & EM_RTC_B_SET) {
            v &= (uint8_t)~EM_RTC_B_UIE; /* no updates, so no update interrupts */
            /* Freeze what the guest would read now, in the old format. */
            if (!(old_b & EM_RTC_B_SET))
                time_to_regs(r, guest_time(r, now).sec);
        }
        r->cmos[EM_RTC_REG_B] = v;
        if (!(v & EM_RTC_B_SET) && (old_b & EM_RTC_B_SET))
            commit_regs(r, now, 0);
        update_irq(r);
        return true;
    case EM_RTC_REG_C:
    case EM_RTC_REG_D:
        return false; /* read-only */
    default:
        r->cmos[idx] = v;
        return false;
    }
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_rtc *r = opaque;
    uint64_t v = 0;

    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < size && offset + i < 2; i++) {
        /* The index register is write-only. */
        uint8_t b = offset + i == 0 ? 0xff : reg_read(r, r->index);

        v |= (uint64_t)b << (8 * i);
    }
    pthread_mutex_unlock(&r->lock);
    return v;
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_rtc *r = opaque;
    bool wake = false;

    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < size && offset + i < 2; i++) {
        uint8_t b = (uint8_t)(value >> (8 * i));

        if (offset + i == 0) {
            r->index = b & 0x7f;
            r->nmi_masked = b & 0x80;
        } else {
            wake |= reg_write(r, r->index, b);
        }
    }
    pthread_mutex_unlock(&r->lock);
    /* The timer belongs to the main loop: ask it to look again. */
    if (wake)
        uv_async_send(&r->wake);
}

static const struct kc_io_ops rtc_ops = { .read = rtc_read, .write = rtc_write };

void em_rtc_set_clock(struct em_rtc *r, em_rtc_clock_fn fn, void *opaque)
{
    int64_t now;

    pthread_mutex_lock(&r->lock);
    r->clock = fn ? fn : realtime_ns;
    r->clock_opaque = opaque;
    now = now_ns(r);
    r->last_sec = guest_time(r, now).sec;
    r->last_tick = period_ns(r) ? floor_div(now, period_ns(r)) : 0;
    pthread_mutex_unlock(&r->lock);
}

/* ---- CMOS contents ---- */

static void put16(uint8_t *p, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void fill_cmos(struct em_rtc *r)
{
    const struct em_memmap *mm = em_machine_memmap(r->m);
    uint64_t ext_kib =
        mm->ram_below_4g > EM_HIGH_MEM_START ? (mm->ram_below_4g - EM_HIGH_MEM_START) >> 10 : 0;
    uint64_t above_16m =
        mm->ram_below_4g > (16ull << 20) ? (mm->ram_below_4g - (16ull << 20)) >> 16 : 0;
    uint64_t above_4g = mm->ram_above_4g >> 16;
    unsigned sum = 0;

    r->cmos[EM_RTC_REG_A] = A_DEFAULT;
    r->cmos[EM_RTC_REG_B] = B_DEFAULT;
    r->cmos[EM_RTC_REG_D] = EM_RTC_D_VRT;
    r->cmos[CMOS_EQUIPMENT] = EQUIPMENT_FPU_PS2M;
    put16(&r->cmos[CMOS_BASE_MEM_LO], 640);
    put16(&r->cmos[CMOS_EXT_MEM_LO], ext_kib);
    put16(&r->cmos[CMOS_EXT_MEM2_LO], ext_kib);
    put16(&r->cmos[CMOS_MEM_16M_LO], above_16m);
    r->cmos[CMOS_MEM_4G_LO] = (uint8_t)above_4g;
    r->cmos[CMOS_MEM_4G_LO + 1] = (uint8_t)(above_4g >> 8);
    r->cmos[CMOS_MEM_4G_LO + 2] = (uint8_t)(above_4g >> 16);
    r->cmos[CMOS_NR_CPUS] = (uint8_t)(em_machine_ncpus(r->m) - 1);
    /* The classic checksum over 0x10-0x2d, big-endian at 0x2e. */
    for (unsigned i = 0x10; i < CMOS_CHECKSUM_HI; i++)
        sum += r->cmos[i];
    r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
    r->cmos[CMOS_CHECKSUM_HI + 1] = (uint8_t)sum;
}

/* ---- life cycle ---- */

/* How far the host's local time zone is ahead of UTC now, in seconds. */
static int64_t local_offset_sec(void)
{
    time_t now = time(NULL);
    struct tm tm;

    return localtime_r(&now, &tm) ? (int64_t)tm.tm_gmtoff : 0;
}

/* Battery-backed: the CMOS and the guest's clock survive a reset; the
 * interrupt enables and flags do not. Main loop. */
static void rtc_reset(void *state)
{
    struct em_rtc *r = state;

    pthread_mutex_lock(&r->lock);
    r->index = 0;
    r->nmi_masked = false;
    r->cmos[EM_RTC_REG_B] &=
        (uint8_t) ~(EM_RTC_B_PIE | EM_RTC_B_AIE | EM_RTC_B_UIE | EM_RTC_B_SQWE);
    r->cmos[EM_RTC_REG_C] = 0;
    update_irq(r);
    pthread_mutex_unlock(&r->lock);
    schedule(r);
}

static void on_closed(uv_handle_t *h)
{
    struct em_rtc *r = h->data;

    /* The loop may still touch a handle until its close callback: free
     * the device with the last one. */
    if (--r->open_handles == 0) {
        pthread_mutex_destroy(&r->lock);
        free(r);
    }
}

static void rtc_destroy(void *state)
{
    struct em_rtc *r = state;

    uv_close((uv_handle_t *)&r->timer, on_closed);
    uv_close((uv_handle_t *)&r->wake, on_closed);
}

static const struct em_device_ops rtc_dev = { .reset = rtc_reset, .destroy = rtc_destroy };

int em_rtc_create(struct em_machine *m)
{
    struct em_rtc *r = calloc(1, sizeof(*r));
    int ret;

    if (!r) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "rtc: out of memory");
        return -ENOMEM;
    }
    r->m = m;
    pthread_mutex_init(&r->lock, NULL);
    fill_cmos(r);
    if (em_machine_config(m)->rtc_localtime)
        r->offset_sec = local_offset_sec();
    em_rtc_set_clock(r, NULL, NULL);
    uv_timer_init(em_machine_loop(m), &r->timer);
    uv_async_init(em_machine_loop(m), &r->wake, on_wake);
    r->timer.data = r->wake.data = r;
    r->open_handles = 2;
    ret = em_machine_add_device(m, "rtc", r, &rtc_dev);
    if (ret < 0) {
        rtc_destroy(r);
        return ret;
    }
    return em_machine_pio(m, EM_RTC_PORT, 2, &rtc_ops, r, "rtc");
}
