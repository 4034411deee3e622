/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MSI-X: the capability, the table and PBA behind a BAR, masking, pending
 * bits and delivery (see msix.h).
 *
 * Routes are brought up to date when a vector fires, not when the guest
 * writes its entry: a driver rewrites an entry in several dword writes
 * (and may leave it half-written while it is masked), and only the value
 * at delivery time matters. The vCPU writing the table never waits for
 * KVM's routing table; the I/O thread pays once per change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "msix.h"
#include "pci_internal.h"

#define PCI_CAP_ID_MSIX 0x11
#define CAP_LEN         12
#define CAP_CTRL        2
#define CAP_TABLE       4
#define CAP_PBA         8
#define PBA_ALIGN       0x800 /* as QEMU: the PBA at 0x800 for up to 128 vectors */
#define MIN_BAR_SIZE    4096

struct vector {
    uint32_t addr_lo, addr_hi, data, ctrl; /* the table entry */
    int irqfd;                             /* eventfd, or -1 */
    int handle;                            /* the accelerator's, for irqfd */
    uint64_t route_addr;                   /* what the irqfd delivers now */
    uint32_t route_data;
    bool irqfd_failed; /* no irqfd for this vector: direct MSIs */
};

struct em_msix {
    struct em_pci_dev *dev;
    unsigned nvec, bar, cap;
    uint32_t pba_off, pba_bytes;
    pthread_mutex_t lock;
    uint64_t *pending; /* pba_bytes / 8 words */
    struct vector v[];
};

static bool overlaps(unsigned off, unsigned size, unsigned reg, unsigned reg_size)
{
    return off < reg + reg_size && reg < off + size;
}

/* The message control register as the guest left it. */
static uint16_t control(struct em_msix *m)
{
    uint16_t ctrl;

    em_pci_dev_lock(m->dev);
    ctrl = em_pci_get16(m->dev, m->cap + CAP_CTRL);
    em_pci_dev_unlock(m->dev);
    return ctrl;
}

static bool function_live(uint16_t ctrl)
{
    return (ctrl & EM_MSIX_CTRL_ENABLE) && !(ctrl & EM_MSIX_CTRL_MASKALL);
}

static bool is_pending(const struct em_msix *m, unsigned i)
{
    return m->pending[i / 64] & (1ull << (i % 64));
}

static void set_pending(struct em_msix *m, unsigned i, bool on)
{
    if (on)
        m->pending[i / 64] |= 1ull << (i % 64);
    else
        m->pending[i / 64] &= ~(1ull << (i % 64));
}

/* ---- delivery (lock held) ---- */

static void irqfd_drop(struct em_msix *m, struct vector *v)
{
    if (v->irqfd < 0)
        return;
    em_pci_msi_irqfd_remove(m->dev, v->handle, v->irqfd);
    close(v->irqfd);
    v->irqfd = -1;
}

/* Makes v->irqfd deliver (addr, data), creating it on first use. False
 * when this vector cannot have one (no accelerator, no routes left). */
static bool irqfd_ready(struct em_msix *m, struct vector *v, uint64_t addr)
{
    int ret;

    if (v->irqfd_failed)
        return false;
    if (v->irqfd < 0) {
        int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

        if (fd < 0) {
            kc_log(&m->dev->bus->log, KC_LOG_WARN,
                   "pci device %s: MSI-X: no eventfd for a vector (%s): direct MSIs instead",
                   m->dev->info.name, strerror(errno));
            v->irqfd_failed = true;
            return false;
        }
        /* The accelerator reports its own failures; none is -ENOTSUP. */
        ret = em_pci_msi_irqfd_add(m->dev, fd, addr, v->data);
        if (ret < 0) {
            close(fd);
            v->irqfd_failed = true;
            return false;
        }
        v->irqfd = fd;
        v->handle = ret;
    } else if (v->route_addr != addr || v->route_data != v->data) {
        if (em_pci_msi_irqfd_update(m->dev, v->handle, addr, v->data) < 0) {
            irqfd_drop(m, v);
            v->irqfd_failed = true;
            return false;
        }
    }
    v->route_addr = addr;
    v->route_data = v->data;
    return true;
}

static void deliver(struct em_msix *m, unsigned i)
{
    struct vector *v = &m->v[i];
    uint64_t addr = (uint64_t)v->addr_hi << 32 | v->addr_lo;
    uint64_t one = 1;

    if (irqfd_ready(m, v, addr) && write(v->irqfd, &one, sizeof(one)) == sizeof(one))
        return;
    em_pci_msi_signal(m->dev, addr, v->data);
}

