/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "memmap.h"

static void add(struct em_memmap *mm, uint64_t addr, uint64_t size, uint32_t type)
{
    if (size && mm->nr_e820 < EM_E820_MAX)
        mm->e820[mm->nr_e820++] = (struct em_e820_entry){ addr, size, type };
}

void em_memmap_init(struct em_memmap *mm, uint64_t ram_size)
{
    memset(mm, 0, sizeof(*mm));
    mm->ram_size = ram_size;
    mm->ram_below_4g = ram_size < EM_LOW_RAM_LIMIT ? ram_size : EM_LOW_RAM_LIMIT;
    mm->ram_above_4g = ram_size - mm->ram_below_4g;

    /* The EBDA and the BIOS area are RAM-backed but not the guest's to use:
     * the tables live there, and Linux expects the hole below 1 MiB. */
    add(mm, 0, EM_EBDA_BASE, EM_E820_RAM);
    add(mm, EM_EBDA_BASE, EM_VGA_BASE - EM_EBDA_BASE, EM_E820_RESERVED);
    add(mm, EM_BIOS_AREA_BASE, EM_HIGH_MEM_START - EM_BIOS_AREA_BASE, EM_E820_RESERVED);
    if (mm->ram_below_4g > EM_HIGH_MEM_START)
        add(mm, EM_HIGH_MEM_START, mm->ram_below_4g - EM_HIGH_MEM_START, EM_E820_RAM);
    /* Linux uses MMCONFIG only where the e820 map reserves it. */
    add(mm, EM_PCI_ECAM_BASE, EM_PCI_ECAM_SIZE, EM_E820_RESERVED);
    add(mm, EM_HIGH_RAM_BASE, mm->ram_above_4g, EM_E820_RAM);
}
