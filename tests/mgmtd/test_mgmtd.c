/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd end to end: a real daemon under a temporary root, real emulators
 * running the monitor guest (a multiboot kernel that ticks, and powers off
 * on the ACPI button), everything through the socket API. The emulator
 * processes themselves are checked in /proc, not only the daemon's view.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_proc.h"
#include "testutil.h"

const bool test_needs_kvm = true;

#define API_NO_DOMAIN   4
#define API_INVALID_OP  5
#define API_INVALID_DEF 6
#define API_DUPLICATE   7
#define API_DENIED      8
#define API_TIMEOUT     10
#define API_BUSY        11

#define UUID_A "7b0c8f64-1b31-4d5e-9a3c-000000000001"
#define UUID_B "7b0c8f64-1b31-4d5e-9a3c-000000000002"

static struct daemon dmn;
static struct md_client *c;

static void setup(void)
{
    daemon_start(&dmn, NULL);
    c = daemon_connect(&dmn, false);
}

static void teardown(void)
{
    md_client_close(c);
    daemon_cleanup(&dmn);
}

static void define_guest(const char *name, const char *uuid, const char *devices, const char *extra)
{
    char *xml = guest_xml(name, uuid, devices, extra);

    json_object_put(define(c, xml));
    free(xml);
}

static char *proc_status(pid_t pid)
{
    static char buf[8192];
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* ---- definitions ---- */

START_TEST(define_list_and_the_rules_of_identity)
{
    char *xml, *bad;
    json_object *r, *list;

    define_guest("alpha", UUID_A, NULL, NULL);
    r = call_ok(c, "domain.list", "{\"all\": true}");
    list = json_object_object_get(r, "domains");
    ck_assert_int_eq(json_object_array_length(list), 1);
    ck_assert_str_eq(jstr(json_object_array_get_idx(list, 0), "state"), "shut off");
    ck_assert_int_eq(jint(json_object_array_get_idx(list, 0), "id"), -1);
    json_object_put(r);
    /* Not running: the default list is empty. */
    r = call_ok(c, "domain.list", NULL);
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "domains")), 0);
    json_object_put(r);
    /* Found by name and by UUID; the file is on disk. */
    r = call_ok(c, "domain.lookup", "{\"domain\": \"%s\"}", UUID_A);
    ck_assert_str_eq(jstr(r, "name"), "alpha");
    json_object_put(r);
    {
        char path[200];

        snprintf(path, sizeof(path), "%s/etc/domains/alpha.xml", dmn.root);
        ck_assert_int_eq(access(path, F_OK), 0);
    }
    /* The same name and UUID: an update. */
    xml = guest_xml("alpha", UUID_A, NULL, "  <on_reboot>destroy</on_reboot>\n");
    r = define(c, xml);
    ck_assert(!json_object_get_boolean(json_object_object_get(r, "created")));
    json_object_put(r);
    free(xml);
    r = call_ok(c, "domain.get_xml", "{\"domain\": \"alpha\"}");
    ck_assert(strstr(jstr(r, "xml"), "<on_reboot>destroy</on_reboot>"));
    json_object_put(r);
    /* Another domain's name or UUID is refused. */
    xml = guest_xml("alpha", UUID_B, NULL, NULL);
    call_fails(c, API_DUPLICATE, "domain 'alpha' already exists with UUID " UUID_A, "domain.define",
               "{\"xml\": %s}", jquote(xml));
    free(xml);
    xml = guest_xml("beta", UUID_A, NULL, NULL);
    call_fails(c, API_DUPLICATE, "UUID " UUID_A " is already domain 'alpha'", "domain.define",
               "{\"xml\": %s}", jquote(xml));
    free(xml);
    /* A bad definition names the element and its line. */
    bad = guest_xml("gamma", NULL, "    <graphics type='vnc'/>\n", NULL);
    call_fails(c, API_INVALID_DEF, "graphics", "domain.define", "{\"xml\": %s}", jquote(bad));
    ck_assert_msg(strstr(md_client_error(c), "line "), "%s", md_client_error(c));
    free(bad);
    /* A file that must exist. */
    bad = guest_xml("delta", NULL,
                    "    <disk type='file' device='disk'><source file='/nonexistent/d.img'/>"
                    "<target dev='vda' bus='virtio'/></disk>\n",
                    NULL);
    call_fails(c, API_INVALID_DEF, "/nonexistent/d.img", "domain.define", "{\"xml\": %s}",
               jquote(bad));
    free(bad);
    call_fails(c, API_INVALID_DEF, "", "domain.define", "{\"xml\": \"<domain\"}");
    /* Nothing of the refused ones was kept. */
    r = call_ok(c, "domain.list", "{\"all\": true}");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "domains")), 1);
    json_object_put(r);
    json_object_put(call_ok(c, "domain.undefine", "{\"domain\": \"alpha\"}"));
    call_fails(c, API_NO_DOMAIN, "no domain with a name, id or UUID 'alpha'", "domain.get_state",
               "{\"domain\": \"alpha\"}");
}
END_TEST

