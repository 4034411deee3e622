/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The C client of mgmtd's socket API (docs/api.md), for vmctl, vm-install
 * and the tests: one connection, synchronous calls, events read on demand,
 * and the connection handed over as a raw stream for a console.
 */
#ifndef MD_CLIENT_H
#define MD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define MD_CLIENT_SYSTEM_SOCKET    "/run/kvmstack/mgmtd.sock"
#define MD_CLIENT_SYSTEM_RO_SOCKET "/run/kvmstack/mgmtd-ro.sock"

struct md_client;

/* NULL with the reason in err. */
struct md_client *md_client_connect(const char *path, char *err, size_t errlen);
void md_client_close(struct md_client *c);

/*
 * Sends {"id", "method", "params"} (params taken; NULL for none) and waits
 * for its answer; events that arrive meanwhile are kept. The result (a new
 * reference; {} when the method returns nothing), or NULL: then
 * md_client_error() says why and md_client_code() is the API's error code
 * (0 when the connection failed).
 */
json_object *md_client_call(struct md_client *c, const char *method, json_object *params);
const char *md_client_error(const struct md_client *c);
int md_client_code(const struct md_client *c);

/* The next event (after events.subscribe), waiting up to timeout_ms (-1:
 * for ever). NULL on timeout or when the connection ends (see
 * md_client_closed()). */
json_object *md_client_next_event(struct md_client *c, int timeout_ms);
bool md_client_closed(const struct md_client *c);

/* After domain.console: the socket, now a raw byte stream, and the bytes
 * already received after the answer (moved out: *len set, buffer freed by
 * the caller). */
int md_client_fd(const struct md_client *c);
char *md_client_take_buffered(struct md_client *c, size_t *len);

#endif
