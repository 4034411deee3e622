/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chardev core: picks the backend, moves input from a descriptor to
 * the frontend with flow control, writes output, and filters a terminal's
 * Ctrl-A escapes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chardev/internal.h"

const char em_escape_help[] = "C-a h    print this help\r\n"
                              "C-a x    exit kvmemu\r\n"
                              "C-a C-a  send C-a to the guest\r\n";

void em_chardev_config_init(struct em_chardev_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->notices = stderr;
    cfg->what = "serial";
    cfg->stdin_fd = -1;
    cfg->stdout_fd = -1;
}

void chardev_error(struct em_chardev *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->path && c->be != &em_chardev_pty_backend)
        kc_log(&c->log, KC_LOG_ERROR, "%s %s:%s: %s", c->what, c->be->name, c->path, msg);
    else
        kc_log(&c->log, KC_LOG_ERROR, "%s %s: %s", c->what, c->be ? c->be->name : "none", msg);
}

/* ---- escapes ---- */

unsigned em_escape_feed(struct em_escape *e, uint8_t in, uint8_t out[2],
                        enum em_escape_action *action)
{
    *action = EM_ESCAPE_NONE;
    if (!e->armed) {
        if (in == EM_ESCAPE_CHAR) {
            e->armed = true;
            return 0;
        }
        out[0] = in;
        return 1;
    }
    e->armed = false;
    switch (in) {
    case 'x':
        *action = EM_ESCAPE_QUIT;
        return 0;
    case 'h':
        *action = EM_ESCAPE_HELP;
        return 0;
    case EM_ESCAPE_CHAR:
        out[0] = EM_ESCAPE_CHAR;
        return 1;
    default:
        /* Not a command: the guest gets both bytes. */
        out[0] = EM_ESCAPE_CHAR;
        out[1] = in;
        return 2;
    }
}

/* ---- handles ---- */

void chardev_handle_close(uv_handle_t *h)
{
    free(h);
}

uv_poll_t *chardev_poll_new(struct em_chardev *c, int fd, int *err)
{
    uv_poll_t *p = calloc(1, sizeof(*p));
    int flags = fcntl(fd, F_GETFL);

    if (!p || flags < 0) {
        *err = p ? -errno : -ENOMEM;
        free(p);
        return NULL;
    }
    *err = uv_poll_init(c->loop, p, fd);
    /* libuv makes the descriptor non-blocking. That flag belongs to the
     * open file, which stdin shares with the shell (and often with stdout
     * and stderr): put it back. Our reads follow readiness, so they do not
     * block; backends that want non-blocking descriptors set it themselves. */
    fcntl(fd, F_SETFL, flags);
    if (*err < 0) {
        free(p);
        return NULL;
    }
    p->data = c;
    return p;
}

/* ---- input ---- */

/* Polls for input when there is nothing pending and the frontend is
 * attached, and for room when output waits in out_buf. */
static void poll_update(struct em_chardev *c);
static void flush_output(struct em_chardev *c);

static void deliver_pending(struct em_chardev *c)
{
    size_t taken;

    if (!c->pend_len || !c->fe)
        return;
    taken = c->fe->receive(c->fe_opaque, c->pending + c->pend_head, c->pend_len);
    if (taken > c->pend_len)
        taken = c->pend_len;
    c->pend_head += taken;
    c->pend_len -= taken;
    if (!c->pend_len)
        c->pend_head = 0;
}

static void escape_command(struct em_chardev *c, enum em_escape_action action)
{
    if (action == EM_ESCAPE_HELP && c->notices) {
        fputs(em_escape_help, c->notices);
        fflush(c->notices);
    } else if (action == EM_ESCAPE_QUIT) {
        if (c->notices) {
            /* \r: the terminal is in raw mode. */
            fputs("\r\nkvmemu: terminated by Ctrl-A x\r\n", c->notices);
            fflush(c->notices);
        }
        c->quit = true;
        if (c->fe && c->fe->quit)
            c->fe->quit(c->fe_opaque);
    }
}

/* Raw bytes into the (empty) pending buffer, through the escape filter. */
static void take_input(struct em_chardev *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n && !c->quit; i++) {
        enum em_escape_action action = EM_ESCAPE_NONE;
        uint8_t out[2];
        unsigned k;

        if (!c->escapes) {
            c->pending[c->pend_len++] = buf[i];
            continue;
        }
        k = em_escape_feed(&c->esc, buf[i], out, &action);
        memcpy(c->pending + c->pend_len, out, k);
        c->pend_len += k;
        if (action != EM_ESCAPE_NONE)
            escape_command(c, action);
    }
}

