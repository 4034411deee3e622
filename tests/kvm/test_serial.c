/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * COM1 end to end: the real kvmemu running the serial test guests, with
 * every --serial backend. Output (file, stdout), interrupt-driven input
 * echoed back (unix socket, pty, stdin pipe), the terminal console (raw
 * mode put back on every way out, Ctrl-A commands), and hostile setups
 * that must fail clearly before the guest runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "kvmemu_proc.h"

#define TIMEOUT_MS 60000

static const char serial_out_text[] = "serial_out: a 16550A on COM1\n"
                                      "serial_out: 0123456789 abcdefghijklmnopqrstuvwxyz\n"
                                      "serial_out: done\n";

static char dir[64];
static struct emu emu;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/serial-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    memset(&emu, 0, sizeof(emu));
    emu.pid = -1;
    emu.in = emu.tty = emu.tty_slave = emu.out.fd = emu.err.fd = -1;
}

static void teardown(void)
{
    char cmd[256];

    emu_cleanup(&emu);
    snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *in_dir(const char *name)
{
    static char p[2][256];
    static unsigned next;
    char *s = p[next++ % 2];

    snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
    return s;
}

static char *read_file(const char *path, size_t *len)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* ---- a client's side of the echo guest's protocol ---- */

struct conn {
    int rfd, wfd;
    char got[4096];
    size_t len;
};

static void conn_read(struct conn *c, int ms)
{
    struct pollfd p = { c->rfd, POLLIN, 0 };

    if (poll(&p, 1, ms) > 0 && c->len + 1 < sizeof(c->got)) {
        ssize_t n = read(c->rfd, c->got + c->len, sizeof(c->got) - 1 - c->len);

        if (n > 0) {
            c->len += (size_t)n;
            c->got[c->len] = '\0';
        }
    }
}

static bool conn_wait(struct conn *c, const char *needle, int ms)
{
    double deadline = emu_now_ms() + ms;

    while (!strstr(c->got, needle) && emu_now_ms() < deadline)
        conn_read(c, 10);
    return strstr(c->got, needle) != NULL;
}

static void conn_send(struct conn *c, const char *s)
{
    ck_assert_int_eq(write(c->wfd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Until the line that starts at "bye " is complete. */
static void wait_for_line_end(struct conn *c)
{
    double deadline = emu_now_ms() + TIMEOUT_MS;

    while (!strchr(strstr(c->got, "bye "), '\n')) {
        ck_assert_msg(emu_now_ms() < deadline, "unfinished: '%s'", c->got);
        conn_read(c, 10);
    }
}

/* '?' until the guest says it is ready (input before its setup may be
 * lost, as on hardware), then a line, and its echo. */
static void echo_session(struct conn *c)
{
    double deadline = emu_now_ms() + TIMEOUT_MS;

    while (!strstr(c->got, "ready\n")) {
        ck_assert_msg(emu_now_ms() < deadline, "no 'ready' from the guest: '%s'", c->got);
        conn_send(c, "?");
        conn_read(c, 100);
    }
    conn_send(c, "hello, serial world.");
    ck_assert_msg(conn_wait(c, "HELLO, SERIAL WORLD.\nbye ", TIMEOUT_MS), "echo: '%s'", c->got);
    wait_for_line_end(c);
    conn_send(c, "!");
}

/* The number of receive interrupts the guest reported: at least one, so
 * the input did arrive through the IRQ. */
static unsigned interrupts_taken(const char *got)
{
    const char *bye = strstr(got, "bye ");

    ck_assert_ptr_nonnull(bye);
    return (unsigned)strtoul(bye + 4, NULL, 10);
}

/* ---- output ---- */

START_TEST(output_to_a_file)
{
    const char *log = in_dir("console.log");
    char spec[300];
    size_t len;

    snprintf(spec, sizeof(spec), "file:%s", log);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_out"), "--debug-exit", "--serial", spec,
                                NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_str_eq(read_file(log, &len), serial_out_text);
    ck_assert_uint_eq(emu.out.total, 0);
    ck_assert_msg(emu.err.total == 0, "stderr: %s", emu.err.buf);
}
END_TEST

START_TEST(output_to_stdout)
{
    /* stdin not a terminal (a pipe, here kept open): no raw mode, no
     * escapes, just the bytes. */
    struct emu_opts o = { .in = EMU_STDIN_PIPE };

    emu_start(&emu, &o,
              (const char *[]){ "--flat", emu_guest("serial_out"), "--debug-exit", "--serial",
                                "stdio", NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_str_eq(emu.out.buf, serial_out_text);

    /* stdio is the default, and /dev/null as stdin is fine. */
    emu_cleanup(&emu);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_out"), "--debug-exit", "--trace-boot",
                                NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_str_eq(emu.out.buf, serial_out_text);
    ck_assert_msg(strstr(emu.err.buf, "first serial byte"), "%s", emu.err.buf);
}
END_TEST

START_TEST(output_to_none)
{
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_out"), "--debug-exit", "--serial",
                                "none", NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_uint_eq(emu.out.total, 0);
    ck_assert_uint_eq(emu.err.total, 0);
}
END_TEST

/* ---- input by interrupt, echoed ---- */

static int connect_unix(const char *path, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    double deadline = emu_now_ms() + timeout_ms;
    int fd;

    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        close(fd);
        ck_assert_msg(emu_now_ms() < deadline, "cannot connect to %s: %s", path, strerror(errno));
        emu_pump(&emu, 5);
    }
}

START_TEST(echo_over_a_unix_socket)
{
    const char *sock = in_dir("serial.sock");
    char spec[300];
    struct conn c = { 0 };

    snprintf(spec, sizeof(spec), "unix:%s", sock);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_echo"), "--debug-exit", "--serial",
                                spec, NULL });
    c.rfd = c.wfd = connect_unix(sock, TIMEOUT_MS);
    echo_session(&c);
    ck_assert_uint_ge(interrupts_taken(c.got), 1);
    close(c.rfd);
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    /* kvmemu removes its socket on the way out. */
    ck_assert_int_eq(access(sock, F_OK), -1);
}
END_TEST

START_TEST(echo_over_a_pty)
{
    const char *p;
    char path[64];
    struct conn c = { 0 };
    struct termios t;

    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_echo"), "--debug-exit", "--serial",
                                "pty", NULL });
    ck_assert_msg(emu_wait_err(&emu, "\n", TIMEOUT_MS), "%s", emu.err.buf);
    p = strstr(emu.err.buf, "kvmemu: serial: redirected to /dev/pts/");
    ck_assert_msg(p == emu.err.buf, "stderr: %s", emu.err.buf); /* the first line */
    ck_assert_int_eq(sscanf(p, "kvmemu: serial: redirected to %63s", path), 1);
    c.rfd = c.wfd = open(path, O_RDWR | O_NOCTTY);
    ck_assert_msg(c.rfd >= 0, "%s: %s", path, strerror(errno));
    /* kvmemu made it raw: no echo, no line editing. */
    ck_assert_int_eq(tcgetattr(c.rfd, &t), 0);
    ck_assert_uint_eq(t.c_lflag & (ECHO | ICANON), 0);
    echo_session(&c);
    ck_assert_uint_ge(interrupts_taken(c.got), 1);
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    close(c.rfd);
    /* Printed once. */
    ck_assert_ptr_null(strstr(strstr(emu.err.buf, "redirected to") + 1, "redirected to"));
}
END_TEST

START_TEST(echo_over_stdio_pipes)
{
    struct emu_opts o = { .in = EMU_STDIN_PIPE };
    struct conn c = { 0 };
    double deadline;

    emu_start(&emu, &o,
              (const char *[]){ "--flat", emu_guest("serial_echo"), "--debug-exit", NULL });
    c.wfd = emu.in;
    deadline = emu_now_ms() + TIMEOUT_MS;
    while (!strstr(emu.out.buf, "ready\n")) {
        ck_assert_msg(emu_now_ms() < deadline, "no 'ready': '%s'", emu.out.buf);
        conn_send(&c, "?");
        emu_pump(&emu, 100);
    }
    /* C-a and x are plain bytes when stdin is not a terminal. */
    conn_send(&c, "pipe\x01x.");
    ck_assert_msg(emu_wait_out(&emu, "bye ", TIMEOUT_MS), "%s", emu.out.buf);
    ck_assert_msg(emu_wait_out(&emu, "\n", TIMEOUT_MS), "%s", emu.out.buf);
    while (!strchr(strstr(emu.out.buf, "bye "), '\n'))
        emu_pump(&emu, 10);
    conn_send(&c, "!");
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_msg(strstr(emu.out.buf, "ready\nPIPE\x01X.\nbye "), "%s", emu.out.buf);
    ck_assert_uint_ge(interrupts_taken(emu.out.buf), 1);
}
END_TEST

/* ---- the terminal console ---- */

static bool same_mode(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

/* Starts the echo guest on a terminal; returns once kvmemu made it raw. */
static void start_on_terminal(const char *guest, struct termios *before)
{
    struct emu_opts o = { .in = EMU_STDIN_TTY };
    struct termios now;
    double deadline;

    emu_start(&emu, &o, (const char *[]){ "--flat", emu_guest(guest), "--debug-exit", NULL });
    ck_assert_int_eq(tcgetattr(emu.tty_slave, before), 0);
    ck_assert(before->c_lflag & ICANON);
    deadline = emu_now_ms() + TIMEOUT_MS;
    do {
        ck_assert_msg(emu_now_ms() < deadline, "the terminal never went raw: %s", emu.out.buf);
        emu_pump(&emu, 5);
        ck_assert_int_eq(tcgetattr(emu.tty_slave, &now), 0);
    } while ((now.c_lflag & ICANON) && emu.status < 0);
    ck_assert_uint_eq(now.c_lflag & (ICANON | ECHO | ISIG), 0);
}

static void type(const char *s)
{
    ck_assert_int_eq(write(emu.tty, s, strlen(s)), (ssize_t)strlen(s));
}

static void terminal_ready(void)
{
    double deadline = emu_now_ms() + TIMEOUT_MS;

    while (!strstr(emu.out.buf, "ready")) {
        ck_assert_msg(emu_now_ms() < deadline, "no 'ready': '%s'", emu.out.buf);
        type("?");
        emu_pump(&emu, 100);
    }
}

START_TEST(terminal_ctrl_a_commands)
{
    struct termios before, after;

    start_on_terminal("serial_echo", &before);
    terminal_ready();
    /* C-a C-a is one C-a for the guest; C-a then another key is both. */
    type("ab\x01\x01"
         "c\x01q");
    ck_assert_msg(emu_wait_out(&emu,
                               "AB\x01"
                               "C\x01Q",
                               TIMEOUT_MS),
                  "%s", emu.out.buf);
    /* C-a h: help, from kvmemu, not the guest. */
    type("\x01h");
    ck_assert_msg(emu_wait_out(&emu, "C-a x", TIMEOUT_MS), "%s", emu.out.buf);
    /* C-a x: kvmemu ends, status 0, and the terminal is as it was. */
    type("\x01x");
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), 0);
    ck_assert_msg(strstr(emu.out.buf, "kvmemu: terminated by Ctrl-A x"), "%s", emu.out.buf);
    ck_assert_ptr_null(strstr(emu.out.buf, "bye")); /* the guest did not finish */
    ck_assert_int_eq(tcgetattr(emu.tty_slave, &after), 0);
    ck_assert(same_mode(&before, &after));
}
END_TEST

