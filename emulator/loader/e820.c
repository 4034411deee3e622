/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory map for the guest, and where the loaders may put things. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"

void em_load_err(const struct kc_logger *log, const char *kind, const char *name, const char *fmt,
                 ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kc_log(log, KC_LOG_ERROR, "%s %s: %s", kind, name, msg);
}

const struct em_e820_entry *em_memmap_ram_at(const struct em_memmap *mm, uint64_t addr)
{
    for (unsigned i = 0; i < mm->nr_e820 && i < EM_E820_MAX; i++) {
        const struct em_e820_entry *e = &mm->e820[i];

        if (e->type == EM_E820_RAM && addr >= e->addr && addr - e->addr < e->size)
            return e;
    }
    return NULL;
}

static void take(struct em_layout *l, uint64_t start, uint64_t size, const char *what)
{
    l->used[l->n++] = (struct em_layout_range){ start, start + size, what };
}

void em_layout_init(struct em_layout *l, const struct em_load_ctx *ctx, const char *kind,
                    const char *name)
{
    memset(l, 0, sizeof(*l));
    l->ctx = ctx;
    l->kind = kind;
    l->name = name;
    /* The page the GDT is in also holds the real-mode IVT and BDA. */
    take(l, EM_BOOT_GDT & ~(EM_PAGE_SIZE - 1), EM_PAGE_SIZE, "the boot GDT page");
    take(l, EM_BOOT_INFO, EM_BOOT_INFO_SIZE, "the boot information");
    take(l, EM_BOOT_PT, KC_X86_PAGE_TABLES_SIZE, "the boot page tables");
    take(l, EM_BOOT_CMDLINE, EM_BOOT_CMDLINE_MAX, "the command line");
}

static bool overlaps(const struct em_layout_range *u, uint64_t start, uint64_t end)
{
    return start < u->end && u->start < end;
}

static const struct em_layout_range *first_overlap(const struct em_layout *l, uint64_t start,
                                                   uint64_t end)
{
    for (unsigned i = 0; i < l->n; i++)
        if (overlaps(&l->used[i], start, end))
            return &l->used[i];
    return NULL;
}

/* Inside one RAM entry and backed; the caller has checked for wrapping. */
static bool is_usable_ram(const struct em_layout *l, uint64_t addr, uint64_t size)
{
    const struct em_e820_entry *e = em_memmap_ram_at(l->ctx->mm, addr);

    return e && size <= e->size - (addr - e->addr) &&
           kc_mem_ptr_rw(l->ctx->mem, addr, size) != NULL;
}

bool em_layout_fits(const struct em_layout *l, uint64_t addr, uint64_t size)
{
    if (size == 0 || addr + size < addr)
        return false;
    return is_usable_ram(l, addr, size) && !first_overlap(l, addr, addr + size);
}

int em_layout_reserve(struct em_layout *l, uint64_t addr, uint64_t size, const char *what)
{
    const struct kc_logger *log = l->ctx->log;
    unsigned long long a = addr, e = addr + size;
    const struct em_layout_range *u;
    const struct em_e820_entry *ram;

    if (size == 0)
        return 0;
    if (addr + size < addr) {
        em_load_err(log, l->kind, l->name,
                    "%s at 0x%llx (0x%llx bytes) wraps around the end of the address space", what,
                    a, (unsigned long long)size);
        return -EINVAL;
    }
    ram = em_memmap_ram_at(l->ctx->mm, addr);
    if (!ram || size > ram->size - (addr - ram->addr)) {
        em_load_err(log, l->kind, l->name, "%s [0x%llx, 0x%llx) is not inside usable guest RAM",
                    what, a, e);
        return -EINVAL;
    }
    u = first_overlap(l, addr, addr + size);
    if (u) {
        em_load_err(log, l->kind, l->name, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", what,
                    a, e, u->what, (unsigned long long)u->start, (unsigned long long)u->end);
        return -EINVAL;
    }
    if (!kc_mem_ptr_rw(l->ctx->mem, addr, size)) {
        em_load_err(log, l->kind, l->name, "%s [0x%llx, 0x%llx) is not backed by guest memory",
                    what, a, e);
        return -EFAULT;
    }
    if (l->n == EM_LAYOUT_MAX) {
        em_load_err(log, l->kind, l->name, "%s: more than %d ranges to place", what, EM_LAYOUT_MAX);
        return -ENOSPC;
    }
    take(l, addr, size, what);
    return 0;
}

