/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk driven through tests/virtio/vdriver on its core, on both I/O
 * engines (loop index 0: io_uring, 1: the worker pool): configuration and
 * features, reads and writes checked in the host file, the disk's edges,
 * flush ordering, GET_ID, discard and write-zeroes checked in the file's
 * allocation, read-only disks, cache=none with unaligned guest buffers,
 * 32 requests in flight, host I/O errors, and opening errors.
 * test_virtio_blk_hostile.c has the malformed requests and resets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_fixture.h"

const bool test_needs_kvm = false;

#define CAP BF_SECTORS

static void start_rw(int i)
{
    bf_start(&(struct bf_dev){ .engine = bf_engine(i) });
    bf_bring_up(0);
}

START_TEST(config_and_features)
{
    uint64_t f, cap = 0;
    uint32_t v32 = 0;
    uint8_t v8 = 0, ff[4];

    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_URING });
    f = em_virtio_device_features(bf_vd);
    ck_assert(f & BF_F(VIRTIO_BLK_F_FLUSH));
    ck_assert(f & BF_F(VIRTIO_BLK_F_SEG_MAX));
    ck_assert(f & BF_F(VIRTIO_BLK_F_BLK_SIZE));
    ck_assert(f & BF_F(VIRTIO_BLK_F_DISCARD));
    ck_assert(f & BF_F(VIRTIO_BLK_F_WRITE_ZEROES));
    ck_assert(!(f & BF_F(VIRTIO_BLK_F_RO)));
    ck_assert(!(f & BF_F(VIRTIO_BLK_F_MQ))); /* one queue */
    ck_assert(f & EM_VIRTIO_F_VERSION_1);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, capacity), &cap, 8);
    ck_assert_uint_eq(cap, CAP);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, seg_max), &v32, 4);
    ck_assert_uint_eq(v32, 254);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, blk_size), &v32, 4);
    ck_assert_uint_eq(v32, 512);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, max_discard_seg), &v32, 4);
    ck_assert_uint_eq(v32, 32);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, max_write_zeroes_sectors), &v32, 4);
    ck_assert_uint_eq(v32, 1u << 22);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, write_zeroes_may_unmap), &v8, 1);
    ck_assert_uint_eq(v8, 1);
    /* Writes are ignored (no CONFIG_WCE); beyond the fields, all-ones. */
    cap = 1;
    vdrv_config_write(bf_drv, 0, &cap, 8);
    vdrv_config_read(bf_drv, 0, &cap, 8);
    ck_assert_uint_eq(cap, CAP);
    vdrv_config_read(bf_drv, offsetof(struct virtio_blk_config, max_secure_erase_sectors), ff, 4);
    ck_assert_uint_eq(ff[0], 0xff);
    ck_assert_uint_eq(em_virtio_device_id(bf_vd), 2);
}
END_TEST

