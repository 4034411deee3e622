/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's thread: listeners, clients and their output, on one libuv
 * loop that only this thread touches. Other threads hand it events through
 * a queue and an async handle.
 *
 * A client that does not read is not allowed to make kvmemu buffer without
 * bound: past MAX_PENDING bytes of unsent output it is disconnected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "monitor/monitor.h"

#define MAX_PENDING   (4u << 20)
#define FLUSH_TIMEOUT 1000 /* ms */

struct client;

struct listener {
    struct em_monitor *mon;
    uv_pipe_t pipe;
    char *path; /* created by us: removed at the end */
    int fd;     /* before start */
    bool listening;
    bool used;
};

struct client {
    struct em_monitor *mon;
    uv_pipe_t pipe;
    struct em_qmp_session *s;
    struct client *next;
    bool closing;
};

struct queued_event {
    char *line;
    size_t len;
    struct queued_event *next;
};

struct em_monitor {
    const struct em_qmp_machine *machine;
    struct kc_logger log;
    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t flush_timer;
    uint64_t flush_deadline; /* loop time */
    pthread_t thread;
    bool started;

    struct listener listeners[EM_MONITOR_MAX_LISTENERS];
    struct client *clients; /* loop thread only */

    pthread_mutex_t lock; /* the fields below */
    struct queued_event *events, **events_tail;
    bool stopping;
    unsigned nclients;
};

/* ---- output ---- */

struct write_req {
    uv_write_t req;
    char data[];
};

static void on_closed(uv_handle_t *h)
{
    struct client *c = h->data;

    em_qmp_session_destroy(c->s);
    free(c);
}

static void client_close(struct client *c)
{
    struct em_monitor *mon = c->mon;

    if (c->closing)
        return;
    c->closing = true;
    for (struct client **p = &mon->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    pthread_mutex_lock(&mon->lock);
    mon->nclients--;
    pthread_mutex_unlock(&mon->lock);
    uv_close((uv_handle_t *)&c->pipe, on_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status; /* a failed write: the read side sees the hang-up */
    free(req);
}

static void client_send(void *opaque, const char *msg, size_t len)
{
    struct client *c = opaque;
    struct write_req *w;
    uv_buf_t buf;

    if (c->closing)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) + len > MAX_PENDING) {
        kc_log(&c->mon->log, KC_LOG_WARN,
               "monitor: a client has not read %u bytes of output: disconnected", MAX_PENDING);
        client_close(c);
        return;
    }
    w = malloc(sizeof(*w) + len);
    if (!w) {
        client_close(c);
        return;
    }
    memcpy(w->data, msg, len);
    buf = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
        free(w);
        client_close(c);
    }
}

/* ---- input ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static _Thread_local char chunk[65536];

    (void)h;
    (void)suggested;
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = stream->data;

    if (n < 0) {
        client_close(c);
        return;
    }
    if (n > 0 && em_qmp_session_feed(c->s, buf->base, (size_t)n) < 0)
        client_close(c);
}

static int client_add(struct em_monitor *mon, int fd, uv_stream_t *server)
{
    struct client *c = calloc(1, sizeof(*c));
    int ret;

    if (!c)
        return -ENOMEM;
    c->mon = mon;
    uv_pipe_init(&mon->loop, &c->pipe, 0);
    c->pipe.data = c;
    ret = server ? uv_accept(server, (uv_stream_t *)&c->pipe) : uv_pipe_open(&c->pipe, fd);
    c->s = ret == 0 ? em_qmp_session_create(mon->machine, client_send, c) : NULL;
    if (!c->s) {
        kc_log(&mon->log, KC_LOG_WARN, "monitor: cannot take a client: %s",
               ret < 0 ? uv_strerror(ret) : "out of memory");
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_closed);
        return ret < 0 ? ret : -ENOMEM;
    }
    c->next = mon->clients;
    mon->clients = c;
    pthread_mutex_lock(&mon->lock);
    mon->nclients++;
    pthread_mutex_unlock(&mon->lock);
    em_qmp_session_greet(c->s);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct listener *l = server->data;

    if (status < 0) {
        kc_log(&l->mon->log, KC_LOG_WARN, "monitor: accept: %s", uv_strerror(status));
        return;
    }
    client_add(l->mon, -1, server);
}

/* ---- events and stopping ---- */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_everything(struct em_monitor *mon)
{
    while (mon->clients)
        client_close(mon->clients);
    for (unsigned i = 0; i < EM_MONITOR_MAX_LISTENERS; i++)
        if (mon->listeners[i].listening)
            uv_close((uv_handle_t *)&mon->listeners[i].pipe, on_handle_closed);
    uv_close((uv_handle_t *)&mon->wake, on_handle_closed);
    uv_close((uv_handle_t *)&mon->flush_timer, on_handle_closed);
}

