/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd and vmctl with the project's Linux test guest (tests/linux/guest/)
 * instead of the demo guest: a domain with a kernel, an initramfs, a
 * command line, 2 vCPUs, a virtio disk, a virtio NIC on a tap and a serial
 * console; `start --console` in a terminal (tmux) from the kernel's first
 * line to the busybox prompt, a command typed there and its answer read
 * back, Ctrl-] leaving the guest running; `reboot` (the power button: the
 * guest's acpid powers it off, the daemon starts it again, and the console
 * shows the second boot), `reboot` typed in the guest (a reset in place),
 * `shutdown` (the power button again: shut off, reason shutdown);
 * `destroy`; and an emulator killed with SIGKILL reported as crashed.
 *
 * Each boot to the prompt costs 20-30 s here, minutes when the machine is
 * busy: there are three, and the deadlines are generous. The tests assert
 * what happened, never how fast.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../linux/guest_vm.h"
#include "fixture.h"

const bool test_needs_kvm = true;
const char *const test_skip_note = "the Linux test guest is not built";

#define BOOT_MS   900000 /* start to the prompt: 20-30 s idle, minutes under load */
#define STEP_MS   300000 /* a command's answer, a power-off */
#define NAME      "lin"
#define MAC       "52:54:00:4c:4d:01"
#define SERIAL    "LINUX-DISK-1"
#define PROMPT    "/ # "
#define INIT_MARK "KVMSTACK-INIT cpus=2 test=none"

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

static void expect(int status, const char *out, const char *err)
{
    ck_assert_msg(r.status == status, "status %d, not %d; stdout: %s; stderr: %s", r.status, status,
                  r.out, r.err);
    if (out)
        ck_assert_msg(!strcmp(r.out, out), "stdout:\n%s\nnot:\n%s", r.out, out);
    if (err)
        ck_assert_msg(!strcmp(r.err, err), "stderr:\n%s\nnot:\n%s", r.err, err);
}

static void domstate(const char *want)
{
    char line[128];

    FX_VMCTL(&f, &r, NULL, "domstate", "--reason", NAME);
    snprintf(line, sizeof(line), "%s\n\n", want);
    expect(0, line, "");
}

/* The screen's last `tail` bytes, for failure messages. */
static const char *screen_end(size_t tail)
{
    size_t n = strlen(screen);

    return n > tail ? screen + n - tail : screen;
}

/* Until the screen has `needle` at least `n` times. */
static void wait_count(const char *needle, unsigned n, int ms)
{
    double deadline = guest_now_ms() + ms;

    for (;;) {
        fx_tmux_screen(&f, screen, sizeof(screen));
        if (fx_count(screen, needle) >= n)
            return;
        ck_assert_msg(guest_now_ms() < deadline,
                      "\"%s\" is on the screen %u times, not %u, after %d s; the screen ends:\n%s",
                      needle, fx_count(screen, needle), n, ms / 1000, screen_end(3000));
        usleep(200000);
    }
}

/* Copies the kit's kernel and initramfs where the emulator's user reads
 * them, makes the disk image, and defines the domain. */
static void define_linux(void)
{
    struct guest_kit kit;
    char xml[4096], tap[16], cmd[1536];

    guest_kit_get(&kit);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s/vmlinux' && cp '%s' '%s/initramfs.cpio'", kit.vmlinux,
             f.boot, kit.initrd, f.boot);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "chmod 644 '%s/vmlinux' '%s/initramfs.cpio'", f.boot, f.boot);
    ck_assert_int_eq(system(cmd), 0);
    {
        int fd = open(fx_path(&f, "disk.img"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 64 << 20), 0);
        close(fd);
    }
    /* Unique on the host: other tests make taps too. */
    snprintf(tap, sizeof(tap), "vl%d", (int)(getpid() % 1000000));
    snprintf(xml, sizeof(xml),
             "<domain type='kvm'>\n"
             "  <name>" NAME "</name>\n"
             "  <memory unit='MiB'>128</memory>\n"
             "  <currentMemory unit='MiB'>128</currentMemory>\n"
             "  <vcpu>2</vcpu>\n"
             "  <os>\n"
             "    <type>hvm</type>\n"
             "    <kernel>%s/vmlinux</kernel>\n"
             "    <initrd>%s/initramfs.cpio</initrd>\n"
             "    <cmdline>%s</cmdline>\n"
             "  </os>\n"
             "  <features><acpi/></features>\n"
             "  <devices>\n"
             "    <disk type='file' device='disk'>\n"
             "      <driver name='qemu' type='raw'/>\n"
             "      <source file='%s'/>\n"
             "      <target dev='vda' bus='virtio'/>\n"
             "      <serial>" SERIAL "</serial>\n"
             "    </disk>\n"
             "    <interface type='ethernet'>\n"
             "      <mac address='" MAC "'/>\n"
             "      <target dev='%s'/>\n"
             "      <model type='virtio'/>\n"
             "    </interface>\n"
             "    <serial type='pty'/>\n"
             "    <console type='pty'/>\n"
             "  </devices>\n"
             "</domain>\n",
             f.boot, f.boot, kit.cmdline, fx_path(&f, "disk.img"), tap);
    FX_VMCTL(&f, &r, NULL, "define", fx_write(&f, NAME ".xml", xml));
    expect(0, NULL, "");
}