START_TEST(read_write_round_trip)
{
    struct bf_req w, r;
    uint8_t *data, file[4096], before[512], after[512];
    uint32_t used = 0;

    start_rw(_i);
    w = bf_req(VIRTIO_BLK_T_OUT, 8, 4096, false);
    data = bf_host(w.data, 4096);
    bf_fill(data, 4096, 1);
    ck_assert_uint_eq(bf_do(&w, &used), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(used, 1);
    bf_file_read(8 * 512, file, 4096);
    ck_assert_mem_eq(file, data, 4096);
    /* Its neighbours are untouched. */
    bf_file_read(7 * 512, before, 512);
    bf_file_read(16 * 512, after, 512);
    for (unsigned i = 0; i < 512; i++) {
        ck_assert_uint_eq(before[i], bf_pattern(7 * 512 + i));
        ck_assert_uint_eq(after[i], bf_pattern(16 * 512 + i));
    }
    /* Read it back, and a part only the host wrote. */
    r = bf_req(VIRTIO_BLK_T_IN, 8, 4096, true);
    ck_assert_uint_eq(bf_do(&r, &used), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(used, 4097);
    ck_assert_mem_eq(bf_host(r.data, 4096), data, 4096);
    r = bf_req(VIRTIO_BLK_T_IN, 1000, 1024, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(bf_first_unlike_pattern(bf_host(r.data, 1024), 1024, 1000 * 512), 1024);
    ck_assert_uint_eq(bf_stats().requests, 3);
    ck_assert_uint_eq(bf_cap.count, 0);
}
END_TEST

START_TEST(indirect_and_split_chains)
{
    /* A write whose data is three descriptors of odd sizes, the header in
     * two halves, all through an indirect table; and a read whose data
     * and status share one buffer. Framing is the driver's choice. */
    uint64_t hdr, d, st, both;
    struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = 40 };
    struct vdrv_buf b[6];
    uint8_t file[1536];
    uint16_t head;
    uint32_t len;

    start_rw(_i);
    hdr = bf_alloc(16, 16);
    d = bf_alloc(1536, 8);
    st = bf_alloc(1, 1);
    b[0] = (struct vdrv_buf){ hdr, 8, false };
    b[1] = (struct vdrv_buf){ hdr + 8, 8, false };
    b[2] = (struct vdrv_buf){ d, 100, false };
    b[3] = (struct vdrv_buf){ d + 100, 1000, false };
    b[4] = (struct vdrv_buf){ d + 1100, 436, false };
    b[5] = (struct vdrv_buf){ st, 1, true };
    memcpy(bf_host(hdr, 16), &h, 16);
    bf_fill(bf_host(d, 1536), 1536, 2);
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 6, true), 0);
    vdrv_kick(bf_drv, 0);
    bf_wait(1, &head, &len);
    ck_assert_uint_eq(*(uint8_t *)bf_host(st, 1), VIRTIO_BLK_S_OK);
    bf_file_read(40 * 512, file, 1536);
    ck_assert_mem_eq(file, bf_host(d, 1536), 1536);

    h.type = VIRTIO_BLK_T_IN;
    both = bf_alloc(1537, 8);
    memset(bf_host(both, 1537), 0xee, 1537);
    b[0] = (struct vdrv_buf){ hdr, 16, false };
    b[1] = (struct vdrv_buf){ both, 1537, true };
    memcpy(bf_host(hdr, 16), &h, 16);
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 2, false), 0);
    vdrv_kick(bf_drv, 0);
    bf_wait(1, &head, &len);
    ck_assert_uint_eq(len, 1537);
    ck_assert_mem_eq(bf_host(both, 1536), file, 1536);
    ck_assert_uint_eq(((uint8_t *)bf_host(both, 1537))[1536], VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(last_sector)
{
    struct bf_req w, r;
    uint8_t file[512];

    start_rw(_i);
    w = bf_req(VIRTIO_BLK_T_OUT, CAP - 1, 512, false);
    bf_fill(bf_host(w.data, 512), 512, 3);
    ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_OK);
    bf_file_read((CAP - 1) * 512, file, 512);
    ck_assert_mem_eq(file, bf_host(w.data, 512), 512);
    r = bf_req(VIRTIO_BLK_T_IN, CAP - 1, 512, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(r.data, 512), file, 512);
    /* A zero-length read at the very end is in range. */
    r = bf_req(VIRTIO_BLK_T_IN, CAP, 0, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(outside_the_disk)
{
    static const struct {
        uint64_t sector;
        uint32_t len;
    } cases[] = {
        { CAP, 512 },        /* just past the end */
        { CAP - 1, 1024 },   /* straddling it */
        { CAP + 1000, 512 }, /* far past it */
        { UINT64_MAX, 512 }, /* sector * 512 overflows */
        { UINT64_MAX / 512 + 1, 512 },
        { UINT64_MAX - 1, 4096 }, /* sector + length overflows */
    };
    uint64_t len;
    uint8_t *snap;

    start_rw(_i);
    snap = bf_file_snapshot(&len);
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct bf_req w = bf_req(VIRTIO_BLK_T_OUT, cases[k].sector, cases[k].len, false);
        struct bf_req r = bf_req(VIRTIO_BLK_T_IN, cases[k].sector, cases[k].len, true);

        bf_fill(bf_host(w.data, w.len), w.len, 4);
        memset(bf_host(r.data, r.len), 0x5a, r.len);
        ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_IOERR);
        /* Nothing read into the guest either. */
        ck_assert_uint_eq(first_byte_not(bf_host(r.data, r.len), r.len, 0x5a), r.len);
    }
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert_uint_eq(lseek(bf_fd, 0, SEEK_END), CAP * 512); /* not extended */
    ck_assert_msg(log_has(&bf_cap, "a write of 1 sectors at sector 8192 goes past the end of the "
                                   "disk (8192 sectors)"),
                  "%s", bf_cap.text);
    ck_assert_msg(log_has(&bf_cap, bf_path), "%s", bf_cap.text);
    ck_assert_uint_eq(bf_cap.count, 1); /* once */
    ck_assert_uint_eq(bf_stats().bad_requests, 12);
    free(snap);
}
END_TEST