/* ---- the life of a domain ---- */

START_TEST(lifecycle_and_the_emulator_behind_it)
{
    const struct passwd *nobody = getpwnam("nobody");
    json_object *r;
    char *st;
    pid_t pid;

    define_guest("life", UUID_A, NULL, NULL);
    r = call_ok(c, "domain.start", "{\"domain\": \"life\"}");
    ck_assert_int_eq(jint(r, "id"), 1);
    json_object_put(r);
    state_is(c, "life", "running", "booted");
    pid = emulator_pid(c, "life");
    ck_assert(pid_alive(pid));
    /* The emulator holds no privilege. */
    st = proc_status(pid);
    ck_assert_msg(strstr(st, "CapEff:\t0000000000000000"), "%s", st);
    ck_assert_msg(strstr(st, "CapBnd:\t0000000000000000"), "%s", st);
    ck_assert_msg(strstr(st, "CapPrm:\t0000000000000000"), "%s", st);
    ck_assert_msg(strstr(st, "NoNewPrivs:\t1"), "%s", st);
    if (geteuid() == 0) {
        char uid[32];

        snprintf(uid, sizeof(uid), "Uid:\t%u\t", nobody ? (unsigned)nobody->pw_uid : 65534u);
        ck_assert_msg(strstr(st, uid), "%s", st);
    }
    /* Only what makes sense in each state. */
    call_fails(c, API_INVALID_OP, "domain life is already running", "domain.start",
               "{\"domain\": \"life\"}");
    call_fails(c, API_INVALID_OP, "is running: cannot resume it", "domain.resume",
               "{\"domain\": \"life\"}");
    call_fails(c, API_INVALID_OP, "is running: destroy it first", "domain.undefine",
               "{\"domain\": \"life\"}");
    json_object_put(call_ok(c, "domain.suspend", "{\"domain\": \"life\"}"));
    state_is(c, "life", "paused", "user");
    call_fails(c, API_INVALID_OP, "already paused", "domain.suspend", "{\"domain\": \"life\"}");
    json_object_put(call_ok(c, "domain.resume", "{\"domain\": \"life\"}"));
    state_is(c, "life", "running", "unpaused");
    json_object_put(call_ok(c, "domain.reset", "{\"domain\": \"life\"}"));
    state_is(c, "life", "running", NULL);
    ck_assert_int_eq(emulator_pid(c, "life"), pid);
    /* The guest powers itself off on the ACPI button. */
    json_object_put(call_ok(c, "domain.shutdown", "{\"domain\": \"life\", \"timeout\": 20}"));
    state_is(c, "life", "shut off", "shutdown");
    for (int i = 0; i < 200 && pid_alive(pid); i++)
        usleep(10000);
    ck_assert(!pid_alive(pid));
    call_fails(c, API_INVALID_OP, "is shut off: cannot shut it down", "domain.shutdown",
               "{\"domain\": \"life\"}");
    call_fails(c, API_INVALID_OP, "is shut off: cannot destroy it", "domain.destroy",
               "{\"domain\": \"life\"}");
    /* Started paused, then destroyed. */
    r = call_ok(c, "domain.start", "{\"domain\": \"life\", \"paused\": true}");
    ck_assert_int_eq(jint(r, "id"), 2);
    json_object_put(r);
    state_is(c, "life", "paused", "user");
    pid = emulator_pid(c, "life");
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"life\"}"));
    state_is(c, "life", "shut off", "destroyed");
    ck_assert(!pid_alive(pid));
    /* Its run files are gone with it. */
    {
        char path[200];

        snprintf(path, sizeof(path), "%s/run/domains/life.xml", dmn.root);
        ck_assert_int_ne(access(path, F_OK), 0);
        snprintf(path, sizeof(path), "%s/run/domains/life.qmp", dmn.root);
        ck_assert_int_ne(access(path, F_OK), 0);
    }
}
END_TEST

