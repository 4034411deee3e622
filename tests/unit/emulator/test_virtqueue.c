/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues against a hostile driver: every rule the device relies
 * on broken in turn (each must break the queue with a reason, and nothing
 * may touch memory outside guest RAM), the happy paths, notification
 * suppression, and random garbage in the rings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "testutil.h"
#include "virtio/virtqueue.h"

const bool test_needs_kvm = false;

#define QSIZE   8
#define DESC    0x1000ull
#define AVAIL   0x2000ull
#define USED    0x3000ull
#define DATA    0x10000ull
#define ROM     0x300000ull /* a read-only region, after a hole */
#define HIGH    0x100000ull /* a RAM region adjacent to the first */
#define F_NEXT  VRING_DESC_F_NEXT
#define F_WRITE VRING_DESC_F_WRITE
#define F_IND   VRING_DESC_F_INDIRECT

static struct log_capture cap;
static struct kc_mem *mem;
static struct em_vq *vq;
static uint16_t avail_idx;

static void setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(mem);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, 0x100000, 0, "low"));
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, HIGH, 0x100000, 0, "high"));
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, ROM, 0x1000, KC_REGION_READONLY, "rom"));
    vq = calloc(1, sizeof(*vq));
    ck_assert_ptr_nonnull(vq);
    avail_idx = 0;
}

static void teardown(void)
{
    free(vq);
    kc_mem_destroy(mem);
}

static void init(bool event_idx, bool indirect)
{
    ck_assert_int_eq(em_vq_init(vq, mem, QSIZE, DESC, AVAIL, USED, event_idx, indirect), 0);
}

static void put16(uint64_t gpa, uint16_t v)
{
    ck_assert_int_eq(kc_mem_write(mem, gpa, &v, 2), 0);
}

static uint16_t get16(uint64_t gpa)
{
    uint16_t v;

    ck_assert_int_eq(kc_mem_read(mem, gpa, &v, 2), 0);
    return v;
}

static uint32_t get32(uint64_t gpa)
{
    uint32_t v;

    ck_assert_int_eq(kc_mem_read(mem, gpa, &v, 4), 0);
    return v;
}

/* Descriptor i of the table at `table`. */
static void desc_at(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                    uint16_t next)
{
    uint8_t d[16];

    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
    /* Tables may be in the read-only region: write through the host view. */
    memcpy(kc_mem_ptr(mem, table + 16ull * i, 16), d, 16);
}

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    desc_at(DESC, i, addr, len, flags, next);
}

/* Makes chain `head` available. */
static void offer(uint16_t head)
{
    put16(AVAIL + 4 + 2 * (avail_idx % QSIZE), head);
    avail_idx++;
    put16(AVAIL + 2, avail_idx);
}

/* Pops expecting the queue to break with a reason containing `why`. */
static void expect_broken(const char *why)
{
    struct em_vq_elem *e = (void *)1;
    int ret = em_vq_pop(vq, &e);

    ck_assert_msg(ret == -EIO, "pop returned %d, not -EIO (expected '%s'); first segment %u bytes",
                  ret, why, ret == 1 ? e->seg[0].len : 0);
    ck_assert_ptr_null(e);
    ck_assert(vq->broken);
    ck_assert_msg(strstr(vq->why, why), "reason '%s' lacks '%s'", vq->why, why);
    /* Broken stays broken, whatever the driver does next. */
    desc(0, DATA, 16, 0, 0);
    offer(0);
    ck_assert_int_eq(em_vq_pop(vq, &e), -EIO);
}

static struct em_vq_elem *pop_ok(void)
{
    struct em_vq_elem *e = NULL;
    int ret = em_vq_pop(vq, &e);

    ck_assert_msg(ret == 1, "pop returned %d (%s)", ret, vq->why);
    ck_assert_ptr_nonnull(e);
    return e;
}

START_TEST(empty_ring)
{
    struct em_vq_elem *e = (void *)1;

    init(false, false);
    ck_assert_int_eq(em_vq_pop(vq, &e), 0);
    ck_assert_ptr_null(e);
    ck_assert(!vq->broken);
}
END_TEST

