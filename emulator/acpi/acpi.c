/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ACPI tables, laid out in one window of guest memory (ACPI 6.x,
 * chapter 5.2):
 *
 *   base     RSDP (where a scan of 0xe0000-0xfffff finds it first)
 *            FACS (64-byte aligned), DSDT, FADT, MADT, MCFG, XSDT, RSDT
 *
 * The window is built whole in host memory, then written with one
 * checked copy: either every table is in place or nothing was written.
 */
#include <errno.h>
#include <string.h>

#include "acpi/tables.h"
#include "memmap.h"
#include "options.h"

#define TABLE_ALIGN 16
#define FACS_ALIGN  64
#define MAX_ENTRIES 3 /* FADT, MADT, MCFG */

/* The root tables list the others: XSDT with 64-bit, RSDT with 32-bit
 * addresses (every table is below 4 GiB). */
static void root_table(struct em_aml *a, const char *sig, unsigned entry_size, const uint64_t *addr,
                       unsigned n)
{
    size_t start = em_acpi_table_begin(a, sig, 1);

    for (unsigned i = 0; i < n; i++) {
        if (entry_size == 8)
            em_aml_u64(a, addr[i]);
        else
            em_aml_u32(a, (uint32_t)addr[i]);
    }
    em_acpi_table_end(a, start);
}

/* The FACS: no firmware waking vector (no S3), no global lock owner. */
static void facs(struct em_aml *a)
{
    size_t start = a->len;

    em_aml_bytes(a, "FACS", 4);
    em_aml_u32(a, EM_ACPI_FACS_SIZE);
    em_aml_u32(a, 0); /* hardware signature */
    em_aml_u32(a, 0); /* firmware waking vector */
    em_aml_u32(a, 0); /* global lock */
    em_aml_u32(a, 0); /* flags */
    em_aml_u64(a, 0); /* X firmware waking vector */
    em_aml_u8(a, 2);  /* version */
    em_aml_zeros(a, EM_ACPI_FACS_SIZE - (a->len - start));
}

/* The RSDP, revision 2, over the zeros reserved for it at offset 0. */
static void rsdp(struct em_aml *a, uint64_t rsdt, uint64_t xsdt)
{
    uint8_t r[EM_ACPI_RSDP_SIZE] = { 0 };

    if (a->failed)
        return;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, EM_ACPI_OEM_ID, 6);
    r[15] = 2;
    for (int i = 0; i < 4; i++) {
        r[16 + i] = (uint8_t)(rsdt >> (8 * i));
        r[20 + i] = (uint8_t)(EM_ACPI_RSDP_SIZE >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        r[24 + i] = (uint8_t)(xsdt >> (8 * i));
    /* The first checksum covers the ACPI 1.0 part, the second all. */
    r[8] = em_acpi_checksum(r, 20);
    r[32] = em_acpi_checksum(r, EM_ACPI_RSDP_SIZE);
    memcpy(a->data, r, sizeof(r));
}

/* Appends one table, aligned; returns its guest address. */
static uint64_t place(struct em_aml *a, uint64_t base, size_t align)
{
    em_aml_align(a, align);
    return base + a->len;
}

int em_acpi_build_at(const struct kc_logger *log, const struct kc_mem *mem, uint64_t base,
                     uint64_t size, const struct em_acpi_config *cfg, uint64_t *rsdp_addr)
{
    uint64_t facs_addr, dsdt_addr, xsdt_addr, rsdt_addr, entries[MAX_ENTRIES];
    unsigned n = 0;
    struct em_aml a;
    int ret;

    *rsdp_addr = 0;
    if (cfg->ncpus == 0 || cfg->ncpus > EM_MAX_CPUS) {
        kc_log(log, KC_LOG_ERROR, "ACPI tables: %u vCPUs: the MADT describes 1 to %d", cfg->ncpus,
               EM_MAX_CPUS);
        return -EINVAL;
    }
    /* The RSDP must be 16-byte aligned; every table must lie below 4 GiB
     * for the RSDT's 32-bit entries. */
    if ((base & (TABLE_ALIGN - 1)) || base > EM_FOUR_GIB || size > EM_FOUR_GIB - base) {
        kc_log(log, KC_LOG_ERROR,
               "ACPI tables: window [0x%llx, +0x%llx) is not 16-byte aligned below 4 GiB",
               (unsigned long long)base, (unsigned long long)size);
        return -EINVAL;
    }

    em_aml_init(&a, (size_t)size);
    em_aml_zeros(&a, EM_ACPI_RSDP_SIZE);
    facs_addr = place(&a, base, FACS_ALIGN);
    facs(&a);
    dsdt_addr = place(&a, base, TABLE_ALIGN);
    em_acpi_dsdt(&a, cfg);
    entries[n++] = place(&a, base, TABLE_ALIGN);
    em_acpi_fadt(&a, cfg, facs_addr, dsdt_addr);
    entries[n++] = place(&a, base, TABLE_ALIGN);
    em_acpi_madt(&a, cfg);
    if (cfg->pci) {
        entries[n++] = place(&a, base, TABLE_ALIGN);
        em_acpi_mcfg(&a);
    }
    xsdt_addr = place(&a, base, TABLE_ALIGN);
    root_table(&a, "XSDT", 8, entries, n);
    rsdt_addr = place(&a, base, TABLE_ALIGN);
    root_table(&a, "RSDT", 4, entries, n);
    rsdp(&a, rsdt_addr, xsdt_addr);
    if (a.failed) {
        kc_log(log, KC_LOG_ERROR, "ACPI tables at 0x%llx (0x%llx bytes available): %s",
               (unsigned long long)base, (unsigned long long)size, a.why);
        ret = -a.error;
        goto out;
    }

    /* Zeros after the tables: nothing the guest left there on a previous
     * boot can be mistaken for a table. */
    em_aml_zeros(&a, (size_t)size - a.len);
    ret = kc_mem_write(mem, base, a.data, a.len);
    if (ret < 0) {
        kc_log(log, KC_LOG_ERROR, "ACPI tables: guest memory [0x%llx, 0x%llx) is not all RAM",
               (unsigned long long)base, (unsigned long long)(base + size));
        goto out;
    }
    *rsdp_addr = base;
out:
    em_aml_free(&a);
    return ret;
}

int em_acpi_build(const struct kc_logger *log, const struct kc_mem *mem,
                  const struct em_acpi_config *cfg, uint64_t *rsdp)
{
    return em_acpi_build_at(log, mem, EM_ACPI_BASE, EM_ACPI_SIZE, cfg, rsdp);
}
