/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk reads and writes (any framing: the data is whatever lies
 * between the 16-byte header and the status byte), FLUSH and GET_ID.
 *
 * cache=none (O_DIRECT): guest buffers go straight to the kernel when
 * their addresses and lengths meet the file's O_DIRECT alignment (a Linux
 * guest's do: its block layer hands the driver sector-aligned pages);
 * otherwise the request goes through an aligned bounce buffer, 1 MiB at a
 * time. Bouncing every request instead costs a copy for nothing: bench/blk
 * --always-bounce measures it.
 *
 * A FLUSH completes after fdatasync() returned, and after every write,
 * discard and write-zeroes taken from the ring before it completed: it is
 * held back until then. Without VIRTIO_BLK_F_FLUSH negotiated the disk is
 * write-through (RWF_DSYNC), as the spec expects of a device whose driver
 * cannot flush.
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

/* ---- reads and writes ---- */

/* iov = bytes [skip, skip + len) of the segments [first, first + n). */
static unsigned slice(const struct em_vq_elem *e, unsigned first, unsigned n, uint64_t skip,
                      uint64_t len, struct iovec *iov)
{
    unsigned k = 0;

    for (unsigned i = first; i < first + n && len; i++) {
        const struct em_vq_seg *s = &e->seg[i];
        uint64_t chunk;

        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        chunk = s->len - skip;
        if (chunk > len)
            chunk = len;
        iov[k++] = (struct iovec){ (uint8_t *)s->host + skip, chunk };
        len -= chunk;
        skip = 0;
    }
    return k;
}

static bool dio_aligned(const struct em_vblk *b, const struct iovec *iov, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if ((uintptr_t)iov[i].iov_base % b->disk.dio_mem_align ||
            iov[i].iov_len % b->disk.dio_offset_align)
            return false;
    return true;
}

static void iov_advance(struct em_blk_req *r, uint64_t n)
{
    while (n && r->niov) {
        if (n >= r->iov->iov_len) {
            n -= r->iov->iov_len;
            r->iov++;
            r->niov--;
        } else {
            r->iov->iov_base = (uint8_t *)r->iov->iov_base + n;
            r->iov->iov_len -= n;
            n = 0;
        }
    }
}

static void rw_step(struct em_vblk *b, struct em_blk_req *r)
{
    bool write = r->type == VIRTIO_BLK_T_OUT;
    uint64_t left = r->len - r->done;

    if (!left) {
        /* The used length is 32 bits; em_vq_push() clamps it anyway. */
        em_vblk_finish(b, r, VIRTIO_BLK_S_OK,
                       write ? 0 : (uint32_t)(r->len < UINT32_MAX ? r->len : UINT32_MAX - 1));
        return;
    }
    r->io.op = write ? EM_BLK_WRITE : EM_BLK_READ;
    r->io.flags = write && b->writethrough ? RWF_DSYNC : 0;
    r->io.offset = r->offset + r->done;
    if (r->bounce) {
        uint64_t chunk = left < BOUNCE_MAX ? left : BOUNCE_MAX;

        if (write)
            em_vq_read(r->elem, HDR + r->done, r->bounce, chunk);
        r->biov = (struct iovec){ r->bounce, chunk };
        r->io.iov = &r->biov;
        r->io.niov = 1;
    } else {
        r->io.iov = r->iov;
        r->io.niov = r->niov;
    }
    em_vblk_submit(b, r);
}

void em_vblk_rw_done(struct em_vblk *b, struct em_blk_req *r, int64_t res)
{
    bool write = r->type == VIRTIO_BLK_T_OUT;
    enum em_blk_io_kind k = write ? IO_WRITE : IO_READ;

    if (res < 0) {
        em_vblk_io_error(b, r, k, (int)-res, NULL);
        return;
    }
    if (res == 0) {
        /* Within the capacity, the file ended: it shrank under us (or a
         * write found no room and said so this way). */
        em_vblk_io_error(b, r, k, write ? ENOSPC : EIO,
                         write ? "the file took no data"
                               : "the file ends there (was it truncated?)");
        return;
    }
    if (r->bounce && !write)
        em_vq_write(r->elem, r->done, r->bounce, (uint64_t)res);
    r->done += (uint64_t)res;
    if (!r->bounce)
        iov_advance(r, (uint64_t)res);
    rw_step(b, r);
}

