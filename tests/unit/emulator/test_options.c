/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu's command line: good values parse to the right config; every bad
 * value is exactly one line naming the option, and exit status 2.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define MAX_ARGS 32

struct parsed {
    int ret;
    struct em_config cfg;
    char out[8192];
    char err[1024];
    char *argv_store[MAX_ARGS];
};

static void parsed_free(struct parsed *p)
{
    for (int i = 0; i < MAX_ARGS; i++)
        free(p->argv_store[i]);
    free(p);
}

/* A readable file to boot, so that only the option under test is wrong. */
static const char *image(void)
{
    static char path[64];

    if (!path[0]) {
        int fd;

        snprintf(path, sizeof(path), "/tmp/kvmemu-options-%d.bin", (int)getpid());
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "\xf4", 1), 1);
        close(fd);
    }
    return path;
}

/* Parses a NULL-terminated argument list (argv[0] added). */
static struct parsed *parse(const char *first, ...)
{
    struct parsed *p = calloc(1, sizeof(*p));
    FILE *out = fmemopen(p->out, sizeof(p->out) - 1, "w");
    FILE *err = fmemopen(p->err, sizeof(p->err) - 1, "w");
    va_list ap;
    int argc = 0;

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    p->argv_store[argc++] = strdup("kvmemu");
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, MAX_ARGS - 1);
        p->argv_store[argc++] = strdup(a);
    }
    va_end(ap);
    p->ret = em_options_parse(argc, p->argv_store, &p->cfg, out, err);
    fclose(out);
    fclose(err);
    return p;
}

/* The one-line-error contract: status 2, one line, naming `what`. */
static void expect_bad(struct parsed *p, const char *what)
{
    char *nl = strchr(p->err, '\n');

    ck_assert_msg(p->ret == EM_EXIT_USAGE, "status %d for a bad value (%s), want 2", p->ret, what);
    ck_assert_msg(nl && nl[1] == '\0', "want exactly one line, got: '%s'", p->err);
    ck_assert_msg(strstr(p->err, what), "'%s' does not name '%s'", p->err, what);
    ck_assert_msg(!strncmp(p->err, "kvmemu: ", 8), "'%s' lacks the program name", p->err);
}

START_TEST(defaults)
{
    struct parsed *p = parse("--flat", image(), NULL);

    ck_assert_int_eq(p->ret, 0);
    ck_assert_str_eq(p->err, "");
    ck_assert_uint_eq(p->cfg.ram_size, 128ull << 20);
    ck_assert_uint_eq(p->cfg.smp, 1);
    ck_assert_int_eq(p->cfg.serial.kind, EM_CHARDEV_STDIO);
    ck_assert_int_eq(p->cfg.on_reboot, EM_REBOOT_RESET);
    ck_assert_int_eq(p->cfg.kvm_fd, -1);
    ck_assert_uint_eq(p->cfg.flat.addr, 0x100000);
    ck_assert_uint_eq(p->cfg.flat.entry, 0x100000);
    ck_assert_int_eq(p->cfg.flat.mode, EM_MODE_LONG);
    ck_assert_uint_eq(p->cfg.nr_cpu_changes, 0);
    ck_assert_int_eq(p->cfg.on_panic, EM_PANIC_POWEROFF);
    ck_assert_uint_eq(p->cfg.nr_monitors, 0);
    ck_assert(!p->cfg.paused);
    ck_assert(!p->cfg.rtc_localtime);
    ck_assert_str_eq(p->cfg.uuid, "");
    parsed_free(p);
}
END_TEST

