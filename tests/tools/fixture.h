/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tools' tests: a real mgmtd in a temporary root, the programs run as
 * an admin runs them (their output, errors and exit status kept), and a
 * private tmux server to type into a terminal and read it back.
 *
 * A guardian process owns the daemon: when the test ends by any path (an
 * assertion that failed included), it destroys every domain, stops the
 * daemon and tmux, and removes the root, so that no test leaves a process
 * or a file behind.
 */
#ifndef TOOLS_FIXTURE_H
#define TOOLS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "testutil.h"

struct fx {
    char root[64];  /* mgmtd's --root; also HOME and TMPDIR of what runs */
    char sock[128]; /* DIR/run/mgmtd.sock */
    char ro[128];   /* DIR/run/mgmtd-ro.sock */
    char tmux[128]; /* the private tmux server's socket */
    char boot[128]; /* DIR/boot: the guests' kernels, readable by the emulator's user */
    int guard;      /* the guardian's pipe: closing it ends the fixture */
    pid_t guardian;
};

#define FX_OUT_MAX 131072

struct fx_out {
    int status; /* the exit status, or 128 + the signal */
    char out[FX_OUT_MAX], err[16384];
};

void fx_start(struct fx *f);
void fx_stop(struct fx *f);

/* DIR/NAME (in a static buffer of 4 that rotate). */
const char *fx_path(const struct fx *f, const char *name);
/* Writes a file under the root: its path. */
const char *fx_write(const struct fx *f, const char *name, const char *text);
/* A kernel of the test guests, copied to DIR/boot/NAME.elf: its path. */
const char *fx_kernel(const struct fx *f, const char *guest);
/* A minimal domain definition (name, kernel; extra XML inside <devices>),
 * written to DIR/NAME.xml: its path. */
const char *fx_domain_xml(const struct fx *f, const char *name, const char *devices);

/* Runs argv (argv[0] a path) in the root, with VMCTL_CONNECT, HOME and
 * TMPDIR set, `input` on stdin (NULL: /dev/null), and waits (60 s at
 * most). */
void fx_run(const struct fx *f, struct fx_out *r, const char *input, const char *const *argv);
#define FX_VMCTL(f, r, input, ...)                                                                 \
    fx_run((f), (r), (input), (const char *const[]){ VMCTL_PATH, __VA_ARGS__, NULL })
#define FX_INSTALL(f, r, input, ...)                                                               \
    fx_run((f), (r), (input), (const char *const[]){ VM_INSTALL_PATH, __VA_ARGS__, NULL })

/* A method of the API on the read-write socket: the result (fails the
 * test if it failed). */
json_object *fx_call(const struct fx *f, const char *method, const char *params_json);
/* The domain's state ("running", ...) or "" if there is none. */
const char *fx_state(const struct fx *f, const char *domain, char *buf, size_t len);
/* Waits until the domain is in `state` (up to timeout_ms). */
bool fx_wait_state(const struct fx *f, const char *domain, const char *state, int timeout_ms);

/* The pid of a process whose command line starts with `a` (its program)
 * and has `b`, or -1. */
pid_t fx_find_process(const char *a, const char *b);

/* ---- tmux: a terminal to type into ---- */

/* Runs `command` (sh syntax) in a new 120x50 window; after it ends the
 * window shows "EXIT=<status>", `stty -a` of its terminal and STTY-END. */
void fx_tmux_start(struct fx *f, const char *command);
/* Ends the tmux server (and what runs in it). */
void fx_tmux_stop(struct fx *f);
/* tmux send-keys with these key names or strings. */
void fx_tmux_keys(struct fx *f, const char *const *keys);
#define FX_KEYS(f, ...) fx_tmux_keys((f), (const char *const[]){ __VA_ARGS__, NULL })
/* The window's text (history included), joined lines, into screen. */
void fx_tmux_screen(struct fx *f, char *screen, size_t len);
/* Waits until the screen has `needle` (up to timeout_ms): true if it did.
 * The screen is left in `screen`. */
bool fx_tmux_wait(struct fx *f, const char *needle, int timeout_ms, char *screen, size_t len);
/* Waits for the command's end, then asserts the terminal is as a shell
 * wants it: `stty -a` shows icanon, echo, isig, icrnl and opost on. */
void fx_assert_sane_terminal(struct fx *f, char *screen, size_t len);

/* Counts occurrences of needle in s. */
unsigned fx_count(const char *s, const char *needle);

#endif
