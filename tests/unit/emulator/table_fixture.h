/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the firmware-table tests (ACPI, MP table): 1 MiB of guest RAM
 * with a log capture, rebuilt for every test, and readers for the
 * little-endian fields and checksums the tables use.
 */
#ifndef TABLE_FIXTURE_H
#define TABLE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "testutil.h"

#define MIB (1024ull * 1024)

/* The current test's RAM (0 .. 1 MiB) and its logger. */
extern struct log_capture cap;
extern struct kc_mem *mem;

/* For tcase_add_checked_fixture(). */
void table_setup(void);
void table_teardown(void);

static inline uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The 8-bit sum ACPI and MP checksums make zero. */
static inline uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;

    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

#endif
