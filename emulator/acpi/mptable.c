/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MP table (Intel MultiProcessor Specification 1.4, chapter 4), for a
 * guest that boots without ACPI (acpi=off, --no-acpi): a 16-byte floating
 * pointer, then the configuration table right after it with
 *
 *   one processor entry per vCPU (APIC id = index, the BSP is 0)
 *   bus 0 "PCI", bus 1 "ISA" (Linux takes an MP bus id of a PCI bus to be
 *   its bus number, so the root bus must be 0)
 *   the IOAPIC, with the id and address the MADT gives it
 *   ISA IRQs 0-15 (not 2): IRQ 0 on pin 2, the others one to one, IRQ 9
 *   level-triggered as the SCI is
 *   PCI INTx of slots 1-31 on GSIs 16-19, as the DSDT's _PRT routes them
 *   LINT0 ExtINT and LINT1 NMI on every local APIC
 */
#include <errno.h>

#include "acpi/tables.h"
#include "memmap.h"
#include "options.h"

#define MP_SPEC_REV     4
#define MP_FLOAT_SIZE   16
#define MP_SCAN_END     0x100000ull
#define LAPIC_VERSION   0x14 /* an integrated xAPIC */
#define IOAPIC_VERSION  0x11 /* as KVM's IOAPIC reports */
#define ALL_LOCAL_APICS 0xff
#define PCI_BUS         0
#define ISA_BUS         1
#define PCI_SLOTS       32
#define PCI_PINS        4
#define ISA_IRQS        16

/* A family 6 CPU with an on-chip FPU and APIC, TSC, MSRs, PAE and
 * CMPXCHG8B: what the entries say, as guests only print it. */
#define CPU_SIGNATURE 0x6f1
#define CPU_FEATURES  ((1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9))

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IOINT, MP_LOCALINT };
enum { INT_VECTORED = 0, INT_NMI = 1, INT_EXTINT = 3 };

#define CPU_ENABLED 0x1
#define CPU_BSP     0x2

/* Polarity in bits 1:0, trigger mode in bits 3:2, as in the MADT. */
#define FLAGS_CONFORMING 0x0
#define FLAGS_LEVEL_HIGH (0x1 | (0x3 << 2))
#define FLAGS_LEVEL_LOW  (0x3 | (0x3 << 2))

static void processor(struct em_aml *a, unsigned id)
{
    em_aml_u8(a, MP_PROCESSOR);
    em_aml_u8(a, (uint8_t)id);
    em_aml_u8(a, LAPIC_VERSION);
    em_aml_u8(a, CPU_ENABLED | (id == 0 ? CPU_BSP : 0));
    em_aml_u32(a, CPU_SIGNATURE);
    em_aml_u32(a, CPU_FEATURES);
    em_aml_zeros(a, 8);
}

static void bus(struct em_aml *a, uint8_t id, const char *type)
{
    em_aml_u8(a, MP_BUS);
    em_aml_u8(a, id);
    em_aml_bytes(a, type, 6);
}

/* An I/O (type 3) or local (type 4) interrupt assignment. */
static void interrupt(struct em_aml *a, uint8_t entry, uint8_t type, uint16_t flags,
                      uint8_t src_bus, uint8_t src_irq, uint8_t dst_id, uint8_t dst_pin)
{
    em_aml_u8(a, entry);
    em_aml_u8(a, type);
    em_aml_u16(a, flags);
    em_aml_u8(a, src_bus);
    em_aml_u8(a, src_irq);
    em_aml_u8(a, dst_id);
    em_aml_u8(a, dst_pin);
}

/* The entries; returns how many. */
static unsigned entries(struct em_aml *a, unsigned ncpus)
{
    uint8_t ioapic = EM_IOAPIC_ID(ncpus);
    unsigned n = 0;

    for (unsigned i = 0; i < ncpus; i++, n++)
        processor(a, i);
    bus(a, PCI_BUS, "PCI   ");
    bus(a, ISA_BUS, "ISA   ");
    n += 2;

    em_aml_u8(a, MP_IOAPIC);
    em_aml_u8(a, ioapic);
    em_aml_u8(a, IOAPIC_VERSION);
    em_aml_u8(a, 1); /* enabled */
    em_aml_u32(a, (uint32_t)EM_IOAPIC_BASE);
    n++;

    for (unsigned irq = 0; irq < ISA_IRQS; irq++) {
        if (irq == 2) /* the cascade: not an interrupt of its own */
            continue;
        interrupt(a, MP_IOINT, INT_VECTORED,
                  irq == EM_SCI_GSI ? FLAGS_LEVEL_HIGH : FLAGS_CONFORMING, ISA_BUS, (uint8_t)irq,
                  ioapic, irq == 0 ? 2 : (uint8_t)irq);
        n++;
    }
    /* A PCI source IRQ is the slot in bits 6:2 and the pin in bits 1:0. */
    for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
        for (unsigned pin = 0; pin < PCI_PINS; pin++, n++)
            interrupt(a, MP_IOINT, INT_VECTORED, FLAGS_LEVEL_LOW, PCI_BUS,
                      (uint8_t)(slot << 2 | pin), ioapic, (uint8_t)EM_PCI_GSI(slot, pin));
    }

    interrupt(a, MP_LOCALINT, INT_EXTINT, FLAGS_CONFORMING, ISA_BUS, 0, ALL_LOCAL_APICS, 0);
    interrupt(a, MP_LOCALINT, INT_NMI, FLAGS_CONFORMING, ISA_BUS, 0, ALL_LOCAL_APICS, 1);
    return n + 2;
}

