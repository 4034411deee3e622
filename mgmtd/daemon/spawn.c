/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

/* What the child reports before it dies: the step and errno. */
struct child_error {
    int step;
    int err;
};

enum {
    STEP_SETSID = 1,
    STEP_FDS,
    STEP_CAPS,
    STEP_NNP,
    STEP_EXEC,
};

static const char *step_name(int step)
{
    switch (step) {
    case STEP_SETSID:
        return "setsid";
    case STEP_FDS:
        return "setting up its descriptors";
    case STEP_CAPS:
        return "dropping its capabilities and changing its user";
    case STEP_NNP:
        return "PR_SET_NO_NEW_PRIVS";
    default:
        return "exec";
    }
}

__attribute__((noreturn)) static void child_fail(int pipe_fd, int step)
{
    struct child_error ce = { step, errno };

    if (write(pipe_fd, &ce, sizeof(ce)) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(127);
}

/* In the child, between fork and exec: async-signal-safe calls, and
 * libcap-ng (as libvirt does). */
__attribute__((noreturn)) static void child(const struct md_spawn *s, int pipe_fd)
{
    int moved[MD_SPAWN_MAX_FDS], null_fd;
    sigset_t none;

    /* The daemon's signal handling is not the emulator's. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    if (setsid() < 0)
        child_fail(pipe_fd, STEP_SETSID);

    /* Out of the way first, so that no target number clobbers a source
     * (the error pipe included). */
    pipe_fd = fcntl(pipe_fd, F_DUPFD_CLOEXEC, 64);
    for (unsigned i = 0; i < s->nfds; i++) {
        moved[i] = fcntl(s->fds[i], F_DUPFD_CLOEXEC, 64);
        if (pipe_fd < 0 || moved[i] < 0)
            _exit(127);
    }
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(s->stdout_fd, 1) < 0 ||
        dup2(s->stderr_fd, 2) < 0)
        child_fail(pipe_fd, STEP_FDS);
    for (unsigned i = 0; i < s->nfds; i++)
        if (dup2(moved[i], MD_SPAWN_FIRST_FD + (int)i) < 0)
            child_fail(pipe_fd, STEP_FDS);
    /* Nothing else may reach the emulator: everything past its own
     * descriptors closes on exec (the error pipe too, which tells the
     * parent that exec worked). */
    if (syscall(SYS_close_range, MD_SPAWN_FIRST_FD + s->nfds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        long max = sysconf(_SC_OPEN_MAX);

        for (long fd = MD_SPAWN_FIRST_FD + (long)s->nfds; fd < max; fd++)
            if (fd != pipe_fd)
                close((int)fd);
    }
    umask(077);

    capng_clear(CAPNG_SELECT_ALL);
    if (s->change_id) {
        if (capng_change_id((int)s->uid, (int)s->gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
            child_fail(pipe_fd, STEP_CAPS);
    } else if (capng_apply(CAPNG_SELECT_ALL)) {
        child_fail(pipe_fd, STEP_CAPS);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        child_fail(pipe_fd, STEP_CAPS);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(pipe_fd, STEP_NNP);
    execv(s->argv[0], s->argv);
    child_fail(pipe_fd, STEP_EXEC);
}

pid_t md_spawn(const struct md_spawn *s, struct md_err *err)
{
    struct child_error ce;
    int p[2];
    ssize_t n;
    pid_t pid;

    if (s->nfds > MD_SPAWN_MAX_FDS) {
        md_err_set(err, -E2BIG, 0, "at most %d descriptors can be passed", MD_SPAWN_MAX_FDS);
        return -1;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        md_err_set(err, -errno, 0, "cannot start %s: pipe: %s", s->argv[0], strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        md_err_set(err, -errno, 0, "cannot start %s: fork: %s", s->argv[0], strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        child(s, p[1]);
    }
    close(p[1]);
    /* EOF: exec succeeded (the pipe closed on exec); else why not. */
    do
        n = read(p[0], &ce, sizeof(ce));
    while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == (ssize_t)sizeof(ce)) {
        md_err_set(err, -ce.err, 0, "cannot start %s: %s: %s", s->argv[0], step_name(ce.step),
                   strerror(ce.err));
        return -1;
    }
    return pid;
}

int md_spawn_user(const char *name, const char *group, bool *change_id, uid_t *uid, gid_t *gid,
                  struct md_err *err)
{
    const struct passwd *pw;

    if (geteuid() != 0) {
        if (name)
            return md_err_set(err, -EPERM, 0,
                              "--user %s: only a daemon running as root can run emulators as "
                              "another user",
                              name);
        *change_id = false;
        *uid = geteuid();
        *gid = getegid();
        return 0;
    }
    pw = name ? getpwnam(name) : getpwnam("kvmstack");
    if (!pw && !name)
        pw = getpwnam("nobody");
    if (!pw)
        return md_err_set(err, -ENOENT, 0, "user %s: no such user", name ? name : "nobody");
    if (pw->pw_uid == 0)
        return md_err_set(err, -EPERM, 0, "user %s: emulators do not run as root", pw->pw_name);
    *change_id = true;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    if (group) {
        const struct group *gr = getgrnam(group);

        if (!gr)
            return md_err_set(err, -ENOENT, 0, "group %s: no such group", group);
        *gid = gr->gr_gid;
    }
    return 0;
}
