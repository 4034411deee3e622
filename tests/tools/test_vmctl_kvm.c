/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmctl with domains that run (the demo guest under KVM): every lifecycle
 * command, what list, dominfo, domstate --reason and domid say in each
 * state, the errors of commands in the wrong state, transient domains,
 * the console without a terminal (input from a pipe, the session ending
 * when the guest powers off), one console session at a time, and the
 * lifecycle events.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

const bool test_needs_kvm = true;

#define BOOT_MS 30000

static struct fx f;
static struct fx_out r;

static void setup(void)
{
    fx_start(&f);
}

static void teardown(void)
{
    fx_stop(&f);
}

static void expect(int status, const char *out, const char *err)
{
    ck_assert_msg(r.status == status, "status %d, not %d; stdout: %s; stderr: %s", r.status, status,
                  r.out, r.err);
    if (out)
        ck_assert_msg(!strcmp(r.out, out), "stdout:\n%s\nnot:\n%s", r.out, out);
    if (err)
        ck_assert_msg(!strcmp(r.err, err), "stderr:\n%s\nnot:\n%s", r.err, err);
}

static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle), "'%s' lacks '%s'", text, needle);
}

static void define(const char *name)
{
    FX_VMCTL(&f, &r, NULL, "define", fx_domain_xml(&f, name, NULL));
    expect(0, NULL, "");
}

static void domstate(const char *name, const char *want)
{
    char line[128];

    FX_VMCTL(&f, &r, NULL, "domstate", "--reason", name);
    snprintf(line, sizeof(line), "%s\n\n", want);
    expect(0, line, "");
}

static void wait_state(const char *name, const char *state)
{
    char now[64];

    ck_assert_msg(fx_wait_state(&f, name, state, BOOT_MS), "%s is %s, not %s", name,
                  fx_state(&f, name, now, sizeof(now)), state);
}

START_TEST(lifecycle)
{
    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, "Domain 'alpha' started\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list");
    expect(0,
           " Id   Name    State\n"
           "-----------------------\n"
           " 1    alpha   running\n"
           "\n",
           "");
    domstate("alpha", "running (booted)");
    FX_VMCTL(&f, &r, NULL, "domid", "alpha");
    expect(0, "1\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domname", "1");
    expect(0, "alpha\n\n", "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "1");
    expect(0, NULL, "");
    expect_in(r.out, "Id:             1\nName:           alpha\n");
    expect_in(r.out, "State:          running\nCPU(s):         1\n");
    expect_in(r.out, "Max memory:     32768 KiB\nUsed memory:    32768 KiB\n");

    FX_VMCTL(&f, &r, NULL, "suspend", "alpha");
    expect(0, "Domain 'alpha' suspended\n\n", "");
    domstate("alpha", "paused (user)");
    FX_VMCTL(&f, &r, NULL, "list", "--state-paused", "--name");
    expect(0, "alpha\n\n", "");
    FX_VMCTL(&f, &r, NULL, "resume", "1");
    expect(0, "Domain 'alpha' resumed\n\n", "");
    domstate("alpha", "running (unpaused)");

    /* The guest heeds the power button. */
    FX_VMCTL(&f, &r, NULL, "shutdown", "alpha");
    expect(0, "Domain 'alpha' is being shutdown\n\n", "");
    wait_state("alpha", "shut off");
    domstate("alpha", "shut off (shutdown)");
    FX_VMCTL(&f, &r, NULL, "domid", "alpha");
    expect(0, "-\n\n", "");

    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, "Domain 'alpha' started\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domid", "alpha");
    expect(0, "2\n\n", "");
    /* (A power button pressed while the machine resets is lost with its
     * state: the reset comes last.) */
    FX_VMCTL(&f, &r, NULL, "reset", "alpha");
    expect(0, "Domain 'alpha' was reset\n\n", "");
    domstate("alpha", "running (booted)");
    FX_VMCTL(&f, &r, NULL, "destroy", "alpha");
    expect(0, "Domain 'alpha' destroyed\n\n", "");
    domstate("alpha", "shut off (destroyed)");

    /* --paused; shutdown --timeout waits for the end. */
    FX_VMCTL(&f, &r, NULL, "start", "--paused", "alpha");
    expect(0, "Domain 'alpha' started\n\n", "");
    domstate("alpha", "paused (user)");
    FX_VMCTL(&f, &r, NULL, "resume", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "shutdown", "alpha", "--timeout", "30");
    expect(0, "Domain 'alpha' is shut off\n\n", "");
    domstate("alpha", "shut off (shutdown)");
}
END_TEST

