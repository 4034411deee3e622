/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk against a driver that breaks the rules, and resets: chains
 * too short for a header or without a status byte, a status byte the
 * device cannot write, data in the wrong direction, unknown types, 1000
 * random requests; reset and destroy while requests are in flight, and
 * the two orderings that must hold while an operation is stuck (a reset
 * waits for it; a flush waits for the writes before it). An operation is
 * made to stick by putting its guest buffer behind a userfaultfd, which
 * blocks the worker thread that copies into it until the test lets it go
 * (the pool engine: io_uring would block in its submitter, the device's
 * own thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk_fixture.h"

const bool test_needs_kvm = false;

#define CAP BF_SECTORS

static void start(int i)
{
    bf_start(&(struct bf_dev){ .engine = bf_engine(i) });
    bf_bring_up(0);
}

/* Submits a raw chain, waits for it; returns the used length. */
static uint32_t chain(const struct vdrv_buf *b, unsigned n)
{
    uint16_t head;
    uint32_t len;
    int h = vdrv_add(bf_drv, 0, b, n, false);

    ck_assert_int_ge(h, 0);
    vdrv_kick(bf_drv, 0);
    ck_assert_msg(vdrv_wait_used(bf_drv, 0, BF_TIMEOUT, &head, &len), "no completion: %s",
                  bf_cap.text);
    ck_assert_uint_eq(head, (uint16_t)h);
    return len;
}

static uint64_t header(uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr h = { .type = type, .sector = sector };
    uint64_t gpa = bf_alloc(sizeof(h), 16);

    memcpy(bf_host(gpa, sizeof(h)), &h, sizeof(h));
    return gpa;
}

static uint64_t status_byte(void)
{
    uint64_t gpa = bf_alloc(1, 1);

    *(uint8_t *)bf_host(gpa, 1) = 0xee;
    return gpa;
}

static uint8_t peek(uint64_t gpa)
{
    return *(uint8_t *)bf_host(gpa, 1);
}

/* The device still serves requests. */
static void still_works(void)
{
    struct bf_req r = bf_req(VIRTIO_BLK_T_IN, 3, 512, true);

    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(((uint8_t *)bf_host(r.data, 512))[0], bf_pattern(3 * 512));
    ck_assert(!(vdrv_status(bf_drv) & EM_VIRTIO_S_NEEDS_RESET));
}

static void wait_needs_reset(void)
{
    for (int i = 0; i < 2500 && !(vdrv_status(bf_drv) & EM_VIRTIO_S_NEEDS_RESET); i++)
        usleep(2000);
    ck_assert(vdrv_status(bf_drv) & EM_VIRTIO_S_NEEDS_RESET);
}

START_TEST(header_too_short)
{
    uint64_t h, st;
    struct vdrv_buf b[2];

    start(_i);
    h = header(VIRTIO_BLK_T_OUT, 0);
    st = status_byte();
    b[0] = (struct vdrv_buf){ h, 8, false };
    b[1] = (struct vdrv_buf){ st, 1, true };
    ck_assert_uint_eq(chain(b, 2), 1);
    ck_assert_uint_eq(peek(st), VIRTIO_BLK_S_IOERR);
    ck_assert_msg(log_has(&bf_cap, "whose header has 8 bytes, not 16"), "%s", bf_cap.text);
    still_works();
}
END_TEST

/* No device-writable byte at all: no status can be given, so the driver
 * is told to reset, and nothing was done. */
START_TEST(no_status_byte)
{
    uint64_t len, h, d;
    uint8_t *snap = bf_file_snapshot(&len);
    struct vdrv_buf b[2];

    start(_i);
    h = header(VIRTIO_BLK_T_OUT, 0);
    d = bf_alloc(512, 512);
    bf_fill(bf_host(d, 512), 512, 1);
    b[0] = (struct vdrv_buf){ h, 16, false };
    b[1] = (struct vdrv_buf){ d, 512, false };
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 1, false), 0); /* the header alone */
    vdrv_kick(bf_drv, 0);
    wait_needs_reset();
    ck_assert_msg(log_has(&bf_cap, "has no device-writable status byte"), "%s", bf_cap.text);
    /* The same with the "status" byte readable: the write is not done. */
    bf_bring_up(0);
    ck_assert_int_ge(vdrv_add(bf_drv, 0, b, 2, false), 0);
    vdrv_kick(bf_drv, 0);
    wait_needs_reset();
    ck_assert(bf_file_unchanged(snap, len));
    bf_bring_up(0);
    still_works();
    free(snap);
}
END_TEST

