/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --serial file:PATH: output to a file, created or truncated; no input. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "chardev/internal.h"

static int file_open(struct em_chardev *c, const struct em_chardev_config *cfg)
{
    int fd;

    (void)cfg;
    /* O_NONBLOCK only for the open itself: a FIFO without a reader fails
     * (ENXIO) instead of hanging kvmemu's start. */
    fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
    if (fd < 0) {
        int err = errno;

        chardev_error(c, "cannot open for writing: %s", strerror(err));
        return -err;
    }
    if (fcntl(fd, F_SETFL, 0) < 0) {
        int err = errno;

        chardev_error(c, "cannot make the descriptor blocking: %s", strerror(err));
        close(fd);
        return -err;
    }
    c->fd = fd;
    c->out_fd = fd;
    return 0;
}

static void file_close(struct em_chardev *c)
{
    chardev_set_output(c, -1);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

const struct chardev_backend em_chardev_file_backend = {
    .name = "file",
    .open = file_open,
    .close = file_close,
};
