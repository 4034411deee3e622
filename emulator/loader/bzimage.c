/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux bzImage through the 64-bit boot protocol (Documentation/x86/
 * boot.rst): the protected-mode kernel is loaded as it is, the zero page
 * (struct boot_params) is built at EM_BOOT_INFO, and the vCPU enters at
 * load address + 0x200 in long mode with RSI pointing at the zero page.
 * The real-mode setup code is not run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

#define KIND "bzImage"

/* Setup header fields: offsets in the file and in the zero page alike. */
#define HDR_START          0x1f1
#define HDR_SETUP_SECTS    0x1f1
#define HDR_SYSSIZE        0x1f4
#define HDR_BOOT_FLAG      0x1fe
#define HDR_JUMP           0x200
#define HDR_MAGIC          0x202
#define HDR_VERSION        0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS      0x211
#define HDR_RAMDISK_IMAGE  0x218
#define HDR_RAMDISK_SIZE   0x21c
#define HDR_HEAP_END_PTR   0x224
#define HDR_CMD_LINE_PTR   0x228
#define HDR_INITRD_MAX     0x22c
#define HDR_KERNEL_ALIGN   0x230
#define HDR_RELOCATABLE    0x234
#define HDR_XLOADFLAGS     0x236
#define HDR_CMDLINE_SIZE   0x238
#define HDR_SETUP_DATA     0x250
#define HDR_PREF_ADDRESS   0x258
#define HDR_INIT_SIZE      0x260
#define HDR_NEEDED_END     0x264 /* through init_size, which we need */
#define HDR_MAX_END        0x290 /* where the zero page's next field starts */

#define BOOT_FLAG_MAGIC    0xaa55
#define LOADED_HIGH        0x01
#define CAN_USE_HEAP       0x80
#define XLF_KERNEL_64      0x0001
#define MIN_VERSION        0x0206
#define XLOADFLAGS_VERSION 0x020c
#define LOADER_UNDEFINED   0xff
#define ENTRY_64_OFFSET    0x200

/* Zero page fields outside the setup header. */
#define ZP_SIZE              0x1000
#define ZP_ACPI_RSDP_ADDR    0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE  0x0c4
#define ZP_EXT_CMD_LINE_PTR  0x0c8
#define ZP_E820_ENTRIES      0x1e8
#define ZP_E820_TABLE        0x2d0
#define ZP_E820_MAX          128

_Static_assert(ZP_SIZE <= EM_BOOT_INFO_SIZE, "the zero page fits the boot information area");

#define MIB (1ull << 20)

/* What the checks found in the header. */
struct bz_header {
    uint16_t version;
    unsigned hdr_end;       /* file offset just past the setup header */
    uint64_t kernel_offset; /* where the protected-mode kernel starts in the file */
    uint64_t kernel_bytes;  /* its size in the file */
    uint8_t loadflags;
    bool relocatable;
    uint32_t initrd_addr_max, kernel_alignment, cmdline_size, init_size;
    uint64_t pref_address;
};

bool em_is_bzimage(const struct em_image *img)
{
    return img->size >= HDR_MAGIC + 4 && em_get16(img->data + HDR_BOOT_FLAG) == BOOT_FLAG_MAGIC &&
           memcmp(img->data + HDR_MAGIC, "HdrS", 4) == 0;
}

