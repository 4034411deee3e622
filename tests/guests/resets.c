/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Both reset paths, across real machine resets: the CMOS survives a
 * reset, so a scratch byte counts the boots. Boot 1 resets through the
 * i8042 (command 0xfe), boot 2 through the reset control register
 * (0xcf9), boot 3 ends with SERIAL_GUEST_OK. Each boot writes its number
 * to the POST port, so the host sees POST 0x01, 0x02, 0x03.
 */
#include "serial.h"

#define CMOS_SCRATCH 0x48

static uint8_t cmos_read(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

int main(void)
{
    uint8_t boot = (uint8_t)(cmos_read(CMOS_SCRATCH) + 1);

    cmos_write(CMOS_SCRATCH, boot);
    outb(0x80, boot);
    if (boot == 1)
        outb(0x64, 0xfe);
    else if (boot == 2)
        outb(0xcf9, 0x06);
    else
        return boot == 3 ? SERIAL_GUEST_OK : 1;
    /* The reset stops this vCPU before it gets here. */
    for (int i = 0; i < 1000000; i++)
        cpu_relax();
    return 2;
}
