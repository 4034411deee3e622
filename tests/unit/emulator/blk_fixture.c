/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk_fixture.h"

struct log_capture bf_cap;
struct kc_mem *bf_mem;
struct vdrv *bf_drv;
struct em_virtio_dev *bf_vd;
struct em_vblk *bf_blk;
char bf_path[64];
int bf_fd = -1;

uint8_t bf_pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + (i >> 9) * 13 + 1);
}

uint64_t bf_first_unlike_pattern(const void *p, uint64_t n, uint64_t off)
{
    const uint8_t *b = p;

    for (uint64_t i = 0; i < n; i++)
        if (b[i] != bf_pattern(off + i))
            return i;
    return n;
}

void bf_setup(void)
{
    uint64_t size = BF_SECTORS * 512;
    uint8_t *buf = malloc(size);

    log_capture_init(&bf_cap);
    bf_mem = kc_mem_create(&bf_cap.logger);
    ck_assert_ptr_nonnull(bf_mem);
    ck_assert_ptr_nonnull(kc_mem_add_ram(bf_mem, 0, BF_RAM, 0, "ram"));
    snprintf(bf_path, sizeof(bf_path), "/tmp/vblk-test-XXXXXX");
    bf_fd = mkstemp(bf_path);
    ck_assert_int_ge(bf_fd, 0);
    ck_assert_ptr_nonnull(buf);
    for (uint64_t i = 0; i < size; i++)
        buf[i] = bf_pattern(i);
    ck_assert_int_eq(pwrite(bf_fd, buf, size, 0), (ssize_t)size);
    ck_assert_int_eq(fsync(bf_fd), 0);
    free(buf);
    bf_vd = NULL;
    bf_blk = NULL;
    bf_drv = NULL;
}

void bf_teardown(void)
{
    em_virtio_destroy(bf_vd);
    vdrv_destroy(bf_drv);
    kc_mem_destroy(bf_mem);
    close(bf_fd);
    unlink(bf_path);
}

enum em_vblk_engine bf_engine(int i)
{
    return i ? EM_VBLK_ENGINE_POOL : EM_VBLK_ENGINE_URING;
}

void bf_start(const struct bf_dev *c)
{
    struct em_vdev_env env = { bf_mem, &bf_cap.logger, NULL };
    struct em_disk_spec spec = { .path = c->use_fd ? NULL : bf_path,
                                 .fd = c->use_fd ? c->fd : -1,
                                 .readonly = c->readonly,
                                 .cache_none = c->cache_none };
    struct em_vblk_opts opts = { .engine = c->engine };

    if (c->serial)
        snprintf(spec.serial, sizeof(spec.serial), "%s", c->serial);
    bf_vd = em_vblk_create_opts(&env, &spec, c->opts ? c->opts : &opts, &bf_blk);
    ck_assert_msg(bf_vd != NULL, "no device: %s", bf_cap.text);
    ck_assert_str_eq(em_vblk_engine_name(bf_blk),
                     (c->opts ? c->opts->engine : c->engine) == EM_VBLK_ENGINE_POOL ? "pool"
                                                                                    : "io_uring");
    bf_drv = vdrv_create(bf_mem, BF_ARENA, BF_RAM - BF_ARENA);
    vdrv_attach_core(bf_drv, bf_vd);
    ck_assert_int_eq(em_virtio_start(bf_vd), 0);
}

uint64_t bf_bring_up(uint64_t features)
{
    uint64_t want =
        (features ? features : em_virtio_device_features(bf_vd)) | EM_VIRTIO_F_VERSION_1;
    uint64_t got = vdrv_negotiate(bf_drv, want);

    ck_assert_uint_eq(got, want & em_virtio_device_features(bf_vd));
    ck_assert_int_eq(vdrv_setup_queue(bf_drv, 0, 0, got & EM_VIRTIO_F_EVENT_IDX), 0);
    vdrv_driver_ok(bf_drv);
    ck_assert_uint_eq(vdrv_status(bf_drv), 0x0f);
    return got;
}