START_TEST(request_and_response)
{
    static const char req[] = "read sector 7";
    char got[32] = { 0 };
    struct em_vq_elem *e;

    init(false, false);
    ck_assert_int_eq(kc_mem_write(mem, DATA, req, sizeof(req)), 0);
    desc(3, DATA, sizeof(req), F_NEXT, 5);
    desc(5, DATA + 0x100, 64, F_WRITE | F_NEXT, 6);
    desc(6, DATA + 0x200, 1, F_WRITE, 0);
    offer(3);
    e = pop_ok();
    ck_assert_uint_eq(e->head, 3);
    ck_assert_uint_eq(e->n_out, 1);
    ck_assert_uint_eq(e->n_in, 2);
    ck_assert_uint_eq(e->out_bytes, sizeof(req));
    ck_assert_uint_eq(e->in_bytes, 65);
    ck_assert_uint_eq(em_vq_read(e, 0, got, sizeof(got)), sizeof(req));
    ck_assert_str_eq(got, req);
    /* A write spanning the two writable buffers. */
    memset(got, 'x', sizeof(got));
    ck_assert_uint_eq(em_vq_write(e, 60, got, 10), 5);
    ck_assert_uint_eq(((uint8_t *)kc_mem_ptr(mem, DATA + 0x200, 1))[0], 'x');
    em_vq_push(vq, e, 1000); /* more than the buffers hold: clamped */
    ck_assert_uint_eq(get16(USED + 2), 1);
    ck_assert_uint_eq(get32(USED + 4), 3);
    ck_assert_uint_eq(get32(USED + 8), 65);
    free(e);
    ck_assert_int_eq(em_vq_pop(vq, &e), 0);
}
END_TEST

START_TEST(indirect_table)
{
    struct em_vq_elem *e;

    init(false, true);
    desc_at(DATA, 0, DATA + 0x1000, 10, F_NEXT, 1);
    desc_at(DATA, 1, DATA + 0x2000, 20, F_NEXT, 2);
    desc_at(DATA, 2, DATA + 0x3000, 30, F_WRITE, 0);
    desc(0, DATA, 3 * 16, F_IND, 0);
    offer(0);
    e = pop_ok();
    ck_assert_uint_eq(e->n_out, 2);
    ck_assert_uint_eq(e->n_in, 1);
    ck_assert_uint_eq(e->out_bytes, 30);
    ck_assert_uint_eq(e->in_bytes, 30);
    ck_assert_ptr_eq(e->seg[2].host, kc_mem_ptr(mem, DATA + 0x3000, 30));
    free(e);
}
END_TEST

START_TEST(zero_length_buffers_are_skipped)
{
    struct em_vq_elem *e;

    init(false, false);
    desc(0, DATA, 0, F_NEXT, 1);
    desc(1, 0xdeadbeef000ull, 0, F_NEXT, 2); /* nowhere, but empty */
    desc(2, DATA, 8, F_WRITE, 0);
    offer(0);
    e = pop_ok();
    ck_assert_uint_eq(e->n_out + e->n_in, 1);
    free(e);
}
END_TEST

START_TEST(buffer_across_two_regions)
{
    struct em_vq_elem *e;

    init(false, false);
    desc(0, HIGH - 16, 48, F_WRITE, 0);
    offer(0);
    e = pop_ok();
    ck_assert_uint_eq(e->n_in, 2);
    ck_assert_ptr_eq(e->seg[0].host, kc_mem_ptr(mem, HIGH - 16, 16));
    ck_assert_uint_eq(e->seg[0].len, 16);
    ck_assert_ptr_eq(e->seg[1].host, kc_mem_ptr(mem, HIGH, 32));
    ck_assert_uint_eq(e->seg[1].len, 32);
    free(e);
}
END_TEST

START_TEST(loop)
{
    init(false, false);
    desc(0, DATA, 8, F_NEXT, 1);
    desc(1, DATA, 8, F_NEXT, 2);
    desc(2, DATA, 8, F_NEXT, 0);
    offer(0);
    expect_broken("a loop?");
}
END_TEST

START_TEST(self_loop_in_indirect_table)
{
    init(false, true);
    desc_at(DATA, 0, DATA + 0x1000, 8, F_NEXT, 1);
    desc_at(DATA, 1, DATA + 0x1000, 8, F_NEXT, 1);
    desc(0, DATA, 2 * 16, F_IND, 0);
    offer(0);
    expect_broken("a loop?");
}
END_TEST

