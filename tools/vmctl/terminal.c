/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's terminal: raw mode, and the settings put back on every
 * way out: a normal return, exit(), and the signals that end a process
 * (SIGINT, SIGTERM, SIGHUP, SIGQUIT; the handler restores the terminal
 * itself, tcsetattr() being async-signal-safe, and wakes the relay
 * through a pipe so that it ends by that signal).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "vmctl.h"

static const int watched[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

static struct termios saved;
static volatile sig_atomic_t raw_on;
static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = { -1, -1 };
static struct sigaction old_actions[NWATCHED];
static bool at_exit_set;

void vc_term_restore(void)
{
    if (raw_on) {
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        raw_on = 0;
    }
}

int vc_term_raw(void)
{
    struct termios raw;

    if (!isatty(STDIN_FILENO))
        return 0;
    if (tcgetattr(STDIN_FILENO, &saved) < 0) {
        vc_error("cannot read the terminal's settings: %s", strerror(errno));
        return -1;
    }
    if (!at_exit_set) {
        atexit(vc_term_restore);
        at_exit_set = true;
    }
    raw = saved;
    cfmakeraw(&raw);
    /* Output processing stays on, so that a guest that ends its lines
     * with a bare "\n" still starts each line at the left. */
    raw.c_oflag |= OPOST | ONLCR;
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0) {
        vc_error("cannot put the terminal in raw mode: %s", strerror(errno));
        return -1;
    }
    raw_on = 1;
    return 0;
}

static void on_signal(int sig)
{
    int e = errno;

    vc_term_restore();
    got_signal = sig;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], "", 1) < 0) {
        /* the pipe is full: a wakeup is pending anyway */
    }
    errno = e;
}

int vc_term_watch_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };

    got_signal = 0;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        vc_error("pipe: %s", strerror(errno));
        return -1;
    }
    sigemptyset(&sa.sa_mask);
    for (unsigned i = 0; i < NWATCHED; i++)
        sigaction(watched[i], &sa, &old_actions[i]);
    return sig_pipe[0];
}

int vc_term_signal(void)
{
    return got_signal;
}

void vc_term_unwatch_signals(void)
{
    for (unsigned i = 0; i < NWATCHED; i++)
        sigaction(watched[i], &old_actions[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
        sig_pipe[i] = -1;
    }
}
