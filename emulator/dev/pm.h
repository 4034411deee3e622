/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI PM device: the fixed-hardware registers the FADT points at
 * (acpi/fadt.c), in a PIIX4-like I/O block at EM_PM_IO_BASE:
 *
 *   +0  PM1_STS  (16 bits, write 1 to clear)  TMR_STS 0, PWRBTN_STS 8, WAK_STS 15
 *   +2  PM1_EN   (16 bits)                    TMR_EN 0, PWRBTN_EN 8
 *   +4  PM1_CNT  (16 bits)                    SCI_EN 0 (always 1), SLP_TYP 10-12, SLP_EN 13
 *   +8  PM_TMR   (32 bits, read-only)         a 24-bit counter at 3.579545 MHz
 *
 * The SCI (EM_SCI_GSI, level-triggered, active high) is asserted while an
 * enabled status bit is set. The device is em_machine_device(m, "pm").
 */
#ifndef EM_DEV_PM_H
#define EM_DEV_PM_H

#include <stdint.h>

#define EM_PM_DEVICE_NAME "pm"

#define EM_PM1_STS 0x0
#define EM_PM1_EN  0x2
#define EM_PM1_CNT 0x4
#define EM_PM_TMR  0x8

#define EM_PM1_TMR     (1u << 0) /* TMR_STS, TMR_EN */
#define EM_PM1_PWRBTN  (1u << 8) /* PWRBTN_STS, PWRBTN_EN */
#define EM_PM1_WAK_STS (1u << 15)

#define EM_PM1_CNT_SCI_EN        (1u << 0)
#define EM_PM1_CNT_SLP_TYP_SHIFT 10
#define EM_PM1_CNT_SLP_TYP       (7u << EM_PM1_CNT_SLP_TYP_SHIFT)
#define EM_PM1_CNT_SLP_EN        (1u << 13)
#define EM_PM_SLP_TYP_S5         5 /* as the DSDT's \_S5 says */

#define EM_PM_TIMER_HZ   3579545ull
#define EM_PM_TIMER_MASK 0xffffffu

struct em_pm;

/* Presses the power button: sets PWRBTN_STS, and raises the SCI if the
 * guest enabled it. Thread-safe (the monitor calls it from the main
 * thread while vCPUs run). */
void em_pm_power_button(struct em_pm *pm);

/* The clock the PM timer counts from, in nanoseconds; the default is
 * CLOCK_MONOTONIC, tests substitute their own. Resets the counter to 0. */
typedef uint64_t (*em_pm_clock_fn)(void *opaque);
void em_pm_set_clock(struct em_pm *pm, em_pm_clock_fn fn, void *opaque);

#endif
