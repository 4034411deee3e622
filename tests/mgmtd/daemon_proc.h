/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real mgmtd for the integration tests: started under a temporary root,
 * restarted, killed; domain XML for the test guests; and calls through
 * the client library that fail the test with the daemon's message.
 */
#ifndef DAEMON_PROC_H
#define DAEMON_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "client/client.h"

struct daemon {
    char root[64];
    char rw[128], ro[128];
    char log[128];
    pid_t pid;
};

/* A new root; the daemon started with `env` (NAME=VALUE or NULL) and
 * ready. */
void daemon_start(struct daemon *d, const char *env);
/* The same root again. */
void daemon_restart(struct daemon *d, const char *env);
/* SIGTERM (clean) or SIGKILL; waits for it. Returns its wait status. */
int daemon_stop(struct daemon *d, int sig);
/* Stops the daemon, kills every emulator it left, removes the root. */
void daemon_cleanup(struct daemon *d);

struct md_client *daemon_connect(struct daemon *d, bool read_only);

/* The domain XML for the monitor guest (tests/guests/monitor.c as a
 * multiboot kernel): a name, and extra elements for <devices> and for
 * the domain (on_* and the like); either may be NULL. malloc'd. */
char *guest_xml(const char *name, const char *uuid, const char *devices, const char *extra);

/* One call that must succeed; its result (the caller frees). */
json_object *call_ok(struct md_client *c, const char *method, const char *params_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* One call that must fail with `code`, its message containing `text`. */
void call_fails(struct md_client *c, int code, const char *text, const char *method,
                const char *params_fmt, ...) __attribute__((format(printf, 5, 6)));
/* A string as a JSON string literal (a static buffer: use it at once). */
const char *jquote(const char *s);
/* define with the XML given. */
json_object *define(struct md_client *c, const char *xml);

const char *jstr(json_object *o, const char *key);
int64_t jint(json_object *o, const char *key);
/* The state and reason, "running/booted". */
void state_is(struct md_client *c, const char *dom, const char *state, const char *reason);
/* Waits (up to ms) for the state. */
bool wait_state(struct md_client *c, const char *dom, const char *state, int ms);
pid_t emulator_pid(struct md_client *c, const char *dom);
bool pid_alive(pid_t pid);

#endif
