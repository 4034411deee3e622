/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net through tests/virtio/vdriver on a real tap. Each test runs in
 * a network namespace of its own (unshare in Check's forked child: nothing
 * outlives the test), where it creates the tap and watches the far side
 * with an AF_PACKET socket bound to it. These tests need root; without it
 * (or without /dev/net/tun) they fail and say why.
 *
 * Covered: features and config; frames both ways in every chain layout;
 * received frames waiting while the driver has no buffers, without the
 * device spinning; the tap refusing frames (EAGAIN, injected by wrapping
 * writev at link time: -Wl,--wrap=writev; EIO when the link is down;
 * EBADFD when the interface is deleted); hostile chains both ways; taps by
 * name and by descriptor, with and without a vnet header; every setup
 * error; resets. One test prints the transmit rate as a TAP comment.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "testutil.h"
#include "vdriver.h"
#include "virtio/devices.h"

const bool test_needs_kvm = false;

#define RAM       (64ull << 20)
#define ARENA     0x100000ull
#define RXQ       0
#define TXQ       1
#define HDR       12
#define ETH_TEST  0x88b5
#define TIMEOUT   5000
#define F_MAC     (1ull << VIRTIO_NET_F_MAC)
#define F_STATUS  (1ull << VIRTIO_NET_F_STATUS)
#define TAP_FLAGS (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR)

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- writev, wrapped: EAGAIN for the next `refuse` calls ---- */

ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n);

static int refuse, writevs;

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
    __atomic_fetch_add(&writevs, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&refuse, __ATOMIC_SEQ_CST) > 0) {
        __atomic_fetch_sub(&refuse, 1, __ATOMIC_SEQ_CST);
        errno = EAGAIN;
        return -1;
    }
    return __real_writev(fd, iov, n);
}

/* ---- fixture: a namespace, a log, guest RAM ---- */

static struct log_capture cap;
static struct kc_mem *mem;
static struct em_virtio_dev *vd;
static struct vdrv *drv;
static int tap_fd = -1, psock = -1;
static char tap_name[IFNAMSIZ];
static uint64_t rx_gpa[256], tx_gpa[256];

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);

    /* A kernel without IPv6 has no such file, and nothing to silence. */
    if (fd < 0 && errno == ENOENT)
        return;
    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void setup(void)
{
    ck_assert_msg(unshare(CLONE_NEWNET) == 0,
                  "cannot create a network namespace (unshare(CLONE_NEWNET)): %s; these tests "
                  "need root",
                  strerror(errno));
    /* No IPv6 chatter (router solicitations) on the taps. */
    write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, RAM, 0, "ram"));
    /* The device's closing summary (counters) is an INFO message. */
    cap.logger.max_level = KC_LOG_INFO;
    vd = NULL;
    drv = NULL;
    tap_fd = psock = -1;
}

static void teardown(void)
{
    em_virtio_destroy(vd);
    vdrv_destroy(drv);
    kc_mem_destroy(mem);
    if (tap_fd >= 0)
        close(tap_fd);
    if (psock >= 0)
        close(psock);
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

/* ---- the host side: the tap, its link, a packet socket ---- */

static int open_tap(short flags, const char *tmpl, char name[IFNAMSIZ])
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

    ck_assert_msg(fd >= 0, "cannot open /dev/net/tun: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tmpl);
    ifr.ifr_flags = flags;
    ck_assert_msg(ioctl(fd, TUNSETIFF, &ifr) == 0, "cannot create a tap: %s", strerror(errno));
    if (name)
        memcpy(name, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

static void link_set(const char *name, bool up)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(s, 0);
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strlen(name));
    ck_assert_msg(ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "%s: %s", name, strerror(errno));
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    ck_assert_msg(ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "%s: %s", name, strerror(errno));
    close(s);
}

/* A socket on the tap's host side that sees frames of our EtherType. */
static int packet_socket(const char *name)
{
    struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_TEST) };
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));
    int big = 4 << 20;

    ck_assert_msg(s >= 0, "AF_PACKET: %s", strerror(errno));
    sa.sll_ifindex = (int)if_nametoindex(name);
    ck_assert_int_gt(sa.sll_ifindex, 0);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    return s;
}

static ssize_t host_recv(uint8_t *buf, size_t n, int timeout_ms)
{
    struct pollfd p = { .fd = psock, .events = POLLIN };

    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    return recv(psock, buf, n, 0);
}

static void host_send(const uint8_t *frame, size_t len)
{
    struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_TEST) };

    sa.sll_ifindex = (int)if_nametoindex(tap_name);
    ck_assert_int_eq(sendto(psock, frame, len, 0, (struct sockaddr *)&sa, sizeof(sa)),
                     (ssize_t)len);
}

/* A test frame: broadcast, from the guest's MAC, our EtherType, then
 * `seq` and a pattern. */
