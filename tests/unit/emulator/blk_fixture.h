/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the virtio-blk tests share: guest RAM, a disk file in /tmp filled
 * with a known pattern, the device on the engine a test asks for, driven
 * through tests/virtio/vdriver on the device's core, and requests built
 * in guest memory as a driver would.
 */
#ifndef BLK_FIXTURE_H
#define BLK_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "testutil.h"
#include "vdriver.h"
#include "virtio/blk.h"

#define BF_RAM     (64ull << 20)
#define BF_ARENA   0x100000ull
#define BF_SECTORS 8192ull /* a 4 MiB disk */
#define BF_TIMEOUT 10000
#define BF_F(bit)  (1ull << (bit))

extern struct log_capture bf_cap;
extern struct kc_mem *bf_mem;
extern struct vdrv *bf_drv;
extern struct em_virtio_dev *bf_vd;
extern struct em_vblk *bf_blk;
extern char bf_path[64]; /* the disk file */
extern int bf_fd;        /* the test's own descriptor on it */

/* The fixture: RAM, and a disk file whose byte i is bf_pattern(i). */
void bf_setup(void);
void bf_teardown(void);
uint8_t bf_pattern(uint64_t i);
/* The index of the first byte of p[0..n) unlike the disk's bytes from
 * offset off, or n (one assertion per buffer: see first_byte_not()). */
uint64_t bf_first_unlike_pattern(const void *p, uint64_t n, uint64_t off);

struct bf_dev {
    enum em_vblk_engine engine;
    bool readonly, cache_none;
    const char *serial;
    bool use_fd; /* pass `fd` instead of the path */
    int fd;
    struct em_vblk_opts *opts; /* overrides engine */
};

/* Creates and starts the device (asserting it worked). */
void bf_start(const struct bf_dev *c);
/* The engine a loop test's index stands for: 0 io_uring, 1 the pool. */
enum em_vblk_engine bf_engine(int i);
/* Negotiates `features` (0: everything offered) and VERSION_1, sets up the
 * queue (256 entries) and DRIVER_OK. Returns what was negotiated. */
uint64_t bf_bring_up(uint64_t features);

/* Guest memory. */
uint64_t bf_alloc(uint64_t len, uint64_t align);
void *bf_host(uint64_t gpa, uint64_t len);
void bf_fill(void *p, uint64_t len, unsigned seed);

/* A request: header, data (device-writable for `in`) and a status byte
 * preset to 0xee, as three descriptors. */
struct bf_req {
    uint64_t hdr, data, status;
    uint32_t len;
    bool in;
    int head;
};
struct bf_req bf_req(uint32_t type, uint64_t sector, uint32_t len, bool in);
/* Makes it available (not kicked); returns the head. */
int bf_add(struct bf_req *r);
uint8_t bf_status(const struct bf_req *r);
/* Adds, kicks, waits for its completion; *used_len if not NULL. Returns
 * the status byte. */
uint8_t bf_do(struct bf_req *r, uint32_t *used_len);
/* Waits for n completions in any order. */
void bf_wait(unsigned n, uint16_t *heads, uint32_t *lens);

/* The disk file, seen from the host. */
void bf_file_read(uint64_t off, void *buf, uint64_t len);
uint8_t *bf_file_snapshot(uint64_t *len);
bool bf_file_unchanged(const uint8_t *snap, uint64_t len);
struct em_vblk_stats bf_stats(void);

#endif
