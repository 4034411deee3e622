/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-pci test harness (see pci_harness.h).
 *
 * Locks: h->lock guards the interrupt counters, the routes and the
 * ioeventfds, and is never held while calling into a device. h->service
 * is held by the interrupt thread while it reads ISR or delivers an
 * irqfd's MSI, and by vph_unplug() while it destroys a device, so that the
 * thread never touches a device being destroyed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "pci_harness.h"

#define MAX_IRQFDS     64
#define MAX_IOEVENTFDS 64
#define NR_GSIS        32
#define CFG_GEN_TRIES  100
#define CAP_WALK_MAX   48

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define MSIX_ENABLE     0x8000
#define MSIX_MASKALL    0x4000

struct irqfd_slot {
    bool used;
    int fd;
    uint64_t addr;
    uint32_t data;
};

struct ioev_slot {
    bool used;
    uint64_t addr;
    unsigned len;
    int fd;
};

struct vph_dev {
    struct vph *h;
    unsigned index;
    struct em_virtio_pci *t;
    unsigned slot, nq;
    int gsi;
    struct vdrv *drv;
    struct vph_caps caps;

    /* The driver's choices (test thread). */
    bool msix;
    uint16_t cfgvec, qvec[EM_VIRTIO_MAX_QUEUES];
    uint16_t cfgvec_rb, qvec_rb[EM_VIRTIO_MAX_QUEUES];
    uint16_t notify_off[EM_VIRTIO_MAX_QUEUES];

    /* Interrupts seen (h->lock). */
    unsigned msi[VPH_MAX_VECTORS];
    bool intx_service;
    unsigned isr_seen[2];
};

struct vph {
    struct vph_opts opts;
    struct kc_logger log;
    struct kc_mem *mem;
    struct kc_bus *pio, *mmio;
    struct em_pci_bus *bus;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_mutex_t service;
    struct vph_dev *devs[VPH_MAX_DEVS];
    int gsi_level[NR_GSIS];
    unsigned stray;
    struct irqfd_slot irqfd[MAX_IRQFDS];
    unsigned irqfd_updates;
    struct ioev_slot ioev[MAX_IOEVENTFDS];
    unsigned ioev_hits, accel_errors;

    int wake_fd;
    pthread_t thread;
    bool thread_started, stop;
};

static void wake(struct vph *h)
{
    uint64_t one = 1;

    if (write(h->wake_fd, &one, sizeof(one)) < 0)
        kc_log(&h->log, KC_LOG_WARN, "pci harness: wake: %s", strerror(errno));
}

/* ---- interrupts as the guest receives them ---- */

static void msi_arrived(struct vph *h, uint64_t addr, uint32_t data)
{
    unsigned i = (data >> 16) & 0xff, v = data & 0xffff;
    struct vph_dev *d = NULL;
    bool config = false;
    uint32_t queues = 0;
    struct vdrv *drv = NULL;

    pthread_mutex_lock(&h->lock);
    if (addr == VPH_MSI_ADDR && (data & 0xff000000u) == 0x5a000000u && i < VPH_MAX_DEVS &&
        v < VPH_MAX_VECTORS)
        d = h->devs[i];
    if (!d) {
        h->stray++;
    } else {
        d->msi[v]++;
        drv = d->drv;
        config = d->cfgvec == v;
        for (unsigned q = 0; q < d->nq; q++)
            if (d->qvec[q] == v)
                queues |= 1u << q;
    }
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (config)
        vdrv_config_interrupt(drv);
    for (unsigned q = 0; q < EM_VIRTIO_MAX_QUEUES; q++)
        if (queues & (1u << q))
            vdrv_interrupt(drv, q);
}

/* An asserted INTx line: read ISR of every device on it, as a shared
 * interrupt handler does. h->service held. */
