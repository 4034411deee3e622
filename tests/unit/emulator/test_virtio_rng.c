/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-rng through tests/virtio/vdriver, on the device's real I/O thread:
 * bytes arrive and differ, requests are capped, the rate limit holds
 * (elapsed time bounded below, CPU time low while waiting), getrandom's
 * EAGAIN is retried without losing the request (getrandom is wrapped at
 * link time: -Wl,--wrap=getrandom), readable-only chains, bad rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "vdriver.h"
#include "virtio/devices.h"

const bool test_needs_kvm = false;

#define RAM     (16ull << 20)
#define ARENA   0x100000ull
#define TIMEOUT 5000

/* ---- getrandom, wrapped: EAGAIN for the next `fail_next` calls ---- */

ssize_t __real_getrandom(void *buf, size_t len, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags);

static volatile int fail_next;
static volatile int calls;

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned flags)
{
    __atomic_fetch_add(&calls, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&fail_next, __ATOMIC_SEQ_CST) > 0) {
        __atomic_fetch_sub(&fail_next, 1, __ATOMIC_SEQ_CST);
        errno = EAGAIN;
        return -1;
    }
    return __real_getrandom(buf, len, flags);
}

/* ---- fixture ---- */

static struct log_capture cap;
static struct kc_mem *mem;
static struct em_virtio_dev *vd;
static struct vdrv *drv;

static void make_device(uint64_t max_bytes, uint64_t period_ms)
{
    struct em_vdev_env env = { .mem = mem, .log = &cap.logger };

    vd = em_vrng_create(&env, max_bytes, period_ms);
    ck_assert_msg(vd, "%s", cap.text);
    drv = vdrv_create(mem, ARENA, RAM - ARENA);
    vdrv_attach_core(drv, vd);
    ck_assert_int_eq(em_virtio_start(vd), 0);
}

static void bring_up(void)
{
    ck_assert_uint_eq(vdrv_negotiate(drv, EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_INDIRECT_DESC),
                      EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_INDIRECT_DESC);
    ck_assert_int_eq(vdrv_setup_queue(drv, 0, 0, false), 0);
    vdrv_driver_ok(drv);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
}

static void setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, RAM, 0, "ram"));
    vd = NULL;
    drv = NULL;
}