/* Fires what is pending and no longer masked. */
static void flush_pending(struct em_msix *m, uint16_t ctrl)
{
    if (!function_live(ctrl))
        return;
    for (unsigned i = 0; i < m->nvec; i++) {
        if (is_pending(m, i) && !(m->v[i].ctrl & EM_MSIX_ENTRY_MASKBIT)) {
            set_pending(m, i, false);
            deliver(m, i);
        }
    }
}

bool em_msix_notify(struct em_msix *m, unsigned vector)
{
    uint16_t ctrl;

    pthread_mutex_lock(&m->lock);
    ctrl = control(m);
    if (!(ctrl & EM_MSIX_CTRL_ENABLE)) {
        pthread_mutex_unlock(&m->lock);
        return false;
    }
    if (vector < m->nvec) {
        if (!function_live(ctrl) || (m->v[vector].ctrl & EM_MSIX_ENTRY_MASKBIT))
            set_pending(m, vector, true);
        else
            deliver(m, vector);
    }
    pthread_mutex_unlock(&m->lock);
    return true;
}

bool em_msix_enabled(struct em_msix *m)
{
    return control(m) & EM_MSIX_CTRL_ENABLE;
}

void em_msix_config_write(struct em_msix *m, unsigned offset, unsigned size)
{
    if (!overlaps(offset, size, m->cap + CAP_CTRL, 2))
        return;
    pthread_mutex_lock(&m->lock);
    flush_pending(m, control(m));
    pthread_mutex_unlock(&m->lock);
}

/* ---- the table and the PBA ---- */

static uint32_t *entry_field(struct em_msix *m, unsigned i, unsigned field)
{
    struct vector *v = &m->v[i];

    switch (field) {
    case 0:
        return &v->addr_lo;
    case 4:
        return &v->addr_hi;
    case 8:
        return &v->data;
    default:
        return &v->ctrl;
    }
}

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_msix *m = opaque;
    uint64_t table = (uint64_t)m->nvec * EM_MSIX_ENTRY_SIZE, v = 0;

    /* Aligned dwords and qwords only (PCI 3.0, 6.8.2). */
    if ((size != 4 && size != 8) || offset % size)
        return 0;
    pthread_mutex_lock(&m->lock);
    if (offset < table) {
        unsigned i = (unsigned)(offset / EM_MSIX_ENTRY_SIZE);
        unsigned f = (unsigned)(offset % EM_MSIX_ENTRY_SIZE);

        v = *entry_field(m, i, f);
        if (size == 8)
            v |= (uint64_t)*entry_field(m, i, f + 4) << 32;
    } else if (offset >= m->pba_off && offset - m->pba_off < m->pba_bytes) {
        uint64_t at = offset - m->pba_off;

        v = m->pending[at / 8];
        if (size == 4)
            v = (uint32_t)(v >> (8 * (at % 8)));
    }
    pthread_mutex_unlock(&m->lock);
    return v;
}

static void table_write32(struct em_msix *m, unsigned i, unsigned field, uint32_t value,
                          uint16_t ctrl)
{
    switch (field) {
    case 0:
        m->v[i].addr_lo = value & ~0x3u; /* dword-aligned addresses */
        break;
    case 4:
        m->v[i].addr_hi = value;
        break;
    case 8:
        m->v[i].data = value;
        break;
    default:
        /* Bits 31:1 are reserved. An unmasked entry may have an interrupt
         * waiting. */
        m->v[i].ctrl = value & EM_MSIX_ENTRY_MASKBIT;
        if (!m->v[i].ctrl && is_pending(m, i) && function_live(ctrl)) {
            set_pending(m, i, false);
            deliver(m, i);
        }
        break;
    }
}

static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_msix *m = opaque;
    uint64_t table = (uint64_t)m->nvec * EM_MSIX_ENTRY_SIZE;
    unsigned i, f;
    uint16_t ctrl;

    /* The PBA is read-only; outside the table nothing is writable. */
    if ((size != 4 && size != 8) || offset % size || offset >= table)
        return;
    i = (unsigned)(offset / EM_MSIX_ENTRY_SIZE);
    f = (unsigned)(offset % EM_MSIX_ENTRY_SIZE);
    pthread_mutex_lock(&m->lock);
    ctrl = control(m);
    table_write32(m, i, f, (uint32_t)value, ctrl);
    if (size == 8)
        table_write32(m, i, f + 4, (uint32_t)(value >> 32), ctrl);
    pthread_mutex_unlock(&m->lock);
}

