/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues (virtio 1.2, section 2.7), device side, for a hostile
 * driver. Everything the guest wrote is checked before use: ring
 * addresses and sizes, the available index, descriptor indexes, chain
 * lengths (no loops: a chain longer than the queue size is refused),
 * indirect tables, the order of readable and writable buffers, and every
 * buffer's address and length, which must lie in guest RAM (writable RAM
 * for device-writable buffers). A queue that sees any of these goes
 * "broken": it stops, says why once, and the device is expected to set
 * NEEDS_RESET. Nothing here reads or writes outside guest RAM, and nothing
 * loops more than the queue size.
 *
 * One queue is used by one thread at a time (the device's I/O thread).
 */
#ifndef EM_VIRTQUEUE_H
#define EM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

/* The largest queue a device offers (QEMU's limit too). */
#define EM_VQ_MAX_SIZE 1024

/* One guest buffer, or the part of one that lies in one RAM region. */
struct em_vq_seg {
    void *host;
    uint32_t len;
};

/* A popped descriptor chain: device-readable segments first, then the
 * device-writable ones. */
struct em_vq_elem {
    uint16_t head;
    unsigned n_out;     /* device-readable segments: seg[0 .. n_out) */
    unsigned n_in;      /* device-writable segments: seg[n_out .. n_out + n_in) */
    uint64_t out_bytes; /* sum of the readable lengths */
    uint64_t in_bytes;  /* sum of the writable lengths */
    struct em_vq_seg seg[];
};

struct em_vq {
    const struct kc_mem *mem;
    uint16_t size;
    /* Host views of the three rings, checked when the queue was set up. */
    volatile uint8_t *desc;
    volatile uint8_t *avail;
    volatile uint8_t *used;
    bool event_idx;
    bool indirect;

    uint16_t last_avail; /* the next available entry to take */
    uint16_t used_idx;   /* our copy of used->idx */
    uint16_t signalled;  /* used_idx when the driver was last notified */
    bool signalled_valid;

    bool broken;
    char why[160];
    /* Scratch for one chain while it is walked (then copied out). */
    struct em_vq_seg scratch[2 * EM_VQ_MAX_SIZE];
};

/*
 * Sets up a queue of `size` entries (a power of two, 1 to EM_VQ_MAX_SIZE)
 * whose rings the driver put at desc/avail/used. 0, or -EINVAL after
 * filling vq->why (bad size, misaligned or not in RAM; the used ring must
 * be writable RAM). The queue starts at available index 0.
 */
int em_vq_init(struct em_vq *vq, const struct kc_mem *mem, uint16_t size, uint64_t desc,
               uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/*
 * Takes the next available chain. Returns 1 with *elem (malloc'd: free()
 * it, after em_vq_push()) when there is one, 0 when the ring is empty, and
 * -EIO when the queue is (or just became) broken.
 */
int em_vq_pop(struct em_vq *vq, struct em_vq_elem **elem);

/*
 * Returns a chain to the driver, `written` bytes having been written into
 * its device-writable buffers (clamped to what they hold).
 */
void em_vq_push(struct em_vq *vq, const struct em_vq_elem *elem, uint32_t written);

/* Whether the driver wants an interrupt for what was pushed since the last
 * time this returned true (VRING_AVAIL_F_NO_INTERRUPT or used_event). */
bool em_vq_should_notify(struct em_vq *vq);

/*
 * Kick suppression while the device works through the ring: disable
 * before a batch, enable after. em_vq_enable_notify() returns true if
 * chains arrived meanwhile, so the caller takes another pass rather than
 * missing a kick the driver decided it need not send.
 */
void em_vq_disable_notify(struct em_vq *vq);
bool em_vq_enable_notify(struct em_vq *vq);

/* Copies between an element's buffers and a host buffer; they return how
 * many bytes were copied (fewer if the buffers are shorter). */
uint64_t em_vq_read(const struct em_vq_elem *elem, uint64_t offset, void *buf, uint64_t len);
uint64_t em_vq_write(const struct em_vq_elem *elem, uint64_t offset, const void *buf, uint64_t len);

#endif