static bool output_pending(struct em_monitor *mon)
{
    for (struct client *c = mon->clients; c; c = c->next)
        if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > 0)
            return true;
    return false;
}

static void on_flush_timer(uv_timer_t *t)
{
    struct em_monitor *mon = t->data;

    if (!output_pending(mon) || uv_now(&mon->loop) >= mon->flush_deadline)
        close_everything(mon);
}

static void on_wake(uv_async_t *h)
{
    struct em_monitor *mon = h->data;
    struct queued_event *ev;
    bool stopping;

    pthread_mutex_lock(&mon->lock);
    ev = mon->events;
    mon->events = NULL;
    mon->events_tail = &mon->events;
    stopping = mon->stopping;
    pthread_mutex_unlock(&mon->lock);
    while (ev) {
        struct queued_event *next = ev->next;

        /* An event raised while a client negotiates is not for it. */
        for (struct client *c = mon->clients, *cn; c; c = cn) {
            cn = c->next;
            if (em_qmp_session_in_command_mode(c->s))
                client_send(c, ev->line, ev->len);
        }
        free(ev->line);
        free(ev);
        ev = next;
    }
    if (stopping && !uv_is_closing((uv_handle_t *)&mon->wake)) {
        /* No new clients; what was written goes out, then all closes. */
        for (unsigned i = 0; i < EM_MONITOR_MAX_LISTENERS; i++)
            if (mon->listeners[i].listening) {
                uv_close((uv_handle_t *)&mon->listeners[i].pipe, on_handle_closed);
                mon->listeners[i].listening = false;
            }
        for (struct client *c = mon->clients; c; c = c->next)
            uv_read_stop((uv_stream_t *)&c->pipe);
        mon->flush_deadline = uv_now(&mon->loop) + FLUSH_TIMEOUT;
        uv_timer_start(&mon->flush_timer, on_flush_timer, 0, 10);
    }
}

void em_monitor_event(struct em_monitor *mon, const char *event, json_object *data)
{
    struct queued_event *ev;

    if (!mon) {
        json_object_put(data);
        return;
    }
    ev = calloc(1, sizeof(*ev));
    if (ev)
        ev->line = em_qmp_event_line(event, data, &ev->len);
    else
        json_object_put(data);
    if (!ev || !ev->line) {
        kc_log(&mon->log, KC_LOG_WARN, "monitor: out of memory: event %s not sent", event);
        free(ev);
        return;
    }
    pthread_mutex_lock(&mon->lock);
    *mon->events_tail = ev;
    mon->events_tail = &ev->next;
    pthread_mutex_unlock(&mon->lock);
    uv_async_send(&mon->wake);
}

unsigned em_monitor_clients(struct em_monitor *mon)
{
    unsigned n;

    pthread_mutex_lock(&mon->lock);
    n = mon->nclients;
    pthread_mutex_unlock(&mon->lock);
    return n;
}

/* ---- setup ---- */

struct em_monitor *em_monitor_create(const struct em_qmp_machine *machine,
                                     const struct kc_logger *log)
{
    struct em_monitor *mon = calloc(1, sizeof(*mon));

    if (!mon) {
        kc_log(log, KC_LOG_ERROR, "monitor: out of memory");
        return NULL;
    }
    if (uv_loop_init(&mon->loop) < 0) {
        kc_log(log, KC_LOG_ERROR, "monitor: cannot create its event loop");
        free(mon);
        return NULL;
    }
    mon->machine = machine;
    mon->log = *log;
    mon->events_tail = &mon->events;
    pthread_mutex_init(&mon->lock, NULL);
    uv_async_init(&mon->loop, &mon->wake, on_wake);
    mon->wake.data = mon;
    uv_timer_init(&mon->loop, &mon->flush_timer);
    mon->flush_timer.data = mon;
    for (unsigned i = 0; i < EM_MONITOR_MAX_LISTENERS; i++)
        mon->listeners[i].fd = -1;
    return mon;
}

static struct listener *new_listener(struct em_monitor *mon, const char *what)
{
    for (unsigned i = 0; i < EM_MONITOR_MAX_LISTENERS; i++)
        if (!mon->listeners[i].used) {
            mon->listeners[i].used = true;
            mon->listeners[i].mon = mon;
            return &mon->listeners[i];
        }
    kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: at most %d monitors", what,
           EM_MONITOR_MAX_LISTENERS);
    return NULL;
}

