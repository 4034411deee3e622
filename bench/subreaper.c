/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/mgmtd runs each daemon under this: a child subreaper in a session
 * of its own that runs a command, reaps every process that ends below it,
 * and ends once none is left.
 *
 *   subreaper [-p PIDFILE] COMMAND [ARG...]
 *
 * - libvirtd daemonizes and double-forks QEMU, so both end up orphans; on
 *   a normal host systemd reaps them at once, but this machine's PID 1
 *   takes about a second, and `virsh destroy` waits for the process to be
 *   gone, zombie included. Without a reaper libvirt's destroy would
 *   measure PID 1, not libvirt. mgmtd reaps its own emulators; those it
 *   leaves when it ends come here.
 * - Nothing below it outlives the benchmark: on SIGTERM, SIGINT or SIGHUP,
 *   and when its parent (the benchmark's shell) dies however it died, it
 *   sends SIGTERM to every process it is the parent of (orphans included,
 *   as they arrive) every 200 ms, and SIGKILL after 10 s. Its own session
 *   keeps it out of the process-group signals that end the shell (a test
 *   runner's timeout), so that it is there to do this.
 *
 * -p writes COMMAND's pid to PIDFILE. Exits with COMMAND's status once no
 * descendant is left (0 if COMMAND was still running when told to stop).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TERM_EVERY_MS 200
#define KILL_AFTER_MS 10000

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sends sig to every process whose parent is this one. */
static void signal_children(int sig)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t self = getpid();

    while (proc && (e = readdir(proc)) != NULL) {
        char path[300], buf[512], *p;
        FILE *f;
        int ppid = 0;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        f = fopen(path, "re");
        if (!f)
            continue;
        /* "pid (comm) state ppid ...": comm may hold anything but ')'
         * ends it for good. */
        if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL)
            sscanf(p + 1, " %*c %d", &ppid);
        fclose(f);
        if (ppid == self)
            kill((pid_t)atoi(e->d_name), sig);
    }
    if (proc)
        closedir(proc);
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_stop };
    const char *pidfile = NULL;
    int status, ret = 0, first = 1;
    double stopping_since = 0, last_term = 0;
    pid_t parent = getppid(), cmd, pid;

    if (argc > 3 && !strcmp(argv[1], "-p")) {
        pidfile = argv[2];
        first = 3;
    }
    if (first >= argc) {
        fputs("usage: subreaper [-p PIDFILE] COMMAND [ARG...]\n", stderr);
        return 2;
    }
    /* No SA_RESTART: a signal ends the wait below. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
        fprintf(stderr, "subreaper: prctl: %s\n", strerror(errno));
        return 1;
    }
    if (getppid() != parent)
        stop_requested = 1; /* the parent died before PDEATHSIG was set */
    setsid();
    cmd = fork();
    if (cmd < 0) {
        fprintf(stderr, "subreaper: fork: %s\n", strerror(errno));
        return 1;
    }
    if (cmd == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execvp(argv[first], argv + first);
        fprintf(stderr, "subreaper: %s: %s\n", argv[first], strerror(errno));
        _exit(127);
    }
    if (pidfile) {
        FILE *f = fopen(pidfile, "w");

        if (!f || fprintf(f, "%d\n", (int)cmd) < 0 || fclose(f) != 0) {
            fprintf(stderr, "subreaper: %s: %s\n", pidfile, strerror(errno));
            stop_requested = 1;
        }
    }
    for (;;) {
        if (stop_requested && !stopping_since)
            stopping_since = now_ms();
        if (stopping_since) {
            double t = now_ms();

            if (t - stopping_since >= KILL_AFTER_MS) {
                signal_children(SIGKILL);
            } else if (t - last_term >= TERM_EVERY_MS) {
                signal_children(SIGTERM);
                last_term = t;
            }
        }
        pid = waitpid(-1, &status, stopping_since ? WNOHANG : 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break; /* ECHILD: nothing is left */
        if (pid == 0) {
            struct timespec tick = { 0, 20 * 1000000 };

            nanosleep(&tick, NULL);
            continue;
        }
        if (pid == cmd)
            ret = WIFEXITED(status) ? WEXITSTATUS(status)
                  : stopping_since  ? 0
                                    : 128 + WTERMSIG(status);
    }
    return ret;
}
