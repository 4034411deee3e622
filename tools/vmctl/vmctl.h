/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmctl: the admin's command line over mgmtd's socket API, as virsh is
 * over libvirt. Commands are entries of dispatch tables (one table per
 * command group, one file each); an entry names its options and whether
 * it changes anything, which chooses the socket: commands that change
 * nothing go to the read-only socket.
 *
 * Every error is printed once, where it is found, as "error: ..." on
 * stderr; commands return 0 or 1, vmctl's exit status.
 */
#ifndef VC_VMCTL_H
#define VC_VMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "client/client.h"

#ifndef KVMSTACK_VERSION
#define KVMSTACK_VERSION "0"
#endif

#define VC_SOCK_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* ---- the session ---- */

struct vc_ctx {
    char rw_path[VC_SOCK_MAX]; /* -c SOCKET, $VMCTL_CONNECT, or the system socket */
    char ro_path[VC_SOCK_MAX]; /* its read-only sibling, "" if none is known */
    bool readonly;             /* -r: every command on the read-only socket */
    bool quiet;                /* -q: no informational lines */
    bool json;                 /* --json before the command */
    bool shell;                /* the interactive shell runs the commands */
    unsigned char escape;      /* the console's escape byte (Ctrl-] = 0x1d) */
    struct md_client *rw, *ro; /* connected on first use */
};

/* Fills in the socket paths: `path` (NULL: the system socket) and the
 * read-only sibling found by name ("X.sock" -> "X-ro.sock"). -1 with the
 * error printed if the path cannot be a socket. */
int vc_ctx_set_socket(struct vc_ctx *ctx, const char *path);
void vc_ctx_close(struct vc_ctx *ctx);

/* The connection for a command that changes something (`change`) or not:
 * NULL with the error printed. */
struct md_client *vc_conn(struct vc_ctx *ctx, bool change);
/* A new read-write connection of its own (a console takes one over). */
struct md_client *vc_conn_new(struct vc_ctx *ctx);
/* The path a command of this kind uses. */
const char *vc_conn_path(const struct vc_ctx *ctx, bool change);

/* Calls `method` (params taken) on the connection for `change`. The result,
 * or NULL: the daemon's message is then printed after `what` (a line
 * "error: <what>" first, as virsh prints "Failed to start domain 'x'",
 * unless `what` is NULL). */
json_object *vc_call(struct vc_ctx *ctx, bool change, const char *method, json_object *params,
                     const char *what);

/* A domain by name, id or UUID: its summary (name, uuid, id, state, ...),
 * or NULL with "error: failed to get domain 'X'" printed. */
json_object *vc_domain(struct vc_ctx *ctx, bool change, const char *what);
/* `method` with {"domain": what} added to params (taken; NULL for none):
 * the result, or NULL with "failed to get domain 'X'" or `fail` and the
 * daemon's message printed. */
json_object *vc_domain_call(struct vc_ctx *ctx, bool change, const char *method, const char *what,
                            json_object *params, const char *fail);

/* ---- commands and their options ---- */

enum vc_opt_kind {
    VC_OPT_BOOL,
    VC_OPT_STRING,
    VC_OPT_NUMBER, /* a whole number >= 0 */
};

#define VC_OPT_POSITIONAL 0x01u /* may be given without its --name, in order */
#define VC_OPT_REQUIRED   0x02u
#define VC_OPT_DOMAIN     0x04u /* completion: every domain */
#define VC_OPT_ACTIVE     0x08u /* completion: domains that are not shut off */
#define VC_OPT_INACTIVE   0x10u /* completion: domains that are shut off */
#define VC_OPT_FILE       0x20u /* completion: file names */
#define VC_OPT_GROUP      0x40u /* completion: command names and groups */

struct vc_opt {
    const char *name; /* without "--" */
    enum vc_opt_kind kind;
    unsigned flags;
    const char *help;
};

#define VC_MAX_OPTS 16

struct vc_cmd;

struct vc_args {
    const struct vc_cmd *cmd;
    bool set[VC_MAX_OPTS];
    const char *str[VC_MAX_OPTS];
    long num[VC_MAX_OPTS];
    bool json; /* --json on the command, or before it */
    int argc;  /* the words themselves (VC_CMD_WORDS) */
    char **argv;
};

#define VC_CMD_QUERY  0x01u /* changes nothing: the read-only socket; takes --json */
#define VC_CMD_LOCAL  0x02u /* needs no daemon */
#define VC_CMD_HIDDEN 0x04u /* not in help's list (complete) */
#define VC_CMD_SHELL  0x08u /* only in the interactive shell (quit, exit) */
#define VC_CMD_RAW    0x10u /* its output is all: no blank line after it */
#define VC_CMD_WORDS  0x20u /* takes its words as they are (complete) */