START_TEST(head_out_of_range)
{
    init(false, false);
    offer(QSIZE);
    expect_broken("beyond the queue size");
}
END_TEST

START_TEST(next_out_of_range)
{
    init(false, false);
    desc(0, DATA, 8, F_NEXT, 0xffff);
    offer(0);
    expect_broken("beyond its table");
}
END_TEST

START_TEST(available_index_jump)
{
    init(false, false);
    put16(AVAIL + 2, QSIZE + 1);
    expect_broken("more than the queue size");
}
END_TEST

START_TEST(readable_after_writable)
{
    init(false, false);
    desc(0, DATA, 8, F_WRITE | F_NEXT, 1);
    desc(1, DATA, 8, 0, 0);
    offer(0);
    expect_broken("readable buffer follows a device-writable");
}
END_TEST

/* Buffers that are not guest RAM: the queue breaks before any is touched. */
static const struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    const char *why;
} bad_buffers[] = {
    { 0x50000000, 16, 0, "not in guest RAM" },
    { 0xfffffffffffffff0ull, 0x20, 0, "wraps around" },
    { HIGH + 0x100000 - 8, 16, 0, "buffer at 0x1ffff8 of 16 bytes is not in guest RAM" },
    { 0x1fff00, 0x200, 0, "not in guest RAM" }, /* into the hole */
    { ROM, 16, F_WRITE, "read-only memory" },   /* device would write ROM */
    { 0x1000000000ull, 1, F_WRITE, "not in guest RAM" },
};

START_TEST(buffer_outside_ram)
{
    init(false, false);
    desc(0, DATA, 8, F_NEXT, 1);
    desc(1, bad_buffers[_i].addr, bad_buffers[_i].len, bad_buffers[_i].flags, 0);
    offer(0);
    expect_broken(bad_buffers[_i].why);
}
END_TEST

START_TEST(readable_rom_is_fine)
{
    struct em_vq_elem *e;

    init(false, false);
    desc(0, ROM, 16, 0, 0);
    offer(0);
    e = pop_ok();
    ck_assert_ptr_eq(e->seg[0].host, kc_mem_ptr(mem, ROM, 16));
    free(e);
}
END_TEST

static const struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    bool negotiated;
    const char *why;
} bad_indirect[] = {
    { DATA, 16, F_IND, false, "was not negotiated" },
    { DATA, 0, F_IND, true, "must be a non-zero multiple of 16" },
    { DATA, 24, F_IND, true, "must be a non-zero multiple of 16" },
    { DATA, 16 * (EM_VQ_MAX_SIZE + 1), F_IND, true, "at most" },
    { 0x40000000, 32, F_IND, true, "not in guest RAM" },
    { DATA, 32, F_IND | F_NEXT, true, "also has the NEXT flag" },
};

START_TEST(indirect_rules)
{
    init(false, bad_indirect[_i].negotiated);
    desc_at(DATA, 0, DATA + 0x1000, 8, 0, 0);
    desc_at(DATA, 1, DATA + 0x1000, 8, 0, 0);
    desc(0, bad_indirect[_i].addr, bad_indirect[_i].len, bad_indirect[_i].flags, 1);
    desc(1, DATA, 8, 0, 0);
    offer(0);
    expect_broken(bad_indirect[_i].why);
}
END_TEST

START_TEST(nested_indirect)
{
    init(false, true);
    desc_at(DATA, 0, DATA + 0x100, 16, F_IND, 0);
    desc(0, DATA, 16, F_IND, 0);
    offer(0);
    expect_broken("another indirect table");
}
END_TEST