START_TEST(good_values)
{
    struct parsed *p;
    char flat[128];

    snprintf(flat, sizeof(flat), "%s,addr=0x200000,entry=0x200010,mode=protected", image());
    {
        p = parse("--name", "web-1.test", "--memory", "2G", "--smp", "4", "--cpu",
                  "host,-avx,+x2apic", "--serial", "unix:/tmp/s.sock", "--on-reboot", "exit",
                  "--no-acpi", "--debug-exit", "--trace-boot", "--pidfile", "/tmp/p", "-v", "-v",
                  "--flat", flat, NULL);
    }
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert_str_eq(p->cfg.name, "web-1.test");
    ck_assert_uint_eq(p->cfg.ram_size, 2ull << 30);
    ck_assert_uint_eq(p->cfg.smp, 4);
    ck_assert_uint_eq(p->cfg.nr_cpu_changes, 2);
    ck_assert_str_eq(p->cfg.cpu_changes[0].feature->name, "avx");
    ck_assert(!p->cfg.cpu_changes[0].enable);
    ck_assert_str_eq(p->cfg.cpu_changes[1].feature->name, "x2apic");
    ck_assert(p->cfg.cpu_changes[1].enable);
    ck_assert_int_eq(p->cfg.serial.kind, EM_CHARDEV_UNIX);
    ck_assert_str_eq(p->cfg.serial.path, "/tmp/s.sock");
    ck_assert_int_eq(p->cfg.on_reboot, EM_REBOOT_EXIT);
    ck_assert(p->cfg.no_acpi && p->cfg.debug_exit && p->cfg.trace_boot);
    ck_assert_str_eq(p->cfg.pidfile, "/tmp/p");
    ck_assert_int_eq(p->cfg.verbose, 2);
    ck_assert_uint_eq(p->cfg.flat.addr, 0x200000);
    ck_assert_uint_eq(p->cfg.flat.entry, 0x200010);
    ck_assert_int_eq(p->cfg.flat.mode, EM_MODE_PROTECTED);
    parsed_free(p);
}
END_TEST

START_TEST(control_options)
{
    struct parsed *p;

    p = parse("--monitor", "unix:/tmp/a.sock", "--monitor", "fd=0", "--paused", "--uuid",
              "6F9619FF-8B86-D011-B42D-00C04FC964FF", "--on-panic", "pause", "--serial", "fd=1",
              "--rtc", "base=localtime", "--flat", image(), NULL);
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert(p->cfg.rtc_localtime);
    ck_assert_uint_eq(p->cfg.nr_monitors, 2);
    ck_assert_str_eq(p->cfg.monitors[0].path, "/tmp/a.sock");
    ck_assert_ptr_null(p->cfg.monitors[1].path);
    ck_assert_int_eq(p->cfg.monitors[1].fd, 0);
    ck_assert(p->cfg.paused);
    ck_assert_str_eq(p->cfg.uuid, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    ck_assert_int_eq(p->cfg.on_panic, EM_PANIC_PAUSE);
    ck_assert_int_eq(p->cfg.serial.kind, EM_CHARDEV_UNIX);
    ck_assert_ptr_null(p->cfg.serial.path);
    ck_assert_int_eq(p->cfg.serial.fd, 1);
    parsed_free(p);
    /* At most four monitors. */
    p = parse("--monitor", "fd=0", "--monitor", "fd=0", "--monitor", "fd=0", "--monitor", "fd=0",
              "--monitor", "fd=0", "--flat", image(), NULL);
    expect_bad(p, "at most 4 monitors");
    parsed_free(p);
}
END_TEST

START_TEST(sizes)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = {
        { "512", 512ull << 20 },   { "512M", 512ull << 20 },   { "512m", 512ull << 20 },
        { "512MB", 512ull << 20 }, { "512MiB", 512ull << 20 }, { "2G", 2ull << 30 },
        { "4096K", 4ull << 20 },   { "1T", 1ull << 40 },       { "8388608B", 8ull << 20 },
    };
    static const char *const bad_sizes[] = { "",    "M",     "-1",  "1.5G",
                                             "12Q", "0x100", "5MX", "99999999999999T",
                                             "1 G" };
    uint64_t v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(em_parse_size(good[i].text, &v), "'%s' refused", good[i].text);
        ck_assert_msg(v == good[i].bytes, "'%s' = %llu", good[i].text, (unsigned long long)v);
    }
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
        ck_assert_msg(!em_parse_size(bad_sizes[i], &v), "'%s' accepted", bad_sizes[i]);
}
END_TEST

