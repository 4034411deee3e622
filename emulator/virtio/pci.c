/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-pci modern transport (see pci.h): capabilities, the registers
 * of BAR 4, the PCI configuration access window, doorbells and interrupts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/msix.h"
#include "virtio/pci.h"

#define PCI_CAP_ID_VNDR 0x09

/* Virtio capability types and the fields of struct virtio_pci_cap. */
#define CAP_COMMON     1
#define CAP_NOTIFY     2
#define CAP_ISR        3
#define CAP_DEVICE     4
#define CAP_PCI_CFG    5
#define CAP_LEN        16
#define CAP_NOTIFY_LEN 20 /* + notify_off_multiplier */
#define CAP_CFG_LEN    20 /* + pci_cfg_data[4] */
#define CAP_F_LEN      2
#define CAP_F_TYPE     3
#define CAP_F_BAR      4
#define CAP_F_OFFSET   8
#define CAP_F_LENGTH   12
#define CAP_F_MULT     16
#define CAP_F_DATA     16

/* struct virtio_pci_common_cfg */
#define C_DFSELECT   0x00
#define C_DF         0x04
#define C_GFSELECT   0x08
#define C_GF         0x0c
#define C_MSIX       0x10
#define C_NUMQ       0x12
#define C_STATUS     0x14
#define C_CFGGEN     0x15
#define C_Q_SELECT   0x16
#define C_Q_SIZE     0x18
#define C_Q_MSIX     0x1a
#define C_Q_ENABLE   0x1c
#define C_Q_NOFF     0x1e
#define C_Q_DESC     0x20 /* then driver (avail) at 0x28, device (used) at 0x30 */
#define C_COMMON_LEN 0x38 /* the ring addresses end here */
/* virtio 1.2 adds queue_notify_data (0x38) and queue_reset (0x3a); their
 * features are not offered, so they read 0, but the capability covers
 * the whole 1.2 structure as drivers expect. */
#define C_COMMON_CAP_LEN 0x3c

#define ISR_QUEUE  0x1
#define ISR_CONFIG 0x2

/* The device ID field of a modern device is 0x1040 + ID, up to 0x107f. */
#define MAX_DEVICE_ID 0x3f

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

struct doorbell {
    bool bound; /* an ioeventfd is assigned at addr */
    uint64_t addr;
};

struct em_virtio_pci {
    struct em_virtio_dev *vd;
    struct em_pci_dev *pci;
    struct em_msix *msix;
    char name[64];
    unsigned nq;
    unsigned cfg_cap; /* the PCI configuration access capability */

    /* Written by the driver from any vCPU: relaxed atomics, since racing
     * vCPUs get one of the values they wrote and nothing worse. */
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint16_t config_vector;
    uint16_t queue_vector[EM_VIRTIO_MAX_QUEUES];

    /* ISR status and the INTx level change together under this lock. */
    pthread_mutex_t isr_lock;
    uint8_t isr;

    /* Protected by the bus lock (the bar_mapped hook holds it). */
    struct doorbell doorbell[EM_VIRTIO_MAX_QUEUES];
};