/* Types a command at the prompt and waits for `answer` on the screen. */
static void type_and_expect(const char *command, const char *answer)
{
    unsigned before;
    double deadline = guest_now_ms() + STEP_MS;

    fx_tmux_screen(&f, screen, sizeof(screen));
    before = fx_count(screen, answer);
    FX_KEYS(&f, command, "Enter");
    for (;;) {
        usleep(200000);
        fx_tmux_screen(&f, screen, sizeof(screen));
        if (fx_count(screen, answer) > before)
            return;
        ck_assert_msg(guest_now_ms() < deadline,
                      "no \"%s\" within %d s of typing '%s'; the screen ends:\n%s", answer,
                      STEP_MS / 1000, command, screen_end(3000));
    }
}

static void console_in_tmux(const char *vmctl_args)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd), "%s -c %s %s", VMCTL_PATH, f.sock, vmctl_args);
    fx_tmux_start(&f, cmd);
}

START_TEST(console_reboot_shutdown)
{
    const char *p;
    char cmd[1024];
    double t0;

    define_linux();

    /* start --console: the kernel's first line, then /init's marker and
     * the shell's prompt. */
    t0 = guest_now_ms();
    console_in_tmux("start --console " NAME);
    wait_count(INIT_MARK, 1, BOOT_MS);
    guest_diag("first boot: /init ran %.1f s after start --console", (guest_now_ms() - t0) / 1e3);
    p = strstr(screen, "Domain '" NAME "' started\nConnected to domain '" NAME "'\n"
                       "Escape character is ^] (Ctrl + ])\n");
    ck_assert_msg(p, "%s", screen_end(3000));
    /* Started paused, attached, then resumed: the kernel's first line is
     * right after vmctl's. */
    ck_assert_msg(strstr(p, "Escape character is ^] (Ctrl + ])\n[    0.000000] Linux version 6."),
                  "the kernel's first line is not the first after attaching:\n%.2000s", p);
    wait_count("KVMSTACK-SHELL", 1, STEP_MS);
    FX_KEYS(&f, "Enter");
    wait_count(PROMPT, 1, STEP_MS);

    /* A command at the prompt, answered by the machine mgmtd made: both
     * CPUs, the disk's serial, the NIC's MAC. (The answer's digits do not
     * appear in the command line as typed; the serial's file has no
     * newline.) */
    type_and_expect("echo ANSWER $((6*7)) $(grep -c ^processor /proc/cpuinfo) "
                    "$(cat /sys/block/vda/serial) $(cat /sys/class/net/eth0/address)",
                    "ANSWER 42 2 " SERIAL " " MAC "\n");

    /* Ctrl-] leaves; the guest runs on. */
    FX_KEYS(&f, "C-]");
    wait_count("EXIT=0", 1, STEP_MS);
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    /* (start --console started it paused, attached, then resumed it.) */
    domstate("running (unpaused)");
    fx_tmux_stop(&f);

    /* reboot: the power button; the guest powers off, the daemon starts it
     * again. The first session ends with the emulator; the loop attaches
     * to the next one as soon as it runs. */
    snprintf(cmd, sizeof(cmd),
             "%s -c %s console " NAME "; echo SESSION-END=$?; "
             "until %s -c %s console " NAME " 2>/dev/null; do sleep 0.2; done",
             VMCTL_PATH, f.sock, VMCTL_PATH, f.sock);
    fx_tmux_start(&f, cmd);
    wait_count("Escape character is ^]", 1, STEP_MS);
    FX_VMCTL(&f, &r, NULL, "reboot", NAME);
    expect(0, "Domain '" NAME "' is being rebooted\n\n", "");
    t0 = guest_now_ms();
    wait_count("SESSION-END=0", 1, STEP_MS);
    ck_assert_msg(strstr(screen, "KVMSTACK-POWER-BUTTON"), "acpid did not see the button:\n%s",
                  screen_end(3000));
    ck_assert_msg(strstr(screen, "reboot: Power down"), "%s", screen_end(3000));
    wait_count("Escape character is ^]", 2, STEP_MS);
    wait_count(INIT_MARK, 1, BOOT_MS);
    guest_diag("reboot: /init ran again %.1f s after vmctl reboot", (guest_now_ms() - t0) / 1e3);
    /* The marker came after the first session ended: a second boot. */
    ck_assert_msg(strstr(strstr(screen, "SESSION-END=0"), INIT_MARK), "%s", screen_end(3000));
    FX_VMCTL(&f, &r, NULL, "domid", NAME);
    expect(0, "2\n\n", "");
    domstate("running (booted)");
    wait_count("KVMSTACK-SHELL", 1, STEP_MS);
    FX_KEYS(&f, "Enter");
    wait_count(PROMPT, 1, STEP_MS);
    type_and_expect("echo AGAIN $((7*6))", "AGAIN 42\n");

    /* reboot typed at the guest's prompt (its shells make it act at once,
     * /etc/shrc): the guest resets in place, the same emulator and id,
     * and the session carries on into the next boot. */
    FX_KEYS(&f, "reboot", "Enter");
    wait_count(INIT_MARK, 2, BOOT_MS);
    wait_count("KVMSTACK-SHELL", 2, STEP_MS);
    FX_VMCTL(&f, &r, NULL, "domid", NAME);
    expect(0, "2\n\n", "");
    domstate("running (booted)");
    {
        unsigned prompts = fx_count(screen, PROMPT);

        FX_KEYS(&f, "Enter");
        wait_count(PROMPT, prompts + 1, STEP_MS);
    }
    type_and_expect("echo THIRD $((5*9))", "THIRD 45\n");

    /* shutdown: the power button, and this time the guest stays off. */
    FX_VMCTL(&f, &r, NULL, "shutdown", NAME);
    expect(0, "Domain '" NAME "' is being shutdown\n\n", "");
    {
        char now[64];

        ck_assert_msg(fx_wait_state(&f, NAME, "shut off", STEP_MS), "%s is %s after shutdown", NAME,
                      fx_state(&f, NAME, now, sizeof(now)));
    }
    domstate("shut off (shutdown)");
    wait_count("KVMSTACK-POWER-BUTTON", 2, STEP_MS);
    /* The console session ended with the guest. */
    wait_count("EXIT=0", 1, STEP_MS);
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    FX_VMCTL(&f, &r, NULL, "domid", NAME);
    expect(0, "-\n\n", "");
}
END_TEST