START_TEST(data_in_the_wrong_direction)
{
    uint64_t len, st, d;
    uint8_t *snap = bf_file_snapshot(&len), *host;
    struct vdrv_buf b[3];

    start(_i);
    d = bf_alloc(4096, 4096);
    host = bf_host(d, 4096);
    /* A read whose data buffer the device may not write. */
    st = status_byte();
    memset(host, 0x5a, 4096);
    b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_IN, 0), 16, false };
    b[1] = (struct vdrv_buf){ d, 4096, false };
    b[2] = (struct vdrv_buf){ st, 1, true };
    chain(b, 3);
    ck_assert_uint_eq(peek(st), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(first_byte_not(host, 4096, 0x5a), 4096);
    /* A write whose data is device-writable: nothing reaches the disk,
     * and the guest buffer is left alone. */
    st = status_byte();
    b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_OUT, 0), 16, false };
    b[1] = (struct vdrv_buf){ d, 4096, true };
    b[2] = (struct vdrv_buf){ st, 1, true };
    ck_assert_uint_eq(chain(b, 3), 1);
    ck_assert_uint_eq(peek(st), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(first_byte_not(host, 4096, 0x5a), 4096);
    /* GET_ID with readable data; write-zeroes with writable data. */
    st = status_byte();
    b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_GET_ID, 0), 16, false };
    b[1] = (struct vdrv_buf){ d, 20, false };
    b[2] = (struct vdrv_buf){ st, 1, true };
    chain(b, 3);
    ck_assert_uint_eq(peek(st), VIRTIO_BLK_S_IOERR);
    st = status_byte();
    memset(host, 0, 16);
    host[8] = 8; /* one range: sector 0, 8 sectors */
    b[0] = (struct vdrv_buf){ header(VIRTIO_BLK_T_WRITE_ZEROES, 0), 16, false };
    b[1] = (struct vdrv_buf){ d, 16, true };
    b[2] = (struct vdrv_buf){ st, 1, true };
    chain(b, 3);
    ck_assert_uint_eq(peek(st), VIRTIO_BLK_S_IOERR);
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert_msg(log_has(&bf_cap, "a read with 4096 bytes of device-readable data: I/O error"),
                  "%s", bf_cap.text);
    ck_assert_uint_eq(bf_stats().bad_requests, 4);
    still_works();
    free(snap);
}
END_TEST

START_TEST(unknown_types)
{
    static const uint32_t types[] = { 2, 3, 99, 0x80000001u, 14, UINT32_MAX };
    uint64_t len;
    uint8_t *snap = bf_file_snapshot(&len);

    start(_i);
    for (unsigned k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
        struct bf_req r = bf_req(types[k], 0, 512, false);

        ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_UNSUPP);
    }
    ck_assert(bf_file_unchanged(snap, len));
    ck_assert_msg(log_has(&bf_cap, "a request of unknown type 2: unsupported"), "%s", bf_cap.text);
    ck_assert_uint_eq(bf_cap.count, 1);
    still_works();
    free(snap);
}
END_TEST

/* ---- random garbage ---- */

static uint64_t rnd_state;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

#define SLOTS   16
#define SCRATCH (1u << 20)

struct slot {
    uint64_t hdr, tail; /* private: the header, the last (writable) buffer */
    uint32_t tail_len;
    uint64_t writable; /* bytes the chain offers the device */
    int head;
};

/* A chain of 1-5 buffers: a random header (usually 16 bytes), random
 * data in either direction from a shared scratch area, and a private last
 * buffer of 1-64 writable bytes whose last byte is the status. */
