/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk (virtio 1.2, 5.2) beyond the plain factory in devices.h:
 * the choice of I/O engine, the host-I/O-error hook (for the monitor's
 * BLOCK_IO_ERROR event) and counters. em_vblk_create(env, d) is
 * em_vblk_create_opts(env, d, NULL, NULL).
 */
#ifndef EM_VIRTIO_BLK_H
#define EM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/devices.h"

enum em_vblk_engine {
    EM_VBLK_ENGINE_DEFAULT, /* io_uring: the faster here, see blk.c */
    EM_VBLK_ENGINE_URING,
    EM_VBLK_ENGINE_POOL,
};

struct em_vblk_opts {
    enum em_vblk_engine engine;
    unsigned pool_threads; /* 0: the default (32) */
    /* cache=none: copy every request through an aligned buffer, not only
     * those whose guest buffers O_DIRECT cannot take (for measuring). */
    bool always_bounce;
    /* Called for every failed host I/O operation (`op`: "read", "write",
     * "flush", "discard", "write-zeroes"; err: a positive errno), on the
     * device's I/O thread with its lock held. The message is logged once
     * per kind of error whether or not this is set. */
    void (*on_io_error)(void *opaque, const char *disk, const char *op, int err);
    void *opaque;
};

struct em_vblk_stats {
    uint64_t requests;     /* completed, whatever their status */
    uint64_t io_errors;    /* host I/O errors (VIRTIO_BLK_S_IOERR) */
    uint64_t bad_requests; /* refused: malformed, out of range, read-only... */
    uint64_t bounced;      /* cache=none requests copied through a bounce buffer */
    uint64_t inflight;     /* requests taken from the queue, not yet completed */
};

struct em_vblk;

/* As em_vblk_create(); *blk (if not NULL) receives the device model for
 * the calls below, valid until em_virtio_destroy(). */
struct em_virtio_dev *em_vblk_create_opts(const struct em_vdev_env *env,
                                          const struct em_disk_spec *d,
                                          const struct em_vblk_opts *opts, struct em_vblk **blk);
/* Any thread, except from on_io_error (it takes the device's lock). */
void em_vblk_stats(struct em_vblk *b, struct em_vblk_stats *s);
const char *em_vblk_engine_name(const struct em_vblk *b);
/* The disk's size in bytes as the guest sees it (whole sectors). */
uint64_t em_vblk_size(const struct em_vblk *b);

#endif