START_TEST(init_refuses_bad_rings)
{
    static const struct {
        uint16_t size;
        uint64_t desc, avail, used;
        const char *why;
    } bad[] = {
        { 0, DESC, AVAIL, USED, "power of two" },
        { 6, DESC, AVAIL, USED, "power of two" },
        { 2 * EM_VQ_MAX_SIZE, DESC, AVAIL, USED, "power of two" },
        { QSIZE, DESC + 8, AVAIL, USED, "misaligned" },
        { QSIZE, DESC, AVAIL + 1, USED, "misaligned" },
        { QSIZE, DESC, AVAIL, USED + 2, "misaligned" },
        { QSIZE, 0x80000000, AVAIL, USED, "descriptor ring" },
        { QSIZE, DESC, HIGH + 0x100000 - 4, USED, "available ring" },
        { QSIZE, DESC, AVAIL, ROM, "not writable" },
        { 1024, 0xff000, AVAIL, USED, "descriptor ring" }, /* 16 KiB from 0xff000 spans a hole */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct em_vq_elem *e;

        ck_assert_int_eq(
            em_vq_init(vq, mem, bad[i].size, bad[i].desc, bad[i].avail, bad[i].used, false, false),
            -EINVAL);
        ck_assert_msg(strstr(vq->why, bad[i].why), "case %zu: '%s' lacks '%s'", i, vq->why,
                      bad[i].why);
        ck_assert_int_eq(em_vq_pop(vq, &e), -EIO);
        em_vq_push(vq, NULL, 0); /* a queue that never came up ignores pushes */
        ck_assert(!em_vq_should_notify(vq));
    }
}
END_TEST

/* One request through, so there is something to notify about. */
static void one_round_trip(void)
{
    struct em_vq_elem *e;

    desc(0, DATA, 8, F_WRITE, 0);
    offer(0);
    e = pop_ok();
    em_vq_push(vq, e, 8);
    free(e);
}