START_TEST(length_not_whole_sectors)
{
    struct bf_req w, r;
    uint64_t len;
    uint8_t *snap;

    start_rw(_i);
    snap = bf_file_snapshot(&len);
    w = bf_req(VIRTIO_BLK_T_OUT, 0, 100, false);
    bf_fill(bf_host(w.data, 100), 100, 5);
    ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_IOERR);
    r = bf_req(VIRTIO_BLK_T_IN, 0, 513, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert_msg(log_has(&bf_cap, "a write of 100 bytes, not a multiple of 512"), "%s",
                  bf_cap.text);
    free(snap);
}
END_TEST

/* Writes then a flush in one batch: the flush completes last, after the
 * writes, on cache=none where the writes really take time. */
START_TEST(flush_after_writes)
{
    enum { N = 16 };
    struct bf_req w[N], f;
    uint16_t heads[N + 1];
    uint8_t file[8192];

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = true });
    bf_bring_up(0);
    for (unsigned k = 0; k < N; k++) {
        w[k] = bf_req(VIRTIO_BLK_T_OUT, 16 + 16 * k, 8192, false);
        bf_fill(bf_host(w[k].data, 8192), 8192, 10 + k);
        bf_add(&w[k]);
    }
    f = bf_req(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    bf_add(&f);
    vdrv_kick(bf_drv, 0);
    bf_wait(N + 1, heads, NULL);
    ck_assert_uint_eq(heads[N], (uint16_t)f.head);
    ck_assert_uint_eq(bf_status(&f), VIRTIO_BLK_S_OK);
    for (unsigned k = 0; k < N; k++) {
        ck_assert_uint_eq(bf_status(&w[k]), VIRTIO_BLK_S_OK);
        bf_file_read((16 + 16 * k) * 512, file, 8192);
        ck_assert_mem_eq(file, bf_host(w[k].data, 8192), 8192);
    }
}
END_TEST

/* Without VIRTIO_BLK_F_FLUSH the disk is write-through; writes still land. */
START_TEST(write_through_without_flush)
{
    struct bf_req w;
    uint8_t file[4096];

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i) });
    bf_bring_up(em_virtio_device_features(bf_vd) & ~BF_F(VIRTIO_BLK_F_FLUSH));
    w = bf_req(VIRTIO_BLK_T_OUT, 64, 4096, false);
    bf_fill(bf_host(w.data, 4096), 4096, 6);
    ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_OK);
    bf_file_read(64 * 512, file, 4096);
    ck_assert_mem_eq(file, bf_host(w.data, 4096), 4096);
}
END_TEST

START_TEST(get_id)
{
    struct bf_req r;
    uint32_t used;
    char want[20] = "serial-42";

    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_URING, .serial = "serial-42" });
    bf_bring_up(0);
    r = bf_req(VIRTIO_BLK_T_GET_ID, 0, 20, true);
    memset(bf_host(r.data, 20), 0x77, 20);
    ck_assert_uint_eq(bf_do(&r, &used), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(used, 21);
    ck_assert_mem_eq(bf_host(r.data, 20), want, 20); /* NUL-padded */
    /* A shorter buffer gets what fits. */
    r = bf_req(VIRTIO_BLK_T_GET_ID, 0, 6, true);
    ck_assert_uint_eq(bf_do(&r, &used), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(used, 7);
    ck_assert_mem_eq(bf_host(r.data, 6), "serial", 6);
}
END_TEST

START_TEST(get_id_twenty_bytes)
{
    struct bf_req r;

    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_POOL, .serial = "ABCDEFGHIJKLMNOPQRST" });
    bf_bring_up(0);
    r = bf_req(VIRTIO_BLK_T_GET_ID, 0, 24, true);
    memset(bf_host(r.data, 24), 0x77, 24);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(r.data, 20), "ABCDEFGHIJKLMNOPQRST", 20); /* no terminator */
    ck_assert_uint_eq(((uint8_t *)bf_host(r.data, 24))[20], 0x77);
}
END_TEST

