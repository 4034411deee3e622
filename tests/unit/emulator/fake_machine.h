/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A machine without KVM for device unit tests: it implements the part of
 * machine.h that devices use, over real libkvmcore buses (kc_bus_create),
 * a real timeline and a real libuv loop, and records what the devices ask
 * of the machine (interrupt levels, reset/power-off requests). A test
 * calls a device's em_*_create() on it, then drives the device's ports
 * exactly as a guest would.
 */
#ifndef FAKE_MACHINE_H
#define FAKE_MACHINE_H

#include "machine.h"
#include "testutil.h"

#define FAKE_MAX_GSI 24

/* log may be NULL (messages then go nowhere). */
struct em_machine *fake_machine_create(uint64_t ram_size, unsigned ncpus, struct log_capture *log);
/* Destroys the devices (reverse order) and lets the loop close their
 * handles; the timeline and the counters stay readable. */
void fake_machine_finish(struct em_machine *m);
/* fake_machine_finish() if not done, then frees everything. */
void fake_machine_free(struct em_machine *m);
/* Runs every reset hook, as a machine reset does. */
void fake_machine_reset(struct em_machine *m);
/* The configuration devices read (em_machine_config()), for a test to set
 * options before it creates a device. */
struct em_config *fake_machine_config(struct em_machine *m);

struct kc_bus *fake_pio(struct em_machine *m);
struct kc_bus *fake_mmio(struct em_machine *m);

/* Port accesses through the bus; a read of an unclaimed port fails the
 * test (the device should be there). */
uint64_t fake_in(struct em_machine *m, uint16_t port, unsigned size);
void fake_out(struct em_machine *m, uint16_t port, uint64_t value, unsigned size);
static inline uint8_t fake_inb(struct em_machine *m, uint16_t port)
{
    return (uint8_t)fake_in(m, port, 1);
}
static inline void fake_outb(struct em_machine *m, uint16_t port, uint8_t v)
{
    fake_out(m, port, v, 1);
}

/* The level last driven on gsi, and how many times it was driven. */
int fake_irq_level(struct em_machine *m, unsigned gsi);
unsigned fake_irq_calls(struct em_machine *m, unsigned gsi);
/* How many requests of this kind devices made. */
unsigned fake_requests(struct em_machine *m, enum em_request req);
/* How many timeline events contain `needle`. */
unsigned fake_timeline_count(struct em_machine *m, const char *needle);

#endif
