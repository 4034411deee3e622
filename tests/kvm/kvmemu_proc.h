/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The real kvmemu binary as a child process of a test: arguments, its
 * standard streams (pipes, /dev/null, or a pseudo-terminal), what it
 * printed, and its exit, never waited for without a deadline.
 */
#ifndef KVMEMU_PROC_H
#define KVMEMU_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "testutil.h"

#define EMU_MAX_ARGS   32
#define EMU_KEEP_BYTES 65536

/* kvmemu's status when a serial test guest ends well (debug-exit 0x2a). */
#define EMU_GUEST_OK ((0x2a << 1) | 1)

enum emu_stdin {
    EMU_STDIN_NULL, /* /dev/null */
    EMU_STDIN_PIPE, /* e->in is its write end */
    EMU_STDIN_TTY,  /* stdin, stdout and stderr are a new pty; e->tty is the master */
};

struct emu_stream {
    int fd;                   /* read end, -1 when closed */
    char buf[EMU_KEEP_BYTES]; /* the first bytes, NUL-terminated */
    size_t len;               /* kept */
    size_t total;             /* received */
};

struct emu {
    pid_t pid;
    int in;                     /* EMU_STDIN_PIPE */
    int tty;                    /* EMU_STDIN_TTY: the master side, to type into */
    int tty_slave;              /* and the terminal itself, kept open to check its mode */
    struct emu_stream out, err; /* with a tty, both arrive in out */
    int status;                 /* exit status, 128 + signal, or -1 while running */
    double started_ms;
};

struct emu_opts {
    enum emu_stdin in;
    /* Drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the child's
     * bounding set: root then obeys file permissions. */
    bool drop_dac;
};

double emu_now_ms(void);

/* Starts kvmemu with the given arguments (NULL-terminated, without
 * argv[0]). GUEST(name) gives a guest image's path. */
void emu_start(struct emu *e, const struct emu_opts *opts, const char *const *args);
const char *emu_guest(const char *name);

/* Collects output for up to ms milliseconds (or until it exits). */
void emu_pump(struct emu *e, int ms);
/* Collects until `needle` appears in stdout (or stderr), true if it did
 * within timeout_ms. */
bool emu_wait_out(struct emu *e, const char *needle, int timeout_ms);
bool emu_wait_err(struct emu *e, const char *needle, int timeout_ms);
/* Waits for the exit; after timeout_ms the child is killed and the test
 * fails, showing what it printed. Returns the exit status. */
int emu_wait(struct emu *e, int timeout_ms);
/* Kills it if it still runs and closes every descriptor. */
void emu_cleanup(struct emu *e);

#endif
