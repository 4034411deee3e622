/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --serial pty: a new pseudo-terminal in raw mode, its name printed once.
 * Output never blocks a vCPU: the master is non-blocking and what does not
 * fit while nobody reads is dropped. kvmemu keeps the slave side open
 * itself, so that the master does not report a hangup (and spin the loop)
 * between one user of the terminal and the next.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chardev/internal.h"

static int pty_fail(struct em_chardev *c, const char *step)
{
    int err = errno;

    chardev_error(c, "%s: %s", step, strerror(err));
    if (c->pty_slave >= 0)
        close(c->pty_slave);
    if (c->fd >= 0)
        close(c->fd);
    c->pty_slave = c->fd = -1;
    return -err;
}

static int pty_open(struct em_chardev *c, const struct em_chardev_config *cfg)
{
    char name[64];
    struct termios t;
    int ret;

    (void)cfg;
    c->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->fd < 0)
        return pty_fail(c, "cannot open a pseudo-terminal");
    if (grantpt(c->fd) < 0 || unlockpt(c->fd) < 0)
        return pty_fail(c, "cannot unlock the pseudo-terminal");
    ret = ptsname_r(c->fd, name, sizeof(name));
    if (ret != 0) {
        errno = ret;
        return pty_fail(c, "cannot name the pseudo-terminal");
    }
    c->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (c->pty_slave < 0)
        return pty_fail(c, name);
    /* Raw: bytes pass unchanged both ways, and nothing is echoed back. */
    if (tcgetattr(c->pty_slave, &t) < 0)
        return pty_fail(c, "cannot read the terminal's mode");
    cfmakeraw(&t);
    if (tcsetattr(c->pty_slave, TCSANOW, &t) < 0)
        return pty_fail(c, "cannot put the terminal in raw mode");
    if (fcntl(c->fd, F_SETFL, O_RDWR | O_NONBLOCK) < 0)
        return pty_fail(c, "cannot make the terminal non-blocking");
    free(c->path);
    c->path = strdup(name);
    if (!c->path) {
        errno = ENOMEM;
        return pty_fail(c, "cannot keep the terminal's name");
    }
    ret = chardev_input_start(c, c->fd);
    if (ret < 0) {
        errno = -ret;
        return pty_fail(c, "cannot watch the terminal");
    }
    c->out_fd = c->fd;
    c->out_nonblock = true;
    if (c->notices) {
        fprintf(c->notices, "kvmemu: %s: redirected to %s\n", c->what, name);
        fflush(c->notices);
    }
    return 0;
}

static void pty_close(struct em_chardev *c)
{
    chardev_set_output(c, -1);
    if (c->pty_slave >= 0)
        close(c->pty_slave);
    if (c->fd >= 0)
        close(c->fd);
    c->pty_slave = c->fd = -1;
}

const struct chardev_backend em_chardev_pty_backend = {
    .name = "pty",
    .open = pty_open,
    .close = pty_close,
};