static bool overlaps(unsigned off, unsigned size, unsigned reg, unsigned reg_size)
{
    return off < reg + reg_size && reg < off + size;
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* ---- interrupts ---- */

/* INTx follows ISR; lock held. */
static void intx_update_locked(struct em_virtio_pci *t)
{
    em_pci_set_irq(t->pci, t->isr != 0);
}

static void intx_raise(struct em_virtio_pci *t, uint8_t bit)
{
    pthread_mutex_lock(&t->isr_lock);
    t->isr |= bit;
    intx_update_locked(t);
    pthread_mutex_unlock(&t->isr_lock);
}

static uint8_t isr_read_clear(struct em_virtio_pci *t)
{
    uint8_t v;

    pthread_mutex_lock(&t->isr_lock);
    v = t->isr;
    t->isr = 0;
    intx_update_locked(t);
    pthread_mutex_unlock(&t->isr_lock);
    return v;
}

/* From the core, with the device's lock held (any thread). */
static void vp_notify_queue(void *opaque, unsigned q)
{
    struct em_virtio_pci *t = opaque;

    if (q >= t->nq)
        return;
    /* With MSI-X enabled the queue's vector, if it has one, is all. */
    if (em_msix_notify(t->msix, LOAD(&t->queue_vector[q])))
        return;
    intx_raise(t, ISR_QUEUE);
}

static void vp_notify_config(void *opaque)
{
    struct em_virtio_pci *t = opaque;

    /* The configuration bit is set before the notification, MSI-X or not
     * (virtio 1.2, 4.1.4.5.1). */
    pthread_mutex_lock(&t->isr_lock);
    t->isr |= ISR_CONFIG;
    pthread_mutex_unlock(&t->isr_lock);
    if (em_msix_notify(t->msix, LOAD(&t->config_vector)))
        return;
    pthread_mutex_lock(&t->isr_lock);
    intx_update_locked(t);
    pthread_mutex_unlock(&t->isr_lock);
}

static const struct em_virtio_transport_ops vp_irq_ops = {
    .notify_queue = vp_notify_queue,
    .notify_config = vp_notify_config,
};

/* ---- the common configuration ---- */

static bool is_ring_field(unsigned off)
{
    return off >= C_Q_DESC && off < C_COMMON_LEN;
}

/* The width the spec has drivers use for the field at `off` (the ring
 * addresses as two dwords or one qword); false for any other access. */
static bool width_ok(unsigned off, unsigned size)
{
    switch (off) {
    case C_DFSELECT:
    case C_DF:
    case C_GFSELECT:
    case C_GF:
        return size == 4;
    case C_MSIX:
    case C_NUMQ:
    case C_Q_SELECT:
    case C_Q_SIZE:
    case C_Q_MSIX:
    case C_Q_ENABLE:
    case C_Q_NOFF:
        return size == 2;
    case C_STATUS:
    case C_CFGGEN:
        return size == 1;
    default:
        return is_ring_field(off) &&
               ((size == 4 && off % 4 == 0) || (size == 8 && (off - C_Q_DESC) % 8 == 0));
    }
}

/* A vector the driver asks for: one in the table, or NO_VECTOR (which
 * also tells the driver that the mapping failed). */
static uint16_t checked_vector(const struct em_virtio_pci *t, uint32_t v)
{
    return v < em_msix_nvec(t->msix) ? (uint16_t)v : EM_VIRTIO_PCI_NO_VECTOR;
}

static uint64_t *ring_of(struct em_virtio_queue_regs *r, unsigned off)
{
    unsigned which = (off - C_Q_DESC) / 8;

    return which == 0 ? &r->desc : which == 1 ? &r->avail : &r->used;
}

static uint64_t features_half(uint64_t f, uint32_t select)
{
    return select == 0 ? (uint32_t)f : select == 1 ? f >> 32 : 0;
}

static uint64_t common_read(struct em_virtio_pci *t, unsigned off, unsigned size)
{
    unsigned q = LOAD(&t->queue_sel);
    struct em_virtio_queue_regs r;
    uint64_t a;

    if (!width_ok(off, size))
        return 0;
    switch (off) {
    case C_DFSELECT:
        return LOAD(&t->dfselect);
    case C_DF:
        return features_half(em_virtio_device_features(t->vd), LOAD(&t->dfselect));
    case C_GFSELECT:
        return LOAD(&t->gfselect);
    case C_GF:
        return features_half(em_virtio_driver_features(t->vd), LOAD(&t->gfselect));
    case C_MSIX:
        return LOAD(&t->config_vector);
    case C_NUMQ:
        return t->nq;
    case C_STATUS:
        return em_virtio_status(t->vd);
    case C_CFGGEN:
        return em_virtio_config_generation(t->vd);
    case C_Q_SELECT:
        return q;
    case C_Q_MSIX:
        return q < t->nq ? LOAD(&t->queue_vector[q]) : EM_VIRTIO_PCI_NO_VECTOR;
    case C_Q_NOFF:
        return q < t->nq ? q : 0;
    default:
        break;
    }
    /* A missing queue reads as size 0, disabled, rings 0 (the core's). */
    em_virtio_queue_regs(t->vd, q, &r);
    if (off == C_Q_SIZE)
        return r.size;
    if (off == C_Q_ENABLE)
        return r.enabled;
    a = *ring_of(&r, off);
    if (size == 8)
        return a;
    return (uint32_t)(a >> ((off - C_Q_DESC) % 8 ? 32 : 0));
}

/* The transport's part of a device reset. */
static void transport_reset(struct em_virtio_pci *t)
{
    STORE(&t->dfselect, 0);
    STORE(&t->gfselect, 0);
    STORE(&t->queue_sel, 0);
    /* Every event unmapped (virtio 1.2, 4.1.5.1.2.1). */
    STORE(&t->config_vector, EM_VIRTIO_PCI_NO_VECTOR);
    for (unsigned q = 0; q < EM_VIRTIO_MAX_QUEUES; q++)
        STORE(&t->queue_vector[q], EM_VIRTIO_PCI_NO_VECTOR);
    pthread_mutex_lock(&t->isr_lock);
    t->isr = 0;
    intx_update_locked(t);
    pthread_mutex_unlock(&t->isr_lock);
    /* Interrupts for the device state the reset discarded. The table is
     * the PCI function's, programmed by the OS's PCI layer: it stays. */
    em_msix_clear_pending(t->msix);
}

static void write_ring(struct em_virtio_pci *t, unsigned q, unsigned off, uint64_t v, unsigned size)
{
    struct em_virtio_queue_regs r;
    uint64_t *a;

    if (q >= t->nq)
        return;
    em_virtio_queue_regs(t->vd, q, &r);
    a = ring_of(&r, off);
    if (size == 8)
        *a = v;
    else if ((off - C_Q_DESC) % 8)
        *a = (*a & 0xffffffffull) | v << 32;
    else
        *a = (*a & ~0xffffffffull) | (uint32_t)v;
    /* The core refuses (and logs once) writes to a live queue. */
    em_virtio_queue_set_rings(t->vd, q, r.desc, r.avail, r.used);
}

static void common_write(struct em_virtio_pci *t, unsigned off, uint64_t v, unsigned size)
{
    unsigned q = LOAD(&t->queue_sel);

    if (!width_ok(off, size))
        return;
    switch (off) {
    case C_DFSELECT:
        STORE(&t->dfselect, (uint32_t)v);
        break;
    case C_GFSELECT:
        STORE(&t->gfselect, (uint32_t)v);
        break;
    case C_GF:
        em_virtio_set_driver_features(t->vd, LOAD(&t->gfselect), (uint32_t)v);
        break;
    case C_MSIX:
        STORE(&t->config_vector, checked_vector(t, (uint32_t)v));
        break;
    case C_STATUS:
        em_virtio_set_status(t->vd, (uint8_t)v);
        if (v == 0)
            transport_reset(t);
        break;
    case C_Q_SELECT:
        STORE(&t->queue_sel, (uint16_t)v);
        break;
    case C_Q_SIZE:
        em_virtio_queue_set_size(t->vd, q, (uint16_t)v);
        break;
    case C_Q_MSIX:
        if (q < t->nq)
            STORE(&t->queue_vector[q], checked_vector(t, (uint32_t)v));
        break;
    case C_Q_ENABLE:
        /* 1 enables; the driver may not write 0 (no VIRTIO_F_RING_RESET). */
        if (v == 1)
            em_virtio_queue_enable(t->vd, q);
        break;
    case C_DF:
    case C_NUMQ:
    case C_CFGGEN:
    case C_Q_NOFF:
        break; /* read-only */
    default:
        write_ring(t, q, off, v, size);
        break;
    }
}

/* ---- BAR 4 ---- */

static uint64_t vp_bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_virtio_pci *t = opaque;
    unsigned region = (unsigned)(offset / EM_VIRTIO_PCI_REGION);
    unsigned off = (unsigned)(offset % EM_VIRTIO_PCI_REGION);
    uint64_t v = 0;

    /* An access that runs into the next region touches no register. */
    if (size == 0 || size > 8 || off + size > EM_VIRTIO_PCI_REGION)
        return 0;
    switch (region) {
    case EM_VIRTIO_PCI_COMMON_OFF / EM_VIRTIO_PCI_REGION:
        return common_read(t, off, size);
    case EM_VIRTIO_PCI_ISR_OFF / EM_VIRTIO_PCI_REGION:
        return off == 0 && size == 1 ? isr_read_clear(t) : 0;
    case EM_VIRTIO_PCI_DEVICE_OFF / EM_VIRTIO_PCI_REGION:
        em_virtio_config_read(t->vd, off, &v, size);
        return v;
    default:
        return 0; /* the doorbells read as 0 */
    }
}