static void input_ended(struct em_chardev *c)
{
    chardev_input_stop(c);
    if (c->be && c->be->input_ended)
        c->be->input_ended(c);
}

static void read_input(struct em_chardev *c)
{
    uint8_t buf[CHARDEV_READ_CHUNK];
    ssize_t n = read(c->in_fd, buf, sizeof(buf));

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        /* End of input, a hangup or an error (ECONNRESET, EIO): the
         * backend decides what comes next. */
        input_ended(c);
        return;
    }
    take_input(c, buf, (size_t)n);
    deliver_pending(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct em_chardev *c = h->data;

    if (status < 0) {
        input_ended(c);
        return;
    }
    if (events & UV_WRITABLE)
        flush_output(c);
    if (events & UV_READABLE)
        read_input(c); /* may end the input, and with it in_poll */
    poll_update(c);
}

static void poll_update(struct em_chardev *c)
{
    int events = 0;

    if (!c->in_poll)
        return;
    if (c->fe && !c->quit && !c->pend_len)
        events |= UV_READABLE;
    pthread_mutex_lock(&c->out_lock);
    if (c->out_flushing && c->out_fd == c->in_fd)
        events |= UV_WRITABLE;
    pthread_mutex_unlock(&c->out_lock);
    if (events == c->in_events)
        return;
    if (events)
        uv_poll_start(c->in_poll, events, on_poll);
    else
        uv_poll_stop(c->in_poll);
    c->in_events = events;
}

int chardev_input_start(struct em_chardev *c, int fd)
{
    int err;
    uv_poll_t *p = chardev_poll_new(c, fd, &err);

    if (!p)
        return err;
    c->in_fd = fd;
    c->in_poll = p;
    c->in_events = 0;
    poll_update(c);
    return 0;
}

void chardev_input_stop(struct em_chardev *c)
{
    if (c->in_poll)
        uv_close((uv_handle_t *)c->in_poll, chardev_handle_close);
    c->in_poll = NULL;
    c->in_events = 0;
    c->in_fd = -1;
}

/* em_chardev_input_ready(), or output kept for a slow reader, from
 * another thread. */
static void on_wake(uv_async_t *h)
{
    struct em_chardev *c = h->data;

    deliver_pending(c);
    poll_update(c);
}

void em_chardev_input_ready(struct em_chardev *c)
{
    if (c)
        uv_async_send(c->wake);
}

/* ---- output ---- */

/* Forgets kept output, as dropped. Under out_lock. */
static void out_discard(struct em_chardev *c)
{
    c->dropped += c->out_len;
    c->out_head = 0;
    c->out_len = 0;
    c->out_flushing = false;
}

void chardev_set_output(struct em_chardev *c, int fd)
{
    pthread_mutex_lock(&c->out_lock);
    /* What the last client did not take is not for the next one. */
    if (fd != c->out_fd)
        out_discard(c);
    c->out_fd = fd;
    pthread_mutex_unlock(&c->out_lock);
}

/* Waits until fd takes data: a terminal or file someone else made
 * non-blocking. false if interrupted by a vCPU kick. */
static bool wait_writable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };

    while (poll(&p, 1, -1) < 0) {
        if (errno != EINTR || kc_vcpu_self())
            return false;
    }
    return true;
}

static ssize_t out_put(struct em_chardev *c, const uint8_t *buf, size_t n)
{
    return c->out_socket ? send(c->out_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT)
                         : write(c->out_fd, buf, n);
}

static bool out_would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK;
}

/* A full pty or socket, or a socket client gone, is not an error; anything
 * else is reported once. Under out_lock. */
static void out_failed(struct em_chardev *c, int err)
{
    if (!err || out_would_block(err) || err == EINTR ||
        (c->out_socket && (err == EPIPE || err == ECONNRESET)) || c->out_error_reported)
        return;
    c->out_error_reported = true;
    chardev_error(c, "cannot write output: %s; output that cannot be written is dropped",
                  strerror(err));
}

