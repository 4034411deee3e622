/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pvpanic at port 0x505, as QEMU's pvpanic-isa: a read returns the events
 * the device supports; a guest writes PANICKED when its kernel panics
 * (the machine then does what --on-panic says, and the monitor sends
 * GUEST_PANICKED) and CRASH_LOADED when a crash kernel takes over.
 */
#include <errno.h>
#include <stdlib.h>

#include "devices.h"

#define PVPANIC_PORT         0x505
#define PVPANIC_PANICKED     (1u << 0)
#define PVPANIC_CRASH_LOADED (1u << 1)

struct pvpanic {
    struct em_machine *m;
};

static uint64_t pvpanic_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pvpanic *p = opaque;

    (void)offset;
    (void)size;
    if (value & PVPANIC_PANICKED) {
        em_timeline_mark(em_machine_timeline(p->m), "guest panicked (pvpanic)");
        em_machine_request(p->m, EM_REQ_PANIC, 0);
    } else if (value & PVPANIC_CRASH_LOADED) {
        json_object *data = json_object_new_object();

        json_object_object_add(data, "action", json_object_new_string("run"));
        em_timeline_mark(em_machine_timeline(p->m), "guest crash kernel loaded (pvpanic)");
        em_machine_event(p->m, "GUEST_CRASHLOADED", data);
    }
}

static const struct kc_io_ops pvpanic_ops = {
    .read = pvpanic_read,
    .write = pvpanic_write,
};

static void pvpanic_destroy(void *state)
{
    free(state);
}

static const struct em_device_ops pvpanic_dev = { .destroy = pvpanic_destroy };

int em_pvpanic_create(struct em_machine *m)
{
    struct pvpanic *p = calloc(1, sizeof(*p));
    int ret;

    if (!p) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "pvpanic: out of memory");
        return -ENOMEM;
    }
    p->m = m;
    ret = em_machine_add_device(m, "pvpanic", p, &pvpanic_dev);
    if (ret < 0) {
        free(p);
        return ret;
    }
    return em_machine_pio(m, PVPANIC_PORT, 1, &pvpanic_ops, p, "pvpanic");
}
