/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio devices as a guest driver sees them, through the real kvmemu:
 * tests/guests/vblk.c writes a pattern that the test then finds in the
 * host file; vrng.c reads entropy; vnet.c sends a frame that the test reads
 * from a tap in a network namespace it created, and receives one back.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvmemu_proc.h"

const bool test_needs_kvm = true;

#define SECTOR    512
#define DISK_SIZE (1 << 20)
#define ETH_TYPE  0x88b5

static uint8_t pattern(unsigned i)
{
    return (uint8_t)(i * 7 + 3 + (i >> 8));
}

static char *temp_path(const char *what)
{
    static char path[128];

    snprintf(path, sizeof(path), "/tmp/kvmstack-%s-%d", what, (int)getpid());
    return path;
}

START_TEST(blk_write_flush_read)
{
    char disk[128], log[128], disk_arg[192], serial_arg[160];
    uint8_t got[4096];
    struct emu e;
    int fd;

    snprintf(disk, sizeof(disk), "%s", temp_path("disk"));
    snprintf(log, sizeof(log), "%s", temp_path("vblk.log"));
    fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, DISK_SIZE), 0);
    snprintf(disk_arg, sizeof(disk_arg), "path=%s,serial=KVMSTACK-DISK-7", disk);
    snprintf(serial_arg, sizeof(serial_arg), "file:%s", log);
    emu_start(&e, &(struct emu_opts){ EMU_STDIN_NULL, false },
              (const char *const[]){ "--flat", emu_guest("vblk"), "--debug-exit", "--disk",
                                     disk_arg, "--serial", serial_arg, NULL });
    ck_assert_int_eq(emu_wait(&e, 60000), EMU_GUEST_OK);
    emu_cleanup(&e);

    /* The guest's log: capacity in sectors and the serial it was given. */
    {
        char text[4096] = { 0 };
        int lfd = open(log, O_RDONLY);

        ck_assert_int_ge(lfd, 0);
        ck_assert_int_gt(read(lfd, text, sizeof(text) - 1), 0);
        close(lfd);
        ck_assert_msg(strstr(text, "vblk capacity 00000800"), "%s", text);
        ck_assert_msg(strstr(text, "vblk id KVMSTACK-DISK-7"), "%s", text);
        ck_assert_msg(strstr(text, "vblk ok"), "%s", text);
    }
    /* The pattern is in the host file, at sector 8. */
    ck_assert_int_eq(pread(fd, got, sizeof(got), 8 * SECTOR), (ssize_t)sizeof(got));
    for (unsigned i = 0; i < sizeof(got); i++)
        ck_assert_msg(got[i] == pattern(i), "byte %u of sector 8 is 0x%02x, want 0x%02x", i, got[i],
                      pattern(i));
    /* And nothing else was written. */
    ck_assert_int_eq(pread(fd, got, SECTOR, 0), SECTOR);
    for (unsigned i = 0; i < SECTOR; i++)
        ck_assert_uint_eq(got[i], 0);
    close(fd);
    unlink(disk);
    unlink(log);
}
END_TEST

START_TEST(blk_readonly_disk_refuses_the_write)
{
    char disk[128], disk_arg[192];
    struct emu e;
    int fd, status;

    snprintf(disk, sizeof(disk), "%s", temp_path("rodisk"));
    fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, DISK_SIZE), 0);
    close(fd);
    snprintf(disk_arg, sizeof(disk_arg), "path=%s,readonly=on", disk);
    emu_start(&e, &(struct emu_opts){ EMU_STDIN_NULL, false },
              (const char *const[]){ "--flat", emu_guest("vblk"), "--debug-exit", "--disk",
                                     disk_arg, "--serial", "stdio", NULL });
    status = emu_wait(&e, 60000);
    /* The guest refuses a read-only disk when it negotiates (VIRTIO_BLK_F_RO). */
    ck_assert_msg(status == ((0x42 << 1) | 1), "status %d; guest said: %s", status, e.out.buf);
    ck_assert_msg(strstr(e.out.buf, "!(f & F_RO)"), "%s", e.out.buf);
    emu_cleanup(&e);
    unlink(disk);
}
END_TEST

START_TEST(rng_gives_entropy)
{
    struct emu e;

    emu_start(&e, &(struct emu_opts){ EMU_STDIN_NULL, false },
              (const char *const[]){ "--flat", emu_guest("vrng"), "--debug-exit", "--rng",
                                     "--serial", "stdio", NULL });
    ck_assert_int_eq(emu_wait(&e, 60000), EMU_GUEST_OK);
    ck_assert_msg(strstr(e.out.buf, "vrng ok"), "%s", e.out.buf);
    emu_cleanup(&e);
}
END_TEST

/* addr= places the device where mgmtd says (the last slot here), before
 * the devices placed automatically: the guest's scan finds it there. */
