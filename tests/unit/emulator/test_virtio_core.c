/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio device core with a toy device (it upper-cases what it reads
 * into the writable buffers), driven through tests/virtio/vdriver: feature
 * negotiation, the status state machine, queues, interrupts, NEEDS_RESET
 * and reset, on the device's real I/O thread.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "vdriver.h"
#include "virtio/virtio.h"

const bool test_needs_kvm = false;

#define RAM     (8ull << 20)
#define ARENA   0x100000ull
#define F_TOY   (1ull << 3) /* a device-specific feature */
#define TIMEOUT 5000

struct toy {
    struct em_virtio_dev *vd;
    unsigned resets, starts, notifies;
    bool refuse_features;
    uint32_t config;
};

static uint64_t toy_features(void *dev)
{
    (void)dev;
    return F_TOY;
}

static void toy_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
    memcpy(buf, (uint8_t *)&((struct toy *)dev)->config + off, len);
}

static void toy_config_write(void *dev, uint32_t off, const void *buf, uint32_t len)
{
    memcpy((uint8_t *)&((struct toy *)dev)->config + off, buf, len);
}

static bool toy_features_ok(void *dev, uint64_t f)
{
    (void)f;
    return !((struct toy *)dev)->refuse_features;
}

static int toy_start(void *dev)
{
    ((struct toy *)dev)->starts++;
    return 0;
}

static void toy_notify(void *dev, unsigned q)
{
    struct toy *t = dev;
    struct em_vq *vq = em_virtio_vq(t->vd, q);
    struct em_vq_elem *e;
    int ret;

    t->notifies++;
    while ((ret = em_vq_pop(vq, &e)) > 0) {
        uint8_t buf[256];
        uint64_t n = em_vq_read(e, 0, buf, sizeof(buf));

        for (uint64_t i = 0; i < n; i++)
            buf[i] = (uint8_t)toupper(buf[i]);
        em_vq_push(vq, e, (uint32_t)em_vq_write(e, 0, buf, n));
        free(e);
    }
    if (ret < 0)
        em_virtio_queue_broken(t->vd, q);
    em_virtio_notify(t->vd, q);
}

static void toy_reset(void *dev)
{
    ((struct toy *)dev)->resets++;
}

static const struct em_virtio_device_ops toy_ops = {
    .name = "toy",
    .device_id = 42,
    .num_queues = 2,
    .queue_max_size = 16,
    .config_size = 4,
    .features = toy_features,
    .config_read = toy_config_read,
    .config_write = toy_config_write,
    .features_ok = toy_features_ok,
    .start = toy_start,
    .queue_notify = toy_notify,
    .reset = toy_reset,
};

static struct log_capture cap;
static struct kc_mem *mem;
static struct toy toy;
static struct vdrv *drv;

static void setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, RAM, 0, "ram"));
    memset(&toy, 0, sizeof(toy));
    toy.vd = em_virtio_create(&toy_ops, &toy, mem, &cap.logger);
    ck_assert_ptr_nonnull(toy.vd);
    drv = vdrv_create(mem, ARENA, RAM - ARENA);
    vdrv_attach_core(drv, toy.vd);
    ck_assert_int_eq(em_virtio_start(toy.vd), 0);
}

static void teardown(void)
{
    em_virtio_destroy(toy.vd);
    vdrv_destroy(drv);
    kc_mem_destroy(mem);
}

static void bring_up(bool event_idx)
{
    uint64_t want = EM_VIRTIO_F_VERSION_1 | F_TOY | EM_VIRTIO_F_INDIRECT_DESC |
                    (event_idx ? EM_VIRTIO_F_EVENT_IDX : 0);
    unsigned starts = toy.starts;

    ck_assert_uint_eq(vdrv_negotiate(drv, want), want);
    ck_assert_int_eq(vdrv_setup_queue(drv, 0, 8, event_idx), 0);
    vdrv_driver_ok(drv);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    ck_assert_uint_eq(toy.starts, starts + 1);
}

