/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting an emulator: a new session (its own process group, so that
 * signals to the daemon's group do not reach it and it outlives the
 * daemon), exactly the descriptors it is given (each at the number the
 * command line names; everything else closed), a umask of 077, and no
 * privilege at all: every capability cleared, including the bounding and
 * ambient sets (libcap-ng), no_new_privs, and another uid and gid when
 * the daemon is root.
 */
#ifndef MD_SPAWN_H
#define MD_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

#define MD_SPAWN_MAX_FDS 16
/* The first number inherited descriptors get in the child. */
#define MD_SPAWN_FIRST_FD 3

struct md_spawn {
    char *const *argv;        /* argv[0] is the program's path */
    int stdout_fd, stderr_fd; /* stdin is /dev/null */
    /* fds[i] becomes descriptor MD_SPAWN_FIRST_FD + i in the child. */
    const int *fds;
    unsigned nfds;
    bool change_id; /* to uid/gid, with no supplementary groups */
    uid_t uid;
    gid_t gid;
};

/* The child's pid once it has exec'd; -1 with err naming the step that
 * failed (the child's own failure is reported through a pipe). */
pid_t md_spawn(const struct md_spawn *s, struct md_err *err);

/* The user the emulators run as: `name` if given (an error if it does not
 * exist); else "kvmstack" if it exists; else "nobody". When the daemon is
 * not root, its own ids (change_id false). */
int md_spawn_user(const char *name, const char *group, bool *change_id, uid_t *uid, gid_t *gid,
                  struct md_err *err);

#endif