uint64_t bf_alloc(uint64_t len, uint64_t align)
{
    uint64_t gpa = vdrv_alloc(bf_drv, len, align);

    ck_assert_uint_ne(gpa, 0);
    return gpa;
}

void *bf_host(uint64_t gpa, uint64_t len)
{
    return vdrv_host(bf_drv, gpa, len);
}

void bf_fill(void *p, uint64_t len, unsigned seed)
{
    for (uint64_t i = 0; i < len; i++)
        ((uint8_t *)p)[i] = (uint8_t)(i * 13 + seed * 101 + (i >> 8));
}

struct bf_req bf_req(uint32_t type, uint64_t sector, uint32_t len, bool in)
{
    struct bf_req r = { .len = len, .in = in, .head = -1 };
    struct virtio_blk_outhdr h = { .type = type, .sector = sector };

    r.hdr = bf_alloc(sizeof(h), 16);
    memcpy(bf_host(r.hdr, sizeof(h)), &h, sizeof(h));
    r.data = len ? bf_alloc(len, 4096) : 0;
    r.status = bf_alloc(1, 1);
    *(uint8_t *)bf_host(r.status, 1) = 0xee;
    return r;
}

int bf_add(struct bf_req *r)
{
    struct vdrv_buf b[3];
    unsigned n = 0;

    b[n++] = (struct vdrv_buf){ r->hdr, sizeof(struct virtio_blk_outhdr), false };
    if (r->len)
        b[n++] = (struct vdrv_buf){ r->data, r->len, r->in };
    b[n++] = (struct vdrv_buf){ r->status, 1, true };
    r->head = vdrv_add(bf_drv, 0, b, n, false);
    ck_assert_int_ge(r->head, 0);
    return r->head;
}

uint8_t bf_status(const struct bf_req *r)
{
    return *(uint8_t *)bf_host(r->status, 1);
}

uint8_t bf_do(struct bf_req *r, uint32_t *used_len)
{
    uint16_t head;
    uint32_t len;

    bf_add(r);
    vdrv_kick(bf_drv, 0);
    ck_assert_msg(vdrv_wait_used(bf_drv, 0, BF_TIMEOUT, &head, &len), "no completion: %s",
                  bf_cap.text);
    ck_assert_uint_eq(head, (uint16_t)r->head);
    if (used_len)
        *used_len = len;
    return bf_status(r);
}

void bf_wait(unsigned n, uint16_t *heads, uint32_t *lens)
{
    for (unsigned i = 0; i < n; i++) {
        uint16_t h;
        uint32_t l;

        ck_assert_msg(vdrv_wait_used(bf_drv, 0, BF_TIMEOUT, &h, &l),
                      "completion %u of %u did not come: %s", i + 1, n, bf_cap.text);
        if (heads)
            heads[i] = h;
        if (lens)
            lens[i] = l;
    }
}

void bf_file_read(uint64_t off, void *buf, uint64_t len)
{
    ck_assert_int_eq(pread(bf_fd, buf, len, (off_t)off), (ssize_t)len);
}

uint8_t *bf_file_snapshot(uint64_t *len)
{
    off_t size = lseek(bf_fd, 0, SEEK_END);
    uint8_t *p;

    ck_assert_int_ge(size, 0);
    p = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(p);
    bf_file_read(0, p, (uint64_t)size);
    *len = (uint64_t)size;
    return p;
}

bool bf_file_unchanged(const uint8_t *snap, uint64_t len)
{
    uint64_t now;
    uint8_t *cur = bf_file_snapshot(&now);
    bool same = now == len && memcmp(cur, snap, len) == 0;

    free(cur);
    return same;
}

struct em_vblk_stats bf_stats(void)
{
    struct em_vblk_stats s;

    em_vblk_stats(bf_blk, &s);
    return s;
}
