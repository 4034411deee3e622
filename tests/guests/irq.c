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

#define LAPIC  0xfee00000ul
#define IOAPIC 0xfec00000ul

struct idt_entry {
    uint16_t off0;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off1;
    uint32_t off2;
    uint32_t zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));
static volatile unsigned handled;

extern const uint64_t isr_stubs[256]; /* irq_stubs.S */

void isr(uint64_t vector);

void isr(uint64_t vector)
{
    if (vector < 32) {
        report(0xe000 | (uint32_t)vector);
        guest_exit(0xee);
    }
    report(0x1000 | (uint32_t)vector);
    handled++;
    mmio_write32(LAPIC + 0xb0, 0); /* EOI */
}

static void ioapic_route(unsigned pin, uint8_t vector)
{
    mmio_write32(IOAPIC + 0x00, 0x10 + 2 * pin);
    mmio_write32(IOAPIC + 0x10, vector); /* fixed, physical, edge, unmasked */
    mmio_write32(IOAPIC + 0x00, 0x10 + 2 * pin + 1);
    mmio_write32(IOAPIC + 0x10, 0); /* destination: APIC id 0 */
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
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
    uint16_t cs;

    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = isr_stubs[v];

        idt[v] = (struct idt_entry){ (uint16_t)a,         cs, 0, 0x8e, (uint16_t)(a >> 16),
                                     (uint32_t)(a >> 32), 0 };
    }
    __asm__ volatile("lidt %0" : : "m"(idtr));

    /* Mask both 8259s, as an OS that uses the IOAPIC does: GSIs 0-15 also
     * reach the PIC, whose ExtINT would otherwise deliver a bogus vector. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    mmio_write32(LAPIC + 0x80, 0);     /* TPR: accept everything */
    mmio_write32(LAPIC + 0xf0, 0x1ff); /* software-enable, spurious vector 0xff */
    ioapic_route(10, 0x40);
    ioapic_route(11, 0x42);

    for (unsigned step = 1; step <= 4; step++) {
        report(step);
        wait_for(step);
    }
    return 0;
}