static void vp_bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_virtio_pci *t = opaque;
    unsigned region = (unsigned)(offset / EM_VIRTIO_PCI_REGION);
    unsigned off = (unsigned)(offset % EM_VIRTIO_PCI_REGION);

    if (size == 0 || size > 8 || off + size > EM_VIRTIO_PCI_REGION)
        return;
    switch (region) {
    case EM_VIRTIO_PCI_COMMON_OFF / EM_VIRTIO_PCI_REGION:
        common_write(t, off, value, size);
        break;
    case EM_VIRTIO_PCI_DEVICE_OFF / EM_VIRTIO_PCI_REGION:
        em_virtio_config_write(t->vd, off, &value, size);
        break;
    case EM_VIRTIO_PCI_NOTIFY_OFF / EM_VIRTIO_PCI_REGION:
        /* The doorbell's address names the queue; the value is not
         * needed (an ioeventfd does not see it either). */
        if (off < t->nq * EM_VIRTIO_PCI_NOTIFY_MULT)
            em_virtio_kick(t->vd, off / EM_VIRTIO_PCI_NOTIFY_MULT);
        break;
    default:
        break; /* ISR is read-only */
    }
}

static const struct kc_io_ops vp_bar_ops = { .read = vp_bar_read, .write = vp_bar_write };