/* Sends `text` through the toy device and checks the answer. */
static void round_trip(const char *text, bool indirect)
{
    size_t n = strlen(text);
    uint64_t in = vdrv_alloc(drv, n, 1), out = vdrv_alloc(drv, n, 1);
    struct vdrv_buf bufs[2] = { { in, (uint32_t)n, false }, { out, (uint32_t)n, true } };
    uint16_t head;
    uint32_t len;
    int h;

    memcpy(vdrv_host(drv, in, n), text, n);
    h = vdrv_add(drv, 0, bufs, 2, indirect);
    ck_assert_int_ge(h, 0);
    vdrv_kick(drv, 0);
    ck_assert_msg(vdrv_wait_used(drv, 0, TIMEOUT, &head, &len), "no answer (%s)", cap.text);
    ck_assert_uint_eq(head, (uint16_t)h);
    ck_assert_uint_eq(len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(((char *)vdrv_host(drv, out, n))[i], toupper(text[i]));
}

START_TEST(echo_direct_and_indirect)
{
    bring_up(false);
    round_trip("hello, virtio", false);
    round_trip("through an indirect table", true);
    for (int i = 0; i < 50; i++)
        round_trip("again and again", i % 2);
    ck_assert_uint_ge(vdrv_interrupts(drv, 0), 52);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(echo_with_event_idx)
{
    bring_up(true);
    for (int i = 0; i < 40; i++)
        round_trip("suppressed", false);
    ck_assert_uint_gt(vdrv_interrupts(drv, 0), 0);
}
END_TEST

START_TEST(version_1_is_required)
{
    ck_assert_uint_eq(vdrv_negotiate(drv, F_TOY), 0);
    ck_assert(!(vdrv_status(drv) & EM_VIRTIO_S_FEATURES_OK));
    ck_assert_msg(log_has(&cap, "VIRTIO_F_VERSION_1"), "%s", cap.text);
}
END_TEST

START_TEST(features_the_device_refuses)
{
    toy.refuse_features = true;
    ck_assert_uint_eq(vdrv_negotiate(drv, EM_VIRTIO_F_VERSION_1), 0);
    toy.refuse_features = false;
    /* A feature the device never offered. */
    vdrv_negotiate(drv, 0);
    em_virtio_set_driver_features(toy.vd, 0, 1u << 7);
    em_virtio_set_driver_features(toy.vd, 1, 1);
    em_virtio_set_status(toy.vd, 0x0b);
    ck_assert(!(vdrv_status(drv) & EM_VIRTIO_S_FEATURES_OK));
    ck_assert_msg(log_has(&cap, "does not offer"), "%s", cap.text);
}
END_TEST

START_TEST(driver_ok_without_features_ok)
{
    em_virtio_set_status(toy.vd, EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER);
    em_virtio_set_status(toy.vd,
                         EM_VIRTIO_S_ACKNOWLEDGE | EM_VIRTIO_S_DRIVER | EM_VIRTIO_S_DRIVER_OK);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_uint_eq(toy.starts, 0);
    ck_assert_msg(log_has(&cap, "DRIVER_OK without FEATURES_OK"), "%s", cap.text);
}
END_TEST

START_TEST(frozen_after_driver_ok)
{
    bring_up(false);
    /* Features and queue registers no longer change. */
    em_virtio_set_driver_features(toy.vd, 0, 0);
    ck_assert(em_virtio_driver_features(toy.vd) & F_TOY);
    em_virtio_queue_set_size(toy.vd, 0, 2);
    {
        struct em_virtio_queue_regs r;

        em_virtio_queue_regs(toy.vd, 0, &r);
        ck_assert_uint_eq(r.size, 8);
        ck_assert(r.enabled);
    }
    /* The driver cannot clear NEEDS_RESET or other bits by writing. */
    em_virtio_set_status(toy.vd, EM_VIRTIO_S_ACKNOWLEDGE);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    round_trip("still works", false);
}
END_TEST

START_TEST(bad_rings_need_reset)
{
    ck_assert_uint_ne(vdrv_negotiate(drv, EM_VIRTIO_F_VERSION_1), 0);
    em_virtio_queue_set_size(toy.vd, 0, 8);
    em_virtio_queue_set_rings(toy.vd, 0, RAM + 0x1000, 0x2000, 0x3000); /* outside RAM */
    em_virtio_queue_enable(toy.vd, 0);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_msg(log_has(&cap, "queue 0: the descriptor ring at 0x801000 is not in guest RAM"),
                  "%s", cap.text);
    /* And a queue larger than the device's maximum. */
    vdrv_negotiate(drv, EM_VIRTIO_F_VERSION_1);
    em_virtio_queue_set_size(toy.vd, 1, 32);
    em_virtio_queue_enable(toy.vd, 1);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_msg(log_has(&cap, "size 32 is above the maximum 16"), "%s", cap.text);
}
END_TEST

START_TEST(hostile_ring_then_reset)
{
    struct vdrv_rings r;
    uint16_t v = 99; /* an available entry naming a descriptor beyond the queue */
    unsigned cfg_irqs;

    bring_up(false);
    round_trip("before", false);
    vdrv_rings(drv, 0, &r);
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 4 + 2 * 1, &v, 2), 0);
    v = 2;
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 2, &v, 2), 0);
    cfg_irqs = vdrv_config_interrupts(drv);
    vdrv_kick(drv, 0);
    for (int i = 0; i < 500 && !(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET); i++)
        usleep(2000);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_uint_eq(vdrv_config_interrupts(drv), cfg_irqs + 1);
    ck_assert_msg(log_has(&cap, "names descriptor 99, beyond the queue size 8"), "%s", cap.text);
    /* Kicks are ignored until the driver resets the device... */
    vdrv_kick(drv, 0);
    usleep(20000);
    /* ...and after the reset, the device works again. */
    bring_up(false);
    ck_assert_uint_ge(toy.resets, 1);
    round_trip("after the reset", false);
    /* The reason was logged once. */
    ck_assert_ptr_eq(strstr(cap.text, "beyond the queue size"),
                     strstr(cap.text, "beyond the queue size"));
    ck_assert_ptr_null(
        strstr(strstr(cap.text, "beyond the queue size") + 1, "beyond the queue size"));
}
END_TEST