START_TEST(a_killed_emulator_is_reported_crashed)
{
    json_object *ev;
    struct md_client *events = daemon_connect(&dmn, true);
    pid_t pid;

    json_object_put(call_ok(events, "events.subscribe", NULL));
    define_guest("victim", NULL, NULL, NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"victim\"}"));
    pid = emulator_pid(c, "victim");
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert(wait_state(c, "victim", "shut off", 5000));
    state_is(c, "victim", "shut off", "crashed");
    /* Subscribers are told, with the end of its log. */
    for (;;) {
        ev = md_client_next_event(events, 5000);
        ck_assert_msg(ev, "no stopped event: %s", md_client_error(events));
        if (!strcmp(jstr(ev, "type"), "stopped"))
            break;
        json_object_put(ev);
    }
    ck_assert_str_eq(jstr(ev, "detail"), "crashed");
    ck_assert_int_eq(jint(ev, "signal"), SIGKILL);
    ck_assert(strstr(jstr(ev, "log"), "starting:"));
    json_object_put(ev);
    md_client_close(events);
    /* It starts again. */
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"victim\"}"));
    state_is(c, "victim", "running", "booted");
}
END_TEST

START_TEST(on_poweroff_restart_and_reboot)
{
    json_object *r;
    pid_t pid;
    int64_t id;

    define_guest("phoenix", NULL, NULL, "  <on_poweroff>restart</on_poweroff>\n");
    r = call_ok(c, "domain.start", "{\"domain\": \"phoenix\"}");
    id = jint(r, "id");
    json_object_put(r);
    /* The guest powers off: a new emulator takes its place, every time
     * (the old monitor's end must not be taken for the new one's). */
    for (int round = 0; round < 4; round++) {
        pid = emulator_pid(c, "phoenix");
        json_object_put(call_ok(c, "domain.shutdown", "{\"domain\": \"phoenix\"}"));
        for (int i = 0; i < 500 && (pid_alive(pid) || emulator_pid(c, "phoenix") <= 0); i++)
            usleep(10000);
        ck_assert(wait_state(c, "phoenix", "running", 5000));
        ck_assert_int_ne(emulator_pid(c, "phoenix"), pid);
    }
    r = call_ok(c, "domain.lookup", "{\"domain\": \"phoenix\"}");
    ck_assert_int_gt(jint(r, "id"), id);
    json_object_put(r);
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"phoenix\"}"));
    state_is(c, "phoenix", "shut off", "destroyed");

    /* reboot: powered off by the guest, started again by the daemon. */
    define_guest("reboot-me", NULL, NULL, NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"reboot-me\"}"));
    pid = emulator_pid(c, "reboot-me");
    json_object_put(call_ok(c, "domain.reboot", "{\"domain\": \"reboot-me\"}"));
    for (int i = 0; i < 500 && pid_alive(pid); i++)
        usleep(10000);
    ck_assert(!pid_alive(pid));
    ck_assert(wait_state(c, "reboot-me", "running", 5000));
    ck_assert_int_ne(emulator_pid(c, "reboot-me"), pid);
}
END_TEST

/* The comm of a process ("" if it is gone). */
static void proc_comm(pid_t pid, char *buf, size_t len)
{
    char path[64];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? read(fd, buf, len - 1) : 0;
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
}

