/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Character-device backends: where a serial port's bytes go and come from
 * (--serial stdio | file:PATH | unix:PATH | pty | none).
 *
 * Threads: em_chardev_write() runs on whichever thread produces output (a
 * vCPU) and never blocks on a socket or a pty: what the descriptor cannot
 * take now is kept (up to 64 KiB, in order) and sent by the loop thread
 * when it has room; only what overflows that, or what comes while no
 * client is connected, is dropped and counted. Terminals and files may block, like a real
 * console. Input is read on the thread that runs the libuv loop, and
 * handed to the frontend, which takes what it has room for; the rest is
 * kept and reading stops until the frontend calls em_chardev_input_ready(),
 * so no input is lost.
 *
 * stdio in a terminal works like QEMU's console: raw mode (restored by
 * em_chardev_close()), Ctrl-A x quits, Ctrl-A Ctrl-A sends a Ctrl-A,
 * Ctrl-A h prints help.
 */
#ifndef EM_CHARDEV_H
#define EM_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include <kvmcore/kvmcore.h>

#include "options.h"

/* What a chardev calls on its user (a UART), on the loop thread. */
struct em_chardev_frontend {
    /* Takes up to n input bytes; returns how many it took. Taking fewer
     * promises a later em_chardev_input_ready(). */
    size_t (*receive)(void *opaque, const uint8_t *buf, size_t n);
    /* The user asked to quit (Ctrl-A x on a terminal). */
    void (*quit)(void *opaque);
};

struct em_chardev_config {
    const struct em_chardev_spec *spec;
    uv_loop_t *loop;
    const struct kc_logger *log; /* errors; copied (NULL: stderr) */
    FILE *notices;               /* "redirected to", escape help; NULL: none */
    const char *what;            /* the option, for messages: "serial" */
    /* stdio only, for tests: other descriptors than 0 and 1 (-1: default) */
    int stdin_fd, stdout_fd;
};

struct em_chardev;

/* Sets every field to its default (stdio on descriptors 0 and 1). */
void em_chardev_config_init(struct em_chardev_config *cfg);

/* Opens the backend: files created, sockets listening, terminals in raw
 * mode. NULL after reporting, naming the option and the path. */
struct em_chardev *em_chardev_open(const struct em_chardev_config *cfg);
/* Starts delivering input to the frontend. Loop thread. */
void em_chardev_attach(struct em_chardev *c, const struct em_chardev_frontend *fe, void *opaque);
/* Any thread. NULL is a no-op. */
void em_chardev_write(struct em_chardev *c, const uint8_t *buf, size_t n);
/* Any thread: the frontend has room for input again. */
void em_chardev_input_ready(struct em_chardev *c);
/*
 * Loop thread, with no other thread still calling in: the terminal
 * restored, descriptors closed, the socket file removed. The loop frees
 * the libuv handles on its next run. NULL is a no-op.
 */
void em_chardev_close(struct em_chardev *c);

/* Statistics: bytes written out, bytes kept for a slow reader now, bytes
 * dropped (no client, a reader that fell 64 KiB behind). */
uint64_t em_chardev_written(struct em_chardev *c);
uint64_t em_chardev_buffered(struct em_chardev *c);
uint64_t em_chardev_dropped(struct em_chardev *c);
/* The pty's path, "" for other backends. */
const char *em_chardev_pty_path(const struct em_chardev *c);
/* The backend as QEMU's query-chardev names it ("stdio", "pty:/dev/pts/3",
 * "unix:PATH,server=on", ...); false while a socket has no client. */
bool em_chardev_filename(struct em_chardev *c, char *buf, size_t len);
/* True while a unix-socket client is connected. */
bool em_chardev_connected(struct em_chardev *c);

/* ---- the Ctrl-A escape filter of a terminal, on its own for tests ---- */

#define EM_ESCAPE_CHAR 0x01 /* Ctrl-A */

enum em_escape_action {
    EM_ESCAPE_NONE,
    EM_ESCAPE_QUIT, /* Ctrl-A x */
    EM_ESCAPE_HELP, /* Ctrl-A h */
};

struct em_escape {
    bool armed; /* the previous byte was a lone Ctrl-A */
};

/* Feeds one typed byte: writes 0 to 2 bytes for the guest into out and
 * returns how many; *action says what else to do. */
unsigned em_escape_feed(struct em_escape *e, uint8_t in, uint8_t out[2],
                        enum em_escape_action *action);

/* The text Ctrl-A h prints. */
extern const char em_escape_help[];

#endif
