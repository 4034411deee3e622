/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio device models. Each factory builds a device model and its
 * virtio core (em_virtio_create), with its watches set up but its I/O
 * thread not started; the transport plugs it and calls em_virtio_start().
 * em_virtio_destroy() frees the whole device. NULL after logging why.
 */
#ifndef EM_VIRTIO_DEVICES_H
#define EM_VIRTIO_DEVICES_H

#include <stdint.h>

#include <uv.h>

#include <kvmcore/kvmcore.h>

#include "options.h"
#include "virtio/virtio.h"

struct em_chardev;

/* What every factory gets: guest memory and where to report. */
struct em_vdev_env {
    const struct kc_mem *mem;
    const struct kc_logger *log;
    /* The main thread's loop, for backends served there (chardevs). */
    uv_loop_t *main_loop;
};

struct em_virtio_dev *em_vblk_create(const struct em_vdev_env *env, const struct em_disk_spec *d);
struct em_virtio_dev *em_vnet_create(const struct em_vdev_env *env, const struct em_net_spec *n);
struct em_virtio_dev *em_vrng_create(const struct em_vdev_env *env, uint64_t max_bytes,
                                     uint64_t period_ms);
struct em_virtio_dev *em_vconsole_create(const struct em_vdev_env *env,
                                         const struct em_chardev_spec *backend);
/* The console's backend (for the monitor's query-chardev). */
struct em_chardev *em_vconsole_chardev(struct em_virtio_dev *vd);

#endif
