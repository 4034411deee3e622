/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A virtio-rng driver in a test guest: two reads of 64 bytes, which must
 * both be filled, not all zero, and differ. Exits with 0x2a when so. */
#include "vguest.h"
#include "virtio.h"

#define TAG "vrng"

static struct vq q;
static uint8_t a[64], b[64];

static void fill(uint8_t *buf)
{
    struct vbuf v = { buf, 64, true };
    long len;

    vq_submit(&q, &v, 1);
    len = vq_wait(&q, 50000000);
    VG_CHECK(TAG, len == 64, 4);
}

int main(void)
{
    struct vdev d;
    int zeros = 0, same = 0;

    com1_init();
    com1_puts(TAG " start\n");
    VG_CHECK(TAG, virtio_find(VIRTIO_ID_RNG, &d) == 0, 1);
    VG_CHECK(TAG, virtio_negotiate(&d, VIRTIO_F_VERSION_1) == VIRTIO_F_VERSION_1, 2);
    VG_CHECK(TAG, virtio_setup_queue(&d, 0, &q) == 0, 3);
    virtio_driver_ok(&d);
    fill(a);
    fill(b);
    for (int i = 0; i < 64; i++) {
        zeros += a[i] == 0;
        same += a[i] == b[i];
    }
    com1_puts(TAG " bytes ");
    for (int i = 0; i < 8; i++)
        vg_hex(a[i], 2);
    com1_puts("\n");
    VG_CHECK(TAG, zeros < 16, 5);
    VG_CHECK(TAG, same < 16, 6);
    com1_puts(TAG " ok\n");
    return SERIAL_GUEST_OK;
}
