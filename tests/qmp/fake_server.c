/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp-fake-server PATH: the real monitor on a unix socket at PATH over
 * the fake machine, for clients other than the C tests (the Python
 * client). Prints "ready" once the socket listens; ends after "quit" or
 * on SIGTERM/SIGINT, removing the socket.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_machine.h"

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool done;

static void finish(void)
{
    pthread_mutex_lock(&done_lock);
    done = true;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
}

static void on_quit(struct fake_machine *f)
{
    (void)f;
    finish();
}

static void log_stderr(void *opaque, enum kc_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    fprintf(stderr, "qmp-fake-server: %s\n", msg);
}

static void *wait_signal(void *arg)
{
    sigset_t *set = arg;
    int sig;

    sigwait(set, &sig);
    finish();
    return NULL;
}

int main(int argc, char **argv)
{
    struct kc_logger log = { log_stderr, NULL, KC_LOG_WARN };
    struct fake_machine f;
    sigset_t set;
    pthread_t sigthread;

    if (argc != 2) {
        fprintf(stderr, "usage: qmp-fake-server SOCKET-PATH\n");
        return 2;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    fake_machine_init(&f);
    f.on_quit = on_quit;
    f.mon = em_monitor_create(&f.m, &log);
    if (!f.mon || em_monitor_listen_unix(f.mon, argv[1]) < 0 || em_monitor_start(f.mon) < 0)
        return 1;
    pthread_create(&sigthread, NULL, wait_signal, &set);
    pthread_detach(sigthread);
    printf("ready\n");
    fflush(stdout);
    pthread_mutex_lock(&done_lock);
    while (!done)
        pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);
    em_monitor_destroy(f.mon);
    fake_machine_fini(&f);
    return 0;
}
