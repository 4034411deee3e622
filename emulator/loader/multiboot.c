/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Multiboot (version 0.6.96): a kernel with a multiboot header in its first
 * 8 KiB, loaded either from its ELF program headers or, when the header's
 * flag bit 16 says so, from the header's address fields (the "a.out
 * kludge"). The multiboot information goes to EM_BOOT_INFO and the vCPU
 * enters in flat 32-bit protected mode, paging off, with EAX = 0x2BADB002
 * and EBX pointing at the information. kvm-unit-tests' x86 tests are such
 * kernels.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_image.h"
#include "layout.h"

#define KIND "multiboot image"

#define MB_HEADER_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC   0x2badb002u
#define MB_SEARCH_BYTES 8192
#define MB_HEADER_MIN   12 /* magic, flags, checksum */
#define MB_HEADER_AOUT  32 /* ... and the five address fields */

/* Header flags. Bits 0-15 are requirements: a loader that cannot meet
 * one must refuse the image. */
#define MB_PAGE_ALIGN_MODULES (1u << 0)
#define MB_MEMORY_INFO        (1u << 1)
#define MB_VIDEO_MODE         (1u << 2)
#define MB_REQUIRED_MASK      0xffffu
#define MB_ADDRESS_FIELDS     (1u << 16)

/* struct multiboot_info */
#define MBI_FLAGS            0
#define MBI_MEM_LOWER        4
#define MBI_MEM_UPPER        8
#define MBI_CMDLINE          16
#define MBI_MODS_COUNT       20
#define MBI_MODS_ADDR        24
#define MBI_MMAP_LENGTH      44
#define MBI_MMAP_ADDR        48
#define MBI_BOOT_LOADER_NAME 64

#define MBI_HAS_MEM         (1u << 0)
#define MBI_HAS_CMDLINE     (1u << 2)
#define MBI_HAS_MODS        (1u << 3)
#define MBI_HAS_MMAP        (1u << 6)
#define MBI_HAS_LOADER_NAME (1u << 9)

/* A module entry: mod_start, mod_end (exclusive), string, reserved. */
#define MOD_START  0
#define MOD_END    4
#define MOD_STRING 8

/* Where each part goes inside the boot information area. */
#define AREA_INFO        0x000
#define AREA_MMAP        0x080
#define AREA_MODS        0x200
#define AREA_LOADER_NAME 0x220
#define AREA_MOD_STRING  0x240

#define LOADER_NAME "kvmemu"

_Static_assert(AREA_MMAP + EM_E820_MAX * 24 <= AREA_MODS, "the memory map fits before the modules");
_Static_assert(AREA_LOADER_NAME + sizeof(LOADER_NAME) <= AREA_MOD_STRING, "the name fits");

