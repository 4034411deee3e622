/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupts for 64-bit guests, as an OS that uses the IOAPIC sets them up:
 * an IDT whose 256 entries call isr(vector) (irq_stubs.S; the guest
 * defines isr()), both 8259s masked, the LAPIC software-enabled.
 */
#ifndef GUEST_INTR_H
#define GUEST_INTR_H

#include <stdint.h>

#define LAPIC_BASE  0xfee00000ul
#define IOAPIC_BASE 0xfec00000ul

/* Defined by the guest; called with every register saved. */
void isr(uint64_t vector);

void intr_setup(void);
/* Routes IOAPIC pin to vector: fixed, physical, edge, active high, APIC 0. */
void ioapic_route(unsigned pin, uint8_t vector);
void lapic_eoi(void);

#endif