/* ---- discard and write zeroes ---- */

static uint8_t dwz(uint32_t type, const struct virtio_blk_discard_write_zeroes *rg, unsigned n)
{
    struct bf_req r = bf_req(type, 0, n * sizeof(*rg), false);

    memcpy(bf_host(r.data, r.len), rg, r.len);
    return bf_do(&r, NULL);
}

static bool is_hole(uint64_t off, uint64_t len)
{
    off_t data = lseek(bf_fd, (off_t)off, SEEK_DATA);

    return data < 0 || (uint64_t)data >= off + len;
}

static void expect_zeros(uint64_t sector, uint32_t n)
{
    struct bf_req r = bf_req(VIRTIO_BLK_T_IN, sector, n * 512, true);
    uint8_t *file = malloc(n * 512);

    memset(bf_host(r.data, r.len), 0x5a, r.len);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    bf_file_read(sector * 512, file, n * 512);
    ck_assert_uint_eq(first_byte_not(bf_host(r.data, r.len), r.len, 0), r.len);
    ck_assert_uint_eq(first_byte_not(file, r.len, 0), r.len);
    free(file);
}

START_TEST(discard_punches_a_hole)
{
    struct virtio_blk_discard_write_zeroes rg[2] = { { 256, 256, 0 }, { 1024, 8, 0 } };
    struct stat before, after;

    start_rw(_i);
    ck_assert_int_eq(fstat(bf_fd, &before), 0);
    ck_assert(!is_hole(256 * 512, 256 * 512));
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, rg, 2), VIRTIO_BLK_S_OK);
    ck_assert_int_eq(fstat(bf_fd, &after), 0);
    ck_assert(is_hole(256 * 512, 256 * 512));
    ck_assert(is_hole(1024 * 512, 8 * 512));
    ck_assert_int_le(after.st_blocks, before.st_blocks - 264);
    ck_assert_uint_eq(after.st_size, before.st_size);
    expect_zeros(256, 256);
    expect_zeros(1024, 8);
}
END_TEST

START_TEST(write_zeroes)
{
    struct virtio_blk_discard_write_zeroes keep = { 512, 64, 0 };
    struct virtio_blk_discard_write_zeroes unmap = { 2048, 128,
                                                     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
    struct stat before, after;

    start_rw(_i);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &keep, 1), VIRTIO_BLK_S_OK);
    expect_zeros(512, 64);
    /* Without the unmap flag, the blocks stay allocated. */
    ck_assert(!is_hole(512 * 512, 64 * 512));
    /* Counted here, not at the start: ext4 may take a block for its
     * extent tree when ZERO_RANGE splits an extent. */
    ck_assert_int_eq(fsync(bf_fd), 0);
    ck_assert_int_eq(fstat(bf_fd, &before), 0);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &unmap, 1), VIRTIO_BLK_S_OK);
    expect_zeros(2048, 128);
    ck_assert(is_hole(2048 * 512, 128 * 512));
    ck_assert_int_eq(fstat(bf_fd, &after), 0);
    ck_assert_int_le(after.st_blocks, before.st_blocks - 120);
    /* The sectors around them are untouched. */
    {
        uint8_t b[2];

        bf_file_read(512 * 512 - 1, b, 1);
        bf_file_read(576 * 512, b + 1, 1);
        ck_assert_uint_eq(b[0], bf_pattern(512 * 512 - 1));
        ck_assert_uint_eq(b[1], bf_pattern(576 * 512));
    }
}
END_TEST

/* A memfd (shmem) has no FALLOC_FL_ZERO_RANGE: write-zeroes falls back to
 * writing zeros; a punch works. */
