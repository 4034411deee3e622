/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PVH loader on synthetic ELF64 and ELF32 kernels: start_info field by
 * field, the loaded and zeroed bytes, the entry state, and one clear error
 * (with guest memory untouched) for each malformed or misplaced image.
 */
#include <elf.h>
#include <string.h>

#include "loader_fixture.h"

const bool test_needs_kvm = false;

#define NAME  "/images/vmlinux"
#define SI    EM_BOOT_INFO
#define RSDP  0xe0000ull
#define ENTRY 0x1000040ull

static struct loader_fx fx;
static struct em_boot boot;

static void setup(void)
{
    fx_init(&fx, 64 * MIB);
    fx.ctx.rsdp_addr = RSDP;
    memset(&boot, 0, sizeof(boot));
}

static void teardown(void)
{
    fx_fini(&fx);
}

/* Text at 16 MiB; data at 18 MiB with a bss tail; the note in a segment. */
static struct elf_spec kernel_spec(bool is64)
{
    return (struct elf_spec){
        .is64 = is64,
        .entry = 0xdead,
        .nseg = 2,
        .seg = { { 0x1000000, 0x3000, 0x3000, 0x21 }, { 0x1200000, 0x1800, 0x5000, 0x65 } },
        .note = NOTE_SEGMENT,
        .pvh_desc_len = is64 ? 8 : 4,
        .pvh_entry = ENTRY,
    };
}

static int load(const struct elf_file *f)
{
    return em_load_pvh(&f->img, &fx.ctx, &boot);
}

static void expect_refused(const struct elf_file *f, const char *const *needles)
{
    ck_assert_int_lt(load(f), 0);
    fx_expect_error(&fx, needles);
    ck_assert_msg(fx_untouched(&fx), "a refused image changed guest memory");
    ck_assert_ptr_null(boot.kind);
}

static void check_loaded(const struct elf_spec *s, const struct elf_file *f)
{
    for (unsigned i = 0; i < s->nseg; i++) {
        const struct elf_seg *g = &s->seg[i];

        ck_assert(fx_equal(&fx, g->paddr, f->data + f->seg_off[i], g->filesz));
        ck_assert_msg(fx_all(&fx, g->paddr + g->filesz, g->memsz - g->filesz, 0),
                      "segment %u: the bss tail is not zeroed", i);
        /* Nothing past p_memsz. */
        ck_assert(fx_all(&fx, g->paddr + g->memsz, 16, CANARY));
    }
}

static void check_start_info(void)
{
    char got[128];
    uint64_t mm;

    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x00), 0x336ec578); /* magic */
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x04), 1);          /* version */
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x08), 0);          /* flags */
    ck_assert_uint_eq(fx_rd64(&fx, SI + 0x18), EM_BOOT_CMDLINE);
    fx_rdstr(&fx, fx_rd64(&fx, SI + 0x18), got, sizeof(got));
    ck_assert_str_eq(got, fx.ctx.cmdline ? fx.ctx.cmdline : "");
    ck_assert_uint_eq(fx_rd64(&fx, SI + 0x20), fx.ctx.rsdp_addr);
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x30), fx.mm.nr_e820);
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x34), 0);
    mm = fx_rd64(&fx, SI + 0x28);
    ck_assert_uint_ge(mm, EM_BOOT_INFO + 0x38);
    ck_assert_uint_le(mm + fx.mm.nr_e820 * 24, EM_BOOT_INFO + EM_BOOT_INFO_SIZE);
    for (unsigned i = 0; i < fx.mm.nr_e820; i++) {
        uint64_t e = mm + i * 24;

        ck_assert_uint_eq(fx_rd64(&fx, e), fx.mm.e820[i].addr);
        ck_assert_uint_eq(fx_rd64(&fx, e + 8), fx.mm.e820[i].size);
        ck_assert_uint_eq(fx_rd32(&fx, e + 16), fx.mm.e820[i].type);
        ck_assert_uint_eq(fx_rd32(&fx, e + 20), 0);
    }
}

static void check_entry(void)
{
    ck_assert_str_eq(boot.kind, "PVH");
    ck_assert_int_eq(boot.mode, EM_MODE_PROTECTED);
    ck_assert_uint_eq(boot.entry, ENTRY);
    ck_assert_uint_eq(boot.rbx, EM_BOOT_INFO);
    ck_assert_uint_eq(boot.rsi, 0);
    ck_assert_uint_eq(boot.cmdline_addr, EM_BOOT_CMDLINE);
}

/* ---- good kernels ---- */

