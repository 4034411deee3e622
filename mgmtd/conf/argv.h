/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvmemu's command line for a definition, given what the launcher
 * prepared: /dev/kvm, disk images and taps opened by the daemon and
 * inherited by the emulator, the monitor socket and the pidfile in the
 * run directory. Everything the definition says maps to an option (the
 * parser refused what would not); daemon-side behaviour (on_poweroff,
 * restarting after a crash, bridges) is the daemon's.
 */
#ifndef MD_ARGV_H
#define MD_ARGV_H

#include <stdbool.h>

#include "domain.h"
#include "err.h"

struct md_argv_params {
    const char *emulator;     /* argv[0] when the definition names none */
    int kvm_fd;               /* --kvm-fd N; -1: kvmemu opens /dev/kvm */
    int monitor_fd;           /* --monitor fd=N; -1: monitor_path */
    const char *monitor_path; /* --monitor unix:PATH; NULL (and no fd): no monitor */
    const char *pidfile;      /* --pidfile PATH, or NULL */
    const int *disk_fds;      /* one per disk, in order; NULL: path=<source file> */
    const int *tap_fds;       /* one per interface, in order; NULL: ifname=<target dev> */
    bool paused;              /* --paused: vCPUs stopped until the monitor's cont */
    /* A pty console (<serial type='pty'>, <console type='pty'> with a
     * virtio target) served on a listening socket the daemon made instead,
     * so that its API can carry the console: --serial fd=N and
     * --console-virtio fd=N. 0: the chardev as the XML says. */
    int serial_fd;
    int vconsole_fd;
};

/* A NULL-terminated argv (free with md_argv_free()), or NULL with err set. */
char **md_argv_build(const struct md_domain_def *def, const struct md_argv_params *p,
                     struct md_err *err);
void md_argv_free(char **argv);

#endif
