/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/mgmtd runs libvirtd under this: a child subreaper that runs a
 * command and then reaps every process that ends below it, until none is
 * left. libvirtd daemonizes and double-forks QEMU, so both end up as
 * orphans; on a normal host systemd reaps them at once, but this
 * machine's PID 1 takes about a second, and `virsh destroy` waits for the
 * process to be gone, zombie included. Without a reaper libvirt's destroy
 * would measure PID 1, not libvirt.
 *
 *   subreaper COMMAND [ARG...]
 *
 * Exits 0 once no descendant is left if COMMAND succeeded, else with
 * COMMAND's status (the other descendants still reaped first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int status, ret = 0;
    pid_t cmd, pid;

    if (argc < 2) {
        fputs("usage: subreaper COMMAND [ARG...]\n", stderr);
        return 2;
    }
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        fprintf(stderr, "subreaper: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
        return 1;
    }
    cmd = fork();
    if (cmd < 0) {
        fprintf(stderr, "subreaper: fork: %s\n", strerror(errno));
        return 1;
    }
    if (cmd == 0) {
        execvp(argv[1], argv + 1);
        fprintf(stderr, "subreaper: %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    /* Ends when the last descendant has ended (ECHILD): whoever started
     * them stops them, and this follows. */
    for (;;) {
        pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        if (pid == cmd)
            ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return ret;
}