START_TEST(rng_in_a_named_slot)
{
    struct emu e;

    emu_start(&e, &(struct emu_opts){ EMU_STDIN_NULL, false },
              (const char *const[]){ "--flat", emu_guest("vrng"), "--debug-exit", "--rng=addr=0x1f",
                                     "--serial", "stdio", NULL });
    ck_assert_int_eq(emu_wait(&e, 60000), EMU_GUEST_OK);
    ck_assert_msg(strstr(e.out.buf, "vrng ok"), "%s", e.out.buf);
    emu_cleanup(&e);
}
END_TEST

/* Runs a command line through the shell, failing the test if it fails. */
__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    ck_assert_msg(rc == 0, "'%s' failed (%d)", cmd, rc);
}

/* An AF_PACKET socket on the tap, for our EtherType only. */
static int packet_socket(const char *ifname)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_TYPE) };
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TYPE));

    ck_assert_msg(s >= 0, "AF_PACKET: %s", strerror(errno));
    sll.sll_ifindex = (int)if_nametoindex(ifname);
    ck_assert_msg(sll.sll_ifindex > 0, "no interface %s", ifname);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
    return s;
}

/*
 * The namespace is made and removed by an unchecked fixture, in the runner
 * process, so that a failing test (a forked child) does not leave it
 * behind; its name is set before the fork.
 */
static char ns[64];

static void netns_setup(void)
{
    char cmd[256];

    snprintf(ns, sizeof(ns), "kvst%d", (int)getpid());
    snprintf(cmd, sizeof(cmd), "ip netns add %s", ns);
    if (system(cmd) != 0)
        ns[0] = '\0'; /* the test fails, saying so */
}

static void netns_teardown(void)
{
    char cmd[256];

    if (!ns[0])
        return;
    snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove the network namespace %s\n", ns);
}

START_TEST(net_frames_both_ways)
{
    static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    static const char pong[] = "kvmstack pong";
    char nspath[128];
    uint8_t frame[1600], reply[64];
    struct emu e;
    int nsfd, s;
    ssize_t n = -1;

    ck_assert_msg(ns[0], "'ip netns add' failed (iproute2 and root are needed)");
    sh("ip -n %s tuntap add dev ktap0 mode tap && ip -n %s link set ktap0 up && "
       "ip -n %s link set lo up",
       ns, ns, ns);
    /* This test process and kvmemu both live in the new namespace. */
    snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
    nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(nsfd, 0);
    ck_assert_msg(setns(nsfd, CLONE_NEWNET) == 0, "setns: %s", strerror(errno));
    close(nsfd);
    s = packet_socket("ktap0");

    emu_start(&e, &(struct emu_opts){ EMU_STDIN_NULL, false },
              (const char *const[]){ "--flat", emu_guest("vnet"), "--debug-exit", "--net",
                                     "tap,ifname=ktap0,mac=52:54:00:12:34:56", "--serial", "stdio",
                                     NULL });
    ck_assert_msg(emu_wait_out(&e, "vnet sent", 60000), "%s", e.out.buf);
    /* The guest's frame, as the tap delivered it to the host side. */
    for (int i = 0; i < 50; i++) {
        struct timeval tv = { 0, 100000 };

        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        n = recv(s, frame, sizeof(frame), 0);
        if (n > 14 && !memcmp(frame + 6, guest_mac, 6))
            break;
    }
    ck_assert_msg(n >= 14 + 14, "no frame from the guest (%zd)", n);
    ck_assert_mem_eq(frame, "\xff\xff\xff\xff\xff\xff", 6);
    ck_assert_uint_eq(frame[12] << 8 | frame[13], ETH_TYPE);
    ck_assert_msg(!memcmp(frame + 14, "kvmstack ping", 13), "payload '%.*s'", (int)(n - 14),
                  frame + 14);

    /* And one back to the guest. */
    memcpy(reply, guest_mac, 6);
    memcpy(reply + 6, "\x02\x00\x00\x00\x00\x01", 6);
    reply[12] = ETH_TYPE >> 8;
    reply[13] = ETH_TYPE & 0xff;
    memset(reply + 14, 0, sizeof(reply) - 14);
    memcpy(reply + 14, pong, sizeof(pong));
    ck_assert_int_eq(send(s, reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
    ck_assert_int_eq(emu_wait(&e, 60000), EMU_GUEST_OK);
    ck_assert_msg(strstr(e.out.buf, "vnet received kvmstack pong"), "%s", e.out.buf);
    emu_cleanup(&e);
    close(s);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("kvm-virtio");
    TCase *tc = tcase_create("virtio");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, blk_write_flush_read);
    tcase_add_test(tc, blk_readonly_disk_refuses_the_write);
    tcase_add_test(tc, rng_gives_entropy);
    tcase_add_test(tc, rng_in_a_named_slot);
    suite_add_tcase(s, tc);
    tc = tcase_create("net");
    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, netns_setup, netns_teardown);
    tcase_add_test(tc, net_frames_both_ways);
    suite_add_tcase(s, tc);
    return s;
}