/* ---- configuration space: the access window, MSI-X, doorbells ---- */

struct window {
    uint32_t offset, length, data;
};

/* The window's registers; false unless they name 1, 2 or 4 aligned bytes
 * inside BAR 4 (the only BAR of virtio structures). */
static bool window_get(struct em_virtio_pci *t, struct window *w)
{
    unsigned cap = t->cfg_cap;
    uint8_t bar;

    em_pci_dev_lock(t->pci);
    bar = em_pci_get8(t->pci, cap + CAP_F_BAR);
    w->offset = em_pci_get32(t->pci, cap + CAP_F_OFFSET);
    w->length = em_pci_get32(t->pci, cap + CAP_F_LENGTH);
    w->data = em_pci_get32(t->pci, cap + CAP_F_DATA);
    em_pci_dev_unlock(t->pci);
    return bar == EM_VIRTIO_PCI_BAR && (w->length == 1 || w->length == 2 || w->length == 4) &&
           w->offset % w->length == 0 && w->offset <= EM_VIRTIO_PCI_BAR_SIZE - w->length;
}

static void vp_config_write(void *opaque, struct em_pci_dev *d, unsigned offset, uint32_t value,
                            unsigned size)
{
    struct em_virtio_pci *t = opaque;
    struct window w;

    (void)d;
    (void)value;
    em_msix_config_write(t->msix, offset, size);
    /* A write to pci_cfg_data is carried out in the BAR; with bad window
     * registers it is ignored (virtio 1.2, 4.1.4.9.1). */
    if (overlaps(offset, size, t->cfg_cap + CAP_F_DATA, 4) && window_get(t, &w))
        vp_bar_write(t, w.offset, w.data & size_mask(w.length), w.length);
}

static uint32_t vp_config_read(void *opaque, struct em_pci_dev *d, unsigned offset, unsigned size,
                               uint32_t value)
{
    struct em_virtio_pci *t = opaque;
    unsigned data_off = t->cfg_cap + CAP_F_DATA;
    struct window w;
    uint32_t data;

    if (!overlaps(offset, size, data_off, 4) || !window_get(t, &w))
        return value;
    /* A read of pci_cfg_data reads the BAR into it, then returns it. */
    data = (w.data & ~size_mask(w.length)) |
           ((uint32_t)vp_bar_read(t, w.offset, w.length) & size_mask(w.length));
    em_pci_dev_lock(d);
    em_pci_set32(d, data_off, data);
    em_pci_dev_unlock(d);
    for (unsigned i = 0; i < size; i++) {
        unsigned b = offset + i;

        if (b >= data_off && b < data_off + 4) {
            value &= ~(0xffu << (8 * i));
            value |= ((data >> (8 * (b - data_off))) & 0xffu) << (8 * i);
        }
    }
    return value;
}

/* The doorbells follow BAR 4 (bus lock held). */
static void vp_bar_mapped(void *opaque, struct em_pci_dev *d, unsigned index, uint64_t addr,
                          bool mapped)
{
    struct em_virtio_pci *t = opaque;

    if (index != EM_VIRTIO_PCI_BAR)
        return;
    for (unsigned q = 0; q < t->nq; q++) {
        struct doorbell *b = &t->doorbell[q];
        int fd = em_virtio_kick_fd(t->vd, q);

        if (mapped && !b->bound) {
            b->addr = addr + EM_VIRTIO_PCI_NOTIFY_OFF + q * EM_VIRTIO_PCI_NOTIFY_MULT;
            /* Drivers write the 16-bit queue index. Without an ioeventfd
             * (none offered, or KVM refused: logged there) the BAR handler
             * takes the kick. */
            b->bound = em_pci_ioeventfd(d, b->addr, 2, fd, true) == 0;
        } else if (!mapped && b->bound) {
            em_pci_ioeventfd(d, b->addr, 2, fd, false);
            b->bound = false;
        }
    }
}