static void teardown(void)
{
    em_virtio_destroy(vd);
    vdrv_destroy(drv);
    kc_mem_destroy(mem);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (every thread), in ms. */
static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* One request of `len` writable bytes (0xee-filled first); the length the
 * device reports. */
static uint32_t request(uint64_t gpa, uint32_t len)
{
    struct vdrv_buf b = { gpa, len, true };
    uint16_t head;
    uint32_t got;

    memset(vdrv_host(drv, gpa, len), 0xee, len);
    ck_assert_int_ge(vdrv_add(drv, 0, &b, 1, false), 0);
    vdrv_kick(drv, 0);
    ck_assert_msg(vdrv_wait_used(drv, 0, TIMEOUT, &head, &got), "no answer: %s", cap.text);
    return got;
}

static unsigned count_byte(const uint8_t *p, size_t n, uint8_t v)
{
    unsigned k = 0;

    for (size_t i = 0; i < n; i++)
        k += p[i] == v;
    return k;
}

/* ---- tests ---- */

START_TEST(bytes_arrive_and_differ)
{
    uint64_t a, b;
    uint8_t *pa, *pb;
    unsigned same = 0;

    make_device(0, 0);
    bring_up();
    a = vdrv_alloc(drv, 64, 8);
    b = vdrv_alloc(drv, 64, 8);
    ck_assert_uint_eq(request(a, 64), 64);
    ck_assert_uint_eq(request(b, 64), 64);
    pa = vdrv_host(drv, a, 64);
    pb = vdrv_host(drv, b, 64);
    for (int i = 0; i < 64; i++)
        same += pa[i] == pb[i];
    /* 64 random bytes: a handful equal by chance, never most of them. */
    ck_assert_uint_lt(same, 16);
    ck_assert_uint_lt(count_byte(pa, 64, 0), 16);
    ck_assert_uint_lt(count_byte(pa, 64, 0xee), 16);
    ck_assert_uint_lt(count_byte(pb, 64, 0xee), 16);
    ck_assert_uint_eq(
        em_virtio_device_features(vd) &
            ~(EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_EVENT_IDX | EM_VIRTIO_F_INDIRECT_DESC),
        0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(chains_of_many_pieces)
{
    uint64_t p[3];
    struct vdrv_buf bufs[3];
    uint16_t head;
    uint32_t len;

    make_device(0, 0);
    bring_up();
    for (int indirect = 0; indirect < 2; indirect++) {
        for (int i = 0; i < 3; i++) {
            p[i] = vdrv_alloc(drv, 100, 8);
            memset(vdrv_host(drv, p[i], 100), 0xee, 100);
            bufs[i] = (struct vdrv_buf){ p[i], 100, true };
        }
        ck_assert_int_ge(vdrv_add(drv, 0, bufs, 3, indirect), 0);
        vdrv_kick(drv, 0);
        ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
        ck_assert_uint_eq(len, 300);
        for (int i = 0; i < 3; i++)
            ck_assert_uint_lt(count_byte(vdrv_host(drv, p[i], 100), 100, 0xee), 10);
    }
}
END_TEST

START_TEST(large_requests_are_capped)
{
    uint64_t big;

    make_device(0, 0);
    bring_up();
    big = vdrv_alloc(drv, 1 << 20, 4096);
    /* The device may use less than the buffer (5.4.6.1): 64 KiB at most. */
    ck_assert_uint_eq(request(big, 1 << 20), 64 << 10);
    ck_assert_uint_eq(count_byte((uint8_t *)vdrv_host(drv, big, 1 << 20) + (64 << 10),
                                 (1 << 20) - (64 << 10), 0xee),
                      (1 << 20) - (64 << 10));
}
END_TEST

START_TEST(readable_only_chain_completes_empty)
{
    uint64_t in, out, w;
    struct vdrv_buf ro = { 0, 32, false };
    struct vdrv_buf mixed[2];
    uint16_t head;
    uint32_t len;

    make_device(0, 0);
    bring_up();
    in = vdrv_alloc(drv, 32, 8);
    ro.gpa = in;
    memset(vdrv_host(drv, in, 32), 0x5a, 32);
    ck_assert_int_ge(vdrv_add(drv, 0, &ro, 1, false), 0);
    vdrv_kick(drv, 0);
    ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(count_byte(vdrv_host(drv, in, 32), 32, 0x5a), 32); /* untouched */
    /* A readable part before writable ones is ignored. */
    out = vdrv_alloc(drv, 16, 8);
    w = vdrv_alloc(drv, 48, 8);
    memset(vdrv_host(drv, out, 16), 0x5a, 16);
    memset(vdrv_host(drv, w, 48), 0xee, 48);
    mixed[0] = (struct vdrv_buf){ out, 16, false };
    mixed[1] = (struct vdrv_buf){ w, 48, true };
    ck_assert_int_ge(vdrv_add(drv, 0, mixed, 2, false), 0);
    vdrv_kick(drv, 0);
    ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
    ck_assert_uint_eq(len, 48);
    ck_assert_uint_eq(count_byte(vdrv_host(drv, out, 16), 16, 0x5a), 16);
    ck_assert_uint_lt(count_byte(vdrv_host(drv, w, 48), 48, 0xee), 8);
    /* No NEEDS_RESET, and the device goes on. */
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    ck_assert_uint_eq(request(vdrv_alloc(drv, 64, 8), 64), 64);
}
END_TEST

START_TEST(rate_limit_holds)
{
    enum { N = 16, SIZE = 64, PERIOD = 200 };
    uint64_t buf[N];
    unsigned done = 0, total = 0;
    double t0, cpu0, elapsed, cpu;
    uint16_t head;
    uint32_t len;

    make_device(64, PERIOD);
    bring_up();
    for (int i = 0; i < N; i++) {
        struct vdrv_buf b;

        buf[i] = vdrv_alloc(drv, SIZE, 8);
        memset(vdrv_host(drv, buf[i], SIZE), 0xee, SIZE);
        b = (struct vdrv_buf){ buf[i], SIZE, true };
        ck_assert_int_ge(vdrv_add(drv, 0, &b, 1, false), 0);
    }
    t0 = now_ms();
    cpu0 = cpu_ms();
    vdrv_kick(drv, 0);
    /* The first 64 bytes at once, then nothing more within the period. */
    ck_assert(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len));
    ck_assert_uint_eq(len, SIZE);
    done = 1;
    total = len;
    usleep(100 * 1000);
    ck_assert(!vdrv_poll_used(drv, 0, &head, &len));
    while (done < N) {
        ck_assert_msg(vdrv_wait_used(drv, 0, 2 * PERIOD + 500, &head, &len), "stalled after %u",
                      done);
        ck_assert_uint_eq(len, SIZE);
        total += len;
        done++;
    }
    elapsed = now_ms() - t0;
    cpu = cpu_ms() - cpu0;
    ck_assert_uint_eq(total, N * SIZE);
    /* 1 KiB at 64 bytes per 200 ms: 15 more periods after the first. */
    /* (Less 2 ms: the device counts whole milliseconds.) */
    ck_assert_msg(elapsed >= (N - 1) * PERIOD - 2, "1 KiB in %.0f ms", elapsed);
    /* Waiting is sleeping: a spinning device would burn the whole time. */
    ck_assert_msg(cpu < elapsed / 10, "%.0f ms of CPU in %.0f ms", cpu, elapsed);
    for (int i = 0; i < N; i++)
        ck_assert_uint_lt(count_byte(vdrv_host(drv, buf[i], SIZE), SIZE, 0xee), 16);
}
END_TEST

START_TEST(request_cut_to_budget)
{
    uint64_t a;
    double t0;

    make_device(100, 300);
    bring_up();
    a = vdrv_alloc(drv, 1024, 8);
    t0 = now_ms();
    ck_assert_uint_eq(request(a, 1024), 100);
    ck_assert_uint_eq(request(a, 1024), 100); /* the next period */
    ck_assert_msg(now_ms() - t0 >= 300 - 2, "two periods' bytes in %.0f ms", now_ms() - t0);
}
END_TEST

START_TEST(budget_survives_reset)
{
    uint64_t a;
    double t0;

    make_device(64, 400);
    bring_up();
    a = vdrv_alloc(drv, 64, 8);
    t0 = now_ms();
    ck_assert_uint_eq(request(a, 64), 64);
    /* A request waiting for the budget when the driver resets. */
    {
        struct vdrv_buf b = { a, 64, true };

        ck_assert_int_ge(vdrv_add(drv, 0, &b, 1, false), 0);
        vdrv_kick(drv, 0);
        usleep(50 * 1000);
    }
    bring_up();
    ck_assert_uint_eq(request(a, 64), 64);
    ck_assert_msg(now_ms() - t0 >= 400 - 2, "a reset refilled the budget (%.0f ms)", now_ms() - t0);
}
END_TEST

START_TEST(getrandom_eagain_is_retried)
{
    uint64_t a;
    double cpu0, t0;

    make_device(0, 0);
    bring_up();
    a = vdrv_alloc(drv, 64, 8);
    __atomic_store_n(&calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_next, 20, __ATOMIC_SEQ_CST);
    t0 = now_ms();
    cpu0 = cpu_ms();
    ck_assert_uint_eq(request(a, 64), 64);
    /* Twenty refusals, each retried after a 10 ms timer (libuv's clock
     * may fire it a little early), not in a loop. */
    ck_assert_int_eq(__atomic_load_n(&fail_next, __ATOMIC_SEQ_CST), 0);
    ck_assert_int_eq(__atomic_load_n(&calls, __ATOMIC_SEQ_CST), 21);
    ck_assert_msg(now_ms() - t0 >= 20 * 8, "retried after %.0f ms", now_ms() - t0);
    ck_assert_msg(cpu_ms() - cpu0 < 100, "%.0f ms of CPU", cpu_ms() - cpu0);
    ck_assert_uint_lt(count_byte(vdrv_host(drv, a, 64), 64, 0xee), 16);
    ck_assert_uint_eq(cap.count, 0); /* EAGAIN is not an error */
}
END_TEST

START_TEST(bad_ring_needs_reset)
{
    struct vdrv_rings r;
    uint16_t v = 77;

    make_device(0, 0);
    bring_up();
    ck_assert_uint_eq(request(vdrv_alloc(drv, 64, 8), 64), 64);
    vdrv_rings(drv, 0, &r);
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 4 + 2 * 1, &v, 2), 0);
    v = 2;
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 2, &v, 2), 0);
    vdrv_kick(drv, 0);
    for (int i = 0; i < 500 && !(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET); i++)
        usleep(2000);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_msg(log_has(&cap, "virtio-rng: the driver broke the rules (queue 0"), "%s", cap.text);
    /* After a reset it works again. */
    bring_up();
    ck_assert_uint_eq(request(vdrv_alloc(drv, 64, 8), 64), 64);
}
END_TEST

START_TEST(limit_needs_a_period)
{
    struct em_vdev_env env = { .mem = mem, .log = &cap.logger };

    ck_assert_ptr_null(em_vrng_create(&env, 64, 0));
    ck_assert_msg(log_has(&cap, "virtio-rng: a limit of 64 bytes needs a period"), "%s", cap.text);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_rng");
    TCase *tc = tcase_create("rng");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, bytes_arrive_and_differ);
    tcase_add_test(tc, chains_of_many_pieces);
    tcase_add_test(tc, large_requests_are_capped);
    tcase_add_test(tc, readable_only_chain_completes_empty);
    tcase_add_test(tc, rate_limit_holds);
    tcase_add_test(tc, request_cut_to_budget);
    tcase_add_test(tc, budget_survives_reset);
    tcase_add_test(tc, getrandom_eagain_is_retried);
    tcase_add_test(tc, bad_ring_needs_reset);
    tcase_add_test(tc, limit_needs_a_period);
    suite_add_tcase(s, tc);
    return s;
}
