/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Base address registers: declaring them, assigning addresses at plug
 * time, and keeping their ranges registered on the port and MMIO buses
 * where the guest's BAR and command registers say they are.
 *
 * A BAR decodes when its kind of decoding is on in the command register,
 * its address is not 0 and its range fits: below 64 KiB for I/O, below
 * the last byte of 4 GiB for a 32-bit memory BAR (so the all-ones value
 * written to size a BAR never maps it), without wrapping for 64-bit ones.
 */
#include <errno.h>
#include <stdio.h>

#include "pci_internal.h"

/* The upper half of a 64-bit BAR: no size of its own. */
#define PCI_BAR_UPPER (1u << 31)

#define IO_LIMIT  0x10000ull
#define MEM_ALIGN 4096ull

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static unsigned bar_offset(unsigned index)
{
    return EM_PCI_BAR0 + 4 * index;
}

static const char *bar_problem(const struct em_pci_dev *d, unsigned index, uint64_t size,
                               unsigned flags, const struct kc_io_ops *ops)
{
    bool io = flags & EM_PCI_BAR_IO;

    if (d->plugged)
        return "the device is already plugged";
    if (index >= EM_PCI_BARS)
        return "there are 6 BARs, 0-5";
    if (flags & ~(unsigned)(EM_PCI_BAR_IO | EM_PCI_BAR_MEM64 | EM_PCI_BAR_PREFETCH))
        return "unknown flags";
    if (io && (flags & (EM_PCI_BAR_MEM64 | EM_PCI_BAR_PREFETCH)))
        return "an I/O BAR is neither 64-bit nor prefetchable";
    if ((flags & EM_PCI_BAR_MEM64) && index == EM_PCI_BARS - 1)
        return "a 64-bit BAR needs the next BAR slot too";
    if (d->bar[index].size || (d->bar[index].flags & PCI_BAR_UPPER) ||
        ((flags & EM_PCI_BAR_MEM64) &&
         (d->bar[index + 1].size || (d->bar[index + 1].flags & PCI_BAR_UPPER))))
        return "the BAR slot is already in use";
    if (!is_pow2(size))
        return "the size is not a power of two";
    if (io && (size < 4 || size > 256))
        return "an I/O BAR is 4 to 256 bytes";
    if (!io && size < 16)
        return "a memory BAR is at least 16 bytes";
    if (!io && !(flags & EM_PCI_BAR_MEM64) && size > (1ull << 31))
        return "a 32-bit memory BAR is at most 2 GiB";
    if (!ops)
        return "no handlers";
    return NULL;
}

int em_pci_dev_add_bar(struct em_pci_dev *d, unsigned index, uint64_t size, unsigned flags,
                       const struct kc_io_ops *ops, void *opaque)
{
    const char *problem = bar_problem(d, index, size, flags, ops);
    struct pci_bar *b;
    unsigned off;
    uint32_t low;

    if (problem) {
        kc_log(&d->bus->log, KC_LOG_ERROR, "pci device %s: BAR%u of 0x%llx bytes: %s", d->info.name,
               index, (unsigned long long)size, problem);
        return -EINVAL;
    }
    b = &d->bar[index];
    *b = (struct pci_bar){ .size = size, .flags = flags, .ops = ops, .opaque = opaque };
    snprintf(b->name, sizeof(b->name), "%s BAR%u", d->info.name, index);
    off = bar_offset(index);
    if (flags & EM_PCI_BAR_IO) {
        em_pci_set32(d, off, 0x1);
        em_pci_set_wmask32(d, off, ~(uint32_t)(size - 1) & ~0x3u);
        return 0;
    }
    low = (flags & EM_PCI_BAR_MEM64 ? 0x4u : 0) | (flags & EM_PCI_BAR_PREFETCH ? 0x8u : 0);
    em_pci_set32(d, off, low);
    em_pci_set_wmask32(d, off, ~(uint32_t)(size - 1) & ~0xfu);
    if (flags & EM_PCI_BAR_MEM64) {
        d->bar[index + 1] = (struct pci_bar){ .flags = PCI_BAR_UPPER };
        em_pci_set32(d, off + 4, 0);
        em_pci_set_wmask32(d, off + 4, (uint32_t)(~(size - 1) >> 32));
    }
    return 0;
}

/* The address the BAR's register(s) hold now. */
static uint64_t bar_reg_addr(const struct em_pci_dev *d, unsigned index)
{
    const struct pci_bar *b = &d->bar[index];
    unsigned off = bar_offset(index);

    if (b->flags & EM_PCI_BAR_IO)
        return em_pci_get32(d, off) & ~0x3u;
    if (b->flags & EM_PCI_BAR_MEM64)
        return (em_pci_get32(d, off) & ~0xfull) | (uint64_t)em_pci_get32(d, off + 4) << 32;
    return em_pci_get32(d, off) & ~0xfu;
}

