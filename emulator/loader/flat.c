/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Flat binaries: the smallest test guests, and -bios-style firmware. */
#include <errno.h>
#include <string.h>

#include "loader.h"

#define LOW_BIOS_SIZE 0x20000ull /* the copy below 1 MiB, as on a PC */
#define FIRMWARE_MAX  (16ull << 20)

int em_load_flat(const struct em_image *img, uint64_t addr, uint64_t entry, enum em_cpu_mode mode,
                 const struct em_load_ctx *ctx, struct em_boot *boot)
{
    uint8_t *dst = kc_mem_ptr_rw(ctx->mem, addr, img->size);

    if (!dst) {
        kc_log(ctx->log, KC_LOG_ERROR, "flat image %s: %zu bytes at 0x%llx do not fit in guest RAM",
               img->name, img->size, (unsigned long long)addr);
        return -EFAULT;
    }
    if (entry < addr || entry - addr >= img->size) {
        kc_log(ctx->log, KC_LOG_ERROR, "flat image %s: entry 0x%llx is outside the image",
               img->name, (unsigned long long)entry);
        return -EINVAL;
    }
    memcpy(dst, img->data, img->size);
    memset(boot, 0, sizeof(*boot));
    boot->kind = "flat";
    boot->mode = mode;
    boot->kernel_addr = addr;
    boot->kernel_size = img->size;
    if (mode == EM_MODE_REAL) {
        boot->real_cs = (uint16_t)(addr >> 4);
        boot->entry = entry - addr;
    } else {
        boot->entry = entry;
    }
    return 0;
}

uint64_t em_firmware_base(size_t image_size)
{
    uint64_t size = (image_size + 4095) & ~4095ull;

    return EM_FOUR_GIB - size;
}

int em_load_firmware(const struct em_image *img, const struct em_load_ctx *ctx,
                     struct em_boot *boot)
{
    uint64_t base = em_firmware_base(img->size);
    uint64_t low = img->size < LOW_BIOS_SIZE ? img->size : LOW_BIOS_SIZE;
    uint8_t *rom, *low_copy;

    if (img->size > FIRMWARE_MAX) {
        kc_log(ctx->log, KC_LOG_ERROR, "firmware %s: %zu bytes is larger than 16 MiB", img->name,
               img->size);
        return -EFBIG;
    }
    /* The image ends exactly at 4 GiB, so the reset vector is its last
     * 16 bytes; a partial last page is padded in front. */
    rom = kc_mem_ptr(ctx->mem, EM_FOUR_GIB - img->size, img->size);
    low_copy = kc_mem_ptr_rw(ctx->mem, EM_HIGH_MEM_START - low, low);
    if (!rom || !low_copy) {
        kc_log(ctx->log, KC_LOG_ERROR, "firmware %s: no ROM region at 0x%llx", img->name,
               (unsigned long long)base);
        return -EFAULT;
    }
    memcpy(rom, img->data, img->size);
    memcpy(low_copy, img->data + img->size - low, low);
    memset(boot, 0, sizeof(*boot));
    boot->kind = "firmware";
    boot->reset_vector = true;
    boot->kernel_addr = EM_FOUR_GIB - img->size;
    boot->kernel_size = img->size;
    return 0;
}
