/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI PM device (see pm.h for the registers): what lets an ACPI
 * guest power the machine off (SLP_TYP 5 with SLP_EN), see the power
 * button, and use the PM timer as a clock.
 *
 * vCPU threads access the registers while the main thread presses the
 * button and runs the timer, so all state is under one lock. Status bits
 * are accounted at each access: the PM timer is read from the clock, and
 * TMR_STS is set when its bit 23 has changed since it was last looked at.
 * While TMR_EN is set, a timer on the main loop wakes at each such carry
 * so that the SCI is raised on time; otherwise nothing runs.
 *
 * The reset control register (0xcf9) is not here: it sits inside the
 * PCI configuration address port (0xcf8-0xcfb), which the PCI host owns
 * and serves it from (pci/bus.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "dev/pm.h"
#include "devices.h"

#define NS_PER_SEC 1000000000ull
#define NS_PER_MS  1000000ull

/* TMR_STS follows the counter's most significant bit. */
#define TMR_CARRY_SHIFT 23

#define STS_W1C (EM_PM1_TMR | EM_PM1_PWRBTN | EM_PM1_WAK_STS)
#define EN_RW   (EM_PM1_TMR | EM_PM1_PWRBTN)
/* Events that raise the SCI when both status and enable are set. */
#define SCI_EVENTS (EM_PM1_TMR | EM_PM1_PWRBTN)
/* PM1_CNT bits that keep what was written: BM_RLD and SLP_TYP. SCI_EN
 * always reads 1, SLP_EN and GBL_RLS are write-only. */
#define CNT_RW (EM_PM1_CNT_SLP_TYP | (1u << 1))

struct em_pm {
    struct em_machine *m;
    pthread_mutex_t lock;
    uint16_t sts, en, cnt;
    bool sci; /* the level driven on EM_SCI_GSI */
    bool warned_sleep;

    em_pm_clock_fn clock;
    void *clock_opaque;
    uint64_t tmr_base_ns; /* when the counter read 0 */
    uint64_t tmr_carries; /* counter >> 23 when TMR_STS was last accounted */

    /* Main loop only. */
    uv_timer_t timer;
    uv_async_t wake;
    unsigned open_handles;
};

/* What a register write asks of the machine, done after unlocking. */
enum pm_action {
    PM_NONE,
    PM_POWEROFF,
    PM_SLEEP_IGNORED,
};

static uint64_t monotonic_ns(void *opaque)
{
    struct timespec ts;

    (void)opaque;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* PM timer ticks in ns nanoseconds, split so nothing overflows. */
static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / NS_PER_SEC * EM_PM_TIMER_HZ + ns % NS_PER_SEC * EM_PM_TIMER_HZ / NS_PER_SEC;
}

/* Nanoseconds until `ticks` ticks have passed, rounded up. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    return ticks / EM_PM_TIMER_HZ * NS_PER_SEC +
           (ticks % EM_PM_TIMER_HZ * NS_PER_SEC + EM_PM_TIMER_HZ - 1) / EM_PM_TIMER_HZ;
}

static uint64_t ticks_now(struct em_pm *pm)
{
    uint64_t now = pm->clock(pm->clock_opaque);

    /* A substituted clock may be set back: the counter then restarts. */
    return now >= pm->tmr_base_ns ? ns_to_ticks(now - pm->tmr_base_ns) : 0;
}

/* Under the lock: TMR_STS from the counter, then the SCI's level. */
static void update(struct em_pm *pm)
{
    uint64_t carries = ticks_now(pm) >> TMR_CARRY_SHIFT;
    bool level;

    if (carries != pm->tmr_carries) {
        pm->tmr_carries = carries;
        pm->sts |= EM_PM1_TMR;
    }
    level = (pm->sts & pm->en & SCI_EVENTS) != 0;
    if (level != pm->sci) {
        pm->sci = level;
        em_machine_irq(pm->m, EM_SCI_GSI, level);
    }
}

/* ---- the carry timer (main loop) ---- */

static void on_timer(uv_timer_t *t);

