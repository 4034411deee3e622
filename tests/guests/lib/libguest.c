/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"

void guest_exit(uint8_t code)
{
    outb(PORT_DEBUG_EXIT, code);
    /* If the host ignored the exit port, stop here rather than run on. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void puts_com1(const char *s)
{
    while (*s)
        outb(PORT_COM1, (uint8_t)*s++);
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;

    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;

    while (n--)
        *p++ = *q++;
    return d;
}
