/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transport-independent part of a virtio 1.x device: feature
 * negotiation, the device status state machine (NEEDS_RESET included),
 * queue configuration, reset, and the device's I/O thread.
 *
 * Three parties:
 *  - a device model (blk, net, rng, console) fills a const
 *    struct em_virtio_device_ops and knows nothing of its transport;
 *  - a transport (virtio-pci; virtio-mmio later) maps its registers onto
 *    the em_virtio_* calls below and delivers the two notifications
 *    through a const struct em_virtio_transport_ops;
 *  - this core, in between.
 *
 * Threads: the transport calls in from vCPU threads (register accesses);
 * queue kicks and the device's own file descriptors are served on the
 * device's I/O thread. Every device callback runs with the device's lock
 * held, so a device model is single-threaded: it never sees a register
 * access, a reset and a kick at once.
 */
#ifndef EM_VIRTIO_H
#define EM_VIRTIO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include <kvmcore/kvmcore.h>

#include "virtio/virtqueue.h"

#define EM_VIRTIO_MAX_QUEUES 8

/* Device status bits (virtio 1.2, 2.1). */
#define EM_VIRTIO_S_ACKNOWLEDGE 0x01
#define EM_VIRTIO_S_DRIVER      0x02
#define EM_VIRTIO_S_DRIVER_OK   0x04
#define EM_VIRTIO_S_FEATURES_OK 0x08
#define EM_VIRTIO_S_NEEDS_RESET 0x40
#define EM_VIRTIO_S_FAILED      0x80

/* Feature bits the core offers on every device. */
#define EM_VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define EM_VIRTIO_F_EVENT_IDX     (1ull << 29)
#define EM_VIRTIO_F_VERSION_1     (1ull << 32)

struct em_virtio_dev;

struct em_virtio_device_ops {
    const char *name;    /* "virtio-blk", ... for messages */
    uint16_t device_id;  /* virtio device ID: 1 net, 2 blk, 3 console, 4 rng */
    unsigned num_queues; /* at most EM_VIRTIO_MAX_QUEUES */
    uint16_t queue_max_size;
    uint32_t config_size;
    /* Device-specific feature bits; the core adds VERSION_1, EVENT_IDX and
     * INDIRECT_DESC. */
    uint64_t (*features)(void *dev);
    /* Device configuration space; offset + len <= config_size. */
    void (*config_read)(void *dev, uint32_t offset, void *buf, uint32_t len);
    void (*config_write)(void *dev, uint32_t offset, const void *buf, uint32_t len);
    /* FEATURES_OK: false refuses this combination (the driver then fails). */
    bool (*features_ok)(void *dev, uint64_t features);
    /* DRIVER_OK: the enabled queues are set up. < 0 sets NEEDS_RESET. */
    int (*start)(void *dev);
    /* Queue `q` was kicked (on the I/O thread). */
    void (*queue_notify)(void *dev, unsigned q);
    /* Back to the power-on state: in-flight requests finished or dropped,
     * no further access to guest memory. */
    void (*reset)(void *dev);
    /* Frees the device model, after the core is gone (optional). */
    void (*destroy)(void *dev);
};

struct em_virtio_transport_ops {
    /* A used-buffer notification for queue q (an interrupt). */
    void (*notify_queue)(void *transport, unsigned q);
    /* A configuration change notification (config or NEEDS_RESET). */
    void (*notify_config)(void *transport);
};

/*
 * Creates the core of a device: its queues' kick eventfds and its event
 * loop. `dev` is the device model's state, passed to every callback. The
 * device model then sets up its watches and timers, the transport plugs
 * it, and em_virtio_start() starts its I/O thread.
 */
struct em_virtio_dev *em_virtio_create(const struct em_virtio_device_ops *ops, void *dev,
                                       const struct kc_mem *mem, const struct kc_logger *log);
int em_virtio_start(struct em_virtio_dev *vd);
/* Stops the I/O thread, resets the device, frees the core, then the
 * device model (ops->destroy). Safe on NULL. */
void em_virtio_destroy(struct em_virtio_dev *vd);
void em_virtio_set_transport(struct em_virtio_dev *vd, const struct em_virtio_transport_ops *ops,
                             void *transport);

/* ---- for transports (any thread) ---- */

uint8_t em_virtio_status(struct em_virtio_dev *vd);
/* Applies a driver's status write (0 resets); see virtio.c for the rules. */
void em_virtio_set_status(struct em_virtio_dev *vd, uint8_t status);
uint64_t em_virtio_device_features(struct em_virtio_dev *vd);
uint64_t em_virtio_driver_features(struct em_virtio_dev *vd);
/* Sets 32 bits of the driver's features (select 0 or 1); ignored once
 * FEATURES_OK is set. */
