/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "loader_fixture.h"

void fx_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void fx_put32(uint8_t *p, uint32_t v)
{
    fx_put16(p, (uint16_t)v);
    fx_put16(p + 2, (uint16_t)(v >> 16));
}

void fx_put64(uint8_t *p, uint64_t v)
{
    fx_put32(p, (uint32_t)v);
    fx_put32(p + 4, (uint32_t)(v >> 32));
}

static void fill_region(struct kc_region *r)
{
    ck_assert_ptr_nonnull(r);
    memset(kc_region_host(r), CANARY, kc_region_size(r));
}

void fx_init(struct loader_fx *fx, uint64_t ram_size)
{
    memset(fx, 0, sizeof(*fx));
    log_capture_init(&fx->cap);
    fx->mem = kc_mem_create(&fx->cap.logger);
    ck_assert_ptr_nonnull(fx->mem);
    em_memmap_init(&fx->mm, ram_size);
    fill_region(kc_mem_add_ram(fx->mem, 0, fx->mm.ram_below_4g, 0, "low"));
    if (fx->mm.ram_above_4g)
        fill_region(kc_mem_add_ram(fx->mem, EM_HIGH_RAM_BASE, fx->mm.ram_above_4g, 0, "high"));
    fx->ctx.log = &fx->cap.logger;
    fx->ctx.mem = fx->mem;
    fx->ctx.mm = &fx->mm;
    ck_assert_uint_eq(fx->cap.count, 0);
}

void fx_add_high_ram(struct loader_fx *fx, uint64_t size)
{
    ck_assert_uint_lt(fx->mm.nr_e820, EM_E820_MAX);
    fx->mm.e820[fx->mm.nr_e820++] = (struct em_e820_entry){ EM_HIGH_RAM_BASE, size, EM_E820_RAM };
    fx->mm.ram_above_4g = size;
    fx->mm.ram_size += size;
    fill_region(kc_mem_add_ram(fx->mem, EM_HIGH_RAM_BASE, size, 0, "high"));
}

void fx_fini(struct loader_fx *fx)
{
    free(fx->initrd.data);
    kc_mem_destroy(fx->mem);
    memset(fx, 0, sizeof(*fx));
}

void fx_set_initrd(struct loader_fx *fx, size_t size, uint8_t seed)
{
    free(fx->initrd.data);
    fx->initrd.data = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(fx->initrd.data);
    for (size_t i = 0; i < size; i++)
        fx->initrd.data[i] = fx_pattern(seed, i);
    fx->initrd.size = size;
    fx->initrd.name = "/images/initrd.img";
    fx->ctx.initrd = &fx->initrd;
}

static bool region_all(const struct kc_region *r, uint64_t off, uint64_t len, uint8_t v)
{
    const uint8_t *p = (const uint8_t *)kc_region_host(r) + off;
    uint8_t page[4096];

    memset(page, v, sizeof(page));
    while (len) {
        size_t n = len < sizeof(page) ? len : sizeof(page);

        if (memcmp(p, page, n) != 0)
            return false;
        p += n;
        len -= n;
    }
    return true;
}

bool fx_untouched(const struct loader_fx *fx)
{
    for (unsigned i = 0; i < kc_mem_region_count(fx->mem); i++) {
        const struct kc_region *r = kc_mem_region_at(fx->mem, i);

        if (!region_all(r, 0, kc_region_size(r), CANARY))
            return false;
    }
    return true;
}

bool fx_all(const struct loader_fx *fx, uint64_t gpa, uint64_t len, uint8_t v)
{
    const struct kc_region *r = kc_mem_find(fx->mem, gpa);

    if (len == 0)
        return true;
    ck_assert_ptr_nonnull(kc_mem_ptr(fx->mem, gpa, len));
    return region_all(r, gpa - kc_region_gpa(r), len, v);
}

bool fx_equal(const struct loader_fx *fx, uint64_t gpa, const void *bytes, size_t len)
{
    const void *p = kc_mem_ptr(fx->mem, gpa, len);

    ck_assert_msg(p != NULL, "0x%llx + %zu is not guest RAM", (unsigned long long)gpa, len);
    return memcmp(p, bytes, len) == 0;
}

static void rd(const struct loader_fx *fx, uint64_t gpa, void *out, size_t len)
{
    ck_assert_int_eq(kc_mem_read(fx->mem, gpa, out, len), 0);
}

uint8_t fx_rd8(const struct loader_fx *fx, uint64_t gpa)
{
    uint8_t b[1];

    rd(fx, gpa, b, 1);
    return b[0];
}

