/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The MCFG (PCI Firmware Specification 3.0, 4.1.2): where the PCI host's
 * ECAM window is, one allocation for segment 0, buses 0-255. */
#include "acpi/tables.h"
#include "memmap.h"

#define MCFG_REVISION 1

void em_acpi_mcfg(struct em_aml *a)
{
    size_t start = em_acpi_table_begin(a, "MCFG", MCFG_REVISION);

    em_aml_u64(a, 0); /* reserved */
    em_aml_u64(a, EM_PCI_ECAM_BASE);
    em_aml_u16(a, 0);   /* PCI segment group */
    em_aml_u8(a, 0);    /* first bus */
    em_aml_u8(a, 0xff); /* last bus */
    em_aml_u32(a, 0);   /* reserved */
    em_acpi_table_end(a, start);
}