static uint64_t align_down(uint64_t v, uint64_t align)
{
    return v & ~(align - 1);
}

/* The highest aligned start in [lo, hi) of one RAM entry, or false. */
static bool highest_in(const struct em_layout *l, const struct em_e820_entry *e, uint64_t size,
                       uint64_t align, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t start = e->addr > lo ? e->addr : lo;
    uint64_t end = e->size < hi - e->addr ? e->addr + e->size : hi;
    uint64_t cand;

    if (e->type != EM_E820_RAM || e->addr >= hi || end <= start || end - start < size)
        return false;
    cand = align_down(end - size, align);
    while (cand >= start) {
        const struct em_layout_range *u = first_overlap(l, cand, cand + size);

        if (!u) {
            *out = cand;
            return kc_mem_ptr_rw(l->ctx->mem, cand, size) != NULL;
        }
        /* Try again just below what is in the way. */
        if (u->start < start + size)
            return false;
        cand = align_down(u->start - size, align);
    }
    return false;
}

bool em_layout_find_high(const struct em_layout *l, uint64_t size, uint64_t align, uint64_t lo,
                         uint64_t hi, uint64_t *addr)
{
    const struct em_memmap *mm = l->ctx->mm;
    uint64_t best = 0, cand;
    bool found = false;

    if (size == 0 || align == 0 || (align & (align - 1)))
        return false;
    for (unsigned i = 0; i < mm->nr_e820 && i < EM_E820_MAX; i++) {
        if (highest_in(l, &mm->e820[i], size, align, lo, hi, &cand) && (!found || cand > best)) {
            best = cand;
            found = true;
        }
    }
    if (found)
        *addr = best;
    return found;
}

size_t em_memmap_entry_size(enum em_memmap_format fmt)
{
    return fmt == EM_MEMMAP_E820 ? 20 : 24;
}

int em_memmap_format(const struct em_load_ctx *ctx, enum em_memmap_format fmt, uint8_t *buf,
                     size_t len)
{
    const struct em_memmap *mm = ctx->mm;
    size_t esz = em_memmap_entry_size(fmt);
    unsigned n = mm->nr_e820 < EM_E820_MAX ? mm->nr_e820 : EM_E820_MAX;

    if (n > len / esz) {
        kc_log(ctx->log, KC_LOG_ERROR, "e820 map: %u entries do not fit in a table of %zu", n,
               len / esz);
        return -E2BIG;
    }
    memset(buf, 0, n * esz);
    for (unsigned i = 0; i < n; i++) {
        const struct em_e820_entry *e = &mm->e820[i];
        uint8_t *p = buf + i * esz;

        if (fmt == EM_MEMMAP_MULTIBOOT) {
            /* The size field counts the bytes after itself. */
            em_put32(p, 20);
            p += 4;
        }
        em_put64(p, e->addr);
        em_put64(p + 8, e->size);
        em_put32(p + 16, e->type);
    }
    return (int)n;
}

int em_write_e820_table(const struct em_load_ctx *ctx, uint64_t gpa, unsigned max_entries)
{
    uint8_t table[EM_E820_MAX * 20];
    size_t room = sizeof(table);
    int n;

    if (max_entries < EM_E820_MAX)
        room = (size_t)max_entries * 20;
    n = em_memmap_format(ctx, EM_MEMMAP_E820, table, room);
    if (n < 0)
        return n;
    if (n > 0 && kc_mem_write(ctx->mem, gpa, table, (uint64_t)n * 20) < 0) {
        kc_log(ctx->log, KC_LOG_ERROR, "e820 table: %d entries at 0x%llx are outside guest RAM", n,
               (unsigned long long)gpa);
        return -EFAULT;
    }
    return n;
}