/* One bad value per row: the option, its value, and what the message names. */
static const struct {
    const char *opt;
    const char *value;
    const char *named;
} bad_values[] = {
    { "--memory", "abc", "--memory" },
    { "--memory", "1M", "--memory" },
    { "--memory", "0", "--memory" },
    { "--memory", "5001K", "--memory" }, /* not whole pages */
    { "--smp", "0", "--smp" },
    { "--smp", "256", "--smp" },
    { "--smp", "two", "--smp" },
    { "--smp", "-1", "--smp" },
    { "--cpu", "qemu64", "--cpu" },
    { "--cpu", "host,avx", "--cpu" },
    { "--cpu", "host,-nosuchfeature", "nosuchfeature" },
    { "--cpu", "host,-", "--cpu" },
    { "--serial", "tcp:1234", "--serial" },
    { "--serial", "file:", "--serial" },
    { "--on-reboot", "maybe", "--on-reboot" },
    { "--name", "", "--name" },
    { "--name", "has space", "--name" },
    { "--name", "a/b", "--name" },
    { "--kvm-fd", "abc", "--kvm-fd" },
    { "--kvm-fd", "999", "--kvm-fd" },
    { "--pidfile", "", "--pidfile" },
    { "--disk", "format=raw", "exactly one of path=FILE and fd=N" },
    { "--disk", "path=/nonexistent/disk.img", "/nonexistent/disk.img: No such file" },
    { "--disk", "fd=999", "fd=999 is not an open file descriptor" },
    { "--disk", "fd=0,path=/etc/hostname", "exactly one of" },
    { "--disk", "fd=0,format=qcow2", "only raw images" },
    { "--disk", "fd=0,readonly=maybe", "readonly=maybe" },
    { "--disk", "fd=0,cache=directsync", "cache=directsync" },
    { "--disk", "fd=0,serial=123456789012345678901", "longer than 20" },
    { "--disk", "fd=0,bogus=1", "unknown setting 'bogus'" },
    { "--disk", "fd=0,readonly", "'readonly' needs a value" },
    { "--net", "user", "the only backend is tap" },
    { "--net", "tap", "exactly one of ifname=NAME and fd=N" },
    { "--net", "tap,ifname=0123456789abcdef", "not an interface name" },
    { "--net", "tap,ifname=t0,mac=52:54:00:12:34", "mac=52:54:00:12:34" },
    { "--net", "tap,ifname=t0,mac=53:54:00:12:34:56", "unicast" },
    { "--net", "tap,ifname=t0,speed=10", "unknown setting 'speed'" },
    { "--console-virtio", "tcp:1", "--console-virtio" },
    { "--serial", "fd=999", "'999' is not an open file descriptor" },
    { "--serial", "fd=x", "'x' is not an open file descriptor" },
    { "--monitor", "tcp:4444", "'tcp:4444' is not unix:PATH or fd=N" },
    { "--monitor", "unix:", "is not unix:PATH or fd=N" },
    { "--monitor", "fd=999", "'999' is not an open file descriptor" },
    { "--uuid", "6f9619ff-8b86-d011-b42d-00c04fc964f", "is not a UUID" },
    { "--uuid", "6f9619ff08b86-d011-b42d-00c04fc964ff", "is not a UUID" },
    { "--uuid", "6f9619ff-8b86-d011-b42d-00c04fc964fg", "is not a UUID" },
    { "--on-panic", "reboot", "'reboot' is not poweroff or pause" },
    { "--rtc", "localtime", "'localtime' is not base=utc or base=localtime" },
    { "--rtc", "base=gmt", "'base=gmt' is not base=utc or base=localtime" },
    { "--disk", "fd=0,addr=0", "addr=0 is not a PCI slot" },
    { "--disk", "fd=0,addr=32", "addr=32 is not a PCI slot" },
    { "--net", "tap,ifname=t0,addr=x", "addr=x is not a PCI slot" },
    { "--disk", "fd=0,addr=-1", "addr=-1 is not a PCI slot" },
    { "--console-virtio", "pty,addr=0x20", "addr=0x20 is not a PCI slot" },
};

START_TEST(each_bad_value)
{
    struct parsed *p = parse(bad_values[_i].opt, bad_values[_i].value, "--flat", image(), NULL);

    expect_bad(p, bad_values[_i].named);
    parsed_free(p);
}
END_TEST