static void bar_set_reg_addr(struct em_pci_dev *d, unsigned index, uint64_t addr)
{
    unsigned off = bar_offset(index);
    uint32_t flag_bits = em_pci_get32(d, off) & (d->bar[index].flags & EM_PCI_BAR_IO ? 0x3u : 0xfu);

    em_pci_set32(d, off, (uint32_t)addr | flag_bits);
    if (d->bar[index].flags & EM_PCI_BAR_MEM64)
        em_pci_set32(d, off + 4, (uint32_t)(addr >> 32));
}

/* Where the BAR decodes now; false if it does not. */
static bool bar_target(const struct em_pci_dev *d, unsigned index, uint64_t *addr)
{
    const struct pci_bar *b = &d->bar[index];
    uint16_t cmd = em_pci_get16(d, EM_PCI_COMMAND);
    bool io = b->flags & EM_PCI_BAR_IO;
    uint64_t a, last;

    if (!b->size || !(cmd & (io ? EM_PCI_CMD_IO : EM_PCI_CMD_MEM)))
        return false;
    a = bar_reg_addr(d, index);
    last = a + (b->size - 1);
    if (a == 0 || last < a)
        return false;
    if (io && last >= IO_LIMIT)
        return false;
    if (!io && !(b->flags & EM_PCI_BAR_MEM64) && last >= 0xffffffffull)
        return false;
    if (last == UINT64_MAX)
        return false;
    *addr = a;
    return true;
}

int pci_assign_bars(struct em_pci_dev *d)
{
    struct em_pci_bus *bus = d->bus;
    uint64_t mmio_next = bus->mmio_next, io_next = bus->io_next;
    uint64_t addr[EM_PCI_BARS] = { 0 };

    /* Compute everything first, so that a failure takes no window space. */
    for (unsigned i = 0; i < EM_PCI_BARS; i++) {
        const struct pci_bar *b = &d->bar[i];
        bool io = b->flags & EM_PCI_BAR_IO;
        uint64_t align = io ? b->size : (b->size > MEM_ALIGN ? b->size : MEM_ALIGN);
        uint64_t *next = io ? &io_next : &mmio_next;
        uint64_t end = io ? EM_PCI_IO_BASE + EM_PCI_IO_SIZE : EM_PCI_MMIO_BASE + EM_PCI_MMIO_SIZE;
        uint64_t base;

        if (!b->size)
            continue;
        base = (*next + align - 1) & ~(align - 1);
        if (base < *next || base > end || b->size > end - base) {
            kc_log(&bus->log, KC_LOG_ERROR,
                   "pci device %s: no room for BAR%u (0x%llx bytes) in the %s window "
                   "[0x%llx, 0x%llx)",
                   d->info.name, i, (unsigned long long)b->size, io ? "I/O" : "memory",
                   io ? (unsigned long long)EM_PCI_IO_BASE : (unsigned long long)EM_PCI_MMIO_BASE,
                   (unsigned long long)end);
            return -ENOSPC;
        }
        addr[i] = base;
        *next = base + b->size;
    }
    for (unsigned i = 0; i < EM_PCI_BARS; i++)
        if (d->bar[i].size)
            bar_set_reg_addr(d, i, addr[i]);
    bus->mmio_next = mmio_next;
    bus->io_next = (uint32_t)io_next;
    return 0;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a <= b + (blen - 1) && b <= a + (alen - 1);
}

/* The bus's own ranges a BAR may not take: another mapped BAR of the same
 * kind, the CAM ports, ECAM. Returns what is in the way, or NULL. */
static const char *pci_conflict(const struct em_pci_bus *bus, const struct pci_bar *self,
                                uint64_t addr)
{
    bool io = self->flags & EM_PCI_BAR_IO;

    if (io && ranges_overlap(addr, self->size, EM_PCI_CAM_ADDR_PORT, 8))
        return "the PCI configuration ports";
    if (!io && ranges_overlap(addr, self->size, EM_PCI_ECAM_BASE, EM_PCI_ECAM_SIZE))
        return "the PCI ECAM window";
    for (unsigned s = 0; s < EM_PCI_SLOTS; s++) {
        for (unsigned f = 0; f < EM_PCI_FUNCS; f++) {
            const struct em_pci_dev *o = bus->devs[s][f];

            for (unsigned i = 0; o && i < EM_PCI_BARS; i++) {
                const struct pci_bar *b = &o->bar[i];

                if (b != self && b->mapped && (b->flags & EM_PCI_BAR_IO) == (io ? 1u : 0u) &&
                    ranges_overlap(addr, self->size, b->mapped_addr, b->size))
                    return b->name;
            }
        }
    }
    return NULL;
}

