/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

#define MAX_EVENTS 1024
#define MAX_LINE   (64u << 20)

struct md_client {
    int fd;
    char *buf;
    size_t len, cap;
    long long next_id;
    bool closed;
    json_object *events[MAX_EVENTS];
    unsigned nevents;
    int code;
    char error[1024];
};

struct md_client *md_client_connect(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct md_client *c;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s: the socket path is too long", path);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;

        snprintf(err, errlen, "cannot connect to %s: %s%s", path, strerror(e),
                 e == ENOENT || e == ECONNREFUSED ? " (is mgmtd running?)" : "");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = fd;
    return c;
}

void md_client_close(struct md_client *c)
{
    if (!c)
        return;
    close(c->fd);
    for (unsigned i = 0; i < c->nevents; i++)
        json_object_put(c->events[i]);
    free(c->buf);
    free(c);
}

const char *md_client_error(const struct md_client *c)
{
    return c->error;
}

int md_client_code(const struct md_client *c)
{
    return c->code;
}

bool md_client_closed(const struct md_client *c)
{
    return c->closed;
}

int md_client_fd(const struct md_client *c)
{
    return c->fd;
}

char *md_client_take_buffered(struct md_client *c, size_t *len)
{
    char *b = c->buf;

    *len = c->len;
    c->buf = NULL;
    c->len = c->cap = 0;
    return b;
}

static int send_all(struct md_client *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The next message, waiting up to timeout_ms (-1: for ever). */
static json_object *read_message(struct md_client *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        ssize_t n;

        if (nl) {
            size_t line = (size_t)(nl - c->buf);
            json_object *o;

            *nl = '\0';
            o = json_tokener_parse(c->buf);
            memmove(c->buf, nl + 1, c->len - line - 1);
            c->len -= line + 1;
            if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                snprintf(c->error, sizeof(c->error), "mgmtd sent something that is not JSON");
                c->closed = true;
                return NULL;
            }
            return o;
        }
        if (c->closed)
            return NULL;
        if (timeout_ms >= 0) {
            int left = (int)(deadline - now_ms());

            if (poll(&p, 1, left > 0 ? left : 0) <= 0) {
                snprintf(c->error, sizeof(c->error), "no answer from mgmtd within %d ms",
                         timeout_ms);
                return NULL;
            }
        }
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 131072;
            char *b = cap <= MAX_LINE ? realloc(c->buf, cap + 1) : NULL;

            if (!b) {
                snprintf(c->error, sizeof(c->error), "an answer from mgmtd is too long");
                c->closed = true;
                return NULL;
            }
            c->buf = b;
            c->cap = cap;
        }
        n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(c->error, sizeof(c->error), "mgmtd closed the connection");
            c->closed = true;
            return NULL;
        }
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
    }
}

static void keep_event(struct md_client *c, json_object *ev)
{
    if (c->nevents == MAX_EVENTS) {
        json_object_put(c->events[0]);
        memmove(c->events, c->events + 1, sizeof(c->events[0]) * (MAX_EVENTS - 1));
        c->nevents--;
    }
    c->events[c->nevents++] = ev;
}

/* An error answer's code and message into c; false if it is none. */
static bool set_error(struct md_client *c, json_object *msg)
{
    json_object *e = NULL, *m = NULL, *code = NULL;

    if (!json_object_object_get_ex(msg, "error", &e))
        return false;
    json_object_object_get_ex(e, "message", &m);
    json_object_object_get_ex(e, "code", &code);
    c->code = code ? json_object_get_int(code) : 0;
    snprintf(c->error, sizeof(c->error), "%s", m ? json_object_get_string(m) : "error");
    return true;
}

json_object *md_client_call(struct md_client *c, const char *method, json_object *params)
{
    json_object *req = json_object_new_object(), *msg, *v;
    long long id = ++c->next_id;
    const char *s;
    size_t n;
    char *line;
    int ret;

    c->code = 0;
    c->error[0] = '\0';
    json_object_object_add(req, "id", json_object_new_int64(id));
    json_object_object_add(req, "method", json_object_new_string(method));
    if (params)
        json_object_object_add(req, "params", params);
    s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &n);
    line = malloc(n + 1);
    if (!line) {
        json_object_put(req);
        snprintf(c->error, sizeof(c->error), "out of memory");
        return NULL;
    }
    memcpy(line, s, n);
    line[n] = '\n';
    ret = send_all(c, line, n + 1);
    free(line);
    json_object_put(req);
    if (ret < 0) {
        snprintf(c->error, sizeof(c->error), "cannot send to mgmtd: %s", strerror(-ret));
        /* It may have said why before it hung up (a refused connection). */
        msg = read_message(c, 0);
        if (msg && set_error(c, msg)) {
            json_object_put(msg);
            return NULL;
        }
        json_object_put(msg);
        c->closed = true;
        return NULL;
    }
    for (;;) {
        msg = read_message(c, -1);
        if (!msg)
            return NULL;
        if (json_object_object_get_ex(msg, "event", NULL)) {
            keep_event(c, msg);
            continue;
        }
        if (json_object_object_get_ex(msg, "id", &v) && json_object_get_int64(v) == id)
            break;
        /* An answer to nothing we asked (a refusal of the connection). */
        if (set_error(c, msg)) {
            json_object_put(msg);
            return NULL;
        }
        json_object_put(msg);
    }
    if (json_object_object_get_ex(msg, "result", &v)) {
        json_object_get(v);
        json_object_put(msg);
        return v;
    }
    if (!set_error(c, msg)) {
        snprintf(c->error, sizeof(c->error), "an answer with neither result nor error");
    }
    json_object_put(msg);
    return NULL;
}

json_object *md_client_next_event(struct md_client *c, int timeout_ms)
{
    json_object *ev;

    if (c->nevents) {
        ev = c->events[0];
        memmove(c->events, c->events + 1, sizeof(c->events[0]) * (c->nevents - 1));
        c->nevents--;
        return ev;
    }
    for (;;) {
        ev = read_message(c, timeout_ms);
        if (!ev || json_object_object_get_ex(ev, "event", NULL))
            return ev;
        json_object_put(ev); /* a stray answer */
    }
}
