/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The POST code port (0x80). Firmware writes progress codes here; Linux
 * also writes to it as an I/O delay (outb_p), thousands of times. So the
 * first EM_POST_MAX_CODES writes are kept and marked on the boot timeline,
 * the rest only counted, with one summary line when the machine ends.
 * The history survives a reset, as the timeline does.
 *
 * Reads return the last value written (0xff before any), as the latch on
 * many boards does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/post.h"
#include "devices.h"

struct em_post {
    struct em_machine *m;
    pthread_mutex_t lock;
    uint8_t last;
    uint64_t count;
    uint8_t codes[EM_POST_MAX_CODES];
};

static uint64_t post_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_post *p = opaque;
    uint8_t v;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&p->lock);
    v = p->last;
    pthread_mutex_unlock(&p->lock);
    return v;
}

static void post_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_post *p = opaque;
    uint8_t v = (uint8_t)value;
    bool keep;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&p->lock);
    p->last = v;
    keep = p->count < EM_POST_MAX_CODES;
    if (keep)
        p->codes[p->count] = v;
    p->count++;
    pthread_mutex_unlock(&p->lock);
    if (keep)
        em_timeline_mark(em_machine_timeline(p->m), "POST 0x%02x", v);
}

static const struct kc_io_ops post_ops = { .read = post_read, .write = post_write };

unsigned em_post_codes(struct em_post *p, uint8_t *codes, unsigned max)
{
    unsigned n;

    pthread_mutex_lock(&p->lock);
    n = p->count < EM_POST_MAX_CODES ? (unsigned)p->count : EM_POST_MAX_CODES;
    if (n > max)
        n = max;
    memcpy(codes, p->codes, n);
    pthread_mutex_unlock(&p->lock);
    return n;
}

uint64_t em_post_count(struct em_post *p)
{
    uint64_t n;

    pthread_mutex_lock(&p->lock);
    n = p->count;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void post_reset(void *state)
{
    struct em_post *p = state;

    pthread_mutex_lock(&p->lock);
    p->last = 0xff;
    pthread_mutex_unlock(&p->lock);
}

static void post_destroy(void *state)
{
    struct em_post *p = state;

    if (p->count > EM_POST_MAX_CODES)
        em_timeline_mark(em_machine_timeline(p->m), "post: %llu more writes",
                         (unsigned long long)(p->count - EM_POST_MAX_CODES));
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static const struct em_device_ops post_dev = { .reset = post_reset, .destroy = post_destroy };

int em_post_create(struct em_machine *m)
{
    struct em_post *p = calloc(1, sizeof(*p));
    int ret;

    if (!p) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "post: out of memory");
        return -ENOMEM;
    }
    p->m = m;
    p->last = 0xff;
    pthread_mutex_init(&p->lock, NULL);
    ret = em_machine_add_device(m, "post", p, &post_dev);
    if (ret < 0) {
        post_destroy(p);
        return ret;
    }
    /* Registered after it is added: the machine frees it on failure. */
    return em_machine_pio(m, EM_POST_PORT, 1, &post_ops, p, "post");
}