static struct kc_bus *bar_bus(const struct em_pci_bus *bus, const struct pci_bar *b)
{
    return b->flags & EM_PCI_BAR_IO ? bus->cfg.pio : bus->cfg.mmio;
}

/* Tells the device model where its BAR decodes now (lock held). */
static void bar_mapped_hook(struct em_pci_dev *d, unsigned index, uint64_t addr, bool mapped)
{
    if (d->info.ops && d->info.ops->bar_mapped)
        d->info.ops->bar_mapped(d->info.opaque, d, index, addr, mapped);
}

static void bar_unmap(struct em_pci_dev *d, unsigned index)
{
    struct pci_bar *b = &d->bar[index];

    if (!b->mapped)
        return;
    kc_bus_unregister(bar_bus(d->bus, b), b->mapped_addr);
    b->mapped = false;
    bar_mapped_hook(d, index, b->mapped_addr, false);
}

static void bar_map(struct em_pci_dev *d, unsigned index, uint64_t addr)
{
    struct em_pci_bus *bus = d->bus;
    struct pci_bar *b = &d->bar[index];
    const char *other = pci_conflict(bus, b, addr);

    if (other) {
        /* Retried on every change (the other range may move away), but
         * reported once per address. */
        if (!b->refused || b->refused_addr != addr)
            kc_log(&bus->log, KC_LOG_WARN,
                   "pci: %s not mapped at 0x%llx (0x%llx bytes): it would overlap %s", b->name,
                   (unsigned long long)addr, (unsigned long long)b->size, other);
        b->refused = true;
        b->refused_by_bus = false;
        b->refused_addr = addr;
        return;
    }
    /* A range the bus refused (another device's, reported by the bus) is
     * not tried again until the guest moves the BAR. */
    if (b->refused && b->refused_by_bus && b->refused_addr == addr)
        return;
    if (kc_bus_register(bar_bus(bus, b), addr, b->size, b->ops, b->opaque, b->name) < 0) {
        b->refused = true;
        b->refused_by_bus = true;
        b->refused_addr = addr;
        return;
    }
    b->refused = false;
    b->mapped = true;
    b->mapped_addr = addr;
    bar_mapped_hook(d, index, addr, true);
}

void pci_update_mappings(struct em_pci_bus *bus)
{
    uint64_t addr;

    for (unsigned s = 0; s < EM_PCI_SLOTS; s++) {
        for (unsigned f = 0; f < EM_PCI_FUNCS; f++) {
            struct em_pci_dev *d = bus->devs[s][f];

            for (unsigned i = 0; d && i < EM_PCI_BARS; i++) {
                struct pci_bar *b = &d->bar[i];
                bool want = bar_target(d, i, &addr);

                if (b->mapped && (!want || addr != b->mapped_addr))
                    bar_unmap(d, i);
                if (!want)
                    b->refused = false;
            }
        }
    }
    for (unsigned s = 0; s < EM_PCI_SLOTS; s++) {
        for (unsigned f = 0; f < EM_PCI_FUNCS; f++) {
            struct em_pci_dev *d = bus->devs[s][f];

            for (unsigned i = 0; d && i < EM_PCI_BARS; i++) {
                if (!d->bar[i].mapped && bar_target(d, i, &addr))
                    bar_map(d, i, addr);
            }
        }
    }
}

void pci_unmap_bars(struct em_pci_dev *d)
{
    for (unsigned i = 0; i < EM_PCI_BARS; i++)
        bar_unmap(d, i);
}

uint64_t em_pci_bar_addr(const struct em_pci_dev *d, unsigned index)
{
    uint64_t addr;

    if (index >= EM_PCI_BARS || !d->bar[index].size)
        return 0;
    pthread_mutex_lock(&d->bus->lock);
    addr = bar_reg_addr(d, index);
    pthread_mutex_unlock(&d->bus->lock);
    return addr;
}

bool em_pci_bar_mapped(const struct em_pci_dev *d, unsigned index)
{
    bool mapped;

    if (index >= EM_PCI_BARS)
        return false;
    pthread_mutex_lock(&d->bus->lock);
    mapped = d->bar[index].mapped;
    pthread_mutex_unlock(&d->bus->lock);
    return mapped;
}
