/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"
#include "pci.h"
#include "virtio.h"

#define VIRTIO_VENDOR 0x1af4
#define CAP_VENDOR    0x09
#define CAP_COMMON    1
#define CAP_NOTIFY    2
#define CAP_ISR       3
#define CAP_DEVICE    4

/* struct virtio_pci_common_cfg offsets (virtio 1.2, 4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF       0x04
#define CC_GFSELECT 0x08
#define CC_GF       0x0c
#define CC_STATUS   0x14
#define CC_QSELECT  0x16
#define CC_QSIZE    0x18
#define CC_QENABLE  0x1c
#define CC_QNOTIFY  0x1e
#define CC_QDESC    0x20
#define CC_QDRIVER  0x28
#define CC_QDEVICE  0x30

#define S_ACK         1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8

#define F_NEXT  1
#define F_WRITE 2

/* The address a BAR decodes (64-bit memory BARs included). */
static uint64_t bar_address(struct vdev *d, unsigned bar)
{
    uint32_t lo = pci_read32(d->bus, d->slot, d->fn, 0x10 + 4 * bar);
    uint64_t a = lo & ~0xfull;

    if ((lo & 0x6) == 0x4)
        a |= (uint64_t)pci_read32(d->bus, d->slot, d->fn, 0x14 + 4 * bar) << 32;
    return a;
}

static int walk_caps(struct vdev *d)
{
    unsigned off = pci_read8(d->bus, d->slot, d->fn, 0x34) & 0xfc;

    for (int guard = 0; off && guard < 48; guard++) {
        uint8_t type = pci_read8(d->bus, d->slot, d->fn, off + 3);

        if (pci_read8(d->bus, d->slot, d->fn, off) == CAP_VENDOR) {
            unsigned bar = pci_read8(d->bus, d->slot, d->fn, off + 4);
            uint32_t where = pci_read32(d->bus, d->slot, d->fn, off + 8);
            volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)(bar_address(d, bar) + where);

            if (type == CAP_COMMON && !d->common)
                d->common = p;
            else if (type == CAP_ISR && !d->isr)
                d->isr = p;
            else if (type == CAP_DEVICE && !d->device)
                d->device = p;
            else if (type == CAP_NOTIFY && !d->notify) {
                d->notify = p;
                d->notify_mult = pci_read32(d->bus, d->slot, d->fn, off + 16);
            }
        }
        off = pci_read8(d->bus, d->slot, d->fn, off + 1) & 0xfc;
    }
    return d->common && d->notify && d->isr ? 0 : -2;
}

int virtio_find(uint16_t id, struct vdev *d)
{
    memset(d, 0, sizeof(*d));
    for (unsigned slot = 0; slot < 32; slot++) {
        uint32_t v = pci_read32(0, slot, 0, 0);

        if ((v & 0xffff) != VIRTIO_VENDOR || (v >> 16) != 0x1040u + id)
            continue;
        d->slot = slot;
        d->id = id;
        /* Memory decoding and bus mastering on, as a driver does. */
        pci_write16(0, slot, 0, 0x04, (uint16_t)(pci_read16(0, slot, 0, 0x04) | 0x6));
        return walk_caps(d);
    }
    return -1;
}

static void wr8(volatile uint8_t *p, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(p + off) = v;
}

static void wr16(volatile uint8_t *p, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(p + off) = v;
}

static void wr32(volatile uint8_t *p, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(p + off) = v;
}

static uint16_t rd16(volatile uint8_t *p, unsigned off)
{
    return *(volatile uint16_t *)(p + off);
}

static uint32_t rd32(volatile uint8_t *p, unsigned off)
{
    return *(volatile uint32_t *)(p + off);
}

uint8_t virtio_status(struct vdev *d)
{
    return d->common[CC_STATUS];
}

uint64_t virtio_negotiate(struct vdev *d, uint64_t wanted)
{
    uint64_t offered, f;

    wr8(d->common, CC_STATUS, 0);
    while (virtio_status(d) != 0)
        cpu_relax();
    wr8(d->common, CC_STATUS, S_ACK);
    wr8(d->common, CC_STATUS, S_ACK | S_DRIVER);
    wr32(d->common, CC_DFSELECT, 0);
    offered = rd32(d->common, CC_DF);
    wr32(d->common, CC_DFSELECT, 1);
    offered |= (uint64_t)rd32(d->common, CC_DF) << 32;
    f = offered & wanted;
    wr32(d->common, CC_GFSELECT, 0);
    wr32(d->common, CC_GF, (uint32_t)f);
    wr32(d->common, CC_GFSELECT, 1);
    wr32(d->common, CC_GF, (uint32_t)(f >> 32));
    wr8(d->common, CC_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    return (virtio_status(d) & S_FEATURES_OK) ? f : 0;
}

int virtio_setup_queue(struct vdev *d, uint16_t index, struct vq *q)
{
    uint16_t max;

    memset(q, 0, sizeof(*q));
    wr16(d->common, CC_QSELECT, index);
    max = rd16(d->common, CC_QSIZE);
    if (max < VQ_SIZE)
        return -1;
    wr16(d->common, CC_QSIZE, VQ_SIZE);
    wr32(d->common, CC_QDESC, (uint32_t)(uintptr_t)q->desc);
    wr32(d->common, CC_QDESC + 4, (uint32_t)((uint64_t)(uintptr_t)q->desc >> 32));
    wr32(d->common, CC_QDRIVER, (uint32_t)(uintptr_t)&q->avail);
    wr32(d->common, CC_QDRIVER + 4, (uint32_t)((uint64_t)(uintptr_t)&q->avail >> 32));
    wr32(d->common, CC_QDEVICE, (uint32_t)(uintptr_t)&q->used);
    wr32(d->common, CC_QDEVICE + 4, (uint32_t)((uint64_t)(uintptr_t)&q->used >> 32));
    q->index = index;
    q->notify_at =
        (volatile uint16_t *)(d->notify + rd16(d->common, CC_QNOTIFY) * (uint64_t)d->notify_mult);
    wr16(d->common, CC_QENABLE, 1);
    return 0;
}

void virtio_driver_ok(struct vdev *d)
{
    wr8(d->common, CC_STATUS, (uint8_t)(virtio_status(d) | S_DRIVER_OK));
}

void vq_submit(struct vq *q, const struct vbuf *bufs, unsigned n)
{
    uint16_t head = q->next_desc;

    for (unsigned i = 0; i < n; i++) {
        uint16_t d = (uint16_t)((head + i) % VQ_SIZE);

        q->desc[d].addr = (uint64_t)(uintptr_t)bufs[i].addr;
        q->desc[d].len = bufs[i].len;
        q->desc[d].flags = (uint16_t)((bufs[i].write ? F_WRITE : 0) | (i + 1 < n ? F_NEXT : 0));
        q->desc[d].next = (uint16_t)((d + 1) % VQ_SIZE);
    }
    q->next_desc = (uint16_t)((head + n) % VQ_SIZE);
    q->avail.ring[q->avail.idx % VQ_SIZE] = head;
    __asm__ volatile("" ::: "memory"); /* x86: stores are not reordered */
    q->avail.idx++;
    __asm__ volatile("mfence" ::: "memory");
    *q->notify_at = q->index;
}

long vq_wait(struct vq *q, unsigned long spins)
{
    for (unsigned long i = 0; i < spins; i++) {
        if (*(volatile uint16_t *)&q->used.idx != q->used_seen) {
            uint32_t len = q->used.ring[q->used_seen % VQ_SIZE].len;

            q->used_seen++;
            return len;
        }
        cpu_relax();
    }
    return -1;
}
