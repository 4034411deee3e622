/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The debug-exit port (--debug-exit), as QEMU's isa-debug-exit: a guest
 * write of V to port 0xf4 ends kvmemu with status (V << 1) | 1, so that the
 * same test guests run under both.
 */
#include <errno.h>
#include <stdlib.h>

#include "devices.h"

#define DEBUG_EXIT_PORT 0xf4

struct debug_exit {
    struct em_machine *m;
};

static void debug_exit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct debug_exit *d = opaque;

    (void)offset;
    (void)size;
    em_timeline_mark(em_machine_timeline(d->m), "debug-exit write 0x%llx",
                     (unsigned long long)value);
    em_machine_request(d->m, EM_REQ_POWEROFF, (int)(((value & 0xff) << 1) | 1));
}

static const struct kc_io_ops debug_exit_ops = { .write = debug_exit_write };

static void debug_exit_destroy(void *state)
{
    free(state);
}

static const struct em_device_ops debug_exit_dev = { .destroy = debug_exit_destroy };

int em_debug_exit_create(struct em_machine *m)
{
    struct debug_exit *d;
    int ret;

    if (!em_machine_config(m)->debug_exit)
        return 0;
    d = calloc(1, sizeof(*d));
    if (!d) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "debug-exit: out of memory");
        return -ENOMEM;
    }
    d->m = m;
    ret = em_machine_add_device(m, "debug-exit", d, &debug_exit_dev);
    if (ret < 0) {
        free(d);
        return ret;
    }
    return em_machine_pio(m, DEBUG_EXIT_PORT, 1, &debug_exit_ops, d, "debug-exit");
}
