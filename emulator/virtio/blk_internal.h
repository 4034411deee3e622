/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk's insides, shared by blk.c (the queue, completion, the
 * device operations), blk_rw.c (reads, writes, flush, GET_ID) and
 * blk_zero.c (discard, write zeroes). Everything here runs on the
 * device's I/O thread with its lock held.
 */
#ifndef EM_BLK_INTERNAL_H
#define EM_BLK_INTERNAL_H

#include <linux/virtio_blk.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/blk.h"
#include "virtio/blk_disk.h"
#include "virtio/blk_engine.h"

#define SECTOR       512u
#define HDR          sizeof(struct virtio_blk_outhdr)
#define QUEUE_SIZE   256
#define SEG_MAX      (QUEUE_SIZE - 2) /* a header and a status besides */
#define DWZ_SECTORS  (1u << 22)       /* per discard/write-zeroes segment: 2 GiB */
#define DWZ_SEG      32
#define BOUNCE_MAX   (1u << 20)
#define ZERO_CHUNK   (1u << 20)
#define INLINE_IOV   8
#define POOL_THREADS 32
#define CONFIG_SIZE  offsetof(struct virtio_blk_config, max_secure_erase_sectors)

#define F(bit) (1ull << (bit))

/* Guest mistakes, each logged once. */
enum em_blk_bad {
    BAD_HEADER,
    BAD_DIRECTION,
    BAD_LENGTH,
    BAD_RANGE,
    BAD_READONLY,
    BAD_ALIGN,
    BAD_TYPE,
    BAD_DWZ,
    BAD_KINDS
};

enum em_blk_io_kind { IO_READ, IO_WRITE, IO_FLUSH, IO_DISCARD, IO_WRITE_ZEROES, IO_KINDS };

/* How a discard or write-zeroes range is being carried out. */
enum em_blk_zmethod { Z_PUNCH, Z_ZERO_RANGE, Z_WRITE, Z_SKIP };

struct em_blk_req {
    struct em_blk_io io; /* first: an operation is its request */
    struct em_vq_elem *elem;
    struct em_blk_req *prev, *next; /* writes in flight, or flushes held back */
    struct em_blk_req *next_free;
    uint32_t type;
    uint64_t sector;
    uint64_t seq; /* a write's place in pop order; a flush's last earlier write */
    bool write_class;
    /* IN and OUT: bytes [offset, offset + len), `done` of them done. */
    uint64_t offset, len, done;
    struct iovec *iov; /* the data not done yet (when not bounced) */
    unsigned niov;
    struct iovec *iov_mem; /* malloc'd when more than INLINE_IOV */
    struct iovec iov_inline[INLINE_IOV];
    void *bounce;
    struct iovec biov;
    /* DISCARD and WRITE_ZEROES: the ranges, the current one, what is left of it. */
    struct virtio_blk_discard_write_zeroes *ranges;
    unsigned nranges, cur;
    uint64_t zoff, zleft;
    enum em_blk_zmethod method;
};

struct em_blk_req_list {
    struct em_blk_req *head, *tail;
};

struct em_vblk {
    struct em_virtio_dev *vd;
    struct em_blk_disk disk;
    struct em_blk_engine *eng;
    struct em_vblk_opts opts;
    struct kc_logger log;
    char serial[VIRTIO_BLK_ID_BYTES];
    struct virtio_blk_config cfg; /* little-endian, as the guest reads it */
    uint64_t features;

    bool started;      /* DRIVER_OK seen, no reset since */
    bool writethrough; /* VIRTIO_BLK_F_FLUSH not negotiated */
    bool draining;     /* reset: completions are dropped */
    bool pushed;       /* used buffers not yet notified */
    unsigned inflight; /* requests popped, not completed */
    unsigned io_inflight;
    uint64_t seq;
    struct em_blk_req_list writes;  /* in pop order */
    struct em_blk_req_list flushes; /* held back, in pop order */
    struct em_blk_req *free_reqs;
    void *zeros; /* ZERO_CHUNK zero bytes, on first need */
    bool no_punch, no_zero_range;

    uint32_t warned_bad;
    uint64_t warned_io[IO_KINDS]; /* errno bits (63: any larger one) */
    struct em_vblk_stats st;
};

/* blk.c */
void em_vblk_list_add(struct em_blk_req_list *l, struct em_blk_req *r);
void em_vblk_list_del(struct em_blk_req_list *l, struct em_blk_req *r);
/* A request the guest got wrong: counted, logged the first time. */
void em_vblk_bad(struct em_vblk *b, enum em_blk_bad k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes the status, returns the chain to the driver, frees the request. */
void em_vblk_finish(struct em_vblk *b, struct em_blk_req *r, uint8_t status, uint32_t data_written);
/* A host error: logged once per kind, counted, the hook called, IOERR. */
void em_vblk_io_error(struct em_vblk *b, struct em_blk_req *r, enum em_blk_io_kind k, int err,
                      const char *why);
void em_vblk_submit(struct em_vblk *b, struct em_blk_req *r);

/* blk_rw.c */
void em_vblk_start_rw(struct em_vblk *b, struct em_blk_req *r);
void em_vblk_rw_done(struct em_vblk *b, struct em_blk_req *r, int64_t res);
void em_vblk_start_flush(struct em_vblk *b, struct em_blk_req *r);
/* Issues the flushes no earlier write holds back any more. */
void em_vblk_release_flushes(struct em_vblk *b);
void em_vblk_get_id(struct em_vblk *b, struct em_blk_req *r);

/* blk_zero.c */
void em_vblk_start_dwz(struct em_vblk *b, struct em_blk_req *r);
void em_vblk_dwz_done(struct em_vblk *b, struct em_blk_req *r, int64_t res);

#endif
