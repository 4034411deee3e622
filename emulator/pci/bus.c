/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The root bus: configuration mechanism #1 (0xcf8 address, 0xcfc-0xcff
 * data), ECAM, dispatch of configuration accesses to functions through
 * their write masks, INTx sharing, reset and teardown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci_internal.h"

#define CAM_ENABLE    0x80000000u
#define CAM_ADDR_MASK 0x80fffffcu /* enable, bus, device, function, register */
#define RCR_OFFSET    (EM_RESET_PORT - EM_PCI_CAM_ADDR_PORT)
#define RCR_SYS_RST   0x02
#define RCR_RST_CPU   0x04
#define RCR_FULL_RST  0x08

static uint32_t all_ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static bool ranges_touch(unsigned off, unsigned size, unsigned reg, unsigned reg_size)
{
    return off < reg + reg_size && reg < off + size;
}

/* The function at bus/dev/fn, or NULL; only bus 0 exists. Lock held. */
static struct em_pci_dev *lookup(struct em_pci_bus *bus, unsigned busnr, unsigned dev, unsigned fn)
{
    if (busnr != 0 || dev >= EM_PCI_SLOTS || fn >= EM_PCI_FUNCS)
        return NULL;
    return bus->devs[dev][fn];
}

static bool access_ok(unsigned offset, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && offset < EM_PCI_CONFIG_SIZE &&
           size <= EM_PCI_CONFIG_SIZE - offset;
}

uint32_t em_pci_config_read(struct em_pci_bus *bus, unsigned busnr, unsigned dev, unsigned fn,
                            unsigned offset, unsigned size)
{
    const struct em_pci_dev_ops *ops;
    struct em_pci_dev *d;
    uint32_t v = 0;

    if (!access_ok(offset, size))
        return size == 1 || size == 2 ? all_ones(size) : 0xffffffffu;
    pthread_mutex_lock(&bus->lock);
    d = lookup(bus, busnr, dev, fn);
    if (!d) {
        pthread_mutex_unlock(&bus->lock);
        return all_ones(size);
    }
    for (unsigned i = 0; i < size; i++) {
        uint8_t byte = d->config[offset + i];

        /* Function 0 says whether the others are worth probing. */
        if (offset + i == EM_PCI_HEADER_TYPE && fn == 0) {
            for (unsigned f = 1; f < EM_PCI_FUNCS; f++)
                if (bus->devs[dev][f])
                    byte |= EM_PCI_HEADER_MULTIFUNCTION;
        }
        v |= (uint32_t)byte << (8 * i);
    }
    ops = d->info.ops;
    pthread_mutex_unlock(&bus->lock);
    /* Hooks run unlocked: see pci.h. */
    if (ops && ops->config_read)
        v = ops->config_read(d->info.opaque, d, offset, size, v) & all_ones(size);
    return v;
}

void em_pci_config_write(struct em_pci_bus *bus, unsigned busnr, unsigned dev, unsigned fn,
                         unsigned offset, uint32_t value, unsigned size)
{
    const struct em_pci_dev_ops *ops;
    struct em_pci_dev *d;

    if (!access_ok(offset, size))
        return;
    pthread_mutex_lock(&bus->lock);
    d = lookup(bus, busnr, dev, fn);
    if (!d) {
        pthread_mutex_unlock(&bus->lock);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        unsigned o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));

        d->config[o] = (uint8_t)((d->config[o] & ~d->wmask[o]) | (b & d->wmask[o]));
        d->config[o] &= (uint8_t) ~(b & d->w1cmask[o]);
    }
    if (ranges_touch(offset, size, EM_PCI_COMMAND, 2) ||
        ranges_touch(offset, size, EM_PCI_BAR0, 4 * EM_PCI_BARS))
        pci_update_mappings(bus);
    if (ranges_touch(offset, size, EM_PCI_COMMAND, 2))
        pci_intx_update(d);
    ops = d->info.ops;
    pthread_mutex_unlock(&bus->lock);
    if (ops && ops->config_write)
        ops->config_write(d->info.opaque, d, offset, value & all_ones(size), size);
}

/* ---- INTx ---- */

void pci_intx_update(struct em_pci_dev *d)
{
    struct em_pci_bus *bus = d->bus;
    uint16_t status = em_pci_get16(d, EM_PCI_STATUS);
    bool want;
    int gsi = em_pci_dev_gsi(d);
    unsigned idx;

    if (gsi < 0)
        return;
    /* The status bit shows the device's interrupt even when masked. */
    em_pci_set16(d, EM_PCI_STATUS,
                 d->intx_level ? status | EM_PCI_STATUS_INTERRUPT
                               : status & ~EM_PCI_STATUS_INTERRUPT);
    want =
        d->plugged && d->intx_level && !(em_pci_get16(d, EM_PCI_COMMAND) & EM_PCI_CMD_INTX_DISABLE);
    if (want == d->intx_asserted)
        return;
    idx = (unsigned)gsi - EM_PCI_GSI_BASE;
    d->intx_asserted = want;
    if (want) {
        if (bus->gsi_count[idx]++ == 0 && bus->cfg.set_gsi)
            bus->cfg.set_gsi(bus->cfg.opaque, (unsigned)gsi, 1);
    } else {
        if (--bus->gsi_count[idx] == 0 && bus->cfg.set_gsi)
            bus->cfg.set_gsi(bus->cfg.opaque, (unsigned)gsi, 0);
    }
}

