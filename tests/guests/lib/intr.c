/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"
#include "intr.h"

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

extern const uint64_t isr_stubs[256]; /* irq_stubs.S */

void intr_setup(void)
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

    /* Mask both 8259s: GSIs 0-15 also reach the PIC, whose ExtINT would
     * otherwise deliver a bogus vector through LINT0. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    mmio_write32(LAPIC_BASE + 0x80, 0);     /* TPR: accept everything */
    mmio_write32(LAPIC_BASE + 0xf0, 0x1ff); /* software-enable, spurious vector 0xff */
}

void ioapic_route(unsigned pin, uint8_t vector)
{
    mmio_write32(IOAPIC_BASE + 0x00, 0x10 + 2 * pin);
    mmio_write32(IOAPIC_BASE + 0x10, vector);
    mmio_write32(IOAPIC_BASE + 0x00, 0x10 + 2 * pin + 1);
    mmio_write32(IOAPIC_BASE + 0x10, 0);
}

void lapic_eoi(void)
{
    mmio_write32(LAPIC_BASE + 0xb0, 0);
}
