/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio device core: status state machine, features, queues, reset,
 * and the device's I/O thread (a libuv loop).
 *
 * Status rules (virtio 1.2, 2.1 and 3.1.1), as this core applies them:
 *  - writing 0 resets the device;
 *  - the driver cannot clear bits other than by a reset; NEEDS_RESET is the
 *    device's alone;
 *  - FEATURES_OK sticks only if the driver's features are a subset of the
 *    device's, include VERSION_1, and the device accepts them; otherwise
 *    the driver reads it back clear and gives up;
 *  - DRIVER_OK without FEATURES_OK is a driver bug: NEEDS_RESET;
 *  - queue registers and features are frozen from DRIVER_OK on.
 *
 * libuv is not thread-safe: only the I/O thread touches its loop. Other
 * threads that want a watch or a timer changed record it under the lock
 * and wake the thread, which applies it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio/virtio.h"

#define NO_VECTOR   0xffff
#define MAX_WATCHES 8
#define MAX_TIMERS  4

struct queue {
    struct em_virtio_queue_regs regs;
    int kick_fd;
    bool kick_poll_ready;
    uv_poll_t kick_poll;
    struct em_vq vq;
};

struct em_virtio_watch {
    struct em_virtio_dev *vd;
    uv_poll_t poll;
    int fd;
    int want;    /* protected by vd->lock */
    int current; /* I/O thread only */
    void (*cb)(void *dev, int events);
    void *dev;
};

struct timer_req {
    uv_timer_t timer;
    bool armed_req; /* a pending request: protected by vd->lock */
    bool running;   /* I/O thread only */
    uint64_t ms;
    void (*cb)(void *dev);
    void *dev;
    struct em_virtio_dev *vd;
};

struct em_virtio_dev {
    const struct em_virtio_device_ops *ops;
    void *dev;
    const struct kc_mem *mem;
    struct kc_logger log;
    const struct em_virtio_transport_ops *tops;
    void *transport;

    pthread_mutex_t lock;
    uint8_t status;
    uint64_t device_features;
    uint64_t driver_features;
    uint8_t generation;
    uint16_t config_vector;
    bool failure_logged;
    /* A register write ignored because it came too late is logged once
     * per reset: a hostile driver must not flood the log. */
    bool ignored_logged;
    struct queue q[EM_VIRTIO_MAX_QUEUES];

    /* The I/O thread. */
    uv_loop_t loop;
    uv_async_t wake;
    pthread_t thread;
    bool thread_started;
    bool stopping;
    unsigned nr_watches;
    struct em_virtio_watch watches[MAX_WATCHES];
    unsigned nr_timers;
    struct timer_req timers[MAX_TIMERS];
};

static void vlog(struct em_virtio_dev *vd, enum kc_log_level level, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    kc_log(&vd->log, level, "%s: %s", vd->ops->name, msg);
}

