/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts from the host through the in-kernel irqchip. The guest sets up
 * an IDT, enables its LAPIC, routes IOAPIC pins 10 and 11 to vectors 0x40
 * and 0x42, then for each step reports "ready N" and sleeps until the
 * interrupt the host raises for that step arrives:
 *   1: IOAPIC pin 10 (KVM_IRQ_LINE)      -> vector 0x40
 *   2: an MSI (KVM_SIGNAL_MSI)          -> vector 0x41
 *   3: IOAPIC pin 11 through an irqfd   -> vector 0x42
 *   4: an MSI route through an irqfd    -> vector 0x43
 * Every interrupt is reported as 0x1000 | vector; an exception as
 * 0xe000 | vector, followed by exit code 0xee.
 */
#include "guest.h"
#include "intr.h"

static volatile unsigned handled;

void isr(uint64_t vector)
{
    if (vector < 32) {
        report(0xe000 | (uint32_t)vector);
        guest_exit(0xee);
    }
    report(0x1000 | (uint32_t)vector);
    handled++;
    lapic_eoi();
}

static void wait_for(unsigned n)
{
    for (;;) {
        __asm__ volatile("cli");
        if (handled >= n)
            break;
        /* sti's shadow covers hlt: an interrupt cannot slip in between. */
        __asm__ volatile("sti; hlt");
    }
    __asm__ volatile("sti");
}

int main(void)
{
    intr_setup();
    ioapic_route(10, 0x40);
    ioapic_route(11, 0x42);

    for (unsigned step = 1; step <= 4; step++) {
        report(step);
        wait_for(step);
    }
    return 0;
}
