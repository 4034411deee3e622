/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The I/O and MMIO buses: a sorted array of claimed ranges. The read lock
 * covers only the lookup; the handler runs after it is dropped, with a copy
 * of the entry, so a handler may re-register ranges without deadlocking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Unclaimed accesses reported at KC_LOG_WARN before the rest go to debug. */
#define UNHANDLED_WARN_LIMIT 10

struct bus_entry {
    uint64_t base;
    uint64_t len;
    const struct kc_io_ops *ops;
    void *opaque;
    const char *name;
};

struct kc_bus {
    enum kc_bus_kind kind;
    struct kc_logger log;
    pthread_rwlock_t lock;
    struct bus_entry *entries; /* sorted by base, never overlapping */
    unsigned n, cap;
    kc_unhandled_fn unhandled_fn;
    void *unhandled_opaque;
    _Atomic uint64_t unhandled;
    /* Ignored unclaimed accesses reported so far, for the warning limit. */
    _Atomic uint64_t reported;
};

static const char *kind_name(enum kc_bus_kind kind)
{
    return kind == KC_BUS_PIO ? "port" : "MMIO";
}

struct kc_bus *kc_bus_create(enum kc_bus_kind kind, const struct kc_logger *log)
{
    struct kc_bus *bus = calloc(1, sizeof(*bus));

    if (!bus) {
        KCI_ERR(log, "%s bus: out of memory", kind_name(kind));
        return NULL;
    }
    bus->kind = kind;
    bus->log = log ? *log : KC_LOGGER_DEFAULT;
    pthread_rwlock_init(&bus->lock, NULL);
    return bus;
}

void kc_bus_destroy(struct kc_bus *bus)
{
    if (!bus)
        return;
    pthread_rwlock_destroy(&bus->lock);
    free(bus->entries);
    free(bus);
}

enum kc_bus_kind kc_bus_kind(const struct kc_bus *bus)
{
    return bus->kind;
}