void em_pci_set_irq(struct em_pci_dev *d, int level)
{
    pthread_mutex_lock(&d->bus->lock);
    d->intx_level = level != 0;
    pci_intx_update(d);
    pthread_mutex_unlock(&d->bus->lock);
}

void em_pci_dev_lock(struct em_pci_dev *d)
{
    pthread_mutex_lock(&d->bus->lock);
}

void em_pci_dev_unlock(struct em_pci_dev *d)
{
    pthread_mutex_unlock(&d->bus->lock);
}

/* ---- the accelerator's hooks (immutable after creation: no lock) ---- */

static const struct em_pci_accel_ops *accel(const struct em_pci_dev *d)
{
    return d->bus->cfg.accel;
}

int em_pci_msi_signal(struct em_pci_dev *d, uint64_t addr, uint32_t data)
{
    if (!accel(d) || !accel(d)->msi)
        return -ENOTSUP;
    return accel(d)->msi(d->bus->cfg.accel_opaque, addr, data);
}

int em_pci_msi_irqfd_add(struct em_pci_dev *d, int fd, uint64_t addr, uint32_t data)
{
    if (!accel(d) || !accel(d)->irqfd_add)
        return -ENOTSUP;
    return accel(d)->irqfd_add(d->bus->cfg.accel_opaque, fd, addr, data);
}

int em_pci_msi_irqfd_update(struct em_pci_dev *d, int handle, uint64_t addr, uint32_t data)
{
    if (!accel(d) || !accel(d)->irqfd_update)
        return -ENOTSUP;
    return accel(d)->irqfd_update(d->bus->cfg.accel_opaque, handle, addr, data);
}

void em_pci_msi_irqfd_remove(struct em_pci_dev *d, int handle, int fd)
{
    if (accel(d) && accel(d)->irqfd_remove)
        accel(d)->irqfd_remove(d->bus->cfg.accel_opaque, handle, fd);
}

int em_pci_ioeventfd(struct em_pci_dev *d, uint64_t addr, unsigned len, int fd, bool assign)
{
    if (!accel(d) || !accel(d)->ioeventfd)
        return -ENOTSUP;
    return accel(d)->ioeventfd(d->bus->cfg.accel_opaque, addr, len, fd, assign);
}

/* ---- configuration mechanism #1 ---- */

static uint64_t cam_addr_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    uint64_t v = all_ones(size);

    pthread_mutex_lock(&bus->lock);
    if (offset == 0 && size == 4)
        v = bus->cam_addr;
    else if (offset == RCR_OFFSET && size == 1)
        v = bus->rcr;
    pthread_mutex_unlock(&bus->lock);
    return v;
}

static void cam_addr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    bool reset = false;

    pthread_mutex_lock(&bus->lock);
    /* Only whole-dword writes reach the address register, as on a PC
     * chipset; byte writes elsewhere in it go nowhere. */
    if (offset == 0 && size == 4) {
        bus->cam_addr = (uint32_t)value & CAM_ADDR_MASK;
    } else if (offset == RCR_OFFSET && size == 1) {
        bus->rcr = (uint8_t)(value & (RCR_SYS_RST | RCR_FULL_RST));
        reset = value & RCR_RST_CPU;
    }
    pthread_mutex_unlock(&bus->lock);
    if (reset && bus->cfg.reset_request)
        bus->cfg.reset_request(bus->cfg.opaque);
}

/* Decodes the address register; false if configuration is not enabled. */
static bool cam_target(struct em_pci_bus *bus, uint64_t offset, unsigned *busnr, unsigned *dev,
                       unsigned *fn, unsigned *reg)
{
    uint32_t a;

    pthread_mutex_lock(&bus->lock);
    a = bus->cam_addr;
    pthread_mutex_unlock(&bus->lock);
    if (!(a & CAM_ENABLE))
        return false;
    *busnr = (a >> 16) & 0xff;
    *dev = (a >> 11) & 0x1f;
    *fn = (a >> 8) & 0x7;
    *reg = (a & 0xfc) + (unsigned)offset;
    return true;
}

static uint64_t cam_data_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    unsigned busnr, dev, fn, reg;

    if (offset + size > 4 || !cam_target(bus, offset, &busnr, &dev, &fn, &reg))
        return all_ones(size > 4 ? 4 : size);
    return em_pci_config_read(bus, busnr, dev, fn, reg, size);
}

static void cam_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    unsigned busnr, dev, fn, reg;

    if (offset + size > 4 || !cam_target(bus, offset, &busnr, &dev, &fn, &reg))
        return;
    em_pci_config_write(bus, busnr, dev, fn, reg, (uint32_t)value, size);
}

static const struct kc_io_ops cam_addr_ops = { .read = cam_addr_read, .write = cam_addr_write };
static const struct kc_io_ops cam_data_ops = { .read = cam_data_read, .write = cam_data_write };