static const struct kc_io_ops msix_bar_ops = { .read = bar_read, .write = bar_write };

/* ---- life cycle ---- */

static void entries_power_on(struct em_msix *m)
{
    for (unsigned i = 0; i < m->nvec; i++) {
        m->v[i].addr_lo = m->v[i].addr_hi = m->v[i].data = 0;
        m->v[i].ctrl = EM_MSIX_ENTRY_MASKBIT;
    }
    memset(m->pending, 0, m->pba_bytes);
}

static uint64_t pow2_at_least(uint64_t v)
{
    uint64_t p = MIN_BAR_SIZE;

    while (p < v)
        p <<= 1;
    return p;
}

struct em_msix *em_msix_create(struct em_pci_dev *d, unsigned nvec, unsigned bar)
{
    struct em_msix *m;
    uint32_t table;
    int cap;

    if (nvec == 0 || nvec > EM_MSIX_MAX_VECTORS) {
        kc_log(&d->bus->log, KC_LOG_ERROR, "pci device %s: MSI-X with %u vectors (1 to %d)",
               d->info.name, nvec, EM_MSIX_MAX_VECTORS);
        return NULL;
    }
    m = calloc(1, sizeof(*m) + nvec * sizeof(m->v[0]));
    if (!m) {
        kc_log(&d->bus->log, KC_LOG_ERROR, "pci device %s: MSI-X: out of memory", d->info.name);
        return NULL;
    }
    m->dev = d;
    m->nvec = nvec;
    m->bar = bar;
    table = nvec * EM_MSIX_ENTRY_SIZE;
    m->pba_off = (table + PBA_ALIGN - 1) & ~(uint32_t)(PBA_ALIGN - 1);
    m->pba_bytes = (nvec + 63) / 64 * 8;
    m->pending = calloc(m->pba_bytes / 8, sizeof(uint64_t));
    if (!m->pending) {
        kc_log(&d->bus->log, KC_LOG_ERROR, "pci device %s: MSI-X: out of memory", d->info.name);
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    for (unsigned i = 0; i < nvec; i++)
        m->v[i].irqfd = -1;
    entries_power_on(m);

    /* The capability first: a failure leaves no BAR pointing at m. */
    cap = em_pci_dev_add_cap(d, PCI_CAP_ID_MSIX, CAP_LEN);
    if (cap < 0)
        goto fail;
    if (em_pci_dev_add_bar(d, bar, pow2_at_least(m->pba_off + m->pba_bytes), EM_PCI_BAR_MEM32,
                           &msix_bar_ops, m) < 0)
        goto fail;
    m->cap = (unsigned)cap;
    em_pci_set16(d, m->cap + CAP_CTRL, (uint16_t)(nvec - 1));
    em_pci_set_wmask16(d, m->cap + CAP_CTRL, EM_MSIX_CTRL_ENABLE | EM_MSIX_CTRL_MASKALL);
    em_pci_set32(d, m->cap + CAP_TABLE, 0 | bar);
    em_pci_set32(d, m->cap + CAP_PBA, m->pba_off | bar);
    return m;

fail:
    pthread_mutex_destroy(&m->lock);
    free(m->pending);
    free(m);
    return NULL;
}

void em_msix_destroy(struct em_msix *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nvec; i++)
        irqfd_drop(m, &m->v[i]);
    pthread_mutex_destroy(&m->lock);
    free(m->pending);
    free(m);
}

unsigned em_msix_nvec(const struct em_msix *m)
{
    return m->nvec;
}

unsigned em_msix_cap_offset(const struct em_msix *m)
{
    return m->cap;
}

uint32_t em_msix_pba_offset(const struct em_msix *m)
{
    return m->pba_off;
}

void em_msix_clear_pending(struct em_msix *m)
{
    pthread_mutex_lock(&m->lock);
    memset(m->pending, 0, m->pba_bytes);
    pthread_mutex_unlock(&m->lock);
}

void em_msix_reset(struct em_msix *m)
{
    /* The irqfds stay: their routes are rewritten when next used. */
    pthread_mutex_lock(&m->lock);
    entries_power_on(m);
    pthread_mutex_unlock(&m->lock);
}