static void warn(struct em_virtio_dev *vd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warn(struct em_virtio_dev *vd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(vd, KC_LOG_WARN, fmt, ap);
    va_end(ap);
}

/* ---- NEEDS_RESET ---- */

static void needs_reset_locked(struct em_virtio_dev *vd, const char *why)
{
    if (!vd->failure_logged) {
        warn(vd, "the driver broke the rules (%s): device needs reset", why);
        vd->failure_logged = true;
    }
    if (vd->status & EM_VIRTIO_S_NEEDS_RESET)
        return;
    vd->status |= EM_VIRTIO_S_NEEDS_RESET;
    /* Only a driver that got as far as DRIVER_OK is told by interrupt. */
    if ((vd->status & EM_VIRTIO_S_DRIVER_OK) && vd->tops)
        vd->tops->notify_config(vd->transport);
}

void em_virtio_fail(struct em_virtio_dev *vd, const char *fmt, ...)
{
    char why[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    needs_reset_locked(vd, why);
}

void em_virtio_queue_broken(struct em_virtio_dev *vd, unsigned q)
{
    char why[220];

    snprintf(why, sizeof(why), "queue %u: %s", q, vd->q[q].vq.why);
    needs_reset_locked(vd, why);
}

bool em_virtio_needs_reset(const struct em_virtio_dev *vd)
{
    return vd->status & EM_VIRTIO_S_NEEDS_RESET;
}

/* ---- the I/O thread ---- */

static bool serving(const struct em_virtio_dev *vd)
{
    return (vd->status & (EM_VIRTIO_S_DRIVER_OK | EM_VIRTIO_S_NEEDS_RESET)) ==
           EM_VIRTIO_S_DRIVER_OK;
}

static void on_kick(uv_poll_t *h, int status, int events)
{
    struct queue *q = h->data;
    struct em_virtio_dev *vd = h->loop->data;
    unsigned idx = (unsigned)(q - vd->q);
    uint64_t count;

    (void)status;
    (void)events;
    /* Clear the eventfd first: a kick arriving while we work sets it again. */
    if (read(q->kick_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&vd->lock);
    if (serving(vd) && q->regs.enabled)
        vd->ops->queue_notify(vd->dev, idx);
    pthread_mutex_unlock(&vd->lock);
}

static void on_watch(uv_poll_t *h, int status, int events)
{
    struct em_virtio_watch *w = h->data;

    pthread_mutex_lock(&w->vd->lock);
    w->cb(w->dev, status < 0 ? UV_READABLE | UV_WRITABLE : events);
    pthread_mutex_unlock(&w->vd->lock);
}

static void on_timer(uv_timer_t *h)
{
    struct timer_req *t = h->data;

    t->running = false;
    pthread_mutex_lock(&t->vd->lock);
    t->cb(t->dev);
    pthread_mutex_unlock(&t->vd->lock);
}

/* Applies what other threads asked for: watch masks, timers, stop. */
static void on_wake(uv_async_t *h)
{
    struct em_virtio_dev *vd = h->data;
    bool stop;

    pthread_mutex_lock(&vd->lock);
    stop = vd->stopping;
    for (unsigned i = 0; i < vd->nr_watches; i++) {
        struct em_virtio_watch *w = &vd->watches[i];
        int want = stop ? 0 : w->want;

        if (want == w->current)
            continue;
        if (want)
            uv_poll_start(&w->poll, want, on_watch);
        else
            uv_poll_stop(&w->poll);
        w->current = want;
    }
    for (unsigned i = 0; i < vd->nr_timers; i++) {
        struct timer_req *t = &vd->timers[i];

        if (t->armed_req && !stop && !t->running) {
            t->running = true;
            uv_timer_start(&t->timer, on_timer, t->ms, 0);
        }
        t->armed_req = false;
    }
    pthread_mutex_unlock(&vd->lock);
    if (stop)
        uv_stop(&vd->loop);
}

static void *io_thread(void *arg)
{
    struct em_virtio_dev *vd = arg;

    uv_run(&vd->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

/* ---- creation ---- */

static void reset_queue_regs(struct em_virtio_dev *vd)
{
    for (unsigned i = 0; i < vd->ops->num_queues; i++) {
        struct queue *q = &vd->q[i];

        q->regs =
            (struct em_virtio_queue_regs){ .size = vd->ops->queue_max_size, .vector = NO_VECTOR };
        q->vq.size = 0;
        q->vq.broken = false;
    }
}

int em_virtio_start(struct em_virtio_dev *vd)
{
    sigset_t all, old;
    int ret;

    /* Signals are the main thread's business. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ret = pthread_create(&vd->thread, NULL, io_thread, vd);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret) {
        kc_log(&vd->log, KC_LOG_ERROR, "%s: cannot start its I/O thread: %s", vd->ops->name,
               strerror(ret));
        return -ret;
    }
    vd->thread_started = true;
    return 0;
}

struct em_virtio_dev *em_virtio_create(const struct em_virtio_device_ops *ops, void *dev,
                                       const struct kc_mem *mem, const struct kc_logger *log)
{
    struct em_virtio_dev *vd;

    if (ops->num_queues == 0 || ops->num_queues > EM_VIRTIO_MAX_QUEUES ||
        ops->queue_max_size == 0 || ops->queue_max_size > EM_VQ_MAX_SIZE ||
        (ops->queue_max_size & (ops->queue_max_size - 1))) {
        kc_log(log, KC_LOG_ERROR, "%s: %u queues of %u entries is not a valid device", ops->name,
               ops->num_queues, ops->queue_max_size);
        return NULL;
    }
    vd = calloc(1, sizeof(*vd));
    if (!vd) {
        kc_log(log, KC_LOG_ERROR, "%s: out of memory", ops->name);
        return NULL;
    }
    vd->ops = ops;
    vd->dev = dev;
    vd->mem = mem;
    vd->log = log ? *log : KC_LOGGER_DEFAULT;
    vd->config_vector = NO_VECTOR;
    pthread_mutex_init(&vd->lock, NULL);
    for (unsigned i = 0; i < EM_VIRTIO_MAX_QUEUES; i++)
        vd->q[i].kick_fd = -1;
    reset_queue_regs(vd);
    if (uv_loop_init(&vd->loop) < 0) {
        kc_log(&vd->log, KC_LOG_ERROR, "%s: cannot create its event loop", ops->name);
        pthread_mutex_destroy(&vd->lock);
        free(vd);
        return NULL;
    }
    vd->loop.data = vd;
    uv_async_init(&vd->loop, &vd->wake, on_wake);
    vd->wake.data = vd;
    for (unsigned i = 0; i < ops->num_queues; i++) {
        struct queue *q = &vd->q[i];

        q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->kick_fd < 0 || uv_poll_init(&vd->loop, &q->kick_poll, q->kick_fd) < 0) {
            kc_log(&vd->log, KC_LOG_ERROR, "%s: queue %u: cannot create its kick eventfd: %s",
                   ops->name, i, strerror(errno));
            em_virtio_destroy(vd);
            return NULL;
        }
        q->kick_poll_ready = true;
        q->kick_poll.data = q;
        uv_poll_start(&q->kick_poll, UV_READABLE, on_kick);
    }
    vd->device_features = (ops->features ? ops->features(dev) : 0) | EM_VIRTIO_F_VERSION_1 |
                          EM_VIRTIO_F_EVENT_IDX | EM_VIRTIO_F_INDIRECT_DESC;
    return vd;
}

void em_virtio_destroy(struct em_virtio_dev *vd)
{
    if (!vd)
        return;
    if (vd->thread_started) {
        pthread_mutex_lock(&vd->lock);
        vd->stopping = true;
        pthread_mutex_unlock(&vd->lock);
        uv_async_send(&vd->wake);
        pthread_join(vd->thread, NULL);
    }
    pthread_mutex_lock(&vd->lock);
    if (vd->status)
        vd->ops->reset(vd->dev);
    vd->status = 0;
    pthread_mutex_unlock(&vd->lock);
    /* The thread is gone: close every handle on this thread. */
    for (unsigned i = 0; i < vd->ops->num_queues; i++)
        if (vd->q[i].kick_poll_ready)
            uv_close((uv_handle_t *)&vd->q[i].kick_poll, close_cb);
    for (unsigned i = 0; i < vd->nr_watches; i++)
        uv_close((uv_handle_t *)&vd->watches[i].poll, close_cb);
    for (unsigned i = 0; i < vd->nr_timers; i++)
        uv_close((uv_handle_t *)&vd->timers[i].timer, close_cb);
    uv_close((uv_handle_t *)&vd->wake, close_cb);
    uv_run(&vd->loop, UV_RUN_DEFAULT);
    uv_loop_close(&vd->loop);
    for (unsigned i = 0; i < vd->ops->num_queues; i++)
        if (vd->q[i].kick_fd >= 0)
            close(vd->q[i].kick_fd);
    pthread_mutex_destroy(&vd->lock);
    if (vd->ops->destroy)
        vd->ops->destroy(vd->dev);
    free(vd);
}

void em_virtio_set_transport(struct em_virtio_dev *vd, const struct em_virtio_transport_ops *ops,
                             void *transport)
{
    pthread_mutex_lock(&vd->lock);
    vd->tops = ops;
    vd->transport = transport;
    pthread_mutex_unlock(&vd->lock);
}

/* ---- status and features ---- */

uint8_t em_virtio_status(struct em_virtio_dev *vd)
{
    uint8_t s;

    pthread_mutex_lock(&vd->lock);
    s = vd->status;
    pthread_mutex_unlock(&vd->lock);
    return s;
}

static void reset_locked(struct em_virtio_dev *vd)
{
    if (vd->status)
        vd->ops->reset(vd->dev);
    vd->status = 0;
    vd->driver_features = 0;
    vd->failure_logged = false;
    vd->ignored_logged = false;
    vd->config_vector = NO_VECTOR;
    reset_queue_regs(vd);
}

static bool accept_features(struct em_virtio_dev *vd)
{
    uint64_t f = vd->driver_features;

    if (f & ~vd->device_features) {
        warn(vd, "the driver accepted features 0x%llx the device does not offer",
             (unsigned long long)(f & ~vd->device_features));
        return false;
    }
    if (!(f & EM_VIRTIO_F_VERSION_1)) {
        warn(vd, "the driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not "
                 "supported)");
        return false;
    }
    return !vd->ops->features_ok || vd->ops->features_ok(vd->dev, f);
}

static void driver_ok_locked(struct em_virtio_dev *vd)
{
    if (!(vd->status & EM_VIRTIO_S_FEATURES_OK)) {
        needs_reset_locked(vd, "DRIVER_OK without FEATURES_OK");
        return;
    }
    vd->status |= EM_VIRTIO_S_DRIVER_OK;
    if (vd->ops->start && vd->ops->start(vd->dev) < 0) {
        needs_reset_locked(vd, "the device could not start");
        return;
    }
    /* Buffers the driver made available before DRIVER_OK are served now. */
    for (unsigned i = 0; i < vd->ops->num_queues; i++)
        if (vd->q[i].regs.enabled)
            em_virtio_kick(vd, i);
}

void em_virtio_set_status(struct em_virtio_dev *vd, uint8_t status)
{
    uint8_t added;

    pthread_mutex_lock(&vd->lock);
    if (status == 0) {
        reset_locked(vd);
        goto out;
    }
    status &= (uint8_t)~EM_VIRTIO_S_NEEDS_RESET;
    added = status & (uint8_t)~vd->status;
    /* Bits are only ever added; FEATURES_OK and DRIVER_OK get checked. */
    vd->status |= added & (uint8_t) ~(EM_VIRTIO_S_FEATURES_OK | EM_VIRTIO_S_DRIVER_OK);
    if ((added & EM_VIRTIO_S_FEATURES_OK) && accept_features(vd))
        vd->status |= EM_VIRTIO_S_FEATURES_OK;
    if (added & EM_VIRTIO_S_DRIVER_OK)
        driver_ok_locked(vd);
out:
    pthread_mutex_unlock(&vd->lock);
}

uint64_t em_virtio_device_features(struct em_virtio_dev *vd)
{
    return vd->device_features;
}

uint64_t em_virtio_driver_features(struct em_virtio_dev *vd)
{
    uint64_t f;

    pthread_mutex_lock(&vd->lock);
    f = vd->driver_features;
    pthread_mutex_unlock(&vd->lock);
    return f;
}

uint64_t em_virtio_negotiated(const struct em_virtio_dev *vd)
{
    return vd->driver_features;
}

void em_virtio_set_driver_features(struct em_virtio_dev *vd, unsigned select, uint32_t value)
{
    pthread_mutex_lock(&vd->lock);
    if (vd->status & EM_VIRTIO_S_FEATURES_OK) {
        if (!vd->ignored_logged)
            warn(vd, "driver features written after FEATURES_OK: ignored");
        vd->ignored_logged = true;
    } else if (select == 0) {
        vd->driver_features = (vd->driver_features & ~0xffffffffull) | value;
    } else if (select == 1) {
        vd->driver_features = (vd->driver_features & 0xffffffffull) | (uint64_t)value << 32;
    }
    /* Other selects address features no device here has: the write is
     * lost, and FEATURES_OK would refuse them anyway. */
    pthread_mutex_unlock(&vd->lock);
}

uint8_t em_virtio_config_generation(struct em_virtio_dev *vd)
{
    uint8_t g;

    pthread_mutex_lock(&vd->lock);
    g = vd->generation;
    pthread_mutex_unlock(&vd->lock);
    return g;
}

void em_virtio_config_read(struct em_virtio_dev *vd, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t size = vd->ops->config_size;

    memset(buf, 0xff, len);
    if (offset >= size || len > size - offset || !vd->ops->config_read)
        return;
    pthread_mutex_lock(&vd->lock);
    vd->ops->config_read(vd->dev, offset, buf, len);
    pthread_mutex_unlock(&vd->lock);
}

void em_virtio_config_write(struct em_virtio_dev *vd, uint32_t offset, const void *buf,
                            uint32_t len)
{
    uint32_t size = vd->ops->config_size;

    if (offset >= size || len > size - offset || !vd->ops->config_write)
        return;
    pthread_mutex_lock(&vd->lock);
    vd->ops->config_write(vd->dev, offset, buf, len);
    pthread_mutex_unlock(&vd->lock);
}

void em_virtio_config_changed(struct em_virtio_dev *vd)
{
    vd->generation++;
    if ((vd->status & EM_VIRTIO_S_DRIVER_OK) && vd->tops)
        vd->tops->notify_config(vd->transport);
}

/* ---- queues ---- */

unsigned em_virtio_num_queues(const struct em_virtio_dev *vd)
{
    return vd->ops->num_queues;
}

uint16_t em_virtio_queue_max_size(const struct em_virtio_dev *vd)
{
    return vd->ops->queue_max_size;
}

uint16_t em_virtio_device_id(const struct em_virtio_dev *vd)
{
    return vd->ops->device_id;
}

uint32_t em_virtio_config_size(const struct em_virtio_dev *vd)
{
    return vd->ops->config_size;
}

const char *em_virtio_name(const struct em_virtio_dev *vd)
{
    return vd->ops->name;
}

void *em_virtio_device_state(const struct em_virtio_dev *vd)
{
    return vd->dev;
}

void em_virtio_queue_regs(struct em_virtio_dev *vd, unsigned q, struct em_virtio_queue_regs *r)
{
    memset(r, 0, sizeof(*r));
    r->vector = NO_VECTOR;
    if (q >= vd->ops->num_queues)
        return; /* the spec: a missing queue reads with size 0 */
    pthread_mutex_lock(&vd->lock);
    *r = vd->q[q].regs;
    pthread_mutex_unlock(&vd->lock);
}

/* Queue registers may change only before the queue is enabled and before
 * DRIVER_OK. */
static struct queue *writable_queue(struct em_virtio_dev *vd, unsigned q, const char *what)
{
    if (q >= vd->ops->num_queues)
        return NULL;
    if (vd->q[q].regs.enabled || (vd->status & EM_VIRTIO_S_DRIVER_OK)) {
        if (!vd->ignored_logged)
            warn(vd, "queue %u: %s written once the queue is live: ignored", q, what);
        vd->ignored_logged = true;
        return NULL;
    }
    return &vd->q[q];
}

void em_virtio_queue_set_size(struct em_virtio_dev *vd, unsigned q, uint16_t size)
{
    struct queue *qu;

    pthread_mutex_lock(&vd->lock);
    qu = writable_queue(vd, q, "queue_size");
    if (qu)
        qu->regs.size = size; /* checked when the queue is enabled */
    pthread_mutex_unlock(&vd->lock);
}

void em_virtio_queue_set_rings(struct em_virtio_dev *vd, unsigned q, uint64_t desc, uint64_t avail,
                               uint64_t used)
{
    struct queue *qu;

    pthread_mutex_lock(&vd->lock);
    qu = writable_queue(vd, q, "a ring address");
    if (qu) {
        qu->regs.desc = desc;
        qu->regs.avail = avail;
        qu->regs.used = used;
    }
    pthread_mutex_unlock(&vd->lock);
}

void em_virtio_queue_enable(struct em_virtio_dev *vd, unsigned q)
{
    struct queue *qu;

    pthread_mutex_lock(&vd->lock);
    qu = writable_queue(vd, q, "queue_enable");
    if (qu) {
        bool ev = vd->driver_features & EM_VIRTIO_F_EVENT_IDX;
        bool ind = vd->driver_features & EM_VIRTIO_F_INDIRECT_DESC;

        if (qu->regs.size > vd->ops->queue_max_size) {
            char why[96];

            snprintf(why, sizeof(why), "queue %u: size %u is above the maximum %u", q,
                     qu->regs.size, vd->ops->queue_max_size);
            needs_reset_locked(vd, why);
        } else if (em_vq_init(&qu->vq, vd->mem, qu->regs.size, qu->regs.desc, qu->regs.avail,
                              qu->regs.used, ev, ind) < 0) {
            em_virtio_queue_broken(vd, q);
        } else {
            qu->regs.enabled = true;
        }
    }
    pthread_mutex_unlock(&vd->lock);
}

void em_virtio_queue_set_vector(struct em_virtio_dev *vd, unsigned q, uint16_t vector)
{
    pthread_mutex_lock(&vd->lock);
    if (q < vd->ops->num_queues)
        vd->q[q].regs.vector = vector;
    pthread_mutex_unlock(&vd->lock);
}

uint16_t em_virtio_config_vector(struct em_virtio_dev *vd)
{
    uint16_t v;

    pthread_mutex_lock(&vd->lock);
    v = vd->config_vector;
    pthread_mutex_unlock(&vd->lock);
    return v;
}

void em_virtio_set_config_vector(struct em_virtio_dev *vd, uint16_t vector)
{
    pthread_mutex_lock(&vd->lock);
    vd->config_vector = vector;
    pthread_mutex_unlock(&vd->lock);
}

int em_virtio_kick_fd(const struct em_virtio_dev *vd, unsigned q)
{
    return q < vd->ops->num_queues ? vd->q[q].kick_fd : -1;
}

void em_virtio_kick(struct em_virtio_dev *vd, unsigned q)
{
    uint64_t one = 1;

    if (q < vd->ops->num_queues && write(vd->q[q].kick_fd, &one, sizeof(one)) < 0)
        warn(vd, "queue %u: kick: %s", q, strerror(errno));
}

struct em_vq *em_virtio_vq(struct em_virtio_dev *vd, unsigned q)
{
    return q < vd->ops->num_queues && vd->q[q].regs.enabled ? &vd->q[q].vq : NULL;
}

void em_virtio_notify(struct em_virtio_dev *vd, unsigned q)
{
    if (q < vd->ops->num_queues && vd->tops && em_vq_should_notify(&vd->q[q].vq))
        vd->tops->notify_queue(vd->transport, q);
}

/* ---- watches and timers ---- */

struct em_virtio_watch *em_virtio_watch_fd(struct em_virtio_dev *vd, int fd, int events,
                                           void (*cb)(void *dev, int events), void *dev)
{
    struct em_virtio_watch *w;

    pthread_mutex_lock(&vd->lock);
    if (vd->nr_watches == MAX_WATCHES || vd->thread_started) {
        pthread_mutex_unlock(&vd->lock);
        kc_log(&vd->log, KC_LOG_ERROR, "%s: %s", vd->ops->name,
               vd->thread_started ? "descriptors are watched from before em_virtio_start()"
                                  : "too many watched descriptors");
        return NULL;
    }
    w = &vd->watches[vd->nr_watches];
    *w = (struct em_virtio_watch){ .vd = vd, .fd = fd, .want = events, .cb = cb, .dev = dev };
    /* uv_poll_init only registers the handle; the I/O thread starts it. */
    if (uv_poll_init(&vd->loop, &w->poll, fd) < 0) {
        pthread_mutex_unlock(&vd->lock);
        kc_log(&vd->log, KC_LOG_ERROR, "%s: cannot watch descriptor %d", vd->ops->name, fd);
        return NULL;
    }
    w->poll.data = w;
    vd->nr_watches++;
    pthread_mutex_unlock(&vd->lock);
    uv_async_send(&vd->wake);
    return w;
}

void em_virtio_watch_events(struct em_virtio_watch *w, int events)
{
    /* The caller holds the lock (a device callback) or is the I/O thread. */
    w->want = events;
    uv_async_send(&w->vd->wake);
}

void em_virtio_timer(struct em_virtio_dev *vd, uint64_t ms, void (*cb)(void *dev), void *dev)
{
    struct timer_req *t = NULL;

    for (unsigned i = 0; i < vd->nr_timers; i++)
        if (vd->timers[i].cb == cb && vd->timers[i].dev == dev)
            t = &vd->timers[i];
    if (!t) {
        if (vd->nr_timers == MAX_TIMERS) {
            warn(vd, "too many timers");
            return;
        }
        t = &vd->timers[vd->nr_timers];
        *t = (struct timer_req){ .cb = cb, .dev = dev, .vd = vd };
        /* Creating a handle from another thread is as unsafe as starting
         * it: after em_virtio_start(), only the I/O thread may. */
        if (vd->thread_started && !pthread_equal(pthread_self(), vd->thread)) {
            warn(vd, "a timer is first set up before em_virtio_start() or on the I/O thread");
            return;
        }
        uv_timer_init(&vd->loop, &t->timer);
        t->timer.data = t;
        vd->nr_timers++;
    }
    t->ms = ms;
    t->armed_req = true;
    uv_async_send(&vd->wake);
}

void em_virtio_lock(struct em_virtio_dev *vd)
{
    pthread_mutex_lock(&vd->lock);
}

void em_virtio_unlock(struct em_virtio_dev *vd)
{
    pthread_mutex_unlock(&vd->lock);
}

const struct kc_logger *em_virtio_logger(const struct em_virtio_dev *vd)
{
    return &vd->log;
}

const struct kc_mem *em_virtio_mem(const struct em_virtio_dev *vd)
{
    return vd->mem;
}