/*
 * shutdown of a guest that is already powering itself off (as when its
 * console ended with it, and the admin asks for a shutdown anyway): its
 * emulator has closed the monitor but has not ended yet. That is a short
 * window with kvmemu; an emulator wrapper that lingers after kvmemu
 * (`exec sleep`, the same pid) makes it seconds long. Nothing is left to
 * press: the shutdown succeeds, and with a timeout waits for the end.
 */
START_TEST(shutdown_of_a_guest_powering_off)
{
    char wrap[300], devices[400], comm[64];
    FILE *w;
    pid_t pid;

    /* The emulator's user (nobody) runs it from the root. */
    ck_assert_int_eq(chmod(dmn.root, 0711), 0);
    snprintf(wrap, sizeof(wrap), "%s/wrap", dmn.root);
    ck_assert_int_eq(mkdir(wrap, 0755), 0);
    snprintf(wrap, sizeof(wrap), "%s/wrap/kvmemu", dmn.root);
    w = fopen(wrap, "w");
    ck_assert_ptr_nonnull(w);
    fprintf(w, "#!/bin/sh\n%s \"$@\"\nexec sleep 5\n", KVMEMU_PATH);
    ck_assert_int_eq(fclose(w), 0);
    ck_assert_int_eq(chmod(wrap, 0755), 0);
    snprintf(devices, sizeof(devices), "    <emulator>%s</emulator>\n", wrap);
    define_guest("late", NULL, devices, NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"late\"}"));
    state_is(c, "late", "running", "booted");
    pid = emulator_pid(c, "late");
    /* The button: the guest powers off, kvmemu ends, its wrapper lingers. */
    json_object_put(call_ok(c, "domain.shutdown", "{\"domain\": \"late\"}"));
    for (int i = 0; i < 1000; i++) {
        proc_comm(pid, comm, sizeof(comm));
        if (strcmp(comm, "kvmemu") != 0)
            break;
        usleep(10000);
    }
    ck_assert_str_eq(comm, "sleep");
    state_is(c, "late", "in shutdown", NULL);
    /* Nothing to press: done at once, or once it ended. */
    json_object_put(call_ok(c, "domain.shutdown", "{\"domain\": \"late\"}"));
    state_is(c, "late", "in shutdown", NULL);
    json_object_put(call_ok(c, "domain.shutdown", "{\"domain\": \"late\", \"timeout\": 30}"));
    state_is(c, "late", "shut off", "shutdown");
    ck_assert(!pid_alive(pid));
}
END_TEST

/* The console: the guest's output, and input that reaches it. */
static int open_console(struct md_client *cc, const char *dom)
{
    json_object_put(call_ok(cc, "domain.console", "{\"domain\": \"%s\"}", dom));
    return md_client_fd(cc);
}

static bool read_until(int fd, const char *needle, int ms)
{
    char buf[8192];
    size_t len = 0;

    for (int i = 0; i < ms / 10; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 10) <= 0)
            continue;
        n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, needle))
            return true;
        if (len > sizeof(buf) / 2) {
            memmove(buf, buf + len - 64, 64);
            len = 64;
        }
    }
    return false;
}

START_TEST(console_and_on_crash_preserve)
{
    struct md_client *con, *con2;
    int fd;

    define_guest("talk", NULL, NULL, "  <on_crash>preserve</on_crash>\n");
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"talk\"}"));
    con = daemon_connect(&dmn, false);
    fd = open_console(con, "talk");
    ck_assert(read_until(fd, "tick", 5000));
    /* One session at a time; force takes over. */
    con2 = daemon_connect(&dmn, false);
    call_fails(con2, API_BUSY, "another console session is attached", "domain.console",
               "{\"domain\": \"talk\"}");
    json_object_put(call_ok(con2, "domain.console", "{\"domain\": \"talk\", \"force\": true}"));
    md_client_close(con);
    fd = md_client_fd(con2);
    ck_assert(read_until(fd, "tick", 5000));
    /* The read-only socket has no console. */
    {
        struct md_client *ro = daemon_connect(&dmn, true);

        call_fails(ro, API_DENIED, "read-only", "domain.console", "{\"domain\": \"talk\"}");
        md_client_close(ro);
    }
    /* Typing reaches the guest: 'p' makes it panic, and on_crash preserve
     * keeps it, crashed. */
    ck_assert_int_eq(write(fd, "p", 1), 1);
    ck_assert(read_until(fd, "panic", 5000));
    ck_assert(wait_state(c, "talk", "crashed", 5000));
    state_is(c, "talk", "crashed", "panicked");
    ck_assert(pid_alive(emulator_pid(c, "talk")));
    md_client_close(con2);
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"talk\"}"));
    state_is(c, "talk", "shut off", "destroyed");
    call_fails(c, API_INVALID_OP, "is not running", "domain.console", "{\"domain\": \"talk\"}");
}
END_TEST

