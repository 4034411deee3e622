/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A virtio-net driver in a test guest: reads its MAC from the config space,
 * checks the link is up, posts receive buffers, sends one broadcast frame
 * of EtherType 0x88b5 ("kvmstack ping"), then waits for a frame of the
 * same EtherType from the host and prints its payload. Exits with 0x2a.
 */
#include "vguest.h"
#include "virtio.h"

#define TAG       "vnet"
#define F_MAC     (1ull << 5)
#define F_STATUS  (1ull << 16)
#define HDR       12 /* struct virtio_net_hdr_v1 */
#define ETH_TYPE  0x88b5
#define RX_BUFS   4
#define FRAME_MAX 1526

static struct vq rxq, txq;
static uint8_t rx[RX_BUFS][HDR + FRAME_MAX];
static uint8_t tx[HDR + 64];

static const char ping[] = "kvmstack ping";

int main(void)
{
    struct vdev d;
    uint8_t mac[6];
    uint64_t f;
    long len;

    com1_init();
    com1_puts(TAG " start\n");
    VG_CHECK(TAG, virtio_find(VIRTIO_ID_NET, &d) == 0, 1);
    f = virtio_negotiate(&d, VIRTIO_F_VERSION_1 | F_MAC | F_STATUS);
    VG_CHECK(TAG, (f & (F_MAC | VIRTIO_F_VERSION_1)) == (F_MAC | VIRTIO_F_VERSION_1), 2);
    VG_CHECK(TAG, virtio_setup_queue(&d, 0, &rxq) == 0, 3);
    VG_CHECK(TAG, virtio_setup_queue(&d, 1, &txq) == 0, 3);
    virtio_driver_ok(&d);
    for (int i = 0; i < 6; i++)
        mac[i] = d.device[i];
    com1_puts(TAG " mac ");
    for (int i = 0; i < 6; i++) {
        vg_hex(mac[i], 2);
        com1_putc(i < 5 ? ':' : '\n');
    }
    if (f & F_STATUS)
        VG_CHECK(TAG, (*(volatile uint16_t *)(d.device + 6)) & 1, 4);

    for (int i = 0; i < RX_BUFS; i++) {
        struct vbuf b = { rx[i], sizeof(rx[i]), true };

        vq_submit(&rxq, &b, 1);
    }

    memset(tx, 0, sizeof(tx));
    memset(tx + HDR, 0xff, 6); /* broadcast */
    memcpy(tx + HDR + 6, mac, 6);
    tx[HDR + 12] = ETH_TYPE >> 8;
    tx[HDR + 13] = ETH_TYPE & 0xff;
    memcpy(tx + HDR + 14, ping, sizeof(ping));
    {
        struct vbuf b = { tx, HDR + 14 + sizeof(ping), false };

        vq_submit(&txq, &b, 1);
    }
    VG_CHECK(TAG, vq_wait(&txq, 50000000) >= 0, 5);
    com1_puts(TAG " sent\n");

    /* Frames other than ours (IPv6 router solicitations...) may come first. */
    for (int tries = 0; tries < 16; tries++) {
        uint8_t *fr;

        len = vq_wait(&rxq, 400000000);
        VG_CHECK(TAG, len > HDR + 14, 6);
        fr = rx[(rxq.used_seen - 1) % RX_BUFS] + HDR;
        if (fr[12] != (ETH_TYPE >> 8) || fr[13] != (ETH_TYPE & 0xff))
            continue;
        com1_puts(TAG " received ");
        for (long i = 14; i < len - HDR && fr[i]; i++)
            com1_putc((char)fr[i]);
        com1_puts("\n");
        com1_puts(TAG " ok\n");
        return SERIAL_GUEST_OK;
    }
    vg_fail(TAG, 7, "no frame of our EtherType");
}
