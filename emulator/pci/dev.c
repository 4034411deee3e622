/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A PCI function: its configuration space with the standard (type 0)
 * header, write masks, the capability list, plugging into the bus and
 * unplugging.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci_internal.h"

/* ---- configuration space, host side ---- */

static bool in_space(unsigned offset, unsigned size)
{
    return offset < EM_PCI_CONFIG_SIZE && size <= EM_PCI_CONFIG_SIZE - offset;
}

static uint32_t get_le(const uint8_t *space, unsigned offset, unsigned size)
{
    uint32_t v = 0;

    if (!in_space(offset, size))
        return 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)space[offset + i] << (8 * i);
    return v;
}

static void set_le(uint8_t *space, unsigned offset, uint32_t v, unsigned size)
{
    if (!in_space(offset, size))
        return;
    for (unsigned i = 0; i < size; i++)
        space[offset + i] = (uint8_t)(v >> (8 * i));
}

uint8_t em_pci_get8(const struct em_pci_dev *d, unsigned offset)
{
    return (uint8_t)get_le(d->config, offset, 1);
}

uint16_t em_pci_get16(const struct em_pci_dev *d, unsigned offset)
{
    return (uint16_t)get_le(d->config, offset, 2);
}

uint32_t em_pci_get32(const struct em_pci_dev *d, unsigned offset)
{
    return get_le(d->config, offset, 4);
}

void em_pci_set8(struct em_pci_dev *d, unsigned offset, uint8_t v)
{
    set_le(d->config, offset, v, 1);
}

void em_pci_set16(struct em_pci_dev *d, unsigned offset, uint16_t v)
{
    set_le(d->config, offset, v, 2);
}

void em_pci_set32(struct em_pci_dev *d, unsigned offset, uint32_t v)
{
    set_le(d->config, offset, v, 4);
}

void em_pci_set_wmask8(struct em_pci_dev *d, unsigned offset, uint8_t mask)
{
    set_le(d->wmask, offset, mask, 1);
}

void em_pci_set_wmask16(struct em_pci_dev *d, unsigned offset, uint16_t mask)
{
    set_le(d->wmask, offset, mask, 2);
}

void em_pci_set_wmask32(struct em_pci_dev *d, unsigned offset, uint32_t mask)
{
    set_le(d->wmask, offset, mask, 4);
}

void em_pci_set_w1cmask16(struct em_pci_dev *d, unsigned offset, uint16_t mask)
{
    set_le(d->w1cmask, offset, mask, 2);
}

/* ---- creation ---- */

struct em_pci_dev *em_pci_dev_create(struct em_pci_bus *bus, const struct em_pci_dev_info *info)
{
    const char *name = info->name ? info->name : "pci device";
    struct em_pci_dev *d;

    if (info->intx_pin > 4) {
        kc_log(&bus->log, KC_LOG_ERROR, "pci device %s: interrupt pin %u is not 0-4 (none, A-D)",
               name, info->intx_pin);
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        kc_log(&bus->log, KC_LOG_ERROR, "pci device %s: out of memory", name);
        return NULL;
    }
    d->bus = bus;
    d->info = *info;
    d->info.name = name;
    d->cap_next = EM_PCI_CAP_START;

    em_pci_set16(d, EM_PCI_VENDOR_ID, info->vendor);
    em_pci_set16(d, EM_PCI_DEVICE_ID, info->device);
    em_pci_set8(d, EM_PCI_REVISION, info->revision);
    em_pci_set8(d, EM_PCI_CLASS_PROG, (uint8_t)info->class_code);
    em_pci_set16(d, EM_PCI_CLASS_PROG + 1, (uint16_t)(info->class_code >> 8));
    em_pci_set16(d, EM_PCI_SUBSYS_VENDOR, info->subsys_vendor);
    em_pci_set16(d, EM_PCI_SUBSYS_ID, info->subsys);
    em_pci_set8(d, EM_PCI_INTERRUPT_PIN, info->intx_pin);

    /* What software may change in a type 0 header; BAR masks come with
     * the BARs. Status error bits are write-1-to-clear. */
    em_pci_set_wmask16(d, EM_PCI_COMMAND,
                       EM_PCI_CMD_IO | EM_PCI_CMD_MEM | EM_PCI_CMD_MASTER | EM_PCI_CMD_PARITY |
                           EM_PCI_CMD_SERR | (info->intx_pin ? EM_PCI_CMD_INTX_DISABLE : 0));
    em_pci_set_w1cmask16(d, EM_PCI_STATUS, 0xf900);
    em_pci_set_wmask8(d, EM_PCI_CACHE_LINE, 0xff);
    em_pci_set_wmask8(d, EM_PCI_INTERRUPT_LINE, 0xff);
    return d;
}

/* ---- capabilities ---- */

int em_pci_dev_add_cap(struct em_pci_dev *d, uint8_t id, unsigned len)
{
    unsigned offset = d->cap_next;

    if (d->plugged || len < 2) {
        kc_log(&d->bus->log, KC_LOG_ERROR, "pci device %s: capability 0x%02x: %s", d->info.name, id,
               d->plugged ? "the device is already plugged" : "shorter than its 2-byte header");
        return -EINVAL;
    }
    if (len > EM_PCI_CAP_END - offset) {
        kc_log(&d->bus->log, KC_LOG_ERROR,
               "pci device %s: capability 0x%02x of %u bytes does not fit at 0x%x (the "
               "standard space ends at 0x%x)",
               d->info.name, id, len, offset, EM_PCI_CAP_END);
        return -ENOSPC;
    }
    em_pci_set8(d, offset, id);
    em_pci_set8(d, offset + 1, 0);
    if (d->cap_last)
        em_pci_set8(d, d->cap_last + 1, (uint8_t)offset);
    else
        em_pci_set8(d, EM_PCI_CAP_PTR, (uint8_t)offset);
    em_pci_set16(d, EM_PCI_STATUS, em_pci_get16(d, EM_PCI_STATUS) | EM_PCI_STATUS_CAP_LIST);
    d->cap_last = offset;
    /* Capabilities are dword aligned; the bottom two bits of a pointer
     * are reserved. */
    d->cap_next = (offset + len + 3) & ~3u;
    return (int)offset;
}

