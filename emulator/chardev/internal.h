/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the chardev core (chardev.c) and its backends (stdio.c,
 * file.c, unix.c, pty.c). Not for other users.
 *
 * Every libuv handle is allocated on its own and freed by its close
 * callback, so a chardev can be freed as soon as it has closed them.
 */
#ifndef EM_CHARDEV_INTERNAL_H
#define EM_CHARDEV_INTERNAL_H

#include <pthread.h>
#include <termios.h>

#include "chardev/chardev.h"

/* Input read from the backend in one go, and what escapes can make of it. */
#define CHARDEV_READ_CHUNK 32
#define CHARDEV_PENDING    (2 * CHARDEV_READ_CHUNK)
/* Output a non-blocking backend keeps while its reader is slow. A UART
 * sends one byte per write, and a unix socket charges each write a whole
 * buffer against its send limit, so without this a few hundred bytes of a
 * burst fill a socket that a busy reader has not emptied yet. */
#define CHARDEV_OUT_BUF (64 * 1024)

struct chardev_backend {
    const char *name;
    /* Opens descriptors; on failure reports and leaves nothing open. */
    int (*open)(struct em_chardev *c, const struct em_chardev_config *cfg);
    /* Input can flow: start listening (unix). Optional. */
    void (*attach)(struct em_chardev *c);
    /* The input descriptor reached its end or failed. Optional. */
    void (*input_ended)(struct em_chardev *c);
    /* Undoes open: terminal modes, descriptors, socket files. */
    void (*close)(struct em_chardev *c);
};

struct em_chardev {
    const struct chardev_backend *be;
    uv_loop_t *loop;
    struct kc_logger log;
    FILE *notices;
    char what[32]; /* "serial" */
    char *path;    /* file: and unix:, or the pty's name */

    const struct em_chardev_frontend *fe;
    void *fe_opaque;
    uv_async_t *wake; /* em_chardev_input_ready() from other threads */

    /* Input, on the loop thread; in_poll also watches for room to flush
     * out_buf (the non-blocking backends read and write one descriptor). */
    int in_fd; /* -1: none now */
    uv_poll_t *in_poll;
    int in_events; /* UV_READABLE | UV_WRITABLE, as polled now */
    bool escapes;  /* a terminal: Ctrl-A commands */
    bool quit;     /* Ctrl-A x seen: no more input */
    struct em_escape esc;
    uint8_t pending[CHARDEV_PENDING]; /* read, not yet taken by the frontend */
    size_t pend_head, pend_len;

    /* Output, from any thread; out_lock also guards out_fd against the
     * loop thread replacing it (a unix client coming and going). */
    pthread_mutex_t out_lock;
    int out_fd;        /* -1: output dropped */
    bool out_nonblock; /* drop on EAGAIN rather than wait */
    bool out_socket;   /* send() without SIGPIPE */
    bool out_error_reported;
    uint64_t written, dropped;
    /* What a non-blocking descriptor did not take yet, in order: a ring of
     * CHARDEV_OUT_BUF bytes, flushed by the loop thread when it has room.
     * out_flushing: the loop thread was asked to poll for that room. */
    uint8_t *out_buf;
    size_t out_head, out_len;
    bool out_flushing;

    /* Backend state. */
    int fd;                 /* file, pty master, or the unix listener */
    int pty_slave;          /* kept open so the master never sees a hangup */
    uv_poll_t *listen_poll; /* unix */
    bool inherited;         /* unix fd=N: the socket file is not ours */
    dev_t sock_dev;         /* the socket file we made, to remove only it */
    ino_t sock_ino;
    bool tty_saved; /* stdio: restore saved_tty on close */
    struct termios saved_tty;
    int tty_fd;
};

extern const struct chardev_backend em_chardev_stdio_backend;
extern const struct chardev_backend em_chardev_file_backend;
extern const struct chardev_backend em_chardev_unix_backend;
extern const struct chardev_backend em_chardev_pty_backend;

/* Reports an error on the chardev's logger, prefixed "what[:path]: ". */
void chardev_error(struct em_chardev *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Starts reading fd (which the backend owns) for input; -errno if it
 * cannot be polled. */
int chardev_input_start(struct em_chardev *c, int fd);
/* Stops reading the current input descriptor, and forgets it. */
void chardev_input_stop(struct em_chardev *c);

/* Sets the output descriptor (-1: drop), safely against writers. */
void chardev_set_output(struct em_chardev *c, int fd);

/* A poll handle whose memory the close callback frees. */
uv_poll_t *chardev_poll_new(struct em_chardev *c, int fd, int *err);
void chardev_handle_close(uv_handle_t *h);

#endif