static void build_frame(uint8_t *f, size_t len, uint32_t seq)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, mac, 6);
    f[12] = ETH_TEST >> 8;
    f[13] = ETH_TEST & 0xff;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 13 + seq);
    if (len >= 18)
        memcpy(f + 14, &seq, 4);
}

/* ---- the device ---- */

static struct em_virtio_dev *create(const char *ifname, int fd)
{
    struct em_vdev_env env = { .mem = mem, .log = &cap.logger };
    struct em_net_spec spec = { .ifname = ifname, .fd = fd };

    memcpy(spec.mac, mac, 6);
    return em_vnet_create(&env, &spec);
}

/* A namespace tap (flags), up, the device on it, a packet socket. */
static void make_device(short flags)
{
    tap_fd = open_tap(flags, "vnt%d", tap_name);
    link_set(tap_name, true);
    vd = create(NULL, tap_fd);
    ck_assert_msg(vd, "%s", cap.text);
    psock = packet_socket(tap_name);
    drv = vdrv_create(mem, ARENA, RAM - ARENA);
    vdrv_attach_core(drv, vd);
    ck_assert_int_eq(em_virtio_start(vd), 0);
}

static void bring_up(bool event_idx)
{
    uint64_t want = EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_INDIRECT_DESC | F_MAC | F_STATUS |
                    (event_idx ? EM_VIRTIO_F_EVENT_IDX : 0);

    ck_assert_uint_eq(vdrv_negotiate(drv, want), want);
    ck_assert_int_eq(vdrv_setup_queue(drv, RXQ, 0, event_idx), 0);
    ck_assert_int_eq(vdrv_setup_queue(drv, TXQ, 0, event_idx), 0);
    vdrv_driver_ok(drv);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
}

/* Chain layouts for a header + frame. */
enum layout {
    ONE_PIECE,   /* header and frame in one buffer */
    HDR_SPLIT,   /* 5 + 7 header bytes, then the frame */
    MANY_PIECES, /* nine pieces, cut anywhere */
    INDIRECT,    /* header, frame, through an indirect table */
};

/* Queues header + frame on the transmit queue; returns the head. */
static int tx_add(const void *hdr, size_t hdr_len, const uint8_t *frame, size_t len,
                  enum layout how)
{
    size_t total = hdr_len + len;
    uint64_t gpa = vdrv_alloc(drv, total ? total : 1, 16);
    uint8_t *p = vdrv_host(drv, gpa, total ? total : 1);
    struct vdrv_buf b[9];
    unsigned n = 0;
    int h;

    ck_assert_uint_ne(gpa, 0);
    memcpy(p, hdr, hdr_len);
    memcpy(p + hdr_len, frame, len);
    switch (how) {
    case ONE_PIECE:
        b[n++] = (struct vdrv_buf){ gpa, (uint32_t)total, false };
        break;
    case HDR_SPLIT:
        b[n++] = (struct vdrv_buf){ gpa, 5, false };
        b[n++] = (struct vdrv_buf){ gpa + 5, 7, false };
        b[n++] = (struct vdrv_buf){ gpa + 12, (uint32_t)(total - 12), false };
        break;
    case MANY_PIECES:
        for (size_t at = 0; n < 9; n++) {
            size_t k = n == 8 ? total - at : (total / 9) + (n % 3);

            b[n] = (struct vdrv_buf){ gpa + at, (uint32_t)k, false };
            at += k;
        }
        break;
    case INDIRECT:
        b[n++] = (struct vdrv_buf){ gpa, (uint32_t)hdr_len, false };
        b[n++] = (struct vdrv_buf){ gpa + hdr_len, (uint32_t)len, false };
        break;
    }
    h = vdrv_add(drv, TXQ, b, n, how == INDIRECT);
    ck_assert_int_ge(h, 0);
    return h;
}

/* Kicks the transmit queue and waits for `head` to come back. */
static void tx_wait(int head)
{
    uint16_t h;
    uint32_t len = 1;

    vdrv_kick(drv, TXQ);
    ck_assert_msg(vdrv_wait_used(drv, TXQ, TIMEOUT, &h, &len), "transmit chain not returned: %s",
                  cap.text);
    ck_assert_uint_eq(h, (uint16_t)head);
    ck_assert_uint_eq(len, 0);
}

/* Sends one frame and checks it arrives on the host side, intact. */
static void tx_check(size_t len, uint32_t seq, enum layout how)
{
    static uint8_t frame[2048], got[2048];
    struct virtio_net_hdr_v1 hdr;
    ssize_t n;

    memset(&hdr, 0, sizeof(hdr));
    build_frame(frame, len, seq);
    tx_wait(tx_add(&hdr, HDR, frame, len, how));
    n = host_recv(got, sizeof(got), TIMEOUT);
    ck_assert_int_eq(n, (ssize_t)len);
    ck_assert_int_eq(memcmp(got, frame, len), 0);
}