int em_mptable_build(const struct kc_logger *log, const struct kc_mem *mem, uint64_t base,
                     unsigned ncpus)
{
    uint64_t table = base + MP_FLOAT_SIZE;
    struct em_aml a;
    unsigned n;
    size_t len;
    int ret;

    if (ncpus == 0 || ncpus > EM_MAX_CPUS) {
        kc_log(log, KC_LOG_ERROR, "MP table: %u vCPUs: it describes 1 to %d", ncpus, EM_MAX_CPUS);
        return -EINVAL;
    }
    /* Guests look for the floating pointer on 16-byte boundaries below
     * 1 MiB, and everything must be there for a 32-bit pointer. */
    if ((base & (MP_FLOAT_SIZE - 1)) || base >= MP_SCAN_END - MP_FLOAT_SIZE) {
        kc_log(log, KC_LOG_ERROR, "MP table at 0x%llx: not 16-byte aligned below 1 MiB",
               (unsigned long long)base);
        return -EINVAL;
    }

    em_aml_init(&a, (size_t)(MP_SCAN_END - base));
    /* The floating pointer. */
    em_aml_bytes(&a, "_MP_", 4);
    em_aml_u32(&a, (uint32_t)table);
    em_aml_u8(&a, 1); /* length in 16-byte units */
    em_aml_u8(&a, MP_SPEC_REV);
    em_aml_u8(&a, 0);    /* checksum */
    em_aml_zeros(&a, 5); /* feature bytes: a table follows, virtual wire mode */
    /* The configuration table header. */
    em_aml_bytes(&a, "PCMP", 4);
    em_aml_u16(&a, 0); /* base table length */
    em_aml_u8(&a, MP_SPEC_REV);
    em_aml_u8(&a, 0);                     /* checksum */
    em_aml_bytes(&a, "KVMSTK  ", 8);      /* OEM id */
    em_aml_bytes(&a, "KVMEMU      ", 12); /* product id */
    em_aml_u32(&a, 0);                    /* OEM table */
    em_aml_u16(&a, 0);                    /* OEM table size */
    em_aml_u16(&a, 0);                    /* entry count */
    em_aml_u32(&a, (uint32_t)EM_LAPIC_BASE);
    em_aml_u16(&a, 0); /* extended table length */
    em_aml_u8(&a, 0);  /* extended table checksum */
    em_aml_u8(&a, 0);
    n = entries(&a, ncpus);
    len = a.len - MP_FLOAT_SIZE;
    if (!a.failed && len > UINT16_MAX)
        em_aml_fail(&a, "the configuration table is longer than 64 KiB");
    em_aml_put(&a, MP_FLOAT_SIZE + 4, len, 2);
    em_aml_put(&a, MP_FLOAT_SIZE + 34, n, 2);
    if (a.failed) {
        kc_log(log, KC_LOG_ERROR, "MP table at 0x%llx (for %u vCPUs, below 1 MiB): %s",
               (unsigned long long)base, ncpus, a.why);
        ret = -a.error;
        goto out;
    }
    a.data[MP_FLOAT_SIZE + 7] = em_acpi_checksum(a.data + MP_FLOAT_SIZE, len);
    a.data[10] = em_acpi_checksum(a.data, MP_FLOAT_SIZE);

    ret = kc_mem_write(mem, base, a.data, a.len);
    if (ret < 0)
        kc_log(log, KC_LOG_ERROR, "MP table: guest memory [0x%llx, 0x%llx) is not all RAM",
               (unsigned long long)base, (unsigned long long)(base + a.len));
out:
    em_aml_free(&a);
    return ret;
}