START_TEST(interrupt_suppression_flags)
{
    init(false, false);
    one_round_trip();
    ck_assert(em_vq_should_notify(vq));
    /* Nothing pushed since: no interrupt, whatever the flags say. */
    ck_assert(!em_vq_should_notify(vq));
    put16(AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
    one_round_trip();
    ck_assert(!em_vq_should_notify(vq));
}
END_TEST

START_TEST(interrupt_suppression_event_idx)
{
    init(true, false);
    /* used_event lives after the available ring's entries. */
    put16(AVAIL + 4 + 2 * QSIZE, 0);
    one_round_trip(); /* used idx 0 -> 1: crosses used_event 0 */
    ck_assert(em_vq_should_notify(vq));
    put16(AVAIL + 4 + 2 * QSIZE, 5);
    one_round_trip(); /* 1 -> 2: not yet at 5 */
    ck_assert(!em_vq_should_notify(vq));
    one_round_trip();
    one_round_trip();
    one_round_trip(); /* 4 -> 5 */
    ck_assert(!em_vq_should_notify(vq));
    one_round_trip(); /* 5 -> 6: crosses 5 */
    ck_assert(em_vq_should_notify(vq));
    ck_assert(!em_vq_should_notify(vq)); /* nothing new since */
}
END_TEST

START_TEST(kick_suppression)
{
    init(false, false);
    em_vq_disable_notify(vq);
    ck_assert_uint_eq(get16(USED), VRING_USED_F_NO_NOTIFY);
    ck_assert(!em_vq_enable_notify(vq));
    ck_assert_uint_eq(get16(USED), 0);
    /* A chain that arrived while kicks were off is reported, not missed. */
    em_vq_disable_notify(vq);
    desc(0, DATA, 8, 0, 0);
    offer(0);
    ck_assert(em_vq_enable_notify(vq));

    init(true, false);
    avail_idx = 0;
    put16(AVAIL + 2, 0);
    ck_assert(!em_vq_enable_notify(vq));
    ck_assert_uint_eq(get16(USED + 4 + 8 * QSIZE), 0); /* avail_event = next index */
}
END_TEST

START_TEST(wrap_around_the_index)
{
    init(false, false);
    /* Start near the 16-bit wrap: both sides count modulo 2^16. */
    vq->last_avail = vq->used_idx = 0xfffe;
    avail_idx = 0xfffe;
    for (int i = 0; i < 4; i++) {
        struct em_vq_elem *e;

        desc(1, DATA, 8, F_WRITE, 0);
        offer(1);
        e = pop_ok();
        em_vq_push(vq, e, 8);
        free(e);
    }
    ck_assert_uint_eq(get16(USED + 2), 2);
    ck_assert(!vq->broken);
}
END_TEST

/* Whether [host, host + len) lies inside one of the fixture's regions. */
static bool inside_ram(const void *host, uint32_t len)
{
    for (unsigned i = 0; i < kc_mem_region_count(mem); i++) {
        struct kc_region *r = kc_mem_region_at(mem, i);
        const uint8_t *b = kc_region_host(r), *p = host;

        if (p >= b && p + len <= b + kc_region_size(r) && p + len >= p)
            return true;
    }
    return false;
}

/*
 * Random garbage in the descriptor table and the available ring, over
 * and over: pop must always terminate, and every segment it hands out must
 * lie in guest RAM (writable segments in writable RAM).
 */
START_TEST(random_garbage)
{
    unsigned seed = 12345, popped = 0, broken = 0;

    for (int round = 0; round < 4000; round++) {
        uint8_t junk[16 * QSIZE];
        struct em_vq_elem *e;
        int ret;

        init(round & 1, round & 2);
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (uint8_t)rand_r(&seed);
        /* Keep some addresses plausible so that deep paths are reached. */
        for (unsigned d = 0; d < QSIZE; d++) {
            uint64_t addr = (rand_r(&seed) % 3 == 0) ? (uint64_t)rand_r(&seed) << 20
                                                     : DATA + (rand_r(&seed) % 0x10000);
            uint32_t len = (uint32_t)(rand_r(&seed) % 0x3000);
            uint16_t flags = (uint16_t)(rand_r(&seed) & 7), next = (uint16_t)(rand_r(&seed) % 10);

            if (rand_r(&seed) % 2) {
                memcpy(junk + 16 * d, &addr, 8);
                memcpy(junk + 16 * d + 8, &len, 4);
                memcpy(junk + 16 * d + 12, &flags, 2);
                memcpy(junk + 16 * d + 14, &next, 2);
            }
        }
        ck_assert_int_eq(kc_mem_write(mem, DESC, junk, sizeof(junk)), 0);
        for (unsigned k = 0; k < QSIZE; k++)
            put16(AVAIL + 4 + 2 * k, (uint16_t)(rand_r(&seed) % 10));
        put16(AVAIL + 2, (uint16_t)(rand_r(&seed) % 12));
        for (int n = 0; n < 2 * QSIZE; n++) {
            ret = em_vq_pop(vq, &e);
            if (ret <= 0) {
                broken += ret < 0;
                break;
            }
            for (unsigned s = 0; s < e->n_out + e->n_in; s++) {
                ck_assert_msg(inside_ram(e->seg[s].host, e->seg[s].len),
                              "round %d: a segment outside guest RAM", round);
                if (s >= e->n_out)
                    ck_assert_msg(
                        !(e->seg[s].host >= kc_mem_ptr(mem, ROM, 1) &&
                          (uint8_t *)e->seg[s].host < (uint8_t *)kc_mem_ptr(mem, ROM, 1) + 0x1000),
                        "round %d: a writable segment in ROM", round);
            }
            em_vq_push(vq, e, (uint32_t)rand_r(&seed));
            free(e);
            popped++;
        }
    }
    /* Both outcomes happened, so the fuzzing reached deep and shallow paths. */
    ck_assert_uint_gt(popped, 100);
    ck_assert_uint_gt(broken, 100);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtqueue");
    TCase *tc = tcase_create("virtqueue");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, empty_ring);
    tcase_add_test(tc, request_and_response);
    tcase_add_test(tc, indirect_table);
    tcase_add_test(tc, zero_length_buffers_are_skipped);
    tcase_add_test(tc, buffer_across_two_regions);
    tcase_add_test(tc, loop);
    tcase_add_test(tc, self_loop_in_indirect_table);
    tcase_add_test(tc, head_out_of_range);
    tcase_add_test(tc, next_out_of_range);
    tcase_add_test(tc, available_index_jump);
    tcase_add_test(tc, readable_after_writable);
    tcase_add_loop_test(tc, buffer_outside_ram, 0, sizeof(bad_buffers) / sizeof(bad_buffers[0]));
    tcase_add_test(tc, readable_rom_is_fine);
    tcase_add_loop_test(tc, indirect_rules, 0, sizeof(bad_indirect) / sizeof(bad_indirect[0]));
    tcase_add_test(tc, nested_indirect);
    tcase_add_test(tc, init_refuses_bad_rings);
    tcase_add_test(tc, interrupt_suppression_flags);
    tcase_add_test(tc, interrupt_suppression_event_idx);
    tcase_add_test(tc, kick_suppression);
    tcase_add_test(tc, wrap_around_the_index);
    tcase_add_test(tc, random_garbage);
    suite_add_tcase(s, tc);
    return s;
}
