/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MP table em_mptable_build() writes, found and parsed back the way
 * Linux does with acpi=off: a scan of 0xf0000-0xfffff for the floating
 * pointer, both checksums, then every entry of the configuration table,
 * for several CPU counts; and the inputs it must refuse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi.h"
#include "memmap.h"
#include "table_fixture.h"
#include "testutil.h"

#define SCAN_BASE  0xf0000ull
#define SCAN_SIZE  0x10000ull
#define IOAPIC_PIN 24

/* As Linux's smp_scan_config(): the first "_MP_" on a 16-byte boundary
 * with length 1, a good checksum and revision 1 or 4; 0 if none. */
static uint64_t scan(void)
{
    const uint8_t *area = kc_mem_ptr(mem, SCAN_BASE, SCAN_SIZE);

    ck_assert_ptr_nonnull(area);
    for (size_t off = 0; off < SCAN_SIZE; off += 16) {
        const uint8_t *p = area + off;

        if (!memcmp(p, "_MP_", 4) && p[8] == 1 && sum(p, 16) == 0 && (p[9] == 1 || p[9] == 4))
            return SCAN_BASE + off;
    }
    return 0;
}

struct parsed {
    unsigned cpus, bsps, buses, ioapics, isa_ints, pci_ints, local_ints;
    int pci_bus, isa_bus;
    uint8_t ioapic_id;
    bool isa_seen[16];
    bool pci_seen[32][4];
};

static void parse_ioint(struct parsed *r, const uint8_t *e)
{
    uint16_t flags = le16(e + 2);
    uint8_t irq = e[5];

    ck_assert_uint_eq(e[1], 0); /* INT */
    ck_assert_uint_eq(e[6], r->ioapic_id);
    ck_assert_uint_lt(e[7], IOAPIC_PIN);
    if (e[4] == r->isa_bus) {
        ck_assert_uint_lt(irq, 16);
        ck_assert_uint_ne(irq, 2);
        ck_assert(!r->isa_seen[irq]);
        r->isa_seen[irq] = true;
        ck_assert_uint_eq(e[7], irq == 0 ? 2 : irq);
        /* The SCI is level-triggered, active high, as in the MADT. */
        ck_assert_uint_eq(flags, irq == EM_SCI_GSI ? 0xd : 0);
        r->isa_ints++;
    } else {
        unsigned slot = irq >> 2, pin = irq & 3;

        ck_assert_int_eq(e[4], r->pci_bus);
        ck_assert_uint_ge(slot, 1);
        ck_assert(!r->pci_seen[slot][pin]);
        r->pci_seen[slot][pin] = true;
        ck_assert_uint_eq(e[7], EM_PCI_GSI(slot, pin));
        ck_assert_uint_eq(flags, 0xf); /* level, active low */
        r->pci_ints++;
    }
}

/* Checks the table found at fp and counts its entries. */
static void parse(uint64_t fp, struct parsed *r)
{
    const uint8_t *f = kc_mem_ptr(mem, fp, 16), *t, *e, *end;
    uint64_t addr;
    uint16_t len, n;
    int last_type = 0;

    memset(r, 0, sizeof(*r));
    r->pci_bus = r->isa_bus = -1;
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f[9], 4);
    ck_assert_uint_eq(f[11], 0); /* a configuration table, not a default one */
    addr = le32(f + 4);
    t = kc_mem_ptr(mem, addr, 44);
    ck_assert_ptr_nonnull(t);
    ck_assert(!memcmp(t, "PCMP", 4));
    len = le16(t + 4);
    n = le16(t + 34);
    ck_assert_uint_le(addr + len, MIB);
    t = kc_mem_ptr(mem, addr, len);
    ck_assert_uint_eq(sum(t, len), 0);
    ck_assert_uint_eq(t[6], 4);
    ck_assert(!memcmp(t + 8, "KVMSTK  ", 8));
    ck_assert_uint_eq(le32(t + 36), EM_LAPIC_BASE);
    ck_assert_uint_eq(le16(t + 40), 0); /* no extended table */

    e = t + 44;
    end = t + len;
    for (unsigned i = 0; i < n; i++) {
        ck_assert(e < end);
        /* Entries come sorted by type. */
        ck_assert_int_ge(e[0], last_type);
        last_type = e[0];
        switch (e[0]) {
        case 0:
            ck_assert(e + 20 <= end);
            ck_assert_uint_eq(e[1], r->cpus); /* APIC id = index */
            ck_assert_uint_ne(e[3] & 1, 0);   /* enabled */
            if (e[3] & 2) {
                ck_assert_uint_eq(e[1], 0);
                r->bsps++;
            }
            ck_assert_uint_ne(le32(e + 4), 0);             /* a CPU signature */
            ck_assert_uint_ne(le32(e + 8) & (1u << 9), 0); /* an APIC */
            r->cpus++;
            e += 20;
            continue;
        case 1:
            if (!memcmp(e + 2, "PCI   ", 6))
                r->pci_bus = e[1];
            else if (!memcmp(e + 2, "ISA   ", 6))
                r->isa_bus = e[1];
            else
                ck_abort_msg("unknown bus type %.6s", (const char *)e + 2);
            r->buses++;
            break;
        case 2:
            ck_assert_uint_eq(e[3] & 1, 1);
            ck_assert_uint_eq(le32(e + 4), EM_IOAPIC_BASE);
            r->ioapic_id = e[1];
            r->ioapics++;
            break;
        case 3:
            parse_ioint(r, e);
            break;
        case 4:
            ck_assert_uint_eq(e[6], 0xff);              /* every local APIC */
            ck_assert_uint_eq(e[1], e[7] == 0 ? 3 : 1); /* LINT0 ExtINT, LINT1 NMI */
            r->local_ints++;
            break;
        default:
            ck_abort_msg("unknown entry type %u", e[0]);
        }
        ck_assert(e + 8 <= end);
        e += 8;
    }
    ck_assert_ptr_eq(e, end);
}

