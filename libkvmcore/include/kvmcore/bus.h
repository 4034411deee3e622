/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An address space that devices claim ranges of: one for port I/O, one for
 * MMIO per VM. A device registers (base, length, const ops, opaque); its
 * handlers receive the offset within its range, never the absolute address,
 * so the same device model works wherever it is placed.
 *
 * Concurrency: dispatch is safe from any number of vCPU threads while other
 * threads register and unregister ranges. The bus lock is held only for the
 * lookup, not while a handler runs, so a handler may itself (un)register
 * ranges (a guest moving a PCI BAR). Consequently a handler may still be
 * running for an access that began before kc_bus_unregister() returned:
 * free a device's opaque only once the vCPUs are paused or stopped.
 */
#ifndef KVMCORE_BUS_H
#define KVMCORE_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/log.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Accesses are 1 to 8 bytes, little-endian, in `value`'s low bytes. A read
 * handler's result is truncated to `size` bytes. A NULL handler makes that
 * direction read as all-ones / ignore writes, as an unassigned port does.
 */
struct kc_io_ops {
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

enum kc_bus_kind {
    KC_BUS_PIO,
    KC_BUS_MMIO,
};

/* What to do with an access no device claims. */
enum kc_unhandled_action {
    /* Reads return all-ones, writes are dropped; the vCPU continues. */
    KC_UNHANDLED_IGNORE,
    /* Stop: the run loop hands the exit back to its caller. */
    KC_UNHANDLED_STOP,
};

struct kc_bus_access {
    enum kc_bus_kind kind;
    uint64_t addr;
    unsigned size;
    bool is_write;
    uint64_t value; /* for writes */
};

typedef enum kc_unhandled_action (*kc_unhandled_fn)(void *opaque, const struct kc_bus_access *a);

struct kc_bus;

/* log is copied; NULL means KC_LOGGER_DEFAULT. */
struct kc_bus *kc_bus_create(enum kc_bus_kind kind, const struct kc_logger *log);
void kc_bus_destroy(struct kc_bus *bus);

/*
 * Claims [base, base + len). -EINVAL for len 0 or a range that wraps,
 * -EEXIST (with both claimants named) if it overlaps a registered range.
 * `name` is used in messages and must outlive the registration.
 */
int kc_bus_register(struct kc_bus *bus, uint64_t base, uint64_t len, const struct kc_io_ops *ops,
                    void *opaque, const char *name);
/* Releases the range that starts exactly at base; -ENOENT if none does. */
int kc_bus_unregister(struct kc_bus *bus, uint64_t base);

/*
 * Dispatches one access. Returns true if a device handled it; false if the
 * access was unclaimed (then the policy decided: *value is all-ones for a
 * read, and *stop tells whether the policy asked to stop).
 */
bool kc_bus_read(struct kc_bus *bus, uint64_t addr, unsigned size, uint64_t *value, bool *stop);
bool kc_bus_write(struct kc_bus *bus, uint64_t addr, uint64_t value, unsigned size, bool *stop);

/*
 * Unclaimed accesses: counted, reported (the first few at KC_LOG_WARN, the
 * rest at KC_LOG_DEBUG), then handed to the policy hook, which decides.
 * Without a hook the action is KC_UNHANDLED_IGNORE.
 */
void kc_bus_set_unhandled_policy(struct kc_bus *bus, kc_unhandled_fn fn, void *opaque);
uint64_t kc_bus_unhandled_count(const struct kc_bus *bus);

enum kc_bus_kind kc_bus_kind(const struct kc_bus *bus);

#ifdef __cplusplus
}
#endif

#endif