static int check_version(const struct em_image *k, const struct kc_logger *log, struct bz_header *h)
{
    const uint8_t *d = k->data;

    if (k->size < HDR_MAGIC + 8) {
        em_load_err(log, KIND, k->name, "%zu bytes are too short for a setup header", k->size);
        return -EINVAL;
    }
    if (em_get16(d + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC) {
        em_load_err(log, KIND, k->name, "boot_flag is 0x%04x, not 0xAA55",
                    em_get16(d + HDR_BOOT_FLAG));
        return -EINVAL;
    }
    if (memcmp(d + HDR_MAGIC, "HdrS", 4) != 0) {
        em_load_err(log, KIND, k->name, "no \"HdrS\" setup header magic at 0x202");
        return -EINVAL;
    }
    h->version = em_get16(d + HDR_VERSION);
    if (h->version < MIN_VERSION) {
        em_load_err(log, KIND, k->name, "boot protocol %u.%02u is too old (2.06 or later needed)",
                    h->version >> 8, h->version & 0xff);
        return -EINVAL;
    }
    /* The jump at 0x200 skips the header: its end is 0x202 + the offset. */
    h->hdr_end = HDR_MAGIC + d[HDR_JUMP + 1];
    if (h->hdr_end > k->size || h->hdr_end > HDR_MAX_END) {
        em_load_err(log, KIND, k->name, "the setup header would end at 0x%x, past the %s (0x%zx)",
                    h->hdr_end,
                    h->hdr_end > k->size ? "end of the file" : "zero page's header area",
                    h->hdr_end > k->size ? k->size : (size_t)HDR_MAX_END);
        return -EINVAL;
    }
    return 0;
}

static int check_kernel(const struct em_image *k, const struct kc_logger *log, struct bz_header *h)
{
    const uint8_t *d = k->data;
    uint16_t xloadflags;
    unsigned setup_sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
    uint64_t claimed = (uint64_t)em_get32(d + HDR_SYSSIZE) * 16;

    h->kernel_offset = (uint64_t)(setup_sects + 1) * 512;
    if (h->kernel_offset >= k->size) {
        em_load_err(log, KIND, k->name,
                    "setup_sects %u puts the kernel at offset 0x%llx, past the end of the file "
                    "(%zu bytes)",
                    setup_sects, (unsigned long long)h->kernel_offset, k->size);
        return -EINVAL;
    }
    h->kernel_bytes = k->size - h->kernel_offset;
    if (claimed > h->kernel_bytes) {
        em_load_err(log, KIND, k->name,
                    "truncated: the header claims a %llu-byte kernel at offset 0x%llx, the file "
                    "has %llu bytes there",
                    (unsigned long long)claimed, (unsigned long long)h->kernel_offset,
                    (unsigned long long)h->kernel_bytes);
        return -EINVAL;
    }
    if (h->version < XLOADFLAGS_VERSION) {
        em_load_err(log, KIND, k->name,
                    "no 64-bit entry point: boot protocol %u.%02u has no xloadflags (2.12 or "
                    "later needed)",
                    h->version >> 8, h->version & 0xff);
        return -EINVAL;
    }
    /* Protocol 2.12 and later define every field read from here on. */
    if (h->hdr_end < HDR_NEEDED_END) {
        em_load_err(log, KIND, k->name,
                    "the setup header ends at 0x%x, before init_size (0x260) that protocol "
                    "%u.%02u has",
                    h->hdr_end, h->version >> 8, h->version & 0xff);
        return -EINVAL;
    }
    xloadflags = em_get16(d + HDR_XLOADFLAGS);
    if (!(xloadflags & XLF_KERNEL_64)) {
        em_load_err(log, KIND, k->name,
                    "no 64-bit entry point: xloadflags 0x%x lacks XLF_KERNEL_64", xloadflags);
        return -EINVAL;
    }
    h->loadflags = d[HDR_LOADFLAGS];
    if (!(h->loadflags & LOADED_HIGH)) {
        em_load_err(log, KIND, k->name,
                    "loadflags 0x%02x lack LOADED_HIGH: a kernel loaded at 0x10000 is not "
                    "supported",
                    h->loadflags);
        return -EINVAL;
    }
    h->relocatable = d[HDR_RELOCATABLE] != 0;
    h->kernel_alignment = em_get32(d + HDR_KERNEL_ALIGN);
    if (h->relocatable &&
        (h->kernel_alignment == 0 || (h->kernel_alignment & (h->kernel_alignment - 1)) != 0)) {
        em_load_err(log, KIND, k->name, "kernel_alignment 0x%x is not a power of two",
                    h->kernel_alignment);
        return -EINVAL;
    }
    h->initrd_addr_max = em_get32(d + HDR_INITRD_MAX);
    h->cmdline_size = em_get32(d + HDR_CMDLINE_SIZE);
    h->init_size = em_get32(d + HDR_INIT_SIZE);
    h->pref_address = em_get64(d + HDR_PREF_ADDRESS);
    return 0;
}

static int check_cmdline(const struct em_image *k, const struct em_load_ctx *ctx,
                         const struct bz_header *h, size_t len)
{
    if (len > h->cmdline_size) {
        em_load_err(ctx->log, KIND, k->name,
                    "the command line is %zu bytes, longer than the kernel's cmdline_size (%u)",
                    len, h->cmdline_size);
        return -E2BIG;
    }
    if (len >= EM_BOOT_CMDLINE_MAX) {
        em_load_err(ctx->log, KIND, k->name,
                    "the command line is %zu bytes, longer than the %llu the machine holds", len,
                    EM_BOOT_CMDLINE_MAX - 1);
        return -E2BIG;
    }
    return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

/*
 * The kernel needs init_size bytes from its load address (it decompresses
 * itself there). pref_address first; a relocatable kernel may also go to
 * 16 MiB or 1 MiB, aligned up to kernel_alignment. Below 4 GiB, since the
 * boot page tables map only that.
 */
static int place_kernel(struct em_layout *l, const struct bz_header *h, uint64_t *addr,
                        uint64_t *need)
{
    const uint64_t candidates[] = { h->pref_address, 16 * MIB, 1 * MIB };
    unsigned n = h->relocatable ? 3 : 1;

    *need = h->init_size > h->kernel_bytes ? h->init_size : h->kernel_bytes;
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = h->relocatable ? align_up(candidates[i], h->kernel_alignment) : candidates[i];

        if (a >= candidates[i] && a < EM_FOUR_GIB && *need <= EM_FOUR_GIB - a &&
            em_layout_fits(l, a, *need)) {
            *addr = a;
            return em_layout_reserve(l, a, *need, "the kernel");
        }
    }
    em_load_err(l->ctx->log, KIND, l->name,
                "no room for the kernel: it needs %llu bytes (init_size %u) at 0x%llx%s, and "
                "usable guest RAM below 4 GiB is %llu bytes",
                (unsigned long long)*need, h->init_size, (unsigned long long)h->pref_address,
                h->relocatable ? ", 16 MiB or 1 MiB" : "",
                (unsigned long long)l->ctx->mm->ram_below_4g);
    return -ENOSPC;
}

static int place_initrd(struct em_layout *l, const struct bz_header *h, uint64_t *addr)
{
    const struct em_image *rd = l->ctx->initrd;
    uint64_t hi = (uint64_t)h->initrd_addr_max + 1;

    if (l->ctx->mm->ram_below_4g < hi)
        hi = l->ctx->mm->ram_below_4g;
    if (!em_layout_find_high(l, rd->size, EM_PAGE_SIZE, EM_HIGH_MEM_START, hi, addr)) {
        em_load_err(l->ctx->log, KIND, l->name,
                    "initrd %s (%zu bytes) does not fit in free guest RAM below 0x%llx "
                    "(initrd_addr_max 0x%x, RAM below 4 GiB 0x%llx) beside the kernel",
                    rd->name, rd->size, (unsigned long long)hi, h->initrd_addr_max,
                    (unsigned long long)l->ctx->mm->ram_below_4g);
        return -ENOSPC;
    }
    return em_layout_reserve(l, *addr, rd->size, "the initrd");
}

/* The zero page: the image's setup header, then what the loader fills in. */
static int build_zero_page(const struct em_image *k, const struct em_load_ctx *ctx,
                           const struct bz_header *h, const struct em_boot *b, uint8_t *zp)
{
    int n;

    memcpy(zp + HDR_START, k->data + HDR_START, h->hdr_end - HDR_START);
    zp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    /* The heap is for the real-mode setup code, which does not run here. */
    zp[HDR_LOADFLAGS] = h->loadflags & ~CAN_USE_HEAP;
    em_put16(zp + HDR_HEAP_END_PTR, 0);
    em_put32(zp + HDR_CMD_LINE_PTR, (uint32_t)b->cmdline_addr);
    em_put32(zp + ZP_EXT_CMD_LINE_PTR, (uint32_t)(b->cmdline_addr >> 32));
    em_put32(zp + HDR_RAMDISK_IMAGE, (uint32_t)b->initrd_addr);
    em_put32(zp + HDR_RAMDISK_SIZE, (uint32_t)b->initrd_size);
    em_put32(zp + ZP_EXT_RAMDISK_IMAGE, (uint32_t)(b->initrd_addr >> 32));
    em_put32(zp + ZP_EXT_RAMDISK_SIZE, (uint32_t)(b->initrd_size >> 32));
    em_put64(zp + HDR_SETUP_DATA, 0);
    /* A zero-page field for every protocol version; older kernels ignore it. */
    em_put64(zp + ZP_ACPI_RSDP_ADDR, ctx->rsdp_addr);
    n = em_memmap_format(ctx, EM_MEMMAP_E820, zp + ZP_E820_TABLE, ZP_E820_MAX * 20);
    if (n < 0)
        return n;
    zp[ZP_E820_ENTRIES] = (uint8_t)n;
    return 0;
}

static int write_all(const struct em_image *k, const struct em_load_ctx *ctx,
                     const struct bz_header *h, const struct em_boot *b, const char *cmdline,
                     size_t cmdline_len)
{
    uint8_t *info = calloc(1, EM_BOOT_INFO_SIZE);
    int ret;

    if (!info) {
        em_load_err(ctx->log, KIND, k->name, "out of memory for the zero page");
        return -ENOMEM;
    }
    ret = build_zero_page(k, ctx, h, b, info);
    /* Every range was checked against guest RAM when it was placed. */
    if (ret == 0 &&
        (kc_mem_write(ctx->mem, EM_BOOT_INFO, info, EM_BOOT_INFO_SIZE) < 0 ||
         kc_mem_write(ctx->mem, b->cmdline_addr, cmdline, cmdline_len + 1) < 0 ||
         kc_mem_write(ctx->mem, b->kernel_addr, k->data + h->kernel_offset, h->kernel_bytes) < 0 ||
         (b->initrd_size &&
          kc_mem_write(ctx->mem, b->initrd_addr, ctx->initrd->data, b->initrd_size) < 0))) {
        em_load_err(ctx->log, KIND, k->name, "the boot areas below 1 MiB are not guest RAM");
        ret = -EFAULT;
    }
    free(info);
    return ret;
}

int em_load_bzimage(const struct em_image *kernel, const struct em_load_ctx *ctx,
                    struct em_boot *boot)
{
    const char *cmdline = ctx->cmdline ? ctx->cmdline : "";
    size_t cmdline_len = strlen(cmdline);
    struct em_layout l;
    struct bz_header h;
    struct em_boot b = { .kind = KIND, .mode = EM_MODE_LONG };
    int ret;

    memset(&h, 0, sizeof(h));
    ret = check_version(kernel, ctx->log, &h);
    if (ret == 0)
        ret = check_kernel(kernel, ctx->log, &h);
    if (ret == 0)
        ret = check_cmdline(kernel, ctx, &h, cmdline_len);
    if (ret < 0)
        return ret;
    em_layout_init(&l, ctx, KIND, kernel->name);
    ret = place_kernel(&l, &h, &b.kernel_addr, &b.kernel_size);
    if (ret == 0 && ctx->initrd) {
        ret = place_initrd(&l, &h, &b.initrd_addr);
        b.initrd_size = ctx->initrd->size;
    }
    if (ret < 0)
        return ret;
    b.cmdline_addr = EM_BOOT_CMDLINE;
    b.entry = b.kernel_addr + ENTRY_64_OFFSET;
    b.rsi = EM_BOOT_INFO;
    ret = write_all(kernel, ctx, &h, &b, cmdline, cmdline_len);
    if (ret < 0)
        return ret;
    *boot = b;
    return 0;
}
