/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine: a PC-like board on libkvmcore. It owns the VM, its RAM and
 * vCPUs, the devices (created in order from the board table, devices.c),
 * the boot timeline, and the main thread's event loop (libuv), which is
 * where power-off, reset and errors raised on vCPU threads are acted on.
 *
 * Devices see the machine only through these functions.
 */
#ifndef EM_MACHINE_H
#define EM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include <kvmcore/kvmcore.h>

#include "loader/loader.h"
#include "memmap.h"
#include "monitor/qmp.h"
#include "options.h"
#include "timeline.h"

struct em_machine;

/* What a vCPU thread or a device asks the main thread to do. */
enum em_request {
    EM_REQ_NONE,
    EM_REQ_RESET,    /* reset in place, or exit, per --on-reboot */
    EM_REQ_POWEROFF, /* end with the given status */
    EM_REQ_ERROR,    /* the VM cannot go on: end with status 1 */
    EM_REQ_PANIC,    /* the guest panicked: --on-panic says what next */
};

/* Builds the whole machine and loads the boot image; vCPUs do not run
 * yet. NULL after printing why. */
struct em_machine *em_machine_create(const struct em_config *cfg, struct em_timeline *tl);
/* Runs until power-off or an error; returns the process exit status. */
int em_machine_run(struct em_machine *m);
void em_machine_destroy(struct em_machine *m);

/* Thread-safe. The first power-off or error wins; a reset is dropped if
 * either is already pending. */
void em_machine_request(struct em_machine *m, enum em_request req, int status);
/* The same, asked by the host rather than the guest: `reason` is QEMU's
 * ShutdownCause for the SHUTDOWN or RESET event ("host-qmp-quit", ...). */
void em_machine_request_by_host(struct em_machine *m, enum em_request req, int status,
                                const char *reason);

/* ---- control (the monitor's thread; never a vCPU thread) ---- */

/* A reset asked by the host that returns once it is done (or the machine
 * ended instead, with --on-reboot exit): what the host does next (press
 * the power button) then reaches the new boot. 0, or -ETIMEDOUT. */
int em_machine_reset_by_host(struct em_machine *m, const char *reason);

enum em_run_state em_machine_state(struct em_machine *m);
/* stop: returns once no vCPU executes guest code (STOP event); cont: runs
 * them again, or for the first time after --paused (RESUME). 0, or -errno
 * with a message for the client in err. */
int em_machine_stop(struct em_machine *m, char *err, size_t errlen);
int em_machine_cont(struct em_machine *m, char *err, size_t errlen);
/* The host thread id of vCPU i, -1 before it first ran. */
int em_machine_vcpu_thread_id(struct em_machine *m, unsigned i);
/* How many instructions kvmemu completed for the host (insn_complete.h). */
void em_machine_completed(struct em_machine *m, unsigned long *int3, unsigned long *fwait);

/* A QMP event for the monitor's clients (dropped without a monitor); takes
 * `data`, which may be NULL. Any thread. */
void em_machine_event(struct em_machine *m, const char *event, json_object *data);
/* Disk `index` met a host I/O error during `op`: BLOCK_IO_ERROR. */
void em_machine_block_io_error(struct em_machine *m, unsigned index, const char *op, int err);

/* ---- for devices ---- */

const struct em_config *em_machine_config(const struct em_machine *m);
const struct em_memmap *em_machine_memmap(const struct em_machine *m);
struct kc_vm *em_machine_vm(const struct em_machine *m);
struct kc_mem *em_machine_mem(const struct em_machine *m);
struct em_timeline *em_machine_timeline(const struct em_machine *m);
const struct kc_logger *em_machine_logger(const struct em_machine *m);
/* The main thread's loop: device I/O (chardevs) is served there. */
uv_loop_t *em_machine_loop(struct em_machine *m);
unsigned em_machine_ncpus(const struct em_machine *m);

/* Drives an interrupt line (GSI). */
int em_machine_irq(struct em_machine *m, unsigned gsi, int level);

/* Port and MMIO registration, failing loudly with the device's name. */
int em_machine_pio(struct em_machine *m, uint16_t port, uint16_t len, const struct kc_io_ops *ops,
                   void *opaque, const char *name);
int em_machine_mmio(struct em_machine *m, uint64_t base, uint64_t len, const struct kc_io_ops *ops,
                    void *opaque, const char *name);

struct em_device_ops {
    /* Machine reset, with every vCPU stopped: back to the power-on state. */
    void (*reset)(void *state);
    /* Frees the device; called in reverse order of creation. */
    void (*destroy)(void *state);
};

/* Adds a device the machine resets and destroys; `name` finds it again. */
int em_machine_add_device(struct em_machine *m, const char *name, void *state,
                          const struct em_device_ops *ops);
/* The state of the device called `name`, or NULL. */
void *em_machine_device(const struct em_machine *m, const char *name);

/* A device's character backend, listed by the monitor's query-chardev
 * under `label` ("serial0"); `label` must outlive the machine. */
struct em_chardev;
int em_machine_add_chardev(struct em_machine *m, const char *label, struct em_chardev *chr);
unsigned em_machine_chardev_count(const struct em_machine *m);
struct em_chardev *em_machine_chardev(const struct em_machine *m, unsigned i, const char **label);

/* Where the ACPI RSDP is (0 without ACPI), for loaders and fw_cfg. */
uint64_t em_machine_rsdp(const struct em_machine *m);

#endif