static void service_intx(struct vph *h)
{
    for (unsigned i = 0; i < VPH_MAX_DEVS; i++) {
        struct vph_dev *d;
        bool want;
        uint8_t isr;

        pthread_mutex_lock(&h->lock);
        d = h->devs[i];
        want = d && d->intx_service && d->gsi >= 0 && h->gsi_level[d->gsi];
        pthread_mutex_unlock(&h->lock);
        if (!want)
            continue;
        isr = (uint8_t)vph_read(d, &d->caps.isr, 0, 1);
        pthread_mutex_lock(&h->lock);
        d->isr_seen[0] += isr & 1;
        d->isr_seen[1] += (isr >> 1) & 1;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        if (isr & 1)
            for (unsigned q = 0; q < d->nq; q++)
                vdrv_interrupt(d->drv, q);
        if (isr & 2)
            vdrv_config_interrupt(d->drv);
    }
}

/* What KVM does with irqfds, and the INTx service. */
static void *irq_thread(void *arg)
{
    struct vph *h = arg;

    for (;;) {
        struct pollfd pfd[MAX_IRQFDS + 1];
        unsigned n = 0;
        uint64_t count;

        pthread_mutex_lock(&h->lock);
        if (h->stop) {
            pthread_mutex_unlock(&h->lock);
            break;
        }
        pfd[n++] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
        for (unsigned i = 0; i < MAX_IRQFDS; i++)
            if (h->irqfd[i].used)
                pfd[n++] = (struct pollfd){ .fd = h->irqfd[i].fd, .events = POLLIN };
        pthread_mutex_unlock(&h->lock);

        if (poll(pfd, n, -1) < 0)
            continue;
        if (pfd[0].revents & POLLIN && read(h->wake_fd, &count, sizeof(count)) < 0)
            continue;
        pthread_mutex_lock(&h->service);
        for (unsigned k = 1; k < n; k++) {
            uint64_t addr = 0;
            uint32_t data = 0;
            bool fired = false;

            if (!(pfd[k].revents & POLLIN))
                continue;
            /* Read only a descriptor still in the table, under the lock
             * its removal takes: it cannot have been closed and reused. */
            pthread_mutex_lock(&h->lock);
            for (unsigned i = 0; i < MAX_IRQFDS; i++) {
                struct irqfd_slot *s = &h->irqfd[i];

                if (s->used && s->fd == pfd[k].fd) {
                    fired = read(s->fd, &count, sizeof(count)) == sizeof(count);
                    addr = s->addr;
                    data = s->data;
                    break;
                }
            }
            pthread_mutex_unlock(&h->lock);
            if (fired)
                msi_arrived(h, addr, data);
        }
        service_intx(h);
        pthread_mutex_unlock(&h->service);
    }
    return NULL;
}

/* ---- the bus's hooks ---- */

static void h_set_gsi(void *opaque, unsigned gsi, int level)
{
    struct vph *h = opaque;

    if (gsi >= NR_GSIS)
        return;
    pthread_mutex_lock(&h->lock);
    h->gsi_level[gsi] = level;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    if (level)
        wake(h);
}

static int h_msi(void *opaque, uint64_t addr, uint32_t data)
{
    msi_arrived(opaque, addr, data);
    return 0;
}

