/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk DISCARD and WRITE_ZEROES: every range is checked before any
 * is carried out, then they run one after the other. A discard punches a
 * hole (FALLOC_FL_PUNCH_HOLE, the file keeps its size); a file system that
 * cannot makes it a no-op, which the spec allows (a discard is a hint).
 * Write-zeroes punches a hole when the driver allows unmapping, else
 * zeroes the range in place (FALLOC_FL_ZERO_RANGE), else writes zeros;
 * what the file system refused once is not tried again.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/blk_internal.h"

/* ---- discard and write zeroes ---- */

static enum em_blk_zmethod choose_method(struct em_vblk *b, const struct em_blk_req *r,
                                         uint32_t flags)
{
    if (r->type == VIRTIO_BLK_T_DISCARD)
        return b->no_punch ? Z_SKIP : Z_PUNCH;
    if ((flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && !b->no_punch)
        return Z_PUNCH;
    return b->no_zero_range ? Z_WRITE : Z_ZERO_RANGE;
}

static void dwz_step(struct em_vblk *b, struct em_blk_req *r)
{
    while (!r->zleft) {
        const struct virtio_blk_discard_write_zeroes *rg;

        if (r->cur == r->nranges) {
            em_vblk_finish(b, r, VIRTIO_BLK_S_OK, 0);
            return;
        }
        rg = &r->ranges[r->cur];
        r->zoff = le64toh(rg->sector) * SECTOR;
        r->zleft = (uint64_t)le32toh(rg->num_sectors) * SECTOR;
        r->method = choose_method(b, r, le32toh(rg->flags));
        if (!r->zleft || r->method == Z_SKIP) {
            r->zleft = 0;
            r->cur++;
        }
    }
    r->io.offset = r->zoff;
    r->io.len = r->zleft;
    if (r->method == Z_WRITE) {
        if (!b->zeros && posix_memalign(&b->zeros, 4096, ZERO_CHUNK) == 0)
            memset(b->zeros, 0, ZERO_CHUNK);
        if (!b->zeros) {
            em_vblk_io_error(b, r, IO_WRITE_ZEROES, ENOMEM, NULL);
            return;
        }
        r->biov = (struct iovec){ b->zeros, r->zleft < ZERO_CHUNK ? r->zleft : ZERO_CHUNK };
        r->io.op = EM_BLK_WRITE;
        r->io.flags = b->writethrough ? RWF_DSYNC : 0;
        r->io.iov = &r->biov;
        r->io.niov = 1;
    } else {
        r->io.op = EM_BLK_FALLOCATE;
        r->io.flags = FALLOC_FL_KEEP_SIZE |
                      (r->method == Z_PUNCH ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE);
    }
    em_vblk_submit(b, r);
}

void em_vblk_dwz_done(struct em_vblk *b, struct em_blk_req *r, int64_t res)
{
    enum em_blk_io_kind k = r->type == VIRTIO_BLK_T_DISCARD ? IO_DISCARD : IO_WRITE_ZEROES;

    if (res == -EOPNOTSUPP && r->method != Z_WRITE) {
        /* The file system cannot: remember, and fall back (a discard is
         * only a hint, and is then skipped). */
        if (r->method == Z_PUNCH)
            b->no_punch = true;
        else
            b->no_zero_range = true;
        r->zleft = 0;
        if (k == IO_DISCARD)
            r->cur++;
    } else if (res < 0) {
        em_vblk_io_error(b, r, k, (int)-res, NULL);
        return;
    } else if (r->method == Z_WRITE) {
        if (res == 0) {
            em_vblk_io_error(b, r, k, ENOSPC, "the file took no data");
            return;
        }
        r->zoff += (uint64_t)res;
        r->zleft -= (uint64_t)res;
        if (!r->zleft)
            r->cur++;
    } else {
        r->zleft = 0;
        r->cur++;
    }
    dwz_step(b, r);
}

/* Checks every range before anything is done: a bad one fails the whole
 * request, untouched. Returns the status, or -1 to go on. */
static int dwz_check(struct em_vblk *b, struct em_blk_req *r, bool discard)
{
    const char *what = discard ? "discard" : "write-zeroes";
    uint64_t cap = b->disk.capacity;

    for (unsigned i = 0; i < r->nranges; i++) {
        uint64_t sector = le64toh(r->ranges[i].sector);
        uint32_t n = le32toh(r->ranges[i].num_sectors);
        uint32_t flags = le32toh(r->ranges[i].flags);

        if (flags & ~(discard ? 0u : (uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
            em_vblk_bad(b, BAD_DWZ, "a %s with flags 0x%x: unsupported", what, flags);
            return VIRTIO_BLK_S_UNSUPP;
        }
        if (n > DWZ_SECTORS) {
            em_vblk_bad(b, BAD_DWZ, "a %s of %u sectors, more than the %u offered: I/O error", what,
                        n, DWZ_SECTORS);
            return VIRTIO_BLK_S_IOERR;
        }
        if (sector > cap || n > cap - sector) {
            em_vblk_bad(b, BAD_RANGE,
                        "a %s of %u sectors at sector %llu goes past the end of the disk (%llu "
                        "sectors): I/O error",
                        what, n, (unsigned long long)sector, (unsigned long long)cap);
            return VIRTIO_BLK_S_IOERR;
        }
    }
    return -1;
}

void em_vblk_start_dwz(struct em_vblk *b, struct em_blk_req *r)
{
    const struct em_vq_elem *e = r->elem;
    bool discard = r->type == VIRTIO_BLK_T_DISCARD;
    const char *what = discard ? "discard" : "write-zeroes";
    uint64_t len = e->out_bytes - HDR;
    int status = VIRTIO_BLK_S_IOERR;

    if (b->disk.readonly) {
        em_vblk_bad(b, BAD_READONLY, "a %s on a read-only disk: I/O error", what);
    } else if (!(em_virtio_negotiated(b->vd) &
                 (discard ? F(VIRTIO_BLK_F_DISCARD) : F(VIRTIO_BLK_F_WRITE_ZEROES)))) {
        em_vblk_bad(b, BAD_TYPE, "a %s, a feature the driver did not accept: unsupported", what);
        status = VIRTIO_BLK_S_UNSUPP;
    } else if (e->in_bytes != 1) {
        em_vblk_bad(b, BAD_DIRECTION, "a %s with %llu bytes of device-writable data: I/O error",
                    what, (unsigned long long)(e->in_bytes - 1));
    } else if (len == 0 || len % sizeof(*r->ranges)) {
        em_vblk_bad(b, BAD_LENGTH,
                    "a %s with %llu bytes of ranges, not a multiple of 16: I/O error", what,
                    (unsigned long long)len);
    } else if (len / sizeof(*r->ranges) > DWZ_SEG) {
        em_vblk_bad(b, BAD_DWZ, "a %s of %llu ranges, more than the %u offered: unsupported", what,
                    (unsigned long long)(len / sizeof(*r->ranges)), DWZ_SEG);
        status = VIRTIO_BLK_S_UNSUPP;
    } else if (!(r->ranges = malloc(len))) {
        em_vblk_io_error(b, r, discard ? IO_DISCARD : IO_WRITE_ZEROES, ENOMEM, NULL);
        return;
    } else {
        r->nranges = (unsigned)(len / sizeof(*r->ranges));
        em_vq_read(e, HDR, r->ranges, len);
        status = dwz_check(b, r, discard);
        if (status < 0) {
            r->write_class = true;
            r->seq = ++b->seq;
            em_vblk_list_add(&b->writes, r);
            dwz_step(b, r);
            return;
        }
    }
    em_vblk_finish(b, r, (uint8_t)status, 0);
}
