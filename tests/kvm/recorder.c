/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>

#include "recorder.h"

uint64_t recorder_pattern(uint64_t offset, unsigned size)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(uint8_t)(0xa0 + offset + i) << (8 * i);
    return v;
}

static void record(struct recorder *r, bool write, uint64_t offset, unsigned size, uint64_t value)
{
    pthread_mutex_lock(&r->lock);
    if (r->n < REC_MAX)
        r->log[r->n++] = (struct rec_access){ r->bus, write, offset, size, value };
    pthread_mutex_unlock(&r->lock);
}

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = recorder_pattern(offset, size);

    record(opaque, false, offset, size, v);
    return v;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    record(opaque, true, offset, size, value);
}

const struct kc_io_ops recorder_ops = { .read = rec_read, .write = rec_write };

void recorder_init(struct recorder *r, char bus)
{
    r->bus = bus;
    r->n = 0;
    pthread_mutex_init(&r->lock, NULL);
}

void recorder_expect(struct recorder *r, const struct rec_access *want, unsigned n)
{
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < n && i < r->n; i++) {
        const struct rec_access *a = &r->log[i], *w = &want[i];

        ck_assert_msg(a->bus == w->bus && a->write == w->write && a->offset == w->offset &&
                          a->size == w->size && a->value == w->value,
                      "access %u on the %c bus: got %s off 0x%llx size %u value 0x%llx, "
                      "want %s off 0x%llx size %u value 0x%llx",
                      i, w->bus, a->write ? "write" : "read", (unsigned long long)a->offset,
                      a->size, (unsigned long long)a->value, w->write ? "write" : "read",
                      (unsigned long long)w->offset, w->size, (unsigned long long)w->value);
    }
    ck_assert_msg(r->n == n, "%c bus: %u accesses recorded, %u expected", r->bus, r->n, n);
    pthread_mutex_unlock(&r->lock);
}
