/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 1 MiB out of COM1 as fast as the guest can (rep outsb, one exit per
 * string chunk), then a last line: whoever reads the serial port or not,
 * the guest must get to its exit.
 */
#include "serial.h"

#define FLOOD_BYTES (1u << 20)

static char line[4096];

int main(void)
{
    for (unsigned i = 0; i < sizeof(line); i++)
        line[i] = (i % 64 == 63) ? '\n' : (char)('a' + i % 26);
    com1_init();
    for (unsigned sent = 0; sent < FLOOD_BYTES; sent += sizeof(line)) {
        const char *p = line;
        unsigned long n = sizeof(line);

        __asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"((uint16_t)COM1_THR) : "memory");
    }
    com1_puts("serial_flood: done\n");
    return SERIAL_GUEST_OK;
}
