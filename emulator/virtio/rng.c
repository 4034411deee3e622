/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-rng (virtio 1.2, 5.4): one request queue whose device-writable
 * buffers are filled from getrandom(2), up to 64 KiB a request (the device
 * may use less than the whole buffer).
 *
 * Rate limit (--rng max-bytes=N,period=MS): at most N bytes in each period,
 * a period starting with the first request after the last one ended. When
 * the budget is spent, requests stay in the ring, kicks are off, and a
 * timer brings the device back when the period ends: nothing is lost and
 * nothing spins. A request is cut to the budget left rather than waiting
 * for a whole one. A reset does not refill the budget.
 *
 * A chain with nothing device-writable breaks the driver's side of 5.4.6.1
 * but harms nobody: it is completed with 0 bytes, as QEMU does, rather than
 * setting NEEDS_RESET. Readable parts of a chain are ignored. If getrandom
 * has nothing yet (GRND_NONBLOCK, an uninitialised pool) the request is
 * kept and tried again on a short timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/virtio_ids.h>

#include "virtio/devices.h"

#define QUEUE_SIZE  64
#define MAX_REQUEST (64u << 10)
#define RETRY_MS    10
#define BURST       64 /* requests per turn */

struct vrng {
    struct em_virtio_dev *vd;
    const struct kc_logger *log;
    uint64_t max_bytes; /* per period; 0: no limit */
    uint64_t period_ms;
    uint64_t budget;     /* bytes left in this period */
    uint64_t period_end; /* CLOCK_MONOTONIC, ms */
    bool started;
    bool error_told;
    struct em_vq_elem *held; /* getrandom had nothing for it yet */
    uint64_t bytes, requests;
};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rng_timer(void *dev);

static void come_back(struct vrng *r, uint64_t ms)
{
    em_virtio_timer(r->vd, ms ? ms : 1, rng_timer, r);
}

/* Fills e's writable buffers with up to `want` random bytes; how many. */
static uint64_t fill(struct vrng *r, const struct em_vq_elem *e, uint64_t want)
{
    uint64_t got = 0;

    for (unsigned i = e->n_out; i < e->n_out + e->n_in && got < want; i++) {
        const struct em_vq_seg *s = &e->seg[i];
        uint64_t off = 0;

        while (off < s->len && got < want) {
            uint64_t chunk = s->len - off < want - got ? s->len - off : want - got;
            ssize_t k = getrandom((uint8_t *)s->host + off, chunk, GRND_NONBLOCK);

            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                if (errno != EAGAIN && !r->error_told) {
                    r->error_told = true;
                    kc_log(r->log, KC_LOG_ERROR, "virtio-rng: getrandom: %s; retrying",
                           strerror(errno));
                }
                return got;
            }
            off += (uint64_t)k;
            got += (uint64_t)k;
        }
    }
    return got;
}

static void rng_run(struct vrng *r)
{
    struct em_vq *vq = em_virtio_vq(r->vd, 0);
    unsigned burst = BURST;
    bool pushed = false;

    if (!vq || !r->started || em_virtio_needs_reset(r->vd))
        return;
    for (;;) {
        em_vq_disable_notify(vq);
        while (burst) {
            uint64_t now = now_ms(), want, got;
            struct em_vq_elem *e = r->held;
            int ret;

            if (r->max_bytes) {
                if (now >= r->period_end) {
                    r->budget = r->max_bytes;
                    r->period_end = now + r->period_ms;
                }
                if (!r->budget) {
                    /* Kicks stay off; the timer brings us back. */
                    come_back(r, r->period_end - now);
                    goto out;
                }
            }
            r->held = NULL;
            if (!e) {
                ret = em_vq_pop(vq, &e);
                if (ret < 0) {
                    em_virtio_queue_broken(r->vd, 0);
                    goto out;
                }
                if (ret == 0)
                    break;
            }
            want = e->in_bytes < MAX_REQUEST ? e->in_bytes : MAX_REQUEST;
            if (r->max_bytes && want > r->budget)
                want = r->budget;
            got = fill(r, e, want);
            if (!got && want) {
                r->held = e;
                come_back(r, RETRY_MS);
                goto out;
            }
            if (r->max_bytes)
                r->budget -= got;
            r->bytes += got;
            r->requests++;
            em_vq_push(vq, e, (uint32_t)got);
            free(e);
            pushed = true;
            burst--;
        }
        if (!burst) {
            em_virtio_kick(r->vd, 0); /* more, after other events */
            break;
        }
        if (!em_vq_enable_notify(vq))
            break;
    }
out:
    if (pushed)
        em_virtio_notify(r->vd, 0);
}

static void rng_timer(void *dev)
{
    rng_run(dev);
}

static void rng_notify(void *dev, unsigned q)
{
    struct vrng *r = dev;

    /* While the budget is spent or getrandom waits, the timer is due. */
    if (q == 0 && !r->held && (!r->max_bytes || r->budget || now_ms() >= r->period_end))
        rng_run(r);
}

static int rng_start(void *dev)
{
    ((struct vrng *)dev)->started = true;
    return 0;
}

static void rng_reset(void *dev)
{
    struct vrng *r = dev;

    /* The ring is gone: a held request is forgotten. The budget stays. */
    free(r->held);
    r->held = NULL;
    r->started = false;
}

static void rng_destroy(void *dev)
{
    struct vrng *r = dev;

    kc_log(r->log, KC_LOG_INFO, "virtio-rng: %llu bytes in %llu requests",
           (unsigned long long)r->bytes, (unsigned long long)r->requests);
    free(r);
}

static const struct em_virtio_device_ops vrng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max_size = QUEUE_SIZE,
    .config_size = 0,
    .start = rng_start,
    .queue_notify = rng_notify,
    .reset = rng_reset,
    .destroy = rng_destroy,
};

struct em_virtio_dev *em_vrng_create(const struct em_vdev_env *env, uint64_t max_bytes,
                                     uint64_t period_ms)
{
    struct vrng *r;

    if (max_bytes && !period_ms) {
        kc_log(env->log, KC_LOG_ERROR, "virtio-rng: a limit of %llu bytes needs a period",
               (unsigned long long)max_bytes);
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        kc_log(env->log, KC_LOG_ERROR, "virtio-rng: out of memory");
        return NULL;
    }
    r->max_bytes = max_bytes;
    r->period_ms = period_ms;
    r->vd = em_virtio_create(&vrng_ops, r, env->mem, env->log);
    if (!r->vd) {
        free(r);
        return NULL;
    }
    r->log = em_virtio_logger(r->vd);
    /* The timer's handle is made now, before the I/O thread runs (it fires
     * once, finding the device not started). */
    come_back(r, 1);
    return r->vd;
}
