/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A checked view of an ELF file (32- or 64-bit, little-endian, x86) for
 * the PVH and multiboot loaders. em_elf_parse() checks the header and the
 * program headers a loader uses (PT_LOAD, PT_NOTE) against the file, so
 * that reading them afterwards cannot go out of bounds. Problems are
 * returned as text in `why`; the loader logs them with its own prefix.
 */
#ifndef EM_LOADER_ELF_IMAGE_H
#define EM_LOADER_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "loader.h"

/* The note that makes an ELF a PVH kernel: XEN_ELFNOTE_PHYS32_ENTRY. */
#define EM_PVH_NOTE_NAME "Xen"
#define EM_PVH_NOTE_TYPE 18

struct em_elf {
    const uint8_t *data;
    size_t size;
    bool is64;
    uint64_t entry;
    uint64_t phoff, shoff;
    unsigned phnum, phentsize;
    unsigned shnum, shentsize;
};

struct em_elf_phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz, align;
};

/* True if the file starts with the ELF magic. */
bool em_elf_has_magic(const struct em_image *img);

/* 0, or -EINVAL with the first problem found described in why. */
int em_elf_parse(const struct em_image *img, struct em_elf *elf, char *why, size_t len);

/* Program header i (< phnum) of a parsed file. */
void em_elf_phdr(const struct em_elf *elf, unsigned i, struct em_elf_phdr *ph);

/*
 * Looks for a note with the given owner name and type in the PT_NOTE
 * segments, then in the SHT_NOTE sections. 1 if found (*desc points into
 * the file, *desc_len bytes), 0 if absent, -EINVAL if a note or the
 * section table is malformed (why says how).
 */
int em_elf_find_note(const struct em_elf *elf, const char *name, uint32_t type,
                     const uint8_t **desc, uint32_t *desc_len, char *why, size_t len);

/* Where a parsed file's PT_LOAD segments go. */
struct em_elf_segments {
    uint64_t start, end; /* the lowest and the highest + 1 loaded byte */
    char names[EM_LAYOUT_MAX][32];
};

/* Takes each PT_LOAD segment's [p_paddr, p_paddr + p_memsz) in l (logging
 * the first that cannot be), and fills segs. No segment is an error. */
int em_elf_place(const struct em_elf *elf, struct em_layout *l, struct em_elf_segments *segs);

/* True if addr lies inside some PT_LOAD segment's memory. */
bool em_elf_in_segment(const struct em_elf *elf, uint64_t addr);

/* Copies every PT_LOAD segment to guest memory and zeroes its tail
 * (p_memsz beyond p_filesz); only after em_elf_place() succeeded. */
void em_elf_load(const struct em_elf *elf, const struct kc_mem *mem);

#endif
