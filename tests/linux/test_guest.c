/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The project's Linux test guest (tests/linux/guest/) booted by the real
 * kvmemu, end to end: Linux's own drivers against kvmemu's machine, ACPI,
 * SMP and virtio devices, judged by what the guest reports and by what
 * the host then finds (files in disk images, bytes over a tap).
 *
 * A boot is most of a test's time on this host (20-30 s; far more when
 * the machine is busy), so there are two tests: the machine alone (booted
 * three times: through the guest's reboot and the monitor's system_reset)
 * and every virtio device at once. Each runs check scripts of the guest's
 * (test=NAME on the command line) and talks with them over the serial
 * console: the guest prints KVMSTACK-* lines, and where it needs the host
 * (shrink a disk, send a stream, use hvc0) it prints KVMSTACK-ASK and
 * reads a line. Both also drive kvmemu's QMP monitor and check its events
 * against what the guest did. Every run ends with the guest powering off
 * through ACPI and kvmemu exiting 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_vm.h"

const bool test_needs_kvm = true;
const char *const test_skip_note = "the Linux test guest is not built";

#define BOOT_MS 900000 /* to /init: 20-30 s here idle, 5.5 min seen at load 11 */
#define STEP_MS 300000 /* from one marker to the next (under load) */
#define EXIT_MS 120000 /* from the last marker to kvmemu's exit */
/* A stream of NET_BYTES each way: about 20 s here when the machine is
 * idle, minutes when it is busy (every packet is emulated ring-0 work). */
#define NET_MS  300000
#define QMP_MS  60000 /* a monitor command's reply (system_reset: a reset) */
#define NR_CPUS "2"
#define MEMORY  "128M"

static void expect_line(const struct guest_vm *vm, const char *needle, size_t from, char *line,
                        size_t cap)
{
    ck_assert_msg(guest_vm_line(vm, needle, from, line, cap),
                  "%s: the console has no line with \"%s\"", vm->tag, needle);
    guest_diag("%s: %s", vm->tag, line);
}

/* Waits for `needle` after `from`, failing with the console's end. */
static size_t expect_wait(struct guest_vm *vm, const char *needle, size_t from, int ms)
{
    size_t at = guest_vm_wait(vm, needle, from, ms);
    char fail[512];

    if (!at && guest_vm_line(vm, "KVMSTACK-RESULT", from, fail, sizeof(fail)))
        ck_abort_msg("%s: waiting for \"%s\", the guest said: %s", vm->tag, needle, fail);
    ck_assert_msg(
        at,
        "%s: \"%s\" did not appear on the console within %d ms%s; its last %zu "
        "bytes: %s",
        vm->tag, needle, ms, vm->status >= 0 ? " (kvmemu exited)" : "",
        vm->serial.len < 600 ? vm->serial.len : 600,
        vm->serial.buf ? vm->serial.buf + (vm->serial.len < 600 ? 0 : vm->serial.len - 600) : "");
    return at;
}

/* ---- the monitor ---- */

/* A command's "return" value (the caller frees it); an error reply or
 * none fails the test. */
static json_object *qmp_ok(struct guest_vm *vm, const char *cmd)
{
    json_object *r = qc_execute(&vm->qmp, cmd, QMP_MS);

    ck_assert_msg(r, "%s: the monitor's %s: %s", vm->tag, cmd, vm->qmp.error);
    return r;
}

static void qmp_do(struct guest_vm *vm, const char *cmd)
{
    json_object_put(qmp_ok(vm, cmd));
}

static void expect_status(struct guest_vm *vm, const char *status, bool running)
{
    json_object *st = qmp_ok(vm, "query-status"), *r = NULL;

    ck_assert_msg(
        !strcmp(qc_str(st, "status"), status) && json_object_object_get_ex(st, "running", &r) &&
            json_object_get_boolean(r) == running,
        "%s: query-status: %s (expected %s)", vm->tag, json_object_to_json_string(st), status);
    json_object_put(st);
}

/* The monitor's next event `name`; the caller frees it. */
static json_object *expect_event(struct guest_vm *vm, const char *name)
{
    json_object *ev = guest_vm_qmp_event(vm, name, STEP_MS);

    ck_assert_msg(ev, "%s: no %s event from the monitor within %d ms: %s", vm->tag, name, STEP_MS,
                  vm->qmp.error);
    guest_diag("%s: %s", vm->tag, json_object_to_json_string(ev));
    return ev;
}

/* A SHUTDOWN or RESET event saying who caused it, and why. */
static void expect_cause(struct guest_vm *vm, const char *name, bool guest, const char *reason)
{
    json_object *ev = expect_event(vm, name), *g = NULL;

    ck_assert_msg(json_object_object_get_ex(json_object_object_get(ev, "data"), "guest", &g) &&
                      json_object_is_type(g, json_type_boolean) &&
                      json_object_get_boolean(g) == guest &&
                      !strcmp(qc_str(ev, "data.reason"), reason),
                  "%s: expected %s with guest %s and reason %s: %s", vm->tag, name,
                  guest ? "true" : "false", reason, json_object_to_json_string(ev));
    json_object_put(ev);
}

