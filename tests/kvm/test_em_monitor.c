/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor of a real kvmemu running the `monitor` guest
 * (tests/guests/monitor.c), which prints a tick every 50 ms of guest time,
 * powers off on the ACPI power button, panics through pvpanic on 'p' and
 * reads its disk on 'r'. Each command is judged by what the guest and the
 * process do, not only by the reply: stop really stops the ticks, cont
 * brings them back, system_powerdown makes the guest power itself off,
 * quit and SIGTERM end the process with the events QEMU sends.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmemu_proc.h"
#include "qmp_client.h"

const bool test_needs_kvm = true;

#define T    10000 /* ms */
#define TICK 50    /* ms between the guest's ticks */

static char dir[64], sock[96], mon_arg[128];
static struct emu e;
static struct qc c;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_em_monitor.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
    snprintf(mon_arg, sizeof(mon_arg), "unix:%s", sock);
    memset(&e, 0, sizeof(e));
    e.pid = -1;
    c.fd = -1;
}

static void teardown(void)
{
    qc_close(&c);
    if (e.pid > 0)
        emu_cleanup(&e);
    unlink(sock);
    rmdir(dir);
}

/* kvmemu with the monitor guest, the monitor socket, stdin a pipe, and
 * up to four more arguments; connected and negotiated. */
static void start(const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[16] = { "--flat",  emu_guest("monitor"), "--monitor", mon_arg, "--name",
                             "mon-test" };
    unsigned n = 6;
    struct emu_opts o = { .in = EMU_STDIN_PIPE };

    for (const char *const *a = (const char *const[]){ a1, a2, a3, a4 }; n < 10 && *a; a++)
        args[n++] = *a;
    args[n] = NULL;
    emu_start(&e, &o, args);
    ck_assert_msg(qc_connect_ready(&c, sock, T) == 0, "%s\nkvmemu said: %s", c.error, e.err.buf);
}

static void expect_return(const char *req)
{
    json_object *r = qc_cmd(&c, req, T);

    if (!r) {
        emu_pump(&e, 200); /* has it ended, and how? */
        ck_assert_msg(r, "no reply to %s: %s (kvmemu, status %d: %s)", req, c.error, e.status,
                      e.err.buf);
    }
    ck_assert_msg(json_object_object_get_ex(r, "return", NULL), "%s: %s", req,
                  json_object_to_json_string(r));
    json_object_put(r);
}

static json_object *expect_event(const char *name)
{
    json_object *ev = qc_event(&c, name, T);

    ck_assert_msg(ev, "no %s event: %s (kvmemu: %s)", name, c.error, e.err.buf);
    return ev;
}

static void expect_cause(const char *name, bool guest, const char *reason)
{
    json_object *ev = expect_event(name), *g = NULL;

    ck_assert(json_object_object_get_ex(json_object_object_get(ev, "data"), "guest", &g));
    ck_assert_int_eq(json_object_get_boolean(g), guest);
    ck_assert_str_eq(qc_str(ev, "data.reason"), reason);
    json_object_put(ev);
}

static void expect_status(const char *status)
{
    json_object *st = qc_execute(&c, "query-status", T);

    ck_assert_msg(st, "%s", c.error);
    ck_assert_str_eq(qc_str(st, "status"), status);
    json_object_put(st);
}

/* The guest's output grows within ms (it runs), or does not (stopped). */
static bool output_grows(int ms)
{
    size_t before;

    emu_pump(&e, 0);
    before = e.out.total;
    emu_pump(&e, ms);
    return e.out.total > before;
}

