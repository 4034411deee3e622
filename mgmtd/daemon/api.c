/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API server. Each connection reads lines; each line is one request,
 * parsed strictly and checked before its handler sees it. A handler may
 * answer later: the call keeps its connection alive (a reference), and an
 * answer for a connection that went away is dropped. A connection that
 * sends a line longer than MD_API_MAX_MESSAGE is told and closed; one that
 * does not read its answers is closed past MAX_PENDING bytes of them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "log.h"

#define MAX_PENDING   (16u << 20)
#define MAX_CLIENTS   1024
#define MAX_IN_FLIGHT 256

struct md_api;

struct client {
    struct md_api *api;
    uv_pipe_t pipe;
    struct md_api_peer peer;
    unsigned refs; /* the connection, and each call in flight */
    unsigned in_flight;
    bool closing;
    bool subscribed;
    char *buf;
    size_t len, cap;
    size_t consumed; /* of buf, by requests already handled */
    /* A console stream: bytes both ways between pipe and stream. */
    bool streaming;
    uv_pipe_t *stream;
    void (*ended)(void *opaque);
    void *ended_opaque;
    struct client *next, *prev;
};

struct md_api_call {
    struct client *c;
    json_object *id;
    char method[64];
};

struct listener {
    struct md_api *api;
    uv_pipe_t pipe;
    bool read_only;
    bool open;
    char path[108];
};

struct md_api {
    uv_loop_t *loop;
    struct md_api_config cfg;
    struct listener rw, ro;
    struct client *clients;
    unsigned nclients;
};

struct write_req {
    uv_write_t req;
    char data[];
};

/* ---- connections ---- */

static void client_unref(struct client *c)
{
    if (--c->refs == 0) {
        free(c->buf);
        free(c);
    }
}

static void on_client_closed(uv_handle_t *h)
{
    client_unref(h->data);
}

static void on_stream_closed(uv_handle_t *h)
{
    free(h);
}

static void client_close(struct client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->api->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->api->nclients--;
    if (c->ended) {
        void (*ended)(void *) = c->ended;

        c->ended = NULL;
        ended(c->ended_opaque);
    }
    if (c->stream) {
        uv_close((uv_handle_t *)c->stream, on_stream_closed);
        c->stream = NULL;
    }
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

/* Queues w (taken), whose data holds len bytes. */
static void write_req_send(struct client *c, uv_stream_t *to, struct write_req *w, size_t len)
{
    uv_buf_t b;

    if (c->closing) {
        free(w);
        return;
    }
    if (uv_stream_get_write_queue_size(to) + len > MAX_PENDING) {
        md_log(MD_LOG_WARN, "API client pid %d does not read its answers: disconnected",
               (int)c->peer.pid);
        free(w);
        client_close(c);
        return;
    }
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, to, &b, 1, on_written) < 0) {
        free(w);
        client_close(c);
    }
}

static void write_raw(struct client *c, uv_stream_t *to, const char *data, size_t len)
{
    struct write_req *w;

    if (c->closing)
        return;
    w = malloc(sizeof(*w) + len);
    if (!w) {
        client_close(c);
        return;
    }
    memcpy(w->data, data, len);
    write_req_send(c, to, w, len);
}