/* The check's verdict line must say PASS; returns the offset after it. */
static size_t expect_pass(struct guest_vm *vm, const char *check, size_t from)
{
    char needle[64], line[512];
    size_t at;

    snprintf(needle, sizeof(needle), "KVMSTACK-RESULT %s ", check);
    at = expect_wait(vm, needle, from, STEP_MS);
    expect_line(vm, needle, from, line, sizeof(line));
    ck_assert_msg(strstr(line, " PASS"), "%s: %s", vm->tag, line);
    return at;
}

/* The check passes; then the guest powers off and kvmemu exits 0 (ACPI
 * S5), which its monitor reports as the guest's shutdown. */
static void expect_pass_and_poweroff(struct guest_vm *vm, const char *check, size_t from)
{
    expect_pass(vm, check, from);
    ck_assert_int_eq(guest_vm_wait_exit(vm, EXIT_MS), 0);
    ck_assert_msg(guest_vm_event_ms(vm, "ACPI S5 power-off", 0) >= 0,
                  "%s: kvmemu exited 0 but its timeline has no ACPI S5 power-off", vm->tag);
    expect_cause(vm, "SHUTDOWN", true, "guest-shutdown");
}

/* The value of `key=` in a KVMSTACK line, up to the next space. */
static const char *field(const char *line, const char *key, char *out, size_t cap)
{
    char k[64];
    const char *p;

    snprintf(k, sizeof(k), " %s=", key);
    p = strstr(line, k);
    ck_assert_msg(p, "no %s= in: %s", key, line);
    p += strlen(k);
    snprintf(out, cap, "%.*s", (int)strcspn(p, " "), p);
    return out;
}