/* Arms the timer for the next carry while TMR_EN is set, else stops it. */
static void schedule(struct em_pm *pm)
{
    uint64_t now_ticks, wait_ns = 0;
    bool armed;

    pthread_mutex_lock(&pm->lock);
    armed = pm->en & EM_PM1_TMR;
    if (armed) {
        now_ticks = ticks_now(pm);
        wait_ns = ticks_to_ns(((now_ticks >> TMR_CARRY_SHIFT) + 1) << TMR_CARRY_SHIFT) -
                  ticks_to_ns(now_ticks);
    }
    pthread_mutex_unlock(&pm->lock);
    if (!armed) {
        uv_timer_stop(&pm->timer);
        return;
    }
    /* Round up, and a millisecond more: the carry has happened when the
     * timer fires. */
    uv_timer_start(&pm->timer, on_timer, wait_ns / NS_PER_MS + 1, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct em_pm *pm = t->data;

    pthread_mutex_lock(&pm->lock);
    update(pm);
    pthread_mutex_unlock(&pm->lock);
    schedule(pm);
}

static void on_wake(uv_async_t *a)
{
    schedule(a->data);
}

/* ---- registers ---- */

/* The 16 bytes of the block as the guest reads them now. */
static void snapshot(struct em_pm *pm, uint8_t regs[EM_PM_IO_SIZE])
{
    uint32_t tmr = (uint32_t)(ticks_now(pm) & EM_PM_TIMER_MASK);
    uint16_t cnt = (uint16_t)(pm->cnt | EM_PM1_CNT_SCI_EN);

    for (unsigned i = 0; i < EM_PM_IO_SIZE; i++)
        regs[i] = 0;
    regs[EM_PM1_STS] = (uint8_t)pm->sts;
    regs[EM_PM1_STS + 1] = (uint8_t)(pm->sts >> 8);
    regs[EM_PM1_EN] = (uint8_t)pm->en;
    regs[EM_PM1_EN + 1] = (uint8_t)(pm->en >> 8);
    regs[EM_PM1_CNT] = (uint8_t)cnt;
    regs[EM_PM1_CNT + 1] = (uint8_t)(cnt >> 8);
    for (unsigned i = 0; i < 4; i++)
        regs[EM_PM_TMR + i] = (uint8_t)(tmr >> (8 * i));
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_pm *pm = opaque;
    uint8_t regs[EM_PM_IO_SIZE];
    uint64_t v = 0;

    /* The bus hands over only accesses inside the block; a handler
     * called some other way reads as an unassigned port does. */
    if (offset >= EM_PM_IO_SIZE || size == 0 || size > EM_PM_IO_SIZE - offset)
        return ~0ull;
    pthread_mutex_lock(&pm->lock);
    update(pm);
    snapshot(pm, regs);
    pthread_mutex_unlock(&pm->lock);
    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)regs[offset + i] << (8 * i);
    return v;
}

/* The part of a write that lands in the 16-bit register at `reg`: its
 * bytes in *value and which bytes were written in *mask. */
static bool lanes(uint64_t offset, uint64_t value, unsigned size, unsigned reg, uint16_t *v,
                  uint16_t *mask)
{
    *v = *mask = 0;
    for (unsigned i = 0; i < size && i < 8; i++) {
        uint64_t at = offset + i;

        if (at >= reg && at < reg + 2u) {
            *v |= (uint16_t)(((value >> (8 * i)) & 0xff) << (8 * (at - reg)));
            *mask |= (uint16_t)(0xffu << (8 * (at - reg)));
        }
    }
    return *mask != 0;
}

/* A write of PM1_CNT; SLP_EN asks for the sleep state in SLP_TYP. */
static enum pm_action write_cnt(struct em_pm *pm, uint16_t v, uint16_t mask)
{
    uint16_t cnt = (uint16_t)((pm->cnt & ~mask) | (v & mask));
    unsigned slp_typ = (cnt & EM_PM1_CNT_SLP_TYP) >> EM_PM1_CNT_SLP_TYP_SHIFT;

    pm->cnt = cnt & CNT_RW;
    if (!(v & mask & EM_PM1_CNT_SLP_EN))
        return PM_NONE;
    if (slp_typ == EM_PM_SLP_TYP_S5)
        return PM_POWEROFF;
    /* No other sleep state is offered (the DSDT has only \_S5); a guest
     * that asks anyway wakes at once instead of waiting forever for
     * WAK_STS. */
    pm->sts |= EM_PM1_WAK_STS;
    return PM_SLEEP_IGNORED;
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_pm *pm = opaque;
    enum pm_action action = PM_NONE;
    uint16_t v, mask, old_en, new_en;
    unsigned slp_typ;
    bool warn = false;