static void good_kernel(bool is64)
{
    struct elf_spec s = kernel_spec(is64);
    struct elf_file f;
    uint64_t mod;

    elf_build(&s, &f, NAME);
    fx.ctx.cmdline = "console=ttyS0 earlyprintk";
    fx_set_initrd(&fx, 3 * 4096 + 5, 0x99);
    ck_assert(em_is_pvh_elf(&f.img));
    ck_assert_int_eq(load(&f), 0);
    ck_assert_uint_eq(fx.cap.count, 0);
    check_entry();
    check_loaded(&s, &f);
    check_start_info();
    ck_assert_uint_eq(boot.kernel_addr, 0x1000000);
    ck_assert_uint_eq(boot.kernel_size, 0x205000 - 0x0);

    /* Module 0 is the initrd: page-aligned, above the kernel, intact. */
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x0c), 1);
    mod = fx_rd64(&fx, SI + 0x10);
    ck_assert_uint_ne(mod, 0);
    ck_assert_uint_eq(fx_rd64(&fx, mod), boot.initrd_addr);
    ck_assert_uint_eq(fx_rd64(&fx, mod + 8), fx.initrd.size);
    ck_assert_uint_eq(fx_rd64(&fx, mod + 16), 0);
    ck_assert_uint_eq(fx_rd64(&fx, mod + 24), 0);
    ck_assert_uint_eq(boot.initrd_addr & 0xfff, 0);
    ck_assert_uint_ge(boot.initrd_addr, 0x1205000);
    ck_assert_uint_le(boot.initrd_addr + fx.initrd.size, fx.mm.ram_below_4g);
    ck_assert(fx_equal(&fx, boot.initrd_addr, fx.initrd.data, fx.initrd.size));
    /* The rest of the boot area is cleared. */
    ck_assert(fx_all(&fx, EM_BOOT_INFO + 0x1000, EM_BOOT_INFO_SIZE - 0x1000, 0));
    elf_free(&f);
}

START_TEST(elf64_kernel)
{
    good_kernel(true);
}
END_TEST

START_TEST(elf32_kernel)
{
    good_kernel(false);
}
END_TEST

/* The note found in an SHT_NOTE section when no PT_NOTE carries it. */
START_TEST(note_in_section)
{
    struct elf_spec s = kernel_spec(false);
    struct elf_file f;

    s.note = NOTE_SECTION;
    elf_build(&s, &f, NAME);
    ck_assert(em_is_pvh_elf(&f.img));
    ck_assert_int_eq(load(&f), 0);
    check_entry();
    check_loaded(&s, &f);
    ck_assert_uint_eq(fx_rd32(&fx, SI + 0x0c), 0); /* no modules */
    ck_assert_uint_eq(fx_rd64(&fx, SI + 0x10), 0);
    elf_free(&f);
}
END_TEST

/* A 4-byte entry in an ELF64 (newer Linux writes it with .long). */
START_TEST(short_note_in_elf64)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.pvh_desc_len = 4;
    elf_build(&s, &f, NAME);
    ck_assert_int_eq(load(&f), 0);
    ck_assert_uint_eq(boot.entry, ENTRY);
    elf_free(&f);
}
END_TEST

/* ---- bad kernels ---- */

