/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio devices on the machine: each from its factory, on the PCI bus
 * through the virtio-pci transport, reset and destroyed by the machine
 * (after the bus was created and before it is destroyed, as the board
 * table's order gives).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "pci/pci.h"
#include "virtio/blk.h"
#include "virtio/board.h"
#include "virtio/devices.h"
#include "virtio/pci.h"

static void vp_machine_reset(void *state)
{
    em_virtio_pci_reset(state);
}

static void vp_machine_destroy(void *state)
{
    em_virtio_pci_destroy(state);
}

static const struct em_device_ops vp_machine_ops = {
    .reset = vp_machine_reset,
    .destroy = vp_machine_destroy,
};

/* Plugs one device made by a factory (NULL: the factory said why). */
static int add(struct em_machine *m, struct em_pci_bus *bus, struct em_virtio_dev *vd, int slot,
               const char *name)
{
    struct em_virtio_pci *t;
    int ret;

    if (!vd)
        return -EINVAL;
    t = em_virtio_pci_plug(bus, vd, slot, name);
    if (!t) {
        ret = -errno;
        em_virtio_destroy(vd);
        return ret;
    }
    /* The transport's copy of the name lives as long as the device. */
    ret = em_machine_add_device(m, em_virtio_pci_name(t), t, &vp_machine_ops);
    if (ret < 0)
        em_virtio_pci_destroy(t);
    return ret;
}

/*
 * A disk's host I/O errors become the monitor's BLOCK_IO_ERROR event, and
 * the monitor finds the disk's model here. The hook's state is a machine
 * device of its own, created before the disk, so that it is destroyed
 * after it.
 */
struct blk_hook {
    struct em_machine *m;
    unsigned index;
    struct em_vblk *blk;
    char name[32];
};

static void hook_name(char *buf, size_t len, unsigned i)
{
    snprintf(buf, len, "virtio-blk%u-events", i);
}

struct em_vblk *em_virtio_board_disk(struct em_machine *m, unsigned i)
{
    char name[32];
    struct blk_hook *h;

    hook_name(name, sizeof(name), i);
    h = em_machine_device(m, name);
    return h ? h->blk : NULL;
}

static void blk_io_error(void *opaque, const char *disk, const char *op, int err)
{
    struct blk_hook *h = opaque;

    (void)disk;
    em_machine_block_io_error(h->m, h->index, op, err);
}

static void blk_hook_destroy(void *state)
{
    free(state);
}

static const struct em_device_ops blk_hook_ops = { .destroy = blk_hook_destroy };

static int add_disk(struct em_machine *m, struct em_pci_bus *bus, const struct em_vdev_env *env,
                    unsigned i)
{
    struct blk_hook *h = calloc(1, sizeof(*h));
    struct em_vblk_opts opts = { .on_io_error = blk_io_error, .opaque = h };
    char name[32];
    int ret;

    if (!h)
        return -ENOMEM;
    *h = (struct blk_hook){ .m = m, .index = i };
    hook_name(h->name, sizeof(h->name), i);
    ret = em_machine_add_device(m, h->name, h, &blk_hook_ops);
    if (ret < 0) {
        free(h);
        return ret;
    }
    snprintf(name, sizeof(name), "virtio-blk%u", i);
    return add(m, bus, em_vblk_create_opts(env, &em_machine_config(m)->disks[i], &opts, &h->blk),
               em_machine_config(m)->disks[i].slot, name);
}

/* Whether a device with this slot is plugged in this pass: the ones that
 * name their slot first, so that a device placed automatically never takes
 * a slot that a later one names. */
static bool this_pass(int slot, bool named_pass)
{
    return (slot != EM_SLOT_AUTO) == named_pass;
}

static int create_pass(struct em_machine *m, struct em_pci_bus *bus, bool named)
{
    const struct em_config *cfg = em_machine_config(m);
    const struct em_vdev_env env = {
        .mem = em_machine_mem(m),
        .log = em_machine_logger(m),
        .main_loop = em_machine_loop(m),
    };
    char name[32];
    int ret = 0;

    for (unsigned i = 0; i < cfg->nr_disks && ret == 0; i++) {
        if (!this_pass(cfg->disks[i].slot, named))
            continue;
        ret = add_disk(m, bus, &env, i);
    }
    for (unsigned i = 0; i < cfg->nr_nics && ret == 0; i++) {
        if (!this_pass(cfg->nics[i].slot, named))
            continue;
        snprintf(name, sizeof(name), "virtio-net%u", i);
        ret = add(m, bus, em_vnet_create(&env, &cfg->nics[i]), cfg->nics[i].slot, name);
    }
    if (cfg->rng.enabled && this_pass(cfg->rng.slot, named) && ret == 0)
        ret = add(m, bus, em_vrng_create(&env, cfg->rng.max_bytes, cfg->rng.period_ms),
                  cfg->rng.slot, "virtio-rng");
    if (cfg->console_virtio && this_pass(cfg->console_slot, named) && ret == 0) {
        struct em_virtio_dev *vd = em_vconsole_create(&env, &cfg->console);

        ret = add(m, bus, vd, cfg->console_slot, "virtio-console");
        if (ret == 0)
            ret = em_machine_add_chardev(m, "console0", em_vconsole_chardev(vd));
    }
    return ret;
}

int em_virtio_board_create(struct em_machine *m)
{
    struct em_pci_bus *bus = em_machine_device(m, "pci");
    int ret;

    if (!bus) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "virtio: there is no PCI bus to plug into");
        return -ENODEV;
    }
    ret = create_pass(m, bus, true);
    return ret ? ret : create_pass(m, bus, false);
}