uint16_t fx_rd16(const struct loader_fx *fx, uint64_t gpa)
{
    uint8_t b[2];

    rd(fx, gpa, b, 2);
    return (uint16_t)(b[0] | b[1] << 8);
}

uint32_t fx_rd32(const struct loader_fx *fx, uint64_t gpa)
{
    return fx_rd16(fx, gpa) | (uint32_t)fx_rd16(fx, gpa + 2) << 16;
}

uint64_t fx_rd64(const struct loader_fx *fx, uint64_t gpa)
{
    return fx_rd32(fx, gpa) | (uint64_t)fx_rd32(fx, gpa + 4) << 32;
}

void fx_rdstr(const struct loader_fx *fx, uint64_t gpa, char *out, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        out[i] = (char)fx_rd8(fx, gpa + i);
        if (!out[i])
            return;
    }
    out[i] = 0;
}

void fx_expect_error(const struct loader_fx *fx, const char *const *needles)
{
    ck_assert_msg(fx->cap.count == 1, "%u messages logged, want 1: %s", fx->cap.count,
                  fx->cap.text);
    for (; *needles; needles++)
        ck_assert_msg(log_has(&fx->cap, *needles), "no \"%s\" in: %s", *needles, fx->cap.text);
}

/* ---- ELF ---- */

#define NOTE_AREA  0x200
#define PHDR_START 0x40
#define SEG_START  0x1000

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const uint8_t *desc,
                       uint32_t desc_len)
{
    uint32_t namesz = (uint32_t)strlen(name) + 1;
    size_t off = 12;

    fx_put32(p, namesz);
    fx_put32(p + 4, desc_len);
    fx_put32(p + 8, type);
    memcpy(p + off, name, namesz);
    off += (namesz + 3) & ~3u;
    memcpy(p + off, desc, desc_len);
    off += (desc_len + 3) & ~3u;
    return off;
}

static size_t build_notes(const struct elf_spec *s, uint8_t *p, size_t *pvh_off)
{
    static const uint8_t gnu_desc[5] = { 1, 2, 3, 4, 5 };
    uint8_t desc[8];
    size_t off = put_note(p, "GNU", 3, gnu_desc, sizeof(gnu_desc));

    fx_put64(desc, s->pvh_entry);
    *pvh_off = off;
    off += put_note(p + off, "Xen", 18, desc, s->pvh_desc_len);
    return off;
}

static void put_phdr(const struct elf_spec *s, uint8_t *p, uint32_t type, uint64_t off,
                     uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
    if (s->is64) {
        Elf64_Phdr h = { .p_type = type,
                         .p_offset = off,
                         .p_vaddr = paddr,
                         .p_paddr = paddr,
                         .p_filesz = filesz,
                         .p_memsz = memsz,
                         .p_align = align };

        memcpy(p, &h, sizeof(h));
    } else {
        Elf32_Phdr h = { .p_type = type,
                         .p_offset = (uint32_t)off,
                         .p_vaddr = (uint32_t)paddr,
                         .p_paddr = (uint32_t)paddr,
                         .p_filesz = (uint32_t)filesz,
                         .p_memsz = (uint32_t)memsz,
                         .p_align = (uint32_t)align };

        memcpy(p, &h, sizeof(h));
    }
}

static void put_ehdr(const struct elf_spec *s, struct elf_file *f, unsigned phnum, size_t shoff,
                     unsigned shnum)
{
    static const uint8_t ident[] = { 0x7f, 'E', 'L', 'F' };

    if (s->is64) {
        Elf64_Ehdr h = { .e_type = ET_EXEC,
                         .e_machine = EM_X86_64,
                         .e_version = EV_CURRENT,
                         .e_entry = s->entry,
                         .e_phoff = PHDR_START,
                         .e_shoff = shoff,
                         .e_ehsize = sizeof(h),
                         .e_phentsize = sizeof(Elf64_Phdr),
                         .e_phnum = (uint16_t)phnum,
                         .e_shentsize = sizeof(Elf64_Shdr),
                         .e_shnum = (uint16_t)shnum };

        memcpy(h.e_ident, ident, 4);
        h.e_ident[EI_CLASS] = ELFCLASS64;
        h.e_ident[EI_DATA] = ELFDATA2LSB;
        h.e_ident[EI_VERSION] = EV_CURRENT;
        memcpy(f->data, &h, sizeof(h));
    } else {
        Elf32_Ehdr h = { .e_type = ET_EXEC,
                         .e_machine = EM_386,
                         .e_version = EV_CURRENT,
                         .e_entry = (uint32_t)s->entry,
                         .e_phoff = PHDR_START,
                         .e_shoff = (uint32_t)shoff,
                         .e_ehsize = sizeof(h),
                         .e_phentsize = sizeof(Elf32_Phdr),
                         .e_phnum = (uint16_t)phnum,
                         .e_shentsize = sizeof(Elf32_Shdr),
                         .e_shnum = (uint16_t)shnum };

        memcpy(h.e_ident, ident, 4);
        h.e_ident[EI_CLASS] = ELFCLASS32;
        h.e_ident[EI_DATA] = ELFDATA2LSB;
        h.e_ident[EI_VERSION] = EV_CURRENT;
        memcpy(f->data, &h, sizeof(h));
    }
}