START_TEST(write_zeroes_fallback)
{
    struct virtio_blk_discard_write_zeroes rg[2] = { { 100, 3000, 0 }, { 5000, 16, 0 } };
    int mfd = memfd_create("disk", MFD_CLOEXEC);
    uint8_t *buf = malloc(CAP * 512);

    ck_assert_int_ge(mfd, 0);
    for (uint64_t i = 0; i < CAP * 512; i++)
        buf[i] = bf_pattern(i);
    ck_assert_int_eq(pwrite(mfd, buf, CAP * 512, 0), (ssize_t)(CAP * 512));
    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .use_fd = true, .fd = mfd });
    bf_bring_up(0);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, rg, 2), VIRTIO_BLK_S_OK);
    ck_assert_int_eq(pread(mfd, buf, CAP * 512, 0), (ssize_t)(CAP * 512));
    ck_assert_uint_eq(bf_first_unlike_pattern(buf, 100 * 512, 0), 100 * 512);
    ck_assert_uint_eq(first_byte_not(buf + 100 * 512, 3000 * 512, 0), 3000 * 512);
    ck_assert_uint_eq(bf_first_unlike_pattern(buf + 3100 * 512, 1900 * 512, 3100 * 512),
                      1900 * 512);
    ck_assert_uint_eq(first_byte_not(buf + 5000 * 512, 16 * 512, 0), 16 * 512);
    ck_assert_uint_eq(bf_first_unlike_pattern(buf + 5016 * 512, (CAP - 5016) * 512, 5016 * 512),
                      (CAP - 5016) * 512);
    /* Again, now that the device knows (no second attempt at ZERO_RANGE). */
    rg[0] = (struct virtio_blk_discard_write_zeroes){ 6000, 10, 0 };
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, rg, 1), VIRTIO_BLK_S_OK);
    ck_assert_int_eq(pread(mfd, buf, 10 * 512, 6000 * 512), 10 * 512);
    ck_assert_uint_eq(first_byte_not(buf, 10 * 512, 0), 10 * 512);
    ck_assert_uint_eq(bf_cap.count, 0);
    free(buf);
    close(mfd);
}
END_TEST

START_TEST(discard_and_write_zeroes_refused)
{
    struct virtio_blk_discard_write_zeroes rg[33];
    uint64_t len;
    uint8_t *snap;

    start_rw(_i);
    snap = bf_file_snapshot(&len);
    /* Discard with the unmap flag, unknown flags: unsupported. */
    rg[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, rg, 1), VIRTIO_BLK_S_UNSUPP);
    rg[0].flags = 2;
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, rg, 1), VIRTIO_BLK_S_UNSUPP);
    /* Past the end, or overflowing: an I/O error, and the good range
     * before the bad one is not done either. */
    rg[0] = (struct virtio_blk_discard_write_zeroes){ 0, 8, 0 };
    rg[1] = (struct virtio_blk_discard_write_zeroes){ CAP - 4, 8, 0 };
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, rg, 2), VIRTIO_BLK_S_IOERR);
    rg[1] = (struct virtio_blk_discard_write_zeroes){ UINT64_MAX - 2, 8, 0 };
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, rg, 2), VIRTIO_BLK_S_IOERR);
    /* More sectors than offered; more segments than offered. */
    rg[0].num_sectors = (1u << 22) + 1;
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, rg, 1), VIRTIO_BLK_S_IOERR);
    for (unsigned k = 0; k < 33; k++)
        rg[k] = (struct virtio_blk_discard_write_zeroes){ 8 * k, 8, 0 };
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, rg, 33), VIRTIO_BLK_S_UNSUPP);
    /* A length that is not whole ranges. */
    {
        struct bf_req r = bf_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 20, false);

        memcpy(bf_host(r.data, 16), rg, 16);
        ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_IOERR);
    }
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert(!is_hole(0, CAP * 512));
    free(snap);
}
END_TEST

START_TEST(discard_not_negotiated)
{
    struct virtio_blk_discard_write_zeroes rg = { 0, 8, 0 };
    uint64_t len;
    uint8_t *snap = bf_file_snapshot(&len);

    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_URING });
    bf_bring_up(em_virtio_device_features(bf_vd) &
                ~(BF_F(VIRTIO_BLK_F_DISCARD) | BF_F(VIRTIO_BLK_F_WRITE_ZEROES)));
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, &rg, 1), VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &rg, 1), VIRTIO_BLK_S_UNSUPP);
    ck_assert(bf_file_unchanged(snap, len));
    free(snap);
}
END_TEST

/* ---- read-only ---- */