static const struct em_pci_dev_ops vp_pci_ops = {
    .config_write = vp_config_write,
    .config_read = vp_config_read,
    .bar_mapped = vp_bar_mapped,
};

/* ---- plugging ---- */

uint32_t em_virtio_pci_class(uint16_t device_id)
{
    switch (device_id) {
    case 1:
        return 0x020000; /* network, Ethernet */
    case 2:
        return 0x018000; /* storage, other */
    case 3:
        return 0x078000; /* communication, other */
    case 4:
        return 0x00ff00; /* unclassified, as QEMU's virtio-rng */
    default:
        return 0xff0000;
    }
}

static int add_vcap(struct em_pci_dev *d, uint8_t type, unsigned len, uint32_t offset,
                    uint32_t length)
{
    int cap = em_pci_dev_add_cap(d, PCI_CAP_ID_VNDR, len);

    if (cap < 0)
        return cap;
    em_pci_set8(d, (unsigned)cap + CAP_F_LEN, (uint8_t)len);
    em_pci_set8(d, (unsigned)cap + CAP_F_TYPE, type);
    em_pci_set8(d, (unsigned)cap + CAP_F_BAR, type == CAP_PCI_CFG ? 0 : EM_VIRTIO_PCI_BAR);
    em_pci_set32(d, (unsigned)cap + CAP_F_OFFSET, offset);
    em_pci_set32(d, (unsigned)cap + CAP_F_LENGTH, length);
    return cap;
}

static int add_caps(struct em_virtio_pci *t, uint32_t config_size)
{
    struct em_pci_dev *d = t->pci;
    int cap;

    cap = add_vcap(d, CAP_COMMON, CAP_LEN, EM_VIRTIO_PCI_COMMON_OFF, C_COMMON_CAP_LEN);
    if (cap < 0)
        return cap;
    cap = add_vcap(d, CAP_ISR, CAP_LEN, EM_VIRTIO_PCI_ISR_OFF, 1);
    if (cap < 0)
        return cap;
    if (config_size) {
        cap = add_vcap(d, CAP_DEVICE, CAP_LEN, EM_VIRTIO_PCI_DEVICE_OFF, config_size);
        if (cap < 0)
            return cap;
    }
    cap = add_vcap(d, CAP_NOTIFY, CAP_NOTIFY_LEN, EM_VIRTIO_PCI_NOTIFY_OFF,
                   t->nq * EM_VIRTIO_PCI_NOTIFY_MULT);
    if (cap < 0)
        return cap;
    em_pci_set32(d, (unsigned)cap + CAP_F_MULT, EM_VIRTIO_PCI_NOTIFY_MULT);
    cap = add_vcap(d, CAP_PCI_CFG, CAP_CFG_LEN, 0, 0);
    if (cap < 0)
        return cap;
    t->cfg_cap = (unsigned)cap;
    /* The driver points the window (bar, offset, length) and moves data
     * through pci_cfg_data. */
    em_pci_set_wmask8(d, t->cfg_cap + CAP_F_BAR, 0xff);
    em_pci_set_wmask32(d, t->cfg_cap + CAP_F_OFFSET, 0xffffffffu);
    em_pci_set_wmask32(d, t->cfg_cap + CAP_F_LENGTH, 0xffffffffu);
    em_pci_set_wmask32(d, t->cfg_cap + CAP_F_DATA, 0xffffffffu);
    return 0;
}