/* Posts a receive chain of `pieces` writable buffers, `size` bytes in all. */
static int rx_post(uint32_t size, unsigned pieces, bool kick)
{
    uint64_t gpa = vdrv_alloc(drv, size, 16);
    struct vdrv_buf b[4];
    uint32_t at = 0;
    int h;

    ck_assert_uint_le(pieces, 4);
    memset(vdrv_host(drv, gpa, size), 0xee, size);
    for (unsigned i = 0; i < pieces; i++) {
        /* The first piece is 5 bytes when split three ways: a header cut. */
        uint32_t k = i + 1 == pieces ? size - at : pieces == 3 && i == 0 ? 5 : HDR - at;

        b[i] = (struct vdrv_buf){ gpa + at, k, true };
        at += k;
    }
    h = vdrv_add(drv, RXQ, b, pieces, false);
    ck_assert_int_ge(h, 0);
    rx_gpa[h] = gpa;
    if (kick)
        vdrv_kick(drv, RXQ);
    return h;
}

/* Waits for a received frame; checks the header; returns the frame. */
static uint8_t *rx_wait(uint32_t *frame_len, int expect_head)
{
    struct virtio_net_hdr_v1 hdr, want;
    uint16_t head;
    uint32_t len;
    uint8_t *p;

    ck_assert_msg(vdrv_wait_used(drv, RXQ, TIMEOUT, &head, &len), "no frame received: %s",
                  cap.text);
    if (expect_head >= 0)
        ck_assert_uint_eq(head, (uint16_t)expect_head);
    ck_assert_uint_gt(len, HDR);
    p = vdrv_host(drv, rx_gpa[head], len);
    memcpy(&hdr, p, HDR);
    memset(&want, 0, sizeof(want));
    want.num_buffers = 1;
    ck_assert_int_eq(memcmp(&hdr, &want, HDR), 0);
    *frame_len = len - HDR;
    return p + HDR;
}

static void rx_check(size_t len, uint32_t seq, int head)
{
    static uint8_t frame[2048];
    uint32_t got_len;
    uint8_t *got;

    build_frame(frame, len, seq);
    host_send(frame, len);
    got = rx_wait(&got_len, head);
    ck_assert_uint_eq(got_len, len);
    ck_assert_int_eq(memcmp(got, frame, len), 0);
}

/* Destroys the device now, so that its closing summary is in the log. */
static void destroy_device(void)
{
    em_virtio_destroy(vd);
    vd = NULL;
}

/* ---- tests ---- */