START_TEST(read_only)
{
    struct virtio_blk_discard_write_zeroes rg = { 0, 8, 0 };
    struct bf_req w, r, f;
    uint64_t len, cap = 0, feat;
    uint8_t *snap = bf_file_snapshot(&len);
    int ro = open(bf_path, O_RDONLY | O_CLOEXEC);

    ck_assert_int_ge(ro, 0);
    /* Through a read-only descriptor, as mgmtd may pass one. */
    bf_start(
        &(struct bf_dev){ .engine = bf_engine(_i), .readonly = true, .use_fd = true, .fd = ro });
    close(ro); /* the device has its own duplicate */
    feat = em_virtio_device_features(bf_vd);
    ck_assert(feat & BF_F(VIRTIO_BLK_F_RO));
    ck_assert(!(feat & BF_F(VIRTIO_BLK_F_DISCARD)));
    ck_assert(!(feat & BF_F(VIRTIO_BLK_F_WRITE_ZEROES)));
    vdrv_config_read(bf_drv, 0, &cap, 8);
    ck_assert_uint_eq(cap, CAP);
    bf_bring_up(0);
    w = bf_req(VIRTIO_BLK_T_OUT, 0, 4096, false);
    bf_fill(bf_host(w.data, 4096), 4096, 7);
    ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_DISCARD, &rg, 1), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(dwz(VIRTIO_BLK_T_WRITE_ZEROES, &rg, 1), VIRTIO_BLK_S_IOERR);
    f = bf_req(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    ck_assert_uint_eq(bf_do(&f, NULL), VIRTIO_BLK_S_OK);
    r = bf_req(VIRTIO_BLK_T_IN, 0, 4096, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(r.data, 4096), snap, 4096);
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert_msg(log_has(&bf_cap, "a write to a read-only disk"), "%s", bf_cap.text);
    free(snap);
}
END_TEST

/* ---- cache=none ---- */

START_TEST(cache_none_unaligned_buffers)
{
    /* Buffers at odd addresses in odd pieces, and a request larger than
     * one bounce (1 MiB): all through the bounce buffer. */
    enum { BIG = (1u << 20) + 3 * 4096 };
    uint64_t hdr, st, d;
    struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_OUT, .sector = 24 };
    struct vdrv_buf b[5];
    uint8_t *file = malloc(BIG);
    struct bf_req r, a;
    struct em_vblk_stats s;

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = true });
    bf_bring_up(0);
    hdr = bf_alloc(16, 16);
    st = bf_alloc(1, 1);
    d = bf_alloc(BIG + 64, 4096) + 3;
    b[0] = (struct vdrv_buf){ hdr, 16, false };
    b[1] = (struct vdrv_buf){ d, 1000, false };
    b[2] = (struct vdrv_buf){ d + 1000, 3000, false };
    b[3] = (struct vdrv_buf){ d + 4000, BIG - 4000, false };
    b[4] = (struct vdrv_buf){ st, 1, true };
    memcpy(bf_host(hdr, 16), &h, 16);
    bf_fill(bf_host(d, BIG), BIG, 8);
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 5, false), 0);
    vdrv_kick(bf_drv, 0);
    bf_wait(1, NULL, NULL);
    ck_assert_uint_eq(*(uint8_t *)bf_host(st, 1), VIRTIO_BLK_S_OK);
    bf_file_read(24 * 512, file, BIG);
    ck_assert_mem_eq(file, bf_host(d, BIG), BIG);
    ck_assert_uint_eq(bf_stats().bounced, 1);
    /* Read it back into an unaligned buffer. */
    h.type = VIRTIO_BLK_T_IN;
    memcpy(bf_host(hdr, 16), &h, 16);
    d = bf_alloc(BIG + 64, 4096) + 5;
    b[1] = (struct vdrv_buf){ d, BIG, true };
    b[2] = (struct vdrv_buf){ st, 1, true };
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 3, false), 0);
    vdrv_kick(bf_drv, 0);
    bf_wait(1, NULL, NULL);
    ck_assert_uint_eq(*(uint8_t *)bf_host(st, 1), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(d, BIG), file, BIG);
    ck_assert_uint_eq(bf_stats().bounced, 2);
    /* Aligned buffers go straight through. */
    a = bf_req(VIRTIO_BLK_T_OUT, 4096, 8192, false);
    bf_fill(bf_host(a.data, 8192), 8192, 9);
    ck_assert_uint_eq(bf_do(&a, NULL), VIRTIO_BLK_S_OK);
    r = bf_req(VIRTIO_BLK_T_IN, 4096, 8192, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(r.data, 8192), bf_host(a.data, 8192), 8192);
    s = bf_stats();
    ck_assert_uint_eq(s.bounced, 2);
    ck_assert_uint_eq(s.io_errors, 0);
    free(file);
}
END_TEST

