/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio driver for tests, on the host side (as QEMU's qtest drivers
 * are): it lays out split virtqueues in guest RAM, negotiates features,
 * builds descriptor chains (direct or indirect), kicks, and waits for used
 * buffers, all through a small transport interface. vdrv_attach_core()
 * drives a device's core directly; the virtio-pci harness drives the same
 * device through its PCI registers.
 */
#ifndef VDRIVER_H
#define VDRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "virtio/virtio.h"

struct vdrv;

/* How the driver reaches the device. Interrupts come back through
 * vdrv_interrupt() / vdrv_config_interrupt(). */
struct vdrv_transport {
    void (*set_status)(void *t, uint8_t status);
    uint8_t (*status)(void *t);
    uint64_t (*device_features)(void *t);
    void (*set_driver_features)(void *t, uint64_t features);
    uint16_t (*queue_max)(void *t, unsigned q);
    /* Programs size and rings, then enables the queue. */
    void (*setup_queue)(void *t, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
                        uint64_t used);
    void (*kick)(void *t, unsigned q);
    void (*config_read)(void *t, uint32_t offset, void *buf, uint32_t len);
    void (*config_write)(void *t, uint32_t offset, const void *buf, uint32_t len);
};

/* Buffers are allocated from [arena, arena + size) of guest RAM. */
struct vdrv *vdrv_create(const struct kc_mem *mem, uint64_t arena, uint64_t size);
void vdrv_destroy(struct vdrv *d);
void vdrv_set_transport(struct vdrv *d, const struct vdrv_transport *t, void *opaque);
/* Drives the device's core directly, and takes its interrupts. */
void vdrv_attach_core(struct vdrv *d, struct em_virtio_dev *vd);

/* For transports: an interrupt for queue q, or a configuration change. */
void vdrv_interrupt(struct vdrv *d, unsigned q);
void vdrv_config_interrupt(struct vdrv *d);

/* A bump allocation in the arena (0 when full); its host view. */
uint64_t vdrv_alloc(struct vdrv *d, uint64_t size, uint64_t align);
void *vdrv_host(struct vdrv *d, uint64_t gpa, uint64_t len);

/* Reset, ACKNOWLEDGE, DRIVER, features (wanted & offered), FEATURES_OK.
 * Returns the negotiated features, or 0 if the device refused them. */
uint64_t vdrv_negotiate(struct vdrv *d, uint64_t wanted);
/* Lays out queue q with `size` entries (0: the device's maximum). */
int vdrv_setup_queue(struct vdrv *d, unsigned q, uint16_t size, bool event_idx);
void vdrv_driver_ok(struct vdrv *d);
uint8_t vdrv_status(struct vdrv *d);

struct vdrv_buf {
    uint64_t gpa;
    uint32_t len;
    bool write; /* device-writable */
};

/* Adds a chain (readable buffers first) and makes it available; with
 * `indirect`, one descriptor pointing at an indirect table. Returns the
 * head, or -1 if the queue has no free descriptors. */
int vdrv_add(struct vdrv *d, unsigned q, const struct vdrv_buf *bufs, unsigned n, bool indirect);
void vdrv_kick(struct vdrv *d, unsigned q);
/* Waits up to timeout_ms for the next used entry: its head and length.
 * The chain's descriptors are freed. */
bool vdrv_wait_used(struct vdrv *d, unsigned q, unsigned timeout_ms, uint16_t *head, uint32_t *len);
/* The next used entry if there is one, without waiting. */
bool vdrv_poll_used(struct vdrv *d, unsigned q, uint16_t *head, uint32_t *len);
unsigned vdrv_interrupts(struct vdrv *d, unsigned q);
unsigned vdrv_config_interrupts(struct vdrv *d);

/* Raw access to a queue's rings, for tests that break the rules. */
struct vdrv_rings {
    uint16_t size;
    uint64_t desc, avail, used;
};
void vdrv_rings(struct vdrv *d, unsigned q, struct vdrv_rings *r);

void vdrv_config_read(struct vdrv *d, uint32_t offset, void *buf, uint32_t len);
void vdrv_config_write(struct vdrv *d, uint32_t offset, const void *buf, uint32_t len);

#endif