/* Appends to the ring what fits; returns how much did. Under out_lock. */
static size_t out_keep(struct em_chardev *c, const uint8_t *buf, size_t n)
{
    size_t room = CHARDEV_OUT_BUF - c->out_len, k = n < room ? n : room, done = 0;

    while (done < k) {
        size_t tail = (c->out_head + c->out_len) % CHARDEV_OUT_BUF;
        size_t seg = CHARDEV_OUT_BUF - tail;

        if (seg > k - done)
            seg = k - done;
        memcpy(c->out_buf + tail, buf + done, seg);
        c->out_len += seg;
        done += seg;
    }
    return k;
}

/* Loop thread: sends what the ring holds, as far as the descriptor takes
 * it; the poll asks again while anything is left. */
static void flush_output(struct em_chardev *c)
{
    pthread_mutex_lock(&c->out_lock);
    while (c->out_len && c->out_fd >= 0) {
        size_t seg = CHARDEV_OUT_BUF - c->out_head;
        ssize_t r = out_put(c, c->out_buf + c->out_head, seg < c->out_len ? seg : c->out_len);
        int err = r < 0 ? errno : EIO;

        if (r > 0) {
            c->written += (uint64_t)r;
            c->out_head = (c->out_head + (size_t)r) % CHARDEV_OUT_BUF;
            c->out_len -= (size_t)r;
            continue;
        }
        if (err == EINTR)
            continue;
        if (!out_would_block(err)) {
            out_failed(c, err);
            out_discard(c);
        }
        break;
    }
    if (!c->out_len) {
        c->out_head = 0;
        c->out_flushing = false;
    }
    pthread_mutex_unlock(&c->out_lock);
}

void em_chardev_write(struct em_chardev *c, const uint8_t *buf, size_t n)
{
    bool wake = false;
    int err = 0;

    if (!c || !n)
        return;
    pthread_mutex_lock(&c->out_lock);
    /* Straight to the descriptor, unless earlier output still waits: it
     * goes first. */
    while (n && c->out_fd >= 0 && !c->out_len) {
        ssize_t r = out_put(c, buf, n);

        if (r > 0) {
            c->written += (uint64_t)r;
            buf += r;
            n -= (size_t)r;
            continue;
        }
        err = r < 0 ? errno : EIO;
        /* A kick interrupts a vCPU blocked here so that it can stop or
         * pause: the byte is dropped rather than hold the VM up. */
        if (err == EINTR && !kc_vcpu_self())
            continue;
        if (out_would_block(err) && !c->out_nonblock && wait_writable(c->out_fd))
            continue;
        break;
    }
    /* A slow reader: keep what fits, for the loop thread to send when the
     * descriptor has room. Only what overflows the ring is dropped. */
    if (n && c->out_fd >= 0 && c->out_buf && (c->out_len || out_would_block(err))) {
        size_t k = out_keep(c, buf, n);

        n -= k;
        if (k && !c->out_flushing) {
            c->out_flushing = true;
            wake = true;
        }
    }
    c->dropped += n;
    if (n)
        out_failed(c, err);
    pthread_mutex_unlock(&c->out_lock);
    if (wake)
        uv_async_send(c->wake);
}

/* Closing: gives a slow reader up to timeout_ms to take the last output
 * (the guest's final words before a power-off). Loop thread. */
static void flush_before_close(struct em_chardev *c, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        struct pollfd p;

        flush_output(c);
        pthread_mutex_lock(&c->out_lock);
        p = (struct pollfd){ .fd = c->out_len ? c->out_fd : -1, .events = POLLOUT };
        pthread_mutex_unlock(&c->out_lock);
        if (p.fd < 0 || poll(&p, 1, 10) < 0)
            return;
    }
}

uint64_t em_chardev_written(struct em_chardev *c)
{
    uint64_t v;

    pthread_mutex_lock(&c->out_lock);
    v = c->written;
    pthread_mutex_unlock(&c->out_lock);
    return v;
}

uint64_t em_chardev_buffered(struct em_chardev *c)
{
    uint64_t v;

    pthread_mutex_lock(&c->out_lock);
    v = c->out_len;
    pthread_mutex_unlock(&c->out_lock);
    return v;
}

uint64_t em_chardev_dropped(struct em_chardev *c)
{
    uint64_t v;

    pthread_mutex_lock(&c->out_lock);
    v = c->dropped;
    pthread_mutex_unlock(&c->out_lock);
    return v;
}

bool em_chardev_connected(struct em_chardev *c)
{
    bool v;

    pthread_mutex_lock(&c->out_lock);
    v = c->be == &em_chardev_unix_backend && c->out_fd >= 0;
    pthread_mutex_unlock(&c->out_lock);
    return v;
}