static int h_irqfd_add(void *opaque, int fd, uint64_t addr, uint32_t data)
{
    struct vph *h = opaque;
    int ret = -ENOSPC;

    if (!h->opts.irqfd)
        return -ENOTSUP;
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IRQFDS; i++) {
        if (!h->irqfd[i].used) {
            h->irqfd[i] = (struct irqfd_slot){ true, fd, addr, data };
            ret = (int)i;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    wake(h);
    return ret;
}

static int h_irqfd_update(void *opaque, int handle, uint64_t addr, uint32_t data)
{
    struct vph *h = opaque;
    int ret = 0;

    pthread_mutex_lock(&h->lock);
    if (handle < 0 || handle >= MAX_IRQFDS || !h->irqfd[handle].used) {
        h->accel_errors++;
        ret = -ENOENT;
    } else {
        h->irqfd[handle].addr = addr;
        h->irqfd[handle].data = data;
        h->irqfd_updates++;
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}

static void h_irqfd_remove(void *opaque, int handle, int fd)
{
    struct vph *h = opaque;

    pthread_mutex_lock(&h->lock);
    if (handle < 0 || handle >= MAX_IRQFDS || !h->irqfd[handle].used || h->irqfd[handle].fd != fd)
        h->accel_errors++;
    else
        h->irqfd[handle].used = false;
    pthread_mutex_unlock(&h->lock);
    wake(h);
}

/* As KVM: one ioeventfd per (address, length); removing needs the same
 * descriptor. */
static int h_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd, bool assign)
{
    struct vph *h = opaque;
    struct ioev_slot *found = NULL, *free_slot = NULL;
    int ret = 0;

    if (!h->opts.ioeventfd)
        return -ENOTSUP;
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IOEVENTFDS; i++) {
        struct ioev_slot *s = &h->ioev[i];

        if (s->used && s->addr == addr && s->len == len)
            found = s;
        else if (!s->used && !free_slot)
            free_slot = s;
    }
    if (assign && found) {
        h->accel_errors++;
        ret = -EEXIST;
    } else if (assign && !free_slot) {
        ret = -ENOSPC;
    } else if (assign) {
        *free_slot = (struct ioev_slot){ true, addr, len, fd };
    } else if (!found || found->fd != fd) {
        h->accel_errors++;
        ret = -ENOENT;
    } else {
        found->used = false;
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}

static const struct em_pci_accel_ops harness_accel = {
    .msi = h_msi,
    .irqfd_add = h_irqfd_add,
    .irqfd_update = h_irqfd_update,
    .irqfd_remove = h_irqfd_remove,
    .ioeventfd = h_ioeventfd,
};

/* ---- life cycle ---- */

struct vph *vph_create(const struct vph_opts *opts)
{
    struct vph *h = calloc(1, sizeof(*h));
    struct em_pci_bus_config cfg;

    if (!h)
        return NULL;
    h->opts = *opts;
    if (!h->opts.ram_size)
        h->opts.ram_size = VPH_RAM_DEFAULT;
    h->log = opts->log ? *opts->log : KC_LOGGER_DEFAULT;
    pthread_mutex_init(&h->lock, NULL);
    pthread_mutex_init(&h->service, NULL);
    pthread_cond_init(&h->cond, NULL);
    h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->mem = kc_mem_create(&h->log);
    h->pio = kc_bus_create(KC_BUS_PIO, &h->log);
    h->mmio = kc_bus_create(KC_BUS_MMIO, &h->log);
    if (h->wake_fd < 0 || !h->mem || !h->pio || !h->mmio ||
        !kc_mem_add_ram(h->mem, 0, h->opts.ram_size, 0, "ram"))
        goto fail;
    cfg = (struct em_pci_bus_config){
        .pio = h->pio,
        .mmio = h->mmio,
        .log = &h->log,
        .set_gsi = h_set_gsi,
        .opaque = h,
        .accel = &harness_accel,
        .accel_opaque = h,
    };
    h->bus = em_pci_bus_create(&cfg);
    if (!h->bus || pthread_create(&h->thread, NULL, irq_thread, h) != 0)
        goto fail;
    h->thread_started = true;
    return h;

fail:
    kc_log(&h->log, KC_LOG_ERROR, "pci harness: cannot set up a bus and RAM");
    vph_destroy(h);
    return NULL;
}

void vph_destroy(struct vph *h)
{
    if (!h)
        return;
    if (h->thread_started) {
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_mutex_unlock(&h->lock);
        wake(h);
        pthread_join(h->thread, NULL);
    }
    for (unsigned i = 0; i < VPH_MAX_DEVS; i++)
        if (h->devs[i])
            vph_unplug(h->devs[i]);
    em_pci_bus_destroy(h->bus);
    if (h->mmio)
        kc_bus_destroy(h->mmio);
    if (h->pio)
        kc_bus_destroy(h->pio);
    if (h->mem)
        kc_mem_destroy(h->mem);
    if (h->wake_fd >= 0)
        close(h->wake_fd);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->service);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct kc_mem *vph_mem(struct vph *h)
{
    return h->mem;
}

struct kc_bus *vph_mmio(struct vph *h)
{
    return h->mmio;
}

struct kc_bus *vph_pio(struct vph *h)
{
    return h->pio;
}

struct em_pci_bus *vph_bus(struct vph *h)
{
    return h->bus;
}

/* ---- raw access ---- */

static uint64_t ecam_addr(const struct vph_dev *d, unsigned off)
{
    return EM_PCI_ECAM_BASE + ((uint64_t)d->slot << 15) + off;
}

static uint32_t ecam_read(struct vph *h, unsigned slot, unsigned off, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    kc_bus_read(h->mmio, EM_PCI_ECAM_BASE + ((uint64_t)slot << 15) + off, size, &v, &stop);
    return (uint32_t)v;
}

uint32_t vph_cfg_read(struct vph_dev *d, unsigned off, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    kc_bus_read(d->h->mmio, ecam_addr(d, off), size, &v, &stop);
    return (uint32_t)v;
}

void vph_cfg_write(struct vph_dev *d, unsigned off, uint32_t v, unsigned size)
{
    bool stop;

    kc_bus_write(d->h->mmio, ecam_addr(d, off), v, size, &stop);
}

uint64_t vph_bar_addr(struct vph_dev *d, unsigned bar)
{
    uint32_t lo = vph_cfg_read(d, EM_PCI_BAR0 + 4 * bar, 4);

    if (lo & 1)
        return lo & ~0x3u;
    if ((lo & 0x6) == 0x4 && bar < EM_PCI_BARS - 1)
        return (lo & ~0xfull) | (uint64_t)vph_cfg_read(d, EM_PCI_BAR0 + 4 * bar + 4, 4) << 32;
    return lo & ~0xfu;
}

uint64_t vph_bar_read(struct vph_dev *d, unsigned bar, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    kc_bus_read(d->h->mmio, vph_bar_addr(d, bar) + off, size, &v, &stop);
    return v;
}

void vph_mmio_write(struct vph *h, uint64_t addr, uint64_t v, unsigned size)
{
    bool hit = false, stop;
    uint64_t one = 1;

    /* Bound doorbells never reach the bus, as with KVM. */
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IOEVENTFDS && !hit; i++) {
        struct ioev_slot *s = &h->ioev[i];

        if (s->used && s->addr == addr && (s->len == 0 || s->len == size)) {
            hit = write(s->fd, &one, sizeof(one)) == sizeof(one);
            h->ioev_hits += hit;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (!hit)
        kc_bus_write(h->mmio, addr, v, size, &stop);
}

void vph_bar_write(struct vph_dev *d, unsigned bar, uint64_t off, uint64_t v, unsigned size)
{
    vph_mmio_write(d->h, vph_bar_addr(d, bar) + off, v, size);
}

uint64_t vph_read(struct vph_dev *d, const struct vph_region *r, uint64_t off, unsigned size)
{
    return vph_bar_read(d, r->bar, r->offset + off, size);
}

void vph_write(struct vph_dev *d, const struct vph_region *r, uint64_t off, uint64_t v,
               unsigned size)
{
    vph_bar_write(d, r->bar, r->offset + off, v, size);
}

/* ---- vdriver's transport ---- */

static uint64_t common_rd(struct vph_dev *d, unsigned off, unsigned size)
{
    return vph_read(d, &d->caps.common, off, size);
}

static void common_wr(struct vph_dev *d, unsigned off, uint64_t v, unsigned size)
{
    vph_write(d, &d->caps.common, off, v, size);
}

static void write_config_vector(struct vph_dev *d)
{
    common_wr(d, VIRTIO_PCI_COMMON_MSIX, d->cfgvec, 2);
    d->cfgvec_rb = (uint16_t)common_rd(d, VIRTIO_PCI_COMMON_MSIX, 2);
}

static void t_set_status(void *opaque, uint8_t s)
{
    struct vph_dev *d = opaque;

    common_wr(d, VIRTIO_PCI_COMMON_STATUS, s, 1);
    /* A reset unmaps every event: map the config vector again, as a
     * driver does when it sets the device up. */
    if (s == 0 && d->msix)
        write_config_vector(d);
}

static uint8_t t_status(void *opaque)
{
    return (uint8_t)common_rd(opaque, VIRTIO_PCI_COMMON_STATUS, 1);
}

static uint64_t t_device_features(void *opaque)
{
    struct vph_dev *d = opaque;
    uint64_t f;

    common_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    f = common_rd(d, VIRTIO_PCI_COMMON_DF, 4);
    common_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    return f | common_rd(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

static void t_set_driver_features(void *opaque, uint64_t f)
{
    struct vph_dev *d = opaque;

    common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    common_wr(d, VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
    common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    common_wr(d, VIRTIO_PCI_COMMON_GF, f >> 32, 4);
}

static uint16_t t_queue_max(void *opaque, unsigned q)
{
    struct vph_dev *d = opaque;

    common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    return (uint16_t)common_rd(d, VIRTIO_PCI_COMMON_Q_SIZE, 2);
}

static void write64(struct vph_dev *d, unsigned lo, uint64_t v)
{
    common_wr(d, lo, (uint32_t)v, 4);
    common_wr(d, lo + 4, v >> 32, 4);
}

static void t_setup_queue(void *opaque, unsigned q, uint16_t size, uint64_t desc, uint64_t avail,
                          uint64_t used)
{
    struct vph_dev *d = opaque;

    common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    common_wr(d, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
    write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, desc);
    write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, avail);
    write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, used);
    if (d->msix && q < EM_VIRTIO_MAX_QUEUES) {
        common_wr(d, VIRTIO_PCI_COMMON_Q_MSIX, d->qvec[q], 2);
        d->qvec_rb[q] = (uint16_t)common_rd(d, VIRTIO_PCI_COMMON_Q_MSIX, 2);
    }
    if (q < EM_VIRTIO_MAX_QUEUES)
        d->notify_off[q] = (uint16_t)common_rd(d, VIRTIO_PCI_COMMON_Q_NOFF, 2);
    common_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static void t_kick(void *opaque, unsigned q)
{
    struct vph_dev *d = opaque;
    uint16_t noff = q < EM_VIRTIO_MAX_QUEUES ? d->notify_off[q] : 0;

    vph_write(d, &d->caps.notify, (uint64_t)noff * d->caps.notify_mult, q, 2);
}

/* The widest natural access at `off` that fits in `left` bytes. */
static unsigned chunk(uint32_t off, uint32_t left)
{
    if (off % 4 == 0 && left >= 4)
        return 4;
    if (off % 2 == 0 && left >= 2)
        return 2;
    return 1;
}

static void t_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
    struct vph_dev *d = opaque;

    /* Read until the generation is stable (virtio 1.2, 2.5.1). */
    for (unsigned tries = 0; tries < CFG_GEN_TRIES; tries++) {
        uint8_t gen = (uint8_t)common_rd(d, VIRTIO_PCI_COMMON_CFGGENERATION, 1);

        for (uint32_t pos = 0; pos < len;) {
            unsigned n = chunk(off + pos, len - pos);
            uint64_t v = vph_read(d, &d->caps.device, off + pos, n);

            memcpy((uint8_t *)buf + pos, &v, n);
            pos += n;
        }
        if (gen == (uint8_t)common_rd(d, VIRTIO_PCI_COMMON_CFGGENERATION, 1))
            return;
    }
}

static void t_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
    struct vph_dev *d = opaque;

    for (uint32_t pos = 0; pos < len;) {
        unsigned n = chunk(off + pos, len - pos);
        uint64_t v = 0;

        memcpy(&v, (const uint8_t *)buf + pos, n);
        vph_write(d, &d->caps.device, off + pos, v, n);
        pos += n;
    }
}

static const struct vdrv_transport pci_transport = {
    .set_status = t_set_status,
    .status = t_status,
    .device_features = t_device_features,
    .set_driver_features = t_set_driver_features,
    .queue_max = t_queue_max,
    .setup_queue = t_setup_queue,
    .kick = t_kick,
    .config_read = t_config_read,
    .config_write = t_config_write,
};

/* ---- probing ---- */

static void record_region(struct vph_dev *d, unsigned cap, struct vph_region *r)
{
    r->count++;
    if (r->present)
        return; /* a driver uses the first one it understands */
    r->present = true;
    r->cap = cap;
    r->cap_len = (uint8_t)vph_cfg_read(d, cap + 2, 1);
    r->bar = (uint8_t)vph_cfg_read(d, cap + 4, 1);
    r->offset = vph_cfg_read(d, cap + 8, 4);
    r->length = vph_cfg_read(d, cap + 12, 4);
}

static void walk_caps(struct vph_dev *d)
{
    struct vph_caps *c = &d->caps;
    unsigned ptr;

    memset(c, 0, sizeof(*c));
    if (!(vph_cfg_read(d, EM_PCI_STATUS, 2) & EM_PCI_STATUS_CAP_LIST))
        return;
    ptr = vph_cfg_read(d, EM_PCI_CAP_PTR, 1) & ~3u;
    /* Bounded: a broken list must not loop the harness either. */
    for (unsigned n = 0; ptr && n < CAP_WALK_MAX; n++) {
        unsigned id = vph_cfg_read(d, ptr, 1);

        c->walked++;
        if (id == PCI_CAP_ID_VNDR) {
            switch (vph_cfg_read(d, ptr + 3, 1)) {
            case VIRTIO_PCI_CAP_COMMON_CFG:
                record_region(d, ptr, &c->common);
                break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG:
                if (!c->notify.present)
                    c->notify_mult = vph_cfg_read(d, ptr + 16, 4);
                record_region(d, ptr, &c->notify);
                break;
            case VIRTIO_PCI_CAP_ISR_CFG:
                record_region(d, ptr, &c->isr);
                break;
            case VIRTIO_PCI_CAP_DEVICE_CFG:
                record_region(d, ptr, &c->device);
                break;
            case VIRTIO_PCI_CAP_PCI_CFG:
                record_region(d, ptr, &c->pci_cfg);
                break;
            default:
                break;
            }
        } else if (id == PCI_CAP_ID_MSIX && !c->msix_cap) {
            uint32_t table = vph_cfg_read(d, ptr + 4, 4), pba = vph_cfg_read(d, ptr + 8, 4);

            c->msix_cap = ptr;
            c->msix_size = (vph_cfg_read(d, ptr + 2, 2) & 0x7ff) + 1;
            c->table_bar = table & 7;
            c->table_off = table & ~7u;
            c->pba_bar = pba & 7;
            c->pba_off = pba & ~7u;
        }
        ptr = vph_cfg_read(d, ptr + 1, 1) & ~3u;
    }
}

/* The virtio function no other vph_dev has taken; 0 if none. */
static unsigned find_function(struct vph *h)
{
    for (unsigned s = 1; s < EM_PCI_SLOTS; s++) {
        uint32_t id = ecam_read(h, s, EM_PCI_VENDOR_ID, 4);
        uint16_t dev = (uint16_t)(id >> 16);
        bool taken = false;

        if ((id & 0xffff) != EM_VIRTIO_PCI_VENDOR || dev < 0x1040 || dev > 0x107f)
            continue;
        for (unsigned i = 0; i < VPH_MAX_DEVS; i++)
            if (h->devs[i] && h->devs[i]->slot == s)
                taken = true;
        if (!taken)
            return s;
    }
    return 0;
}

struct vph_dev *vph_plug(struct vph *h, struct em_virtio_dev *vd, const char *name)
{
    uint64_t arena = (h->opts.ram_size - VPH_ARENA_START) / VPH_MAX_DEVS;
    struct vph_dev *d;
    int index = -1;

    if (!vd) {
        kc_log(&h->log, KC_LOG_ERROR, "pci harness: no device to plug (%s)", name);
        return NULL;
    }
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < VPH_MAX_DEVS && index < 0; i++)
        if (!h->devs[i])
            index = (int)i;
    pthread_mutex_unlock(&h->lock);
    d = index < 0 ? NULL : calloc(1, sizeof(*d));
    if (!d) {
        kc_log(&h->log, KC_LOG_ERROR, "pci harness: no room for device %s", name);
        em_virtio_destroy(vd);
        return NULL;
    }
    d->h = h;
    d->index = (unsigned)index;
    d->intx_service = true;
    d->t = em_virtio_pci_plug(h->bus, vd, -1, name);
    if (!d->t) {
        em_virtio_destroy(vd);
        free(d);
        return NULL;
    }
    d->nq = em_virtio_num_queues(vd);
    d->cfgvec = 0;
    for (unsigned q = 0; q < EM_VIRTIO_MAX_QUEUES; q++)
        d->qvec[q] = (uint16_t)(q + 1);
    d->slot = find_function(h);
    if (d->slot)
        walk_caps(d);
    if (!d->slot || !d->caps.common.present || !d->caps.notify.present || !d->caps.isr.present) {
        kc_log(&h->log, KC_LOG_ERROR, "pci harness: %s: no virtio-pci function found", name);
        em_virtio_pci_destroy(d->t);
        free(d);
        return NULL;
    }
    /* The interrupt line as the "firmware" routed it. */
    d->gsi = (int)vph_cfg_read(d, EM_PCI_INTERRUPT_LINE, 1);
    if (d->gsi >= NR_GSIS)
        d->gsi = -1;
    vph_cfg_write(d, EM_PCI_COMMAND,
                  vph_cfg_read(d, EM_PCI_COMMAND, 2) | EM_PCI_CMD_MEM | EM_PCI_CMD_MASTER, 2);
    d->drv = vdrv_create(h->mem, VPH_ARENA_START + (unsigned)index * arena, arena);
    vdrv_set_transport(d->drv, &pci_transport, d);
    pthread_mutex_lock(&h->lock);
    h->devs[index] = d;
    pthread_mutex_unlock(&h->lock);
    return d;
}

void vph_unplug(struct vph_dev *d)
{
    struct vph *h = d->h;

    pthread_mutex_lock(&h->service);
    pthread_mutex_lock(&h->lock);
    h->devs[d->index] = NULL;
    pthread_mutex_unlock(&h->lock);
    em_virtio_pci_destroy(d->t);
    pthread_mutex_unlock(&h->service);
    vdrv_destroy(d->drv);
    free(d);
}

struct vdrv *vph_vdrv(struct vph_dev *d)
{
    return d->drv;
}

struct em_virtio_pci *vph_transport(struct vph_dev *d)
{
    return d->t;
}

unsigned vph_slot(struct vph_dev *d)
{
    return d->slot;
}

const struct vph_caps *vph_caps(struct vph_dev *d)
{
    return &d->caps;
}

/* ---- interrupts, the driver's side ---- */

void vph_use_msix(struct vph_dev *d, bool on)
{
    const struct vph_caps *c = &d->caps;
    unsigned ctrl;

    if (!c->msix_cap)
        return;
    if (on) {
        for (unsigned v = 0; v < c->msix_size; v++) {
            uint64_t e = c->table_off + 16ull * v;

            vph_bar_write(d, c->table_bar, e + 0, (uint32_t)VPH_MSI_ADDR, 4);
            vph_bar_write(d, c->table_bar, e + 4, VPH_MSI_ADDR >> 32, 4);
            vph_bar_write(d, c->table_bar, e + 8, VPH_MSI_DATA(d->index, v), 4);
            vph_bar_write(d, c->table_bar, e + 12, 0, 4);
        }
    }
    ctrl = vph_cfg_read(d, c->msix_cap + 2, 2);
    ctrl = on ? (ctrl | MSIX_ENABLE) & ~(unsigned)MSIX_MASKALL : ctrl & ~(unsigned)MSIX_ENABLE;
    vph_cfg_write(d, c->msix_cap + 2, ctrl, 2);
    d->msix = on;
    if (on)
        write_config_vector(d);
}

void vph_set_config_vector(struct vph_dev *d, uint16_t vector)
{
    pthread_mutex_lock(&d->h->lock);
    d->cfgvec = vector;
    pthread_mutex_unlock(&d->h->lock);
    if (d->msix)
        write_config_vector(d);
}

void vph_set_queue_vector(struct vph_dev *d, unsigned q, uint16_t vector)
{
    if (q >= EM_VIRTIO_MAX_QUEUES)
        return;
    pthread_mutex_lock(&d->h->lock);
    d->qvec[q] = vector;
    pthread_mutex_unlock(&d->h->lock);
}

uint16_t vph_config_vector_readback(struct vph_dev *d)
{
    return d->cfgvec_rb;
}

uint16_t vph_queue_vector_readback(struct vph_dev *d, unsigned q)
{
    return q < EM_VIRTIO_MAX_QUEUES ? d->qvec_rb[q] : VPH_NO_VECTOR;
}

unsigned vph_msi_count(struct vph_dev *d, unsigned vector)
{
    unsigned n;

    pthread_mutex_lock(&d->h->lock);
    n = vector < VPH_MAX_VECTORS ? d->msi[vector] : 0;
    pthread_mutex_unlock(&d->h->lock);
    return n;
}

bool vph_wait_msi(struct vph_dev *d, unsigned vector, unsigned count, unsigned timeout_ms)
{
    struct vph *h = d->h;
    struct timespec end;
    bool ok;

    if (vector >= VPH_MAX_VECTORS)
        return false;
    clock_gettime(CLOCK_REALTIME, &end);
    end.tv_sec += timeout_ms / 1000;
    end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->lock);
    while (d->msi[vector] < count)
        if (pthread_cond_timedwait(&h->cond, &h->lock, &end) == ETIMEDOUT)
            break;
    ok = d->msi[vector] >= count;
    pthread_mutex_unlock(&h->lock);
    return ok;
}

