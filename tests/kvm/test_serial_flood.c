/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * 1 MiB out of COM1 into backends that cannot or will not take it: a pty
 * nobody reads, a unix client that never reads. kvmemu must not block a
 * vCPU on them: the guest finishes and exits. And into a file, every byte.
 * Slow on this host (one exit per byte: about 10 s each), hence the suite.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kvmemu_proc.h"

#define FLOOD_BYTES (1u << 20)
#define TIMEOUT_MS  180000

static char dir[64];
static struct emu emu;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/serial-flood-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];

    emu_cleanup(&emu);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void report(const char *what, double ms)
{
    /* A TAP comment: meson keeps it in the test log. */
    printf("# %s: 1 MiB in %.0f ms (%.0f KiB/s)\n", what, ms, 1024.0 * 1000.0 / ms);
    fflush(stdout);
}

START_TEST(pty_nobody_reads)
{
    double t0 = emu_now_ms();

    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_flood"), "--debug-exit", "--serial",
                                "pty", NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    report("pty nobody reads", emu_now_ms() - t0);
    ck_assert_msg(strstr(emu.err.buf, "kvmemu: serial: redirected to /dev/pts/"), "%s",
                  emu.err.buf);
}
END_TEST

START_TEST(unix_client_that_never_reads)
{
    char sock[128], spec[160];
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    double t0 = emu_now_ms(), deadline = t0 + TIMEOUT_MS;
    int fd;

    snprintf(sock, sizeof(sock), "%s/flood.sock", dir);
    snprintf(spec, sizeof(spec), "unix:%s", sock);
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_flood"), "--debug-exit", "--serial",
                                spec, NULL });
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            break;
        close(fd);
        ck_assert_msg(emu_now_ms() < deadline, "connect: %s", strerror(errno));
        emu_pump(&emu, 2);
    }
    /* Connected and silent: its receive buffer fills, the rest is dropped. */
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    report("unix client that never reads", emu_now_ms() - t0);
    close(fd);
}
END_TEST

START_TEST(file_gets_every_byte)
{
    char path[128], spec[160];
    struct stat st;
    double t0 = emu_now_ms();
    static const char tail[] = "serial_flood: done\n";
    char buf[64];
    int fd;

    snprintf(path, sizeof(path), "%s/flood.log", dir);
    snprintf(spec, sizeof(spec), "file:%s", path);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_flood"), "--debug-exit", "--serial",
                                spec, NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    report("file", emu_now_ms() - t0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, FLOOD_BYTES + sizeof(tail) - 1);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, buf, 64, 0), 64);
    ck_assert_mem_eq(buf, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk\n", 64);
    ck_assert_int_eq(pread(fd, buf, sizeof(tail) - 1, FLOOD_BYTES), (ssize_t)sizeof(tail) - 1);
    ck_assert_mem_eq(buf, tail, sizeof(tail) - 1);
    close(fd);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("serial-flood");
    TCase *tc = tcase_create("kvmemu");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, pty_nobody_reads);
    tcase_add_test(tc, unix_client_that_never_reads);
    tcase_add_test(tc, file_gets_every_byte);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = true;