struct mb_header {
    uint64_t offset; /* in the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* How the image goes into memory. */
struct mb_kernel {
    struct mb_header h;
    bool is_elf;
    struct em_elf elf;
    struct em_elf_segments segs;
    uint64_t file_offset, load_size; /* a.out kludge: bytes copied */
    uint64_t start, end;             /* guest memory the kernel takes */
    uint64_t entry;
};

/* 1 if a header is found, 0 if none (why says what was seen), -EINVAL if
 * one is found but cut off. */
static int find_header(const struct em_image *img, struct mb_header *h, char *why, size_t len)
{
    size_t limit = img->size < MB_SEARCH_BYTES ? img->size : MB_SEARCH_BYTES;
    const uint8_t *d = img->data;
    long bad_sum = -1;

    for (size_t off = 0; off + MB_HEADER_MIN <= limit; off += 4) {
        uint32_t flags = em_get32(d + off + 4);

        if (em_get32(d + off) != MB_HEADER_MAGIC)
            continue;
        if ((uint32_t)(MB_HEADER_MAGIC + flags + em_get32(d + off + 8)) != 0) {
            if (bad_sum < 0)
                bad_sum = (long)off;
            continue;
        }
        memset(h, 0, sizeof(*h));
        h->offset = off;
        h->flags = flags;
        if (!(flags & MB_ADDRESS_FIELDS))
            return 1;
        if (off + MB_HEADER_AOUT > limit) {
            snprintf(why, len,
                     "the multiboot header at offset 0x%zx has address fields (flag bit 16) "
                     "that run past the first %zu bytes",
                     off, limit);
            return -EINVAL;
        }
        h->header_addr = em_get32(d + off + 12);
        h->load_addr = em_get32(d + off + 16);
        h->load_end_addr = em_get32(d + off + 20);
        h->bss_end_addr = em_get32(d + off + 24);
        h->entry_addr = em_get32(d + off + 28);
        return 1;
    }
    if (bad_sum >= 0)
        snprintf(why, len,
                 "the multiboot header at offset 0x%lx has a bad checksum (magic + flags + "
                 "checksum is not 0)",
                 bad_sum);
    else
        snprintf(why, len,
                 "no multiboot header (magic 0x1BADB002, 4-byte aligned, with a valid checksum) "
                 "in the first %d bytes",
                 MB_SEARCH_BYTES);
    return 0;
}

/*
 * Whether the image claims to be multiboot: the magic, 4-byte aligned, in
 * the first 8 KiB. A header with a bad checksum still claims it, so that
 * em_load_multiboot() can say what is wrong with it rather than the probe
 * saying the image is of no known kind.
 */
bool em_is_multiboot(const struct em_image *img)
{
    size_t limit = img->size < MB_SEARCH_BYTES ? img->size : MB_SEARCH_BYTES;

    for (size_t off = 0; off + MB_HEADER_MIN <= limit; off += 4)
        if (em_get32(img->data + off) == MB_HEADER_MAGIC)
            return true;
    return false;
}

static int check_flags(const struct em_image *k, const struct kc_logger *log, uint32_t flags)
{
    uint32_t unknown = flags & MB_REQUIRED_MASK & ~(MB_PAGE_ALIGN_MODULES | MB_MEMORY_INFO);

    if (unknown & MB_VIDEO_MODE) {
        em_load_err(log, KIND, k->name,
                    "the header requires a video mode (flag bit 2), which kvmemu does not set");
        return -ENOTSUP;
    }
    if (unknown) {
        em_load_err(log, KIND, k->name,
                    "the header requires features kvmemu does not know (flags 0x%x)", unknown);
        return -ENOTSUP;
    }
    return 0;
}

/* The a.out kludge: every address relation checked before anything is used. */
static int check_aout(const struct em_image *k, const struct kc_logger *log, struct mb_kernel *mk)
{
    const struct mb_header *h = &mk->h;
    uint64_t delta, mem_end;

    if (h->load_addr > h->header_addr) {
        em_load_err(log, KIND, k->name, "load_addr 0x%x is above header_addr 0x%x", h->load_addr,
                    h->header_addr);
        return -EINVAL;
    }
    delta = (uint64_t)h->header_addr - h->load_addr;
    if (delta > h->offset) {
        em_load_err(log, KIND, k->name,
                    "header_addr 0x%x - load_addr 0x%x is more than the header's offset in the "
                    "file (0x%llx): loading would start before the file does",
                    h->header_addr, h->load_addr, (unsigned long long)h->offset);
        return -EINVAL;
    }
    mk->file_offset = h->offset - delta;
    if (h->load_end_addr == 0) {
        mk->load_size = k->size - mk->file_offset;
    } else if (h->load_end_addr < h->load_addr) {
        em_load_err(log, KIND, k->name, "load_end_addr 0x%x is below load_addr 0x%x",
                    h->load_end_addr, h->load_addr);
        return -EINVAL;
    } else {
        mk->load_size = (uint64_t)h->load_end_addr - h->load_addr;
        if (mk->load_size > k->size - mk->file_offset) {
            em_load_err(log, KIND, k->name,
                        "load_end_addr 0x%x asks for %llu bytes from offset 0x%llx, past the "
                        "end of the file (%zu bytes)",
                        h->load_end_addr, (unsigned long long)mk->load_size,
                        (unsigned long long)mk->file_offset, k->size);
            return -EINVAL;
        }
    }
    if (delta + MB_HEADER_AOUT > mk->load_size) {
        em_load_err(log, KIND, k->name,
                    "header_addr 0x%x is outside the loaded range [0x%x, 0x%llx)", h->header_addr,
                    h->load_addr, (unsigned long long)(h->load_addr + mk->load_size));
        return -EINVAL;
    }
    mem_end = h->load_addr + mk->load_size;
    if (h->bss_end_addr) {
        if (h->bss_end_addr < mem_end) {
            em_load_err(log, KIND, k->name,
                        "bss_end_addr 0x%x is below the end of the loaded data 0x%llx",
                        h->bss_end_addr, (unsigned long long)mem_end);
            return -EINVAL;
        }
        mem_end = h->bss_end_addr;
    }
    if (h->entry_addr < h->load_addr || h->entry_addr - h->load_addr >= mk->load_size) {
        em_load_err(log, KIND, k->name,
                    "entry_addr 0x%x is outside the loaded range [0x%x, 0x%llx)", h->entry_addr,
                    h->load_addr, (unsigned long long)(h->load_addr + mk->load_size));
        return -EINVAL;
    }
    mk->start = h->load_addr;
    mk->end = mem_end;
    mk->entry = h->entry_addr;
    return 0;
}

static int check_elf(const struct em_image *k, const struct kc_logger *log, struct mb_kernel *mk)
{
    char why[256];

    if (!em_elf_has_magic(k)) {
        em_load_err(log, KIND, k->name,
                    "not an ELF file, and the header has no address fields (flag bit 16)");
        return -EINVAL;
    }
    if (em_elf_parse(k, &mk->elf, why, sizeof(why)) < 0) {
        em_load_err(log, KIND, k->name, "%s", why);
        return -EINVAL;
    }
    mk->is_elf = true;
    mk->entry = mk->elf.entry;
    return 0;
}

static int place_kernel(struct em_layout *l, struct mb_kernel *mk)
{
    int ret;

    if (!mk->is_elf)
        return em_layout_reserve(l, mk->start, mk->end - mk->start, "the kernel");
    ret = em_elf_place(&mk->elf, l, &mk->segs);
    if (ret < 0)
        return ret;
    mk->start = mk->segs.start;
    mk->end = mk->segs.end;
    /* Entered in 32-bit mode: everything must be reachable without paging. */
    if (mk->end > EM_FOUR_GIB || !em_elf_in_segment(&mk->elf, mk->entry)) {
        em_load_err(l->ctx->log, KIND, l->name,
                    mk->end > EM_FOUR_GIB ? "the segments end at 0x%llx, above 4 GiB"
                                          : "the entry point 0x%llx is outside every segment",
                    (unsigned long long)(mk->end > EM_FOUR_GIB ? mk->end : mk->entry));
        return -EINVAL;
    }
    return 0;
}

static int place_module(struct em_layout *l, uint64_t *addr)
{
    const struct em_image *rd = l->ctx->initrd;
    uint64_t hi = l->ctx->mm->ram_below_4g;

    /* Always page-aligned, which satisfies flag bit 0 too. */
    if (!em_layout_find_high(l, rd->size, EM_PAGE_SIZE, EM_HIGH_MEM_START, hi, addr)) {
        em_load_err(l->ctx->log, KIND, l->name,
                    "module %s (%zu bytes) does not fit in free guest RAM between 1 MiB and "
                    "0x%llx",
                    rd->name, rd->size, (unsigned long long)hi);
        return -ENOSPC;
    }
    return em_layout_reserve(l, *addr, rd->size, "the module");
}

/* KiB of the RAM range that starts at addr, as mem_lower/mem_upper want. */
static uint32_t ram_kib_at(const struct em_memmap *mm, uint64_t addr)
{
    const struct em_e820_entry *e = em_memmap_ram_at(mm, addr);
    uint64_t kib = e ? (e->size - (addr - e->addr)) >> 10 : 0;

    return kib > UINT32_MAX ? UINT32_MAX : (uint32_t)kib;
}

static int build_info(const struct em_image *k, const struct em_load_ctx *ctx,
                      const struct em_boot *b, uint8_t *area)
{
    uint8_t *mbi = area + AREA_INFO;
    uint32_t flags =
        MBI_HAS_MEM | MBI_HAS_CMDLINE | MBI_HAS_MODS | MBI_HAS_MMAP | MBI_HAS_LOADER_NAME;
    uint32_t base = (uint32_t)EM_BOOT_INFO;
    int n = em_memmap_format(ctx, EM_MEMMAP_MULTIBOOT, area + AREA_MMAP, AREA_MODS - AREA_MMAP);

    if (n < 0)
        return n;
    em_put32(mbi + MBI_MEM_LOWER, ram_kib_at(ctx->mm, 0));
    em_put32(mbi + MBI_MEM_UPPER, ram_kib_at(ctx->mm, EM_HIGH_MEM_START));
    em_put32(mbi + MBI_CMDLINE, (uint32_t)b->cmdline_addr);
    em_put32(mbi + MBI_MMAP_LENGTH, (uint32_t)(n * em_memmap_entry_size(EM_MEMMAP_MULTIBOOT)));
    em_put32(mbi + MBI_MMAP_ADDR, base + AREA_MMAP);
    em_put32(mbi + MBI_MODS_ADDR, base + AREA_MODS);
    memcpy(area + AREA_LOADER_NAME, LOADER_NAME, sizeof(LOADER_NAME));
    em_put32(mbi + MBI_BOOT_LOADER_NAME, base + AREA_LOADER_NAME);
    if (b->initrd_size) {
        /* The module's string is its file name, as GRUB gives its path. */
        size_t name_len = strlen(ctx->initrd->name);

        if (name_len >= EM_BOOT_INFO_SIZE - AREA_MOD_STRING) {
            em_load_err(ctx->log, KIND, k->name,
                        "the module name %s (%zu bytes) does not fit in the boot information",
                        ctx->initrd->name, name_len);
            return -E2BIG;
        }
        memcpy(area + AREA_MOD_STRING, ctx->initrd->name, name_len + 1);
        em_put32(mbi + MBI_MODS_COUNT, 1);
        em_put32(area + AREA_MODS + MOD_START, (uint32_t)b->initrd_addr);
        em_put32(area + AREA_MODS + MOD_END, (uint32_t)(b->initrd_addr + b->initrd_size));
        em_put32(area + AREA_MODS + MOD_STRING, base + AREA_MOD_STRING);
    }
    em_put32(mbi + MBI_FLAGS, flags);
    return 0;
}

static void load_kernel(const struct em_image *k, const struct em_load_ctx *ctx,
                        const struct mb_kernel *mk)
{
    uint8_t *dst;

    if (mk->is_elf) {
        em_elf_load(&mk->elf, ctx->mem);
        return;
    }
    /* Placed inside backed guest RAM, so the pointer exists. */
    dst = kc_mem_ptr_rw(ctx->mem, mk->start, mk->end - mk->start);
    memcpy(dst, k->data + mk->file_offset, mk->load_size);
    memset(dst + mk->load_size, 0, mk->end - mk->start - mk->load_size);
}

static int write_all(const struct em_image *k, const struct em_load_ctx *ctx,
                     const struct mb_kernel *mk, const struct em_boot *b, const char *cmdline,
                     size_t cmdline_len)
{
    uint8_t *area = calloc(1, EM_BOOT_INFO_SIZE);
    int ret;

    if (!area) {
        em_load_err(ctx->log, KIND, k->name, "out of memory for the multiboot information");
        return -ENOMEM;
    }
    ret = build_info(k, ctx, b, area);
    if (ret == 0 && (kc_mem_write(ctx->mem, EM_BOOT_INFO, area, EM_BOOT_INFO_SIZE) < 0 ||
                     kc_mem_write(ctx->mem, b->cmdline_addr, cmdline, cmdline_len + 1) < 0)) {
        em_load_err(ctx->log, KIND, k->name, "the boot areas below 1 MiB are not guest RAM");
        ret = -EFAULT;
    }
    if (ret == 0) {
        load_kernel(k, ctx, mk);
        if (b->initrd_size)
            memcpy(kc_mem_ptr_rw(ctx->mem, b->initrd_addr, b->initrd_size), ctx->initrd->data,
                   b->initrd_size);
    }
    free(area);
    return ret;
}

/*
 * The command line a multiboot kernel gets starts with the kernel's own
 * name, as GRUB and QEMU give it: kvm-unit-tests take it as argv[0].
 */
static int make_cmdline(const struct em_image *k, const struct em_load_ctx *ctx, char **out,
                        size_t *len)
{
    const char *append = ctx->cmdline ? ctx->cmdline : "";
    size_t name_len = strlen(k->name), append_len = strlen(append);

    *len = name_len + (append_len ? 1 + append_len : 0);
    if (*len >= EM_BOOT_CMDLINE_MAX) {
        em_load_err(ctx->log, KIND, k->name,
                    "the command line (the kernel's name and %zu bytes) is %zu bytes, longer "
                    "than the %llu the machine holds",
                    append_len, *len, EM_BOOT_CMDLINE_MAX - 1);
        return -E2BIG;
    }
    *out = malloc(*len + 1);
    if (!*out) {
        em_load_err(ctx->log, KIND, k->name, "out of memory for the command line");
        return -ENOMEM;
    }
    snprintf(*out, *len + 1, "%s%s%s", k->name, append_len ? " " : "", append);
    return 0;
}

int em_load_multiboot(const struct em_image *kernel, const struct em_load_ctx *ctx,
                      struct em_boot *boot)
{
    struct em_boot b = { .kind = "multiboot", .mode = EM_MODE_PROTECTED };
    struct mb_kernel *mk = calloc(1, sizeof(*mk));
    char *cmdline = NULL;
    size_t cmdline_len;
    struct em_layout l;
    char why[256];
    int ret;

