/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu's firmware tables as the acpi_info guest reads them under the
 * real kvmemu and KVM: the RSDP found by a scan, every table's checksum,
 * the FADT's fixed hardware, the DSDT, the MADT (one enabled local APIC
 * per --smp CPU, in APIC id order) and the MCFG; with --no-acpi no RSDP at
 * all, but the MP table, with one processor entry per CPU, is always
 * there. The guest checks the counts against fw_cfg; here they are checked
 * against the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo_host.h"
#include "dev/pm.h"
#include "memmap.h"

#define TIMEOUT_MS 60000

static struct emu emu;

static void teardown(void)
{
    emu_cleanup(&emu);
}

/* The MP table's entries: CPUs, two buses, the IOAPIC, 15 ISA IRQs, 31
 * PCI slots of 4 pins, and two local interrupts (emulator/acpi/mptable.c). */
static unsigned mp_entries(unsigned ncpus)
{
    return ncpus + 2 + 1 + 15 + 31 * 4 + 2;
}

static void expect_mp_table(unsigned ncpus)
{
    bi_expect_line(&emu, "mp floating 0x%llx table 0x%llx spec 4",
                   (unsigned long long)EM_MPTABLE_BASE, (unsigned long long)EM_MPTABLE_BASE + 16);
    bi_expect_line(&emu, "mp cpu id 0 enabled bsp");
    for (unsigned i = 1; i < ncpus; i++)
        bi_expect_line(&emu, "mp cpu id %u enabled", i);
    ck_assert_uint_eq(bi_count_lines(emu.out.buf, "mp cpu id "), ncpus);
    bi_expect_line(&emu, "mp ioapic id %u addr 0x%llx", ncpus, (unsigned long long)EM_IOAPIC_BASE);
    bi_expect_line(&emu, "mp cpus %u entries %u", ncpus, mp_entries(ncpus));
}

static void run(unsigned ncpus, bool acpi)
{
    char smp[8], what[64];
    int status;

    snprintf(smp, sizeof(smp), "%u", ncpus);
    snprintf(what, sizeof(what), "acpi_info, --smp %u%s", ncpus, acpi ? "" : ", --no-acpi");
    status =
        bi_run(&emu, what,
               (const char *[]){ "--flat", bi_guest("acpi_info", "bin"), "--smp", smp, "--memory",
                                 "32M", "--debug-exit", acpi ? NULL : "--no-acpi", NULL },
               TIMEOUT_MS);
    bi_expect_ok(&emu, "acpi", status);
    bi_expect_line(&emu, "acpi fw_cfg cpus %u", ncpus);
}

static const unsigned smp_counts[] = { 1, 2, 4 };

START_TEST(tables_for_smp)
{
    unsigned n = smp_counts[_i];
    char fadt[128];
    const char *p;

    run(n, true);
    bi_expect_line(&emu, "acpi rsdp 0x%llx rev 2 oem KVMSTK", (unsigned long long)EM_ACPI_BASE);
    /* XSDT and RSDT, the three they list, DSDT: each checked, each once. */
    ck_assert_uint_eq(bi_count_lines(emu.out.buf, "acpi table "), 6);
    for (const char *const *sig =
             (const char *const[]){ "XSDT", "RSDT", "FACP", "DSDT", "APIC", "MCFG", NULL };
         *sig; sig++) {
        char prefix[32];

        snprintf(prefix, sizeof(prefix), "acpi table %s len ", *sig);
        ck_assert_msg(bi_count_lines(emu.out.buf, prefix) == 1, "%s: %s", *sig,
                      bi_flat(emu.out.buf));
    }
    bi_expect_line(&emu, "acpi xsdt entries 3");
    ck_assert_ptr_nonnull(bi_find_line(emu.out.buf, "acpi table FACP len 276 rev 6 at "));
    /* 44 + a local APIC entry (8) per CPU + IOAPIC (12) + two overrides
     * (10 each) + the LINT1 NMI (6). */
    p = bi_find_line(emu.out.buf, "acpi table APIC len ");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(strtoul(p + strlen("acpi table APIC len "), NULL, 10), 82 + 8 * n);

    /* The PM block of dev/pm.c, and its SCI. */
    snprintf(fadt, sizeof(fadt),
             "acpi fadt pm1a_evt 0x%x pm1a_cnt 0x%x pm_tmr 0x%x lens 4 2 4 sci %d flags 0x",
             EM_PM_IO_BASE + EM_PM1_STS, EM_PM_IO_BASE + EM_PM1_CNT, EM_PM_IO_BASE + EM_PM_TMR,
             EM_SCI_GSI);
    ck_assert_msg(bi_find_line(emu.out.buf, fadt), "no \"%s...\" in: %s", fadt,
                  bi_flat(emu.out.buf));
    bi_expect_line(&emu, "acpi fadt reset space 1 width 8 addr 0x%x value 0x6", EM_RESET_PORT);
    ck_assert_ptr_nonnull(bi_find_line(emu.out.buf, "acpi fadt dsdt 0x"));
    ck_assert_ptr_nonnull(strstr(emu.out.buf, " x_facs 0x0\n"));
    ck_assert_ptr_nonnull(bi_find_line(emu.out.buf, "acpi dsdt aml "));
    bi_expect_line(&emu, "acpi facs len 64");

    bi_expect_line(&emu, "acpi madt lapic_addr 0x%llx flags 0x1",
                   (unsigned long long)EM_LAPIC_BASE);
    for (unsigned i = 0; i < n; i++)
        bi_expect_line(&emu, "acpi madt lapic uid %u id %u flags 1", i, i);
    ck_assert_uint_eq(bi_count_lines(emu.out.buf, "acpi madt lapic uid "), n);
    bi_expect_line(&emu, "acpi madt ioapic id %u addr 0x%llx gsi_base 0", n,
                   (unsigned long long)EM_IOAPIC_BASE);
    bi_expect_line(&emu, "acpi madt lapics %u ioapics 1", n);
    bi_expect_line(&emu, "acpi mcfg base 0x%llx segment 0 buses 0-255",
                   (unsigned long long)EM_PCI_ECAM_BASE);
    expect_mp_table(n);
}
END_TEST

static const unsigned no_acpi_counts[] = { 1, 3 };

START_TEST(no_acpi_leaves_the_mp_table)
{
    unsigned n = no_acpi_counts[_i];

    run(n, false);
    bi_expect_line(&emu, "acpi rsdp none");
    ck_assert_ptr_null(bi_find_line(emu.out.buf, "acpi table "));
    ck_assert_ptr_null(bi_find_line(emu.out.buf, "acpi madt "));
    expect_mp_table(n);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_acpi_kvm");
    TCase *tc = tcase_create("acpi");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, tables_for_smp, 0, sizeof(smp_counts) / sizeof(smp_counts[0]));
    tcase_add_loop_test(tc, no_acpi_leaves_the_mp_table, 0,
                        sizeof(no_acpi_counts) / sizeof(no_acpi_counts[0]));
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = true;