static int start_listening(struct em_monitor *mon, struct listener *l, const char *what)
{
    int ret;

    l->pipe.data = l;
    ret = uv_listen((uv_stream_t *)&l->pipe, 8, on_connection);
    if (ret < 0) {
        kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: listen: %s", what, uv_strerror(ret));
        return ret;
    }
    l->listening = true;
    return 0;
}

int em_monitor_listen_unix(struct em_monitor *mon, const char *path)
{
    struct listener *l = new_listener(mon, path);
    struct stat st;
    mode_t old;
    int ret;

    if (!l)
        return -ENOSPC;
    /* A socket left by a kvmemu that died is replaced; any other file is
     * not ours to remove. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: exists and is not a socket", path);
            l->used = false;
            return -EEXIST;
        }
        unlink(path);
    }
    uv_pipe_init(&mon->loop, &l->pipe, 0);
    /* Only our user may connect: the monitor controls the VM. The umask
     * covers the moment between bind and chmod. */
    old = umask(077);
    ret = uv_pipe_bind(&l->pipe, path);
    umask(old);
    if (ret == 0 && chmod(path, 0600) < 0)
        ret = -errno;
    if (ret < 0) {
        kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: %s", path, uv_strerror(ret));
        uv_close((uv_handle_t *)&l->pipe, on_handle_closed);
        uv_run(&mon->loop, UV_RUN_NOWAIT);
        l->used = false;
        return ret;
    }
    l->path = strdup(path);
    ret = start_listening(mon, l, path);
    if (ret < 0) {
        unlink(path);
        free(l->path);
        l->path = NULL;
        uv_close((uv_handle_t *)&l->pipe, on_handle_closed);
        uv_run(&mon->loop, UV_RUN_NOWAIT);
        l->used = false;
    }
    return ret;
}

int em_monitor_listen_fd(struct em_monitor *mon, int fd)
{
    char what[32];
    struct listener *l;
    int accepting = 0, type = 0, ret;
    socklen_t len = sizeof(accepting);

    snprintf(what, sizeof(what), "fd=%d", fd);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &(socklen_t){ sizeof(type) }) < 0 ||
        type != SOCK_STREAM) {
        kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: not a stream socket", what);
        return -ENOTSOCK;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0)
        accepting = 0;
    if (!accepting) {
        /* One client, already connected; it is greeted once we run. */
        ret = client_add(mon, fd, NULL);
        if (ret < 0)
            kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: %s", what, uv_strerror(ret));
        return ret;
    }
    l = new_listener(mon, what);
    if (!l)
        return -ENOSPC;
    uv_pipe_init(&mon->loop, &l->pipe, 0);
    ret = uv_pipe_open(&l->pipe, fd);
    if (ret == 0)
        ret = start_listening(mon, l, what);
    else
        kc_log(&mon->log, KC_LOG_ERROR, "monitor %s: %s", what, uv_strerror(ret));
    if (ret < 0) {
        uv_close((uv_handle_t *)&l->pipe, on_handle_closed);
        uv_run(&mon->loop, UV_RUN_NOWAIT);
        l->used = false;
    }
    return ret;
}

static void *monitor_thread(void *arg)
{
    struct em_monitor *mon = arg;

    uv_run(&mon->loop, UV_RUN_DEFAULT);
    return NULL;
}

int em_monitor_start(struct em_monitor *mon)
{
    sigset_t all, old;
    int ret;

    /* Signals are the main thread's business. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ret = pthread_create(&mon->thread, NULL, monitor_thread, mon);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret != 0) {
        kc_log(&mon->log, KC_LOG_ERROR, "monitor: cannot start its thread: %s", strerror(ret));
        return -ret;
    }
    mon->started = true;
    return 0;
}

void em_monitor_destroy(struct em_monitor *mon)
{
    if (!mon)
        return;
    pthread_mutex_lock(&mon->lock);
    mon->stopping = true;
    pthread_mutex_unlock(&mon->lock);
    if (mon->started) {
        uv_async_send(&mon->wake);
        pthread_join(mon->thread, NULL);
    } else {
        close_everything(mon);
        uv_run(&mon->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&mon->loop);
    for (unsigned i = 0; i < EM_MONITOR_MAX_LISTENERS; i++)
        if (mon->listeners[i].path) {
            unlink(mon->listeners[i].path);
            free(mon->listeners[i].path);
        }
    while (mon->events) {
        struct queued_event *next = mon->events->next;

        free(mon->events->line);
        free(mon->events);
        mon->events = next;
    }
    pthread_mutex_destroy(&mon->lock);
    free(mon);
}
