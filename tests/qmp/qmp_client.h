/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small QMP client for the tests and benchmarks: one connection, replies
 * matched to commands in order, events kept in a queue until asked for.
 * Every wait has a deadline. Messages are parsed one line at a time, so a
 * server that does not end each message with CRLF is noticed.
 */
#ifndef QMP_CLIENT_H
#define QMP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define QC_MAX_EVENTS 256

struct qc {
    int fd;
    char *buf; /* received, not yet parsed */
    size_t len, cap;
    json_object *greeting;
    json_object *events[QC_MAX_EVENTS];
    unsigned nevents;
    char error[256]; /* why the last call failed */
};

/* Connects to a unix socket (retrying until timeout_ms: the server may
 * still be starting) and reads the greeting. 0, or -1 with c->error. */
int qc_connect(struct qc *c, const char *path, int timeout_ms);
/* Takes a connected socket instead. */
int qc_open_fd(struct qc *c, int fd, int timeout_ms);
/* connect + qmp_capabilities. */
int qc_connect_ready(struct qc *c, const char *path, int timeout_ms);
void qc_close(struct qc *c);

/* Sends bytes as they are. */
int qc_send_raw(struct qc *c, const void *buf, size_t n);
/* The next message of any kind (NULL on timeout, EOF or a bad line; the
 * caller frees it). A line that is not one JSON object is an error. */
json_object *qc_read(struct qc *c, int timeout_ms);
/* Sends `json` (a whole request) and returns the next reply, keeping the
 * events that arrive before it. NULL on timeout or EOF. */
json_object *qc_cmd(struct qc *c, const char *json, int timeout_ms);
/* {"execute": name} and its "return" value (a new reference), or NULL
 * if the reply was an error (its desc in c->error). */
json_object *qc_execute(struct qc *c, const char *name, int timeout_ms);
/* Waits for an event called `name` (queued or new) and returns it; the
 * events before it stay queued. NULL on timeout. */
json_object *qc_event(struct qc *c, const char *name, int timeout_ms);
/* Queued events named `name` (all of them, if NULL). */
unsigned qc_events_queued(const struct qc *c, const char *name);
/* True if the server closed the connection within timeout_ms. */
bool qc_wait_eof(struct qc *c, int timeout_ms);

/* Helpers for assertions: a member's string or "" and its class. */
const char *qc_str(json_object *o, const char *path);
const char *qc_error_class(json_object *reply);

#endif
