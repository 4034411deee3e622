/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --serial unix:PATH: kvmemu listens on a unix socket and serves one
 * client at a time (others wait in the backlog until it leaves). Output
 * goes to the client without blocking: kept for it while it reads slowly
 * (up to the core's limit), dropped while there is none; input comes from
 * the client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/internal.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
}

/* Whether some process accepts connections on the socket at path. */
static bool socket_in_use(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool used;

    if (fd < 0)
        return false;
    /* EAGAIN: a listener whose backlog is full, still a listener. */
    used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN;
    close(fd);
    return used;
}

/* A socket file left by an earlier run is replaced; anything else is not. */
static int clear_stale(struct em_chardev *c, const struct sockaddr_un *sa)
{
    struct stat st;

    int err;

    if (lstat(c->path, &st) < 0) {
        err = errno;
        if (err == ENOENT)
            return 0;
        chardev_error(c, "cannot check the path: %s", strerror(err));
        return -err;
    }
    if (!S_ISSOCK(st.st_mode)) {
        chardev_error(c, "exists and is not a socket; not replacing it");
        return -EEXIST;
    }
    if (socket_in_use(sa)) {
        chardev_error(c, "another process is listening on this socket");
        return -EADDRINUSE;
    }
    if (unlink(c->path) < 0) {
        err = errno;
        chardev_error(c, "cannot remove the stale socket: %s", strerror(err));
        return -err;
    }
    return 0;
}

/* fd=N: a listening socket someone else made; named by its path. */
static int adopt_listener(struct em_chardev *c, int fd)
{
    struct sockaddr_un sa = { 0 };
    socklen_t len = sizeof(sa);
    int accepting = 0, err;

    c->inherited = true;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &(socklen_t){ sizeof(int) }) < 0 ||
        !accepting || getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
        sa.sun_family != AF_UNIX) {
        kc_log(&c->log, KC_LOG_ERROR, "%s fd=%d: not a listening unix socket", c->what, fd);
        return -ENOTSOCK;
    }
    c->path = len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0]
                  ? strndup(sa.sun_path, sizeof(sa.sun_path))
                  : strdup("(unnamed)");
    if (!c->path)
        return -ENOMEM;
    c->fd = fd;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        chardev_error(c, "%s", strerror(errno));
        c->fd = -1;
        return -errno;
    }
    c->listen_poll = chardev_poll_new(c, c->fd, &err);
    if (!c->listen_poll) {
        chardev_error(c, "cannot watch the socket: %s", uv_strerror(err));
        c->fd = -1;
        return err;
    }
    c->out_socket = true;
    c->out_nonblock = true;
    return 0;
}

static int unix_open(struct em_chardev *c, const struct em_chardev_config *cfg)
{
    struct sockaddr_un sa;
    struct stat st;
    int err;

    if (!cfg->spec->path)
        return adopt_listener(c, cfg->spec->fd);
    if (fill_addr(&sa, c->path) < 0) {
        chardev_error(c, "the path is longer than %zu bytes", sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    err = clear_stale(c, &sa);
    if (err < 0)
        return err;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        err = -errno;
        chardev_error(c, "cannot create a socket: %s", strerror(errno));
        return err;
    }
    if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(c->fd, 1) < 0 ||
        stat(c->path, &st) < 0) {
        err = -errno;
        chardev_error(c, "cannot listen: %s", strerror(errno));
        goto fail;
    }
    c->sock_dev = st.st_dev;
    c->sock_ino = st.st_ino;
    c->listen_poll = chardev_poll_new(c, c->fd, &err);
    if (!c->listen_poll) {
        chardev_error(c, "cannot watch the socket: %s", uv_strerror(err));
        unlink(c->path);
        goto fail;
    }
    c->out_socket = true;
    c->out_nonblock = true;
    return 0;

fail:
    close(c->fd);
    c->fd = -1;
    return err;
}

static void on_connection(uv_poll_t *h, int status, int events);

static void listen_for_client(struct em_chardev *c)
{
    uv_poll_start(c->listen_poll, UV_READABLE, on_connection);
}

static void on_connection(uv_poll_t *h, int status, int events)
{
    struct em_chardev *c = h->data;
    int fd, ret;

    (void)events;
    if (status < 0)
        return;
    fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        /* EAGAIN or a client that already gave up: wait for the next. */
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED && errno != EINTR)
            kc_log(&c->log, KC_LOG_WARN, "%s unix:%s: cannot accept a client: %s", c->what, c->path,
                   strerror(errno));
        return;
    }
    ret = chardev_input_start(c, fd);
    if (ret < 0) {
        kc_log(&c->log, KC_LOG_WARN, "%s unix:%s: cannot watch the client: %s", c->what, c->path,
               uv_strerror(ret));
        close(fd);
        return;
    }
    /* One client at a time: the next waits until this one leaves. */
    uv_poll_stop(c->listen_poll);
    chardev_set_output(c, fd);
}

static void unix_attach(struct em_chardev *c)
{
    listen_for_client(c);
}

/* The client left (or failed): drop it, and take the next. */
static void unix_input_ended(struct em_chardev *c)
{
    int fd = c->out_fd; /* only this thread changes it */

    chardev_set_output(c, -1);
    if (fd >= 0)
        close(fd);
    listen_for_client(c);
}

static void unix_close(struct em_chardev *c)
{
    struct stat st;
    int fd = c->out_fd;

    chardev_set_output(c, -1);
    if (fd >= 0)
        close(fd);
    if (c->listen_poll)
        uv_close((uv_handle_t *)c->listen_poll, chardev_handle_close);
    c->listen_poll = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    /* Remove the socket file, unless someone replaced it meanwhile. */
    if (!c->inherited && lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev &&
        st.st_ino == c->sock_ino)
        unlink(c->path);
}

const struct chardev_backend em_chardev_unix_backend = {
    .name = "unix",
    .open = unix_open,
    .attach = unix_attach,
    .input_ended = unix_input_ended,
    .close = unix_close,
};