static void send_json(struct client *c, json_object *msg)
{
    size_t n;
    const char *s = json_object_to_json_string_length(
        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *line = malloc(n + 1);

    if (!line) {
        client_close(c);
        return;
    }
    memcpy(line, s, n);
    line[n] = '\n';
    write_raw(c, (uv_stream_t *)&c->pipe, line, n + 1);
    free(line);
}

/* ---- answers ---- */

static void call_end(struct md_api_call *call)
{
    call->c->in_flight--;
    client_unref(call->c);
    json_object_put(call->id);
    free(call);
}

const struct md_api_peer *md_api_call_peer(const struct md_api_call *call)
{
    return &call->c->peer;
}

const char *md_api_call_method(const struct md_api_call *call)
{
    return call->method;
}

static json_object *answer(struct md_api_call *call)
{
    json_object *msg = json_object_new_object();

    json_object_object_add(msg, "id", json_object_get(call->id));
    return msg;
}

void md_api_reply(struct md_api_call *call, json_object *result)
{
    json_object *msg = answer(call);

    json_object_object_add(msg, "result", result ? result : json_object_new_object());
    send_json(call->c, msg);
    json_object_put(msg);
    call_end(call);
}

void md_api_reply_text(struct md_api_call *call, const char *result, size_t len)
{
    static const char head[] = "{\"id\":", mid[] = ",\"result\":";
    struct client *c = call->c;
    size_t idlen, n;
    const char *id = json_object_to_json_string_length(
        call->id, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &idlen);
    struct write_req *w;
    char *p;

    n = sizeof(head) - 1 + idlen + sizeof(mid) - 1 + len + 2;
    w = c->closing ? NULL : malloc(sizeof(*w) + n);
    if (w) {
        p = w->data;
        memcpy(p, head, sizeof(head) - 1);
        p += sizeof(head) - 1;
        memcpy(p, id, idlen);
        p += idlen;
        memcpy(p, mid, sizeof(mid) - 1);
        p += sizeof(mid) - 1;
        memcpy(p, result, len);
        p += len;
        memcpy(p, "}\n", 2);
        write_req_send(c, (uv_stream_t *)&c->pipe, w, n);
    } else if (!c->closing) {
        client_close(c);
    }
    call_end(call);
}

static json_object *error_obj(enum md_api_code code, const char *text)
{
    json_object *e = json_object_new_object();

    json_object_object_add(e, "code", json_object_new_int(code));
    json_object_object_add(e, "message", json_object_new_string(text));
    return e;
}

void md_api_fail(struct md_api_call *call, enum md_api_code code, const char *fmt, ...)
{
    json_object *msg = answer(call);
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    json_object_object_add(msg, "error", error_obj(code, text));
    send_json(call->c, msg);
    json_object_put(msg);
    call_end(call);
}

void md_api_subscribe(struct md_api_call *call)
{
    call->c->subscribed = true;
}

void md_api_broadcast(struct md_api *api, json_object *event)
{
    for (struct client *c = api->clients, *next; c; c = next) {
        next = c->next;
        if (c->subscribed && !c->streaming)
            send_json(c, event);
    }
    json_object_put(event);
}

/* ---- console streams ---- */

static void stream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    static char chunk[65536];

    (void)h;
    (void)suggested;
    *b = uv_buf_init(chunk, sizeof(chunk));
}

/* From the console to the client. */
static void on_stream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = s->data;

    if (n < 0) {
        client_close(c);
        return;
    }
    if (n > 0)
        write_raw(c, (uv_stream_t *)&c->pipe, b->base, (size_t)n);
}

struct md_api_stream *md_api_reply_stream(struct md_api_call *call, int fd,
                                          void (*ended)(void *opaque), void *opaque)
{
    struct client *c = call->c;
    uv_pipe_t *p;

    if (c->closing) {
        close(fd);
        md_api_fail(call, MD_API_INTERNAL, "the client is gone");
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        close(fd);
        md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return NULL;
    }
    uv_pipe_init(c->api->loop, p, 0);
    if (uv_pipe_open(p, fd) < 0) {
        close(fd);
        uv_close((uv_handle_t *)p, on_stream_closed);
        md_api_fail(call, MD_API_INTERNAL, "cannot use the console's descriptor");
        return NULL;
    }
    p->data = c;
    md_api_reply(call, NULL);
    c->stream = p;
    c->streaming = true;
    c->ended = ended;
    c->ended_opaque = opaque;
    /* What the client sent after its request belongs to the console. */
    if (c->len > c->consumed) {
        write_raw(c, (uv_stream_t *)p, c->buf + c->consumed, c->len - c->consumed);
        c->len = c->consumed;
    }
    uv_read_start((uv_stream_t *)p, stream_alloc, on_stream_read);
    return (struct md_api_stream *)c;
}

