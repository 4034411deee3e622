/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every ACPI table shares: the header (ACPI 6.x, 5.2.6), its
 * checksum, and the Generic Address Structure (5.2.3.2). */
#include <string.h>

#include "acpi/tables.h"

uint8_t em_acpi_checksum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t sum = 0;

    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + b[i]);
    return (uint8_t)-sum;
}

size_t em_acpi_table_begin(struct em_aml *a, const char *signature, uint8_t revision)
{
    size_t start = a->len;

    em_aml_bytes(a, signature, 4);
    em_aml_u32(a, 0); /* length, filled in by em_acpi_table_end() */
    em_aml_u8(a, revision);
    em_aml_u8(a, 0); /* checksum, likewise */
    em_aml_bytes(a, EM_ACPI_OEM_ID, 6);
    em_aml_bytes(a, EM_ACPI_OEM_TABLE_ID, 8);
    em_aml_u32(a, EM_ACPI_OEM_REVISION);
    em_aml_bytes(a, EM_ACPI_CREATOR_ID, 4);
    em_aml_u32(a, EM_ACPI_CREATOR_REV);
    return start;
}

void em_acpi_table_end(struct em_aml *a, size_t start)
{
    size_t len;

    if (a->failed)
        return;
    if (start > a->len || a->len - start < EM_ACPI_HEADER_SIZE) {
        em_aml_fail(a, "a table ended that was never begun");
        return;
    }
    len = a->len - start;
    if (len > UINT32_MAX) {
        em_aml_fail(a, "a table longer than 4 GiB");
        return;
    }
    em_aml_put(a, start + 4, len, 4);
    em_aml_put(a, start + 9, em_acpi_checksum(a->data + start, len), 1);
}

void em_acpi_gas(struct em_aml *a, uint8_t space, uint8_t bit_width, uint8_t access_size,
                 uint64_t address)
{
    em_aml_u8(a, space);
    em_aml_u8(a, bit_width);
    em_aml_u8(a, 0); /* bit offset */
    em_aml_u8(a, access_size);
    em_aml_u64(a, address);
}
