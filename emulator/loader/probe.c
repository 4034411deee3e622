/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which loader a kernel image needs, and a clear error when none fits. */
#include <errno.h>
#include <stdio.h>

#include "elf_image.h"
#include "layout.h"

#define BOOT_SECTOR_SIGNATURE 0x1fe
#define BZIMAGE_HEADER_END    0x206

/* A few words on what the file looked like, for the error. */
static void describe(const struct em_image *img, char *out, size_t len)
{
    struct em_elf elf;
    char why[256];

    if (img->size == 0) {
        snprintf(out, len, "an empty file");
    } else if (em_elf_has_magic(img)) {
        const uint8_t *desc;
        uint32_t desc_len;

        if (em_elf_parse(img, &elf, why, sizeof(why)) < 0 ||
            em_elf_find_note(&elf, EM_PVH_NOTE_NAME, EM_PVH_NOTE_TYPE, &desc, &desc_len, why,
                             sizeof(why)) < 0)
            snprintf(out, len, "a malformed ELF: %s", why);
        else
            snprintf(out, len, "an ELF without a PVH note or a multiboot header");
    } else if (img->size < BZIMAGE_HEADER_END) {
        snprintf(out, len, "too short (%zu bytes), and no multiboot header", img->size);
    } else if (em_get16(img->data + BOOT_SECTOR_SIGNATURE) == 0xaa55) {
        snprintf(out, len, "a boot sector without a \"HdrS\" setup header");
    } else {
        snprintf(out, len, "no bzImage, ELF or multiboot header in %zu bytes", img->size);
    }
}

int em_load_kernel(const struct em_image *kernel, const struct em_load_ctx *ctx,
                   struct em_boot *boot)
{
    char saw[320];

    if (em_is_bzimage(kernel))
        return em_load_bzimage(kernel, ctx, boot);
    if (em_is_pvh_elf(kernel))
        return em_load_pvh(kernel, ctx, boot);
    if (em_is_multiboot(kernel))
        return em_load_multiboot(kernel, ctx, boot);
    describe(kernel, saw, sizeof(saw));
    kc_log(ctx->log, KC_LOG_ERROR, "kernel %s: not a bzImage, a PVH ELF or a multiboot image (%s)",
           kernel->name, saw);
    return -ENOEXEC;
}