void md_api_stream_close(struct md_api_stream *s)
{
    client_close((struct client *)s);
}

/* ---- requests ---- */

static bool member_type_ok(json_object *v, enum json_type t)
{
    return json_object_is_type(v, t);
}

static void reject(struct client *c, json_object *id, enum md_api_code code, const char *text)
{
    json_object *msg = json_object_new_object();

    json_object_object_add(msg, "id", id ? json_object_get(id) : NULL);
    json_object_object_add(msg, "error", error_obj(code, text));
    send_json(c, msg);
    json_object_put(msg);
}

static void dispatch(struct client *c, json_object *req)
{
    const struct md_api_method *m = NULL;
    json_object *id = NULL, *method = NULL, *params = NULL;
    struct md_api_call *call;
    char text[256];

    if (!json_object_is_type(req, json_type_object)) {
        reject(c, NULL, MD_API_INVALID_REQUEST, "a request must be a JSON object");
        return;
    }
    json_object_object_foreach(req, key, val)
    {
        if (!strcmp(key, "id")) {
            id = val;
        } else if (!strcmp(key, "method")) {
            method = val;
        } else if (!strcmp(key, "params")) {
            params = val;
        } else {
            snprintf(text, sizeof(text), "unexpected member '%.64s' in the request", key);
            reject(c, id, MD_API_INVALID_REQUEST, text);
            return;
        }
    }
    if (!method || !member_type_ok(method, json_type_string)) {
        reject(c, id, MD_API_INVALID_REQUEST,
               method ? "'method' must be a string" : "the request has no 'method'");
        return;
    }
    if (params && !member_type_ok(params, json_type_object)) {
        reject(c, id, MD_API_INVALID_REQUEST, "'params' must be an object");
        return;
    }
    for (const struct md_api_method *t = c->api->cfg.methods; t->name; t++)
        if (!strcmp(t->name, json_object_get_string(method)))
            m = t;
    if (!m) {
        snprintf(text, sizeof(text), "unknown method '%.64s'", json_object_get_string(method));
        reject(c, id, MD_API_UNKNOWN_METHOD, text);
        return;
    }
    if (m->changes && c->peer.read_only) {
        snprintf(text, sizeof(text),
                 "%s changes state: not allowed on the read-only socket; connect to the "
                 "read-write socket as root or an admin",
                 m->name);
        reject(c, id, MD_API_DENIED, text);
        return;
    }
    if (c->in_flight >= MAX_IN_FLIGHT) {
        reject(c, id, MD_API_BUSY, "too many requests in flight on this connection");
        return;
    }
    call = calloc(1, sizeof(*call));
    if (!call) {
        reject(c, id, MD_API_INTERNAL, "out of memory");
        return;
    }
    call->c = c;
    call->id = json_object_get(id);
    snprintf(call->method, sizeof(call->method), "%s", m->name);
    c->refs++;
    c->in_flight++;
    m->fn(c->api->cfg.opaque, call, params);
}