START_TEST(terminal_restored_on_sigterm)
{
    struct termios before, after;

    start_on_terminal("serial_echo", &before);
    terminal_ready();
    kill(emu.pid, SIGTERM);
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), 0);
    ck_assert_int_eq(tcgetattr(emu.tty_slave, &after), 0);
    ck_assert(same_mode(&before, &after));
}
END_TEST

START_TEST(terminal_restored_on_guest_exit)
{
    struct termios before, after;

    start_on_terminal("serial_echo", &before);
    terminal_ready();
    type("done.");
    ck_assert_msg(emu_wait_out(&emu, "bye ", TIMEOUT_MS), "%s", emu.out.buf);
    type("!");
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
    ck_assert_msg(strstr(emu.out.buf, "DONE.\r\nbye"), "%s", emu.out.buf); /* ONLCR kept */
    ck_assert_int_eq(tcgetattr(emu.tty_slave, &after), 0);
    ck_assert(same_mode(&before, &after));
}
END_TEST

START_TEST(terminal_restored_on_error_exit)
{
    struct termios before, after;

    /* The guest makes itself impossible to run: kvmemu ends with 1. */
    start_on_terminal("serial_echo", &before);
    terminal_ready();
    type("#");
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), 1);
    ck_assert_msg(strstr(emu.out.buf, "vCPU 0 stopped"), "%s", emu.out.buf);
    ck_assert_int_eq(tcgetattr(emu.tty_slave, &after), 0);
    ck_assert(same_mode(&before, &after));
}
END_TEST