/* Index of the first entry whose base is > addr. */
static unsigned upper_bound(const struct kc_bus *bus, uint64_t addr)
{
    unsigned lo = 0, hi = bus->n;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (bus->entries[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int kc_bus_register(struct kc_bus *bus, uint64_t base, uint64_t len, const struct kc_io_ops *ops,
                    void *opaque, const char *name)
{
    unsigned pos;
    int ret = 0;

    if (!name)
        name = "device";
    if (len == 0 || base + len - 1 < base || !ops) {
        KCI_ERR(&bus->log, "%s bus: cannot register '%s' at 0x%llx length 0x%llx: %s",
                kind_name(bus->kind), name, (unsigned long long)base, (unsigned long long)len,
                !ops       ? "no ops"
                : len == 0 ? "empty range"
                           : "range wraps");
        return -EINVAL;
    }
    pthread_rwlock_wrlock(&bus->lock);
    pos = upper_bound(bus, base);
    /* Only the neighbours can overlap: the one before pos, and the one at pos. */
    for (unsigned i = pos ? pos - 1 : 0; i < bus->n && i <= pos; i++) {
        const struct bus_entry *e = &bus->entries[i];

        if (base <= e->base + (e->len - 1) && e->base <= base + (len - 1)) {
            KCI_ERR(&bus->log, "%s bus: '%s' at [0x%llx, 0x%llx] overlaps '%s' at [0x%llx, 0x%llx]",
                    kind_name(bus->kind), name, (unsigned long long)base,
                    (unsigned long long)(base + len - 1), e->name, (unsigned long long)e->base,
                    (unsigned long long)(e->base + e->len - 1));
            ret = -EEXIST;
            goto out;
        }
    }
    if (bus->n == bus->cap) {
        unsigned cap = bus->cap ? bus->cap * 2 : 16;
        struct bus_entry *e = realloc(bus->entries, cap * sizeof(*e));

        if (!e) {
            KCI_ERR(&bus->log, "%s bus: out of memory registering '%s'", kind_name(bus->kind),
                    name);
            ret = -ENOMEM;
            goto out;
        }
        bus->entries = e;
        bus->cap = cap;
    }
    memmove(&bus->entries[pos + 1], &bus->entries[pos], (bus->n - pos) * sizeof(bus->entries[0]));
    bus->entries[pos] = (struct bus_entry){ base, len, ops, opaque, name };
    bus->n++;
out:
    pthread_rwlock_unlock(&bus->lock);
    return ret;
}

int kc_bus_unregister(struct kc_bus *bus, uint64_t base)
{
    unsigned pos;
    int ret = -ENOENT;

    pthread_rwlock_wrlock(&bus->lock);
    pos = upper_bound(bus, base);
    if (pos > 0 && bus->entries[pos - 1].base == base) {
        pos--;
        memmove(&bus->entries[pos], &bus->entries[pos + 1],
                (bus->n - pos - 1) * sizeof(bus->entries[0]));
        bus->n--;
        ret = 0;
    }
    pthread_rwlock_unlock(&bus->lock);
    if (ret)
        KCI_ERR(&bus->log, "%s bus: nothing registered at 0x%llx", kind_name(bus->kind),
                (unsigned long long)base);
    return ret;
}

/*
 * Finds the entry that contains the whole access [addr, addr + size). An
 * access that starts inside a range but runs past its end is unclaimed:
 * devices may rely on offset + size <= their length.
 */
static bool lookup(struct kc_bus *bus, uint64_t addr, unsigned size, struct bus_entry *out)
{
    bool found = false;
    unsigned pos;

    pthread_rwlock_rdlock(&bus->lock);
    pos = upper_bound(bus, addr);
    if (pos > 0) {
        const struct bus_entry *e = &bus->entries[pos - 1];
        uint64_t off = addr - e->base;

        if (off < e->len && size <= e->len - off) {
            *out = *e;
            found = true;
        }
    }
    pthread_rwlock_unlock(&bus->lock);
    return found;
}

/*
 * An access no device claims: counted, then the policy decides. Only an
 * ignored access is reported here (the first few as warnings); one the
 * policy stops on goes back to the run loop's caller, which reports it.
 */
static bool unclaimed(struct kc_bus *bus, uint64_t addr, unsigned size, bool is_write,
                      uint64_t value)
{
    struct kc_bus_access a = { bus->kind, addr, size, is_write, value };
    kc_unhandled_fn fn;
    void *opaque;
    uint64_t n = 0;
    bool stop;

    atomic_fetch_add(&bus->unhandled, 1);
    pthread_rwlock_rdlock(&bus->lock);
    fn = bus->unhandled_fn;
    opaque = bus->unhandled_opaque;
    pthread_rwlock_unlock(&bus->lock);
    stop = fn && fn(opaque, &a) == KC_UNHANDLED_STOP;
    if (!stop)
        n = atomic_fetch_add(&bus->reported, 1) + 1;
    kc_log(&bus->log, !stop && n <= UNHANDLED_WARN_LIMIT ? KC_LOG_WARN : KC_LOG_DEBUG,
           "unhandled %s %s of %u byte%s at 0x%llx%s", kind_name(bus->kind),
           is_write ? "write" : "read", size, size == 1 ? "" : "s", (unsigned long long)addr,
           n == UNHANDLED_WARN_LIMIT ? " (further ones are logged at debug level)" : "");
    return stop;
}

static uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

bool kc_bus_read(struct kc_bus *bus, uint64_t addr, unsigned size, uint64_t *value, bool *stop)
{
    struct bus_entry e;

    *stop = false;
    if (size == 0 || size > 8 || !lookup(bus, addr, size, &e)) {
        *value = size_mask(size);
        *stop = unclaimed(bus, addr, size, false, 0);
        return false;
    }
    *value = e.ops->read ? e.ops->read(e.opaque, addr - e.base, size) & size_mask(size)
                         : size_mask(size);
    return true;
}

bool kc_bus_write(struct kc_bus *bus, uint64_t addr, uint64_t value, unsigned size, bool *stop)
{
    struct bus_entry e;

    *stop = false;
    if (size == 0 || size > 8 || !lookup(bus, addr, size, &e)) {
        *stop = unclaimed(bus, addr, size, true, value);
        return false;
    }
    if (e.ops->write)
        e.ops->write(e.opaque, addr - e.base, value & size_mask(size), size);
    return true;
}

void kc_bus_set_unhandled_policy(struct kc_bus *bus, kc_unhandled_fn fn, void *opaque)
{
    pthread_rwlock_wrlock(&bus->lock);
    bus->unhandled_fn = fn;
    bus->unhandled_opaque = opaque;
    pthread_rwlock_unlock(&bus->lock);
}

uint64_t kc_bus_unhandled_count(const struct kc_bus *bus)
{
    return atomic_load(&((struct kc_bus *)bus)->unhandled);
}
