/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/virtio_ring.h>

#include "vdriver.h"

struct vqueue {
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t free_head, nfree;
    uint16_t avail_idx, used_seen;
    uint16_t *next_free; /* the driver's own free list */
    uint64_t *indirect;  /* per head: its indirect table's gpa, or 0 */
    bool event_idx;
};

struct vdrv {
    const struct kc_mem *mem;
    uint64_t arena, arena_end, next;
    const struct vdrv_transport *t;
    void *topaque;
    struct vqueue q[EM_VIRTIO_MAX_QUEUES];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned irqs[EM_VIRTIO_MAX_QUEUES];
    unsigned config_irqs;
};

struct vdrv *vdrv_create(const struct kc_mem *mem, uint64_t arena, uint64_t size)
{
    struct vdrv *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->mem = mem;
    d->arena = d->next = arena;
    d->arena_end = arena + size;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    return d;
}

void vdrv_destroy(struct vdrv *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < EM_VIRTIO_MAX_QUEUES; i++) {
        free(d->q[i].next_free);
        free(d->q[i].indirect);
    }
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
}

void vdrv_set_transport(struct vdrv *d, const struct vdrv_transport *t, void *opaque)
{
    d->t = t;
    d->topaque = opaque;
}

/* ---- the core as a transport ---- */

static void core_set_status(void *t, uint8_t s)
{
    em_virtio_set_status(t, s);
}

static uint8_t core_status(void *t)
{
    return em_virtio_status(t);
}

static uint64_t core_device_features(void *t)
{
    return em_virtio_device_features(t);
}

static void core_set_driver_features(void *t, uint64_t f)
{
    em_virtio_set_driver_features(t, 0, (uint32_t)f);
    em_virtio_set_driver_features(t, 1, (uint32_t)(f >> 32));
}

static uint16_t core_queue_max(void *t, unsigned q)
{
    return q < em_virtio_num_queues(t) ? em_virtio_queue_max_size(t) : 0;
}

static void core_setup_queue(void *t, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
                             uint64_t used)
{
    em_virtio_queue_set_size(t, q, size);
    em_virtio_queue_set_rings(t, q, desc, avail, used);
    em_virtio_queue_enable(t, q);
}

static void core_kick(void *t, unsigned q)
{
    em_virtio_kick(t, q);
}

static void core_config_read(void *t, uint32_t off, void *buf, uint32_t len)
{
    em_virtio_config_read(t, off, buf, len);
}

static void core_config_write(void *t, uint32_t off, const void *buf, uint32_t len)
{
    em_virtio_config_write(t, off, buf, len);
}

static const struct vdrv_transport core_transport = {
    .set_status = core_set_status,
    .status = core_status,
    .device_features = core_device_features,
    .set_driver_features = core_set_driver_features,
    .queue_max = core_queue_max,
    .setup_queue = core_setup_queue,
    .kick = core_kick,
    .config_read = core_config_read,
    .config_write = core_config_write,
};

static void core_notify_queue(void *opaque, unsigned q)
{
    vdrv_interrupt(opaque, q);
}

static void core_notify_config(void *opaque)
{
    vdrv_config_interrupt(opaque);
}

static const struct em_virtio_transport_ops core_irqs = {
    .notify_queue = core_notify_queue,
    .notify_config = core_notify_config,
};

void vdrv_attach_core(struct vdrv *d, struct em_virtio_dev *vd)
{
    vdrv_set_transport(d, &core_transport, vd);
    em_virtio_set_transport(vd, &core_irqs, d);
}

/* ---- interrupts ---- */