START_TEST(features_and_config)
{
    uint64_t f;
    uint8_t cfg[12];
    uint16_t v;

    make_device(TAP_FLAGS);
    f = em_virtio_device_features(vd);
    ck_assert(f & F_MAC);
    ck_assert(f & F_STATUS);
    ck_assert(f & EM_VIRTIO_F_VERSION_1);
    /* No offloads, no mergeable buffers, no control queue, one pair. */
    ck_assert_uint_eq(f & ~(F_MAC | F_STATUS | EM_VIRTIO_F_VERSION_1 | EM_VIRTIO_F_EVENT_IDX |
                            EM_VIRTIO_F_INDIRECT_DESC),
                      0);
    bring_up(false);
    vdrv_config_read(drv, 0, cfg, 10);
    ck_assert_int_eq(memcmp(cfg, mac, 6), 0);
    memcpy(&v, cfg + 6, 2);
    ck_assert_uint_eq(v, VIRTIO_NET_S_LINK_UP);
    memcpy(&v, cfg + 8, 2);
    ck_assert_uint_eq(v, 1);           /* max_virtqueue_pairs */
    vdrv_config_read(drv, 10, cfg, 2); /* mtu: not offered */
    ck_assert_uint_eq(cfg[0], 0xff);
    /* The MAC is read-only in VERSION_1. */
    vdrv_config_write(drv, 0, "\x02\x00\x00\x00\x00\x01", 6);
    vdrv_config_read(drv, 0, cfg, 6);
    ck_assert_int_eq(memcmp(cfg, mac, 6), 0);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(tx_reaches_the_tap)
{
    make_device(TAP_FLAGS);
    bring_up(false);
    tx_check(60, 1, ONE_PIECE);
    tx_check(1514, 2, HDR_SPLIT);
    tx_check(777, 3, MANY_PIECES);
    tx_check(1514, 4, INDIRECT);
    tx_check(14, 5, ONE_PIECE); /* an Ethernet header alone */
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(rx_reaches_the_guest)
{
    make_device(TAP_FLAGS);
    bring_up(false);
    rx_check(60, 1, rx_post(HDR + 1514, 1, true));
    /* Header and frame in separate buffers, as some drivers post them. */
    rx_check(1514, 2, rx_post(HDR + 1514, 2, true));
    /* A header cut in two. */
    rx_check(333, 3, rx_post(HDR + 1514, 3, true));
    /* A frame that fills the buffer exactly. */
    rx_check(100, 4, rx_post(HDR + 100, 1, true));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(rx_waits_for_buffers_without_spinning)
{
    static uint8_t frame[200];
    uint16_t head;
    uint32_t len;
    double cpu0, t0, cpu, elapsed;
    uint8_t *got;

    make_device(TAP_FLAGS);
    bring_up(false);
    build_frame(frame, sizeof(frame), 7);
    host_send(frame, sizeof(frame)); /* nowhere to go yet */
    t0 = now_ms();
    cpu0 = cpu_ms();
    usleep(200 * 1000);
    cpu = cpu_ms() - cpu0;
    elapsed = now_ms() - t0;
    ck_assert_msg(cpu < 30, "%.1f ms of CPU in %.0f ms with a frame waiting", cpu, elapsed);
    ck_assert(!vdrv_poll_used(drv, RXQ, &head, &len));
    /* A buffer and a kick: the frame that waited arrives. */
    rx_post(HDR + 1514, 1, true);
    got = rx_wait(&len, -1);
    ck_assert_uint_eq(len, sizeof(frame));
    ck_assert_int_eq(memcmp(got, frame, sizeof(frame)), 0);
    /* And again once the ring ran dry a second time. */
    usleep(20 * 1000);
    rx_check(61, 8, rx_post(HDR + 1514, 1, true));
}
END_TEST

START_TEST(tx_throughput)
{
    enum { FRAMES = 20000, WINDOW = 256, LEN = 1514 };
    static uint8_t frame[LEN];
    struct virtio_net_hdr_v1 hdr;
    unsigned sent = 0, done = 0;
    double t0, secs;

    make_device(TAP_FLAGS);
    bring_up(true);
    memset(&hdr, 0, sizeof(hdr));
    build_frame(frame, LEN, 0);
    /* One buffer per descriptor slot, reused. */
    for (unsigned i = 0; i < WINDOW; i++) {
        tx_gpa[i] = vdrv_alloc(drv, HDR + LEN, 16);
        memcpy(vdrv_host(drv, tx_gpa[i], HDR), &hdr, HDR);
        memcpy(vdrv_host(drv, tx_gpa[i] + HDR, LEN), frame, LEN);
    }
    t0 = now_ms();
    while (done < FRAMES) {
        uint16_t head;
        uint32_t len;
        unsigned added = 0;

        while (sent < FRAMES && sent - done < WINDOW) {
            struct vdrv_buf b = { tx_gpa[sent % WINDOW], HDR + LEN, false };

            ck_assert_int_ge(vdrv_add(drv, TXQ, &b, 1, false), 0);
            sent++;
            added++;
        }
        if (added)
            vdrv_kick(drv, TXQ);
        ck_assert_msg(vdrv_wait_used(drv, TXQ, TIMEOUT, &head, &len), "stalled at %u", done);
        done++;
        while (vdrv_poll_used(drv, TXQ, &head, &len))
            done++;
    }
    secs = (now_ms() - t0) / 1e3;
    printf("# virtio-net tx: %u frames of %u bytes in %.3f s: %.0f frames/s, %.0f Mbit/s\n", FRAMES,
           LEN, secs, FRAMES / secs, FRAMES * LEN * 8 / secs / 1e6);
    fflush(stdout);
    destroy_device();
    ck_assert_msg(log_has(&cap, "20000 frames sent"), "%s", cap.text);
}
END_TEST

START_TEST(tx_eagain_keeps_the_frame)
{
    static uint8_t frame[5][100], got[200];
    struct virtio_net_hdr_v1 hdr;
    int heads[5];

    make_device(TAP_FLAGS);
    bring_up(false);
    memset(&hdr, 0, sizeof(hdr));
    for (uint32_t i = 0; i < 5; i++)
        build_frame(frame[i], 100, 100 + i);
    __atomic_store_n(&writevs, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&refuse, 3, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 5; i++)
        heads[i] = tx_add(&hdr, HDR, frame[i], 100, ONE_PIECE);
    vdrv_kick(drv, TXQ);
    for (int i = 0; i < 5; i++)
        tx_wait(heads[i]);
    /* Each refusal cost one more try, when the tap had room: no frame
     * lost, none sent twice, in order. */
    ck_assert_int_eq(__atomic_load_n(&writevs, __ATOMIC_SEQ_CST), 5 + 3);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(host_recv(got, sizeof(got), TIMEOUT), 100);
        ck_assert_int_eq(memcmp(got, frame[i], 100), 0);
    }
    ck_assert_int_eq(host_recv(got, sizeof(got), 100), -1);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(tx_while_the_link_is_down)
{
    static uint8_t frame[100];
    struct virtio_net_hdr_v1 hdr;
    int last = -1;

    make_device(TAP_FLAGS);
    bring_up(false);
    link_set(tap_name, false);
    memset(&hdr, 0, sizeof(hdr));
    build_frame(frame, sizeof(frame), 1);
    /* The kernel refuses every frame (EIO): each is dropped and returned. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 100; i++)
            last = tx_add(&hdr, HDR, frame, sizeof(frame), ONE_PIECE);
        vdrv_kick(drv, TXQ);
        for (int i = 0; i < 100; i++) {
            uint16_t head;
            uint32_t len;

            ck_assert(vdrv_wait_used(drv, TXQ, TIMEOUT, &head, &len));
        }
    }
    (void)last;
    ck_assert_msg(log_has(&cap, "virtio-net vnt0: dropped a frame the tap refused: Input/output "
                                "error; further ones are only counted"),
                  "%s", cap.text);
    ck_assert_uint_eq(cap.count, 1);
    /* Up again: frames flow. (The packet socket saw the link go down:
     * a new one.) */
    link_set(tap_name, true);
    close(psock);
    psock = packet_socket(tap_name);
    tx_check(100, 2, ONE_PIECE);
    destroy_device();
    ck_assert_msg(log_has(&cap, "1 frames sent, 0 received; dropped 300 to send"), "%s", cap.text);
}
END_TEST

START_TEST(hostile_tx)
{
    static uint8_t frame[70000], got[2048];
    struct virtio_net_hdr_v1 hdr;

    make_device(TAP_FLAGS);
    bring_up(false);
    memset(&hdr, 0, sizeof(hdr));
    build_frame(frame, sizeof(frame), 9);
    /* Shorter than the header. */
    tx_wait(tx_add(&hdr, 8, frame, 0, ONE_PIECE));
    /* A header and 10 bytes: no Ethernet header. */
    tx_wait(tx_add(&hdr, HDR, frame, 10, ONE_PIECE));
    /* 65551 bytes of frame. */
    tx_wait(tx_add(&hdr, HDR, frame, 65551, ONE_PIECE));
    /* Segmentation without GSO negotiated; a checksum without CSUM. */
    hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.gso_size = 1448;
    tx_wait(tx_add(&hdr, HDR, frame, 1514, ONE_PIECE));
    memset(&hdr, 0, sizeof(hdr));
    hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    hdr.csum_start = 34;
    hdr.csum_offset = 6;
    tx_wait(tx_add(&hdr, HDR, frame, 1514, HDR_SPLIT));
    /* None of them reached the tap. */
    ck_assert_int_eq(host_recv(got, sizeof(got), 100), -1);
    /* A flag bit with no meaning for transmission is ignored (5.1.6.2.2). */
    memset(&hdr, 0, sizeof(hdr));
    hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    build_frame(frame, 200, 10);
    tx_wait(tx_add(&hdr, HDR, frame, 200, ONE_PIECE));
    ck_assert_int_eq(host_recv(got, sizeof(got), TIMEOUT), 200);
    ck_assert_int_eq(memcmp(got, frame, 200), 0);
    /* The device goes on, and told each kind of drop once. */
    tx_check(1514, 11, MANY_PIECES);
    tx_wait(tx_add(&hdr, 8, frame, 0, ONE_PIECE));
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    ck_assert_msg(log_has(&cap, "dropped a transmit chain shorter than the 12-byte header"), "%s",
                  cap.text);
    ck_assert(log_has(&cap, "dropped a transmitted frame shorter than an Ethernet header"));
    ck_assert(log_has(&cap, "dropped a transmitted frame over 65550 bytes"));
    ck_assert(log_has(&cap, "dropped a transmitted frame asking for a checksum or segmentation"));
    ck_assert_uint_eq(cap.count, 4);
    destroy_device();
    ck_assert_msg(log_has(&cap, "2 frames sent, 0 received; dropped 6 to send (short 2, runt 1, "
                                "oversized 1, offload 2, pieces 0, tap 0)"),
                  "%s", cap.text);
}
END_TEST

START_TEST(hostile_rx)
{
    static uint8_t frame[1000];
    uint16_t head;
    uint32_t len;
    int tiny, small, ro;
    uint64_t out;

    make_device(TAP_FLAGS);
    bring_up(false);
    /* A chain too small for a header and an Ethernet header comes back
     * empty; the frame goes to the next chain. */
    tiny = rx_post(HDR + 13, 1, false);
    rx_post(HDR + 1514, 1, true);
    build_frame(frame, 60, 1);
    host_send(frame, 60);
    ck_assert(vdrv_wait_used(drv, RXQ, TIMEOUT, &head, &len));
    ck_assert_uint_eq(head, (uint16_t)tiny);
    ck_assert_uint_eq(len, 0);
    {
        uint32_t n;
        uint8_t *got = rx_wait(&n, -1);

        ck_assert_uint_eq(n, 60);
        ck_assert_int_eq(memcmp(got, frame, 60), 0);
    }
    /* A frame larger than the chain at hand: dropped, the chain kept for
     * the next frame that fits. */
    small = rx_post(HDR + 100, 1, true);
    build_frame(frame, sizeof(frame), 2);
    host_send(frame, sizeof(frame));
    usleep(50 * 1000);
    ck_assert(!vdrv_poll_used(drv, RXQ, &head, &len));
    rx_check(100, 3, small);
    /* A chain with a readable part first: that part is left alone. */
    out = vdrv_alloc(drv, 16, 16);
    memset(vdrv_host(drv, out, 16), 0x5a, 16);
    {
        uint64_t in = vdrv_alloc(drv, HDR + 1514, 16);
        struct vdrv_buf b[2] = { { out, 16, false }, { in, HDR + 1514, true } };

        ro = vdrv_add(drv, RXQ, b, 2, false);
        ck_assert_int_ge(ro, 0);
        rx_gpa[ro] = in;
        vdrv_kick(drv, RXQ);
    }
    rx_check(80, 4, ro);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(((uint8_t *)vdrv_host(drv, out, 16))[i], 0x5a);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    ck_assert(log_has(&cap, "dropped a receive chain that cannot hold a frame"));
    ck_assert(log_has(&cap, "dropped a received frame larger than the receive chain"));
    ck_assert_uint_eq(cap.count, 2);
    destroy_device();
    ck_assert_msg(log_has(&cap, "0 frames sent, 3 received; dropped 0 to send (short 0, runt 0, "
                                "oversized 0, offload 0, pieces 0, tap 0), 2 received (empty "
                                "buffers 1, oversized 1, runt 0, offload 0)"),
                  "%s", cap.text);
}
END_TEST

START_TEST(tap_by_name)
{
    char name[IFNAMSIZ];

    snprintf(name, sizeof(name), "vnettest%d", getpid() % 1000);
    vd = create(name, -1);
    ck_assert_msg(vd, "%s", cap.text);
    /* The device created it. */
    ck_assert_uint_gt(if_nametoindex(name), 0);
    memcpy(tap_name, name, sizeof(name));
    link_set(name, true);
    psock = packet_socket(name);
    drv = vdrv_create(mem, ARENA, RAM - ARENA);
    vdrv_attach_core(drv, vd);
    ck_assert_int_eq(em_virtio_start(vd), 0);
    bring_up(true);
    tx_check(300, 1, ONE_PIECE);
    rx_check(300, 2, rx_post(HDR + 1514, 1, true));
    ck_assert_uint_eq(cap.count, 0);
    /* Not persistent: it goes with the device. */
    close(psock);
    psock = -1;
    destroy_device();
    ck_assert_uint_eq(if_nametoindex(name), 0);
}
END_TEST

START_TEST(tap_without_vnet_header)
{
    make_device(IFF_TAP | IFF_NO_PI);
    bring_up(false);
    tx_check(1514, 1, HDR_SPLIT);
    tx_check(61, 2, INDIRECT);
    rx_check(1514, 3, rx_post(HDR + 1514, 1, true));
    rx_check(70, 4, rx_post(HDR + 1514, 2, true));
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(bad_names)
{
    ck_assert_ptr_null(create("a-name-much-too-long", -1));
    ck_assert_msg(log_has(&cap, "net: 'a-name-much-too-long' is not an interface name (1 to 15 "
                                "bytes)"),
                  "%s", cap.text);
    ck_assert_ptr_null(create("", -1));
    ck_assert(log_has(&cap, "net: '' is not an interface name"));
    /* An interface that is not a tap. */
    ck_assert_ptr_null(create("lo", -1));
    ck_assert_msg(log_has(&cap, "net lo: cannot attach to the tap device: Invalid argument"), "%s",
                  cap.text);
    ck_assert_uint_eq(cap.count, 3);
}
END_TEST

START_TEST(bad_descriptors)
{
    char msg[160];
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int unattached = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    int tun = open_tap(IFF_TUN | IFF_NO_PI, "vntun%d", NULL);
    int closed = dup(null_fd);

    close(closed);
    ck_assert_ptr_null(create(NULL, null_fd));
    snprintf(msg, sizeof(msg), "net fd=%d: not a tap device: TUNGETIFF does not apply to it",
             null_fd);
    ck_assert_msg(log_has(&cap, msg), "%s", cap.text);
    ck_assert_ptr_null(create(NULL, unattached));
    snprintf(msg, sizeof(msg),
             "net fd=%d: not a tap device: a /dev/net/tun descriptor attached to no interface",
             unattached);
    ck_assert_msg(log_has(&cap, msg), "%s", cap.text);
    ck_assert_ptr_null(create(NULL, tun));
    snprintf(msg, sizeof(msg), "net fd=%d (vntun0): a TUN (IP) device, not a TAP", tun);
    ck_assert_msg(log_has(&cap, msg), "%s", cap.text);
    ck_assert_ptr_null(create(NULL, closed));
    snprintf(msg, sizeof(msg), "net fd=%d: not a tap device: Bad file descriptor", closed);
    ck_assert_msg(log_has(&cap, msg), "%s", cap.text);
    ck_assert_uint_eq(cap.count, 4);
    /* The caller's descriptors are still the caller's. */
    ck_assert_int_eq(fcntl(null_fd, F_GETFD), FD_CLOEXEC);
    ck_assert_int_eq(fcntl(tun, F_GETFD), FD_CLOEXEC);
    close(null_fd);
    close(unattached);
    close(tun);
}
END_TEST

START_TEST(tap_deleted_under_the_device)
{
    static uint8_t frame[100];
    struct virtio_net_hdr_v1 hdr;
    char cmd[64];
    unsigned irqs;
    double cpu0;
    uint16_t v;

    make_device(TAP_FLAGS);
    bring_up(false);
    rx_post(HDR + 1514, 1, true);
    tx_check(100, 1, ONE_PIECE);
    irqs = vdrv_config_interrupts(drv);
    close(psock);
    psock = -1;
    snprintf(cmd, sizeof(cmd), "ip link del %s", tap_name);
    ck_assert_msg(system(cmd) == 0, "'%s' failed (is iproute2 installed?)", cmd);
    /* The next frame finds the tap gone: the link goes down. */
    memset(&hdr, 0, sizeof(hdr));
    build_frame(frame, sizeof(frame), 2);
    tx_wait(tx_add(&hdr, HDR, frame, sizeof(frame), ONE_PIECE));
    for (int i = 0; i < 500 && vdrv_config_interrupts(drv) == irqs; i++)
        usleep(2000);
    ck_assert_uint_eq(vdrv_config_interrupts(drv), irqs + 1);
    vdrv_config_read(drv, 6, &v, 2);
    ck_assert_uint_eq(v, 0);
    /* Whichever noticed first: the poll error (a read) or the frame. */
    ck_assert_msg(log_has(&cap, "the tap: File descriptor in bad state; the link is down"), "%s",
                  cap.text);
    ck_assert(log_has(&cap, "virtio-net vnt0: cannot write to the tap") ||
              log_has(&cap, "virtio-net vnt0: cannot read from the tap"));
    /* A dead descriptor polls as an error forever: the device must not
     * spin on it. Frames sent meanwhile come back. */
    cpu0 = cpu_ms();
    for (int i = 0; i < 20; i++) {
        tx_wait(tx_add(&hdr, HDR, frame, sizeof(frame), ONE_PIECE));
        usleep(10 * 1000);
    }
    ck_assert_msg(cpu_ms() - cpu0 < 40, "%.1f ms of CPU in 200 ms", cpu_ms() - cpu0);
    ck_assert_uint_eq(cap.count, 2); /* the error, and the first dropped frame */
}
END_TEST

START_TEST(reset_with_chains_held)
{
    static uint8_t frame[1000];
    struct virtio_net_hdr_v1 hdr;

    make_device(TAP_FLAGS);
    bring_up(false);
    /* A receive chain kept after a frame too large for it, and a frame
     * the tap refused, are both held when the driver resets. */
    rx_post(HDR + 100, 1, true);
    build_frame(frame, sizeof(frame), 1);
    host_send(frame, sizeof(frame));
    usleep(50 * 1000);
    memset(&hdr, 0, sizeof(hdr));
    __atomic_store_n(&refuse, 1000000, __ATOMIC_SEQ_CST);
    tx_add(&hdr, HDR, frame, 100, ONE_PIECE);
    vdrv_kick(drv, TXQ);
    usleep(50 * 1000);
    /* (Released with the reset: ASan's leak check would say otherwise.) */
    bring_up(false);
    __atomic_store_n(&refuse, 0, __ATOMIC_SEQ_CST);
    tx_check(100, 2, ONE_PIECE);
    rx_check(100, 3, rx_post(HDR + 1514, 1, true));
}
END_TEST

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *p = vdrv_host(drv, table + 16ull * i, 16);

    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

/*
 * Makes by hand, as the first chain of a fresh queue q, a legal chain of
 * 1279 buffers: a 12-byte one, 254 one-byte ones, then an indirect table
 * of 1024 more. Kicks, and returns the length the device reports.
 */
static uint32_t huge_chain(unsigned q, bool write)
{
    uint16_t f = write ? VRING_DESC_F_WRITE : 0, zero = 0, one = 1, idx;
    uint64_t data = vdrv_alloc(drv, 4096, 16), table = vdrv_alloc(drv, 16 * 1024, 16);
    struct vdrv_rings r;
    uint32_t len;

    vdrv_rings(drv, q, &r);
    ck_assert_uint_eq(r.size, 256);
    put_desc(r.desc, 0, data, HDR, f | VRING_DESC_F_NEXT, 1);
    for (unsigned i = 1; i < 255; i++)
        put_desc(r.desc, i, data + HDR + i, 1, f | VRING_DESC_F_NEXT, (uint16_t)(i + 1));
    put_desc(r.desc, 255, table, 16 * 1024, VRING_DESC_F_INDIRECT, 0);
    for (unsigned j = 0; j < 1024; j++)
        put_desc(table, j, data + 300 + j, 1, f | (j < 1023 ? VRING_DESC_F_NEXT : 0),
                 (uint16_t)(j + 1));
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 4, &zero, 2), 0);
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 2, &one, 2), 0);
    vdrv_kick(drv, q);
    for (int i = 0; i < 2500; i++) {
        ck_assert_int_eq(kc_mem_read(mem, r.used + 2, &idx, 2), 0);
        if (idx == 1)
            break;
        usleep(2000);
    }
    ck_assert_msg(idx == 1, "chain not returned: %s", cap.text);
    ck_assert_int_eq(kc_mem_read(mem, r.used + 8, &len, 4), 0);
    return len;
}

