/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CMOS RTC: ports 0x70 (index, bit 7 masks NMIs) and 0x71 (data). The
 * device is em_machine_device(m, "rtc").
 */
#ifndef EM_DEV_RTC_H
#define EM_DEV_RTC_H

#include <stdint.h>

#define EM_RTC_PORT     0x70
#define EM_RTC_CMOS_LEN 128

/* Registers. */
#define EM_RTC_SECONDS       0x00
#define EM_RTC_SECONDS_ALARM 0x01
#define EM_RTC_MINUTES       0x02
#define EM_RTC_MINUTES_ALARM 0x03
#define EM_RTC_HOURS         0x04
#define EM_RTC_HOURS_ALARM   0x05
#define EM_RTC_WEEKDAY       0x06
#define EM_RTC_DAY           0x07
#define EM_RTC_MONTH         0x08
#define EM_RTC_YEAR          0x09
#define EM_RTC_REG_A         0x0a
#define EM_RTC_REG_B         0x0b
#define EM_RTC_REG_C         0x0c
#define EM_RTC_REG_D         0x0d
#define EM_RTC_CENTURY       0x32

#define EM_RTC_A_UIP  0x80
#define EM_RTC_B_SET  0x80
#define EM_RTC_B_PIE  0x40
#define EM_RTC_B_AIE  0x20
#define EM_RTC_B_UIE  0x10
#define EM_RTC_B_SQWE 0x08
#define EM_RTC_B_DM   0x04 /* 1: binary, 0: BCD */
#define EM_RTC_B_24H  0x02
#define EM_RTC_C_IRQF 0x80
#define EM_RTC_C_PF   0x40
#define EM_RTC_C_AF   0x20
#define EM_RTC_C_UF   0x10
#define EM_RTC_D_VRT  0x80

/* How long UIP is set before each second boundary. */
#define EM_RTC_UIP_NS 244000

struct em_rtc;

/* The clock the RTC keeps time from: nanoseconds since the epoch, UTC.
 * The default is CLOCK_REALTIME; tests substitute their own. */
typedef int64_t (*em_rtc_clock_fn)(void *opaque);
void em_rtc_set_clock(struct em_rtc *r, em_rtc_clock_fn fn, void *opaque);

#endif
