/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's view of the machine: the QMP hooks (monitor/qmp.h) in
 * terms of machine.h, and the listeners from --monitor. Hooks run on the
 * monitor's thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "control.h"
#include "dev/pm.h"
#include "machine.h"
#include "monitor/monitor.h"
#include "virtio/blk.h"
#include "virtio/board.h"

struct em_control {
    struct em_machine *m;
    struct em_qmp_machine qm;
    struct em_qmp_disk disks[EM_MAX_DISKS];
    char files[EM_MAX_DISKS][PATH_MAX];
    struct em_monitor *mon;
};

static struct em_machine *machine_of(void *opaque)
{
    return ((struct em_control *)opaque)->m;
}

static enum em_run_state c_state(void *opaque)
{
    return em_machine_state(machine_of(opaque));
}

static int c_stop(void *opaque, char *err, size_t errlen)
{
    return em_machine_stop(machine_of(opaque), err, errlen);
}

static int c_cont(void *opaque, char *err, size_t errlen)
{
    return em_machine_cont(machine_of(opaque), err, errlen);
}

static int c_powerdown(void *opaque, char *err, size_t errlen)
{
    struct em_machine *m = machine_of(opaque);
    struct em_pm *pm = em_machine_device(m, EM_PM_DEVICE_NAME);

    /* QEMU presses a button the guest may not have; saying so is kinder
     * to whoever waits for the guest to power off. */
    if (em_machine_config(m)->no_acpi || !pm) {
        snprintf(err, errlen, "the machine has no ACPI power button (it runs with --no-acpi)");
        return -ENODEV;
    }
    em_pm_power_button(pm);
    em_machine_event(m, "POWERDOWN", NULL);
    return 0;
}

static int c_reset(void *opaque, char *err, size_t errlen)
{
    if (em_machine_reset_by_host(machine_of(opaque), "host-qmp-system-reset") < 0) {
        snprintf(err, errlen, "the machine did not finish its reset within 10 s");
        return -ETIMEDOUT;
    }
    return 0;
}

static int c_quit(void *opaque, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    em_machine_request_by_host(machine_of(opaque), EM_REQ_POWEROFF, EM_EXIT_OK, "host-qmp-quit");
    return 0;
}

static int c_cpu_thread_id(void *opaque, unsigned i)
{
    return em_machine_vcpu_thread_id(machine_of(opaque), i);
}

static bool c_chardev(void *opaque, unsigned i, struct em_qmp_chardev *out)
{
    const char *label;
    struct em_chardev *chr = em_machine_chardev(machine_of(opaque), i, &label);

    if (!chr)
        return false;
    snprintf(out->label, sizeof(out->label), "%s", label);
    out->frame_opened = em_chardev_filename(chr, out->filename, sizeof(out->filename));
    return true;
}

static void c_completed(void *opaque, unsigned long *int3, unsigned long *fwait)
{
    em_machine_completed(machine_of(opaque), int3, fwait);
}

static const struct em_qmp_machine_ops control_ops = {
    .state = c_state,
    .stop = c_stop,
    .cont = c_cont,
    .powerdown = c_powerdown,
    .reset = c_reset,
    .quit = c_quit,
    .cpu_thread_id = c_cpu_thread_id,
    .chardev = c_chardev,
    .completed = c_completed,
};

/* A disk given as fd=N is shown by the file behind the descriptor. */
static void disk_file(const struct em_disk_spec *d, char *buf, size_t len)
{
    char link[64];
    ssize_t n;

    if (d->path) {
        snprintf(buf, len, "%s", d->path);
        return;
    }
    snprintf(link, sizeof(link), "/proc/self/fd/%d", d->fd);
    n = readlink(link, buf, len - 1);
    if (n < 0)
        snprintf(buf, len, "fd=%d", d->fd);
    else
        buf[n] = '\0';
}

static void describe(struct em_control *c)
{
    const struct em_config *cfg = em_machine_config(c->m);

    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        struct em_qmp_disk *d = &c->disks[i];
        struct em_vblk *blk = em_virtio_board_disk(c->m, i);

        snprintf(d->device, sizeof(d->device), "virtio%u", i);
        snprintf(d->node, sizeof(d->node), "disk%u", i);
        disk_file(&cfg->disks[i], c->files[i], sizeof(c->files[i]));
        d->file = c->files[i];
        d->readonly = cfg->disks[i].readonly;
        d->direct = cfg->disks[i].cache_none;
        d->size = blk ? em_vblk_size(blk) : 0;
    }
    c->qm = (struct em_qmp_machine){
        .ops = &control_ops,
        .opaque = c,
        .name = cfg->name,
        .ncpus = cfg->smp,
        .nr_disks = cfg->nr_disks,
        .disks = c->disks,
        .timeline = em_machine_timeline(c->m),
    };
    snprintf(c->qm.uuid, sizeof(c->qm.uuid), "%s", cfg->uuid);
}

struct em_control *em_control_create(struct em_machine *m)
{
    const struct em_config *cfg = em_machine_config(m);
    struct em_control *c = calloc(1, sizeof(*c));
    int ret = 0;

    if (!c) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "monitor: out of memory");
        return NULL;
    }
    c->m = m;
    describe(c);
    c->mon = em_monitor_create(&c->qm, em_machine_logger(m));
    if (!c->mon) {
        free(c);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->nr_monitors && ret == 0; i++)
        ret = cfg->monitors[i].path ? em_monitor_listen_unix(c->mon, cfg->monitors[i].path)
                                    : em_monitor_listen_fd(c->mon, cfg->monitors[i].fd);
    if (ret == 0)
        ret = em_monitor_start(c->mon);
    if (ret < 0) {
        em_control_destroy(c);
        return NULL;
    }
    return c;
}

void em_control_destroy(struct em_control *c)
{
    if (!c)
        return;
    em_monitor_destroy(c->mon);
    free(c);
}

void em_control_event(struct em_control *c, const char *event, json_object *data)
{
    em_monitor_event(c->mon, event, data);
}
