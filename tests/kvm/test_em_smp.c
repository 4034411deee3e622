/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Application processors started as an OS starts them, under the real
 * kvmemu and KVM: the smp_boot guest's BSP sends INIT and two STARTUP
 * IPIs through its local APIC to a real-mode trampoline below 1 MiB; each
 * AP goes to protected mode, reports its APIC ids and counts itself with
 * lock xadd, a lock cmpxchg loop and lock incl. Here: every APIC id
 * 0..n-1 appears exactly once, CPUID's and the LAPIC's agree, every AP
 * started at CS = vector << 8, the counters say n-1, and the MADT lists
 * the same ids with the BSP first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo_host.h"

#define TIMEOUT_MS 120000
#define MAX_CPUS   8

static struct emu emu;

static void teardown(void)
{
    emu_cleanup(&emu);
}

static const unsigned smp_counts[] = { 2, 4 };

START_TEST(aps_start_through_init_sipi_sipi)
{
    unsigned n = smp_counts[_i], seen[MAX_CPUS] = { 0 }, aps = 0, bsps = 0;
    char smp[8], what[32], madt[64];
    int status;

    snprintf(smp, sizeof(smp), "%u", n);
    snprintf(what, sizeof(what), "smp_boot, --smp %u", n);
    status = bi_run(&emu, what,
                    (const char *[]){ "--flat", bi_guest("smp_boot", "bin"), "--smp", smp,
                                      "--memory", "32M", "--debug-exit", NULL },
                    TIMEOUT_MS);
    bi_expect_ok(&emu, "smp", status);
    bi_expect_line(&emu, "smp fw_cfg cpus %u", n);
    bi_expect_line(&emu, "smp counters xadd %u cmpxchg %u inc %u", n - 1, n - 1, n - 1);

    for (const char *p = emu.out.buf; (p = bi_find_line(p, "smp cpu ")); p++) {
        unsigned cid, lid, cs;

        if (sscanf(p, "smp cpu bsp cpuid_id %u lapic_id %u", &cid, &lid) == 2) {
            bsps++;
            ck_assert_uint_eq(lid, 0); /* kvmemu's BSP is vCPU 0 */
        } else {
            ck_assert_int_eq(sscanf(p, "smp cpu ap cpuid_id %u lapic_id %u cs %x", &cid, &lid, &cs),
                             3);
            ck_assert_uint_eq(cs, 0x800); /* the trampoline at 0x8000 */
            aps++;
        }
        ck_assert_uint_eq(cid, lid);
        ck_assert_uint_lt(lid, n);
        seen[lid]++;
    }
    ck_assert_uint_eq(bsps, 1);
    ck_assert_uint_eq(aps, n - 1);
    for (unsigned i = 0; i < n; i++)
        ck_assert_msg(seen[i] == 1, "APIC id %u seen %u times: %s", i, seen[i],
                      bi_flat(emu.out.buf));
    bi_expect_line(&emu, "smp ids 0..%u each once", n - 1);

    snprintf(madt, sizeof(madt), "smp madt ids");
    for (unsigned i = 0; i < n; i++)
        snprintf(madt + strlen(madt), sizeof(madt) - strlen(madt), " %u", i);
    bi_expect_line(&emu, "%s", madt);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_smp_kvm");
    TCase *tc = tcase_create("smp");

    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, aps_start_through_init_sipi_sipi, 0,
                        sizeof(smp_counts) / sizeof(smp_counts[0]));
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = true;
