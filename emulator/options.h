/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu's command line, validated into a plain struct before anything is
 * created: a bad value is one line naming the option, and exit status 2.
 */
#ifndef EM_OPTIONS_H
#define EM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <kvmcore/kvmcore.h>

#define EM_EXIT_OK    0
#define EM_EXIT_ERROR 1
#define EM_EXIT_USAGE 2

#define EM_NAME_MAX        64
#define EM_MAX_CPUS        255 /* xAPIC ids, and the MADT's 8-bit entries */
#define EM_MIN_RAM         (4ull << 20)
#define EM_MAX_CPU_CHANGES 64

enum em_chardev_kind {
    EM_CHARDEV_NONE,
    EM_CHARDEV_STDIO,
    EM_CHARDEV_FILE,
    EM_CHARDEV_UNIX,
    EM_CHARDEV_PTY,
};

struct em_chardev_spec {
    enum em_chardev_kind kind;
    const char *path; /* file: and unix: */
    int fd;           /* unix with no path: an inherited listening socket (fd=N) */
};

enum em_cpu_mode {
    EM_MODE_REAL,
    EM_MODE_PROTECTED,
    EM_MODE_LONG,
};

#define EM_MAX_DISKS 8
#define EM_MAX_NICS  4

/* addr=SLOT on a virtio device: its PCI slot on bus 0 (slot 0 is the host
 * bridge). EM_SLOT_AUTO: the lowest slot free once the devices that name
 * theirs are plugged. mgmtd names every slot, as libvirt's XML does. */
#define EM_SLOT_AUTO (-1)
#define EM_SLOT_MAX  31

/* --disk path=FILE|fd=N[,format=raw][,readonly=on|off][,cache=none|writeback][,serial=ID]
 *        [,addr=SLOT] */
struct em_disk_spec {
    const char *path; /* NULL when fd is given */
    int fd;           /* -1 when path is given */
    int slot;         /* EM_SLOT_AUTO or 1..EM_SLOT_MAX */
    bool readonly;
    bool cache_none; /* O_DIRECT */
    char serial[21]; /* VIRTIO_BLK_ID_BYTES = 20, NUL-terminated here */
};

/* --net tap,ifname=NAME|fd=N[,mac=52:54:00:xx:xx:xx][,addr=SLOT] */
struct em_net_spec {
    const char *ifname; /* NULL when fd is given */
    int fd;
    int slot;
    uint8_t mac[6];
};

#define EM_MAX_MONITORS 4

/* --monitor unix:PATH|fd=N */
struct em_monitor_spec {
    const char *path; /* NULL when fd is given */
    int fd;
};

enum em_on_panic {
    EM_PANIC_POWEROFF, /* QEMU's default: GUEST_PANICKED, then SHUTDOWN */
    EM_PANIC_PAUSE,    /* the VM stays, paused, for a dump or a look */
};

enum em_on_reboot {
    EM_REBOOT_RESET,
    EM_REBOOT_EXIT,
};

struct em_config {
    const char *name;
    uint64_t ram_size;
    unsigned smp;

    /* Exactly one boot source: kernel, firmware or flat. */
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *firmware;
    struct {
        const char *path;
        uint64_t addr;
        uint64_t entry;
        enum em_cpu_mode mode;
    } flat;

    struct em_chardev_spec serial;
    unsigned nr_disks;
    struct em_disk_spec disks[EM_MAX_DISKS];
    unsigned nr_nics;
    struct em_net_spec nics[EM_MAX_NICS];
    struct {
        bool enabled;
        uint64_t max_bytes; /* per period; 0: no limit */
        uint64_t period_ms;
        int slot;
    } rng;
    /* --console-virtio BACKEND: a virtio-console port (hvc0). */
    bool console_virtio;
    struct em_chardev_spec console;
    int console_slot;
    struct kc_cpuid_change cpu_changes[EM_MAX_CPU_CHANGES];
    unsigned nr_cpu_changes;
    enum em_on_reboot on_reboot;
    enum em_on_panic on_panic;
    bool rtc_localtime; /* --rtc base=localtime: the RTC keeps local time */
    unsigned nr_monitors;
    struct em_monitor_spec monitors[EM_MAX_MONITORS];
    bool paused;   /* --paused: prelaunch until "cont" */
    char uuid[37]; /* "" when not given */
    const char *pidfile;
    bool debug_exit;
    bool trace_boot;
    bool no_acpi;
    int kvm_fd;
    int verbose;
};

/*
 * Parses argv into cfg. Returns 0 to go on, EM_EXIT_USAGE after printing
 * one line naming the bad option on `err`, or -1 when --help or --version
 * was printed on `out` (exit 0). Strings point into argv.
 */
int em_options_parse(int argc, char **argv, struct em_config *cfg, FILE *out, FILE *err);

/* Parses "512M", "2G", "1024" (MiB) etc.; false if not a size. */
bool em_parse_size(const char *s, uint64_t *out);

void em_options_usage(FILE *f);

#endif
