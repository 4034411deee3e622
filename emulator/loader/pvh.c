/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PVH: an ELF kernel (Linux's vmlinux, among others) with a Xen note
 * XEN_ELFNOTE_PHYS32_ENTRY giving a 32-bit entry point. Its PT_LOAD
 * segments go to their physical addresses, struct hvm_start_info (version
 * 1, with the memory map) goes to EM_BOOT_INFO, and the vCPU enters in flat
 * 32-bit protected mode, paging off, with EBX pointing at start_info.
 * The layout is Xen's public arch-x86/hvm/start_info.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_image.h"
#include "layout.h"

#define KIND "PVH ELF"

#define START_INFO_MAGIC   0x336ec578u
#define START_INFO_VERSION 1

/* struct hvm_start_info */
#define SI_MAGIC          0x00
#define SI_VERSION        0x04
#define SI_NR_MODULES     0x0c
#define SI_MODLIST_PADDR  0x10
#define SI_CMDLINE_PADDR  0x18
#define SI_RSDP_PADDR     0x20
#define SI_MEMMAP_PADDR   0x28
#define SI_MEMMAP_ENTRIES 0x30

/* struct hvm_modlist_entry */
#define MOD_PADDR 0x00
#define MOD_SIZE  0x08

/* Where each part goes inside the boot information area. */
#define AREA_START_INFO 0x000
#define AREA_MODLIST    0x040
#define AREA_MEMMAP     0x080

_Static_assert(AREA_MEMMAP + EM_E820_MAX * 24 <= EM_BOOT_INFO_SIZE, "start_info fits its area");

struct pvh_kernel {
    struct em_elf elf;
    uint64_t entry;
    struct em_elf_segments segs;
};

static int read_entry(const struct em_elf *elf, uint64_t *entry, char *why, size_t len)
{
    const uint8_t *desc;
    uint32_t desc_len;
    int ret = em_elf_find_note(elf, EM_PVH_NOTE_NAME, EM_PVH_NOTE_TYPE, &desc, &desc_len, why, len);

    if (ret < 0)
        return ret;
    if (ret == 0) {
        snprintf(why, len, "no PVH entry note (Xen note type 18, XEN_ELFNOTE_PHYS32_ENTRY)");
        return -EINVAL;
    }
    /* Linux has written it as .long and as a 64-bit pointer. */
    if (desc_len != 4 && desc_len != 8) {
        snprintf(why, len, "the PVH entry note holds %u bytes, not a 4- or 8-byte address",
                 desc_len);
        return -EINVAL;
    }
    *entry = desc_len == 4 ? em_get32(desc) : em_get64(desc);
    if (*entry >= EM_FOUR_GIB) {
        snprintf(why, len, "the PVH entry point 0x%llx is not a 32-bit address",
                 (unsigned long long)*entry);
        return -EINVAL;
    }
    return 0;
}

/* Claims to be PVH: has the note, even one the loader will then refuse. */
bool em_is_pvh_elf(const struct em_image *img)
{
    const uint8_t *desc;
    uint32_t desc_len;
    struct em_elf elf;
    char why[256];

    return em_elf_has_magic(img) && em_elf_parse(img, &elf, why, sizeof(why)) == 0 &&
           em_elf_find_note(&elf, EM_PVH_NOTE_NAME, EM_PVH_NOTE_TYPE, &desc, &desc_len, why,
                            sizeof(why)) == 1;
}

/* Takes every PT_LOAD segment's physical range; the entry must be in one. */
static int place_segments(struct em_layout *l, struct pvh_kernel *pk)
{
    int ret = em_elf_place(&pk->elf, l, &pk->segs);

    if (ret == 0 && !em_elf_in_segment(&pk->elf, pk->entry)) {
        em_load_err(l->ctx->log, KIND, l->name,
                    "the PVH entry point 0x%llx is outside every loaded segment",
                    (unsigned long long)pk->entry);
        ret = -EINVAL;
    }
    return ret;
}

static int place_initrd(struct em_layout *l, const struct pvh_kernel *pk, uint64_t *addr)
{
    const struct em_image *rd = l->ctx->initrd;
    uint64_t hi = l->ctx->mm->ram_below_4g;

    if (!em_layout_find_high(l, rd->size, EM_PAGE_SIZE, pk->segs.end, hi, addr)) {
        em_load_err(l->ctx->log, KIND, l->name,
                    "initrd %s (%zu bytes) does not fit in free guest RAM between the kernel's "
                    "end 0x%llx and 0x%llx",
                    rd->name, rd->size, (unsigned long long)pk->segs.end, (unsigned long long)hi);
        return -ENOSPC;
    }
    return em_layout_reserve(l, *addr, rd->size, "the initrd");
}

static int build_start_info(const struct em_load_ctx *ctx, const struct em_boot *b, uint8_t *area)
{
    uint8_t *si = area + AREA_START_INFO;
    int n =
        em_memmap_format(ctx, EM_MEMMAP_HVM, area + AREA_MEMMAP, EM_BOOT_INFO_SIZE - AREA_MEMMAP);

    if (n < 0)
        return n;
    em_put32(si + SI_MAGIC, START_INFO_MAGIC);
    em_put32(si + SI_VERSION, START_INFO_VERSION);
    em_put64(si + SI_CMDLINE_PADDR, b->cmdline_addr);
    em_put64(si + SI_RSDP_PADDR, ctx->rsdp_addr);
    em_put64(si + SI_MEMMAP_PADDR, EM_BOOT_INFO + AREA_MEMMAP);
    em_put32(si + SI_MEMMAP_ENTRIES, (uint32_t)n);
    if (b->initrd_size) {
        em_put32(si + SI_NR_MODULES, 1);
        em_put64(si + SI_MODLIST_PADDR, EM_BOOT_INFO + AREA_MODLIST);
        em_put64(area + AREA_MODLIST + MOD_PADDR, b->initrd_addr);
        em_put64(area + AREA_MODLIST + MOD_SIZE, b->initrd_size);
    }
    return 0;
}

static int write_all(const struct em_image *k, const struct em_load_ctx *ctx,
                     const struct pvh_kernel *pk, const struct em_boot *b, const char *cmdline,
                     size_t cmdline_len)
{
    uint8_t *area = calloc(1, EM_BOOT_INFO_SIZE);
    int ret;

    if (!area) {
        em_load_err(ctx->log, KIND, k->name, "out of memory for start_info");
        return -ENOMEM;
    }
    ret = build_start_info(ctx, b, area);
    if (ret == 0 && (kc_mem_write(ctx->mem, EM_BOOT_INFO, area, EM_BOOT_INFO_SIZE) < 0 ||
                     kc_mem_write(ctx->mem, b->cmdline_addr, cmdline, cmdline_len + 1) < 0)) {
        em_load_err(ctx->log, KIND, k->name, "the boot areas below 1 MiB are not guest RAM");
        ret = -EFAULT;
    }
    if (ret == 0) {
        em_elf_load(&pk->elf, ctx->mem);
        if (b->initrd_size)
            memcpy(kc_mem_ptr_rw(ctx->mem, b->initrd_addr, b->initrd_size), ctx->initrd->data,
                   b->initrd_size);
    }
    free(area);
    return ret;
}

int em_load_pvh(const struct em_image *kernel, const struct em_load_ctx *ctx, struct em_boot *boot)
{
    const char *cmdline = ctx->cmdline ? ctx->cmdline : "";
    size_t cmdline_len = strlen(cmdline);
    struct em_boot b = { .kind = "PVH", .mode = EM_MODE_PROTECTED };
    struct pvh_kernel *pk = calloc(1, sizeof(*pk));
    struct em_layout l;
    char why[256];
    int ret;

    if (!pk) {
        em_load_err(ctx->log, KIND, kernel->name, "out of memory");
        return -ENOMEM;
    }
    ret = em_elf_parse(kernel, &pk->elf, why, sizeof(why));
    if (ret == 0)
        ret = read_entry(&pk->elf, &pk->entry, why, sizeof(why));
    if (ret < 0) {
        em_load_err(ctx->log, KIND, kernel->name, "%s", why);
        goto out;
    }
    if (cmdline_len >= EM_BOOT_CMDLINE_MAX) {
        em_load_err(ctx->log, KIND, kernel->name,
                    "the command line is %zu bytes, longer than the %llu the machine holds",
                    cmdline_len, EM_BOOT_CMDLINE_MAX - 1);
        ret = -E2BIG;
        goto out;
    }
    em_layout_init(&l, ctx, KIND, kernel->name);
    ret = place_segments(&l, pk);
    if (ret == 0 && ctx->initrd) {
        ret = place_initrd(&l, pk, &b.initrd_addr);
        b.initrd_size = ctx->initrd->size;
    }
    if (ret < 0)
        goto out;
    b.entry = pk->entry;
    b.rbx = EM_BOOT_INFO;
    b.kernel_addr = pk->segs.start;
    b.kernel_size = pk->segs.end - pk->segs.start;
    b.cmdline_addr = EM_BOOT_CMDLINE;
    ret = write_all(kernel, ctx, pk, &b, cmdline, cmdline_len);
    if (ret == 0)
        *boot = b;
out:
    free(pk);
    return ret;
}