void em_virtio_set_driver_features(struct em_virtio_dev *vd, unsigned select, uint32_t value);
uint8_t em_virtio_config_generation(struct em_virtio_dev *vd);
/* Device configuration space; out-of-range bytes read as 0xff / are
 * ignored. */
void em_virtio_config_read(struct em_virtio_dev *vd, uint32_t offset, void *buf, uint32_t len);
void em_virtio_config_write(struct em_virtio_dev *vd, uint32_t offset, const void *buf,
                            uint32_t len);
unsigned em_virtio_num_queues(const struct em_virtio_dev *vd);
uint16_t em_virtio_queue_max_size(const struct em_virtio_dev *vd);
/* What the transport presents: the device ID, the size of the device
 * configuration space, the name for messages. */
uint16_t em_virtio_device_id(const struct em_virtio_dev *vd);
uint32_t em_virtio_config_size(const struct em_virtio_dev *vd);
const char *em_virtio_name(const struct em_virtio_dev *vd);
/* The device model's state, as given to em_virtio_create(). */
void *em_virtio_device_state(const struct em_virtio_dev *vd);

/* Queue registers. Writes are ignored (and logged once) for an invalid
 * queue or once the queue is enabled; enabling checks the rings and sets
 * NEEDS_RESET if they are unusable. */
struct em_virtio_queue_regs {
    uint16_t size;
    bool enabled;
    uint64_t desc, avail, used;
    /* Owned by the transport: the MSI-X vector for this queue. */
    uint16_t vector;
};
void em_virtio_queue_regs(struct em_virtio_dev *vd, unsigned q, struct em_virtio_queue_regs *r);
void em_virtio_queue_set_size(struct em_virtio_dev *vd, unsigned q, uint16_t size);
void em_virtio_queue_set_rings(struct em_virtio_dev *vd, unsigned q, uint64_t desc, uint64_t avail,
                               uint64_t used);
void em_virtio_queue_enable(struct em_virtio_dev *vd, unsigned q);
void em_virtio_queue_set_vector(struct em_virtio_dev *vd, unsigned q, uint16_t vector);
uint16_t em_virtio_config_vector(struct em_virtio_dev *vd);
void em_virtio_set_config_vector(struct em_virtio_dev *vd, uint16_t vector);

/* The eventfd a kick of queue q writes (attach it to an ioeventfd), and a
 * kick through it for transports without one. -1 for a bad q. */
int em_virtio_kick_fd(const struct em_virtio_dev *vd, unsigned q);
void em_virtio_kick(struct em_virtio_dev *vd, unsigned q);

/* ---- for device models (called with the device's lock held) ---- */

struct em_vq *em_virtio_vq(struct em_virtio_dev *vd, unsigned q);
uint64_t em_virtio_negotiated(const struct em_virtio_dev *vd);
/* After pushing used buffers: interrupts the driver if it wants one. */
void em_virtio_notify(struct em_virtio_dev *vd, unsigned q);
/* The configuration changed (e.g. link status): new generation, interrupt. */
void em_virtio_config_changed(struct em_virtio_dev *vd);
/*
 * The driver broke the rules: set NEEDS_RESET, stop serving queues, tell
 * the driver, and log the reason once. A broken queue (em_vq_pop() < 0)
 * is reported with em_virtio_queue_broken().
 */
void em_virtio_fail(struct em_virtio_dev *vd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void em_virtio_queue_broken(struct em_virtio_dev *vd, unsigned q);
bool em_virtio_needs_reset(const struct em_virtio_dev *vd);

/*
 * Serves another descriptor on the device's I/O thread (a tap, an
 * io_uring ring): cb runs with the device's lock held when fd is ready
 * for `events` (UV_READABLE/UV_WRITABLE; 0 to start paused). Set up
 * before em_virtio_start(). Returns a handle, or NULL.
 */
struct em_virtio_watch;
struct em_virtio_watch *em_virtio_watch_fd(struct em_virtio_dev *vd, int fd, int events,
                                           void (*cb)(void *dev, int events), void *dev);
/* Changes the events watched (0 pauses); from the I/O thread or with the
 * device's lock held. */
void em_virtio_watch_events(struct em_virtio_watch *w, int events);
/* A timer on the I/O thread (rate limits): cb after `ms`, once. The first
 * call for a given cb is made before em_virtio_start() or on the I/O
 * thread; later ones from anywhere with the device's lock held. */
void em_virtio_timer(struct em_virtio_dev *vd, uint64_t ms, void (*cb)(void *dev), void *dev);

/* For events a device receives on another thread (a console's input on
 * the main loop): run the device's code with its lock held. */
void em_virtio_lock(struct em_virtio_dev *vd);
void em_virtio_unlock(struct em_virtio_dev *vd);

const struct kc_logger *em_virtio_logger(const struct em_virtio_dev *vd);
const struct kc_mem *em_virtio_mem(const struct em_virtio_dev *vd);

#endif
