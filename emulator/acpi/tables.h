/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside emulator/acpi: the table builders em_acpi_build() puts together,
 * and what they share. Each builder appends one whole table (header,
 * length and checksum included) to a buffer; errors are the buffer's
 * sticky flag (aml.h), checked once by the caller.
 */
#ifndef EM_ACPI_TABLES_H
#define EM_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi.h"
#include "acpi/aml.h"

/* Who made the tables, in every header (6 and 8 characters). */
#define EM_ACPI_OEM_ID       "KVMSTK"
#define EM_ACPI_OEM_TABLE_ID "KVMEMU  "
#define EM_ACPI_OEM_REVISION 1
#define EM_ACPI_CREATOR_ID   "KVMS"
#define EM_ACPI_CREATOR_REV  1

#define EM_ACPI_HEADER_SIZE 36
#define EM_ACPI_RSDP_SIZE   36
#define EM_ACPI_FACS_SIZE   64

/* Generic Address Structure address spaces and access sizes. */
#define EM_GAS_MEMORY 0
#define EM_GAS_IO     1
#define EM_GAS_BYTE   1
#define EM_GAS_WORD   2
#define EM_GAS_DWORD  3

/* The IOAPIC's id in the MADT and the MP table: the first one after the
 * CPUs' APIC ids (0 .. ncpus - 1), so that no id is used twice. */
#define EM_IOAPIC_ID(ncpus) ((uint8_t)(ncpus))

/* Starts a table: its header, with length and checksum 0 for now.
 * Returns the offset of the table in the buffer. */
size_t em_acpi_table_begin(struct em_aml *a, const char *signature, uint8_t revision);
/* Fills in the length and the checksum of the table begun at `start`,
 * which ends at the end of the buffer. */
void em_acpi_table_end(struct em_aml *a, size_t start);
/* The byte that makes the n bytes at p, with it, sum to zero. */
uint8_t em_acpi_checksum(const void *p, size_t n);
/* A 12-byte Generic Address Structure. */
void em_acpi_gas(struct em_aml *a, uint8_t space, uint8_t bit_width, uint8_t access_size,
                 uint64_t address);

void em_acpi_dsdt(struct em_aml *a, const struct em_acpi_config *cfg);
void em_acpi_fadt(struct em_aml *a, const struct em_acpi_config *cfg, uint64_t facs, uint64_t dsdt);
void em_acpi_madt(struct em_aml *a, const struct em_acpi_config *cfg);
void em_acpi_mcfg(struct em_aml *a);

/* em_acpi_build() into [base, base + size) rather than the fixed window,
 * so that tests can make the tables not fit. */
int em_acpi_build_at(const struct kc_logger *log, const struct kc_mem *mem, uint64_t base,
                     uint64_t size, const struct em_acpi_config *cfg, uint64_t *rsdp);

#endif