static void handle_line(struct client *c, const char *line, size_t len)
{
    json_tokener *t = json_tokener_new();
    json_object *req;

    json_tokener_set_flags(t, JSON_TOKENER_STRICT);
    req = json_tokener_parse_ex(t, line, (int)len);
    if (json_tokener_get_error(t) != json_tokener_success || json_tokener_get_parse_end(t) != len) {
        char text[160];

        snprintf(text, sizeof(text), "not JSON: %s",
                 json_tokener_get_error(t) == json_tokener_success
                     ? "more than one value on the line"
                     : json_tokener_error_desc(json_tokener_get_error(t)));
        reject(c, NULL, MD_API_INVALID_REQUEST, text);
    } else {
        dispatch(c, req);
    }
    json_tokener_free(t);
    json_object_put(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct client *c = h->data;

    (void)suggested;
    if (c->streaming) {
        stream_alloc(h, suggested, b);
        return;
    }
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        char *nb;

        if (cap > MD_API_MAX_MESSAGE + 131072)
            cap = MD_API_MAX_MESSAGE + 131072;
        nb = cap > c->cap ? realloc(c->buf, cap) : NULL;
        if (!nb) {
            *b = uv_buf_init(c->buf ? c->buf + c->len : NULL, (unsigned)(c->cap - c->len));
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct client *c = s->data;

    if (n < 0) {
        client_close(c);
        return;
    }
    if (c->streaming) {
        if (n > 0 && c->stream)
            write_raw(c, (uv_stream_t *)c->stream, b->base, (size_t)n);
        return;
    }
    c->len += (size_t)n;
    c->refs++; /* a handler may close the connection */
    while (!c->closing && !c->streaming) {
        char *nl = memchr(c->buf + c->consumed, '\n', c->len - c->consumed);
        size_t start = c->consumed, len;

        if (!nl)
            break;
        len = (size_t)(nl - (c->buf + start));
        c->consumed = start + len + 1;
        if (len > 0)
            handle_line(c, c->buf + start, len);
    }
    if (!c->closing) {
        memmove(c->buf, c->buf + c->consumed, c->len - c->consumed);
        c->len -= c->consumed;
        c->consumed = 0;
        if (!c->streaming && c->len > MD_API_MAX_MESSAGE) {
            reject(c, NULL, MD_API_TOO_LARGE, "a request longer than 4 MiB: disconnected");
            client_close(c);
        }
    }
    client_unref(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;
    struct md_api *api = l->api;
    struct client *c;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    uv_os_fd_t fd;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->api = api;
    c->refs = 1;
    uv_pipe_init(api->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 || uv_fileno((uv_handle_t *)&c->pipe, &fd) ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        return;
    }
    c->peer = (struct md_api_peer){ cred.pid, cred.uid, cred.gid, l->read_only };
    c->next = api->clients;
    if (api->clients)
        api->clients->prev = c;
    api->clients = c;
    api->nclients++;
    /* The file mode keeps others off the read-write socket; this keeps
     * them off if the mode was loosened, and names who was refused. */
    if (!l->read_only && cred.uid != 0 && cred.uid != geteuid() &&
        (api->cfg.admin_gid == (gid_t)-1 || cred.gid != api->cfg.admin_gid)) {
        char text[200];

        snprintf(text, sizeof(text),
                 "uid %u may not use the read-write socket (root, the daemon's user and its "
                 "admin group may); use the read-only socket",
                 (unsigned)cred.uid);
        reject(c, NULL, MD_API_DENIED, text);
        client_close(c);
        return;
    }
    if (api->nclients > MAX_CLIENTS) {
        reject(c, NULL, MD_API_BUSY, "too many connections");
        client_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- setup ---- */

static void on_listener_closed(uv_handle_t *h)
{
    (void)h;
}

static int listen_on(struct md_api *api, struct listener *l, const char *path, mode_t mode,
                     gid_t gid, struct md_err *err)
{
    struct stat st;
    mode_t old;
    int ret;

    l->api = api;
    snprintf(l->path, sizeof(l->path), "%s", path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return md_err_set(err, -EEXIST, 0, "%s: exists and is not a socket", path);
        unlink(path);
    }
    uv_pipe_init(api->loop, &l->pipe, 0);
    l->pipe.data = l;
    old = umask(077);
    ret = uv_pipe_bind(&l->pipe, path);
    umask(old);
    if (ret == 0 && gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)
        ret = -errno;
    if (ret == 0 && chmod(path, mode) < 0)
        ret = -errno;
    if (ret == 0)
        ret = uv_listen((uv_stream_t *)&l->pipe, 128, on_connection);
    if (ret < 0) {
        uv_close((uv_handle_t *)&l->pipe, on_listener_closed);
        return md_err_set(err, ret, 0, "%s: cannot listen: %s", path, uv_strerror(ret));
    }
    l->open = true;
    return 0;
}

struct md_api *md_api_create(uv_loop_t *loop, const struct md_api_config *cfg, struct md_err *err)
{
    struct md_api *api = calloc(1, sizeof(*api));
    bool group = cfg->admin_gid != (gid_t)-1;

    if (!api) {
        md_err_set(err, -ENOMEM, 0, "out of memory");
        return NULL;
    }
    api->loop = loop;
    api->cfg = *cfg;
    api->ro.read_only = true;
    if (listen_on(api, &api->rw, cfg->rw_path, group ? 0660 : 0600, cfg->admin_gid, err) < 0 ||
        listen_on(api, &api->ro, cfg->ro_path, 0666, (gid_t)-1, err) < 0) {
        md_api_destroy(api);
        return NULL;
    }
    return api;
}

unsigned md_api_clients(const struct md_api *api)
{
    return api->nclients;
}

void md_api_destroy(struct md_api *api)
{
    if (!api)
        return;
    while (api->clients)
        client_close(api->clients);
    for (struct listener *l = &api->rw; l; l = l == &api->rw ? &api->ro : NULL)
        if (l->open) {
            uv_close((uv_handle_t *)&l->pipe, on_listener_closed);
            unlink(l->path);
            l->open = false;
        }
    /* Let the closes finish before the memory goes. */
    uv_run(api->loop, UV_RUN_NOWAIT);
    free(api);
}

/* ---- parameters ---- */

static json_object *param(json_object *params, const char *name)
{
    json_object *v = NULL;

    if (params)
        json_object_object_get_ex(params, name, &v);
    return v;
}

bool md_api_param_str(struct md_api_call *call, json_object *params, const char *name,
                      bool required, const char **out)
{
    json_object *v = param(params, name);

    *out = NULL;
    if (!v || json_object_is_type(v, json_type_null)) {
        if (required)
            md_api_fail(call, MD_API_INVALID_PARAMS, "%s: the parameter '%s' is missing",
                        call->method, name);
        return !required;
    }
    if (!json_object_is_type(v, json_type_string)) {
        md_api_fail(call, MD_API_INVALID_PARAMS, "%s: the parameter '%s' must be a string",
                    call->method, name);
        return false;
    }
    *out = json_object_get_string(v);
    return true;
}

bool md_api_param_bool(struct md_api_call *call, json_object *params, const char *name, bool *out)
{
    json_object *v = param(params, name);

    if (!v)
        return true; /* *out keeps its default */
    if (!json_object_is_type(v, json_type_boolean)) {
        md_api_fail(call, MD_API_INVALID_PARAMS, "%s: the parameter '%s' must be true or false",
                    call->method, name);
        return false;
    }
    *out = json_object_get_boolean(v);
    return true;
}

bool md_api_param_int(struct md_api_call *call, json_object *params, const char *name, int64_t min,
                      int64_t max, int64_t *out)
{
    json_object *v = param(params, name);
    int64_t n;

    if (!v)
        return true;
    if (!json_object_is_type(v, json_type_int)) {
        md_api_fail(call, MD_API_INVALID_PARAMS, "%s: the parameter '%s' must be an integer",
                    call->method, name);
        return false;
    }
    errno = 0;
    n = json_object_get_int64(v);
    if (errno || n < min || n > max) {
        md_api_fail(call, MD_API_INVALID_PARAMS,
                    "%s: the parameter '%s' must be between %lld and %lld", call->method, name,
                    (long long)min, (long long)max);
        return false;
    }
    *out = n;
    return true;
}

bool md_api_params_only(struct md_api_call *call, json_object *params, const char *const *allowed)
{
    if (!params)
        return true;
    json_object_object_foreach(params, key, val)
    {
        bool ok = false;

        (void)val;
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, key);
        if (!ok) {
            md_api_fail(call, MD_API_INVALID_PARAMS, "%s: unknown parameter '%.64s'", call->method,
                        key);
            return false;
        }
    }
    return true;
}