START_TEST(reboot_starts_again)
{
    char now[64];

    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "reboot", "alpha");
    expect(0, "Domain 'alpha' is being rebooted\n\n", "");
    /* The guest powers off on the button; the daemon starts it again. */
    for (int i = 0; i < 300; i++) {
        FX_VMCTL(&f, &r, NULL, "-q", "domid", "alpha");
        if (!strcmp(r.out, "2\n"))
            break;
        usleep(100000);
    }
    expect(0, "2\n", "");
    /* (The id comes with the new emulator; running, once its guest runs.) */
    ck_assert_msg(fx_wait_state(&f, "alpha", "running", BOOT_MS), "alpha is %s",
                  fx_state(&f, "alpha", now, sizeof(now)));
}
END_TEST

START_TEST(wrong_state_errors)
{
    define("alpha");
    FX_VMCTL(&f, &r, NULL, "destroy", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "error: Failed to destroy domain 'alpha'\nerror: domain alpha is shut off");
    FX_VMCTL(&f, &r, NULL, "console", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "error: cannot attach to the console of domain 'alpha'\n"
                     "error: domain alpha is not running\n");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(1, "\n",
           "error: Failed to start domain 'alpha'\nerror: domain alpha is already running\n");
    FX_VMCTL(&f, &r, NULL, "resume", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "error: Failed to resume domain 'alpha'\nerror: domain alpha is running: ");
    /* The read-only socket refuses; the domain runs on. */
    FX_VMCTL(&f, &r, NULL, "-r", "destroy", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "error: Failed to destroy domain 'alpha'\n");
    expect_in(r.err, "read-only socket");
    FX_VMCTL(&f, &r, NULL, "-r", "console", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "read-only socket");
    domstate("alpha", "running (booted)");
}
END_TEST

/* An emulator that ends while starting (here: the kernel is not one) fails
 * the start, with its log's last lines; it is not restarted. */
START_TEST(failed_start_is_reported)
{
    char xml[1024];
    const char *kernel = fx_write(&f, "boot/not-a-kernel", "this is not a kernel\n");

    snprintf(xml, sizeof(xml),
             "<domain type='kvm'><name>bad</name><memory unit='MiB'>32</memory>"
             "<os><type>hvm</type><kernel>%s</kernel></os><on_crash>restart</on_crash>"
             "<devices><serial type='pty'/></devices></domain>\n",
             kernel);
    FX_VMCTL(&f, &r, NULL, "define", fx_write(&f, "bad.xml", xml));
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "start", "bad");
    expect(1, "\n", NULL);
    expect_in(r.err, "error: Failed to start domain 'bad'\nerror: domain bad: the emulator ended "
                     "while starting: ");
    expect_in(r.err, "not a bzImage, a PVH ELF or a multiboot image");
    usleep(500000);
    domstate("bad", "shut off (failed)");
    FX_VMCTL(&f, &r, NULL, "undefine", "bad");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "create", fx_path(&f, "bad.xml"));
    expect(1, "\n", NULL);
    expect_in(r.err, "error: Failed to create domain from");
    expect_in(r.err, "the emulator ended while starting");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
}
END_TEST

