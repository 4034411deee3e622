/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The demo guest: says hello over COM1 with what it can see of its CPU. */
#include "guest.h"

static void cpuid_string(uint32_t leaf, char *out)
{
    uint32_t r[4];

    cpuid(leaf, 0, &r[0], &r[1], &r[2], &r[3]);
    memcpy(out, r, sizeof(r));
}

int main(void)
{
    uint32_t a, b, c, d;
    char vendor[13], hv[13], brand[49];

    cpuid(0, 0, &a, &b, &c, &d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    cpuid(0x40000000, 0, &a, &b, &c, &d);
    memcpy(hv, &b, 4);
    memcpy(hv + 4, &c, 4);
    memcpy(hv + 8, &d, 4);
    hv[12] = '\0';
    cpuid_string(0x80000002, brand);
    cpuid_string(0x80000003, brand + 16);
    cpuid_string(0x80000004, brand + 32);
    brand[48] = '\0';

    puts_com1("Hello from a libkvmcore guest!\n");
    puts_com1("  mode:       64-bit long mode, paging on\n");
    puts_com1("  CPU vendor: ");
    puts_com1(vendor);
    puts_com1("\n  CPU brand:  ");
    puts_com1(brand[0] ? brand : "(none)");
    puts_com1("\n  hypervisor: ");
    puts_com1(hv[0] ? hv : "(none)");
    puts_com1("\n");
    return 0;
}