unsigned vph_stray_msis(struct vph *h)
{
    unsigned n;

    pthread_mutex_lock(&h->lock);
    n = h->stray;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int vph_intx_level(struct vph_dev *d)
{
    int level;

    pthread_mutex_lock(&d->h->lock);
    level = d->gsi >= 0 ? d->h->gsi_level[d->gsi] : 0;
    pthread_mutex_unlock(&d->h->lock);
    return level;
}

void vph_intx_service(struct vph_dev *d, bool on)
{
    pthread_mutex_lock(&d->h->lock);
    d->intx_service = on;
    pthread_mutex_unlock(&d->h->lock);
    if (on)
        wake(d->h);
}

uint8_t vph_read_isr(struct vph_dev *d)
{
    return (uint8_t)vph_read(d, &d->caps.isr, 0, 1);
}

unsigned vph_isr_serviced(struct vph_dev *d, uint8_t bit)
{
    unsigned n;

    pthread_mutex_lock(&d->h->lock);
    n = bit == 1 ? d->isr_seen[0] : bit == 2 ? d->isr_seen[1] : 0;
    pthread_mutex_unlock(&d->h->lock);
    return n;
}

/* ---- the accelerator's record ---- */

unsigned vph_ioeventfds(struct vph *h)
{
    unsigned n = 0;

    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IOEVENTFDS; i++)
        n += h->ioev[i].used;
    pthread_mutex_unlock(&h->lock);
    return n;
}

bool vph_ioeventfd_at(struct vph *h, uint64_t addr, unsigned len, int fd)
{
    bool found = false;

    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IOEVENTFDS; i++) {
        const struct ioev_slot *s = &h->ioev[i];

        found |= s->used && s->addr == addr && s->len == len && s->fd == fd;
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

unsigned vph_ioeventfd_hits(struct vph *h)
{
    unsigned n;

    pthread_mutex_lock(&h->lock);
    n = h->ioev_hits;
    pthread_mutex_unlock(&h->lock);
    return n;
}

unsigned vph_accel_errors(struct vph *h)
{
    unsigned n;

    pthread_mutex_lock(&h->lock);
    n = h->accel_errors;
    pthread_mutex_unlock(&h->lock);
    return n;
}

unsigned vph_irqfds(struct vph *h)
{
    unsigned n = 0;

    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < MAX_IRQFDS; i++)
        n += h->irqfd[i].used;
    pthread_mutex_unlock(&h->lock);
    return n;
}

unsigned vph_irqfd_updates(struct vph *h)
{
    unsigned n;

    pthread_mutex_lock(&h->lock);
    n = h->irqfd_updates;
    pthread_mutex_unlock(&h->lock);
    return n;
}
