/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small virtio 1.x driver for test guests: finds a modern virtio-pci
 * function by walking its capabilities (as a real driver does, so nothing
 * about kvmemu's layout is assumed), negotiates features, sets up split
 * queues in the guest's own memory, and polls for used buffers. Guests are
 * identity-mapped, so guest-physical and virtual addresses are the same.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_ID_NET     1
#define VIRTIO_ID_BLOCK   2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

#define VIRTIO_F_VERSION_1 (1ull << 32)

struct vdev {
    unsigned bus, slot, fn;
    uint16_t id;
    volatile uint8_t *common;
    volatile uint8_t *isr;
    volatile uint8_t *device;
    volatile uint8_t *notify;
    uint32_t notify_mult;
};

#define VQ_SIZE 16

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} __attribute__((packed));

/* One queue and its rings, 4 KiB-aligned, in the guest's memory. */
struct vq {
    struct vq_desc desc[VQ_SIZE];
    struct {
        uint16_t flags;
        uint16_t idx;
        uint16_t ring[VQ_SIZE];
        uint16_t used_event;
    } avail __attribute__((aligned(2)));
    struct {
        uint16_t flags;
        uint16_t idx;
        struct {
            uint32_t id;
            uint32_t len;
        } ring[VQ_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4096)));
    uint16_t index;
    uint16_t next_desc;
    uint16_t used_seen;
    volatile uint16_t *notify_at;
} __attribute__((aligned(4096)));

struct vbuf {
    void *addr;
    uint32_t len;
    bool write; /* device-writable */
};

/* The first virtio function with this device ID on bus 0; its memory
 * decoding and bus mastering turned on. 0, or a negative error code. */
int virtio_find(uint16_t id, struct vdev *d);
/* Reset, ACKNOWLEDGE, DRIVER, the features both want, FEATURES_OK. Returns
 * the negotiated features, or 0 if the device refused them. */
uint64_t virtio_negotiate(struct vdev *d, uint64_t wanted);
int virtio_setup_queue(struct vdev *d, uint16_t index, struct vq *q);
void virtio_driver_ok(struct vdev *d);
uint8_t virtio_status(struct vdev *d);

/* Queues a chain (readable buffers first) and notifies the device. */
void vq_submit(struct vq *q, const struct vbuf *bufs, unsigned n);
/* Polls for the next used buffer: its length; -1 after `spins` polls. */
long vq_wait(struct vq *q, unsigned long spins);

#endif
