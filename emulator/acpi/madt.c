/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MADT (ACPI 6.x, 5.2.12): one local APIC per vCPU (APIC id = vCPU
 * index, as KVM numbers them), the IOAPIC with GSIs from 0, the two ISA
 * interrupts that are not wired one to one, and LINT1 as NMI.
 */
#include "acpi/tables.h"
#include "memmap.h"

#define MADT_REVISION 5
#define PCAT_COMPAT   (1u << 0) /* there are 8259s too: mask them */

enum {
    MADT_LOCAL_APIC = 0,
    MADT_IOAPIC = 1,
    MADT_INT_OVERRIDE = 2,
    MADT_LOCAL_APIC_NMI = 4,
};

#define LAPIC_ENABLED 1

/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define INTI_CONFORMING  0x0
#define INTI_ACTIVE_HIGH 0x1
#define INTI_LEVEL       (0x3 << 2)

#define ALL_PROCESSORS 0xff

static void interrupt_override(struct em_aml *a, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    em_aml_u8(a, MADT_INT_OVERRIDE);
    em_aml_u8(a, 10);
    em_aml_u8(a, 0); /* bus: ISA */
    em_aml_u8(a, irq);
    em_aml_u32(a, gsi);
    em_aml_u16(a, flags);
}

void em_acpi_madt(struct em_aml *a, const struct em_acpi_config *cfg)
{
    size_t start = em_acpi_table_begin(a, "APIC", MADT_REVISION);

    em_aml_u32(a, (uint32_t)EM_LAPIC_BASE);
    em_aml_u32(a, PCAT_COMPAT);
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        em_aml_u8(a, MADT_LOCAL_APIC);
        em_aml_u8(a, 8);
        em_aml_u8(a, (uint8_t)i); /* ACPI processor UID */
        em_aml_u8(a, (uint8_t)i); /* APIC id */
        em_aml_u32(a, LAPIC_ENABLED);
    }

    em_aml_u8(a, MADT_IOAPIC);
    em_aml_u8(a, 12);
    em_aml_u8(a, EM_IOAPIC_ID(cfg->ncpus));
    em_aml_u8(a, 0);
    em_aml_u32(a, (uint32_t)EM_IOAPIC_BASE);
    em_aml_u32(a, 0); /* GSI base */

    /* The PIT's IRQ 0 reaches the IOAPIC on pin 2, as on every PC. */
    interrupt_override(a, 0, 2, INTI_CONFORMING);
    /* The SCI is level-triggered, active high: what dev/pm.c drives. */
    if (cfg->pm)
        interrupt_override(a, EM_SCI_GSI, EM_SCI_GSI, INTI_ACTIVE_HIGH | INTI_LEVEL);

    em_aml_u8(a, MADT_LOCAL_APIC_NMI);
    em_aml_u8(a, 6);
    em_aml_u8(a, ALL_PROCESSORS);
    em_aml_u16(a, INTI_CONFORMING);
    em_aml_u8(a, 1); /* LINT1 */
    em_acpi_table_end(a, start);
}