static void garbage(struct slot *s, uint64_t scratch, bool indirect)
{
    static const uint32_t types[] = { VIRTIO_BLK_T_IN,      VIRTIO_BLK_T_OUT,
                                      VIRTIO_BLK_T_FLUSH,   VIRTIO_BLK_T_GET_ID,
                                      VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES };
    struct virtio_blk_outhdr h;
    struct vdrv_buf b[5];
    unsigned n = 0, ndata = (unsigned)(rnd() % 4);
    bool seen_write = false;

    h.type = rnd() % 8 == 0 ? (uint32_t)rnd() : types[rnd() % 6];
    h.ioprio = (uint32_t)rnd();
    switch (rnd() % 4) {
    case 0:
        h.sector = rnd();
        break;
    case 1:
        h.sector = CAP - rnd() % 4;
        break;
    default:
        h.sector = rnd() % CAP;
    }
    memcpy(bf_host(s->hdr, 32), &h, sizeof(h));
    bf_fill(bf_host(s->hdr + 16, 16), 16, (unsigned)rnd());
    b[n++] = (struct vdrv_buf){ s->hdr, rnd() % 5 ? 16 : (uint32_t)(rnd() % 33), false };
    for (unsigned k = 0; k < ndata; k++) {
        uint32_t len = rnd() % 3 ? 512 * (uint32_t)(rnd() % 17) : (uint32_t)(rnd() % 9000);
        bool write = seen_write || rnd() % 2;

        len = len ? len : 1;
        b[n++] = (struct vdrv_buf){ scratch + rnd() % (SCRATCH - len), len, write };
        seen_write |= write;
        s->writable += write ? len : 0;
    }
    s->tail_len = 1 + (uint32_t)(rnd() % 64);
    memset(bf_host(s->tail, 64), 0xee, 64);
    b[n++] = (struct vdrv_buf){ s->tail, s->tail_len, true };
    s->writable += s->tail_len;
    s->head = vdrv_add(bf_drv, 0, b, n, indirect);
    ck_assert_int_ge(s->head, 0);
}

START_TEST(random_garbage)
{
    struct slot s[SLOTS];
    uint64_t scratch;
    unsigned done = 0;

    rnd_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
    start(_i);
    scratch = bf_alloc(SCRATCH, 4096);
    bf_fill(bf_host(scratch, SCRATCH), SCRATCH, 3);
    for (unsigned k = 0; k < SLOTS; k++) {
        s[k].hdr = bf_alloc(32, 16);
        s[k].tail = bf_alloc(64, 64);
    }
    while (done < 1000) {
        unsigned batch = 1 + (unsigned)(rnd() % SLOTS);

        for (unsigned k = 0; k < batch; k++) {
            s[k].writable = 0;
            garbage(&s[k], scratch, rnd() % 4 == 0);
        }
        vdrv_kick(bf_drv, 0);
        for (unsigned c = 0; c < batch; c++) {
            uint16_t head;
            uint32_t len;
            unsigned k;

            ck_assert_msg(vdrv_wait_used(bf_drv, 0, BF_TIMEOUT, &head, &len),
                          "request %u of 1000 never completed: %s", done + c, bf_cap.text);
            for (k = 0; k < batch && s[k].head != head; k++)
                ;
            ck_assert_uint_lt(k, batch);
            s[k].head = -1;
            ck_assert_uint_le(len, s[k].writable);
            ck_assert_uint_le(peek(s[k].tail + s[k].tail_len - 1), VIRTIO_BLK_S_UNSUPP);
        }
        done += batch;
    }
    ck_assert(!(vdrv_status(bf_drv) & EM_VIRTIO_S_NEEDS_RESET));
    ck_assert_uint_eq(bf_stats().requests, done);
    ck_assert_uint_eq(bf_stats().inflight, 0);
    ck_assert_uint_gt(bf_stats().bad_requests, 100);
    still_works();
}
END_TEST

/* ---- reset and destroy with requests in flight ---- */

enum { N_FLIGHT = 32, BIG = 128 << 10 };

static void submit_reads(struct bf_req *r, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        r[k] = bf_req(VIRTIO_BLK_T_IN, (k * 256) % (CAP - 256), BIG, true);
        bf_add(&r[k]);
    }
    vdrv_kick(bf_drv, 0);
}

START_TEST(reset_with_requests_in_flight)
{
    struct bf_req r[N_FLIGHT];
    struct vdrv_rings rings;
    uint16_t used_before, used_after;

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = true });
    for (int round = 0; round < 3; round++) {
        bf_bring_up(0);
        submit_reads(r, N_FLIGHT);
        em_virtio_set_status(bf_vd, 0);
        ck_assert_uint_eq(bf_stats().inflight, 0);
        /* Nothing reaches guest memory once the reset returned. */
        vdrv_rings(bf_drv, 0, &rings);
        used_before = *(uint16_t *)bf_host(rings.used + 2, 2);
        for (unsigned k = 0; k < N_FLIGHT; k++)
            memset(bf_host(r[k].data, BIG), 0x5a, BIG);
        usleep(50000);
        used_after = *(uint16_t *)bf_host(rings.used + 2, 2);
        ck_assert_uint_eq(used_before, used_after);
        for (unsigned k = 0; k < N_FLIGHT; k++)
            ck_assert_uint_eq(first_byte_not(bf_host(r[k].data, BIG), BIG, 0x5a), BIG);
    }
    bf_bring_up(0);
    still_works();
}
END_TEST