/* Runs a shell command; its first line of output into out. */
static int run(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int run(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    FILE *p;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    p = popen(cmd, "re");
    ck_assert_msg(p, "popen %s: %s", cmd, strerror(errno));
    if (!out || !fgets(out, (int)cap, p)) {
        if (out)
            out[0] = '\0';
    }
    if (out)
        out[strcspn(out, "\n")] = '\0';
    while (fgetc(p) != EOF)
        ;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *temp_path(const char *what)
{
    static char path[8][256];
    static unsigned next;
    char *p = path[next++ % 8];

    snprintf(p, sizeof(path[0]), "%s/%s-%d", LOG_DIR, what, (int)getpid());
    return p;
}

/* ---- the kit ---- */

static bool config_has(const char *config, const char *line)
{
    char buf[512];
    FILE *f = fopen(config, "re");
    bool found = false;

    ck_assert_msg(f, "cannot open %s: %s", config, strerror(errno));
    while (!found && fgets(buf, sizeof(buf), f))
        found = !strncmp(buf, line, strlen(line)) && buf[strlen(line)] == '\n';
    fclose(f);
    return found;
}

START_TEST(kit_builds)
{
    static const char *const need[] = {
        "CONFIG_SMP=y",        "CONFIG_ACPI=y",           "CONFIG_ACPI_BUTTON=y",
        "CONFIG_PVH=y",        "CONFIG_PCI_MSI=y",        "CONFIG_VIRTIO_PCI=y",
        "CONFIG_VIRTIO_BLK=y", "CONFIG_VIRTIO_NET=y",     "CONFIG_HW_RANDOM_VIRTIO=y",
        "CONFIG_EXT4_FS=y",    "CONFIG_VIRTIO_CONSOLE=y",
    };
    struct guest_kit kit;
    char magic[8] = "";
    FILE *f;

    guest_kit_get(&kit);
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        ck_assert_msg(config_has(kit.config, need[i]), "%s: no %s", kit.config, need[i]);
    f = fopen(kit.initrd, "re");
    ck_assert_msg(f, "%s: %s", kit.initrd, strerror(errno));
    ck_assert_int_eq(fread(magic, 1, 6, f), 6);
    fclose(f);
    ck_assert_msg(!memcmp(magic, "070701", 6), "%s is not a newc cpio", kit.initrd);
    ck_assert_msg(strstr(kit.cmdline, "console=ttyS0") && strstr(kit.cmdline, "rdinit=/init"),
                  "the kit's command line: %s", kit.cmdline);
    guest_diag("kit: %s, %s, command line: %s", kit.vmlinux, kit.initrd, kit.cmdline);
}
END_TEST

/* ---- kvmemu alone: boot, ACPI, SMP, reboot, the monitor ---- */

/* The number of the last whole "KVMSTACK-TICK N" line at or after `from`
 * (-1 if none). */
static long last_tick(const struct guest_vm *vm, size_t from)
{
    const char *p = vm->serial.buf && from <= vm->serial.len ? vm->serial.buf + from : NULL;
    long last = -1;

    while (p && (p = strstr(p, "KVMSTACK-TICK "))) {
        char *end;
        long n = strtol(p + strlen("KVMSTACK-TICK "), &end, 10);

        if (end > p + strlen("KVMSTACK-TICK ") && *end == '\n')
            last = n;
        p = end > p ? end : p + 1;
    }
    return last;
}

/*
 * stop and cont, with the guest printing a tick and sleeping 200 ms of its
 * time, over and over (basic.sh's "ticks"). Once stop has answered, no vCPU runs: the console
 * must not get one more byte for a while, at least 1 s and 4 of the ticks
 * as they came here before (the machine may be busy); after cont, the
 * ticks go on. Returns the offset after the ticks that followed cont.
 */
static size_t stop_and_cont(struct guest_vm *vm, size_t at)
{
    char needle[48];
    double t1, period, window;
    size_t from = at, frozen;
    long tick;

    guest_vm_type(vm, "ticks");
    at = expect_wait(vm, "KVMSTACK-TICK 1\n", at, STEP_MS);
    t1 = guest_now_ms();
    at = expect_wait(vm, "KVMSTACK-TICK 4\n", at, STEP_MS);
    period = (guest_now_ms() - t1) / 3;
    window = 4 * period < 1000 ? 1000 : 4 * period > 30000 ? 30000 : 4 * period;
    expect_status(vm, "running", true);

    qmp_do(vm, "stop");
    json_object_put(expect_event(vm, "STOP"));
    expect_status(vm, "paused", false);
    /* What the guest wrote before the stop is in the pipe: take it. */
    guest_vm_pump(vm, 300);
    frozen = vm->serial.len;
    tick = last_tick(vm, from);
    guest_vm_pump(vm, (int)window);
    ck_assert_msg(vm->serial.len == frozen,
                  "%s: the console got %zu more bytes in the %.0f ms after stop: %s", vm->tag,
                  vm->serial.len - frozen, window, vm->serial.buf + frozen);
    guest_diag("%s: stopped at tick %ld (a tick every %.0f ms here); no output for %.0f ms",
               vm->tag, tick, period, window);
    expect_status(vm, "paused", false);

    qmp_do(vm, "cont");
    json_object_put(expect_event(vm, "RESUME"));
    expect_status(vm, "running", true);
    /* Two more: one may have been cut off by the stop. */
    snprintf(needle, sizeof(needle), "KVMSTACK-TICK %ld\n", tick + 2);
    at = expect_wait(vm, needle, frozen, STEP_MS);
    ck_assert_uint_eq(qc_events_queued(&vm->qmp, "STOP"), 0);
    return at;
}

/* The guest boots again after `from`, with both CPUs; returns the offset
 * after its marker. */
static size_t expect_boot(struct guest_vm *vm, size_t from)
{
    char line[512], v[64];
    size_t at = expect_wait(vm, "KVMSTACK-INIT ", from, BOOT_MS);

    expect_line(vm, "KVMSTACK-INIT ", from, line, sizeof(line));
    ck_assert_str_eq(field(line, "cpus", v, sizeof(v)), NR_CPUS);
    return at;
}

/*
 * One machine, three boots: the guest reports the machine, is stopped and
 * resumed through the monitor, reboots itself, is reset through the
 * monitor, and powers off when the monitor presses the power button.
 */
START_TEST(boot_reboot_monitor)
{
    struct guest_kit kit;
    struct guest_vm vm;
    char line[1024], v[512], want[1200];
    size_t at;
    json_object *ev;

    guest_kit_get(&kit);
    guest_vm_start_qmp(&vm, "boot", &kit, "test=basic",
                       (const char *const[]){ "--smp", NR_CPUS, "--memory", MEMORY, "--on-reboot",
                                              "reset", NULL });
    at = expect_wait(&vm, "KVMSTACK-INIT ", 0, BOOT_MS);
    guest_diag("boot: /init ran %.1f s after kvmemu started",
               (guest_now_ms() - vm.started_ms) / 1e3);

    /* The kernel took our command line, our RSDP, and both CPUs. */
    snprintf(want, sizeof(want), "Command line: %s test=basic\n", kit.cmdline);
    ck_assert_msg(strstr(vm.serial.buf, want), "the kernel's log lacks \"%s\"", want);
    expect_line(&vm, "ACPI: RSDP 0x00000000000E0000", 0, line, sizeof(line));
    expect_line(&vm, "smp: Brought up 1 node, 2 CPUs", 0, line, sizeof(line));

    /* What the guest sees, from /proc and /sys. */
    expect_wait(&vm, "KVMSTACK-FACTS", 0, STEP_MS);
    expect_line(&vm, "KVMSTACK-FACTS", 0, line, sizeof(line));
    ck_assert_str_eq(field(line, "cpus", v, sizeof(v)), NR_CPUS);
    ck_assert_str_eq(field(line, "online", v, sizeof(v)), "0-1");
    field(line, "tables", v, sizeof(v));
    for (const char *const *t = (const char *const[]){ "APIC,", "DSDT,", "FACP,", "MCFG,", NULL };
         *t; t++)
        ck_assert_msg(strstr(v, *t), "/sys/firmware/acpi/tables lacks %.4s: %s", *t, v);
    ck_assert_str_eq(field(line, "power_button", v, sizeof(v)), "yes");
    ck_assert_str_eq(field(line, "acpid", v, sizeof(v)), "yes");

    /* The monitor freezes the guest and lets it go on. */
    at = expect_wait(&vm, "KVMSTACK-ASK", at, STEP_MS);
    at = stop_and_cont(&vm, at);

    /* reboot: the machine resets in place and the guest boots again. */
    guest_vm_type(&vm, "reboot");
    expect_cause(&vm, "RESET", true, "guest-reset");
    at = expect_boot(&vm, at);

    /* system_reset: the same, from the monitor, while the guest waits. */
    at = expect_wait(&vm, "KVMSTACK-ASK", at, STEP_MS);
    expect_status(&vm, "running", true);
    qmp_do(&vm, "system_reset");
    expect_cause(&vm, "RESET", false, "host-qmp-system-reset");
    at = expect_boot(&vm, at);

    /* system_powerdown: acpid's handler powers the guest off, and kvmemu
     * exits 0 after POWERDOWN and the guest's own SHUTDOWN. */
    at = expect_wait(&vm, "KVMSTACK-ASK", at, STEP_MS);
    qmp_do(&vm, "system_powerdown");
    json_object_put(expect_event(&vm, "POWERDOWN"));
    ck_assert_msg(qc_events_queued(&vm.qmp, "SHUTDOWN") == 0,
                  "the monitor sent SHUTDOWN before POWERDOWN");
    expect_wait(&vm, "KVMSTACK-POWER-BUTTON", at, STEP_MS);
    ck_assert_int_eq(guest_vm_wait_exit(&vm, EXIT_MS), 0);
    expect_cause(&vm, "SHUTDOWN", true, "guest-shutdown");
    ck_assert_msg(qc_wait_eof(&vm.qmp, EXIT_MS), "the monitor's socket stayed open");
    ck_assert_msg(guest_vm_event_ms(&vm, "ACPI power button pressed", 0) >= 0,
                  "the timeline has no ACPI power button pressed");
    ck_assert_msg(guest_vm_event_ms(&vm, "ACPI S5 power-off", 0) >= 0,
                  "the timeline has no ACPI S5 power-off");
    /* Nothing else ended, reset or stopped the machine (the wait for a
     * second SHUTDOWN reads every event left). */
    ev = guest_vm_qmp_event(&vm, "SHUTDOWN", 0);
    ck_assert_msg(!ev, "a second SHUTDOWN: %s", json_object_to_json_string(ev));
    ck_assert_uint_eq(qc_events_queued(&vm.qmp, "RESET"), 0);
    ck_assert_uint_eq(qc_events_queued(&vm.qmp, "STOP"), 0);
    ck_assert_msg(guest_vm_event_ms(&vm, "reset 2", 0) >= 0, "the timeline has no reset 2");
    ck_assert_msg(guest_vm_event_ms(&vm, "reset 3", 0) < 0, "the machine reset three times");
    /* /init's POST code, once per boot. */
    ck_assert_msg(guest_vm_event_ms(&vm, "POST 0xa0", 2) >= 0, "the timeline lacks /init's POST "
                                                               "code of the third boot");
    guest_diag("boot: /init at %.0f ms (POST 0xa0), after the reboot at %.0f ms, after "
               "system_reset at %.0f ms",
               guest_vm_event_ms(&vm, "POST 0xa0", 0), guest_vm_event_ms(&vm, "POST 0xa0", 1),
               guest_vm_event_ms(&vm, "POST 0xa0", 2));
    guest_vm_end(&vm);
}
END_TEST

/* ---- virtio-blk ---- */

static void make_file(const char *path, off_t size, bool pattern)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
    if (pattern) {
        static uint8_t buf[65536];

        for (off_t off = 0; off < size; off += (off_t)sizeof(buf)) {
            for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (uint8_t)((uint64_t)(off + (off_t)i) * 2654435761u >> 13);
            ck_assert_int_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
        }
    }
    ck_assert_msg(ftruncate(fd, size) == 0, "ftruncate %s: %s", path, strerror(errno));
    close(fd);
}

/* The four disks of the blk check, and what the host expects on them. */
struct blk_disks {
    char *img[4], *srcdir;
    char arg[4][600];
    char nonce[32];
    char vdc_device[32], vdc_node[32]; /* vdc as the monitor names it */
};

static void blk_prepare(struct blk_disks *d)
{
    static const char *const names[4] = { "vda.img", "vdb.img", "vdc.img", "vdd.img" };
    char out[512];

    for (int i = 0; i < 4; i++)
        d->img[i] = strdup(temp_path(names[i]));
    d->srcdir = strdup(temp_path("vdd.src"));
    snprintf(d->nonce, sizeof(d->nonce), "n%dx%ld", (int)getpid(), (long)time(NULL));
    make_file(d->img[0], 32 << 20, false);
    make_file(d->img[1], 1 << 20, true);
    make_file(d->img[2], 8 << 20, false);
    /* An ext4 image made on the host, holding /hello. */
    ck_assert_int_eq(run(NULL, 0,
                         "rm -rf '%s' && mkdir -p '%s' && echo 'from the host %s' >'%s/hello'",
                         d->srcdir, d->srcdir, d->nonce, d->srcdir),
                     0);
    ck_assert_msg(run(out, sizeof(out), "mkfs.ext4 -q -F -L kvmstack -d '%s' '%s' 16M 2>&1",
                      d->srcdir, d->img[3]) == 0,
                  "mkfs.ext4: %s", out);
    snprintf(d->arg[0], sizeof(d->arg[0]), "path=%s", d->img[0]);
    snprintf(d->arg[1], sizeof(d->arg[1]), "path=%s,readonly=on", d->img[1]);
    snprintf(d->arg[2], sizeof(d->arg[2]), "path=%s", d->img[2]);
    snprintf(d->arg[3], sizeof(d->arg[3]), "path=%s,cache=none", d->img[3]);
}

/* How the monitor names the disk whose file is `path` (query-block). */
static void blk_names(struct guest_vm *vm, const char *path, char *device, char *node, size_t cap)
{
    json_object *l = qmp_ok(vm, "query-block");

    device[0] = node[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(l); i++) {
        json_object *o = json_object_array_get_idx(l, i);

        if (!strcmp(qc_str(o, "inserted.file"), path)) {
            snprintf(device, cap, "%s", qc_str(o, "device"));
            snprintf(node, cap, "%s", qc_str(o, "inserted.node-name"));
        }
    }
    ck_assert_msg(device[0] && node[0], "%s: query-block has no disk %s: %s", vm->tag, path,
                  json_object_to_json_string(l));
    json_object_put(l);
}

/* The guest's blk check, from `at`; returns the offset after its verdict. */
static size_t blk_converse(struct guest_vm *vm, struct blk_disks *d, size_t at)
{
    char line[1024], v[512], out[512], want[128];
    json_object *ev;

    /* The read-only disk: the guest read our pattern and could not write. */
    expect_wait(vm, "KVMSTACK-BLK vdb write refused", at, STEP_MS);
    expect_line(vm, "KVMSTACK-BLK vdb ro=", at, line, sizeof(line));
    ck_assert_str_eq(field(line, "ro", v, sizeof(v)), "1");
    ck_assert_int_eq(run(out, sizeof(out), "sha256sum <'%s'", d->img[1]), 0);
    snprintf(want, sizeof(want), "%.64s", out);
    ck_assert_str_eq(field(line, "sha256", v, sizeof(v)), want);
    expect_line(vm, "KVMSTACK-BLK vdb write refused", at, line, sizeof(line));

    /* The shrinking disk. Until now no disk failed on the host (the
     * read-only disk's refused write is the guest's error, not an I/O
     * error). */
    at = expect_wait(vm, "KVMSTACK-ASK shrink vdc", at, STEP_MS);
    ev = guest_vm_qmp_event(vm, "BLOCK_IO_ERROR", 0);
    ck_assert_msg(!ev, "%s: BLOCK_IO_ERROR before the shrink: %s", vm->tag,
                  json_object_to_json_string(ev));
    blk_names(vm, d->img[2], d->vdc_device, d->vdc_node, sizeof(d->vdc_device));
    ck_assert_int_eq(truncate(d->img[2], 1 << 20), 0);
    guest_vm_type(vm, "go");
    expect_wait(vm, "KVMSTACK-BLK vdc still answers", at, STEP_MS);
    expect_line(vm, "KVMSTACK-BLK vdc read after shrink", at, line, sizeof(line));
    ck_assert_msg(strstr(line, "Input/output error"), "the read past the shrunk end: %s", line);
    expect_line(vm, "I/O error, dev vdc, sector", at, line, sizeof(line));
    /* The monitor said which disk failed, and how. */
    ev = expect_event(vm, "BLOCK_IO_ERROR");
    ck_assert_str_eq(qc_str(ev, "data.device"), d->vdc_device);
    ck_assert_str_eq(qc_str(ev, "data.node-name"), d->vdc_node);
    ck_assert_str_eq(qc_str(ev, "data.operation"), "read");
    ck_assert_str_eq(qc_str(ev, "data.action"), "report");
    ck_assert_str_eq(qc_str(ev, "data.reason"), strerror(EIO));
    ck_assert(json_object_get_boolean(
                  json_object_object_get(json_object_object_get(ev, "data"), "nospace")) == false);
    json_object_put(ev);
    return expect_pass(vm, "blk", at);
}

/* After the power-off: the guest's file systems are clean and hold its
 * files. */
static void blk_verify(struct guest_vm *vm, struct blk_disks *d)
{
    char line[1024], v[512], out[512], want[128];
    json_object *ev;

    /* kvmemu said why the read failed, and carried on to the power-off. */
    ck_assert_msg(strstr(vm->errlog.buf ? vm->errlog.buf : "", "was it truncated?"),
                  "kvmemu did not report the truncated disk file: %s", vm->errlog.buf);
    /* Any later BLOCK_IO_ERROR (the guest's retries) is about vdc too. */
    while ((ev = guest_vm_qmp_event(vm, "BLOCK_IO_ERROR", 0))) {
        ck_assert_msg(!strcmp(qc_str(ev, "data.device"), d->vdc_device),
                      "%s: a BLOCK_IO_ERROR for another disk than vdc (%s): %s", vm->tag,
                      d->vdc_device, json_object_to_json_string(ev));
        json_object_put(ev);
    }
    expect_line(vm, "KVMSTACK-BLK vda big=", 0, line, sizeof(line));
    ck_assert_int_eq(run(out, sizeof(out), "debugfs -R 'cat /f' '%s' 2>/dev/null", d->img[0]), 0);
    snprintf(want, sizeof(want), "kvmstack %s", d->nonce);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(run(out, sizeof(out),
                         "debugfs -R 'cat /big' '%s' 2>/dev/null | sha256sum | cut -c1-64",
                         d->img[0]),
                     0);
    ck_assert_str_eq(field(line, "big", v, sizeof(v)), out);
    ck_assert_int_eq(run(out, sizeof(out),
                         "debugfs -R 'stat /big' '%s' 2>/dev/null | "
                         "sed -n 's/.*Size: \\([0-9]*\\).*/\\1/p'",
                         d->img[0]),
                     0);
    ck_assert_str_eq(out, "1048576");
    ck_assert_msg(run(out, sizeof(out), "e2fsck -fn '%s' 2>&1 | tail -n 1", d->img[0]) == 0,
                  "e2fsck -fn %s: %s", d->img[0], out);

    expect_line(vm, "KVMSTACK-BLK vdd hello=", 0, line, sizeof(line));
    snprintf(want, sizeof(want), "hello=from the host %s", d->nonce);
    ck_assert_msg(strstr(line, want), "the guest read from the host's ext4 image: %s", line);
    ck_assert_int_eq(run(out, sizeof(out), "debugfs -R 'cat /g' '%s' 2>/dev/null", d->img[3]), 0);
    snprintf(want, sizeof(want), "from the guest %s", d->nonce);
    ck_assert_str_eq(out, want);
    ck_assert_msg(run(out, sizeof(out), "e2fsck -fn '%s' 2>&1 | tail -n 1", d->img[3]) == 0,
                  "e2fsck -fn %s: %s", d->img[3], out);
    run(NULL, 0, "rm -rf '%s' '%s' '%s' '%s' '%s'", d->img[0], d->img[1], d->img[2], d->img[3],
        d->srcdir);
    for (int i = 0; i < 4; i++)
        free(d->img[i]);
    free(d->srcdir);
}

/* ---- virtio-net ---- */

#define NET_BYTES (2 << 20)

/*
 * The namespace is made and removed by an unchecked fixture, in the runner
 * process, so that a failing test (a forked child) does not leave it
 * behind; its name is set before the fork.
 */
static char ns[64];

static void netns_setup(void)
{
    char cmd[256];

    snprintf(ns, sizeof(ns), "kvlg%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
    if (system(cmd) != 0)
        ns[0] = '\0'; /* the test fails, saying so */
}

static void netns_teardown(void)
{
    char cmd[256];

    if (!ns[0])
        return;
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove the network namespace %s\n", ns);
}

static uint8_t *net_payload(void)
{
    uint8_t *p = malloc(NET_BYTES);
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < NET_BYTES; i++) { /* xorshift: not compressible, not a pattern */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    return p;
}

/* Sends all of buf on a connected socket, keeping the console read. */
static void send_all(struct guest_vm *vm, int s, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    double deadline = guest_now_ms() + NET_MS;

    while (done < len) {
        struct pollfd p = { s, POLLOUT, 0 };
        ssize_t n;

        ck_assert_msg(guest_now_ms() < deadline, "sending to the guest: %zu of %zu bytes in %d ms",
                      done, len, NET_MS);
        if (poll(&p, 1, 20) <= 0) {
            guest_vm_pump(vm, 0);
            continue;
        }
        n = send(s, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        ck_assert_msg(n > 0 || errno == EAGAIN, "send to the guest: %s", strerror(errno));
        if (n > 0)
            done += (size_t)n;
    }
}

/* Accepts one connection and reads it to its end. */
static size_t recv_all(struct guest_vm *vm, int listener, uint8_t *buf, size_t cap)
{
    double deadline = guest_now_ms() + NET_MS;
    size_t got = 0;
    int c = -1;

    while (c < 0) {
        struct pollfd p = { listener, POLLIN, 0 };

        ck_assert_msg(guest_now_ms() < deadline, "the guest did not connect to port 5002");
        if (poll(&p, 1, 20) > 0)
            c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        guest_vm_pump(vm, 0);
    }
    for (;;) {
        struct pollfd p = { c, POLLIN, 0 };
        ssize_t n;

        ck_assert_msg(guest_now_ms() < deadline, "receiving from the guest: %zu bytes in %d ms",
                      got, NET_MS);
        if (poll(&p, 1, 20) <= 0) {
            guest_vm_pump(vm, 0);
            continue;
        }
        n = recv(c, buf + got, cap - got, 0);
        ck_assert_msg(n >= 0, "recv from the guest: %s", strerror(errno));
        if (n == 0 || got + (size_t)n == cap) {
            got += (size_t)n;
            break;
        }
        got += (size_t)n;
    }
    close(c);
    return got;
}

/* The host's side of the net check: this process in the namespace, the
 * tap's address, and a listener for the guest's stream back. */
struct net_host {
    uint8_t *sent, *back;
    int listener;
};

static void net_prepare(struct net_host *h)
{
    struct sockaddr_in host = { .sin_family = AF_INET, .sin_port = htons(5002) };
    char nspath[128], out[512];
    int nsfd, one = 1;

    ck_assert_msg(ns[0], "'ip netns add' failed (iproute2 and root are needed)");
    ck_assert_msg(run(out, sizeof(out),
                      "ip -n %s tuntap add dev ktap0 mode tap && ip -n %s link set ktap0 up && "
                      "ip -n %s addr add 10.0.2.2/24 dev ktap0 && ip -n %s link set lo up 2>&1",
                      ns, ns, ns, ns) == 0,
                  "setting up the tap: %s", out);
    /* This test process and kvmemu both live in the new namespace. */
    snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
    nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(nsfd, 0);
    ck_assert_msg(setns(nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
    close(nsfd);
    h->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(h->listener, 0);
    setsockopt(h->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    inet_pton(AF_INET, "10.0.2.2", &host.sin_addr);
    ck_assert_msg(bind(h->listener, (struct sockaddr *)&host, sizeof(host)) == 0, "bind: %s",
                  strerror(errno));
    ck_assert_int_eq(listen(h->listener, 1), 0);
    h->sent = net_payload();
    h->back = malloc(NET_BYTES + 1);
    ck_assert_ptr_nonnull(h->back);
}

/* The guest's net check, from `at`; returns the offset after its verdict. */
static size_t net_converse(struct guest_vm *vm, struct net_host *h, size_t at)
{
    struct sockaddr_in guest = { .sin_family = AF_INET, .sin_port = htons(5001) };
    char line[1024], v[512], out[512], *file = temp_path("net.bin");
    int s = -1;
    FILE *f;

    inet_pton(AF_INET, "10.0.2.15", &guest.sin_addr);
    expect_wait(vm, "KVMSTACK-NET ping:", at, STEP_MS);
    expect_line(vm, "KVMSTACK-NET mac=", at, line, sizeof(line));
    ck_assert_str_eq(field(line, "mac", v, sizeof(v)), "52:54:00:12:34:56");
    ck_assert_str_eq(field(line, "driver", v, sizeof(v)), "virtio_net");
    expect_line(vm, "KVMSTACK-NET ping:", at, line, sizeof(line));
    ck_assert_msg(strstr(line, "3 packets transmitted, 3 packets received"),
                  "the guest's ping of the host: %s", line);

    /* The host sends a stream to the guest... */
    at = expect_wait(vm, "KVMSTACK-ASK send", at, STEP_MS);
    for (int i = 0; i < 100 && s < 0; i++) {
        s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(s, 0);
        if (connect(s, (struct sockaddr *)&guest, sizeof(guest)) < 0) {
            close(s);
            s = -1;
            guest_vm_pump(vm, 100);
        }
    }
    ck_assert_msg(s >= 0, "cannot connect to the guest's 10.0.2.15:5001: %s", strerror(errno));
    send_all(vm, s, h->sent, NET_BYTES);
    close(s);
    f = fopen(file, "we");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(h->sent, 1, NET_BYTES, f), NET_BYTES);
    fclose(f);
    ck_assert_int_eq(run(out, sizeof(out), "sha256sum <'%s' | cut -c1-64", file), 0);
    unlink(file);
    expect_wait(vm, "KVMSTACK-NET rx ", at, NET_MS);
    expect_line(vm, "KVMSTACK-NET rx ", at, line, sizeof(line));
    ck_assert_str_eq(field(line, "bytes", v, sizeof(v)), "2097152");
    ck_assert_str_eq(field(line, "sha256", v, sizeof(v)), out);

    /* ...and the guest sends it back. */
    ck_assert_uint_eq(recv_all(vm, h->listener, h->back, NET_BYTES + 1), NET_BYTES);
    ck_assert_msg(!memcmp(h->back, h->sent, NET_BYTES), "the stream the guest sent back differs");
    close(h->listener);
    free(h->sent);
    free(h->back);
    return expect_pass(vm, "net", at);
}

/* ---- virtio-rng and virtio-console ---- */

static int connect_unix(struct guest_vm *vm, const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int s = -1;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int i = 0; i < 100 && s < 0; i++) {
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(s, 0);
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(s);
            s = -1;
            guest_vm_pump(vm, 50);
        }
    }
    ck_assert_msg(s >= 0, "cannot connect to kvmemu's virtio console socket %s: %s", path,
                  strerror(errno));
    return s;
}

/* The guest's rng check (and, while it waits, hvc0), from `at`; returns
 * the offset after its verdict. */
static size_t rng_converse(struct guest_vm *vm, const char *sock, size_t at)
{
    static const char cmd[] = "echo KVMSTACK-HVC $((6*7)) $(tty)\n";
    char line[1024], a[128], b[128], got[4096] = "";
    double deadline;
    size_t n = 0;
    int s;

    /* /dev/hwrng is virtio-rng, and gives bytes: 32 twice, not the same. */
    expect_wait(vm, "KVMSTACK-RNG ", at, STEP_MS);
    expect_line(vm, "KVMSTACK-RNG ", at, line, sizeof(line));
    ck_assert_str_eq(field(line, "current", a, sizeof(a)), "virtio_rng.0");
    field(line, "a", a, sizeof(a));
    field(line, "b", b, sizeof(b));
    ck_assert_uint_eq(strlen(a), 64);
    ck_assert_uint_eq(strlen(b), 64);
    ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
    ck_assert_str_ne(a, b);

    /* hvc0 carries a shell: type a command, read its answer. */
    at = expect_wait(vm, "KVMSTACK-ASK use hvc0", at, STEP_MS);
    s = connect_unix(vm, sock);
    ck_assert_int_eq(write(s, cmd, sizeof(cmd) - 1), (ssize_t)sizeof(cmd) - 1);
    deadline = guest_now_ms() + STEP_MS;
    while (!strstr(got, "KVMSTACK-HVC 42 /dev/hvc0") && guest_now_ms() < deadline) {
        struct pollfd p = { s, POLLIN, 0 };

        if (poll(&p, 1, 20) > 0) {
            ssize_t r = read(s, got + n, sizeof(got) - 1 - n);

            ck_assert_msg(r > 0, "the virtio console socket closed; hvc0 said: %s", got);
            n += (size_t)r;
            got[n] = '\0';
        }
        guest_vm_pump(vm, 0);
    }
    ck_assert_msg(strstr(got, "KVMSTACK-HVC 42 /dev/hvc0"),
                  "no answer from the shell on hvc0 within %d ms; it said: %s", STEP_MS, got);
    guest_diag("%s: hvc0 answered: KVMSTACK-HVC 42 /dev/hvc0", vm->tag);
    close(s);
    guest_vm_type(vm, "done");
    return expect_pass(vm, "rng", at);
}

/* ---- the virtio devices, one boot ---- */

/*
 * All of them on one machine, the guest's checks one after the other
 * (checks/devices.sh: blk, net, rng, each talking with the host in turn):
 * a boot is most of the time here, and the devices do not interfere.
 */
START_TEST(virtio_devices)
{
    char sock[100], backend[160], append[96];
    struct blk_disks disks;
    struct net_host net;
    struct guest_kit kit;
    struct guest_vm vm;
    size_t at;

    blk_prepare(&disks);
    net_prepare(&net);
    snprintf(sock, sizeof(sock), "/tmp/kvmstack-hvc-%d.sock", (int)getpid());
    snprintf(backend, sizeof(backend), "unix:%s", sock);
    snprintf(append, sizeof(append), "test=devices nonce=%s", disks.nonce);
    guest_kit_get(&kit);
    /* One vCPU: the devices do not need two (the boot test proves SMP),
     * and on a saturated host a second vCPU has stalled this guest's
     * boot for minutes at a stop_machine() (the clocksource switch). */
    guest_vm_start_qmp(&vm, "devices", &kit, append,
                       (const char *const[]){
                           "--smp", "1", "--memory", MEMORY, "--disk", disks.arg[0], "--disk",
                           disks.arg[1], "--disk", disks.arg[2], "--disk", disks.arg[3], "--net",
                           "tap,ifname=ktap0", "--rng", "--console-virtio", backend, NULL });
    at = expect_wait(&vm, "KVMSTACK-INIT ", 0, BOOT_MS);
    at = blk_converse(&vm, &disks, at);
    at = net_converse(&vm, &net, at);
    at = rng_converse(&vm, sock, at);
    expect_pass_and_poweroff(&vm, "devices", at);
    /* kvmemu survived the disk's I/O error: it powered off cleanly. */
    blk_verify(&vm, &disks);
    guest_vm_end(&vm);
    unlink(sock);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("linux-guest");
    TCase *kit = tcase_create("kit"), *tc = tcase_create("boots");

    /* The first build of the kernel takes minutes (cached afterwards). */
    tcase_set_timeout(kit, 1500);
    tcase_add_test(kit, kit_builds);
    suite_add_tcase(s, kit);
    /* Each is one boot (two for the reboot), 20-30 s each here when the
     * machine is idle; a busy machine makes them several times slower. */
    tcase_set_timeout(tc, 1800);
    tcase_add_unchecked_fixture(tc, netns_setup, netns_teardown);
    tcase_add_test(tc, boot_reboot_monitor);
    tcase_add_test(tc, virtio_devices);
    suite_add_tcase(s, tc);
    return s;
}