static void type(char ch)
{
    ck_assert_int_eq(write(e.in, &ch, 1), 1);
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

START_TEST(stop_stops_the_guest_and_cont_resumes_it)
{
    start(NULL, NULL, NULL, NULL);
    ck_assert_msg(emu_wait_out(&e, "tick 2\n", T), "%s", e.out.buf);
    expect_status("running");
    expect_return("{\"execute\": \"stop\"}");
    json_object_put(expect_event("STOP"));
    expect_status("paused");
    /* Once stop has answered, no guest code runs: not one more byte, over
     * ten of the guest's ticks. */
    emu_pump(&e, 0);
    ck_assert(!output_grows(10 * TICK));
    expect_return("{\"execute\": \"stop\"}"); /* again: nothing changes */
    expect_return("{\"execute\": \"cont\"}");
    json_object_put(expect_event("RESUME"));
    expect_status("running");
    ck_assert(output_grows(20 * TICK));
    ck_assert_uint_eq(qc_events_queued(&c, "STOP"), 0);
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(paused_start_waits_for_cont)
{
    json_object *tl;
    const char *s;

    start("--paused", NULL, NULL, NULL);
    expect_status("prelaunch");
    ck_assert(!output_grows(10 * TICK));
    ck_assert_uint_eq(e.out.total, 0);
    expect_return("{\"execute\": \"cont\"}");
    json_object_put(expect_event("RESUME"));
    ck_assert_msg(emu_wait_out(&e, "boot\n", T), "%s", e.out.buf);
    /* The timeline tells the wait apart from the run. */
    tl = qc_execute(&c, "x-query-boot-timeline", T);
    ck_assert_ptr_nonnull(tl);
    s = json_object_to_json_string(tl);
    ck_assert_msg(strstr(s, "--paused") && strstr(s, "first guest instruction"), "%s", s);
    ck_assert(strstr(s, "--paused") < strstr(s, "first guest instruction"));
    json_object_put(tl);
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(powerdown_makes_the_guest_power_off)
{
    start(NULL, NULL, NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));
    expect_return("{\"execute\": \"system_powerdown\"}");
    json_object_put(expect_event("POWERDOWN"));
    /* The guest saw the button and powered itself off through S5. */
    expect_cause("SHUTDOWN", true, "guest-shutdown");
    ck_assert(qc_wait_eof(&c, T));
    ck_assert_int_eq(emu_wait(&e, T), 0);
    ck_assert_msg(strstr(e.out.buf, "power button\n"), "%s", e.out.buf);
    /* The monitor's socket is gone with it. */
    ck_assert_int_ne(access(sock, F_OK), 0);
}
END_TEST

START_TEST(powerdown_without_acpi_is_refused)
{
    json_object *r;

    start("--no-acpi", NULL, NULL, NULL);
    r = qc_cmd(&c, "{\"execute\": \"system_powerdown\"}", T);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(qc_error_class(r), "GenericError");
    ck_assert(strstr(qc_str(r, "error.desc"), "no ACPI power button"));
    json_object_put(r);
    ck_assert_uint_eq(qc_events_queued(&c, "POWERDOWN"), 0);
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(system_reset_reboots)
{
    start(NULL, NULL, NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 2\n", T));
    expect_return("{\"execute\": \"system_reset\"}");
    expect_cause("RESET", false, "host-qmp-system-reset");
    /* The guest starts again from the top: a second "boot", ticks anew. */
    for (int i = 0; i < T / 10 && count(e.out.buf, "boot\n") < 2; i++)
        emu_pump(&e, 10);
    ck_assert_msg(count(e.out.buf, "boot\n") == 2, "%s", e.out.buf);
    ck_assert(emu_wait_out(&e, "boot\ntick 1\n", T));
    expect_status("running");
    /* A reset while stopped leaves it stopped, in prelaunch (as QEMU). */
    expect_return("{\"execute\": \"stop\"}");
    expect_return("{\"execute\": \"system_reset\"}");
    expect_cause("RESET", false, "host-qmp-system-reset");
    expect_status("prelaunch");
    ck_assert(!output_grows(6 * TICK));
    expect_return("{\"execute\": \"cont\"}");
    for (int i = 0; i < T / 10 && count(e.out.buf, "boot\n") < 3; i++)
        emu_pump(&e, 10);
    ck_assert_uint_eq(count(e.out.buf, "boot\n"), 3);
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(reset_with_on_reboot_exit_is_a_shutdown)
{
    start("--on-reboot", "exit", NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));
    expect_return("{\"execute\": \"system_reset\"}");
    expect_cause("SHUTDOWN", false, "host-qmp-system-reset");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(quit_and_sigterm)
{
    json_object *r;

    start(NULL, NULL, NULL, NULL);
    r = qc_cmd(&c, "{\"execute\": \"quit\", \"id\": \"bye\"}", T);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(qc_str(r, "id"), "bye");
    json_object_put(r);
    expect_cause("SHUTDOWN", false, "host-qmp-quit");
    ck_assert(qc_wait_eof(&c, T));
    ck_assert_int_eq(emu_wait(&e, T), 0);
    qc_close(&c);

    start(NULL, NULL, NULL, NULL);
    ck_assert_int_eq(kill(e.pid, SIGTERM), 0);
    expect_cause("SHUTDOWN", false, "host-signal");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(panic_powers_off_or_pauses)
{
    json_object *ev;

    /* QEMU's default: GUEST_PANICKED, then SHUTDOWN, and the end. */
    start(NULL, NULL, NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));
    type('p');
    ev = expect_event("GUEST_PANICKED");
    ck_assert_str_eq(qc_str(ev, "data.action"), "poweroff");
    json_object_put(ev);
    expect_cause("SHUTDOWN", true, "guest-panic");
    ck_assert_int_eq(emu_wait(&e, T), 0);
    qc_close(&c);

    /* --on-panic pause: the VM stays, stopped, for a look. */
    start("--on-panic", "pause", NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));
    type('p');
    ev = expect_event("GUEST_PANICKED");
    ck_assert_str_eq(qc_str(ev, "data.action"), "pause");
    json_object_put(ev);
    json_object_put(expect_event("STOP"));
    expect_status("guest-panicked");
    emu_pump(&e, 0);
    ck_assert(!output_grows(6 * TICK));
    /* As QEMU, cont runs it again (its kernel decides what next). */
    expect_return("{\"execute\": \"cont\"}");
    json_object_put(expect_event("RESUME"));
    ck_assert(output_grows(20 * TICK));
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(queries_describe_the_machine)
{
    char disk[128], disk_arg[160], task[64];
    json_object *l, *o;
    int fd;

    snprintf(disk, sizeof(disk), "%s/disk.img", dir);
    fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
    close(fd);
    snprintf(disk_arg, sizeof(disk_arg), "path=%s,readonly=on", disk);
    start("--smp", "2", "--disk", disk_arg);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));

    o = qc_execute(&c, "query-name", T);
    ck_assert_str_eq(qc_str(o, "name"), "mon-test");
    json_object_put(o);
    /* Every vCPU is a thread of this very process. */
    l = qc_execute(&c, "query-cpus-fast", T);
    ck_assert_int_eq(json_object_array_length(l), 2);
    for (int i = 0; i < 2; i++) {
        int tid = json_object_get_int(
            json_object_object_get(json_object_array_get_idx(l, i), "thread-id"));

        ck_assert_int_gt(tid, 0);
        snprintf(task, sizeof(task), "/proc/%d/task/%d", (int)e.pid, tid);
        ck_assert_msg(access(task, F_OK) == 0, "%s", task);
    }
    json_object_put(l);
    l = qc_execute(&c, "query-block", T);
    ck_assert_int_eq(json_object_array_length(l), 1);
    o = json_object_array_get_idx(l, 0);
    ck_assert_str_eq(qc_str(o, "device"), "virtio0");
    ck_assert_str_eq(qc_str(o, "inserted.file"), disk);
    ck_assert_int_eq(json_object_get_boolean(
                         json_object_object_get(json_object_object_get(o, "inserted"), "ro")),
                     true);
    ck_assert_int_eq(json_object_get_int64(json_object_object_get(
                         json_object_object_get(json_object_object_get(o, "inserted"), "image"),
                         "virtual-size")),
                     1 << 20);
    json_object_put(l);
    l = qc_execute(&c, "query-chardev", T);
    ck_assert_int_eq(json_object_array_length(l), 1);
    ck_assert_str_eq(qc_str(json_object_array_get_idx(l, 0), "label"), "serial0");
    ck_assert_str_eq(qc_str(json_object_array_get_idx(l, 0), "filename"), "stdio");
    json_object_put(l);
    o = qc_execute(&c, "query-kvm", T);
    ck_assert_ptr_nonnull(json_object_object_get(o, "x-completed-instructions"));
    json_object_put(o);
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(host_io_error_is_an_event)
{
    char disk[128], disk_arg[160];
    json_object *ev;
    int fd;

    snprintf(disk, sizeof(disk), "%s/disk.img", dir);
    fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
    snprintf(disk_arg, sizeof(disk_arg), "path=%s", disk);
    start("--disk", disk_arg, NULL, NULL);
    ck_assert(emu_wait_out(&e, "tick 1\n", T));
    type('r');
    ck_assert_msg(emu_wait_out(&e, "read ok\n", T), "%s", e.out.buf);
    /* The file shrinks under the guest: its next read fails. */
    ck_assert_int_eq(ftruncate(fd, 0), 0);
    close(fd);
    type('r');
    ck_assert_msg(emu_wait_out(&e, "read error\n", T), "%s", e.out.buf);
    ev = expect_event("BLOCK_IO_ERROR");
    ck_assert_str_eq(qc_str(ev, "data.device"), "virtio0");
    ck_assert_str_eq(qc_str(ev, "data.node-name"), "disk0");
    ck_assert_str_eq(qc_str(ev, "data.operation"), "read");
    ck_assert_str_eq(qc_str(ev, "data.action"), "report");
    ck_assert(qc_str(ev, "data.reason")[0] != '\0');
    json_object_put(ev);
    /* The emulator carries on. */
    ck_assert(output_grows(20 * TICK));
    expect_return("{\"execute\": \"quit\"}");
    ck_assert_int_eq(emu_wait(&e, T), 0);
}
END_TEST

START_TEST(monitor_errors_end_the_start)
{
    const char *args[] = { "--flat", emu_guest("monitor"), "--monitor",
                           "unix:/nonexistent/dir/qmp.sock", NULL };
    struct emu_opts o = { .in = EMU_STDIN_NULL };
    char file_arg[128];
    int fd;

    emu_start(&e, &o, args);
    ck_assert_int_eq(emu_wait(&e, T), 1);
    ck_assert_msg(strstr(e.err.buf, "monitor /nonexistent/dir/qmp.sock"), "%s", e.err.buf);
    emu_cleanup(&e);

    /* A file that is not a socket is not replaced. */
    fd = open(sock, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(file_arg, sizeof(file_arg), "unix:%s", sock);
    args[3] = file_arg;
    emu_start(&e, &o, args);
    ck_assert_int_eq(emu_wait(&e, T), 1);
    ck_assert_msg(strstr(e.err.buf, "exists and is not a socket"), "%s", e.err.buf);
    emu_cleanup(&e);
    ck_assert_int_eq(access(sock, F_OK), 0);

    /* A descriptor that is not open is a usage error (status 2). */
    args[3] = "fd=987";
    emu_start(&e, &o, args);
    ck_assert_int_eq(emu_wait(&e, T), 2);
    ck_assert_msg(strstr(e.err.buf, "'987' is not an open file descriptor"), "%s", e.err.buf);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_monitor");
    TCase *tc = tcase_create("monitor");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stop_stops_the_guest_and_cont_resumes_it);
    tcase_add_test(tc, paused_start_waits_for_cont);
    tcase_add_test(tc, powerdown_makes_the_guest_power_off);
    tcase_add_test(tc, powerdown_without_acpi_is_refused);
    tcase_add_test(tc, system_reset_reboots);
    tcase_add_test(tc, reset_with_on_reboot_exit_is_a_shutdown);
    tcase_add_test(tc, quit_and_sigterm);
    tcase_add_test(tc, panic_powers_off_or_pauses);
    tcase_add_test(tc, queries_describe_the_machine);
    tcase_add_test(tc, host_io_error_is_an_event);
    tcase_add_test(tc, monitor_errors_end_the_start);
    suite_add_tcase(s, tc);
    return s;
}
