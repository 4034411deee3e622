/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvmemu_proc.h"

double emu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

const char *emu_guest(const char *name)
{
    static char path[4][512];
    static unsigned next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof(path[0]), "%s/%s.bin", GUEST_DIR, name);
    return p;
}

static void child(const struct emu_opts *opts, const char *const *args, int in, int out, int err)
{
    const char *argv[EMU_MAX_ARGS + 2];
    unsigned n = 0;

    argv[n++] = KVMEMU_PATH;
    while (args[n - 1] && n <= EMU_MAX_ARGS)
        argv[n] = args[n - 1], n++;
    argv[n] = NULL;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    /* Only root has the power to give up (and needs to). */
    if (opts->drop_dac && geteuid() == 0 &&
        (prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0) < 0 ||
         prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0) < 0))
        _exit(125);
    execv(KVMEMU_PATH, (char *const *)argv);
    _exit(127);
}

static void start_tty(struct emu *e, const struct emu_opts *opts, const char *const *args)
{
    int master, slave;

    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    fcntl(master, F_SETFD, FD_CLOEXEC);
    e->pid = fork();
    ck_assert_int_ge(e->pid, 0);
    if (e->pid == 0) {
        close(master);
        /* Its own session, with the pty as controlling terminal, as a
         * shell would run it. */
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        child(opts, args, slave, slave, slave);
    }
    e->tty_slave = slave;
    e->tty = master;
    e->out.fd = dup(master);
    ck_assert_int_ge(e->out.fd, 0);
}

void emu_start(struct emu *e, const struct emu_opts *opts, const char *const *args)
{
    static const struct emu_opts defaults = { EMU_STDIN_NULL, false };
    int out[2], err[2], in[2] = { -1, -1 };

    if (!opts)
        opts = &defaults;
    memset(e, 0, sizeof(*e));
    e->in = e->tty = e->tty_slave = e->out.fd = e->err.fd = -1;
    e->status = -1;
    e->started_ms = emu_now_ms();
    if (opts->in == EMU_STDIN_TTY) {
        start_tty(e, opts, args);
        return;
    }
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    if (opts->in == EMU_STDIN_PIPE)
        ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    else
        in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(in[0], 0);
    e->pid = fork();
    ck_assert_int_ge(e->pid, 0);
    if (e->pid == 0)
        child(opts, args, in[0], out[1], err[1]);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    e->in = in[1];
    e->out.fd = out[0];
    e->err.fd = err[0];
}

static void take(struct emu_stream *s)
{
    char buf[8192];
    ssize_t n = read(s->fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* EOF, or EIO from a pty whose other side is gone */
        close(s->fd);
        s->fd = -1;
        return;
    }
    s->total += (size_t)n;
    if (s->len + 1 < sizeof(s->buf)) {
        size_t k =
            (size_t)n < sizeof(s->buf) - 1 - s->len ? (size_t)n : sizeof(s->buf) - 1 - s->len;

        memcpy(s->buf + s->len, buf, k);
        s->len += k;
        s->buf[s->len] = '\0';
    }
}

static void reap(struct emu *e)
{
    int st;

    if (e->status >= 0 || waitpid(e->pid, &st, WNOHANG) != e->pid)
        return;
    e->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void emu_pump(struct emu *e, int ms)
{
    double deadline = emu_now_ms() + ms;

    do {
        struct pollfd p[2] = { { e->out.fd, POLLIN, 0 }, { e->err.fd, POLLIN, 0 } };
        double left = deadline - emu_now_ms();

        if (e->out.fd < 0 && e->err.fd < 0) {
            reap(e);
            if (e->status >= 0)
                return;
            usleep(1000);
            continue;
        }
        if (poll(p, 2, left > 10 ? 10 : left > 0 ? (int)left : 0) > 0) {
            if (p[0].revents)
                take(&e->out);
            if (p[1].revents)
                take(&e->err);
        }
        reap(e);
    } while (emu_now_ms() < deadline);
}

static bool wait_in(struct emu *e, const struct emu_stream *s, const char *needle, int ms)
{
    double deadline = emu_now_ms() + ms;

    while (!strstr(s->buf, needle)) {
        if (emu_now_ms() >= deadline)
            return false;
        if (e->status >= 0 && e->out.fd < 0 && e->err.fd < 0)
            return false;
        emu_pump(e, 5);
    }
    return true;
}

bool emu_wait_out(struct emu *e, const char *needle, int timeout_ms)
{
    return wait_in(e, &e->out, needle, timeout_ms);
}

bool emu_wait_err(struct emu *e, const char *needle, int timeout_ms)
{
    return wait_in(e, e->tty >= 0 ? &e->out : &e->err, needle, timeout_ms);
}

int emu_wait(struct emu *e, int timeout_ms)
{
    double deadline = emu_now_ms() + timeout_ms;

    while (e->status < 0 && emu_now_ms() < deadline)
        emu_pump(e, 20);
    if (e->status < 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->status = 128 + SIGKILL;
        ck_abort_msg("kvmemu still ran after %d ms; stdout: %.300s; stderr: %.300s", timeout_ms,
                     e->out.buf, e->err.buf);
    }
    /* What it wrote just before exiting (a pty kept open by the test
     * never reports an end: stop when nothing more comes). */
    for (;;) {
        size_t before = e->out.total + e->err.total;

        if (e->out.fd < 0 && e->err.fd < 0)
            break;
        emu_pump(e, 50);
        if (e->out.total + e->err.total == before && e->tty >= 0)
            break;
    }
    return e->status;
}

void emu_cleanup(struct emu *e)
{
    if (e->pid > 0 && e->status < 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
        e->status = 128 + SIGKILL;
    }
    if (e->in >= 0)
        close(e->in);
    if (e->out.fd >= 0)
        close(e->out.fd);
    if (e->err.fd >= 0)
        close(e->err.fd);
    if (e->tty >= 0)
        close(e->tty);
    if (e->tty_slave >= 0)
        close(e->tty_slave);
    e->in = e->out.fd = e->err.fd = e->tty = e->tty_slave = -1;
}