START_TEST(transient_domains)
{
    const char *xml = fx_domain_xml(&f, "temp", NULL);
    char want[512];

    FX_VMCTL(&f, &r, NULL, "create", xml);
    snprintf(want, sizeof(want), "Domain 'temp' created from %s\n\n", xml);
    expect(0, want, "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "temp");
    expect_in(r.out, "State:          running\n");
    expect_in(r.out, "Persistent:     no\n");
    FX_VMCTL(&f, &r, NULL, "list", "--transient", "--name");
    expect(0, "temp\n\n", "");
    FX_VMCTL(&f, &r, NULL, "undefine", "temp");
    expect(1, NULL, NULL);
    expect_in(r.err, "error: Failed to undefine domain 'temp'\n");
    FX_VMCTL(&f, &r, NULL, "destroy", "temp");
    expect(0, "Domain 'temp' destroyed\n\n", "");
    /* Gone with its emulator. */
    FX_VMCTL(&f, &r, NULL, "dominfo", "temp");
    expect(1, NULL, "error: failed to get domain 'temp'\n");

    /* A running domain undefined runs on, transient, as with virsh. */
    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "undefine", "alpha");
    expect(0, "Domain 'alpha' has been undefined\n\n", "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect_in(r.out, "State:          running\n");
    expect_in(r.out, "Persistent:     no\n");
    FX_VMCTL(&f, &r, NULL, "destroy", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
}
END_TEST

START_TEST(console_from_a_pipe)
{
    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    /* Typed ahead: the guest reads it once it booted; "poweroff" ends the
     * guest, and with it the session. */
    FX_VMCTL(&f, &r, "\rhelp\rdisk\rpoweroff\r", "console", "alpha");
    expect(0, NULL, "");
    ck_assert_msg(
        !strncmp(r.out, "Connected to domain 'alpha'\nEscape character is ^] (Ctrl + ])\n", 60),
        "%s", r.out);
    expect_in(r.out, "demo> help\r\ncommands:\r\n");
    expect_in(r.out, "demo> disk\r\nvirtio disk: none\r\n");
    expect_in(r.out, "demo> poweroff\r\npowering off (ACPI S5)\r\n");
    wait_state("alpha", "shut off");
    domstate("alpha", "shut off (shutdown)");
}
END_TEST

struct bg {
    pthread_t t;
    struct fx_out out;
    const char *input;
    const char *const *argv;
};

static void *bg_run(void *arg)
{
    struct bg *b = arg;

    fx_run(&f, &b->out, b->input, b->argv);
    return NULL;
}

START_TEST(one_console_at_a_time)
{
    struct bg b = { .input = "" };
    const char *const argv[] = { VMCTL_PATH, "-c", f.sock, "console", "alpha", NULL };

    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    /* A first session: its input ends at once, it shows the output. */
    b.argv = argv;
    ck_assert_int_eq(pthread_create(&b.t, NULL, bg_run, &b), 0);
    for (int i = 0; i < 100 && fx_find_process(VMCTL_PATH, " console") < 0; i++)
        usleep(20000);
    usleep(500000);
    FX_VMCTL(&f, &r, NULL, "console", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "another console session is attached");
    /* --force takes it over: the first session ends. */
    FX_VMCTL(&f, &r, "\rpoweroff\r", "console", "--force", "alpha");
    expect(0, NULL, "");
    expect_in(r.out, "powering off (ACPI S5)");
    pthread_join(b.t, NULL);
    ck_assert_int_eq(b.out.status, 0);
    expect_in(b.out.out, "Connected to domain 'alpha'");
    /* The first session did not get what the second typed. */
    ck_assert_ptr_null(strstr(b.out.out, "powering off"));
}
END_TEST

START_TEST(lifecycle_events)
{
    struct bg b = { .input = NULL };
    const char *const argv[] = { VMCTL_PATH,  "-c", f.sock,        "event", "--loop",
                                 "--timeout", "20", "--timestamp", NULL };

    define("alpha");
    b.argv = argv;
    ck_assert_int_eq(pthread_create(&b.t, NULL, bg_run, &b), 0);
    for (int i = 0; i < 100 && fx_find_process(VMCTL_PATH, "--loop") < 0; i++)
        usleep(20000);
    usleep(500000);
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    FX_VMCTL(&f, &r, NULL, "suspend", "alpha");
    FX_VMCTL(&f, &r, NULL, "resume", "alpha");
    FX_VMCTL(&f, &r, NULL, "reset", "alpha");
    FX_VMCTL(&f, &r, NULL, "destroy", "alpha");
    expect(0, NULL, "");
    /* The loop ends by its timeout. */
    pthread_join(b.t, NULL);
    ck_assert_int_eq(b.out.status, 0);
    expect_in(b.out.out, "+0000: event 'lifecycle' for domain 'alpha': Started Booted\n");
    expect_in(b.out.out, "+0000: event 'lifecycle' for domain 'alpha': Suspended Paused\n");
    expect_in(b.out.out, "+0000: event 'lifecycle' for domain 'alpha': Resumed Unpaused\n");
    expect_in(b.out.out, "+0000: event 'reboot' for domain 'alpha'\n");
    expect_in(b.out.out, "+0000: event 'lifecycle' for domain 'alpha': Stopped Destroyed\n");
    expect_in(b.out.out, "event loop timed out\nevents received: 5\n");
    /* Each line starts with the date. */
    ck_assert_msg(b.out.out[4] == '-' && b.out.out[10] == ' ' && b.out.out[19] == '.', "%s",
                  b.out.out);
}
END_TEST

START_TEST(running_json)
{
    json_object *o;

    define("alpha");
    FX_VMCTL(&f, &r, NULL, "start", "alpha");
    expect(0, NULL, "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "--json", "alpha");
    expect(0, NULL, "");
    o = json_tokener_parse(r.out);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "running");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "id")), 1);
    ck_assert_int_gt(json_object_get_int(json_object_object_get(o, "pid")), 1);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "memory_kib")), 32768);
    json_object_put(o);
    FX_VMCTL(&f, &r, NULL, "list", "--json");
    expect(0, NULL, "");
    o = json_tokener_parse(r.out);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(json_object_array_length(o), 1);
    ck_assert_str_eq(
        json_object_get_string(json_object_object_get(json_object_array_get_idx(o, 0), "reason")),
        "booted");
    json_object_put(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vmctl_kvm");
    TCase *tc = tcase_create("vmctl_kvm");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, lifecycle);
    tcase_add_test(tc, reboot_starts_again);
    tcase_add_test(tc, wrong_state_errors);
    tcase_add_test(tc, failed_start_is_reported);
    tcase_add_test(tc, transient_domains);
    tcase_add_test(tc, console_from_a_pipe);
    tcase_add_test(tc, one_console_at_a_time);
    tcase_add_test(tc, lifecycle_events);
    tcase_add_test(tc, running_json);
    suite_add_tcase(s, tc);
    return s;
}
