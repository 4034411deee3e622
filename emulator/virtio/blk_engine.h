/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk's I/O engines: how requests reach the disk without blocking
 * the device's I/O thread. The device queues operations and commits them;
 * the engine runs them in the background and makes its eventfd readable
 * when some have finished; the device then reaps them on its I/O thread.
 *
 * Two engines: io_uring (blk_uring.c) and a pool of worker threads
 * (blk_pool.c). blk.c does not know which one it drives. An engine is
 * used by one thread at a time (the holder of the device's lock); its
 * background work touches only the buffers an operation names.
 */
#ifndef EM_BLK_ENGINE_H
#define EM_BLK_ENGINE_H

#include <stdint.h>
#include <sys/uio.h>

#include <kvmcore/kvmcore.h>

enum em_blk_op {
    EM_BLK_READ,      /* preadv(iov, niov, offset) */
    EM_BLK_WRITE,     /* pwritev2(iov, niov, offset, flags) */
    EM_BLK_FLUSH,     /* fdatasync() */
    EM_BLK_FALLOCATE, /* fallocate(flags, offset, len) */
};

struct em_blk_io {
    enum em_blk_op op;
    int flags; /* WRITE: RWF_DSYNC or 0; FALLOCATE: its mode */
    const struct iovec *iov;
    unsigned niov;
    uint64_t offset;
    uint64_t len;           /* FALLOCATE */
    int64_t res;            /* when reaped: bytes transferred, or -errno */
    struct em_blk_io *next; /* the engine's lists */
};

struct em_blk_engine;

struct em_blk_engine_ops {
    const char *name;
    /* Readable when finished operations wait to be reaped; the device
     * reads (clears) it before reaping. */
    int (*event_fd)(struct em_blk_engine *e);
    /* Takes io; it starts at the latest at the next commit. Never fails:
     * the device keeps at most the depth it created the engine with in
     * flight. */
    void (*queue)(struct em_blk_engine *e, struct em_blk_io *io);
    void (*commit)(struct em_blk_engine *e);
    /* Hands every finished operation to done(), once; returns how many. */
    unsigned (*reap)(struct em_blk_engine *e, void (*done)(void *arg, struct em_blk_io *io),
                     void *arg);
    /* Blocks until at least one operation has finished (for reset). */
    void (*wait)(struct em_blk_engine *e);
    void (*destroy)(struct em_blk_engine *e);
};

struct em_blk_engine {
    const struct em_blk_engine_ops *ops;
};

/* Both take `name` (the disk, for messages) and log why they fail. */
struct em_blk_engine *em_blk_uring_create(int fd, unsigned depth, const char *name,
                                          const struct kc_logger *log);
struct em_blk_engine *em_blk_pool_create(int fd, unsigned threads, const char *name,
                                         const struct kc_logger *log);

#endif
