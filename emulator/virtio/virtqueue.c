/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues, device side. Layout (virtio 1.2, 2.7):
 *   descriptor table: size x { le64 addr; le32 len; le16 flags; le16 next }
 *   available ring:   le16 flags; le16 idx; le16 ring[size]; le16 used_event
 *   used ring:        le16 flags; le16 idx; { le32 id; le32 len } ring[size];
 *                     le16 avail_event
 * Every value the guest wrote is copied out once, then checked, then used:
 * the guest may change its memory at any moment, so nothing is read twice.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtqueue.h"

#define DESC_SIZE 16

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* x86 is little-endian, as virtio 1.x rings are; the rings' alignment
 * (checked in em_vq_init) makes these naturally aligned. */
static uint16_t load16(volatile uint8_t *p)
{
    return __atomic_load_n((volatile uint16_t *)(void *)p, __ATOMIC_ACQUIRE);
}

static void store16(volatile uint8_t *p, uint16_t v)
{
    __atomic_store_n((volatile uint16_t *)(void *)p, v, __ATOMIC_RELEASE);
}

static void store32(volatile uint8_t *p, uint32_t v)
{
    __atomic_store_n((volatile uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

/* A descriptor, copied out of guest memory in one go. */
static struct desc read_desc(const volatile uint8_t *table, unsigned i)
{
    struct desc d;

    memcpy(&d.addr, (const void *)(table + i * DESC_SIZE), 8);
    memcpy(&d.len, (const void *)(table + i * DESC_SIZE + 8), 4);
    memcpy(&d.flags, (const void *)(table + i * DESC_SIZE + 12), 2);
    memcpy(&d.next, (const void *)(table + i * DESC_SIZE + 14), 2);
    return d;
}

static int fail(struct em_vq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Breaks the queue and keeps the first reason. */
static int fail(struct em_vq *vq, const char *fmt, ...)
{
    va_list ap;

    if (!vq->broken) {
        va_start(ap, fmt);
        vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
        va_end(ap);
        vq->broken = true;
    }
    return -EIO;
}

int em_vq_init(struct em_vq *vq, const struct kc_mem *mem, uint16_t size, uint64_t desc,
               uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
    uint64_t desc_len = (uint64_t)size * DESC_SIZE;
    uint64_t avail_len = 6 + 2ull * size;
    uint64_t used_len = 6 + 8ull * size;

    vq->mem = mem;
    vq->size = 0;
    vq->broken = false;
    vq->why[0] = '\0';
    vq->last_avail = vq->used_idx = vq->signalled = 0;
    vq->signalled_valid = false;
    vq->event_idx = event_idx;
    vq->indirect = indirect;
    if (size == 0 || size > EM_VQ_MAX_SIZE || (size & (size - 1))) {
        fail(vq, "queue size %u is not a power of two from 1 to %u", size, EM_VQ_MAX_SIZE);
        return -EINVAL;
    }
    if (desc % 16 || avail % 2 || used % 4) {
        fail(vq, "rings misaligned (descriptors 0x%llx, available 0x%llx, used 0x%llx)",
             (unsigned long long)desc, (unsigned long long)avail, (unsigned long long)used);
        return -EINVAL;
    }
    vq->desc = kc_mem_ptr(mem, desc, desc_len);
    vq->avail = kc_mem_ptr(mem, avail, avail_len);
    vq->used = kc_mem_ptr_rw(mem, used, used_len);
    if (!vq->desc || !vq->avail || !vq->used) {
        fail(vq, "the %s ring at 0x%llx is not in guest RAM%s",
             !vq->desc    ? "descriptor"
             : !vq->avail ? "available"
                          : "used",
             (unsigned long long)(!vq->desc    ? desc
                                  : !vq->avail ? avail
                                               : used),
             vq->desc && vq->avail ? " (or not writable)" : "");
        return -EINVAL;
    }
    vq->size = size;
    return 0;
}

/* Adds [addr, addr + len) as segments, one per RAM region it touches. */
static int add_buffer(struct em_vq *vq, unsigned *nseg, uint64_t start, uint32_t len, bool write)
{
    uint64_t addr = start, left = len;

    if (addr + len < addr)
        return fail(vq, "buffer at 0x%llx of %u bytes wraps around", (unsigned long long)addr, len);
    while (left) {
        struct kc_region *r = kc_mem_find(vq->mem, addr);
        uint64_t chunk;
        void *p;

        if (!r)
            return fail(vq, "buffer at 0x%llx of %u bytes is not in guest RAM",
                        (unsigned long long)start, len);
        chunk = kc_region_gpa(r) + kc_region_size(r) - addr;
        if (chunk > left)
            chunk = left;
        p = write ? kc_mem_ptr_rw(vq->mem, addr, chunk) : kc_mem_ptr(vq->mem, addr, chunk);
        if (!p)
            return fail(vq, "device-writable buffer at 0x%llx is in read-only memory",
                        (unsigned long long)start);
        if (*nseg == sizeof(vq->scratch) / sizeof(vq->scratch[0]))
            return fail(vq, "a descriptor chain has more than %zu segments",
                        sizeof(vq->scratch) / sizeof(vq->scratch[0]));
        vq->scratch[(*nseg)++] = (struct em_vq_seg){ p, (uint32_t)chunk };
        addr += chunk;
        left -= chunk;
    }
    return 0;
}

/* The state of one walk through a chain (direct, then maybe indirect). */
struct walk {
    const volatile uint8_t *table;
    unsigned table_size;
    unsigned budget; /* descriptors this table may still yield: no loops */
    bool indirect;
    bool seen_write;
    unsigned n_out, nseg;
    uint64_t out_bytes, in_bytes;
};

static int enter_indirect(struct em_vq *vq, struct walk *w, const struct desc *d)
{
    const uint8_t *t;

    if (!vq->indirect)
        return fail(vq, "indirect descriptor, but VIRTIO_F_INDIRECT_DESC was not negotiated");
    if (w->indirect)
        return fail(vq, "an indirect table points to another indirect table");
    if (d->flags & VRING_DESC_F_NEXT)
        return fail(vq, "an indirect descriptor also has the NEXT flag");
    if (d->len == 0 || d->len % DESC_SIZE || d->len / DESC_SIZE > EM_VQ_MAX_SIZE)
        return fail(vq,
                    "indirect table of %u bytes (must be a non-zero multiple of 16, at most "
                    "%u entries)",
                    d->len, EM_VQ_MAX_SIZE);
    t = kc_mem_ptr(vq->mem, d->addr, d->len);
    if (!t)
        return fail(vq, "indirect table at 0x%llx of %u bytes is not in guest RAM",
                    (unsigned long long)d->addr, d->len);
    w->table = t;
    w->table_size = d->len / DESC_SIZE;
    w->budget = w->table_size;
    w->indirect = true;
    return 0;
}

/* Walks the chain at head into vq->scratch. */
static int walk_chain(struct em_vq *vq, uint16_t head, struct walk *w)
{
    unsigned idx = head;

    *w = (struct walk){ vq->desc, vq->size, vq->size, false, false, 0, 0, 0, 0 };
    for (;;) {
        struct desc d;

        if (w->budget-- == 0)
            return fail(vq, "a descriptor chain is longer than its table (%u entries): a loop?",
                        w->table_size);
        d = read_desc(w->table, idx);
        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (enter_indirect(vq, w, &d) < 0)
                return -EIO;
            idx = 0;
            continue;
        } else {
            bool write = d.flags & VRING_DESC_F_WRITE;

            if (!write && w->seen_write)
                return fail(vq, "a device-readable buffer follows a device-writable one");
            w->seen_write |= write;
            if (add_buffer(vq, &w->nseg, d.addr, d.len, write) < 0)
                return -EIO;
            if (write)
                w->in_bytes += d.len;
            else {
                w->out_bytes += d.len;
                w->n_out = w->nseg;
            }
        }
        if (!(d.flags & VRING_DESC_F_NEXT))
            return 0;
        if (d.next >= w->table_size)
            return fail(vq, "descriptor %u's next is %u, beyond its table of %u", idx, d.next,
                        w->table_size);
        idx = d.next;
    }
}

int em_vq_pop(struct em_vq *vq, struct em_vq_elem **out)
{
    struct em_vq_elem *elem;
    struct walk w;
    uint16_t avail_idx, head;

    *out = NULL;
    if (vq->broken || vq->size == 0)
        return -EIO;
    avail_idx = load16(vq->avail + 2);
    if (avail_idx == vq->last_avail)
        return 0;
    if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
        return fail(vq, "the available index moved from %u to %u, more than the queue size %u",
                    vq->last_avail, avail_idx, vq->size);
    head = load16(vq->avail + 4 + 2u * (vq->last_avail % vq->size));
    if (head >= vq->size)
        return fail(vq, "available entry %u names descriptor %u, beyond the queue size %u",
                    vq->last_avail, head, vq->size);
    if (walk_chain(vq, head, &w) < 0)
        return -EIO;
    elem = malloc(sizeof(*elem) + w.nseg * sizeof(elem->seg[0]));
    if (!elem)
        return fail(vq, "out of memory for a chain of %u segments", w.nseg);
    elem->head = head;
    elem->n_out = w.n_out;
    elem->n_in = w.nseg - w.n_out;
    elem->out_bytes = w.out_bytes;
    elem->in_bytes = w.in_bytes;
    memcpy(elem->seg, vq->scratch, w.nseg * sizeof(elem->seg[0]));
    vq->last_avail++;
    *out = elem;
    return 1;
}

void em_vq_push(struct em_vq *vq, const struct em_vq_elem *elem, uint32_t written)
{
    volatile uint8_t *slot;

    if (vq->size == 0)
        return;
    if (written > elem->in_bytes)
        written = (uint32_t)elem->in_bytes;
    slot = vq->used + 4 + 8u * (vq->used_idx % vq->size);
    store32(slot, elem->head);
    store32(slot + 4, written);
    vq->used_idx++;
    /* The element must be visible before the index that publishes it. */
    store16(vq->used + 2, vq->used_idx);
}

bool em_vq_should_notify(struct em_vq *vq)
{
    uint16_t old = vq->signalled, now = vq->used_idx;
    bool notify;

    /* Nothing pushed since the last interrupt: nothing to tell. */
    if (vq->size == 0 || (vq->signalled_valid && now == old))
        return false;
    /* Our used->idx store must be ordered before we read the driver's
     * suppression fields, or both sides may decide not to act. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vq->event_idx) {
        uint16_t used_event = load16(vq->avail + 4 + 2u * vq->size);

        notify = !vq->signalled_valid || (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
    } else {
        notify = !(load16(vq->avail) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    vq->signalled = now;
    vq->signalled_valid = true;
    return notify;
}

void em_vq_disable_notify(struct em_vq *vq)
{
    if (vq->size == 0)
        return;
    /* With EVENT_IDX, not advancing avail_event already suppresses kicks. */
    if (!vq->event_idx)
        store16(vq->used, VRING_USED_F_NO_NOTIFY);
}

bool em_vq_enable_notify(struct em_vq *vq)
{
    if (vq->size == 0 || vq->broken)
        return false;
    if (vq->event_idx)
        store16(vq->used + 4 + 8u * vq->size, vq->last_avail);
    else
        store16(vq->used, 0);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return load16(vq->avail + 2) != vq->last_avail;
}

/* Copies between the segments [first, first + n) and buf, from offset. */
static uint64_t copy(const struct em_vq_elem *elem, unsigned first, unsigned n, uint64_t offset,
                     uint8_t *buf, uint64_t len, bool to_guest)
{
    uint64_t done = 0;

    for (unsigned i = first; i < first + n && done < len; i++) {
        const struct em_vq_seg *s = &elem->seg[i];
        uint64_t chunk;

        if (offset >= s->len) {
            offset -= s->len;
            continue;
        }
        chunk = s->len - offset;
        if (chunk > len - done)
            chunk = len - done;
        if (to_guest)
            memcpy((uint8_t *)s->host + offset, buf + done, chunk);
        else
            memcpy(buf + done, (uint8_t *)s->host + offset, chunk);
        done += chunk;
        offset = 0;
    }
    return done;
}

uint64_t em_vq_read(const struct em_vq_elem *elem, uint64_t offset, void *buf, uint64_t len)
{
    return copy(elem, 0, elem->n_out, offset, buf, len, false);
}

uint64_t em_vq_write(const struct em_vq_elem *elem, uint64_t offset, const void *buf, uint64_t len)
{
    return copy(elem, elem->n_out, elem->n_in, offset, (uint8_t *)buf, len, true);
}