struct em_virtio_pci *em_virtio_pci_plug(struct em_pci_bus *bus, struct em_virtio_dev *vd, int slot,
                                         const char *name)
{
    const struct kc_logger *log = em_virtio_logger(vd);
    uint16_t id = em_virtio_device_id(vd);
    uint32_t config_size = em_virtio_config_size(vd);
    struct em_pci_dev_info info;
    struct em_virtio_pci *t;
    int ret = -EINVAL;

    if (!name)
        name = em_virtio_name(vd);
    if (id > MAX_DEVICE_ID || config_size > EM_VIRTIO_PCI_REGION) {
        kc_log(log, KC_LOG_ERROR,
               "virtio-pci %s: device ID %u or configuration size %u is beyond what the "
               "transport presents (ID up to %u, %u bytes)",
               name, id, config_size, MAX_DEVICE_ID, EM_VIRTIO_PCI_REGION);
        errno = EINVAL;
        return NULL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        kc_log(log, KC_LOG_ERROR, "virtio-pci %s: out of memory", name);
        errno = ENOMEM;
        return NULL;
    }
    t->vd = vd;
    t->nq = em_virtio_num_queues(vd);
    snprintf(t->name, sizeof(t->name), "%s", name);
    pthread_mutex_init(&t->isr_lock, NULL);
    t->config_vector = EM_VIRTIO_PCI_NO_VECTOR;
    for (unsigned q = 0; q < EM_VIRTIO_MAX_QUEUES; q++)
        t->queue_vector[q] = EM_VIRTIO_PCI_NO_VECTOR;

    info = (struct em_pci_dev_info){
        .name = t->name,
        .vendor = EM_VIRTIO_PCI_VENDOR,
        .device = (uint16_t)(EM_VIRTIO_PCI_DEVICE_BASE + id),
        .subsys_vendor = EM_VIRTIO_PCI_VENDOR,
        .subsys = id,
        .class_code = em_virtio_pci_class(id),
        .revision = EM_VIRTIO_PCI_REVISION,
        .intx_pin = 1,
        .ops = &vp_pci_ops,
        .opaque = t,
    };
    /* Each step below logs its own failure. */
    t->pci = em_pci_dev_create(bus, &info);
    if (!t->pci) {
        ret = -ENOMEM;
        goto fail;
    }
    ret = em_pci_dev_add_bar(t->pci, EM_VIRTIO_PCI_BAR, EM_VIRTIO_PCI_BAR_SIZE, EM_PCI_BAR_MEM64,
                             &vp_bar_ops, t);
    if (ret < 0)
        goto fail;
    ret = add_caps(t, config_size);
    if (ret < 0)
        goto fail;
    t->msix = em_msix_create(t->pci, t->nq + 1, EM_VIRTIO_PCI_MSIX_BAR);
    if (!t->msix) {
        ret = -EINVAL;
        goto fail;
    }
    if (slot < 0) {
        slot = em_pci_bus_free_slot(bus);
        if (slot < 0) {
            ret = slot;
            goto fail;
        }
    }
    ret = em_pci_dev_plug(t->pci, (unsigned)slot, 0);
    if (ret < 0)
        goto fail;
    em_virtio_set_transport(vd, &vp_irq_ops, t);
    ret = em_virtio_start(vd);
    if (ret < 0) {
        em_virtio_set_transport(vd, NULL, NULL);
        goto fail;
    }
    return t;

fail:
    em_msix_destroy(t->msix);
    em_pci_dev_destroy(t->pci); /* unbinds the doorbells if it was plugged */
    pthread_mutex_destroy(&t->isr_lock);
    free(t);
    errno = -ret;
    return NULL;
}

void em_virtio_pci_destroy(struct em_virtio_pci *t)
{
    if (!t)
        return;
    /* No interrupt from here on; then the irqfds, then the function with
     * its doorbells (before the core closes the kick eventfds, which KVM
     * needs to unbind them), then the device. */
    em_virtio_set_transport(t->vd, NULL, NULL);
    em_msix_destroy(t->msix);
    em_pci_dev_destroy(t->pci);
    em_virtio_destroy(t->vd);
    pthread_mutex_destroy(&t->isr_lock);
    free(t);
}

void em_virtio_pci_reset(struct em_virtio_pci *t)
{
    em_virtio_set_status(t->vd, 0);
    transport_reset(t);
    em_msix_reset(t->msix);
}

const char *em_virtio_pci_name(const struct em_virtio_pci *t)
{
    return t->name;
}

struct em_pci_dev *em_virtio_pci_dev(const struct em_virtio_pci *t)
{
    return t->pci;
}

struct em_virtio_dev *em_virtio_pci_vdev(const struct em_virtio_pci *t)
{
    return t->vd;
}

unsigned em_virtio_pci_ioeventfds(const struct em_virtio_pci *t)
{
    unsigned n = 0;

    em_pci_dev_lock(t->pci);
    for (unsigned q = 0; q < t->nq; q++)
        n += t->doorbell[q].bound;
    em_pci_dev_unlock(t->pci);
    return n;
}
