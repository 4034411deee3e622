/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmpc.h"

/* An emulator's message never comes near this; more is not QMP. */
#define MAX_LINE (4u << 20)

struct pending {
    unsigned long id;
    char *line; /* to send; NULL once sent */
    md_qmpc_reply_fn cb;
    void *opaque;
    struct pending *next;
};

struct md_qmpc {
    uv_pipe_t pipe;
    uv_connect_t connect_req;
    const struct md_qmpc_ops *ops;
    void *opaque;
    char *buf;
    size_t len, cap;
    bool greeted, ready, closing, notify_closed;
    unsigned long next_id;
    struct pending *head, **tail; /* in the order sent */
    char why[160];
};

struct write_req {
    uv_write_t req;
    char data[];
};

static void fail_all(struct md_qmpc *q, const char *why)
{
    while (q->head) {
        struct pending *p = q->head;

        q->head = p->next;
        if (p->cb)
            p->cb(p->opaque, NULL, why);
        free(p->line);
        free(p);
    }
    q->tail = &q->head;
}

static void on_closed(uv_handle_t *h)
{
    struct md_qmpc *q = h->data;

    fail_all(q, q->why[0] ? q->why : "the monitor connection was closed");
    if (q->notify_closed && q->ops->closed)
        q->ops->closed(q->opaque, q->why);
    free(q->buf);
    free(q);
}

