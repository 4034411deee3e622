/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Firmware tables a guest finds without firmware: ACPI (RSDP, XSDT, FADT,
 * DSDT, MADT, MCFG) and the MP table, generated at start from the
 * machine's layout (memmap.h). Each writes through the checked accessors
 * and reports a table that does not fit as an error.
 */
#ifndef EM_ACPI_H
#define EM_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

struct em_acpi_config {
    unsigned ncpus;
    /* PM1 event/control blocks and the PM timer at EM_PM_IO_BASE, SCI on
     * EM_SCI_GSI (dev/pm.c), \_S5; without them the FADT says
     * hardware-reduced ACPI. */
    bool pm;
    /* The PCI host bridge: MCFG for ECAM, PCI0 with _CRS and _PRT, and
     * the reset register at EM_RESET_PORT, which the host serves. */
    bool pci;
};

/* Writes the RSDP at EM_ACPI_BASE and the other tables after it, within
 * EM_ACPI_SIZE (the rest of the window zeroed), all or nothing; *rsdp
 * receives the RSDP's address, 0 on failure. */
int em_acpi_build(const struct kc_logger *log, const struct kc_mem *mem,
                  const struct em_acpi_config *cfg, uint64_t *rsdp);

/* Writes an MP floating pointer and configuration table at base (16-byte
 * aligned, the whole table below 1 MiB; guests scan 0xf0000-0xfffff): the
 * CPUs, the IOAPIC, ISA interrupts and PCI INTx routing. */
int em_mptable_build(const struct kc_logger *log, const struct kc_mem *mem, uint64_t base,
                     unsigned ncpus);

#endif
