/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio-blk driver in a test guest: writes a pattern to sectors 8-15,
 * flushes, reads it back, asks for the serial (GET_ID), and checks that a
 * read past the end fails. The host test then finds the pattern in the
 * disk file. Exits with 0x2a when everything checked out.
 */
#include "vguest.h"
#include "virtio.h"

#define TAG      "vblk"
#define T_IN     0
#define T_OUT    1
#define T_FLUSH  4
#define T_GET_ID 8
#define F_RO     (1ull << 5)
#define F_FLUSH  (1ull << 9)

struct req {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct vq q;
static struct req hdr;
static uint8_t data[4096] __attribute__((aligned(512)));
static uint8_t back[4096] __attribute__((aligned(512)));
static char id[21];
static uint8_t status;

static uint8_t pattern(unsigned i)
{
    return (uint8_t)(i * 7 + 3 + (i >> 8));
}

/* One request: header, optional data (in or out), status. */
static uint8_t request(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool dev_writes)
{
    struct vbuf b[3];
    unsigned n = 0;

    hdr = (struct req){ type, 0, sector };
    status = 0xee;
    b[n++] = (struct vbuf){ &hdr, sizeof(hdr), false };
    if (len)
        b[n++] = (struct vbuf){ buf, len, dev_writes };
    b[n++] = (struct vbuf){ &status, 1, true };
    vq_submit(&q, b, n);
    if (vq_wait(&q, 50000000) < 0)
        vg_fail(TAG, 9, "no answer from the device");
    return status;
}

int main(void)
{
    struct vdev d;
    uint64_t f, capacity;

    com1_init();
    com1_puts(TAG " start\n");
    VG_CHECK(TAG, virtio_find(VIRTIO_ID_BLOCK, &d) == 0, 1);
    f = virtio_negotiate(&d, VIRTIO_F_VERSION_1 | F_FLUSH | F_RO);
    VG_CHECK(TAG, f & VIRTIO_F_VERSION_1, 2);
    VG_CHECK(TAG, f & F_FLUSH, 2);
    VG_CHECK(TAG, !(f & F_RO), 2);
    VG_CHECK(TAG, virtio_setup_queue(&d, 0, &q) == 0, 3);
    virtio_driver_ok(&d);
    capacity = *(volatile uint64_t *)d.device;
    com1_puts(TAG " capacity ");
    vg_hex(capacity, 8);
    com1_puts("\n");
    VG_CHECK(TAG, capacity >= 16, 4);

    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = pattern(i);
    VG_CHECK(TAG, request(T_OUT, 8, data, sizeof(data), false) == 0, 5);
    VG_CHECK(TAG, request(T_FLUSH, 0, 0, 0, false) == 0, 6);
    VG_CHECK(TAG, request(T_IN, 8, back, sizeof(back), true) == 0, 7);
    for (unsigned i = 0; i < sizeof(back); i++)
        VG_CHECK(TAG, back[i] == pattern(i), 7);
    com1_puts(TAG " pattern read back\n");

    VG_CHECK(TAG, request(T_GET_ID, 0, id, 20, true) == 0, 8);
    com1_puts(TAG " id ");
    com1_puts(id);
    com1_puts("\n");

    /* Past the end: the device must refuse (VIRTIO_BLK_S_IOERR = 1). */
    VG_CHECK(TAG, request(T_IN, capacity, back, 512, true) == 1, 10);
    com1_puts(TAG " ok\n");
    return SERIAL_GUEST_OK;
}
