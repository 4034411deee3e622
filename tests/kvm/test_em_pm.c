/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu with a real VM: the `pm` guest (tests/guests/pm.c) finds the ACPI
 * and MP tables in its memory, uses the PM registers and powers off
 * through S5, which must end kvmemu with status 0 and a timeline mark.
 * Without ACPI tables (--no-acpi) the same guest must notice and fail,
 * which shows its checks are real.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

const bool test_needs_kvm = true;

extern char **environ;

#define TIMEOUT_SECS 30

struct run {
    int status; /* exit status, or -1 */
    char err[8192];
};

/* Runs kvmemu on the pm guest with one extra option (or none); stderr is
 * kept. Fails the test if kvmemu does not end within TIMEOUT_SECS. */
static void run_kvmemu(const char *extra, struct run *r)
{
    char flat[512], err_path[] = "/tmp/test_em_pm.XXXXXX";
    const char *argv[8];
    posix_spawn_file_actions_t fa;
    int n = 0, fd, wstatus;
    pid_t pid;
    ssize_t got;

    snprintf(flat, sizeof(flat), "%s/pm.bin", GUEST_DIR);
    argv[n++] = KVMEMU_PATH;
    argv[n++] = "--flat";
    argv[n++] = flat;
    argv[n++] = "--debug-exit";
    argv[n++] = "--trace-boot";
    if (extra)
        argv[n++] = extra;
    argv[n] = NULL;

    fd = mkstemp(err_path);
    ck_assert_int_ge(fd, 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    ck_assert_int_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);

    r->status = -1;
    for (int i = 0; i < TIMEOUT_SECS * 100; i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        pid_t w = waitpid(pid, &wstatus, WNOHANG);

        ck_assert_int_ge(w, 0);
        if (w == pid) {
            r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
            break;
        }
        nanosleep(&ts, NULL);
    }
    if (r->status == -1 && waitpid(pid, &wstatus, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &wstatus, 0);
        ck_abort_msg("kvmemu did not end within %d s", TIMEOUT_SECS);
    }
    got = pread(fd, r->err, sizeof(r->err) - 1, 0);
    r->err[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(err_path);
}

START_TEST(s5_powers_the_machine_off)
{
    struct run r;

    run_kvmemu(NULL, &r);
    ck_assert_msg(r.status == 0, "kvmemu ended with %d:\n%s", r.status, r.err);
    ck_assert_msg(strstr(r.err, "ACPI S5 power-off"), "no timeline mark:\n%s", r.err);
    ck_assert_msg(strstr(r.err, "power-off (status 0)"), "%s", r.err);
    /* The S1 request the guest made first was answered with a warning. */
    ck_assert_msg(strstr(r.err, "SLP_TYP=1"), "%s", r.err);
}
END_TEST

START_TEST(without_acpi_the_guest_finds_no_rsdp)
{
    struct run r;

    run_kvmemu("--no-acpi", &r);
    /* Check 1 (the RSDP) fails: debug-exit 0x21 is status 0x43. */
    ck_assert_msg(r.status == ((0x21 << 1) | 1), "kvmemu ended with %d:\n%s", r.status, r.err);
    ck_assert(!strstr(r.err, "ACPI S5 power-off"));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_pm");
    TCase *tc = tcase_create("kvmemu");

    tcase_set_timeout(tc, TIMEOUT_SECS + 10);
    tcase_add_test(tc, s5_powers_the_machine_off);
    tcase_add_test(tc, without_acpi_the_guest_finds_no_rsdp);
    suite_add_tcase(s, tc);
    return s;
}