/* ---- the daemon's own life ---- */

START_TEST(a_restarted_daemon_reattaches)
{
    pid_t pid;
    json_object *r;

    define_guest("survivor", NULL, NULL, NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"survivor\"}"));
    json_object_put(
        call_ok(c, "domain.set_autostart", "{\"domain\": \"survivor\", \"autostart\": true}"));
    pid = emulator_pid(c, "survivor");
    md_client_close(c);
    ck_assert_int_eq(WTERMSIG(daemon_stop(&dmn, SIGKILL)), SIGKILL);
    /* The VM did not notice. */
    usleep(200000);
    ck_assert(pid_alive(pid));
    daemon_restart(&dmn, NULL);
    c = daemon_connect(&dmn, false);
    r = call_ok(c, "domain.lookup", "{\"domain\": \"survivor\"}");
    ck_assert_str_eq(jstr(r, "state"), "running");
    ck_assert_int_eq(jint(r, "id"), 1);
    ck_assert(json_object_get_boolean(json_object_object_get(r, "autostart")));
    json_object_put(r);
    ck_assert_int_eq(emulator_pid(c, "survivor"), pid);
    /* Its monitor works again. */
    json_object_put(call_ok(c, "domain.suspend", "{\"domain\": \"survivor\"}"));
    state_is(c, "survivor", "paused", "user");
    /* A clean stop of the daemon leaves it too; then autostart at the next
     * start brings back a domain that was shut off. */
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"survivor\"}"));
    md_client_close(c);
    daemon_stop(&dmn, SIGTERM);
    daemon_restart(&dmn, NULL);
    c = daemon_connect(&dmn, false);
    ck_assert(wait_state(c, "survivor", "running", 10000));
    ck_assert_int_ne(emulator_pid(c, "survivor"), pid);
}
END_TEST

/* Killed in the middle of writing a definition: the old one is whole. */
START_TEST(a_daemon_killed_mid_write_loses_nothing)
{
    char path[200], *xml;
    struct md_client *w;
    json_object *p;

    define_guest("precious", UUID_A, NULL, NULL);
    md_client_close(c);
    daemon_stop(&dmn, SIGTERM);
    daemon_restart(&dmn, "MGMTD_TEST_CRASH=atomic-before-rename");
    w = daemon_connect(&dmn, false);
    xml = guest_xml("precious", UUID_A, NULL, "  <on_crash>preserve</on_crash>\n");
    p = json_object_new_object();
    json_object_object_add(p, "xml", json_object_new_string(xml));
    ck_assert_ptr_null(md_client_call(w, "domain.define", p));
    md_client_close(w);
    free(xml);
    /* It died at the crash point. */
    ck_assert(WIFSIGNALED(daemon_stop(&dmn, 0)));
    daemon_restart(&dmn, NULL);
    c = daemon_connect(&dmn, false);
    p = call_ok(c, "domain.get_xml", "{\"domain\": \"precious\"}");
    ck_assert_ptr_null(strstr(jstr(p, "xml"), "<on_crash>preserve"));
    json_object_put(p);
    /* The file on disk is the old definition, whole. */
    snprintf(path, sizeof(path), "%s/etc/domains/precious.xml", dmn.root);
    {
        FILE *f = fopen(path, "r");
        char buf[16384];
        size_t n;

        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        ck_assert(strstr(buf, "</domain>"));
        ck_assert_ptr_null(strstr(buf, "preserve"));
    }
    /* The half-written temporary was cleaned up at the start. */
    {
        char cmd[300];

        snprintf(cmd, sizeof(cmd), "ls -a %s/etc/domains | grep -q tmp-", dmn.root);
        ck_assert_int_ne(system(cmd), 0);
    }
}
END_TEST