    if (!mk) {
        em_load_err(ctx->log, KIND, kernel->name, "out of memory");
        return -ENOMEM;
    }
    ret = find_header(kernel, &mk->h, why, sizeof(why));
    if (ret <= 0) {
        em_load_err(ctx->log, KIND, kernel->name, "%s", why);
        ret = -EINVAL;
        goto out;
    }
    ret = check_flags(kernel, ctx->log, mk->h.flags);
    if (ret == 0)
        ret = mk->h.flags & MB_ADDRESS_FIELDS ? check_aout(kernel, ctx->log, mk)
                                              : check_elf(kernel, ctx->log, mk);
    if (ret == 0)
        ret = make_cmdline(kernel, ctx, &cmdline, &cmdline_len);
    if (ret < 0)
        goto out;
    em_layout_init(&l, ctx, KIND, kernel->name);
    ret = place_kernel(&l, mk);
    if (ret == 0 && ctx->initrd) {
        ret = place_module(&l, &b.initrd_addr);
        b.initrd_size = ctx->initrd->size;
    }
    if (ret < 0)
        goto out;
    b.entry = mk->entry;
    b.rax = MB_BOOT_MAGIC;
    b.rbx = EM_BOOT_INFO;
    b.kernel_addr = mk->start;
    b.kernel_size = mk->end - mk->start;
    b.cmdline_addr = EM_BOOT_CMDLINE;
    ret = write_all(kernel, ctx, mk, &b, cmdline, cmdline_len);
    if (ret == 0)
        *boot = b;
out:
    free(cmdline);
    free(mk);
    return ret;
}