START_TEST(destroy_with_requests_in_flight)
{
    struct bf_req r[N_FLIGHT];

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = _i == 0 });
    bf_bring_up(0);
    submit_reads(r, N_FLIGHT);
    /* The teardown destroys the device now; ASan and the leak checker
     * watch what follows. */
}
END_TEST

START_TEST(needs_reset_with_requests_in_flight)
{
    struct bf_req r[N_FLIGHT];
    uint64_t h;

    bf_start(&(struct bf_dev){ .engine = bf_engine(_i), .cache_none = true });
    bf_bring_up(0);
    for (unsigned k = 0; k < N_FLIGHT; k++) {
        r[k] = bf_req(VIRTIO_BLK_T_IN, k * 8, 4096, true);
        bf_add(&r[k]);
    }
    h = header(VIRTIO_BLK_T_IN, 0);
    ck_assert_int_ge(vdrv_add(bf_drv, 0, &(struct vdrv_buf){ h, 16, false }, 1, false), 0);
    vdrv_kick(bf_drv, 0);
    wait_needs_reset();
    em_virtio_set_status(bf_vd, 0);
    ck_assert_uint_eq(bf_stats().inflight, 0);
    bf_bring_up(0);
    still_works();
}
END_TEST

/* ---- stuck operations (userfaultfd) ---- */

static int uffd_arm(void *host, uint64_t len)
{
    struct uffdio_api api = { .api = UFFD_API };
    struct uffdio_register reg = { .range = { (uintptr_t)host, len },
                                   .mode = UFFDIO_REGISTER_MODE_MISSING };
    int fd;

    ck_assert_int_eq(madvise(host, len, MADV_REMOVE), 0);
    fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    ck_assert_msg(fd >= 0, "userfaultfd: %s (these tests need root, as ./scripts/test runs)",
                  strerror(errno));
    ck_assert_int_eq(ioctl(fd, UFFDIO_API, &api), 0);
    ck_assert_int_eq(ioctl(fd, UFFDIO_REGISTER, &reg), 0);
    return fd;
}

/* Waits for the blocked access; returns the page it faulted on. */
static uint64_t uffd_fault(int fd)
{
    struct pollfd p = { fd, POLLIN, 0 };
    struct uffd_msg m;

    ck_assert_msg(poll(&p, 1, BF_TIMEOUT) == 1, "the device never touched the buffer");
    ck_assert_int_eq(read(fd, &m, sizeof(m)), sizeof(m));
    ck_assert_uint_eq(m.event, UFFD_EVENT_PAGEFAULT);
    return m.arg.pagefault.address & ~4095ull;
}

static void uffd_release(int fd, uint64_t page, uint8_t byte)
{
    static uint8_t src[4096] __attribute__((aligned(4096)));
    struct uffdio_copy c = { .dst = page, .src = (uintptr_t)src, .len = 4096 };

    memset(src, byte, sizeof(src));
    ck_assert_int_eq(ioctl(fd, UFFDIO_COPY, &c), 0);
}

struct resetter {
    pthread_t t;
    volatile bool done;
};

static void *do_reset(void *arg)
{
    struct resetter *r = arg;

    em_virtio_set_status(bf_vd, 0);
    r->done = true;
    return NULL;
}