START_TEST(transient_domains)
{
    char *xml = guest_xml("fleeting", NULL, NULL, NULL);
    json_object *r;
    char path[200];

    r = call_ok(c, "domain.create", "{\"xml\": %s}", jquote(xml));
    free(xml);
    json_object_put(r);
    r = call_ok(c, "domain.lookup", "{\"domain\": \"fleeting\"}");
    ck_assert(!json_object_get_boolean(json_object_object_get(r, "persistent")));
    ck_assert_str_eq(jstr(r, "state"), "running");
    json_object_put(r);
    snprintf(path, sizeof(path), "%s/etc/domains/fleeting.xml", dmn.root);
    ck_assert_int_ne(access(path, F_OK), 0);
    call_fails(c, API_INVALID_OP, "transient", "domain.set_autostart",
               "{\"domain\": \"fleeting\", \"autostart\": true}");
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"fleeting\"}"));
    call_fails(c, API_NO_DOMAIN, "fleeting", "domain.lookup", "{\"domain\": \"fleeting\"}");
}
END_TEST

/* Two domains start at once; requests for one domain are served in order. */
START_TEST(concurrency)
{
    struct md_client *a = daemon_connect(&dmn, false), *b = daemon_connect(&dmn, false);
    json_object *r;

    define_guest("one", NULL, NULL, NULL);
    define_guest("two", NULL, NULL, NULL);
    /* Sent together on two connections, answered both. */
    r = md_client_call(a, "domain.start", json_tokener_parse("{\"domain\": \"one\"}"));
    ck_assert_msg(r, "%s", md_client_error(a));
    json_object_put(r);
    r = md_client_call(b, "domain.start", json_tokener_parse("{\"domain\": \"two\"}"));
    ck_assert_msg(r, "%s", md_client_error(b));
    json_object_put(r);
    state_is(c, "one", "running", NULL);
    state_is(c, "two", "running", NULL);
    /* suspend then destroy of one domain, from two connections: in order. */
    json_object_put(call_ok(a, "domain.suspend", "{\"domain\": \"one\"}"));
    json_object_put(call_ok(b, "domain.destroy", "{\"domain\": \"one\"}"));
    state_is(c, "one", "shut off", "destroyed");
    state_is(c, "two", "running", NULL);
    /* A hundred clients at once, each answered. */
    {
        struct md_client *many[100];

        for (int i = 0; i < 100; i++)
            many[i] = daemon_connect(&dmn, i % 2);
        for (int i = 0; i < 100; i++) {
            r = call_ok(many[i], "domain.get_info", "{\"domain\": \"two\"}");
            ck_assert_str_eq(jstr(r, "state"), "running");
            json_object_put(r);
        }
        for (int i = 0; i < 100; i++)
            md_client_close(many[i]);
    }
    md_client_close(a);
    md_client_close(b);
}
END_TEST

