/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output and verdicts shared by the virtio test guests. */
#ifndef VGUEST_H
#define VGUEST_H

#include "serial.h"

static inline void vg_hex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        com1_putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

/* Prints "<tag> FAIL <what>" and exits with code (0x40 + code). */
__attribute__((noreturn)) static inline void vg_fail(const char *tag, unsigned code,
                                                     const char *what)
{
    com1_puts(tag);
    com1_puts(" FAIL ");
    com1_puts(what);
    com1_puts("\n");
    guest_exit((uint8_t)(0x40 + code));
}

#define VG_CHECK(tag, cond, code)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            vg_fail(tag, code, #cond);                                                             \
    } while (0)

#endif
