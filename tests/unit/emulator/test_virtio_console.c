/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-console through tests/virtio/vdriver, on the device's real I/O
 * thread, with its chardev served on a libuv loop this test runs (as
 * kvmemu's main thread does): output to a file, a unix-socket client and a
 * pty; input from a client and a pty; input held back while the driver
 * posts no buffers, then delivered whole; emergency writes; hostile chains.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_console.h>

#include "testutil.h"
#include "vdriver.h"
#include "virtio/devices.h"

const bool test_needs_kvm = false;

#define RAM     (8ull << 20)
#define ARENA   0x100000ull
#define RXQ     0
#define TXQ     1
#define F_EMERG (1ull << VIRTIO_CONSOLE_F_EMERG_WRITE)

static uv_loop_t loop;
static struct log_capture cap;
static struct kc_mem *mem;
static struct em_virtio_dev *vd;
static struct vdrv *drv;
static char dir[64];
static uint64_t rx_gpa[256]; /* per receive head: its buffer */

static void setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, RAM, 0, "ram"));
    snprintf(dir, sizeof(dir), "/tmp/vconsole-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    vd = NULL;
    drv = NULL;
}

static void teardown(void)
{
    char cmd[128];

    em_virtio_destroy(vd);
    /* The chardev's handles close on the loop's next run. */
    uv_run(&loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    vdrv_destroy(drv);
    kc_mem_destroy(mem);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Runs the main loop until cond (evaluated once a round: it may consume
 * something) holds, or fails after 5 s. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        double deadline_ = now_ms() + 5000;                                                        \
        bool met_;                                                                                 \
        while (!(met_ = (cond)) && now_ms() < deadline_) {                                         \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            usleep(200);                                                                           \
        }                                                                                          \
        ck_assert_msg(met_, "timed out waiting for: %s (log: %s)", #cond, cap.text);               \
    } while (0)

static void run_for(int ms)
{
    double end = now_ms() + ms;

    while (now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
}

static char *path_in_dir(const char *name)
{
    static char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void make_device(enum em_chardev_kind kind, const char *path)
{
    struct em_vdev_env env = { .mem = mem, .log = &cap.logger, .main_loop = &loop };
    struct em_chardev_spec spec = { .kind = kind, .path = path };

    vd = em_vconsole_create(&env, &spec);
    ck_assert_msg(vd, "%s", cap.text);
    drv = vdrv_create(mem, ARENA, RAM - ARENA);
    vdrv_attach_core(drv, vd);
    ck_assert_int_eq(em_virtio_start(vd), 0);
}

static void bring_up(void)
{
    uint64_t want = EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_INDIRECT_DESC | F_EMERG;

    ck_assert_uint_eq(vdrv_negotiate(drv, want), want);
    ck_assert_int_eq(vdrv_setup_queue(drv, RXQ, 0, false), 0);
    ck_assert_int_eq(vdrv_setup_queue(drv, TXQ, 0, false), 0);
    vdrv_driver_ok(drv);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
}

/* Sends text in `pieces` descriptors; waits until the chain is used. */
static void send_text(const char *text, unsigned pieces, bool indirect)
{
    size_t n = strlen(text), at = 0;
    struct vdrv_buf bufs[8];
    uint16_t head;
    uint32_t len = 1;
    int h;

    ck_assert_uint_le(pieces, 8);
    for (unsigned i = 0; i < pieces; i++) {
        size_t k = i + 1 == pieces ? n - at : n / pieces;
        uint64_t gpa = vdrv_alloc(drv, k ? k : 1, 1);

        memcpy(vdrv_host(drv, gpa, k ? k : 1), text + at, k);
        bufs[i] = (struct vdrv_buf){ gpa, (uint32_t)k, false };
        at += k;
    }
    h = vdrv_add(drv, TXQ, bufs, pieces, indirect);
    ck_assert_int_ge(h, 0);
    vdrv_kick(drv, TXQ);
    RUN_UNTIL(vdrv_poll_used(drv, TXQ, &head, &len));
    ck_assert_uint_eq(head, (uint16_t)h);
    ck_assert_uint_eq(len, 0);
}

/* Posts `count` receive buffers of `size` bytes. */
static void post_rx(unsigned count, uint32_t size)
{
    for (unsigned i = 0; i < count; i++) {
        uint64_t gpa = vdrv_alloc(drv, size, 1);
        struct vdrv_buf b = { gpa, size, true };
        int h = vdrv_add(drv, RXQ, &b, 1, false);

        ck_assert_int_ge(h, 0);
        rx_gpa[h] = gpa;
    }
    vdrv_kick(drv, RXQ);
}

/* Collects what arrives in receive buffers until `want` bytes did. */
static void collect(uint8_t *out, size_t want, unsigned *buffers)
{
    size_t got = 0;
    uint16_t head;
    uint32_t len;

    while (got < want) {
        RUN_UNTIL(vdrv_poll_used(drv, RXQ, &head, &len));
        ck_assert_uint_le(got + len, want);
        memcpy(out + got, vdrv_host(drv, rx_gpa[head], len), len);
        got += len;
        if (buffers)
            ++*buffers;
    }
}

static int connect_client(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads exactly n bytes from fd while running the loop. */
static void read_exact(int fd, char *buf, size_t n)
{
    size_t got = 0;
    double deadline = now_ms() + 5000;

    while (got < n && now_ms() < deadline) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t r;

        uv_run(&loop, UV_RUN_NOWAIT);
        if (poll(&p, 1, 1) <= 0)
            continue;
        r = read(fd, buf + got, n - got);
        ck_assert_int_gt(r, 0);
        got += (size_t)r;
    }
    ck_assert_uint_eq(got, n);
}

static char *slurp(const char *path, size_t *len)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    n = read(fd, buf, sizeof(buf) - 1);
    ck_assert_int_ge(n, 0);
    close(fd);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* ---- tests ---- */

START_TEST(features_config_and_emergency_writes)
{
    uint8_t cfg[16];
    uint32_t v = 'Z';
    uint8_t y = 'Y';
    size_t n;

    make_device(EM_CHARDEV_FILE, path_in_dir("out"));
    /* One port, no size: MULTIPORT and SIZE are not offered. */
    ck_assert_uint_eq(
        em_virtio_device_features(vd) &
            ~(EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_EVENT_IDX | EM_VIRTIO_F_INDIRECT_DESC),
        F_EMERG);
    bring_up();
    vdrv_config_read(drv, 0, cfg, 12);
    for (int i = 0; i < 12; i++)
        ck_assert_uint_eq(cfg[i], 0);
    vdrv_config_read(drv, 12, cfg, 4); /* beyond the configuration */
    ck_assert_uint_eq(cfg[0], 0xff);
    vdrv_config_write(drv, offsetof(struct virtio_console_config, emerg_wr), &v, 4);
    vdrv_config_write(drv, offsetof(struct virtio_console_config, emerg_wr), &y, 1);
    vdrv_config_write(drv, 0, &v, 4); /* cols: read-only, ignored */
    ck_assert_str_eq(slurp(path_in_dir("out"), &n), "ZY");
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(output_reaches_a_file)
{
    size_t n;

    make_device(EM_CHARDEV_FILE, path_in_dir("out"));
    bring_up();
    send_text("hello, ", 2, false);
    send_text("virtio console\n", 3, true);
    send_text("x", 1, false);
    ck_assert_str_eq(slurp(path_in_dir("out"), &n), "hello, virtio console\nx");
}
END_TEST

START_TEST(unix_client_both_ways)
{
    uint8_t got[64];
    char back[32];
    int fd;

    make_device(EM_CHARDEV_UNIX, path_in_dir("sock"));
    bring_up();
    post_rx(4, 16);
    fd = connect_client(path_in_dir("sock"));
    ck_assert_int_eq(write(fd, "typed by a client, 36 bytes long...", 35), 35);
    /* 35 bytes into 16-byte buffers: three of them, in order. */
    {
        unsigned buffers = 0;

        collect(got, 35, &buffers);
        ck_assert_uint_eq(buffers, 3);
    }
    ck_assert_int_eq(memcmp(got, "typed by a client, 36 bytes long...", 35), 0);
    send_text("guest output\n", 2, false);
    read_exact(fd, back, 13);
    ck_assert_int_eq(memcmp(back, "guest output\n", 13), 0);
    close(fd);
}
END_TEST

START_TEST(input_waits_for_buffers)
{
    enum { TOTAL = 10000 };
    static uint8_t sent[TOTAL], got[TOTAL];
    double cpu0, t0;
    uint16_t head;
    uint32_t len;
    size_t have = 0;
    int fd;

    make_device(EM_CHARDEV_UNIX, path_in_dir("sock"));
    bring_up();
    fd = connect_client(path_in_dir("sock"));
    for (int i = 0; i < TOTAL; i++)
        sent[i] = (uint8_t)(i * 7 + i / 251);
    /* More than the device buffers (4 KiB): the rest waits in the socket. */
    ck_assert_int_eq(write(fd, sent, TOTAL), TOTAL);
    t0 = now_ms();
    cpu0 = cpu_ms();
    run_for(200);
    ck_assert(!vdrv_poll_used(drv, RXQ, &head, &len));
    ck_assert_msg(cpu_ms() - cpu0 < 40, "%.0f ms of CPU in %.0f ms while input waited",
                  cpu_ms() - cpu0, now_ms() - t0);
    /* Buffers a few at a time: everything arrives, in order, once. A
     * buffer holds what was there when it was filled, maybe less than 300. */
    while (have < TOTAL) {
        unsigned buffers = 0;

        post_rx(8, 300);
        while (buffers < 8 && have < TOTAL) {
            RUN_UNTIL(vdrv_poll_used(drv, RXQ, &head, &len));
            ck_assert_uint_le(have + len, TOTAL);
            memcpy(got + have, vdrv_host(drv, rx_gpa[head], len), len);
            have += len;
            buffers++;
        }
    }
    ck_assert_int_eq(memcmp(got, sent, TOTAL), 0);
    run_for(20);
    ck_assert(!vdrv_poll_used(drv, RXQ, &head, &len)); /* nothing more */
    close(fd);
}
END_TEST

START_TEST(input_before_driver_ok)
{
    uint8_t got[8];
    int fd;

    make_device(EM_CHARDEV_UNIX, path_in_dir("sock"));
    fd = connect_client(path_in_dir("sock"));
    ck_assert_int_eq(write(fd, "early", 5), 5);
    run_for(50);
    bring_up();
    post_rx(1, 64);
    collect(got, 5, NULL);
    ck_assert_int_eq(memcmp(got, "early", 5), 0);
    close(fd);
}
END_TEST

START_TEST(pty_both_ways)
{
    char line[256] = "", *name, back[8];
    uint8_t got[8];
    int pipefd[2], saved, slave;
    ssize_t n;

    /* The pty's name is printed on stderr, as kvmemu's user sees it. */
    ck_assert_int_eq(pipe(pipefd), 0);
    saved = dup(2);
    dup2(pipefd[1], 2);
    make_device(EM_CHARDEV_PTY, NULL);
    dup2(saved, 2);
    close(saved);
    close(pipefd[1]);
    n = read(pipefd[0], line, sizeof(line) - 1);
    close(pipefd[0]);
    ck_assert_int_gt(n, 0);
    name = strstr(line, "console-virtio: redirected to /dev/pts/");
    ck_assert_msg(name, "%s", line);
    name = strchr(name, '/');
    name[strcspn(name, "\n")] = 0;
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_int_ge(slave, 0);
    bring_up();
    post_rx(2, 8);
    ck_assert_int_eq(write(slave, "ping", 4), 4);
    collect(got, 4, NULL);
    ck_assert_int_eq(memcmp(got, "ping", 4), 0);
    send_text("pong", 1, false);
    read_exact(slave, back, 4);
    ck_assert_int_eq(memcmp(back, "pong", 4), 0);
    close(slave);
}
END_TEST

START_TEST(none_backend_drops_output)
{
    uint16_t head;
    uint32_t len;

    make_device(EM_CHARDEV_NONE, NULL);
    bring_up();
    post_rx(2, 16);
    send_text("into the void", 2, false);
    run_for(50);
    ck_assert(!vdrv_poll_used(drv, RXQ, &head, &len));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(hostile_chains)
{
    uint64_t ro, w, wr;
    struct vdrv_buf b, mixed[2];
    uint8_t got[8];
    uint16_t head;
    uint32_t len;
    int fd;

    make_device(EM_CHARDEV_UNIX, path_in_dir("sock"));
    bring_up();
    /* A receive chain with nothing writable: given back empty, and the
     * input goes to the next buffer, whole. */
    ro = vdrv_alloc(drv, 16, 1);
    memset(vdrv_host(drv, ro, 16), 0x5a, 16);
    b = (struct vdrv_buf){ ro, 16, false };
    ck_assert_int_ge(vdrv_add(drv, RXQ, &b, 1, false), 0);
    fd = connect_client(path_in_dir("sock"));
    ck_assert_int_eq(write(fd, "input", 5), 5);
    RUN_UNTIL(vdrv_poll_used(drv, RXQ, &head, &len));
    ck_assert_uint_eq(len, 0);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(((uint8_t *)vdrv_host(drv, ro, 16))[i], 0x5a);
    post_rx(1, 8);
    collect(got, 5, NULL);
    ck_assert_int_eq(memcmp(got, "input", 5), 0);
    /* A transmit chain with a writable part: the readable part goes out,
     * the writable one is left alone. */
    w = vdrv_alloc(drv, 6, 1);
    wr = vdrv_alloc(drv, 16, 1);
    memcpy(vdrv_host(drv, w, 6), "mixed\n", 6);
    memset(vdrv_host(drv, wr, 16), 0x5a, 16);
    mixed[0] = (struct vdrv_buf){ w, 6, false };
    mixed[1] = (struct vdrv_buf){ wr, 16, true };
    ck_assert_int_ge(vdrv_add(drv, TXQ, mixed, 2, false), 0);
    vdrv_kick(drv, TXQ);
    RUN_UNTIL(vdrv_poll_used(drv, TXQ, &head, &len));
    ck_assert_uint_eq(len, 0);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(((uint8_t *)vdrv_host(drv, wr, 16))[i], 0x5a);
    {
        char back[8];

        struct pollfd p = { .fd = fd, .events = POLLIN };

        read_exact(fd, back, 6);
        ck_assert_int_eq(memcmp(back, "mixed\n", 6), 0);
        ck_assert_int_eq(poll(&p, 1, 50), 0); /* and nothing else */
    }
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    close(fd);
}
END_TEST

START_TEST(bad_ring_needs_reset)
{
    struct vdrv_rings r;
    uint16_t v = 200;
    size_t n;

    make_device(EM_CHARDEV_FILE, path_in_dir("out"));
    bring_up();
    vdrv_rings(drv, TXQ, &r);
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 4, &v, 2), 0);
    v = 1;
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 2, &v, 2), 0);
    vdrv_kick(drv, TXQ);
    RUN_UNTIL(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_msg(log_has(&cap, "virtio-console: the driver broke the rules (queue 1"), "%s",
                  cap.text);
    /* A reset, and it works again. */
    bring_up();
    send_text("after\n", 1, false);
    ck_assert_str_eq(slurp(path_in_dir("out"), &n), "after\n");
}
END_TEST

START_TEST(bad_backend_is_reported)
{
    struct em_vdev_env env = { .mem = mem, .log = &cap.logger, .main_loop = &loop };
    struct em_chardev_spec spec = { .kind = EM_CHARDEV_UNIX,
                                    .path = "/nonexistent-dir/console.sock" };

    ck_assert_ptr_null(em_vconsole_create(&env, &spec));
    ck_assert_msg(log_has(&cap, "console-virtio unix:/nonexistent-dir/console.sock: cannot "
                                "listen: No such file or directory"),
                  "%s", cap.text);
    ck_assert_uint_eq(cap.count, 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_console");
    TCase *tc = tcase_create("console");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, features_config_and_emergency_writes);
    tcase_add_test(tc, output_reaches_a_file);
    tcase_add_test(tc, unix_client_both_ways);
    tcase_add_test(tc, input_waits_for_buffers);
    tcase_add_test(tc, input_before_driver_ok);
    tcase_add_test(tc, pty_both_ways);
    tcase_add_test(tc, none_backend_drops_output);
    tcase_add_test(tc, hostile_chains);
    tcase_add_test(tc, bad_ring_needs_reset);
    tcase_add_test(tc, bad_backend_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