/* The read-only socket, the sockets' modes, and an unprivileged user. */
START_TEST(read_only_and_permissions)
{
    struct md_client *ro = daemon_connect(&dmn, true);
    const struct passwd *nobody = getpwnam("nobody");
    struct stat st;
    json_object *r;

    define_guest("guarded", NULL, NULL, NULL);
    r = call_ok(ro, "domain.list", "{\"all\": true}");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "domains")), 1);
    json_object_put(r);
    call_fails(ro, API_DENIED, "domain.start changes state", "domain.start",
               "{\"domain\": \"guarded\"}");
    md_client_close(ro);
    state_is(c, "guarded", "shut off", NULL);
    ck_assert_int_eq(stat(dmn.rw, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(dmn.ro, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0666);
    if (geteuid() == 0 && nobody) {
        int status;
        pid_t pid;

        /* The run directory is made by root for root: let nobody reach
         * the sockets, as a system's /run/kvmstack is. */
        {
            char run[200];

            snprintf(run, sizeof(run), "%s/run", dmn.root);
            ck_assert_int_eq(chmod(dmn.root, 0755), 0);
            ck_assert_int_eq(chmod(run, 0755), 0);
        }
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            char err[256];
            struct md_client *u;
            json_object *res;

            if (setgid(nobody->pw_gid) < 0 || setuid(nobody->pw_uid) < 0)
                _exit(10);
            /* The read-write socket: the file mode keeps it out. */
            u = md_client_connect(dmn.rw, err, sizeof(err));
            if (u || !strstr(err, "Permission denied"))
                _exit(11);
            u = md_client_connect(dmn.ro, err, sizeof(err));
            if (!u)
                _exit(12);
            res = md_client_call(u, "domain.list", json_tokener_parse("{\"all\": true}"));
            if (!res)
                _exit(13);
            json_object_put(res);
            res =
                md_client_call(u, "domain.start", json_tokener_parse("{\"domain\": \"guarded\"}"));
            if (res || md_client_code(u) != API_DENIED)
                _exit(14);
            md_client_close(u);
            _exit(0);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "step %d failed",
                      WEXITSTATUS(status));
        state_is(c, "guarded", "shut off", NULL);
    }
}
END_TEST

/* A NIC: a tap made and brought up by the daemon, gone with the VM. */
START_TEST(a_tap_for_each_nic)
{
    json_object *r, *nics;
    char cmd[200];
    pid_t pid;

    define_guest("wired", NULL,
                 "    <interface type='ethernet'><mac address='52:54:00:aa:00:01'/>"
                 "<target dev='mdtest0'/><model type='virtio'/></interface>\n",
                 NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"wired\"}"));
    ck_assert_int_eq(system("ip link show mdtest0 | grep -q 'UP'"), 0);
    r = call_ok(c, "domain.get_devices", "{\"domain\": \"wired\"}");
    nics = json_object_object_get(r, "interfaces");
    ck_assert_int_eq(json_object_array_length(nics), 1);
    ck_assert_str_eq(jstr(json_object_array_get_idx(nics, 0), "interface"), "mdtest0");
    ck_assert_str_eq(jstr(json_object_array_get_idx(nics, 0), "mac"), "52:54:00:aa:00:01");
    json_object_put(r);
    pid = emulator_pid(c, "wired");
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"wired\"}"));
    ck_assert(!pid_alive(pid));
    snprintf(cmd, sizeof(cmd), "ip link show mdtest0 >/dev/null 2>&1");
    for (int i = 0; i < 100 && system(cmd) == 0; i++)
        usleep(20000);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

/* What `virsh dumpxml` writes for a one-disk, one-NIC virtio guest (the
 * corpus's file, its paths pointed at this machine's): defined, started,
 * dumped back equivalent, and the dump defines the same domain again. */
static char *replace(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from), *out;

    ck_assert_msg(at, "test bug: '%s' not in the corpus file", from);
    ck_assert_int_gt(asprintf(&out, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from)), 0);
    free(s);
    return out;
}