START_TEST(reset_waits_for_a_stuck_read)
{
    struct bf_req stuck, r[7];
    struct resetter rs = { .done = false };
    uint8_t file[4096];
    uint64_t page;
    uint16_t head;
    uint32_t len;
    int ufd;

    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_POOL });
    bf_bring_up(0);
    stuck = bf_req(VIRTIO_BLK_T_IN, 16, 4096, true);
    ufd = uffd_arm(bf_host(stuck.data, 4096), 4096);
    bf_add(&stuck);
    for (unsigned k = 0; k < 7; k++) {
        r[k] = bf_req(VIRTIO_BLK_T_IN, 64 + 8 * k, 4096, true);
        bf_add(&r[k]);
    }
    vdrv_kick(bf_drv, 0);
    page = uffd_fault(ufd);
    ck_assert_uint_eq(page, (uintptr_t)bf_host(stuck.data, 4096));
    bf_wait(7, NULL, NULL); /* the others finish */
    ck_assert_uint_eq(bf_stats().inflight, 1);
    ck_assert_int_eq(pthread_create(&rs.t, NULL, do_reset, &rs), 0);
    usleep(200000);
    ck_assert_msg(!rs.done, "the reset did not wait for the read in flight");
    uffd_release(ufd, page, 0x33);
    ck_assert_int_eq(pthread_join(rs.t, NULL), 0);
    ck_assert(rs.done);
    ck_assert_uint_eq(bf_stats().inflight, 0);
    /* The read finished into guest memory before the reset returned, and
     * was not returned to the (reset) driver. */
    bf_file_read(16 * 512, file, 4096);
    ck_assert_mem_eq(bf_host(stuck.data, 4096), file, 4096);
    ck_assert(!vdrv_poll_used(bf_drv, 0, &head, &len));
    bf_bring_up(0);
    still_works();
    close(ufd);
}
END_TEST

START_TEST(flush_waits_for_a_stuck_write)
{
    struct bf_req stuck, other, flush;
    uint16_t heads[2];
    uint16_t head;
    uint32_t len;
    uint8_t file[4096];
    uint64_t page;
    int ufd;

    /* cache=none: a buffered write would hold the file's lock while it
     * is stuck, and hold up the other write too. */
    bf_start(&(struct bf_dev){ .engine = EM_VBLK_ENGINE_POOL, .cache_none = true });
    bf_bring_up(0);
    stuck = bf_req(VIRTIO_BLK_T_OUT, 16, 4096, false);
    ufd = uffd_arm(bf_host(stuck.data, 4096), 4096);
    other = bf_req(VIRTIO_BLK_T_OUT, 64, 4096, false);
    bf_fill(bf_host(other.data, 4096), 4096, 12);
    flush = bf_req(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    bf_add(&stuck);
    bf_add(&other);
    bf_add(&flush);
    vdrv_kick(bf_drv, 0);
    page = uffd_fault(ufd);
    bf_wait(1, heads, NULL);
    ck_assert_uint_eq(heads[0], (uint16_t)other.head);
    usleep(200000);
    ck_assert_msg(!vdrv_poll_used(bf_drv, 0, &head, &len),
                  "request %u completed while a write before the flush was in flight", head);
    uffd_release(ufd, page, 0x44);
    bf_wait(2, heads, NULL);
    ck_assert_uint_eq(heads[0], (uint16_t)stuck.head);
    ck_assert_uint_eq(heads[1], (uint16_t)flush.head);
    ck_assert_uint_eq(bf_status(&flush), VIRTIO_BLK_S_OK);
    bf_file_read(16 * 512, file, 4096);
    ck_assert_uint_eq(first_byte_not(file, 4096, 0x44), 4096);
    /* A flush with no write before it goes at once. */
    flush = bf_req(VIRTIO_BLK_T_FLUSH, 0, 0, false);
    ck_assert_uint_eq(bf_do(&flush, NULL), VIRTIO_BLK_S_OK);
    close(ufd);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_blk_hostile");
    TCase *tc = tcase_create("hostile");

    tcase_add_checked_fixture(tc, bf_setup, bf_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, header_too_short, 0, 2);
    tcase_add_loop_test(tc, no_status_byte, 0, 2);
    tcase_add_loop_test(tc, data_in_the_wrong_direction, 0, 2);
    tcase_add_loop_test(tc, unknown_types, 0, 2);
    tcase_add_loop_test(tc, random_garbage, 0, 2);
    tcase_add_loop_test(tc, reset_with_requests_in_flight, 0, 2);
    tcase_add_loop_test(tc, destroy_with_requests_in_flight, 0, 2);
    tcase_add_loop_test(tc, needs_reset_with_requests_in_flight, 0, 2);
    tcase_add_test(tc, reset_waits_for_a_stuck_read);
    tcase_add_test(tc, flush_waits_for_a_stuck_write);
    suite_add_tcase(s, tc);
    return s;
}
