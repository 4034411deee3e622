/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * em_load_kernel(): each format recognised and handed to its loader, in
 * the documented order, and one clear error for anything else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "loader_fixture.h"

const bool test_needs_kvm = false;

#define NAME "/images/kernel"

static struct loader_fx fx;
static struct em_boot boot;

static void setup(void)
{
    fx_init(&fx, 64 * MIB);
    memset(&boot, 0, sizeof(boot));
}

static void teardown(void)
{
    fx_fini(&fx);
}

/* A minimal 64-bit bzImage: one setup sector and a 4 KiB payload. */
static struct em_image bzimage(void)
{
    size_t size = 1024 + 4096;
    uint8_t *d = calloc(1, size);

    ck_assert_ptr_nonnull(d);
    d[0x1f1] = 1;
    fx_put32(d + 0x1f4, 4096 / 16);
    fx_put16(d + 0x1fe, 0xaa55);
    d[0x201] = 0x6a;
    memcpy(d + 0x202, "HdrS", 4);
    fx_put16(d + 0x206, 0x020f);
    d[0x211] = 0x01;
    fx_put32(d + 0x22c, 0x7fffffff);
    fx_put32(d + 0x230, 0x200000);
    d[0x234] = 1;
    fx_put16(d + 0x236, 0x1);
    fx_put32(d + 0x238, 2048);
    fx_put64(d + 0x258, 0x1000000);
    fx_put32(d + 0x260, 0x100000);
    return (struct em_image){ d, size, NAME };
}

static struct elf_spec plain_elf(void)
{
    return (struct elf_spec){
        .is64 = true,
        .entry = 0x1000000,
        .nseg = 1,
        .seg = { { 0x1000000, 0x1000, 0x1000, 0x10 } },
        .pvh_desc_len = 8,
        .pvh_entry = 0x1000000,
    };
}

static void expect_loaded(const struct em_image *k, const char *kind)
{
    ck_assert_int_eq(em_load_kernel(k, &fx.ctx, &boot), 0);
    ck_assert_uint_eq(fx.cap.count, 0);
    ck_assert_str_eq(boot.kind, kind);
}

static void expect_unknown(const struct em_image *k, const char *saw)
{
    ck_assert(!em_is_bzimage(k));
    ck_assert(!em_is_pvh_elf(k));
    ck_assert(!em_is_multiboot(k));
    ck_assert_int_eq(em_load_kernel(k, &fx.ctx, &boot), -ENOEXEC);
    fx_expect_error(&fx, (const char *const[]){ "kernel " NAME
                                                ": not a bzImage, a PVH ELF or a multiboot image",
                                                saw, NULL });
    ck_assert(fx_untouched(&fx));
    ck_assert_ptr_null(boot.kind);
}

START_TEST(recognises_bzimage)
{
    struct em_image k = bzimage();

    ck_assert(em_is_bzimage(&k));
    ck_assert(!em_is_pvh_elf(&k));
    ck_assert(!em_is_multiboot(&k));
    expect_loaded(&k, "bzImage");
    free(k.data);
}
END_TEST

START_TEST(recognises_pvh)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;

    s.note = NOTE_SEGMENT;
    elf_build(&s, &f, NAME);
    ck_assert(!em_is_bzimage(&f.img));
    ck_assert(em_is_pvh_elf(&f.img));
    ck_assert(!em_is_multiboot(&f.img));
    expect_loaded(&f.img, "PVH");
    elf_free(&f);
}
END_TEST

START_TEST(recognises_multiboot_elf)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;
    uint8_t hdr[12];

    s.extra = hdr;
    s.extra_len = mb_header(hdr, 0x2, NULL);
    s.extra_off = 0x800;
    elf_build(&s, &f, NAME);
    ck_assert(!em_is_pvh_elf(&f.img));
    ck_assert(em_is_multiboot(&f.img));
    expect_loaded(&f.img, "multiboot");
    elf_free(&f);
}
END_TEST

