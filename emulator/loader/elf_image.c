/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading an untrusted ELF file: every offset and size checked first. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "elf_image.h"
#include "layout.h"

/* Headers are copied into the <elf.h> structs as they are: x86 hosts only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* [off, off + n) lies inside a file of `size` bytes. */
static bool in_file(uint64_t off, uint64_t n, size_t size)
{
    return off <= size && n <= size - off;
}

bool em_elf_has_magic(const struct em_image *img)
{
    return img->size >= SELFMAG && memcmp(img->data, ELFMAG, SELFMAG) == 0;
}

static int read_header(const struct em_image *img, struct em_elf *elf, uint16_t *type,
                       uint16_t *machine, char *why, size_t len)
{
    const uint8_t *d = img->data;

    if (img->size < EI_NIDENT || !em_elf_has_magic(img))
        return fail(why, len, "not an ELF file (no \\177ELF magic)");
    if (d[EI_CLASS] != ELFCLASS32 && d[EI_CLASS] != ELFCLASS64)
        return fail(why, len, "ELF class %u is neither 32-bit nor 64-bit", d[EI_CLASS]);
    elf->is64 = d[EI_CLASS] == ELFCLASS64;
    if (d[EI_DATA] != ELFDATA2LSB)
        return fail(why, len, "ELF data encoding %u is not little-endian", d[EI_DATA]);
    if (elf->is64) {
        Elf64_Ehdr h;

        if (img->size < sizeof(h))
            return fail(why, len, "%zu bytes are too short for an ELF64 header", img->size);
        memcpy(&h, d, sizeof(h));
        *type = h.e_type;
        *machine = h.e_machine;
        elf->entry = h.e_entry;
        elf->phoff = h.e_phoff;
        elf->phnum = h.e_phnum;
        elf->phentsize = h.e_phentsize;
        elf->shoff = h.e_shoff;
        elf->shnum = h.e_shnum;
        elf->shentsize = h.e_shentsize;
    } else {
        Elf32_Ehdr h;

        if (img->size < sizeof(h))
            return fail(why, len, "%zu bytes are too short for an ELF32 header", img->size);
        memcpy(&h, d, sizeof(h));
        *type = h.e_type;
        *machine = h.e_machine;
        elf->entry = h.e_entry;
        elf->phoff = h.e_phoff;
        elf->phnum = h.e_phnum;
        elf->phentsize = h.e_phentsize;
        elf->shoff = h.e_shoff;
        elf->shnum = h.e_shnum;
        elf->shentsize = h.e_shentsize;
    }
    return 0;
}

void em_elf_phdr(const struct em_elf *elf, unsigned i, struct em_elf_phdr *ph)
{
    const uint8_t *p = elf->data + elf->phoff + (uint64_t)i * elf->phentsize;

    if (elf->is64) {
        Elf64_Phdr h;

        memcpy(&h, p, sizeof(h));
        *ph = (struct em_elf_phdr){ h.p_type,   h.p_offset, h.p_paddr,
                                    h.p_filesz, h.p_memsz,  h.p_align };
    } else {
        Elf32_Phdr h;

        memcpy(&h, p, sizeof(h));
        *ph = (struct em_elf_phdr){ h.p_type,   h.p_offset, h.p_paddr,
                                    h.p_filesz, h.p_memsz,  h.p_align };
    }
}

static int check_phdr(const struct em_elf *elf, unsigned i, char *why, size_t len)
{
    uint64_t limit = elf->is64 ? 0 : 1ull << 32; /* 0: 2^64 */
    struct em_elf_phdr ph;

    em_elf_phdr(elf, i, &ph);
    if (ph.type != PT_LOAD && ph.type != PT_NOTE)
        return 0;
    if (!in_file(ph.offset, ph.filesz, elf->size))
        return fail(why, len,
                    "program header %u: file bytes at 0x%llx + 0x%llx run past the end of the "
                    "file (%zu bytes)",
                    i, (unsigned long long)ph.offset, (unsigned long long)ph.filesz, elf->size);
    if (ph.type != PT_LOAD)
        return 0;
    if (ph.filesz > ph.memsz)
        return fail(why, len, "program header %u: p_filesz 0x%llx is larger than p_memsz 0x%llx", i,
                    (unsigned long long)ph.filesz, (unsigned long long)ph.memsz);
    if (ph.paddr + ph.memsz < ph.paddr || (limit && ph.paddr + ph.memsz > limit))
        return fail(why, len, "program header %u: p_paddr 0x%llx + p_memsz 0x%llx wraps around %s",
                    i, (unsigned long long)ph.paddr, (unsigned long long)ph.memsz,
                    limit ? "4 GiB" : "2^64");
    return 0;
}