START_TEST(config_space)
{
    uint32_t v = 0x12345678, got = 0;
    uint8_t out[8];

    vdrv_config_write(drv, 0, &v, 4);
    vdrv_config_read(drv, 0, &got, 4);
    ck_assert_uint_eq(got, 0x12345678);
    ck_assert_uint_eq(toy.config, 0x12345678);
    /* Beyond the device's configuration: all-ones, and writes dropped. */
    memset(out, 0, sizeof(out));
    vdrv_config_read(drv, 2, out, 4);
    ck_assert_uint_eq(out[0], 0xff);
    vdrv_config_write(drv, 3, &v, 4);
    ck_assert_uint_eq(toy.config, 0x12345678);
}
END_TEST

START_TEST(missing_queue_reads_as_absent)
{
    struct em_virtio_queue_regs r;

    em_virtio_queue_regs(toy.vd, 5, &r);
    ck_assert_uint_eq(r.size, 0);
    ck_assert_int_eq(em_virtio_kick_fd(toy.vd, 5), -1);
    em_virtio_queue_enable(toy.vd, 5); /* ignored, no crash */
    ck_assert(!(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET));
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_core");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, echo_direct_and_indirect);
    tcase_add_test(tc, echo_with_event_idx);
    tcase_add_test(tc, version_1_is_required);
    tcase_add_test(tc, features_the_device_refuses);
    tcase_add_test(tc, driver_ok_without_features_ok);
    tcase_add_test(tc, frozen_after_driver_ok);
    tcase_add_test(tc, bad_rings_need_reset);
    tcase_add_test(tc, hostile_ring_then_reset);
    tcase_add_test(tc, config_space);
    tcase_add_test(tc, missing_queue_reads_as_absent);
    suite_add_tcase(s, tc);
    return s;
}
