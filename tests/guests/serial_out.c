/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COM1 output. First the checks Linux's 8250 driver makes to decide that
 * the chip is a 16550A (a failed one exits with 0x10 + its number), then a
 * few lines written by polling LSR.THRE.
 */
#include "serial.h"

static void check(int ok, uint8_t n)
{
    if (!ok)
        guest_exit((uint8_t)(0x10 + n));
}

static void detect_16550a(void)
{
    /* IER holds its four bits; the scratch register holds anything. */
    outb(COM1_IER, 0);
    check((inb(COM1_IER) & 0x0f) == 0, 1);
    outb(COM1_IER, 0x0f);
    check((inb(COM1_IER) & 0x0f) == 0x0f, 2);
    outb(COM1_IER, 0);
    for (unsigned v = 0; v < 256; v += 0x55) {
        outb(COM1_SCR, (uint8_t)v);
        check(inb(COM1_SCR) == v, 3);
    }
    /* Loopback: MSR follows MCR. */
    outb(COM1_MCR, 0x1a);
    check((inb(COM1_MSR) & 0xf0) == 0x90, 4);
    /* A byte sent in loopback comes back, and nothing leaves. */
    outb(COM1_THR, 'L');
    check((inb(COM1_LSR) & LSR_DR) != 0, 5);
    check(inb(COM1_RBR) == 'L', 6);
    outb(COM1_MCR, 0);
    /* FIFOs: IIR's top bits say 16550A, bit 5 does not (not a 16750). */
    outb(COM1_FCR, 0x21);
    check((inb(COM1_IIR) & 0xe0) == 0xc0, 7);
    outb(COM1_FCR, 0);
    check((inb(COM1_IIR) & 0xc0) == 0, 8);
    /* A wider access is the byte at its port, zero-extended on reads. */
    outw(COM1_LCR, 0xbe07);
    check(inb(COM1_LCR) == 0x07, 9);
    check(inw(COM1_LCR) == 0x0007, 10);
    outl(COM1_MCR, 0xdead0003);
    check(inl(COM1_MCR) == 0x03, 11);
    outb(COM1_MCR, 0);
    outb(COM1_LCR, 0x03);
}

int main(void)
{
    com1_init();
    detect_16550a();
    com1_puts("serial_out: a 16550A on COM1\n");
    com1_puts("serial_out: 0123456789 abcdefghijklmnopqrstuvwxyz\n");
    com1_puts("serial_out: done\n");
    return SERIAL_GUEST_OK;
}
