/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the kernel loaders share: one error helper, a record of the guest
 * ranges already taken while an image is being placed, and the memory map
 * in the three layouts the boot protocols use.
 *
 * A loader first checks the image and places everything (kernel, initrd)
 * in a struct em_layout without writing guest memory; only when every
 * check has passed does it write. A bad image therefore leaves guest
 * memory as it was.
 */
#ifndef EM_LOADER_LAYOUT_H
#define EM_LOADER_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

#define EM_PAGE_SIZE  0x1000ull
#define EM_LAYOUT_MAX 32

/* Logs "<kind> <name>: <message>" as one error. */
void em_load_err(const struct kc_logger *log, const char *kind, const char *name, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));

struct em_layout_range {
    uint64_t start, end; /* [start, end) */
    const char *what;
};

struct em_layout {
    const struct em_load_ctx *ctx;
    const char *kind; /* for messages: "bzImage" */
    const char *name; /* the image's path */
    unsigned n;
    struct em_layout_range used[EM_LAYOUT_MAX];
};

/* Starts with the fixed boot areas below 1 MiB taken: the GDT page, the
 * boot information, the page tables and the command line. */
void em_layout_init(struct em_layout *l, const struct em_load_ctx *ctx, const char *kind,
                    const char *name);

/* True if [addr, addr + size) is inside one usable RAM range of the e820
 * map, backed by writable guest memory, and overlaps nothing taken. */
bool em_layout_fits(const struct em_layout *l, uint64_t addr, uint64_t size);

/* Takes [addr, addr + size) for `what`, or logs why it cannot (wraps, not
 * RAM, overlaps something named) and returns -EINVAL. size 0 takes nothing. */
int em_layout_reserve(struct em_layout *l, uint64_t addr, uint64_t size, const char *what);

/* Finds the highest `align`-aligned start (a power of two) of `size` bytes
 * that fits within [lo, hi); false if there is none. Quiet: the caller
 * knows what the room was for, and says so. */
bool em_layout_find_high(const struct em_layout *l, uint64_t size, uint64_t align, uint64_t lo,
                         uint64_t hi, uint64_t *addr);

/* The memory map as each boot protocol lays it out. */
enum em_memmap_format {
    EM_MEMMAP_E820,      /* {u64 addr, u64 size, u32 type}: the zero page */
    EM_MEMMAP_HVM,       /* {u64 addr, u64 size, u32 type, u32 reserved}: PVH */
    EM_MEMMAP_MULTIBOOT, /* {u32 size = 20, u64 addr, u64 len, u32 type} */
};

size_t em_memmap_entry_size(enum em_memmap_format fmt);

/* Writes ctx->mm's entries into buf (at most len bytes) and returns how
 * many; -E2BIG after logging if they do not fit. */
int em_memmap_format(const struct em_load_ctx *ctx, enum em_memmap_format fmt, uint8_t *buf,
                     size_t len);

/* The RAM entry of ctx->mm that contains addr, or NULL. */
const struct em_e820_entry *em_memmap_ram_at(const struct em_memmap *mm, uint64_t addr);

/* Little-endian field access into host buffers whose bounds the caller
 * has checked. */
static inline uint16_t em_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t em_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t em_get64(const uint8_t *p)
{
    return (uint64_t)em_get32(p) | (uint64_t)em_get32(p + 4) << 32;
}

static inline void em_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void em_put32(uint8_t *p, uint32_t v)
{
    em_put16(p, (uint16_t)v);
    em_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void em_put64(uint8_t *p, uint64_t v)
{
    em_put32(p, (uint32_t)v);
    em_put32(p + 4, (uint32_t)(v >> 32));
}

#endif