    if (offset >= EM_PM_IO_SIZE || size == 0 || size > EM_PM_IO_SIZE - offset)
        return;
    pthread_mutex_lock(&pm->lock);
    update(pm);
    old_en = pm->en;
    if (lanes(offset, value, size, EM_PM1_STS, &v, &mask))
        pm->sts &= (uint16_t) ~(v & mask & STS_W1C);
    if (lanes(offset, value, size, EM_PM1_EN, &v, &mask))
        pm->en = (uint16_t)((pm->en & ~mask) | (v & mask & EN_RW));
    if (lanes(offset, value, size, EM_PM1_CNT, &v, &mask))
        action = write_cnt(pm, v, mask);
    /* PM_TMR and the reserved bytes ignore writes. */
    slp_typ = (pm->cnt & EM_PM1_CNT_SLP_TYP) >> EM_PM1_CNT_SLP_TYP_SHIFT;
    if (action == PM_SLEEP_IGNORED && !pm->warned_sleep) {
        pm->warned_sleep = true;
        warn = true;
    }
    update(pm);
    new_en = pm->en;
    pthread_mutex_unlock(&pm->lock);

    /* The carry timer runs only while TMR_EN is set. */
    if ((old_en ^ new_en) & EM_PM1_TMR)
        uv_async_send(&pm->wake);
    if (action == PM_POWEROFF) {
        em_timeline_mark(em_machine_timeline(pm->m), "ACPI S5 power-off");
        em_machine_request(pm->m, EM_REQ_POWEROFF, EM_EXIT_OK);
    } else if (warn) {
        kc_log(em_machine_logger(pm->m), KC_LOG_WARN,
               "pm: the guest asked for sleep state SLP_TYP=%u, which this machine does not "
               "have; it goes on as if woken at once (warned once)",
               slp_typ);
    }
}

static const struct kc_io_ops pm_ops = { .read = pm_read, .write = pm_write };

/* ---- API ---- */

void em_pm_power_button(struct em_pm *pm)
{
    pthread_mutex_lock(&pm->lock);
    pm->sts |= EM_PM1_PWRBTN;
    update(pm);
    pthread_mutex_unlock(&pm->lock);
    em_timeline_mark(em_machine_timeline(pm->m), "ACPI power button pressed");
}

void em_pm_set_clock(struct em_pm *pm, em_pm_clock_fn fn, void *opaque)
{
    pthread_mutex_lock(&pm->lock);
    pm->clock = fn ? fn : monotonic_ns;
    pm->clock_opaque = fn ? opaque : NULL;
    pm->tmr_base_ns = pm->clock(pm->clock_opaque);
    pm->tmr_carries = 0;
    pthread_mutex_unlock(&pm->lock);
}

/* ---- the device ---- */

static void pm_reset(void *state)
{
    struct em_pm *pm = state;

    pthread_mutex_lock(&pm->lock);
    pm->sts = pm->en = pm->cnt = 0;
    pm->tmr_base_ns = pm->clock(pm->clock_opaque);
    pm->tmr_carries = 0;
    /* Unconditionally: the line's level outlives an irqchip reset. */
    pm->sci = false;
    em_machine_irq(pm->m, EM_SCI_GSI, 0);
    pthread_mutex_unlock(&pm->lock);
    schedule(pm);
}

static void on_closed(uv_handle_t *h)
{
    struct em_pm *pm = h->data;

    /* The loop may touch a handle until its close callback: free the
     * device with the last one. */
    if (--pm->open_handles == 0) {
        pthread_mutex_destroy(&pm->lock);
        free(pm);
    }
}

static void pm_destroy(void *state)
{
    struct em_pm *pm = state;

    uv_close((uv_handle_t *)&pm->timer, on_closed);
    uv_close((uv_handle_t *)&pm->wake, on_closed);
}

static const struct em_device_ops pm_dev = { .reset = pm_reset, .destroy = pm_destroy };

int em_pm_create(struct em_machine *m)
{
    struct em_pm *pm = calloc(1, sizeof(*pm));
    int ret;

    if (!pm) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "pm: out of memory");
        return -ENOMEM;
    }
    pm->m = m;
    pthread_mutex_init(&pm->lock, NULL);
    em_pm_set_clock(pm, NULL, NULL);
    uv_timer_init(em_machine_loop(m), &pm->timer);
    uv_async_init(em_machine_loop(m), &pm->wake, on_wake);
    pm->timer.data = pm->wake.data = pm;
    pm->open_handles = 2;
    ret = em_machine_add_device(m, EM_PM_DEVICE_NAME, pm, &pm_dev);
    if (ret < 0) {
        pm_destroy(pm);
        return ret;
    }
    /* From here on the machine destroys the device if anything fails. */
    return em_machine_pio(m, EM_PM_IO_BASE, EM_PM_IO_SIZE, &pm_ops, pm, "acpi-pm");
}
