/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where mgmtd keeps things. A system daemon uses /etc/kvmstack (the
 * definitions), /run/kvmstack (live state and sockets) and
 * /var/log/kvmstack (one log per domain); --root DIR puts them in DIR/etc,
 * DIR/run and DIR/log, for tests and unprivileged use.
 *
 *   etc/domains/NAME.xml        a persistent definition
 *   etc/autostart/NAME.xml      a symbolic link to it: start with the daemon
 *   run/mgmtd.sock              the read-write API socket (0600)
 *   run/mgmtd-ro.sock           the read-only API socket (0666)
 *   run/mgmtd.pid               the daemon's pidfile (locked while it runs)
 *   run/domains/NAME.xml        a running domain's status: its state, pid
 *                               and the definition it runs
 *   run/domains/NAME.qmp        its emulator's monitor socket
 *   run/domains/NAME.console    its serial console socket
 *   log/NAME.log                its emulator's output
 */
#ifndef MD_PATHS_H
#define MD_PATHS_H

#include <limits.h>

#include "err.h"

struct md_paths {
    char etc[PATH_MAX];
    char domains[PATH_MAX];
    char autostart[PATH_MAX];
    char run[PATH_MAX];
    char run_domains[PATH_MAX];
    char log[PATH_MAX];
    char rw_sock[108];
    char ro_sock[108];
    char pidfile[PATH_MAX];
};

/* root NULL: the system locations. 0, or -ENAMETOOLONG with err set (the
 * socket paths must fit a sockaddr_un). */
int md_paths_init(struct md_paths *p, const char *root, struct md_err *err);
/* Creates the directories (0755; run/domains 0700). */
int md_paths_create(const struct md_paths *p, struct md_err *err);

/* dir/NAME.EXT into buf; -ENAMETOOLONG if it does not fit. */
int md_paths_file(char *buf, size_t len, const char *dir, const char *name, const char *ext);

#endif