/* Two sections: the null one and the notes. */
static void put_sections(const struct elf_spec *s, uint8_t *p, size_t note_off, size_t note_len)
{
    if (s->is64) {
        Elf64_Shdr h[2] = {
            { 0 },
            { .sh_type = SHT_NOTE, .sh_offset = note_off, .sh_size = note_len, .sh_addralign = 4 }
        };

        memcpy(p, h, sizeof(h));
    } else {
        Elf32_Shdr h[2] = { { 0 },
                            { .sh_type = SHT_NOTE,
                              .sh_offset = (uint32_t)note_off,
                              .sh_size = (uint32_t)note_len,
                              .sh_addralign = 4 } };

        memcpy(p, h, sizeof(h));
    }
}

void elf_build(const struct elf_spec *s, struct elf_file *f, const char *name)
{
    size_t off = SEG_START, shoff = 0, note_len = 0;
    unsigned phnum = s->nseg + (s->note == NOTE_SEGMENT ? 1 : 0);

    memset(f, 0, sizeof(*f));
    f->phoff = PHDR_START;
    f->phentsize = s->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    f->note_off = NOTE_AREA;
    for (unsigned i = 0; i < s->nseg; i++) {
        f->seg_off[i] = off;
        off += (s->seg[i].filesz + 0xfff) & ~0xfffull;
    }
    if (s->note == NOTE_SECTION) {
        shoff = off;
        off += 2 * (s->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr));
    }
    f->size = off;
    f->data = calloc(1, f->size);
    ck_assert_ptr_nonnull(f->data);
    if (s->note != NOTE_NONE)
        note_len = build_notes(s, f->data + NOTE_AREA, &f->pvh_note_off);
    f->pvh_note_off += NOTE_AREA;
    for (unsigned i = 0; i < s->nseg; i++) {
        const struct elf_seg *g = &s->seg[i];

        for (size_t j = 0; j < g->filesz; j++)
            f->data[f->seg_off[i] + j] = fx_pattern(g->seed, j);
        put_phdr(s, f->data + elf_ph(f, i), PT_LOAD, f->seg_off[i], g->paddr, g->filesz, g->memsz,
                 0x1000);
    }
    if (s->note == NOTE_SEGMENT)
        put_phdr(s, f->data + elf_ph(f, s->nseg), PT_NOTE, NOTE_AREA, 0, note_len, note_len, 4);
    if (s->note == NOTE_SECTION)
        put_sections(s, f->data + shoff, NOTE_AREA, note_len);
    put_ehdr(s, f, phnum, shoff, shoff ? 2 : 0);
    if (s->extra) {
        ck_assert_uint_le(s->extra_off + s->extra_len, SEG_START);
        memcpy(f->data + s->extra_off, s->extra, s->extra_len);
    }
    f->img = (struct em_image){ f->data, f->size, name };
}

void elf_free(struct elf_file *f)
{
    free(f->data);
    f->data = NULL;
}

size_t elf_ph(const struct elf_file *f, unsigned i)
{
    return f->phoff + i * f->phentsize;
}

/* ---- multiboot ---- */

size_t mb_header(uint8_t *p, uint32_t flags, const struct mb_aout *aout)
{
    fx_put32(p, MB_MAGIC);
    fx_put32(p + 4, flags);
    fx_put32(p + 8, (uint32_t)(0u - MB_MAGIC - flags));
    if (!aout)
        return 12;
    fx_put32(p + 12, aout->header_addr);
    fx_put32(p + 16, aout->load_addr);
    fx_put32(p + 20, aout->load_end_addr);
    fx_put32(p + 24, aout->bss_end_addr);
    fx_put32(p + 28, aout->entry_addr);
    return 32;
}