int em_elf_parse(const struct em_image *img, struct em_elf *elf, char *why, size_t len)
{
    size_t phsize;
    uint16_t type = 0, machine = 0;
    int ret;

    memset(elf, 0, sizeof(*elf));
    elf->data = img->data;
    elf->size = img->size;
    ret = read_header(img, elf, &type, &machine, why, len);
    if (ret < 0)
        return ret;
    phsize = elf->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if (type != ET_EXEC)
        return fail(why, len, "ELF type %u is not an executable (ET_EXEC)", type);
    if (machine != EM_X86_64 && machine != EM_386)
        return fail(why, len, "ELF machine %u is not x86", machine);
    if (elf->phnum == 0 || elf->phnum == PN_XNUM)
        return fail(why, len, "%s program headers", elf->phnum ? "too many" : "no");
    if (elf->phentsize < phsize)
        return fail(why, len, "e_phentsize %u is smaller than a program header (%zu bytes)",
                    elf->phentsize, phsize);
    if (!in_file(elf->phoff, (uint64_t)elf->phnum * elf->phentsize, img->size))
        return fail(why, len,
                    "program headers (e_phoff 0x%llx, %u of %u bytes) run past the end of the "
                    "file (%zu bytes)",
                    (unsigned long long)elf->phoff, elf->phnum, elf->phentsize, img->size);
    for (unsigned i = 0; i < elf->phnum; i++) {
        ret = check_phdr(elf, i, why, len);
        if (ret < 0)
            return ret;
    }
    return 0;
}

static uint64_t align_up(uint64_t v, uint64_t align)
{
    return (v + align - 1) & ~(align - 1);
}

/* Notes are 4-byte aligned, except in 8-aligned segments and sections. */
static uint64_t note_align(uint64_t align)
{
    return align == 8 ? 8 : 4;
}

static int walk_notes(const uint8_t *p, uint64_t size, uint64_t align, const char *name,
                      uint32_t type, const uint8_t **desc, uint32_t *desc_len, const char *where,
                      char *why, size_t len)
{
    size_t name_len = strlen(name) + 1;
    uint64_t off = 0;

    while (size - off >= 12) {
        uint32_t namesz = em_get32(p + off), descsz = em_get32(p + off + 4);
        uint64_t desc_off = off + 12 + align_up(namesz, align);
        uint64_t next = desc_off + align_up(descsz, align);

        if (desc_off > size || descsz > size - desc_off)
            return fail(why, len,
                        "the note at offset 0x%llx of %s (name %u bytes, desc %u bytes) runs "
                        "past its end (0x%llx bytes)",
                        (unsigned long long)off, where, namesz, descsz, (unsigned long long)size);
        if (namesz == name_len && memcmp(p + off + 12, name, name_len) == 0 &&
            em_get32(p + off + 8) == type) {
            *desc = p + desc_off;
            *desc_len = descsz;
            return 1;
        }
        if (next >= size)
            break;
        off = next;
    }
    return 0;
}

/* Section header i's type, and its file range and alignment. */
static uint32_t read_shdr(const struct em_elf *elf, unsigned i, uint64_t *off, uint64_t *size,
                          uint64_t *align)
{
    const uint8_t *p = elf->data + elf->shoff + (uint64_t)i * elf->shentsize;

    if (elf->is64) {
        Elf64_Shdr h;

        memcpy(&h, p, sizeof(h));
        *off = h.sh_offset;
        *size = h.sh_size;
        *align = h.sh_addralign;
        return h.sh_type;
    } else {
        Elf32_Shdr h;

        memcpy(&h, p, sizeof(h));
        *off = h.sh_offset;
        *size = h.sh_size;
        *align = h.sh_addralign;
        return h.sh_type;
    }
}

