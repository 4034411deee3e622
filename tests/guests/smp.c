/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two vCPUs, entered with RDI = 0 and 1. Each announces itself, then waits
 * for the other: it finishes only if both run at the same time. Each then
 * reports (index << 8 | initial APIC id) and exits.
 */
#include "guest.h"

static volatile uint32_t arrived[2];

int main(unsigned long index)
{
    uint32_t a, b, c, d;

    if (index > 1)
        return 0x7f;
    arrived[index] = 1;
    while (!arrived[1 - index])
        cpu_relax();
    cpuid(1, 0, &a, &b, &c, &d);
    report(0x5000 | (uint32_t)index << 8 | b >> 24);
    return 0;
}