START_TEST(bad_magic)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    f.data[1] = 'X';
    ck_assert(!em_is_pvh_elf(&f.img));
    expect_refused(&f, (const char *const[]){ NAME, "not an ELF file", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(bad_class)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    f.data[EI_CLASS] = 3;
    expect_refused(&f, (const char *const[]){ NAME, "ELF class 3", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(not_x86)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put16(f.data + 18, EM_AARCH64);
    expect_refused(&f, (const char *const[]){ NAME, "ELF machine 183 is not x86", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(truncated_header)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    f.img.size = 40;
    expect_refused(&f, (const char *const[]){ NAME, "40 bytes are too short for an ELF64", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(phoff_past_the_file)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put64(f.data + 32, f.size - 8); /* e_phoff */
    expect_refused(&f, (const char *const[]){ NAME, "program headers", "run past the end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(phnum_past_the_file)
{
    struct elf_spec s = kernel_spec(false);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put16(f.data + 44, 0xfff0); /* e_phnum */
    expect_refused(&f,
                   (const char *const[]){ NAME, "65520 of 32 bytes", "run past the end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segment_bytes_past_the_file)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    /* Segment 1's p_filesz (and p_memsz) reach beyond the end of the file. */
    fx_put64(f.data + elf_ph(&f, 1) + 32, f.size);
    fx_put64(f.data + elf_ph(&f, 1) + 40, f.size);
    expect_refused(&f, (const char *const[]){ NAME, "program header 1", "past the end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(filesz_larger_than_memsz)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].memsz = 0x1000; /* filesz is 0x1800 */
    elf_build(&s, &f, NAME);
    expect_refused(&f,
                   (const char *const[]){ NAME, "program header 1",
                                          "p_filesz 0x1800 is larger than p_memsz 0x1000", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segment_outside_ram)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].paddr = 0x3fff000; /* crosses the end of 64 MiB */
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "segment 1 (PT_LOAD) [0x3fff000, 0x4004000)",
                                              "not inside usable guest RAM", NULL });
    elf_free(&f);
}
END_TEST

/* Backed by the low RAM region, but the VGA hole is not RAM in the map. */
START_TEST(segment_in_a_hole_of_the_map)
{
    struct elf_spec s = kernel_spec(false);
    struct elf_file f;

    s.seg[1].paddr = 0xa0000;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "[0xa0000, 0xa5000)",
                                              "not inside usable guest RAM", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segment_wraps_2_64)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].paddr = 0xfffffffffffff000ull;
    elf_build(&s, &f, NAME);
    expect_refused(&f,
                   (const char *const[]){ NAME, "program header 1", "wraps around 2^64", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(elf32_segment_wraps_4gib)
{
    struct elf_spec s = kernel_spec(false);
    struct elf_file f;

    s.seg[1].paddr = 0xffffe000;
    elf_build(&s, &f, NAME);
    expect_refused(&f,
                   (const char *const[]){ NAME, "program header 1", "wraps around 4 GiB", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segment_over_boot_info)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].paddr = 0x6000;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "overlaps the boot information", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segment_over_page_tables)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].paddr = 0xe000;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "overlaps the boot page tables", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(segments_overlap)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].paddr = 0x1002000; /* inside segment 0 */
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "segment 1 (PT_LOAD)",
                                              "overlaps segment 0 (PT_LOAD)", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(note_runs_past_its_segment)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put32(f.data + f.pvh_note_off + 4, 0x1000); /* descsz */
    ck_assert(!em_is_pvh_elf(&f.img));
    expect_refused(&f,
                   (const char *const[]){ NAME, "PT_NOTE segment 2", "runs past its end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(note_segment_past_the_file)
{
    struct elf_spec s = kernel_spec(false);
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put32(f.data + elf_ph(&f, 2) + 4, (uint32_t)f.size); /* the PT_NOTE's p_offset */
    expect_refused(&f, (const char *const[]){ NAME, "program header 2", "past the end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(note_section_past_the_file)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.note = NOTE_SECTION;
    elf_build(&s, &f, NAME);
    fx_put64(f.data + 40, f.size - 16); /* e_shoff */
    expect_refused(&f, (const char *const[]){ NAME, "section headers", "run past the end", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(no_pvh_note)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.note = NOTE_NONE;
    elf_build(&s, &f, NAME);
    ck_assert(!em_is_pvh_elf(&f.img));
    expect_refused(&f, (const char *const[]){ NAME, "no PVH entry note", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(note_of_odd_size)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.pvh_desc_len = 3;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "holds 3 bytes", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(entry_above_4gib)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.pvh_entry = 0x100001000ull;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "0x100001000 is not a 32-bit address", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(entry_outside_segments)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.pvh_entry = 0x1100000;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "entry point 0x1100000 is outside", NULL });
    elf_free(&f);
}
END_TEST

/* The initrd must go above the kernel; here only 2 MiB are left there. */
START_TEST(initrd_overlapping_kernel)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;

    s.seg[1].memsz = 0x2c00000; /* the kernel ends at 62 MiB of 64 */
    elf_build(&s, &f, NAME);
    fx_set_initrd(&fx, 3 * MIB, 7);
    expect_refused(&f, (const char *const[]){ NAME, "initrd /images/initrd.img",
                                              "between the kernel's end 0x3e00000", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(cmdline_too_long)
{
    struct elf_spec s = kernel_spec(true);
    struct elf_file f;
    static char line[EM_BOOT_CMDLINE_MAX + 1];

    memset(line, 'y', EM_BOOT_CMDLINE_MAX);
    fx.ctx.cmdline = line;
    elf_build(&s, &f, NAME);
    expect_refused(&f, (const char *const[]){ NAME, "65536 bytes", "65535", NULL });
    elf_free(&f);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("loader_pvh");
    TCase *ok = tcase_create("good");
    TCase *bad = tcase_create("bad");

    tcase_add_checked_fixture(ok, setup, teardown);
    tcase_add_test(ok, elf64_kernel);
    tcase_add_test(ok, elf32_kernel);
    tcase_add_test(ok, note_in_section);
    tcase_add_test(ok, short_note_in_elf64);
    suite_add_tcase(s, ok);

    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, bad_magic);
    tcase_add_test(bad, bad_class);
    tcase_add_test(bad, not_x86);
    tcase_add_test(bad, truncated_header);
    tcase_add_test(bad, phoff_past_the_file);
    tcase_add_test(bad, phnum_past_the_file);
    tcase_add_test(bad, segment_bytes_past_the_file);
    tcase_add_test(bad, filesz_larger_than_memsz);
    tcase_add_test(bad, segment_outside_ram);
    tcase_add_test(bad, segment_in_a_hole_of_the_map);
    tcase_add_test(bad, segment_wraps_2_64);
    tcase_add_test(bad, elf32_segment_wraps_4gib);
    tcase_add_test(bad, segment_over_boot_info);
    tcase_add_test(bad, segment_over_page_tables);
    tcase_add_test(bad, segments_overlap);
    tcase_add_test(bad, note_runs_past_its_segment);
    tcase_add_test(bad, note_segment_past_the_file);
    tcase_add_test(bad, note_section_past_the_file);
    tcase_add_test(bad, no_pvh_note);
    tcase_add_test(bad, note_of_odd_size);
    tcase_add_test(bad, entry_above_4gib);
    tcase_add_test(bad, entry_outside_segments);
    tcase_add_test(bad, initrd_overlapping_kernel);
    tcase_add_test(bad, cmdline_too_long);
    suite_add_tcase(s, bad);
    return s;
}