static void shut(struct md_qmpc *q, bool notify, const char *why)
{
    if (q->closing)
        return;
    q->closing = true;
    q->notify_closed = notify;
    snprintf(q->why, sizeof(q->why), "%s", why);
    uv_close((uv_handle_t *)&q->pipe, on_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status; /* a broken pipe shows on the read side */
    free(req);
}

static void send_line(struct md_qmpc *q, const char *line)
{
    size_t n = strlen(line);
    struct write_req *w = malloc(sizeof(*w) + n + 2);
    uv_buf_t b;

    if (!w) {
        shut(q, true, "out of memory");
        return;
    }
    memcpy(w->data, line, n);
    memcpy(w->data + n, "\r\n", 2);
    b = uv_buf_init(w->data, (unsigned)(n + 2));
    if (uv_write(&w->req, (uv_stream_t *)&q->pipe, &b, 1, on_written) < 0) {
        free(w);
        shut(q, true, "cannot write to the monitor");
    }
}

/* Commands go out once negotiation is over. */
static void flush(struct md_qmpc *q)
{
    for (struct pending *p = q->head; p && q->ready && !q->closing; p = p->next)
        if (p->line) {
            send_line(q, p->line);
            free(p->line);
            p->line = NULL;
        }
}

static void on_negotiated(void *opaque, json_object *ret, const char *error)
{
    struct md_qmpc *q = opaque;

    if (!ret) {
        shut(q, true, error ? error : "negotiation failed");
        return;
    }
    q->ready = true;
    if (q->ops->ready)
        q->ops->ready(q->opaque);
    flush(q);
}

static void queue(struct md_qmpc *q, const char *command, json_object *args, md_qmpc_reply_fn cb,
                  void *cb_opaque, bool first)
{
    struct pending *p = calloc(1, sizeof(*p));
    json_object *req = json_object_new_object();

    if (!p) {
        json_object_put(args);
        json_object_put(req);
        if (cb)
            cb(cb_opaque, NULL, "out of memory");
        return;
    }
    p->id = ++q->next_id;
    p->cb = cb;
    p->opaque = cb_opaque;
    json_object_object_add(req, "execute", json_object_new_string(command));
    if (args)
        json_object_object_add(req, "arguments", args);
    json_object_object_add(req, "id", json_object_new_int64((int64_t)p->id));
    p->line = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    json_object_put(req);
    if (first) {
        /* qmp_capabilities goes before anything queued meanwhile. */
        p->next = q->head;
        q->head = p;
        if (q->tail == &q->head)
            q->tail = &p->next;
        send_line(q, p->line);
        free(p->line);
        p->line = NULL;
        return;
    }
    *q->tail = p;
    q->tail = &p->next;
    flush(q);
}

void md_qmpc_execute(struct md_qmpc *q, const char *command, json_object *args, md_qmpc_reply_fn cb,
                     void *cb_opaque)
{
    if (q->closing) {
        json_object_put(args);
        if (cb)
            cb(cb_opaque, NULL, "the monitor connection is closed");
        return;
    }
    queue(q, command, args, cb, cb_opaque, false);
}

bool md_qmpc_is_ready(const struct md_qmpc *q)
{
    return q->ready && !q->closing;
}

static void handle_reply(struct md_qmpc *q, json_object *msg)
{
    json_object *id = NULL, *ret = NULL, *err = NULL;
    struct pending **pp, *p;

    if (!json_object_object_get_ex(msg, "id", &id) || !json_object_is_type(id, json_type_int)) {
        shut(q, true, "the monitor sent a reply without our id");
        return;
    }
    for (pp = &q->head; *pp && (*pp)->id != (unsigned long)json_object_get_int64(id);
         pp = &(*pp)->next)
        ;
    p = *pp;
    if (!p) {
        shut(q, true, "the monitor answered a command never sent");
        return;
    }
    *pp = p->next;
    if (q->tail == &p->next)
        q->tail = pp;
    if (json_object_object_get_ex(msg, "return", &ret)) {
        if (p->cb)
            p->cb(p->opaque, ret, NULL);
    } else {
        json_object *desc = NULL;

        json_object_object_get_ex(msg, "error", &err);
        json_object_object_get_ex(err, "desc", &desc);
        if (p->cb)
            p->cb(p->opaque, NULL, desc ? json_object_get_string(desc) : "an unknown error");
    }
    free(p->line);
    free(p);
}

static void handle_line(struct md_qmpc *q, const char *line, size_t len)
{
    json_tokener *t = json_tokener_new();
    json_object *msg = json_tokener_parse_ex(t, line, (int)len), *ev;

    if (json_tokener_get_error(t) != json_tokener_success ||
        !json_object_is_type(msg, json_type_object)) {
        json_tokener_free(t);
        json_object_put(msg);
        shut(q, true, "the monitor sent something that is not QMP");
        return;
    }
    json_tokener_free(t);
    if (!q->greeted) {
        if (!json_object_object_get_ex(msg, "QMP", NULL)) {
            shut(q, true, "the monitor did not greet");
        } else {
            q->greeted = true;
            queue(q, "qmp_capabilities", NULL, on_negotiated, q, true);
        }
    } else if (json_object_object_get_ex(msg, "event", &ev)) {
        json_object *data = NULL;

        json_object_object_get_ex(msg, "data", &data);
        if (q->ops->event)
            q->ops->event(q->opaque, json_object_get_string(ev), data);
    } else {
        handle_reply(q, msg);
    }
    json_object_put(msg);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct md_qmpc *q = h->data;

    (void)suggested;
    if (q->cap - q->len < 16384) {
        size_t cap = q->cap ? q->cap * 2 : 65536;
        char *nb = cap <= MAX_LINE + 65536 ? realloc(q->buf, cap) : NULL;

        if (!nb) {
            *b = uv_buf_init(NULL, 0);
            return;
        }
        q->buf = nb;
        q->cap = cap;
    }
    *b = uv_buf_init(q->buf + q->len, (unsigned)(q->cap - q->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct md_qmpc *q = s->data;
    size_t start = 0;

    (void)b;
    if (n < 0) {
        shut(q, true, n == UV_EOF ? "the emulator closed its monitor" : uv_strerror((int)n));
        return;
    }
    if (n == 0 && !b->base) {
        shut(q, true, "a monitor message is too long");
        return;
    }
    q->len += (size_t)n;
    for (size_t i = 0; i < q->len && !q->closing; i++)
        if (q->buf[i] == '\n') {
            handle_line(q, q->buf + start, i + 1 - start);
            start = i + 1;
        }
    if (q->closing)
        return;
    memmove(q->buf, q->buf + start, q->len - start);
    q->len -= start;
    if (q->len > MAX_LINE)
        shut(q, true, "a monitor message is too long");
}

static void on_connect(uv_connect_t *req, int status)
{
    struct md_qmpc *q = req->data;
    char why[160];

    if (q->closing)
        return;
    if (status < 0) {
        snprintf(why, sizeof(why), "cannot connect to the monitor: %s", uv_strerror(status));
        shut(q, true, why);
        return;
    }
    uv_read_start((uv_stream_t *)&q->pipe, on_alloc, on_read);
}

struct md_qmpc *md_qmpc_connect(uv_loop_t *loop, const char *path, const struct md_qmpc_ops *ops,
                                void *opaque)
{
    struct md_qmpc *q = calloc(1, sizeof(*q));

    if (!q)
        return NULL;
    q->ops = ops;
    q->opaque = opaque;
    q->tail = &q->head;
    uv_pipe_init(loop, &q->pipe, 0);
    q->pipe.data = q;
    q->connect_req.data = q;
    uv_pipe_connect(&q->connect_req, &q->pipe, path, on_connect);
    return q;
}

void md_qmpc_close(struct md_qmpc *q)
{
    if (!q)
        return;
    /* The owner lets go: it hears nothing more of this connection, even
     * if its end was already under way (the closed callback would run
     * after the owner moved on, a new monitor in its place). The commands
     * still pending fail now, while the owner knows what they were for. */
    shut(q, false, "the monitor connection was closed");
    q->notify_closed = false;
    fail_all(q, "the monitor connection was closed");
}
