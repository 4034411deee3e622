/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console as a person uses it, in a terminal (tmux): attach, type to
 * the demo guest and read its answers, Ctrl-C reaching the guest, Ctrl-]
 * leaving, and the terminal sane afterwards (stty -a) however vmctl ended:
 * the escape, the guest powering off, SIGTERM, SIGINT, SIGHUP. start
 * --console and vm-install show the guest's output from its first line.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"

const bool test_needs_kvm = true;

#define WAIT_MS 30000

static struct fx f;
static struct fx_out r;
static char screen[262144];

static void setup(void)
{
    fx_start(&f);
}

static void teardown(void)
{
    fx_stop(&f);
}

static void wait_for(const char *text)
{
    ck_assert_msg(fx_tmux_wait(&f, text, WAIT_MS, screen, sizeof(screen)), "no '%s' on:\n%s", text,
                  screen);
}

static void define_and_start(const char *name, bool start)
{
    FX_VMCTL(&f, &r, NULL, "define", fx_domain_xml(&f, name, NULL));
    ck_assert_msg(r.status == 0, "%s", r.err);
    if (start) {
        FX_VMCTL(&f, &r, NULL, "start", name);
        ck_assert_msg(r.status == 0, "%s", r.err);
    }
}

static void console_in_tmux(const char *options)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "%s -c %s %s console alpha", VMCTL_PATH, f.sock, options);
    fx_tmux_start(&f, cmd);
}

START_TEST(attach_type_leave)
{
    char state[32];

    define_and_start("alpha", true);
    console_in_tmux("");
    wait_for("Connected to domain 'alpha'\nEscape character is ^] (Ctrl + ])\n");
    /* Enter: the guest's prompt (whatever it printed before we came). */
    FX_KEYS(&f, "Enter");
    wait_for("\ndemo> ");
    FX_KEYS(&f, "help", "Enter");
    wait_for("demo> help\ncommands:\n  help      this list\n");
    /* Ctrl-C is the guest's, not vmctl's. */
    FX_KEYS(&f, "inf", "C-c");
    wait_for("demo> inf^C\ndemo> ");
    FX_KEYS(&f, "info", "Enter");
    wait_for("CPUs (ACPI MADT): 1, APIC id 0\n");
    wait_for("virtio disk: none\ndemo> ");
    FX_KEYS(&f, "C-]");
    wait_for("EXIT=0");
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    /* Leaving does not stop the guest. */
    ck_assert_str_eq(fx_state(&f, "alpha", state, sizeof(state)), "running");
}
END_TEST

START_TEST(signals_restore_the_terminal)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

    define_and_start("alpha", true);
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        char want[32];
        pid_t pid;

        console_in_tmux("");
        wait_for("Escape character is ^]");
        FX_KEYS(&f, "Enter");
        wait_for("demo> ");
        pid = fx_find_process(VMCTL_PATH, " console alpha");
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(kill(pid, sigs[i]), 0);
        /* vmctl ends by that signal, the terminal as it was. */
        snprintf(want, sizeof(want), "EXIT=%d", 128 + sigs[i]);
        wait_for(want);
        fx_assert_sane_terminal(&f, screen, sizeof(screen));
        fx_tmux_stop(&f);
    }
}
END_TEST

START_TEST(another_escape)
{
    define_and_start("alpha", true);
    {
        char cmd[512];

        snprintf(cmd, sizeof(cmd), "%s -e ^T -c %s console alpha", VMCTL_PATH, f.sock);
        fx_tmux_start(&f, cmd);
    }
    wait_for("Escape character is ^T (Ctrl + T)\n");
    /* Ctrl-] is now a key like the others: the guest ignores it. */
    FX_KEYS(&f, "C-]", "Enter");
    wait_for("demo> ");
    ck_assert_ptr_null(strstr(screen, "EXIT="));
    FX_KEYS(&f, "C-t");
    wait_for("EXIT=0");
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
}
END_TEST

START_TEST(start_console_from_the_first_byte)
{
    const char *connected, *booted;
    char cmd[512];

    define_and_start("alpha", false);
    snprintf(cmd, sizeof(cmd), "%s -c %s start --console alpha", VMCTL_PATH, f.sock);
    fx_tmux_start(&f, cmd);
    wait_for("Type help for the commands.\ndemo> ");
    /* Started paused, attached, then resumed: the guest's first line is
     * right after vmctl's, nothing before it lost. */
    connected = strstr(screen, "Domain 'alpha' started\nConnected to domain 'alpha'\n"
                               "Escape character is ^] (Ctrl + ])\n");
    booted = strstr(screen, "Escape character is ^] (Ctrl + ])\n\nkvm-stack demo guest: booted\n"
                            "memory map (from the multiboot loader):\n");
    ck_assert_msg(connected && booted, "%s", screen);
    FX_KEYS(&f, "poweroff", "Enter");
    wait_for("powering off (ACPI S5)");
    /* The guest's end ends the session. */
    wait_for("EXIT=0");
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    ck_assert(fx_wait_state(&f, "alpha", "shut off", WAIT_MS));
    FX_VMCTL(&f, &r, NULL, "domstate", "--reason", "alpha");
    ck_assert_str_eq(r.out, "shut off (shutdown)\n\n");
}
END_TEST

START_TEST(vm_install_attaches)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd),
             "%s -c %s --name vm1 --memory 32 --kernel %s --disk "
             "path=%s/vm1.img,size=0.25,serial=DEMO-SERIAL",
             VM_INSTALL_PATH, f.sock, fx_kernel(&f, "demo_mb"), f.root);
    fx_tmux_start(&f, cmd);
    wait_for("demo> ");
    ck_assert_msg(strstr(screen, "Domain 'vm1' started\nConnected to domain 'vm1'\n"
                                 "Escape character is ^] (Ctrl + ])\n\n"
                                 "kvm-stack demo guest: booted\n"),
                  "%s", screen);
    ck_assert_msg(strstr(screen, "virtio disk: 524288 sectors of 512 bytes (256 MiB), read-write, "
                                 "serial 'DEMO-SERIAL'\n"),
                  "%s", screen);
    FX_KEYS(&f, "disk", "Enter");
    wait_for("sector 0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 (no text)\n");
    FX_KEYS(&f, "poweroff", "Enter");
    wait_for("EXIT=0");
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    ck_assert(fx_wait_state(&f, "vm1", "shut off", WAIT_MS));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vmctl_console");
    TCase *tc = tcase_create("vmctl_console");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, attach_type_leave);
    tcase_add_test(tc, signals_restore_the_terminal);
    tcase_add_test(tc, another_escape);
    tcase_add_test(tc, start_console_from_the_first_byte);
    tcase_add_test(tc, vm_install_attaches);
    suite_add_tcase(s, tc);
    return s;
}