START_TEST(a_libvirt_written_guest)
{
    char disk[200], kernel[300], *xml, *dump1, *dump2;
    json_object *r;
    size_t len;
    int fd;

    ck_assert_int_eq(system("ip link del mdtbr0 2>/dev/null; ip link add mdtbr0 type bridge && "
                            "ip link set mdtbr0 up"),
                     0);
    snprintf(disk, sizeof(disk), "%s/web1.img", dmn.root);
    fd = open(disk, O_CREAT | O_RDWR, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 16 << 20), 0);
    close(fd);
    snprintf(kernel, sizeof(kernel), "%s/monitor_mb.elf", GUEST_DIR);
    {
        FILE *f = fopen(XML_DIR "/good/virsh-dumpxml.xml", "r");
        char buf[16384];

        ck_assert_ptr_nonnull(f);
        len = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[len] = '\0';
        xml = strdup(buf);
    }
    xml = replace(xml, "/var/lib/kvm-stack/boot/vmlinuz-6.1.0-18-amd64", kernel);
    xml = replace(xml, "    <initrd>/var/lib/kvm-stack/boot/initrd.img-6.1.0-18-amd64</initrd>\n",
                  "");
    xml = replace(xml, "/var/lib/libvirt/images/web1.img", disk);
    xml = replace(xml, "<source bridge='br0'/>", "<source bridge='mdtbr0'/>");
    json_object_put(define(c, xml));
    free(xml);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"web1\"}"));
    state_is(c, "web1", "running", "booted");
    /* Its NIC's tap joined the bridge. */
    ck_assert_int_eq(system("ip -o link show master mdtbr0 | grep -q vnet"), 0);
    r = call_ok(c, "domain.get_xml", "{\"domain\": \"web1\"}");
    dump1 = strdup(jstr(r, "xml"));
    json_object_put(r);
    /* What libvirt's file said is all there. */
    for (const char *const *want =
             (const char *const[]){
                 "<title>Web server</title>", "<libosinfo:os id=\"http://debian.org/debian/12\"/>",
                 "<mac address='52:54:00:6b:3c:58'/>", "slot='0x04'", "slot='0x03'", "slot='0x06'",
                 "<cmdline>console=ttyS0 root=/dev/vda1 ro quiet</cmdline>",
                 "<on_crash>destroy</on_crash>", "cache='none'", NULL };
         *want; want++)
        ck_assert_msg(strstr(dump1, *want), "'%s' is not in:\n%s", *want, dump1);
    /* The dump, defined again, is the same domain, and dumps the same. */
    r = define(c, dump1);
    ck_assert(!json_object_get_boolean(json_object_object_get(r, "created")));
    json_object_put(r);
    r = call_ok(c, "domain.get_xml", "{\"domain\": \"web1\", \"inactive\": true}");
    dump2 = strdup(jstr(r, "xml"));
    json_object_put(r);
    ck_assert_str_eq(dump1, dump2);
    free(dump1);
    free(dump2);
    json_object_put(call_ok(c, "domain.destroy", "{\"domain\": \"web1\"}"));
    ck_assert_int_eq(system("ip link del mdtbr0"), 0);
}
END_TEST

START_TEST(bad_requests_disturb_nobody)
{
    json_object *r;

    define_guest("calm", NULL, NULL, NULL);
    json_object_put(call_ok(c, "domain.start", "{\"domain\": \"calm\"}"));
    call_fails(c, 2, "unknown method 'domain.explode'", "domain.explode", NULL);
    call_fails(c, 3, "the parameter 'domain' is missing", "domain.start", "{}");
    call_fails(c, 3, "unknown parameter 'bogus'", "domain.start",
               "{\"domain\": \"calm\", \"bogus\": 1}");
    call_fails(c, 3, "must be true or false", "domain.start",
               "{\"domain\": \"calm\", \"paused\": \"yes\"}");
    call_fails(c, 3, "must be between 0 and 86400", "domain.shutdown",
               "{\"domain\": \"calm\", \"timeout\": -5}");
    r = call_ok(c, "domain.get_state", "{\"domain\": \"calm\"}");
    ck_assert_str_eq(jstr(r, "state"), "running");
    json_object_put(r);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mgmtd");
    TCase *tc = tcase_create("daemon");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, define_list_and_the_rules_of_identity);
    tcase_add_test(tc, lifecycle_and_the_emulator_behind_it);
    tcase_add_test(tc, a_killed_emulator_is_reported_crashed);
    tcase_add_test(tc, on_poweroff_restart_and_reboot);
    tcase_add_test(tc, shutdown_of_a_guest_powering_off);
    tcase_add_test(tc, console_and_on_crash_preserve);
    tcase_add_test(tc, a_restarted_daemon_reattaches);
    tcase_add_test(tc, a_daemon_killed_mid_write_loses_nothing);
    tcase_add_test(tc, transient_domains);
    tcase_add_test(tc, concurrency);
    tcase_add_test(tc, read_only_and_permissions);
    tcase_add_test(tc, a_tap_for_each_nic);
    tcase_add_test(tc, a_libvirt_written_guest);
    tcase_add_test(tc, bad_requests_disturb_nobody);
    suite_add_tcase(s, tc);
    return s;
}
