/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the loader tests share: guest RAM laid out as the machine lays it
 * out (kc_mem, no KVM), a canary fill to prove that a refused image wrote
 * nothing, guest memory readers, and builders for synthetic ELF files and
 * multiboot headers.
 */
#ifndef LOADER_FIXTURE_H
#define LOADER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/loader.h"
#include "testutil.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)

/* Every byte of guest RAM before a load, so that writes show. */
#define CANARY 0xee

struct loader_fx {
    struct log_capture cap;
    struct kc_mem *mem;
    struct em_memmap mm;
    struct em_load_ctx ctx;
    struct em_image initrd;
};

/* ram_size bytes of RAM as em_memmap_init() lays it out, filled with
 * CANARY; ctx has the capturing logger, no command line and no initrd. */
void fx_init(struct loader_fx *fx, uint64_t ram_size);
void fx_fini(struct loader_fx *fx);
/* Adds `size` bytes of RAM at 4 GiB (map and memory) to a small machine,
 * without the 3 GiB below that a real one that large would have. */
void fx_add_high_ram(struct loader_fx *fx, uint64_t size);

/* An initrd of `size` bytes whose byte i is (seed + i * 13) & 0xff,
 * named "/images/initrd.img"; also set in fx->ctx. */
void fx_set_initrd(struct loader_fx *fx, size_t size, uint8_t seed);

/* True if every byte of guest RAM is still CANARY. */
bool fx_untouched(const struct loader_fx *fx);
/* True if [gpa, gpa + len) all hold v. */
bool fx_all(const struct loader_fx *fx, uint64_t gpa, uint64_t len, uint8_t v);
/* True if guest memory at gpa equals the host bytes. */
bool fx_equal(const struct loader_fx *fx, uint64_t gpa, const void *bytes, size_t len);

uint8_t fx_rd8(const struct loader_fx *fx, uint64_t gpa);
uint16_t fx_rd16(const struct loader_fx *fx, uint64_t gpa);
uint32_t fx_rd32(const struct loader_fx *fx, uint64_t gpa);
uint64_t fx_rd64(const struct loader_fx *fx, uint64_t gpa);
/* The NUL-terminated string at gpa (at most len - 1 bytes). */
void fx_rdstr(const struct loader_fx *fx, uint64_t gpa, char *out, size_t len);

/* Asserts that exactly one error was logged and that it has every needle. */
void fx_expect_error(const struct loader_fx *fx, const char *const *needles);

/* Byte i of a pattern that differs with position and seed. */
static inline uint8_t fx_pattern(uint8_t seed, size_t i)
{
    return (uint8_t)(seed + i * 13);
}

void fx_put16(uint8_t *p, uint16_t v);
void fx_put32(uint8_t *p, uint32_t v);
void fx_put64(uint8_t *p, uint64_t v);

/* ---- synthetic ELF files ---- */

struct elf_seg {
    uint64_t paddr, filesz, memsz;
    uint8_t seed; /* file bytes are fx_pattern(seed, i) */
};

enum elf_note_place {
    NOTE_NONE,
    NOTE_SEGMENT, /* a PT_NOTE segment (and no section table) */
    NOTE_SECTION, /* only an SHT_NOTE section */
};

struct elf_spec {
    bool is64;
    uint64_t entry;
    unsigned nseg;
    struct elf_seg seg[4];
    /* The PVH note (Xen, type 18), after a GNU note whose 5-byte desc
     * needs padding, so that the walk over notes is exercised. */
    enum elf_note_place note;
    uint32_t pvh_desc_len; /* 4 or 8 */
    uint64_t pvh_entry;
    /* Raw bytes (a multiboot header) put at extra_off, below 0x1000. */
    const uint8_t *extra;
    size_t extra_len, extra_off;
};

struct elf_file {
    uint8_t *data;
    size_t size;
    size_t phoff, phentsize;
    size_t note_off;     /* the note area */
    size_t pvh_note_off; /* the PVH note's header inside it */
    size_t seg_off[4];   /* each segment's file bytes */
    struct em_image img;
};

/* Builds the file (free with elf_free); the program headers are the
 * segments in order, then the PT_NOTE one if any. */
void elf_build(const struct elf_spec *spec, struct elf_file *f, const char *name);
void elf_free(struct elf_file *f);
/* Offset of program header i in the file. */
size_t elf_ph(const struct elf_file *f, unsigned i);

/* ---- multiboot headers ---- */

#define MB_MAGIC 0x1badb002u

struct mb_aout {
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Writes a header with a correct checksum at p: 12 bytes, or 32 with the
 * address fields when aout is given (and flag bit 16 is set by the caller). */
size_t mb_header(uint8_t *p, uint32_t flags, const struct mb_aout *aout);

#endif
