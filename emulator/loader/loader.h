/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loaders: each turns an image in host memory into guest memory contents
 * plus the CPU state to enter it with (struct em_boot). They take buffers,
 * not paths, so that tests can feed them synthetic and hostile images
 * without KVM. Every field read from an image is checked before use, and
 * every guest write goes through the checked accessors; a bad image is one
 * error message naming the image and what is wrong with it, and -errno.
 */
#ifndef EM_LOADER_H
#define EM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "memmap.h"
#include "options.h"

/* A whole file, read into memory. */
struct em_image {
    uint8_t *data;
    size_t size;
    const char *name; /* for messages: the path */
};

/* Reads `path` whole; on failure logs "<what> <path>: <reason>". */
int em_image_read(const char *path, const char *what, const struct kc_logger *log,
                  struct em_image *img);
void em_image_free(struct em_image *img);

/* How to enter the loaded image. */
struct em_boot {
    const char *kind; /* "bzImage", "PVH", "multiboot", "flat", "firmware" */
    /* EM_MODE_LONG sets up the boot GDT at EM_BOOT_GDT and identity page
     * tables at EM_BOOT_PT; EM_MODE_PROTECTED the GDT only; EM_MODE_REAL
     * uses real_cs. */
    enum em_cpu_mode mode;
    /* The firmware case: leave the vCPU in its reset state. */
    bool reset_vector;
    uint64_t entry;
    uint16_t real_cs;
    uint64_t rax, rbx, rsi, rdi, rsp;
    /* Where things went, for the boot timeline and tests. */
    uint64_t kernel_addr, kernel_size;
    uint64_t initrd_addr, initrd_size;
    uint64_t cmdline_addr;
};

struct em_load_ctx {
    const struct kc_logger *log;
    const struct kc_mem *mem;
    const struct em_memmap *mm;
    const char *cmdline;           /* NULL: empty */
    const struct em_image *initrd; /* NULL: none */
    uint64_t rsdp_addr;            /* 0: no ACPI */
};

/* Recognises the format (bzImage, ELF with a PVH note, multiboot) and
 * loads it; an unknown format is an error that lists what is accepted. */
int em_load_kernel(const struct em_image *kernel, const struct em_load_ctx *ctx,
                   struct em_boot *boot);

int em_load_bzimage(const struct em_image *kernel, const struct em_load_ctx *ctx,
                    struct em_boot *boot);
int em_load_pvh(const struct em_image *kernel, const struct em_load_ctx *ctx, struct em_boot *boot);
int em_load_multiboot(const struct em_image *kernel, const struct em_load_ctx *ctx,
                      struct em_boot *boot);

/* Recognisers used by em_load_kernel(): true if the image claims to be one. */
bool em_is_bzimage(const struct em_image *img);
bool em_is_pvh_elf(const struct em_image *img);
bool em_is_multiboot(const struct em_image *img);

/* A flat binary at addr, entered at entry in the given mode. */
int em_load_flat(const struct em_image *img, uint64_t addr, uint64_t entry, enum em_cpu_mode mode,
                 const struct em_load_ctx *ctx, struct em_boot *boot);

/* Firmware: the image ends at 4 GiB (in a read-only region the caller has
 * mapped at em_firmware_base()) and its last 128 KiB are copied below
 * 1 MiB, as a PC's BIOS is; the vCPU starts at the reset vector. */
uint64_t em_firmware_base(size_t image_size);
int em_load_firmware(const struct em_image *img, const struct em_load_ctx *ctx,
                     struct em_boot *boot);

/* Writes the e820 map (type and range per entry) as a packed array of
 * {u64 addr, u64 size, u32 type} at gpa; shared by bzImage and PVH. */
int em_write_e820_table(const struct em_load_ctx *ctx, uint64_t gpa, unsigned max_entries);

#endif