void vdrv_interrupt(struct vdrv *d, unsigned q)
{
    pthread_mutex_lock(&d->lock);
    if (q < EM_VIRTIO_MAX_QUEUES)
        d->irqs[q]++;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

void vdrv_config_interrupt(struct vdrv *d)
{
    pthread_mutex_lock(&d->lock);
    d->config_irqs++;
    pthread_cond_broadcast(&d->cond);
    pthread_mutex_unlock(&d->lock);
}

unsigned vdrv_interrupts(struct vdrv *d, unsigned q)
{
    unsigned n;

    pthread_mutex_lock(&d->lock);
    n = q < EM_VIRTIO_MAX_QUEUES ? d->irqs[q] : 0;
    pthread_mutex_unlock(&d->lock);
    return n;
}

unsigned vdrv_config_interrupts(struct vdrv *d)
{
    unsigned n;

    pthread_mutex_lock(&d->lock);
    n = d->config_irqs;
    pthread_mutex_unlock(&d->lock);
    return n;
}

/* ---- memory ---- */

uint64_t vdrv_alloc(struct vdrv *d, uint64_t size, uint64_t align)
{
    uint64_t at = (d->next + align - 1) & ~(align - 1);

    if (size == 0 || at + size > d->arena_end || at + size < at)
        return 0;
    d->next = at + size;
    memset(kc_mem_ptr(d->mem, at, size), 0, size);
    return at;
}

void *vdrv_host(struct vdrv *d, uint64_t gpa, uint64_t len)
{
    return kc_mem_ptr(d->mem, gpa, len);
}

static uint16_t rd16(struct vdrv *d, uint64_t gpa)
{
    return __atomic_load_n((uint16_t *)vdrv_host(d, gpa, 2), __ATOMIC_ACQUIRE);
}

static void wr16(struct vdrv *d, uint64_t gpa, uint16_t v)
{
    __atomic_store_n((uint16_t *)vdrv_host(d, gpa, 2), v, __ATOMIC_RELEASE);
}

static uint32_t rd32(struct vdrv *d, uint64_t gpa)
{
    return __atomic_load_n((uint32_t *)vdrv_host(d, gpa, 4), __ATOMIC_ACQUIRE);
}

static void write_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                       uint16_t flags, uint16_t next)
{
    uint8_t *p = vdrv_host(d, table + 16ull * i, 16);

    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

/* ---- the device's life ---- */

uint8_t vdrv_status(struct vdrv *d)
{
    return d->t->status(d->topaque);
}

uint64_t vdrv_negotiate(struct vdrv *d, uint64_t wanted)
{
    uint64_t f;

    d->t->set_status(d->topaque, 0);
    d->t->set_status(d->topaque, EM_VIRTIO_S_ACKNOWLEDGE);
    d->t->set_status(d->topaque, EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER);
    f = d->t->device_features(d->topaque) & wanted;
    d->t->set_driver_features(d->topaque, f);
    d->t->set_status(d->topaque,
                     EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER | EM_VIRTIO_S_FEATURES_OK);
    if (!(d->t->status(d->topaque) & EM_VIRTIO_S_FEATURES_OK))
        return 0;
    return f;
}

int vdrv_setup_queue(struct vdrv *d, unsigned q, uint16_t size, bool event_idx)
{
    struct vqueue *vq = &d->q[q];
    uint16_t max = d->t->queue_max(d->topaque, q);

    if (q >= EM_VIRTIO_MAX_QUEUES || max == 0)
        return -EINVAL;
    if (size == 0)
        size = max;
    free(vq->next_free);
    free(vq->indirect);
    memset(vq, 0, sizeof(*vq));
    vq->size = size;
    vq->event_idx = event_idx;
    vq->desc = vdrv_alloc(d, 16ull * size, 16);
    vq->avail = vdrv_alloc(d, 6 + 2ull * size, 2);
    vq->used = vdrv_alloc(d, 6 + 8ull * size, 4);
    vq->next_free = calloc(size, sizeof(*vq->next_free));
    vq->indirect = calloc(size, sizeof(*vq->indirect));
    if (!vq->desc || !vq->avail || !vq->used || !vq->next_free || !vq->indirect)
        return -ENOMEM;
    for (uint16_t i = 0; i < size; i++)
        vq->next_free[i] = (uint16_t)(i + 1);
    vq->nfree = size;
    d->t->setup_queue(d->topaque, q, size, vq->desc, vq->avail, vq->used);
    return 0;
}

void vdrv_driver_ok(struct vdrv *d)
{
    uint8_t s = d->t->status(d->topaque);

    d->t->set_status(d->topaque, s | EM_VIRTIO_S_DRIVER_OK);
}

int vdrv_add(struct vdrv *d, unsigned q, const struct vdrv_buf *bufs, unsigned n, bool indirect)
{
    struct vqueue *vq = &d->q[q];
    unsigned need = indirect ? 1 : n;
    uint16_t head, idx;

    if (n == 0 || vq->nfree < need)
        return -1;
    head = idx = vq->free_head;
    if (indirect) {
        uint64_t table = vdrv_alloc(d, 16ull * n, 16);

        if (!table)
            return -1;
        for (unsigned i = 0; i < n; i++)
            write_desc(d, table, i, bufs[i].gpa, bufs[i].len,
                       (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
                                  (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
                       (uint16_t)(i + 1));
        write_desc(d, vq->desc, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
        vq->indirect[head] = table;
        vq->free_head = vq->next_free[head];
    } else {
        for (unsigned i = 0; i < n; i++) {
            uint16_t next = vq->next_free[idx];

            write_desc(d, vq->desc, idx, bufs[i].gpa, bufs[i].len,
                       (uint16_t)((bufs[i].write ? VRING_DESC_F_WRITE : 0) |
                                  (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
                       i + 1 < n ? next : 0);
            if (i + 1 < n)
                idx = next;
            else
                vq->free_head = next;
        }
    }
    vq->nfree = (uint16_t)(vq->nfree - need);
    wr16(d, vq->avail + 4 + 2u * (vq->avail_idx % vq->size), head);
    vq->avail_idx++;
    wr16(d, vq->avail + 2, vq->avail_idx);
    return head;
}

void vdrv_kick(struct vdrv *d, unsigned q)
{
    d->t->kick(d->topaque, q);
}

/* Puts a used chain's descriptors back on the free list. */
static void free_chain(struct vdrv *d, struct vqueue *vq, uint16_t head)
{
    uint16_t idx = head, n = 1;

    if (vq->indirect[head]) {
        vq->indirect[head] = 0;
    } else {
        for (;;) {
            uint16_t flags, next;
            uint8_t *p = vdrv_host(d, vq->desc + 16ull * idx, 16);

            memcpy(&flags, p + 12, 2);
            memcpy(&next, p + 14, 2);
            if (!(flags & VRING_DESC_F_NEXT) || n == vq->size)
                break;
            idx = next;
            n++;
        }
    }
    vq->next_free[idx] = vq->free_head;
    vq->free_head = head;
    vq->nfree = (uint16_t)(vq->nfree + n);
}

bool vdrv_poll_used(struct vdrv *d, unsigned q, uint16_t *head, uint32_t *len)
{
    struct vqueue *vq = &d->q[q];
    uint64_t slot;

    if (rd16(d, vq->used + 2) == vq->used_seen)
        return false;
    slot = vq->used + 4 + 8ull * (vq->used_seen % vq->size);
    *head = (uint16_t)rd32(d, slot);
    *len = rd32(d, slot + 4);
    vq->used_seen++;
    if (vq->event_idx)
        wr16(d, vq->avail + 4 + 2u * vq->size, vq->used_seen); /* used_event */
    if (*head < vq->size)
        free_chain(d, vq, *head);
    return true;
}

bool vdrv_wait_used(struct vdrv *d, unsigned q, unsigned timeout_ms, uint16_t *head, uint32_t *len)
{
    struct timespec end, now;

    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        struct timespec tick;

        if (vdrv_poll_used(d, q, head, len))
            return true;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return false;
        /* An interrupt wakes us at once; suppressed ones are caught by the
         * short tick. */
        tick = now;
        tick.tv_nsec += 1000000L;
        if (tick.tv_nsec >= 1000000000L) {
            tick.tv_sec++;
            tick.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&d->lock);
        pthread_cond_timedwait(&d->cond, &d->lock, &tick);
        pthread_mutex_unlock(&d->lock);
    }
}

void vdrv_rings(struct vdrv *d, unsigned q, struct vdrv_rings *r)
{
    r->size = d->q[q].size;
    r->desc = d->q[q].desc;
    r->avail = d->q[q].avail;
    r->used = d->q[q].used;
}

void vdrv_config_read(struct vdrv *d, uint32_t offset, void *buf, uint32_t len)
{
    d->t->config_read(d->topaque, offset, buf, len);
}

void vdrv_config_write(struct vdrv *d, uint32_t offset, const void *buf, uint32_t len)
{
    d->t->config_write(d->topaque, offset, buf, len);
}