/* ---- ECAM: bus << 20 | device << 15 | function << 12 | register ---- */

static void ecam_decode(uint64_t offset, unsigned *busnr, unsigned *dev, unsigned *fn,
                        unsigned *reg)
{
    *busnr = (unsigned)(offset >> 20) & 0xff;
    *dev = (unsigned)(offset >> 15) & 0x1f;
    *fn = (unsigned)(offset >> 12) & 0x7;
    *reg = (unsigned)offset & 0xfff;
}

static uint64_t ecam_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    unsigned busnr, dev, fn, reg;

    if (offset >= EM_PCI_ECAM_SIZE)
        return ~0ull;
    ecam_decode(offset, &busnr, &dev, &fn, &reg);
    /* Configuration registers are at most 32 bits: a 64-bit access is
     * two, if both halves lie in the same function's space. */
    if (size == 8) {
        if (reg + 8 > EM_PCI_CONFIG_SIZE)
            return ~0ull;
        return em_pci_config_read(bus, busnr, dev, fn, reg, 4) |
               (uint64_t)em_pci_config_read(bus, busnr, dev, fn, reg + 4, 4) << 32;
    }
    return em_pci_config_read(bus, busnr, dev, fn, reg, size);
}

static void ecam_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_pci_bus *bus = opaque;
    unsigned busnr, dev, fn, reg;

    if (offset >= EM_PCI_ECAM_SIZE)
        return;
    ecam_decode(offset, &busnr, &dev, &fn, &reg);
    if (size == 8) {
        if (reg + 8 > EM_PCI_CONFIG_SIZE)
            return;
        em_pci_config_write(bus, busnr, dev, fn, reg, (uint32_t)value, 4);
        em_pci_config_write(bus, busnr, dev, fn, reg + 4, (uint32_t)(value >> 32), 4);
        return;
    }
    em_pci_config_write(bus, busnr, dev, fn, reg, (uint32_t)value, size);
}

static const struct kc_io_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* ---- life cycle ---- */

struct em_pci_bus *em_pci_bus_create(const struct em_pci_bus_config *cfg)
{
    const struct kc_logger *log = cfg->log;
    struct em_pci_bus *bus = calloc(1, sizeof(*bus));
    pthread_mutexattr_t attr;
    int ret;

    if (!bus) {
        kc_log(log, KC_LOG_ERROR, "pci: out of memory");
        errno = ENOMEM;
        return NULL;
    }
    bus->cfg = *cfg;
    bus->log = log ? *log : KC_LOGGER_DEFAULT;
    bus->mmio_next = EM_PCI_MMIO_BASE;
    bus->io_next = EM_PCI_IO_BASE;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&bus->lock, &attr);
    pthread_mutexattr_destroy(&attr);

    ret = kc_bus_register(cfg->pio, EM_PCI_CAM_ADDR_PORT, 4, &cam_addr_ops, bus, "pci-cam-address");
    if (ret < 0)
        goto fail;
    bus->cam_addr_registered = true;
    ret = kc_bus_register(cfg->pio, EM_PCI_CAM_DATA_PORT, 4, &cam_data_ops, bus, "pci-cam-data");
    if (ret < 0)
        goto fail;
    bus->cam_data_registered = true;
    ret =
        kc_bus_register(cfg->mmio, EM_PCI_ECAM_BASE, EM_PCI_ECAM_SIZE, &ecam_ops, bus, "pci-ecam");
    if (ret < 0)
        goto fail;
    bus->ecam_registered = true;
    ret = -ENOMEM;
    bus->host = pci_host_bridge_create(bus);
    if (!bus->host)
        goto fail;
    return bus;

fail:
    em_pci_bus_destroy(bus);
    errno = -ret;
    return NULL;
}

void em_pci_bus_destroy(struct em_pci_bus *bus)
{
    if (!bus)
        return;
    for (unsigned s = EM_PCI_SLOTS; s-- > 0;)
        for (unsigned f = EM_PCI_FUNCS; f-- > 0;)
            em_pci_dev_destroy(bus->devs[s][f]);
    if (bus->ecam_registered)
        kc_bus_unregister(bus->cfg.mmio, EM_PCI_ECAM_BASE);
    if (bus->cam_data_registered)
        kc_bus_unregister(bus->cfg.pio, EM_PCI_CAM_DATA_PORT);
    if (bus->cam_addr_registered)
        kc_bus_unregister(bus->cfg.pio, EM_PCI_CAM_ADDR_PORT);
    pthread_mutex_destroy(&bus->lock);
    free(bus);
}

void em_pci_bus_reset(struct em_pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    bus->cam_addr = 0;
    bus->rcr = 0;
    for (unsigned s = 0; s < EM_PCI_SLOTS; s++) {
        for (unsigned f = 0; f < EM_PCI_FUNCS; f++) {
            struct em_pci_dev *d = bus->devs[s][f];

            if (!d)
                continue;
            memcpy(d->config, d->config_init, sizeof(d->config));
            d->intx_level = false;
            pci_intx_update(d);
        }
    }
    pci_update_mappings(bus);
    pthread_mutex_unlock(&bus->lock);
}
