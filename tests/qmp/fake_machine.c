/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fake machine: QEMU's state changes and events, without a guest. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fake_machine.h"

static struct fake_machine *to_fake(void *opaque)
{
    return opaque;
}

static enum em_run_state f_state(void *opaque)
{
    struct fake_machine *f = to_fake(opaque);
    enum em_run_state s;

    pthread_mutex_lock(&f->lock);
    s = f->state;
    pthread_mutex_unlock(&f->lock);
    return s;
}

static void event(struct fake_machine *f, const char *name, json_object *data)
{
    if (f->mon)
        em_monitor_event(f->mon, name, data);
    else
        json_object_put(data);
}

static json_object *shutdown_data(bool guest, const char *reason)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, "guest", json_object_new_boolean(guest));
    json_object_object_add(d, "reason", json_object_new_string(reason));
    return d;
}

static int f_stop(void *opaque, char *err, size_t errlen)
{
    struct fake_machine *f = to_fake(opaque);
    bool changed;

    (void)err;
    (void)errlen;
    if (f->stop_delay_ms)
        nanosleep(
            &(struct timespec){ f->stop_delay_ms / 1000, (f->stop_delay_ms % 1000) * 1000000L },
            NULL);
    pthread_mutex_lock(&f->lock);
    f->stops++;
    changed = f->state == EM_RUN_RUNNING;
    if (changed)
        f->state = EM_RUN_PAUSED;
    pthread_mutex_unlock(&f->lock);
    if (changed)
        event(f, "STOP", NULL);
    return 0;
}

static int f_cont(void *opaque, char *err, size_t errlen)
{
    struct fake_machine *f = to_fake(opaque);
    int ret = 0;
    bool changed = false;

    pthread_mutex_lock(&f->lock);
    f->conts++;
    if (f->state == EM_RUN_SHUTDOWN || f->state == EM_RUN_GUEST_PANICKED) {
        snprintf(err, errlen, "Resetting the Virtual Machine is required");
        ret = -EBUSY;
    } else if (f->state != EM_RUN_RUNNING) {
        f->state = EM_RUN_RUNNING;
        changed = true;
    }
    pthread_mutex_unlock(&f->lock);
    if (changed)
        event(f, "RESUME", NULL);
    return ret;
}

static int f_powerdown(void *opaque, char *err, size_t errlen)
{
    struct fake_machine *f = to_fake(opaque);

    (void)err;
    (void)errlen;
    pthread_mutex_lock(&f->lock);
    f->powerdowns++;
    pthread_mutex_unlock(&f->lock);
    event(f, "POWERDOWN", NULL);
    return 0;
}

static int f_reset(void *opaque, char *err, size_t errlen)
{
    struct fake_machine *f = to_fake(opaque);

    (void)err;
    (void)errlen;
    pthread_mutex_lock(&f->lock);
    f->resets++;
    pthread_mutex_unlock(&f->lock);
    event(f, "RESET", shutdown_data(false, "host-qmp-system-reset"));
    return 0;
}

static int f_quit(void *opaque, char *err, size_t errlen)
{
    struct fake_machine *f = to_fake(opaque);

    (void)err;
    (void)errlen;
    pthread_mutex_lock(&f->lock);
    f->quits++;
    f->state = EM_RUN_SHUTDOWN;
    pthread_mutex_unlock(&f->lock);
    event(f, "SHUTDOWN", shutdown_data(false, "host-qmp-quit"));
    if (f->on_quit)
        f->on_quit(f);
    return 0;
}

static int f_cpu_thread_id(void *opaque, unsigned i)
{
    (void)opaque;
    return 4000 + (int)i;
}

static bool f_chardev(void *opaque, unsigned i, struct em_qmp_chardev *out)
{
    struct fake_machine *f = to_fake(opaque);

    if (i > 0)
        return false;
    *out = f->chardev;
    return true;
}

static void f_completed(void *opaque, unsigned long *int3, unsigned long *fwait)
{
    (void)opaque;
    *int3 = 3;
    *fwait = 1;
}

static const struct em_qmp_machine_ops fake_ops = {
    .state = f_state,
    .stop = f_stop,
    .cont = f_cont,
    .powerdown = f_powerdown,
    .reset = f_reset,
    .quit = f_quit,
    .cpu_thread_id = f_cpu_thread_id,
    .chardev = f_chardev,
    .completed = f_completed,
};

void fake_machine_init(struct fake_machine *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    f->state = EM_RUN_RUNNING;
    snprintf(f->disk.device, sizeof(f->disk.device), "virtio0");
    snprintf(f->disk.node, sizeof(f->disk.node), "disk0");
    f->disk.file = "/var/lib/fake/disk.img";
    f->disk.size = 16ull << 20;
    snprintf(f->chardev.label, sizeof(f->chardev.label), "serial0");
    snprintf(f->chardev.filename, sizeof(f->chardev.filename), "stdio");
    f->chardev.frame_opened = true;
    f->m = (struct em_qmp_machine){
        .ops = &fake_ops,
        .opaque = f,
        .name = "fake",
        .uuid = "6f9619ff-8b86-d011-b42d-00c04fc964ff",
        .ncpus = 2,
        .nr_disks = 1,
        .disks = &f->disk,
    };
}

void fake_machine_fini(struct fake_machine *f)
{
    pthread_mutex_destroy(&f->lock);
}

unsigned fake_machine_calls(struct fake_machine *f, const unsigned *counter)
{
    unsigned n;

    pthread_mutex_lock(&f->lock);
    n = *counter;
    pthread_mutex_unlock(&f->lock);
    return n;
}