START_TEST(table_for_each_cpu_count)
{
    static const unsigned counts[] = { 1, 2, 8, 255 };
    unsigned ncpus = counts[_i];
    struct parsed r;
    uint64_t fp;

    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, EM_MPTABLE_BASE, ncpus), 0);
    ck_assert_uint_eq(cap.count, 0);
    fp = scan();
    ck_assert_uint_eq(fp, EM_MPTABLE_BASE);
    parse(fp, &r);
    ck_assert_uint_eq(r.cpus, ncpus);
    ck_assert_uint_eq(r.bsps, 1);
    ck_assert_uint_eq(r.buses, 2);
    /* Linux takes a PCI bus's MP id to be its bus number. */
    ck_assert_int_eq(r.pci_bus, 0);
    ck_assert_int_eq(r.isa_bus, 1);
    ck_assert_uint_eq(r.ioapics, 1);
    ck_assert_uint_eq(r.ioapic_id, ncpus); /* as in the MADT */
    ck_assert_uint_eq(r.isa_ints, 15);
    ck_assert_uint_eq(r.pci_ints, 31 * 4);
    ck_assert_uint_eq(r.local_ints, 2);
}
END_TEST

START_TEST(elsewhere_below_1mib)
{
    struct parsed r;

    /* Near the end of the scan area: 8 CPUs' table still fits. */
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, 0xfe000, 8), 0);
    ck_assert_uint_eq(scan(), 0xfe000);
    parse(0xfe000, &r);
    ck_assert_uint_eq(r.cpus, 8);
}
END_TEST

static bool all_zero(uint64_t gpa, size_t n)
{
    const uint8_t *p = kc_mem_ptr(mem, gpa, n);

    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

START_TEST(bad_cpu_counts_are_refused)
{
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, EM_MPTABLE_BASE, 0), -EINVAL);
    ck_assert(log_has(&cap, "MP table: 0 vCPUs"));
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, EM_MPTABLE_BASE, 256), -EINVAL);
    ck_assert(log_has(&cap, "MP table: 256 vCPUs"));
    ck_assert_uint_eq(cap.count, 2);
    ck_assert(all_zero(SCAN_BASE, SCAN_SIZE));
}
END_TEST

START_TEST(bad_places_are_refused)
{
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, EM_MPTABLE_BASE + 8, 1), -EINVAL);
    ck_assert(log_has(&cap, "MP table at 0xf0008: not 16-byte aligned below 1 MiB"));
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, MIB, 1), -EINVAL);
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, UINT64_MAX - 15, 1), -EINVAL);
    ck_assert_uint_eq(cap.count, 3);
    ck_assert(all_zero(SCAN_BASE, SCAN_SIZE));
}
END_TEST

START_TEST(a_table_past_1mib_is_an_error)
{
    /* 255 CPUs need about 6 KiB: from 0xff000 they would cross 1 MiB. */
    ck_assert_int_eq(em_mptable_build(&cap.logger, mem, 0xff000, 255), -ENOSPC);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "MP table at 0xff000 (for 255 vCPUs, below 1 MiB)"));
    ck_assert(all_zero(SCAN_BASE, SCAN_SIZE));
}
END_TEST

START_TEST(no_ram_is_an_error_and_nothing_is_written)
{
    struct kc_mem *part = kc_mem_create(&cap.logger);
    const uint8_t *p;

    /* RAM stops 1 KiB into the table. */
    ck_assert_ptr_nonnull(kc_mem_add_ram(part, 0, EM_MPTABLE_BASE + 0x1000, 0, "short"));
    ck_assert_int_eq(em_mptable_build(&cap.logger, part, EM_MPTABLE_BASE + 0xc00, 255), -EFAULT);
    ck_assert_uint_eq(cap.count, 1);
    ck_assert(log_has(&cap, "MP table: guest memory [0xf0c00, "));
    ck_assert(log_has(&cap, "is not all RAM"));
    p = kc_mem_ptr(part, EM_MPTABLE_BASE, 0x1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(first_byte_not(p, 0x1000, 0), 0x1000);
    kc_mem_destroy(part);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mptable");
    TCase *tc = tcase_create("mptable");

    tcase_add_checked_fixture(tc, table_setup, table_teardown);
    tcase_add_loop_test(tc, table_for_each_cpu_count, 0, 4);
    tcase_add_test(tc, elsewhere_below_1mib);
    tcase_add_test(tc, bad_cpu_counts_are_refused);
    tcase_add_test(tc, bad_places_are_refused);
    tcase_add_test(tc, a_table_past_1mib_is_an_error);
    tcase_add_test(tc, no_ram_is_an_error_and_nothing_is_written);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
