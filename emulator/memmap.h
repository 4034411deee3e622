/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's guest-physical layout, as a PC without firmware has it, and
 * the e820 map that describes it to the guest.
 *
 *   0x00000000  RAM (the first 640 KiB usable, the EBDA reserved)
 *   0x000e0000  reserved: ACPI tables at 0xe0000, the MP table at 0xf0000
 *   0x00100000  RAM, up to the smaller of the RAM size and 3 GiB
 *   0xc0000000  32-bit PCI memory window (BARs)
 *   0xe0000000  PCI ECAM (MMCONFIG), 256 buses, reserved
 *   0xfec00000  IOAPIC;  0xfee00000 LAPIC
 *   0xfffe0000  firmware (--firmware), ending at 4 GiB
 *   4 GiB       the rest of the RAM
 */
#ifndef EM_MEMMAP_H
#define EM_MEMMAP_H

#include <stdint.h>

#define EM_LOW_RAM_LIMIT 0xc0000000ull
#define EM_PCI_MMIO_BASE 0xc0000000ull
#define EM_PCI_MMIO_SIZE 0x20000000ull
#define EM_PCI_ECAM_BASE 0xe0000000ull
#define EM_PCI_ECAM_SIZE 0x10000000ull
#define EM_IOAPIC_BASE   0xfec00000ull
#define EM_LAPIC_BASE    0xfee00000ull
#define EM_HIGH_RAM_BASE 0x100000000ull
#define EM_FOUR_GIB      0x100000000ull

#define EM_EBDA_BASE      0x9fc00ull
#define EM_VGA_BASE       0xa0000ull
#define EM_BIOS_AREA_BASE 0xe0000ull
#define EM_HIGH_MEM_START 0x100000ull

/* Where boot-time structures go; all below 1 MiB, none in usable RAM that
 * a loader may place a kernel in. */
#define EM_BOOT_GDT         0x500ull   /* kc_x86_write_gdt(): 32 bytes */
#define EM_BOOT_INFO        0x1000ull  /* zero page / start_info / multiboot info */
#define EM_BOOT_INFO_SIZE   0x7000ull  /* up to 0x8000 */
#define EM_BOOT_PT          0x9000ull  /* identity page tables, 6 pages */
#define EM_BOOT_CMDLINE     0x20000ull /* the kernel command line */
#define EM_BOOT_CMDLINE_MAX 0x10000ull
#define EM_ACPI_BASE        0xe0000ull /* RSDP, then the other tables */
#define EM_ACPI_SIZE        0x10000ull
#define EM_MPTABLE_BASE     0xf0000ull
#define EM_MPTABLE_SIZE     0x10000ull

/* ACPI PM registers (PIIX4-like I/O block), and the reset control port. */
#define EM_PM_IO_BASE 0xb000
#define EM_PM_IO_SIZE 0x10
#define EM_SCI_GSI    9
#define EM_RESET_PORT 0xcf9

/* Legacy ISA interrupts, as the MADT and the devices use them. */
#define EM_COM1_PORT     0x3f8
#define EM_COM1_GSI      4
#define EM_I8042_GSI_KBD 1
#define EM_I8042_GSI_AUX 12
#define EM_RTC_GSI       8

/* PCI INTx: slot S pin P (0 = INTA) goes to GSI 16 + ((S + P) % 4),
 * level-triggered, active low, as the DSDT's _PRT says. */
#define EM_PCI_GSI_BASE       16
#define EM_PCI_GSI(slot, pin) (EM_PCI_GSI_BASE + (((slot) + (pin)) % 4))

enum em_e820_type {
    EM_E820_RAM = 1,
    EM_E820_RESERVED = 2,
    EM_E820_ACPI = 3,
};

#define EM_E820_MAX 16

struct em_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

struct em_memmap {
    uint64_t ram_size;
    uint64_t ram_below_4g; /* bytes from 0 */
    uint64_t ram_above_4g; /* bytes from 4 GiB */
    unsigned nr_e820;
    struct em_e820_entry e820[EM_E820_MAX];
};

/* Lays out ram_size bytes of RAM and builds the e820 map, sorted. */
void em_memmap_init(struct em_memmap *mm, uint64_t ram_size);

#endif