START_TEST(virtio_devices)
{
    struct parsed *p;
    char disk0[128], disk1[128];

    snprintf(disk0, sizeof(disk0), "path=%s,readonly=on,cache=none,serial=DISK-0", image());
    snprintf(disk1, sizeof(disk1), "fd=0,format=raw");
    p = parse("--flat", image(), "--disk", disk0, "--disk", disk1, "--net", "tap,ifname=tap0",
              "--net", "tap,fd=1,mac=52:54:00:aa:bb:cc", "--rng=max-bytes=1024,period=500",
              "--serial", "none", "--console-virtio", "stdio", NULL);
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert_uint_eq(p->cfg.nr_disks, 2);
    ck_assert_str_eq(p->cfg.disks[0].path, image());
    ck_assert_int_eq(p->cfg.disks[0].fd, -1);
    ck_assert(p->cfg.disks[0].readonly && p->cfg.disks[0].cache_none);
    ck_assert_str_eq(p->cfg.disks[0].serial, "DISK-0");
    ck_assert_ptr_null(p->cfg.disks[1].path);
    ck_assert_int_eq(p->cfg.disks[1].fd, 0);
    ck_assert(!p->cfg.disks[1].readonly && !p->cfg.disks[1].cache_none);
    ck_assert_uint_eq(p->cfg.nr_nics, 2);
    ck_assert_str_eq(p->cfg.nics[0].ifname, "tap0");
    ck_assert_mem_eq(p->cfg.nics[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
    ck_assert_int_eq(p->cfg.nics[1].fd, 1);
    ck_assert_mem_eq(p->cfg.nics[1].mac, "\x52\x54\x00\xaa\xbb\xcc", 6);
    ck_assert(p->cfg.rng.enabled);
    ck_assert_uint_eq(p->cfg.rng.max_bytes, 1024);
    ck_assert_uint_eq(p->cfg.rng.period_ms, 500);
    ck_assert(p->cfg.console_virtio);
    ck_assert_int_eq(p->cfg.console.kind, EM_CHARDEV_STDIO);
    parsed_free(p);

    /* Defaults: a second NIC gets the next MAC; --rng alone has no limit. */
    p = parse("--flat", image(), "--net", "tap,ifname=a", "--net", "tap,ifname=b", "--rng", NULL);
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert_uint_eq(p->cfg.nics[1].mac[5], 0x57);
    ck_assert(p->cfg.rng.enabled);
    ck_assert_uint_eq(p->cfg.rng.max_bytes, 0);
    parsed_free(p);

    /* stdio has one owner. */
    p = parse("--flat", image(), "--console-virtio", "stdio", NULL);
    expect_bad(p, "stdio is already the serial port's");
    parsed_free(p);
    p = parse("--flat", image(), "--rng=max-bytes=0", NULL);
    expect_bad(p, "'max-bytes=0'");
    parsed_free(p);
}
END_TEST

START_TEST(named_slots)
{
    struct parsed *p;

    p = parse("--flat", image(), "--disk", "fd=0,addr=0x04", "--disk", "fd=0", "--net",
              "tap,fd=1,addr=3", "--rng=period=100,addr=0x1f", "--serial", "none",
              "--console-virtio", "file:/tmp/a,b,addr=0x05", NULL);
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert_int_eq(p->cfg.disks[0].slot, 4);
    ck_assert_int_eq(p->cfg.disks[1].slot, EM_SLOT_AUTO);
    ck_assert_int_eq(p->cfg.nics[0].slot, 3);
    ck_assert_int_eq(p->cfg.rng.slot, 31);
    ck_assert_uint_eq(p->cfg.rng.period_ms, 100);
    ck_assert_int_eq(p->cfg.console_slot, 5);
    /* The suffix comes off the end; the path keeps its own comma. */
    ck_assert_str_eq(p->cfg.console.path, "/tmp/a,b");
    parsed_free(p);

    p = parse("--flat", image(), "--rng", "--console-virtio", "pty", "--serial", "none", NULL);
    ck_assert_msg(p->ret == 0, "%s", p->err);
    ck_assert_int_eq(p->cfg.rng.slot, EM_SLOT_AUTO);
    ck_assert_int_eq(p->cfg.console_slot, EM_SLOT_AUTO);
    parsed_free(p);

    p = parse("--flat", image(), "--rng=addr=0", NULL);
    expect_bad(p, "--rng: addr=0 is not a PCI slot");
    parsed_free(p);

    /* One slot, two devices: refused before anything is built. */
    p = parse("--flat", image(), "--disk", "fd=0,addr=4", "--net", "tap,fd=1,addr=0x4", NULL);
    expect_bad(p, "addr=4: the slot is already given to --disk");
    parsed_free(p);
}
END_TEST

START_TEST(long_unix_path)
{
    char spec[256];
    struct parsed *p;

    memset(spec, 'x', sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = '\0';
    memcpy(spec, "unix:/", 6);
    p = parse("--serial", spec, "--flat", image(), NULL);
    expect_bad(p, "longer than 107");
    parsed_free(p);
}
END_TEST

START_TEST(flat_settings)
{
    static const char *const bad_suffixes[] = { ",addr=zz",
                                                ",mode=weird",
                                                ",speed=9",
                                                ",entry=0x1ffffffff",
                                                ",mode=real,addr=0x1001",
                                                ",addr=0x100000,entry=0xff000" };
    char flat[256];

    for (size_t i = 0; i < sizeof(bad_suffixes) / sizeof(bad_suffixes[0]); i++) {
        struct parsed *p;

        snprintf(flat, sizeof(flat), "%s%s", image(), bad_suffixes[i]);
        p = parse("--flat", flat, NULL);
        if (i == 5) {
            /* An entry before the image passes the parser (only real mode
             * has a window); the loader refuses it. */
            ck_assert_int_eq(p->ret, 0);
        } else {
            expect_bad(p, "--flat");
        }
        parsed_free(p);
    }
}
END_TEST

START_TEST(boot_source_rules)
{
    struct parsed *p;

    p = parse("--memory", "64M", NULL);
    ck_assert_int_eq(p->ret, EM_EXIT_USAGE);
    ck_assert_msg(strstr(p->err, "nothing to boot"), "%s", p->err);
    parsed_free(p);

    p = parse("--kernel", image(), "--flat", image(), NULL);
    ck_assert_int_eq(p->ret, EM_EXIT_USAGE);
    ck_assert_msg(strstr(p->err, "exclude each other"), "%s", p->err);
    parsed_free(p);

    p = parse("--flat", image(), "--initrd", image(), NULL);
    expect_bad(p, "--initrd");
    parsed_free(p);

    p = parse("--flat", image(), "--append", "console=ttyS0", NULL);
    expect_bad(p, "--append");
    parsed_free(p);

    /* A missing file is caught now, named with its option and path. */
    p = parse("--kernel", "/nonexistent/vmlinuz", NULL);
    expect_bad(p, "--kernel: /nonexistent/vmlinuz: No such file or directory");
    parsed_free(p);
    p = parse("--kernel", image(), "--initrd", "/nonexistent/initrd", NULL);
    expect_bad(p, "--initrd: /nonexistent/initrd");
    parsed_free(p);
}
END_TEST

START_TEST(command_line_shape)
{
    struct parsed *p;

    p = parse("--no-such-option", "--flat", image(), NULL);
    expect_bad(p, "--no-such-option: unknown option");
    parsed_free(p);
    p = parse("--flat", image(), "--memory", NULL);
    expect_bad(p, "--memory: needs a value");
    parsed_free(p);
    p = parse("--flat", image(), "stray", NULL);
    expect_bad(p, "unexpected argument 'stray'");
    parsed_free(p);
    p = parse("--help", NULL);
    ck_assert_int_eq(p->ret, -1);
    ck_assert_msg(strstr(p->out, "usage: kvmemu"), "%s", p->out);
    ck_assert_str_eq(p->err, "");
    parsed_free(p);
    p = parse("--version", NULL);
    ck_assert_int_eq(p->ret, -1);
    ck_assert_msg(!strncmp(p->out, "kvmemu ", 7) && strstr(p->out, "libkvmcore"), "%s", p->out);
    parsed_free(p);
}
END_TEST

START_TEST(usage_mentions_every_option)
{
    static const char *const opts[] = { "--name",      "--memory",  "--smp",      "--cpu",
                                        "--no-acpi",   "--kernel",  "--initrd",   "--append",
                                        "--firmware",  "--flat",    "--serial",   "--debug-exit",
                                        "--on-reboot", "--pidfile", "--kvm-fd",   "--trace-boot",
                                        "--verbose",   "--version", "Exit status" };
    char text[8192];
    FILE *f = fmemopen(text, sizeof(text) - 1, "w");

    ck_assert_ptr_nonnull(f);
    em_options_usage(f);
    fclose(f);
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        ck_assert_msg(strstr(text, opts[i]), "--help does not mention %s", opts[i]);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_options");
    TCase *tc = tcase_create("options");

    tcase_add_test(tc, defaults);
    tcase_add_test(tc, good_values);
    tcase_add_test(tc, control_options);
    tcase_add_test(tc, sizes);
    tcase_add_loop_test(tc, each_bad_value, 0, sizeof(bad_values) / sizeof(bad_values[0]));
    tcase_add_test(tc, virtio_devices);
    tcase_add_test(tc, named_slots);
    tcase_add_test(tc, long_unix_path);
    tcase_add_test(tc, flat_settings);
    tcase_add_test(tc, boot_source_rules);
    tcase_add_test(tc, command_line_shape);
    tcase_add_test(tc, usage_mentions_every_option);
    suite_add_tcase(s, tc);
    return s;
}