struct vc_cmd {
    const char *name;
    unsigned flags;
    const char *summary;       /* one line, for help's list */
    const char *description;   /* help COMMAND's DESCRIPTION */
    const struct vc_opt *opts; /* ends with a NULL name */
    int (*run)(struct vc_ctx *ctx, const struct vc_args *a);
};

struct vc_group {
    const char *keyword; /* help KEYWORD */
    const char *title;
    const struct vc_cmd *cmds; /* ends with a NULL name */
};

/* Every group, in help's order; ends with a NULL keyword. */
extern const struct vc_group vc_groups[];
/* One table per file; several tables may share a help keyword. */
extern const struct vc_cmd vc_cmds_lifecycle[], vc_cmds_xml[], vc_cmds_console[], vc_cmds_events[],
    vc_cmds_ids[], vc_cmds_list[], vc_cmds_info[], vc_cmds_devices[], vc_cmds_host[],
    vc_cmds_vmctl[];

const struct vc_cmd *vc_cmd_find(const char *name);
const struct vc_group *vc_group_find(const char *keyword);

/* Parses a command's words (argv[0] is the command): 0, or -1 with
 * virsh's message printed ("command 'x' doesn't support option --y"). */
int vc_args_parse(const struct vc_cmd *cmd, int argc, char **argv, struct vc_args *a);
bool vc_flag(const struct vc_args *a, const char *name);
const char *vc_str(const struct vc_args *a, const char *name);
long vc_num(const struct vc_args *a, const char *name, long dflt);

/* Runs one command line (argv[0] the command): its exit status. */
int vc_run(struct vc_ctx *ctx, int argc, char **argv);

/* Splits a shell line into the words of its first command (quotes and
 * backslashes as sh has them; ';' ends a command). *rest: where the next
 * command starts, or NULL. -1 on an unterminated quote. The words are
 * malloc'd (vc_words_free()). */
int vc_split(const char *line, char ***words, int *n, const char **rest);
void vc_words_free(char **words, int n);

/* Candidates for the last word of `words` (possibly ""): command names,
 * options, domain names. A NULL-terminated malloc'd list (NULL if none). */
char **vc_complete(struct vc_ctx *ctx, int n, char **words);

/* Applies the global options at the start of words[0..n) (-c, -r, -q,
 * -e, --json) to ctx: the number of words they took, or -1 with the
 * error printed. For the shell's and bash's completion. */
int vc_global_words(struct vc_ctx *ctx, int n, char **words);
/* Parses the escape byte: "^]" or one character. -1 if neither. */
int vc_parse_escape(const char *s);
/* help's list of commands. */
void vc_help_list(const struct vc_ctx *ctx, const char *keyword);

/* The interactive shell: its exit status. */
int vc_shell(struct vc_ctx *ctx);

/* ---- output ---- */

void vc_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints informational lines unless -q. */
void vc_info(const struct vc_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vc_print_json(json_object *o);

/* virsh's tables: a header, a line of dashes, left-aligned columns. */
struct vc_table;
struct vc_table *vc_table_new(unsigned ncols, ...);
void vc_table_add(struct vc_table *t, ...); /* ncols strings */
void vc_table_print(const struct vc_table *t, FILE *f);
void vc_table_free(struct vc_table *t);

/* Members of a JSON object: "" / -1 / false if absent. */
const char *vc_json_str(json_object *o, const char *key);
int64_t vc_json_int(json_object *o, const char *key);
bool vc_json_bool(json_object *o, const char *key);

/* ---- the console ---- */

/* Connects a new read-write connection to the domain's console (device:
 * NULL, "serial" or "virtio"): the connection, now a byte stream, or NULL
 * with the error printed. */
struct md_client *vc_console_open(struct vc_ctx *ctx, const char *uuid, const char *name,
                                  const char *device, bool force);
/* Relays the terminal to the stream until the escape byte is typed or the
 * stream ends; the terminal is restored on every way out (a signal ends
 * vmctl by that signal once the terminal is restored). Closes `c`. */
int vc_console_relay(struct vc_ctx *ctx, struct md_client *c, const char *name);
/* For a domain started paused (a summary: name, uuid): attaches to its
 * console, then resumes it (if `resume`), so that the console shows the
 * guest's first byte; then relays. */
int vc_console_attach_resume(struct vc_ctx *ctx, json_object *dom, bool resume, bool force);
/* Starts the domain paused, then as above. */
int vc_start_console(struct vc_ctx *ctx, json_object *dom, bool paused, bool force);

/* The terminal (terminal.c): raw mode on stdin if it is a terminal, the
 * settings restored at exit and on SIGINT, SIGTERM, SIGHUP, SIGQUIT. */
int vc_term_raw(void);
void vc_term_restore(void);
/* A descriptor that becomes readable when one of those signals arrived
 * (after vc_term_watch_signals()), and the signal. */
int vc_term_watch_signals(void);
int vc_term_signal(void);
void vc_term_unwatch_signals(void);

#endif
