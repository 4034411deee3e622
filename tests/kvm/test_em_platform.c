/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The platform devices under the real kvmemu and KVM: the platform guest
 * enumerates PCI through CAM and ECAM, reads the RTC, fw_cfg, the POST
 * port and the i8042 and prints what it found, which is checked here
 * against the command line and the host's clock; the resets guest goes
 * through both reset paths across real machine resets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvmemu_proc.h"
#include "memmap.h"

#define TIMEOUT_MS 60000

static struct emu emu;

static void teardown(void)
{
    emu_cleanup(&emu);
}

static int run_platform(const char *smp, const char *mem, time_t *t0, time_t *t1)
{
    int status;

    *t0 = time(NULL);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("platform"), "--debug-exit", "--smp", smp,
                                "--memory", mem, NULL });
    status = emu_wait(&emu, TIMEOUT_MS);
    *t1 = time(NULL);
    ck_assert_msg(status == EMU_GUEST_OK, "status %d; the guest said:\n%s\nstderr:\n%s", status,
                  emu.out.buf, emu.err.buf);
    return status;
}

static void expect_line(const char *line)
{
    ck_assert_msg(strstr(emu.out.buf, line), "no \"%s\" in:\n%s", line, emu.out.buf);
}

/* The e820 lines the guest printed from fw_cfg, against the memory map. */
static void expect_e820(uint64_t ram)
{
    struct em_memmap mm;
    char line[80];
    unsigned n = 0;

    em_memmap_init(&mm, ram);
    for (unsigned i = 0; i < mm.nr_e820; i++) {
        snprintf(line, sizeof(line), "e820 %016llx %016llx %u\n",
                 (unsigned long long)mm.e820[i].addr, (unsigned long long)mm.e820[i].size,
                 mm.e820[i].type);
        expect_line(line);
    }
    for (const char *p = emu.out.buf; (p = strstr(p, "e820 ")); p++)
        n++;
    ck_assert_uint_eq(n, mm.nr_e820);
}

/* The guest's RTC reading, against the host's UTC clock around the run. */
static void expect_rtc_near(time_t t0, time_t t1)
{
    const char *p = strstr(emu.out.buf, "rtc ");
    struct tm tm = { 0 };
    time_t guest;

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(sscanf(p, "rtc %4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    guest = timegm(&tm);
    ck_assert_msg(guest >= t0 - 1 && guest <= t1 + 1, "guest RTC %lld, host clock %lld-%lld (UTC)",
                  (long long)guest, (long long)t0, (long long)t1);
    expect_line("rtc update-ended seen\n");
}

START_TEST(platform_2_cpus_256m)
{
    time_t t0, t1;

    run_platform("2", "256M", &t0, &t1);
    expect_line("platform: start\n");
    expect_line("pci 00:00.0 8086:29c0 class 060000\n");
    expect_line("fw_cfg cpus=2 ram=268435456\n");
    expect_e820(256ull << 20);
    expect_rtc_near(t0, t1);
    expect_line("platform: ok\n");
    ck_assert_msg(!strstr(emu.out.buf, "FAIL"), "%s", emu.out.buf);
}
END_TEST

START_TEST(platform_follows_the_config)
{
    time_t t0, t1;

    /* Above 4 GiB: the map gains high RAM; nothing is touched, so the
     * memory is not really used. */
    run_platform("1", "5G", &t0, &t1);
    expect_line("fw_cfg cpus=1 ram=5368709120\n");
    expect_e820(5ull << 30);
    expect_line("platform: ok\n");
}
END_TEST

/* `events` appear in stderr in this order. */
static void expect_in_order(const char *const *events)
{
    const char *p = emu.err.buf;

    for (; *events; events++) {
        const char *q = strstr(p, *events);

        ck_assert_msg(q, "\"%s\" missing or out of order in:\n%s", *events, emu.err.buf);
        p = q + strlen(*events);
    }
}

START_TEST(both_reset_paths_reset_the_machine)
{
    static const char *const events[] = {
        "POST 0x01", "i8042 reset", "reset 1", "POST 0x02", "reset via port 0xcf9",
        "reset 2",   "POST 0x03",   NULL,
    };
    int status;

    emu_start(
        &emu, NULL,
        (const char *[]){ "--flat", emu_guest("resets"), "--debug-exit", "--trace-boot", NULL });
    status = emu_wait(&emu, TIMEOUT_MS);
    ck_assert_msg(status == EMU_GUEST_OK, "status %d, stderr:\n%s", status, emu.err.buf);
    expect_in_order(events);
    ck_assert_msg(!strstr(emu.err.buf, "reset 3"), "%s", emu.err.buf);
}
END_TEST

START_TEST(i8042_reset_with_on_reboot_exit)
{
    static const char *const events[] = { "POST 0x01", "i8042 reset", "reset: exiting", NULL };
    int status;

    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("resets"), "--debug-exit", "--trace-boot",
                                "--on-reboot", "exit", NULL });
    status = emu_wait(&emu, TIMEOUT_MS);
    ck_assert_msg(status == 0, "status %d, stderr:\n%s", status, emu.err.buf);
    expect_in_order(events);
    ck_assert_msg(!strstr(emu.err.buf, "POST 0x02"), "%s", emu.err.buf);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_platform_kvm");
    TCase *tc = tcase_create("platform");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, platform_2_cpus_256m);
    tcase_add_test(tc, platform_follows_the_config);
    tcase_add_test(tc, both_reset_paths_reset_the_machine);
    tcase_add_test(tc, i8042_reset_with_on_reboot_exit);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = true;