START_TEST(chains_in_too_many_pieces)
{
    static uint8_t got[2048], frame[100];

    make_device(TAP_FLAGS);
    bring_up(false);
    /* 1278 pieces of frame: more than a writev takes. Dropped. */
    ck_assert_uint_eq(huge_chain(TXQ, false), 0);
    ck_assert_int_eq(host_recv(got, sizeof(got), 100), -1);
    ck_assert_msg(log_has(&cap, "dropped a transmit chain in more pieces than a writev takes"),
                  "%s", cap.text);
    /* A receive chain like it cannot be read into: given back empty when
     * a frame comes, which waits for a chain that can take it. */
    build_frame(frame, 100, 50);
    host_send(frame, 100);
    ck_assert_uint_eq(huge_chain(RXQ, true), 0);
    ck_assert_msg(log_has(&cap, "dropped a receive chain that cannot hold a frame"), "%s",
                  cap.text);
    ck_assert_uint_eq(vdrv_status(drv), 0x0f);
    /* The driver's bookkeeping is behind; a reset, and frames flow, the
     * one that waited first. */
    bring_up(false);
    rx_post(HDR + 1514, 1, true);
    {
        uint32_t n;
        uint8_t *p = rx_wait(&n, -1);

        ck_assert_uint_eq(n, 100);
        ck_assert_int_eq(memcmp(p, frame, 100), 0);
    }
    tx_check(100, 1, ONE_PIECE);
    rx_check(100, 2, rx_post(HDR + 1514, 1, true));
}
END_TEST