int em_pci_dev_find_cap(const struct em_pci_dev *d, uint8_t id)
{
    unsigned offset = em_pci_get8(d, EM_PCI_CAP_PTR);

    /* Bounded walk: our own lists have no loops, but stay safe anyway. */
    for (unsigned n = 0; offset && n < EM_PCI_CAP_END / 4; n++) {
        if (em_pci_get8(d, offset) == id)
            return (int)offset;
        offset = em_pci_get8(d, offset + 1) & ~3u;
    }
    return -ENOENT;
}

/* ---- plugging ---- */

static const char *fmt_bdf(char *buf, size_t len, unsigned slot, unsigned fn)
{
    snprintf(buf, len, "00:%02x.%u", slot, fn);
    return buf;
}

int em_pci_bus_free_slot(struct em_pci_bus *bus)
{
    int slot = -ENOSPC;

    pthread_mutex_lock(&bus->lock);
    for (unsigned s = 1; s < EM_PCI_SLOTS; s++) {
        if (!bus->devs[s][0]) {
            slot = (int)s;
            break;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    if (slot < 0)
        kc_log(&bus->log, KC_LOG_ERROR, "pci: all %d slots are in use", EM_PCI_SLOTS - 1);
    return slot;
}

int em_pci_dev_plug(struct em_pci_dev *d, unsigned slot, unsigned fn)
{
    struct em_pci_bus *bus = d->bus;
    char bdf[16];
    uint16_t cmd = 0;
    int ret;

    if (slot >= EM_PCI_SLOTS || fn >= EM_PCI_FUNCS) {
        kc_log(&bus->log, KC_LOG_ERROR,
               "pci device %s: slot %u function %u is out of range (slots 0-%d, functions 0-%d)",
               d->info.name, slot, fn, EM_PCI_SLOTS - 1, EM_PCI_FUNCS - 1);
        return -EINVAL;
    }
    pthread_mutex_lock(&bus->lock);
    if (d->plugged) {
        kc_log(&bus->log, KC_LOG_ERROR, "pci device %s: already plugged at %s", d->info.name,
               fmt_bdf(bdf, sizeof(bdf), d->slot, d->fn));
        ret = -EBUSY;
        goto out;
    }
    if (bus->devs[slot][fn]) {
        kc_log(&bus->log, KC_LOG_ERROR, "pci device %s: %s is taken by %s", d->info.name,
               fmt_bdf(bdf, sizeof(bdf), slot, fn), bus->devs[slot][fn]->info.name);
        ret = -EBUSY;
        goto out;
    }
    d->slot = slot;
    d->fn = fn;
    ret = pci_assign_bars(d);
    if (ret < 0)
        goto out;
    for (unsigned i = 0; i < EM_PCI_BARS; i++) {
        if (d->bar[i].size)
            cmd |= d->bar[i].flags & EM_PCI_BAR_IO ? EM_PCI_CMD_IO : EM_PCI_CMD_MEM;
    }
    /* What a BIOS leaves: decoding on for what the device has. */
    em_pci_set16(d, EM_PCI_COMMAND, em_pci_get16(d, EM_PCI_COMMAND) | cmd);
    if (d->info.intx_pin)
        em_pci_set8(d, EM_PCI_INTERRUPT_LINE, EM_PCI_GSI(slot, d->info.intx_pin - 1u));
    memcpy(d->config_init, d->config, sizeof(d->config));
    d->plugged = true;
    bus->devs[slot][fn] = d;
    pci_update_mappings(bus);
out:
    pthread_mutex_unlock(&bus->lock);
    return ret;
}

void em_pci_dev_destroy(struct em_pci_dev *d)
{
    struct em_pci_bus *bus;

    if (!d)
        return;
    bus = d->bus;
    pthread_mutex_lock(&bus->lock);
    if (d->plugged) {
        d->intx_level = false;
        pci_intx_update(d);
        pci_unmap_bars(d);
        bus->devs[d->slot][d->fn] = NULL;
        d->plugged = false;
        /* A BAR refused because of this one may fit now. */
        pci_update_mappings(bus);
    }
    pthread_mutex_unlock(&bus->lock);
    free(d);
}

/* ---- queries ---- */

const char *em_pci_dev_name(const struct em_pci_dev *d)
{
    return d->info.name;
}

unsigned em_pci_dev_slot(const struct em_pci_dev *d)
{
    return d->slot;
}

unsigned em_pci_dev_fn(const struct em_pci_dev *d)
{
    return d->fn;
}

int em_pci_dev_gsi(const struct em_pci_dev *d)
{
    if (!d->info.intx_pin)
        return -1;
    return EM_PCI_GSI(d->slot, d->info.intx_pin - 1u);
}

struct em_pci_dev *em_pci_bus_dev(struct em_pci_bus *bus, unsigned slot, unsigned fn)
{
    struct em_pci_dev *d = NULL;

    if (slot >= EM_PCI_SLOTS || fn >= EM_PCI_FUNCS)
        return NULL;
    pthread_mutex_lock(&bus->lock);
    d = bus->devs[slot][fn];
    pthread_mutex_unlock(&bus->lock);
    return d;
}