/* The emulator's pid, as dominfo --json says, checked to be this domain's
 * kvmemu. */
static pid_t emulator_pid(void)
{
    char path[64], line[4096] = "";
    json_object *o;
    pid_t pid;
    ssize_t n;
    int fd;

    FX_VMCTL(&f, &r, NULL, "dominfo", "--json", NAME);
    expect(0, NULL, "");
    o = json_tokener_parse(r.out);
    ck_assert_ptr_nonnull(o);
    pid = (pid_t)json_object_get_int(json_object_object_get(o, "pid"));
    json_object_put(o);
    ck_assert_int_gt(pid, 1);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    n = read(fd, line, sizeof(line) - 1);
    close(fd);
    ck_assert_int_gt(n, 0);
    for (ssize_t i = 0; i < n; i++)
        if (!line[i])
            line[i] = ' ';
    line[n] = '\0';
    ck_assert_msg(strstr(line, "/kvmemu --name " NAME " "), "pid %d is: %s", (int)pid, line);
    return pid;
}

START_TEST(destroy_and_crash)
{
    char log[65536], want[128];
    FILE *in;
    size_t n;
    pid_t pid;

    define_linux();

    /* destroy, with Linux booting: the kernel's log is on the console. */
    console_in_tmux("start --console " NAME);
    wait_count("smp: Brought up 1 node, 2 CPUs", 1, BOOT_MS);
    pid = emulator_pid();
    FX_VMCTL(&f, &r, NULL, "destroy", NAME);
    expect(0, "Domain '" NAME "' destroyed\n\n", "");
    domstate("shut off (destroyed)");
    ck_assert_msg(kill(pid, 0) < 0 && errno == ESRCH, "emulator %d runs on", (int)pid);
    wait_count("EXIT=0", 1, STEP_MS);
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    fx_tmux_stop(&f);

    /* kill -9 of the emulator: crashed, as the daemon calls an emulator
     * that ended without being asked to. */
    console_in_tmux("start --console " NAME);
    wait_count("smp: Brought up 1 node, 2 CPUs", 1, BOOT_MS);
    pid = emulator_pid();
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    {
        char now[64];

        ck_assert_msg(fx_wait_state(&f, NAME, "shut off", STEP_MS), "%s is %s after SIGKILL", NAME,
                      fx_state(&f, NAME, now, sizeof(now)));
    }
    domstate("shut off (crashed)");
    FX_VMCTL(&f, &r, NULL, "list", "--all");
    expect(0,
           " Id   Name   State\n"
           "-----------------------\n"
           " -    " NAME "    shut off\n"
           "\n",
           "");
    /* The console session ended with it, the terminal put back. */
    wait_count("EXIT=0", 1, STEP_MS);
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    /* The daemon said so in its log, naming the pid. */
    in = fopen(fx_path(&f, "mgmtd.log"), "r");
    ck_assert_ptr_nonnull(in);
    n = fread(log, 1, sizeof(log) - 1, in);
    fclose(in);
    log[n] = '\0';
    snprintf(want, sizeof(want), "domain " NAME ": its emulator (pid %d) ended unexpectedly",
             (int)pid);
    ck_assert_msg(strstr(log, want), "mgmtd's log lacks \"%s\":\n%s", want, log);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vmctl_linux");
    TCase *tc = tcase_create("vmctl_linux");

    tcase_add_checked_fixture(tc, setup, teardown);
    /* A kernel build (the first time), and boots on a busy machine. */
    tcase_set_timeout(tc, 3000);
    tcase_add_test(tc, console_reboot_shutdown);
    tcase_add_test(tc, destroy_and_crash);
    suite_add_tcase(s, tc);
    return s;
}