/* ---- hostile setups ---- */

START_TEST(unix_clients_that_come_and_go)
{
    const char *sock = in_dir("serial.sock");
    char spec[300];
    struct conn c = { 0 };

    snprintf(spec, sizeof(spec), "unix:%s", sock);
    emu_start(&emu, NULL,
              (const char *[]){ "--flat", emu_guest("serial_echo"), "--debug-exit", "--serial",
                                spec, NULL });
    for (int i = 0; i < 100; i++) {
        int fd = connect_unix(sock, TIMEOUT_MS);

        /* Some say something the guest ignores (it is not ready). */
        if (i % 4 == 0)
            ck_assert_int_eq(write(fd, "noise", 5), 5);
        close(fd);
    }
    c.rfd = c.wfd = connect_unix(sock, TIMEOUT_MS);
    echo_session(&c);
    close(c.rfd);
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), EMU_GUEST_OK);
}
END_TEST

static void expect_startup_failure(const struct emu_opts *o, const char *spec, const char *path,
                                   const char *why)
{
    emu_start(&emu, o,
              (const char *[]){ "--flat", emu_guest("serial_out"), "--debug-exit", "--trace-boot",
                                "--serial", spec, NULL });
    ck_assert_int_eq(emu_wait(&emu, TIMEOUT_MS), 1);
    ck_assert_msg(strstr(emu.err.buf, path) && strstr(emu.err.buf, why), "stderr: %s", emu.err.buf);
    /* Before the guest ran: no instruction, no output. */
    ck_assert_msg(!strstr(emu.err.buf, "first guest instruction"), "%s", emu.err.buf);
    ck_assert_uint_eq(emu.out.total, 0);
}