START_TEST(bad_ring_needs_reset)
{
    struct vdrv_rings r;
    uint16_t v = 999;
    double cpu0;

    make_device(TAP_FLAGS);
    bring_up(false);
    vdrv_rings(drv, TXQ, &r);
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 4, &v, 2), 0);
    v = 1;
    ck_assert_int_eq(kc_mem_write(mem, r.avail + 2, &v, 2), 0);
    vdrv_kick(drv, TXQ);
    for (int i = 0; i < 500 && !(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET); i++)
        usleep(2000);
    ck_assert(vdrv_status(drv) & EM_VIRTIO_S_NEEDS_RESET);
    ck_assert_msg(log_has(&cap, "virtio-net: the driver broke the rules (queue 1: available entry "
                                "0 names descriptor 999"),
                  "%s", cap.text);
    /* Frames arriving meanwhile are not read (nor spun on). */
    cpu0 = cpu_ms();
    {
        static uint8_t frame[100];

        build_frame(frame, sizeof(frame), 1);
        host_send(frame, sizeof(frame));
        usleep(100 * 1000);
    }
    ck_assert_msg(cpu_ms() - cpu0 < 30, "%.1f ms of CPU", cpu_ms() - cpu0);
    /* A reset, and it works again. */
    bring_up(false);
    tx_check(100, 2, ONE_PIECE);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_net");
    TCase *tc = tcase_create("net");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, features_and_config);
    tcase_add_test(tc, tx_reaches_the_tap);
    tcase_add_test(tc, rx_reaches_the_guest);
    tcase_add_test(tc, rx_waits_for_buffers_without_spinning);
    tcase_add_test(tc, tx_throughput);
    tcase_add_test(tc, tx_eagain_keeps_the_frame);
    tcase_add_test(tc, tx_while_the_link_is_down);
    tcase_add_test(tc, hostile_tx);
    tcase_add_test(tc, hostile_rx);
    tcase_add_test(tc, tap_by_name);
    tcase_add_test(tc, tap_without_vnet_header);
    tcase_add_test(tc, bad_names);
    tcase_add_test(tc, bad_descriptors);
    tcase_add_test(tc, tap_deleted_under_the_device);
    tcase_add_test(tc, reset_with_chains_held);
    tcase_add_test(tc, chains_in_too_many_pieces);
    tcase_add_test(tc, bad_ring_needs_reset);
    suite_add_tcase(s, tc);
    return s;
}