static int find_in_sections(const struct em_elf *elf, const char *name, uint32_t type,
                            const uint8_t **desc, uint32_t *desc_len, char *why, size_t len)
{
    size_t shsize = elf->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    char where[48];

    /* No section table, or extended numbering (the count is elsewhere). */
    if (elf->shnum == 0 || elf->shoff == 0)
        return 0;
    if (elf->shentsize < shsize)
        return fail(why, len, "e_shentsize %u is smaller than a section header (%zu bytes)",
                    elf->shentsize, shsize);
    if (!in_file(elf->shoff, (uint64_t)elf->shnum * elf->shentsize, elf->size))
        return fail(why, len,
                    "section headers (e_shoff 0x%llx, %u of %u bytes) run past the end of the "
                    "file (%zu bytes)",
                    (unsigned long long)elf->shoff, elf->shnum, elf->shentsize, elf->size);
    for (unsigned i = 0; i < elf->shnum; i++) {
        uint64_t off, size, align;
        uint32_t sh_type = read_shdr(elf, i, &off, &size, &align);
        int ret;

        if (sh_type != SHT_NOTE)
            continue;
        if (!in_file(off, size, elf->size))
            return fail(why, len,
                        "note section %u at 0x%llx + 0x%llx runs past the end of the file "
                        "(%zu bytes)",
                        i, (unsigned long long)off, (unsigned long long)size, elf->size);
        snprintf(where, sizeof(where), "note section %u", i);
        ret = walk_notes(elf->data + off, size, note_align(align), name, type, desc, desc_len,
                         where, why, len);
        if (ret != 0)
            return ret;
    }
    return 0;
}

int em_elf_find_note(const struct em_elf *elf, const char *name, uint32_t type,
                     const uint8_t **desc, uint32_t *desc_len, char *why, size_t len)
{
    char where[48];

    for (unsigned i = 0; i < elf->phnum; i++) {
        struct em_elf_phdr ph;
        int ret;

        em_elf_phdr(elf, i, &ph);
        if (ph.type != PT_NOTE)
            continue;
        snprintf(where, sizeof(where), "PT_NOTE segment %u", i);
        ret = walk_notes(elf->data + ph.offset, ph.filesz, note_align(ph.align), name, type, desc,
                         desc_len, where, why, len);
        if (ret != 0)
            return ret;
    }
    return find_in_sections(elf, name, type, desc, desc_len, why, len);
}

int em_elf_place(const struct em_elf *elf, struct em_layout *l, struct em_elf_segments *segs)
{
    unsigned n = 0;

    segs->start = UINT64_MAX;
    segs->end = 0;
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct em_elf_phdr ph;
        int ret;

        em_elf_phdr(elf, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        if (n == EM_LAYOUT_MAX) {
            em_load_err(l->ctx->log, l->kind, l->name, "more than %d PT_LOAD segments",
                        EM_LAYOUT_MAX);
            return -E2BIG;
        }
        /* The layout keeps the name for later messages. */
        snprintf(segs->names[n], sizeof(segs->names[n]), "segment %u (PT_LOAD)", i);
        ret = em_layout_reserve(l, ph.paddr, ph.memsz, segs->names[n++]);
        if (ret < 0)
            return ret;
        if (ph.paddr < segs->start)
            segs->start = ph.paddr;
        if (ph.paddr + ph.memsz > segs->end)
            segs->end = ph.paddr + ph.memsz;
    }
    if (n == 0) {
        em_load_err(l->ctx->log, l->kind, l->name, "no PT_LOAD segment has any contents");
        return -EINVAL;
    }
    return 0;
}

bool em_elf_in_segment(const struct em_elf *elf, uint64_t addr)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct em_elf_phdr ph;

        em_elf_phdr(elf, i, &ph);
        if (ph.type == PT_LOAD && addr >= ph.paddr && addr - ph.paddr < ph.memsz)
            return true;
    }
    return false;
}

void em_elf_load(const struct em_elf *elf, const struct kc_mem *mem)
{
    for (unsigned i = 0; i < elf->phnum; i++) {
        struct em_elf_phdr ph;
        uint8_t *dst;

        em_elf_phdr(elf, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0)
            continue;
        dst = kc_mem_ptr_rw(mem, ph.paddr, ph.memsz);
        memcpy(dst, elf->data + ph.offset, ph.filesz);
        memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
    }
}
