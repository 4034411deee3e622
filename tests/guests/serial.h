/* SPDX-License-Identifier: GPL-2.0-or-later */
/* COM1 for the serial test guests: registers, polled output, exit codes. */
#ifndef SERIAL_GUEST_H
#define SERIAL_GUEST_H

#include "guest.h"

#define COM1     0x3f8
#define COM1_RBR (COM1 + 0)
#define COM1_THR (COM1 + 0)
#define COM1_IER (COM1 + 1)
#define COM1_IIR (COM1 + 2)
#define COM1_FCR (COM1 + 2)
#define COM1_LCR (COM1 + 3)
#define COM1_MCR (COM1 + 4)
#define COM1_LSR (COM1 + 5)
#define COM1_MSR (COM1 + 6)
#define COM1_SCR (COM1 + 7)

#define LSR_DR   0x01
#define LSR_THRE 0x20

/* What the host's tests look for: kvmemu exits with (0x2a << 1) | 1. */
#define SERIAL_GUEST_OK 0x2a

/* 115200 8N1, as a firmware would leave it. */
static inline void com1_init(void)
{
    outb(COM1_LCR, 0x80);
    outb(COM1_RBR, 1);
    outb(COM1_IER, 0);
    outb(COM1_LCR, 0x03);
}

static inline void com1_putc(char c)
{
    while (!(inb(COM1_LSR) & LSR_THRE))
        cpu_relax();
    outb(COM1_THR, (uint8_t)c);
}

static inline void com1_puts(const char *s)
{
    while (*s)
        com1_putc(*s++);
}

#endif
