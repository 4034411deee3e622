/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "teardown.h"

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor that is not in the sorted list keep[0..n). */
static void close_all_but(const int *keep, unsigned n)
{
    unsigned first = 0;

    for (unsigned i = 0; i < n; i++) {
        if ((unsigned)keep[i] > first)
            close_range(first, (unsigned)keep[i] - 1, 0);
        first = (unsigned)keep[i] + 1;
    }
    close_range(first, ~0u, 0);
}

_Noreturn static void teardown_child(pid_t parent, int *keep, unsigned n)
{
    sigset_t all;

    /* Die with kvmemu; if it already died, there is nothing to wait for. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(0);
    prctl(PR_SET_NAME, "kvmemu-teardown");
    qsort(keep, n, sizeof(*keep), cmp_int);
    close_all_but(keep, n);
    /* Terminal signals are kvmemu's business, not ours. */
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (;;)
        pause();
}

pid_t em_teardown_spawn(const int *keep, unsigned n, const struct kc_logger *log)
{
    int sorted[16];
    pid_t parent = getpid(), pid;

    if (n > sizeof(sorted) / sizeof(sorted[0])) {
        kc_log(log, KC_LOG_WARN, "asynchronous teardown: too many descriptors (%u)", n);
        return -E2BIG;
    }
    memcpy(sorted, keep, n * sizeof(*keep));
    pid = fork();
    if (pid < 0) {
        int err = errno;

        kc_log(log, KC_LOG_WARN, "asynchronous teardown: fork: %s; tearing down in-process",
               strerror(err));
        return -err;
    }
    if (pid == 0)
        teardown_child(parent, sorted, n);
    return pid;
}