/* ---- many in flight ---- */

START_TEST(queue_depth_32)
{
    enum { N = 32 };
    struct bf_req rq[N];
    uint16_t heads[N];
    bool seen[N] = { false };

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = _i == 0 });
    bf_bring_up(0);
    for (int round = 0; round < 4; round++) {
        for (unsigned k = 0; k < N; k++) {
            bool write = (k + round) % 3 == 0;

            rq[k] = bf_req(write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 8 * (k * 7 + round * 33),
                           4096, !write);
            if (write)
                bf_fill(bf_host(rq[k].data, 4096), 4096, k + round);
            else
                memset(bf_host(rq[k].data, 4096), 0x5a, 4096);
            bf_add(&rq[k]);
        }
        vdrv_kick(bf_drv, 0);
        bf_wait(N, heads, NULL);
        memset(seen, 0, sizeof(seen));
        for (unsigned j = 0; j < N; j++)
            for (unsigned k = 0; k < N; k++)
                if (heads[j] == (uint16_t)rq[k].head) {
                    ck_assert(!seen[k]);
                    seen[k] = true;
                }
        for (unsigned k = 0; k < N; k++) {
            uint8_t file[4096];

            ck_assert(seen[k]);
            ck_assert_uint_eq(bf_status(&rq[k]), VIRTIO_BLK_S_OK);
            bf_file_read(8 * 512 * (k * 7 + round * 33), file, 4096);
            ck_assert_mem_eq(bf_host(rq[k].data, 4096), file, 4096);
        }
    }
    ck_assert_uint_eq(bf_stats().inflight, 0);
    ck_assert_uint_eq(bf_stats().requests, 4 * N);
}
END_TEST

/* ---- host I/O errors ---- */

struct hook {
    unsigned calls;
    char op[16];
    int err;
};

static void on_io_error(void *opaque, const char *disk, const char *op, int err)
{
    struct hook *h = opaque;

    (void)disk;
    h->calls++;
    snprintf(h->op, sizeof(h->op), "%s", op);
    h->err = err;
}

/* A sealed memfd refuses writes with EPERM: a host error every time. */
START_TEST(host_write_error)
{
    int mfd = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    struct hook hk = { 0 };
    struct em_vblk_opts o = { .engine = bf_engine(_i), .on_io_error = on_io_error, .opaque = &hk };
    struct bf_req w, r;

    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(ftruncate(mfd, 1 << 20), 0);
    ck_assert_int_eq(fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE), 0);
    bf_start(&(struct bf_dev){ .use_fd = true, .fd = mfd, .opts = &o });
    bf_bring_up(0);
    for (int k = 0; k < 3; k++) {
        w = bf_req(VIRTIO_BLK_T_OUT, 8 * k, 4096, false);
        bf_fill(bf_host(w.data, 4096), 4096, 11);
        ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_IOERR);
    }
    ck_assert_uint_eq(hk.calls, 3);
    ck_assert_str_eq(hk.op, "write");
    ck_assert_int_eq(hk.err, EPERM);
    ck_assert_uint_eq(bf_stats().io_errors, 3);
    ck_assert_msg(log_has(&bf_cap, "write at byte 0: Operation not permitted"), "%s", bf_cap.text);
    ck_assert_msg(log_has(&bf_cap, "fd "), "%s", bf_cap.text); /* names the disk */
    ck_assert_uint_eq(bf_cap.count, 1);                        /* once per kind */
    /* Reads still work, and read zeros. */
    r = bf_req(VIRTIO_BLK_T_IN, 0, 512, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(((uint8_t *)bf_host(r.data, 512))[0], 0);
    close(mfd);
}
END_TEST