START_TEST(unix_path_in_a_missing_directory)
{
    const char *sock = in_dir("no/such/dir/serial.sock");
    char spec[300];

    snprintf(spec, sizeof(spec), "unix:%s", sock);
    expect_startup_failure(NULL, spec, sock, "No such file or directory");
    ck_assert_msg(strstr(emu.err.buf, "kvmemu: serial unix:"), "%s", emu.err.buf);
}
END_TEST

START_TEST(unix_path_that_is_not_a_socket)
{
    const char *p = in_dir("notes.txt");
    char spec[300];
    size_t len;
    int fd = open(p, O_WRONLY | O_CREAT, 0644);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "mine", 4), 4);
    close(fd);
    snprintf(spec, sizeof(spec), "unix:%s", p);
    expect_startup_failure(NULL, spec, p, "not a socket");
    ck_assert_str_eq(read_file(p, &len), "mine");
}
END_TEST

START_TEST(file_in_a_read_only_directory)
{
    const char *ro = in_dir("ro");
    char spec[320], path[300];
    struct emu_opts o = { .in = EMU_STDIN_NULL, .drop_dac = true };

    ck_assert_int_eq(mkdir(ro, 0555), 0);
    snprintf(path, sizeof(path), "%s/console.log", ro);
    snprintf(spec, sizeof(spec), "file:%s", path);
    /* Root passes permission checks; the child gives that power up. */
    expect_startup_failure(&o, spec, path, "Permission denied");
    ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("serial");
    TCase *tc = tcase_create("kvmemu");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, output_to_a_file);
    tcase_add_test(tc, output_to_stdout);
    tcase_add_test(tc, output_to_none);
    tcase_add_test(tc, echo_over_a_unix_socket);
    tcase_add_test(tc, echo_over_a_pty);
    tcase_add_test(tc, echo_over_stdio_pipes);
    tcase_add_test(tc, terminal_ctrl_a_commands);
    tcase_add_test(tc, terminal_restored_on_sigterm);
    tcase_add_test(tc, terminal_restored_on_guest_exit);
    tcase_add_test(tc, terminal_restored_on_error_exit);
    tcase_add_test(tc, unix_clients_that_come_and_go);
    tcase_add_test(tc, unix_path_in_a_missing_directory);
    tcase_add_test(tc, unix_path_that_is_not_a_socket);
    tcase_add_test(tc, file_in_a_read_only_directory);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = true;