/* Sets up the data's iovecs, or a bounce buffer; false when out of memory. */
static bool rw_buffers(struct em_vblk *b, struct em_blk_req *r, bool write)
{
    const struct em_vq_elem *e = r->elem;
    unsigned first = write ? 0 : e->n_out, n = write ? e->n_out : e->n_in;
    bool bounce = n > IOV_MAX || (b->disk.direct && b->opts.always_bounce);

    if (!bounce) {
        r->iov = r->iov_inline;
        if (n > INLINE_IOV) {
            r->iov = r->iov_mem = malloc(n * sizeof(*r->iov));
            if (!r->iov)
                return false;
        }
        r->niov = slice(e, first, n, write ? HDR : 0, r->len, r->iov);
        bounce = b->disk.direct && !dio_aligned(b, r->iov, r->niov);
    }
    if (bounce) {
        size_t align = b->disk.dio_mem_align > 4096 ? b->disk.dio_mem_align : 4096;
        size_t size = r->len < BOUNCE_MAX ? r->len : BOUNCE_MAX;

        if (posix_memalign(&r->bounce, align, (size + align - 1) / align * align))
            return false;
        b->st.bounced++;
    }
    return true;
}

void em_vblk_start_rw(struct em_vblk *b, struct em_blk_req *r)
{
    const struct em_vq_elem *e = r->elem;
    bool write = r->type == VIRTIO_BLK_T_OUT;
    const char *what = write ? "write" : "read";
    uint64_t cap = b->disk.capacity;

    if (write ? e->in_bytes != 1 : e->out_bytes != HDR) {
        em_vblk_bad(b, BAD_DIRECTION, "a %s with %llu bytes of device-%s data: I/O error", what,
                    (unsigned long long)(write ? e->in_bytes - 1 : e->out_bytes - HDR),
                    write ? "writable" : "readable");
        em_vblk_finish(b, r, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    r->len = write ? e->out_bytes - HDR : e->in_bytes - 1;
    if (r->len % SECTOR) {
        em_vblk_bad(b, BAD_LENGTH, "a %s of %llu bytes, not a multiple of 512: I/O error", what,
                    (unsigned long long)r->len);
    } else if (r->sector > cap || r->len / SECTOR > cap - r->sector) {
        em_vblk_bad(
            b, BAD_RANGE,
            "a %s of %llu sectors at sector %llu goes past the end of the disk (%llu sectors): "
            "I/O error",
            what, (unsigned long long)(r->len / SECTOR), (unsigned long long)r->sector,
            (unsigned long long)cap);
    } else if (write && b->disk.readonly) {
        em_vblk_bad(b, BAD_READONLY, "a write to a read-only disk: I/O error");
    } else if (b->disk.direct && ((r->sector * SECTOR) | r->len) % b->disk.dio_offset_align) {
        em_vblk_bad(b, BAD_ALIGN,
                    "a %s at sector %llu of %llu bytes is not aligned to the disk's %u-byte blocks "
                    "(cache=none): I/O error",
                    what, (unsigned long long)r->sector, (unsigned long long)r->len,
                    b->disk.dio_offset_align);
    } else {
        r->offset = r->sector * SECTOR;
        if (!rw_buffers(b, r, write)) {
            em_vblk_io_error(b, r, write ? IO_WRITE : IO_READ, ENOMEM, NULL);
            return;
        }
        if (write) {
            r->write_class = true;
            r->seq = ++b->seq;
            em_vblk_list_add(&b->writes, r);
        }
        rw_step(b, r);
        return;
    }
    em_vblk_finish(b, r, VIRTIO_BLK_S_IOERR, 0);
}

/* ---- flush and GET_ID ---- */

static void issue_flush(struct em_vblk *b, struct em_blk_req *r)
{
    r->io.op = EM_BLK_FLUSH;
    r->io.offset = 0;
    em_vblk_submit(b, r);
}

/* Flushes wait for the writes popped before them. */
void em_vblk_release_flushes(struct em_vblk *b)
{
    struct em_blk_req *f;

    while (!b->draining && (f = b->flushes.head) &&
           (!b->writes.head || b->writes.head->seq > f->seq)) {
        em_vblk_list_del(&b->flushes, f);
        issue_flush(b, f);
    }
}

void em_vblk_start_flush(struct em_vblk *b, struct em_blk_req *r)
{
    /* Data in a flush has no meaning (the driver should send none). */
    if (b->writes.head) {
        r->seq = b->seq;
        em_vblk_list_add(&b->flushes, r);
        return;
    }
    issue_flush(b, r);
}

void em_vblk_get_id(struct em_vblk *b, struct em_blk_req *r)
{
    const struct em_vq_elem *e = r->elem;
    uint64_t n = e->in_bytes - 1;

    if (e->out_bytes != HDR) {
        em_vblk_bad(b, BAD_DIRECTION, "a GET_ID with %llu bytes of device-readable data: I/O error",
                    (unsigned long long)(e->out_bytes - HDR));
        em_vblk_finish(b, r, VIRTIO_BLK_S_IOERR, 0);
        return;
    }
    if (n > VIRTIO_BLK_ID_BYTES)
        n = VIRTIO_BLK_ID_BYTES;
    em_vq_write(e, 0, b->serial, n);
    em_vblk_finish(b, r, VIRTIO_BLK_S_OK, (uint32_t)n);
}
