/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp_client.h"

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void fail(struct qc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct qc *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
}

/* Reads what is there, waiting up to ms. 1: got bytes, 0: timeout, -1: EOF or error. */
static int fill(struct qc *c, int ms)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    ssize_t n;

    if (poll(&p, 1, ms < 0 ? 0 : ms) <= 0)
        return 0;
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 131072;
        char *b = realloc(c->buf, cap);

        if (!b)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    return 1;
}

json_object *qc_read(struct qc *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        int got;

        if (nl) {
            size_t line = (size_t)(nl - c->buf) + 1;
            json_object *o = NULL;

            if (line < 2 || nl[-1] != '\r') {
                fail(c, "%s", "a message without CRLF");
            } else {
                json_tokener *t = json_tokener_new();

                json_tokener_set_flags(t, JSON_TOKENER_STRICT);
                o = json_tokener_parse_ex(t, c->buf, (int)line - 2);
                if (json_tokener_get_error(t) != json_tokener_success ||
                    json_tokener_get_parse_end(t) != line - 2 ||
                    !json_object_is_type(o, json_type_object)) {
                    json_object_put(o);
                    o = NULL;
                    fail(c, "%s", "a line that is not one JSON object");
                }
                json_tokener_free(t);
            }
            memmove(c->buf, nl + 1, c->len - line);
            c->len -= line;
            return o;
        }
        /* fill() says which: poll() may time out a little before the
         * deadline, as its timeout is whole milliseconds. */
        got = fill(c, (int)(deadline - now_ms()));
        if (got <= 0) {
            fail(c, "%s", got < 0 ? "connection closed" : "timed out");
            return NULL;
        }
    }
}

static void keep_event(struct qc *c, json_object *ev)
{
    if (c->nevents == QC_MAX_EVENTS) {
        json_object_put(c->events[0]);
        memmove(c->events, c->events + 1, sizeof(c->events[0]) * (QC_MAX_EVENTS - 1));
        c->nevents--;
    }
    c->events[c->nevents++] = ev;
}

int qc_open_fd(struct qc *c, int fd, int timeout_ms)
{
    json_object *qmp;

    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->greeting = qc_read(c, timeout_ms);
    if (!c->greeting || !json_object_object_get_ex(c->greeting, "QMP", &qmp)) {
        if (c->greeting)
            fail(c, "%s", "the first message is not the greeting");
        return -1;
    }
    return 0;
}

int qc_connect(struct qc *c, const char *path, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    double deadline = now_ms() + timeout_ms;
    int fd;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (;;) {
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return qc_open_fd(c, fd, (int)(deadline - now_ms()));
        close(fd);
        fd = -1;
        if (now_ms() >= deadline)
            break;
        usleep(5000);
    }
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    snprintf(c->error, sizeof(c->error), "cannot connect to %s: %s", path, strerror(errno));
    return -1;
}

int qc_connect_ready(struct qc *c, const char *path, int timeout_ms)
{
    json_object *r;

    if (qc_connect(c, path, timeout_ms) < 0)
        return -1;
    r = qc_execute(c, "qmp_capabilities", timeout_ms);
    if (!r)
        return -1;
    json_object_put(r);
    return 0;
}

void qc_close(struct qc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    json_object_put(c->greeting);
    c->greeting = NULL;
    for (unsigned i = 0; i < c->nevents; i++)
        json_object_put(c->events[i]);
    c->nevents = 0;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

int qc_send_raw(struct qc *c, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            fail(c, "send: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

json_object *qc_cmd(struct qc *c, const char *json, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;

    if (qc_send_raw(c, json, strlen(json)) < 0 || qc_send_raw(c, "\r\n", 2) < 0)
        return NULL;
    for (;;) {
        json_object *m = qc_read(c, (int)(deadline - now_ms()));

        if (!m)
            return NULL;
        if (!json_object_object_get_ex(m, "event", NULL))
            return m;
        keep_event(c, m);
    }
}

json_object *qc_execute(struct qc *c, const char *name, int timeout_ms)
{
    char req[256];
    json_object *r, *ret = NULL;

    snprintf(req, sizeof(req), "{\"execute\": \"%s\"}", name);
    r = qc_cmd(c, req, timeout_ms);
    if (!r)
        return NULL;
    if (json_object_object_get_ex(r, "return", &ret))
        json_object_get(ret);
    else
        fail(c, "%s", qc_str(r, "error.desc"));
    json_object_put(r);
    return ret;
}

json_object *qc_event(struct qc *c, const char *name, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        json_object *m;

        for (unsigned i = 0; i < c->nevents; i++)
            if (!strcmp(qc_str(c->events[i], "event"), name)) {
                m = c->events[i];
                memmove(c->events + i, c->events + i + 1,
                        sizeof(c->events[0]) * (c->nevents - i - 1));
                c->nevents--;
                return m;
            }
        m = qc_read(c, (int)(deadline - now_ms()));
        if (!m)
            return NULL;
        if (!json_object_object_get_ex(m, "event", NULL)) {
            fail(c, "%s", "a reply arrived while waiting for an event");
            json_object_put(m);
            return NULL;
        }
        keep_event(c, m);
    }
}

unsigned qc_events_queued(const struct qc *c, const char *name)
{
    unsigned n = 0;

    for (unsigned i = 0; i < c->nevents; i++)
        n += !name || !strcmp(qc_str(c->events[i], "event"), name);
    return n;
}

bool qc_wait_eof(struct qc *c, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        int r = fill(c, (int)(deadline - now_ms()));

        if (r < 0)
            return true;
        if (r == 0 && now_ms() >= deadline)
            return false;
    }
}

const char *qc_str(json_object *o, const char *path)
{
    char key[64];

    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);

        if (n >= sizeof(key))
            return "";
        memcpy(key, path, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(o, key, &o))
            return "";
        path += n + (dot ? 1 : 0);
    }
    return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : "";
}

const char *qc_error_class(json_object *reply)
{
    return qc_str(reply, "error.class");
}
