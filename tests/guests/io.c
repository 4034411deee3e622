/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Port and MMIO accesses of every size, in a fixed order, for the host to
 * check against what its handlers saw. Values read are reported back so
 * the host can check that its answers reached the guest. Built for 32-bit
 * protected mode and for 64-bit long mode.
 */
#include "guest.h"

#define IO   0x600
#define MMIO 0xd0000000ul

int main(void)
{
    static const char out[3] = { 'a', 'b', 'c' };
    char in[3];
    const void *src = out;
    void *dst = in;
    unsigned long n;

    outb(IO + 0, 0x11);
    outw(IO + 2, 0x2233);
    outl(IO + 4, 0x44556677);
    report(inb(IO + 1));
    report(inw(IO + 2));
    report(inl(IO + 4));

    mmio_write8(MMIO + 0x10, 0xaa);
    mmio_write16(MMIO + 0x12, 0xbbcc);
    mmio_write32(MMIO + 0x14, 0xddeeff00);
    report(mmio_read8(MMIO + 0x21));
    report(mmio_read16(MMIO + 0x22));
    report(mmio_read32(MMIO + 0x24));
#ifdef __x86_64__
    mmio_write64(MMIO + 0x18, 0x1122334455667788ull);
    {
        uint64_t v = mmio_read64(MMIO + 0x28);

        report((uint32_t)v);
        report((uint32_t)(v >> 32));
    }
#endif

    /* String I/O: one exit carries several elements. */
    n = 3;
    __asm__ volatile("rep outsb" : "+S"(src), "+c"(n) : "d"(IO + 8) : "memory");
    n = 3;
    __asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(IO + 9) : "memory");
    report((uint32_t)(uint8_t)in[0] | (uint32_t)(uint8_t)in[1] << 8 |
           (uint32_t)(uint8_t)in[2] << 16);
    return 0;
}