START_TEST(recognises_multiboot_aout)
{
    const struct mb_aout a = { 0x200000, 0x200000, 0, 0, 0x200020 };
    uint8_t *d = calloc(1, 0x1000);
    struct em_image k = { d, 0x1000, NAME };

    ck_assert_ptr_nonnull(d);
    mb_header(d, 1u << 16, &a);
    ck_assert(em_is_multiboot(&k));
    expect_loaded(&k, "multiboot");
    free(d);
}
END_TEST

/* An ELF with both: PVH comes first. */
START_TEST(pvh_before_multiboot)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;
    uint8_t hdr[12];

    s.note = NOTE_SEGMENT;
    s.extra = hdr;
    s.extra_len = mb_header(hdr, 0x2, NULL);
    s.extra_off = 0x800;
    elf_build(&s, &f, NAME);
    ck_assert(em_is_pvh_elf(&f.img));
    ck_assert(em_is_multiboot(&f.img));
    expect_loaded(&f.img, "PVH");
    elf_free(&f);
}
END_TEST

/* A bad image of a recognised kind gets its loader's error, not the probe's. */
START_TEST(recognised_but_broken)
{
    struct em_image k = bzimage();

    fx_put16(k.data + 0x236, 0); /* no 64-bit entry */
    ck_assert_int_lt(em_load_kernel(&k, &fx.ctx, &boot), 0);
    fx_expect_error(&fx, (const char *const[]){ "bzImage " NAME, "XLF_KERNEL_64", NULL });
    free(k.data);
}
END_TEST

START_TEST(garbage)
{
    uint8_t *d = malloc(4096);
    struct em_image k = { d, 4096, NAME };

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < 4096; i++)
        d[i] = fx_pattern(0x3, i * 7);
    expect_unknown(&k, "no bzImage, ELF or multiboot header in 4096 bytes");
    free(d);
}
END_TEST

START_TEST(empty_file)
{
    uint8_t byte = 0;
    struct em_image k = { &byte, 0, NAME };

    expect_unknown(&k, "an empty file");
}
END_TEST

START_TEST(short_file)
{
    uint8_t d[10] = { 1, 2, 3 };
    struct em_image k = { d, sizeof(d), NAME };

    expect_unknown(&k, "too short (10 bytes)");
}
END_TEST

START_TEST(boot_sector_only)
{
    uint8_t *d = calloc(1, 1024);
    struct em_image k = { d, 1024, NAME };

    ck_assert_ptr_nonnull(d);
    fx_put16(d + 0x1fe, 0xaa55);
    expect_unknown(&k, "a boot sector without a \"HdrS\" setup header");
    free(d);
}
END_TEST

START_TEST(elf_without_either)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;

    elf_build(&s, &f, NAME);
    expect_unknown(&f.img, "an ELF without a PVH note or a multiboot header");
    elf_free(&f);
}
END_TEST

START_TEST(malformed_elf)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;

    elf_build(&s, &f, NAME);
    fx_put64(f.data + 32, 0x7fffffff); /* e_phoff */
    expect_unknown(&f.img, "a malformed ELF: program headers (e_phoff 0x7fffffff");
    elf_free(&f);
}
END_TEST

START_TEST(elf_with_broken_note)
{
    struct elf_spec s = plain_elf();
    struct elf_file f;

    s.note = NOTE_SEGMENT;
    elf_build(&s, &f, NAME);
    fx_put32(f.data + f.pvh_note_off, 0x10000); /* namesz */
    expect_unknown(&f.img, "a malformed ELF: the note at offset 0x18 of PT_NOTE segment 1");
    elf_free(&f);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("loader_probe");
    TCase *tc = tcase_create("probe");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, recognises_bzimage);
    tcase_add_test(tc, recognises_pvh);
    tcase_add_test(tc, recognises_multiboot_elf);
    tcase_add_test(tc, recognises_multiboot_aout);
    tcase_add_test(tc, pvh_before_multiboot);
    tcase_add_test(tc, recognised_but_broken);
    tcase_add_test(tc, garbage);
    tcase_add_test(tc, empty_file);
    tcase_add_test(tc, short_file);
    tcase_add_test(tc, boot_sector_only);
    tcase_add_test(tc, elf_without_either);
    tcase_add_test(tc, malformed_elf);
    tcase_add_test(tc, elf_with_broken_note);
    suite_add_tcase(s, tc);
    return s;
}