const char *em_chardev_pty_path(const struct em_chardev *c)
{
    return c->be == &em_chardev_pty_backend && c->path ? c->path : "";
}

bool em_chardev_filename(struct em_chardev *c, char *buf, size_t len)
{
    bool open = true;

    if (c->be == &em_chardev_stdio_backend)
        snprintf(buf, len, "stdio");
    else if (c->be == &em_chardev_file_backend)
        snprintf(buf, len, "file:%s", c->path);
    else if (c->be == &em_chardev_pty_backend)
        snprintf(buf, len, "pty:%s", c->path ? c->path : "");
    else if (c->be == &em_chardev_unix_backend) {
        /* QEMU's form for a listening socket, and its client's state. */
        open = em_chardev_connected(c);
        snprintf(buf, len, "%sunix:%s,server=on", open ? "" : "disconnected:", c->path);
    } else
        snprintf(buf, len, "null");
    return open;
}

/* ---- life ---- */

static const struct chardev_backend *backend_of(enum em_chardev_kind kind)
{
    switch (kind) {
    case EM_CHARDEV_STDIO:
        return &em_chardev_stdio_backend;
    case EM_CHARDEV_FILE:
        return &em_chardev_file_backend;
    case EM_CHARDEV_UNIX:
        return &em_chardev_unix_backend;
    case EM_CHARDEV_PTY:
        return &em_chardev_pty_backend;
    default:
        return NULL;
    }
}

struct em_chardev *em_chardev_open(const struct em_chardev_config *cfg)
{
    struct em_chardev *c = calloc(1, sizeof(*c));
    const char *what = cfg->what ? cfg->what : "serial";
    struct kc_logger log = cfg->log ? *cfg->log : KC_LOGGER_DEFAULT;

    if (!c) {
        kc_log(&log, KC_LOG_ERROR, "%s: out of memory", what);
        return NULL;
    }
    c->be = backend_of(cfg->spec->kind);
    c->loop = cfg->loop;
    c->log = log;
    c->notices = cfg->notices;
    snprintf(c->what, sizeof(c->what), "%s", what);
    c->in_fd = -1;
    c->out_fd = -1;
    c->fd = -1;
    c->pty_slave = -1;
    c->tty_fd = -1;
    pthread_mutex_init(&c->out_lock, NULL);
    c->wake = calloc(1, sizeof(*c->wake));
    if (cfg->spec->path)
        c->path = strdup(cfg->spec->path);
    if (!c->wake || (cfg->spec->path && !c->path)) {
        kc_log(&log, KC_LOG_ERROR, "%s: out of memory", what);
        goto fail;
    }
    if (uv_async_init(c->loop, c->wake, on_wake) < 0) {
        kc_log(&log, KC_LOG_ERROR, "%s: cannot create an event-loop handle", what);
        goto fail;
    }
    c->wake->data = c;
    if (c->be && c->be->open(c, cfg) < 0) {
        uv_close((uv_handle_t *)c->wake, chardev_handle_close);
        c->wake = NULL;
        goto fail;
    }
    /* Only descriptors that must not block keep output for later. */
    if (c->out_nonblock) {
        c->out_buf = malloc(CHARDEV_OUT_BUF);
        if (!c->out_buf) {
            kc_log(&log, KC_LOG_ERROR, "%s: out of memory", what);
            c->be->close(c);
            uv_close((uv_handle_t *)c->wake, chardev_handle_close);
            c->wake = NULL;
            goto fail;
        }
    }
    return c;

fail:
    free(c->wake);
    pthread_mutex_destroy(&c->out_lock);
    free(c->path);
    free(c);
    return NULL;
}

void em_chardev_attach(struct em_chardev *c, const struct em_chardev_frontend *fe, void *opaque)
{
    c->fe = fe;
    c->fe_opaque = opaque;
    if (c->be && c->be->attach)
        c->be->attach(c);
    poll_update(c);
}

void em_chardev_close(struct em_chardev *c)
{
    if (!c)
        return;
    flush_before_close(c, 200);
    chardev_input_stop(c);
    uv_close((uv_handle_t *)c->wake, chardev_handle_close);
    if (c->be)
        c->be->close(c);
    pthread_mutex_destroy(&c->out_lock);
    free(c->out_buf);
    free(c->path);
    free(c);
}
