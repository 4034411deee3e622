/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The socket API (docs/api.md): newline-delimited JSON on two unix
 * sockets. A request {"id", "method", "params"} gets {"id", "result"} or
 * {"id", "error": {"code", "message"}}; subscribers also get {"event"}
 * messages. The read-write socket is for root, the daemon's own user and
 * an optional admin group (checked with SO_PEERCRED, not only the file
 * mode); the read-only socket takes anyone, for the methods that change
 * nothing.
 *
 * The server frames, parses, authorises and routes; what a method does is
 * its handler's business (the driver), which answers now or later through
 * md_api_reply()/md_api_fail() on the call it was given.
 */
#ifndef MD_API_H
#define MD_API_H

#include <stdbool.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <uv.h>

#include "err.h"

/* Error codes (docs/api.md). */
enum md_api_code {
    MD_API_INVALID_REQUEST = 1, /* not JSON, not an object, bad members */
    MD_API_UNKNOWN_METHOD = 2,
    MD_API_INVALID_PARAMS = 3,
    MD_API_NO_DOMAIN = 4,
    MD_API_OPERATION_INVALID = 5, /* not in this state */
    MD_API_INVALID_DEFINITION = 6,
    MD_API_DUPLICATE = 7,
    MD_API_DENIED = 8,
    MD_API_OPERATION_FAILED = 9,
    MD_API_TIMEOUT = 10,
    MD_API_BUSY = 11,
    MD_API_TOO_LARGE = 12,
    MD_API_INTERNAL = 13,
};

#define MD_API_MAX_MESSAGE (4u << 20)

struct md_api;
struct md_api_call;

struct md_api_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    bool read_only; /* came through the read-only socket */
};

typedef void (*md_api_handler)(void *opaque, struct md_api_call *call, json_object *params);

struct md_api_method {
    const char *name;
    bool changes; /* refused on the read-only socket */
    md_api_handler fn;
};

struct md_api_config {
    const char *rw_path, *ro_path;
    gid_t admin_gid;                     /* (gid_t)-1: none; else the rw socket is 0660 with it */
    const struct md_api_method *methods; /* ends with a NULL name */
    void *opaque;                        /* for the handlers */
};

/* Listens on both sockets (a stale socket file is replaced). NULL with err. */
struct md_api *md_api_create(uv_loop_t *loop, const struct md_api_config *cfg, struct md_err *err);
/* Closes every connection and removes the socket files. */
void md_api_destroy(struct md_api *api);
unsigned md_api_clients(const struct md_api *api);

/* ---- answering a call (the loop's thread) ---- */

const struct md_api_peer *md_api_call_peer(const struct md_api_call *call);
const char *md_api_call_method(const struct md_api_call *call);
/* Takes `result` (NULL: {}). The call is gone afterwards. */
void md_api_reply(struct md_api_call *call, json_object *result);
/* The same with the result given as JSON text (an object, `len` bytes,
 * copied): for large answers, which then cost one buffer rather than a
 * json-c tree of them. */
void md_api_reply_text(struct md_api_call *call, const char *result, size_t len);
void md_api_fail(struct md_api_call *call, enum md_api_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replies {} and turns the connection into a raw byte stream to and from
 * `fd` (taken), until either side closes: a domain's console. `ended` runs
 * once when it does; until then the stream may be closed by the daemon.
 * NULL (and the call failed) when it cannot. */
struct md_api_stream;
struct md_api_stream *md_api_reply_stream(struct md_api_call *call, int fd,
                                          void (*ended)(void *opaque), void *opaque);
void md_api_stream_close(struct md_api_stream *s);
/* The client asked for events: later md_api_broadcast() reaches it. */
void md_api_subscribe(struct md_api_call *call);
/* Sends {"event": ...members of `event`} to every subscriber; takes it. */
void md_api_broadcast(struct md_api *api, json_object *event);

/* Reads a member of params: false (and the call failed with
 * INVALID_PARAMS naming it) if it is missing when required or mistyped. */
bool md_api_param_str(struct md_api_call *call, json_object *params, const char *name,
                      bool required, const char **out);
bool md_api_param_bool(struct md_api_call *call, json_object *params, const char *name, bool *out);
bool md_api_param_int(struct md_api_call *call, json_object *params, const char *name, int64_t min,
                      int64_t max, int64_t *out);
/* Fails the call if params has a member not in the NULL-terminated list. */
bool md_api_params_only(struct md_api_call *call, json_object *params, const char *const *allowed);

#endif