/* The file shrinks under the device: reads past its new end fail. */
START_TEST(file_truncated_under_the_device)
{
    struct bf_req r;

    start_rw(_i);
    ck_assert_int_eq(ftruncate(bf_fd, 4096 * 512), 0);
    r = bf_req(VIRTIO_BLK_T_IN, 5000, 4096, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_IOERR);
    ck_assert_msg(log_has(&bf_cap, "the file ends there (was it truncated?)"), "%s", bf_cap.text);
    ck_assert_msg(log_has(&bf_cap, bf_path), "%s", bf_cap.text);
    r = bf_req(VIRTIO_BLK_T_IN, 100, 4096, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(bf_stats().io_errors, 1);
}
END_TEST

/* ---- opening ---- */

static struct em_virtio_dev *try_open(struct em_disk_spec *spec)
{
    struct em_vdev_env env = { bf_mem, &bf_cap.logger, NULL };

    return em_vblk_create(&env, spec);
}

START_TEST(open_errors)
{
    struct em_disk_spec spec = { .path = "/nonexistent/disk.img", .fd = -1 };
    int ro = open(bf_path, O_RDONLY | O_CLOEXEC);

    ck_assert_ptr_null(try_open(&spec));
    ck_assert_msg(log_has(&bf_cap, "virtio-blk /nonexistent/disk.img: cannot open it read-write: "
                                   "No such file or directory"),
                  "%s", bf_cap.text);
    spec.path = "/tmp";
    ck_assert_ptr_null(try_open(&spec));
    spec.readonly = true;
    ck_assert_ptr_null(try_open(&spec));
    ck_assert_msg(log_has(&bf_cap, "/tmp: neither a regular file nor a block device"), "%s",
                  bf_cap.text);
    /* A read-only descriptor for a writable disk. */
    spec = (struct em_disk_spec){ .fd = ro };
    ck_assert_ptr_null(try_open(&spec));
    ck_assert_msg(log_has(&bf_cap, "the descriptor is open read-only, the disk needs reading and "
                                   "writing (or readonly=on)"),
                  "%s", bf_cap.text);
    close(ro);
    spec.fd = 1000; /* not open */
    ck_assert_ptr_null(try_open(&spec));
    ck_assert_msg(log_has(&bf_cap, "fd 1000: Bad file descriptor"), "%s", bf_cap.text);
}
END_TEST

START_TEST(size_not_whole_sectors)
{
    uint64_t cap = 0;

    ck_assert_int_eq(ftruncate(bf_fd, 10 * 512 + 100), 0);
    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_URING });
    vdrv_config_read(bf_drv, 0, &cap, 8);
    ck_assert_uint_eq(cap, 10);
    ck_assert_msg(log_has(&bf_cap, "5220 bytes, is not a multiple of 512: the last 100 bytes"),
                  "%s", bf_cap.text);
    ck_assert_uint_eq(bf_cap.count, 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_blk");
    TCase *tc = tcase_create("blk");

    tcase_add_checked_fixture(tc, bf_setup, bf_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_and_features);
    tcase_add_loop_test(tc, read_write_round_trip, 0, 2);
    tcase_add_loop_test(tc, indirect_and_split_chains, 0, 2);
    tcase_add_loop_test(tc, last_sector, 0, 2);
    tcase_add_loop_test(tc, outside_the_disk, 0, 2);
    tcase_add_loop_test(tc, length_not_whole_sectors, 0, 2);
    tcase_add_loop_test(tc, flush_after_writes, 0, 2);
    tcase_add_loop_test(tc, write_through_without_flush, 0, 2);
    tcase_add_test(tc, get_id);
    tcase_add_test(tc, get_id_twenty_bytes);
    tcase_add_loop_test(tc, discard_punches_a_hole, 0, 2);
    tcase_add_loop_test(tc, write_zeroes, 0, 2);
    tcase_add_loop_test(tc, write_zeroes_fallback, 0, 2);
    tcase_add_loop_test(tc, discard_and_write_zeroes_refused, 0, 2);
    tcase_add_test(tc, discard_not_negotiated);
    tcase_add_loop_test(tc, read_only, 0, 2);
    tcase_add_loop_test(tc, cache_none_unaligned_buffers, 0, 2);
    tcase_add_loop_test(tc, queue_depth_32, 0, 2);
    tcase_add_loop_test(tc, host_write_error, 0, 2);
    tcase_add_loop_test(tc, file_truncated_under_the_device, 0, 2);
    tcase_add_test(tc, open_errors);
    tcase_add_test(tc, size_not_whole_sectors);
    suite_add_tcase(s, tc);
    return s;
}
