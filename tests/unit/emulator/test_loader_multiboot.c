/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The multiboot loader on synthetic kernels, ELF and a.out kludge: the
 * multiboot information field by field, the loaded bytes, the entry
 * state, and one clear error (guest memory untouched) for each bad header.
 */
#include <stdlib.h>
#include <string.h>

#include "loader_fixture.h"

const bool test_needs_kvm = false;

#define NAME   "/images/test.flat"
#define MBI    EM_BOOT_INFO
#define AOUT   (1u << 16)
#define HDROFF 0x400 /* where the tests put the header in an ELF */

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

/* An ELF32 kernel like kvm-unit-tests': text and data+bss at 4 MiB. */
static struct elf_spec elf_kernel(const uint8_t *hdr, size_t hdr_len)
{
    return (struct elf_spec){
        .is64 = false,
        .entry = 0x400010,
        .nseg = 2,
        .seg = { { 0x400000, 0x2000, 0x2000, 0x31 }, { 0x402000, 0x800, 0x3000, 0x72 } },
        .extra = hdr,
        .extra_len = hdr_len,
        .extra_off = HDROFF,
    };
}

/* A flat binary: the header at 0x40, loaded at 2 MiB with a bss. */
#define AOUT_SIZE 0x3000
static const struct mb_aout aout_good = {
    .header_addr = 0x200040,
    .load_addr = 0x200000,
    .load_end_addr = 0x202000,
    .bss_end_addr = 0x204000,
    .entry_addr = 0x200100,
};

static struct em_image aout_kernel(uint32_t flags, const struct mb_aout *a)
{
    uint8_t *d = malloc(AOUT_SIZE);

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < AOUT_SIZE; i++)
        d[i] = fx_pattern(0x5c, i);
    mb_header(d + 0x40, flags | AOUT, a);
    return (struct em_image){ d, AOUT_SIZE, NAME };
}

static void expect_refused(const struct em_image *k, const char *const *needles)
{
    ck_assert_int_lt(em_load_multiboot(k, &fx.ctx, &boot), 0);
    fx_expect_error(&fx, needles);
    ck_assert_msg(fx_untouched(&fx), "a refused image changed guest memory");
    ck_assert_ptr_null(boot.kind);
}

static void check_info(const char *cmdline)
{
    char got[256];
    uint32_t mmap, len;

    /* MEM, CMDLINE, MODS, MMAP, BOOT_LOADER_NAME */
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 0),
                      (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 4), 639);
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 8), (64 * MIB - MIB) / 1024);
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 16), EM_BOOT_CMDLINE);
    fx_rdstr(&fx, fx_rd32(&fx, MBI + 16), got, sizeof(got));
    ck_assert_str_eq(got, cmdline);
    fx_rdstr(&fx, fx_rd32(&fx, MBI + 64), got, sizeof(got));
    ck_assert_str_eq(got, "kvmemu");

    mmap = fx_rd32(&fx, MBI + 48);
    len = fx_rd32(&fx, MBI + 44);
    ck_assert_uint_eq(len, fx.mm.nr_e820 * 24);
    ck_assert_uint_ge(mmap, EM_BOOT_INFO + 88);
    ck_assert_uint_le(mmap + len, EM_BOOT_INFO + EM_BOOT_INFO_SIZE);
    for (unsigned i = 0; i < fx.mm.nr_e820; i++) {
        uint64_t e = mmap + i * 24;

        ck_assert_uint_eq(fx_rd32(&fx, e), 20);
        ck_assert_uint_eq(fx_rd64(&fx, e + 4), fx.mm.e820[i].addr);
        ck_assert_uint_eq(fx_rd64(&fx, e + 12), fx.mm.e820[i].size);
        ck_assert_uint_eq(fx_rd32(&fx, e + 20), fx.mm.e820[i].type);
    }
}

static void check_entry(uint64_t entry)
{
    ck_assert_str_eq(boot.kind, "multiboot");
    ck_assert_int_eq(boot.mode, EM_MODE_PROTECTED);
    ck_assert_uint_eq(boot.entry, entry);
    ck_assert_uint_eq(boot.rax, 0x2badb002);
    ck_assert_uint_eq(boot.rbx, EM_BOOT_INFO);
}

/* ---- good kernels ---- */

START_TEST(elf_kernel_with_module)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x3, NULL)); /* page-align, mem info */
    struct elf_file f;
    uint32_t mods;
    char got[64];

    elf_build(&s, &f, NAME);
    ck_assert(em_is_multiboot(&f.img));
    ck_assert(!em_is_pvh_elf(&f.img));
    fx.ctx.cmdline = "-smp 2 testarg";
    fx_set_initrd(&fx, 5000, 0x44);
    ck_assert_int_eq(em_load_multiboot(&f.img, &fx.ctx, &boot), 0);
    ck_assert_uint_eq(fx.cap.count, 0);
    check_entry(0x400010);
    /* The kernel's own name comes first, as GRUB and QEMU give it. */
    check_info(NAME " -smp 2 testarg");
    ck_assert(fx_equal(&fx, 0x400000, f.data + f.seg_off[0], 0x2000));
    ck_assert(fx_equal(&fx, 0x402000, f.data + f.seg_off[1], 0x800));
    ck_assert(fx_all(&fx, 0x402800, 0x2800, 0));
    ck_assert(fx_all(&fx, 0x405000, 16, CANARY));
    ck_assert_uint_eq(boot.kernel_addr, 0x400000);
    ck_assert_uint_eq(boot.kernel_size, 0x5000);

    /* One module, page-aligned, its bytes, its name. */
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 20), 1);
    mods = fx_rd32(&fx, MBI + 24);
    ck_assert_uint_eq(fx_rd32(&fx, mods), boot.initrd_addr);
    ck_assert_uint_eq(fx_rd32(&fx, mods + 4), boot.initrd_addr + 5000);
    ck_assert_uint_eq(boot.initrd_addr & 0xfff, 0);
    ck_assert(fx_equal(&fx, boot.initrd_addr, fx.initrd.data, 5000));
    fx_rdstr(&fx, fx_rd32(&fx, mods + 8), got, sizeof(got));
    ck_assert_str_eq(got, "/images/initrd.img");
    ck_assert_uint_eq(fx_rd32(&fx, mods + 12), 0);
    elf_free(&f);
}
END_TEST

START_TEST(elf_kernel_without_cmdline_or_module)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    elf_build(&s, &f, NAME);
    ck_assert_int_eq(em_load_multiboot(&f.img, &fx.ctx, &boot), 0);
    check_info(NAME);
    ck_assert_uint_eq(fx_rd32(&fx, MBI + 20), 0);
    ck_assert_uint_eq(boot.initrd_size, 0);
    elf_free(&f);
}
END_TEST

/* Optional flags (bits 17-31) are ignored. */
START_TEST(elf64_kernel_optional_flags)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x80000000u, NULL));
    struct elf_file f;

    s.is64 = true;
    elf_build(&s, &f, NAME);
    ck_assert_int_eq(em_load_multiboot(&f.img, &fx.ctx, &boot), 0);
    check_entry(0x400010);
    elf_free(&f);
}
END_TEST

START_TEST(aout_kludge)
{
    struct em_image k = aout_kernel(0, &aout_good);

    ck_assert(em_is_multiboot(&k));
    ck_assert_int_eq(em_load_multiboot(&k, &fx.ctx, &boot), 0);
    ck_assert_uint_eq(fx.cap.count, 0);
    check_entry(0x200100);
    check_info(NAME);
    /* Loaded from file offset 0x40 - (header_addr - load_addr) = 0. */
    ck_assert(fx_equal(&fx, 0x200000, k.data, 0x2000));
    ck_assert(fx_all(&fx, 0x202000, 0x2000, 0));
    ck_assert(fx_all(&fx, 0x204000, 16, CANARY));
    ck_assert_uint_eq(boot.kernel_addr, 0x200000);
    ck_assert_uint_eq(boot.kernel_size, 0x4000);
    free(k.data);
}
END_TEST

/* load_end_addr 0: the rest of the file; bss_end_addr 0: no bss. The
 * header is at 0x40 but the load starts at offset 0x20 of the file. */
START_TEST(aout_whole_file)
{
    struct mb_aout a = { 0x300020, 0x300000, 0, 0, 0x300020 };
    struct em_image k = aout_kernel(0, &a);

    ck_assert_int_eq(em_load_multiboot(&k, &fx.ctx, &boot), 0);
    ck_assert(fx_equal(&fx, 0x300000, k.data + 0x20, AOUT_SIZE - 0x20));
    ck_assert(fx_all(&fx, 0x300000 + AOUT_SIZE - 0x20, 16, CANARY));
    ck_assert_uint_eq(boot.kernel_size, AOUT_SIZE - 0x20);
    free(k.data);
}
END_TEST

/* ---- bad kernels ---- */

START_TEST(bad_checksum)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    hdr[8] ^= 1;
    elf_build(&s, &f, NAME);
    /* It claims to be multiboot (the magic is there), so the probe hands it
     * to the multiboot loader, which names the fault. */
    ck_assert(em_is_multiboot(&f.img));
    expect_refused(&f.img, (const char *const[]){ NAME, "offset 0x400 has a bad checksum", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(header_not_aligned)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    s.extra_off = HDROFF + 2;
    elf_build(&s, &f, NAME);
    ck_assert(!em_is_multiboot(&f.img));
    expect_refused(&f.img,
                   (const char *const[]){ NAME, "no multiboot header", "4-byte aligned", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(header_beyond_8k)
{
    struct em_image k = aout_kernel(0, &aout_good);

    /* Move the header from 0x40 to 0x2000, just past the searched bytes. */
    memmove(k.data + 0x2000, k.data + 0x40, 32);
    memset(k.data + 0x40, 0, 32);
    ck_assert(!em_is_multiboot(&k));
    expect_refused(&k, (const char *const[]){ NAME, "in the first 8192 bytes", NULL });
    /* And one whose address fields straddle the 8 KiB line. */
    memmove(k.data + 0x1ff0, k.data + 0x2000, 32);
    fx.cap.count = 0;
    fx.cap.text[0] = 0;
    ck_assert(em_is_multiboot(&k));
    expect_refused(&k,
                   (const char *const[]){ NAME, "offset 0x1ff0", "run past the first 8192", NULL });
    free(k.data);
}
END_TEST

START_TEST(requires_video_mode)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x7, NULL));
    struct elf_file f;

    elf_build(&s, &f, NAME);
    ck_assert(em_is_multiboot(&f.img));
    expect_refused(&f.img, (const char *const[]){ NAME, "video mode (flag bit 2)", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(requires_unknown_feature)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2 | (1u << 5), NULL));
    struct elf_file f;

    elf_build(&s, &f, NAME);
    expect_refused(&f.img, (const char *const[]){ NAME, "flags 0x20", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(not_elf_without_address_fields)
{
    uint8_t *d = calloc(1, 0x1000);
    struct em_image k = { d, 0x1000, NAME };

    ck_assert_ptr_nonnull(d);
    mb_header(d + 0x80, 0x2, NULL);
    ck_assert(em_is_multiboot(&k));
    expect_refused(&k, (const char *const[]){ NAME, "not an ELF file", "flag bit 16", NULL });
    free(d);
}
END_TEST

static void refuse_aout(const struct mb_aout *a, const char *const *needles)
{
    struct em_image k = aout_kernel(0, a);

    expect_refused(&k, needles);
    free(k.data);
}

START_TEST(aout_load_end_below_load)
{
    struct mb_aout a = aout_good;

    a.load_end_addr = 0x1ff000;
    refuse_aout(&a,
                (const char *const[]){ NAME, "load_end_addr 0x1ff000 is below load_addr", NULL });
}
END_TEST

START_TEST(aout_load_above_header)
{
    struct mb_aout a = aout_good;

    a.load_addr = 0x200080;
    refuse_aout(&a, (const char *const[]){ NAME, "load_addr 0x200080 is above header_addr", NULL });
}
END_TEST

/* header_addr - load_addr larger than the header's offset: the mapping
 * would start before the file does. */
START_TEST(aout_header_outside_file_mapping)
{
    struct mb_aout a = aout_good;

    a.header_addr = 0x200100;
    refuse_aout(&a, (const char *const[]){ NAME, "header_addr 0x200100 - load_addr 0x200000",
                                           "before the file", NULL });
}
END_TEST

START_TEST(aout_header_outside_loaded_range)
{
    struct mb_aout a = aout_good;

    a.load_end_addr = 0x200030; /* ends before the header at 0x200040 */
    a.entry_addr = 0x200010;
    refuse_aout(&a,
                (const char *const[]){ NAME, "header_addr 0x200040 is outside the loaded", NULL });
}
END_TEST

START_TEST(aout_load_end_past_file)
{
    struct mb_aout a = aout_good;

    a.load_end_addr = 0x200000 + AOUT_SIZE + 1;
    refuse_aout(&a, (const char *const[]){ NAME, "past the end of the file", NULL });
}
END_TEST

START_TEST(aout_bss_end_below_load_end)
{
    struct mb_aout a = aout_good;

    a.bss_end_addr = 0x201000;
    refuse_aout(&a, (const char *const[]){ NAME, "bss_end_addr 0x201000 is below", NULL });
}
END_TEST

START_TEST(aout_entry_outside)
{
    struct mb_aout a = aout_good;

    a.entry_addr = 0x203000; /* in the bss, not in what was loaded */
    refuse_aout(&a, (const char *const[]){ NAME, "entry_addr 0x203000 is outside", NULL });
}
END_TEST

START_TEST(aout_outside_ram)
{
    struct mb_aout a = { 0x7000040, 0x7000000, 0x7002000, 0, 0x7000100 };

    refuse_aout(&a, (const char *const[]){ NAME, "the kernel [0x7000000, 0x7002000)",
                                           "not inside usable guest RAM", NULL });
}
END_TEST

START_TEST(aout_over_boot_info)
{
    struct mb_aout a = { 0x2040, 0x2000, 0x4000, 0, 0x2100 };

    refuse_aout(&a, (const char *const[]){ NAME, "overlaps the boot information", NULL });
}
END_TEST

START_TEST(elf_segment_outside_ram)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    s.seg[1].paddr = 0x8000000;
    elf_build(&s, &f, NAME);
    expect_refused(&f.img, (const char *const[]){ NAME, "segment 1 (PT_LOAD) [0x8000000",
                                                  "not inside usable guest RAM", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(elf_entry_outside_segments)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    s.entry = 0x500000;
    elf_build(&s, &f, NAME);
    expect_refused(&f.img, (const char *const[]){ NAME, "entry point 0x500000 is outside", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(elf64_segment_above_4gib)
{
    uint8_t hdr[12];
    struct elf_spec s = elf_kernel(hdr, mb_header(hdr, 0x2, NULL));
    struct elf_file f;

    fx_add_high_ram(&fx, 64 * MIB);
    s.is64 = true;
    s.seg[1].paddr = EM_HIGH_RAM_BASE;
    elf_build(&s, &f, NAME);
    expect_refused(&f.img, (const char *const[]){ NAME, "end at 0x100003000, above 4 GiB", NULL });
    elf_free(&f);
}
END_TEST

START_TEST(module_too_big)
{
    struct em_image k = aout_kernel(0, &aout_good);

    fx_set_initrd(&fx, 64 * MIB, 3);
    expect_refused(
        &k, (const char *const[]){ NAME, "module /images/initrd.img", "67108864 bytes", NULL });
    free(k.data);
}
END_TEST

START_TEST(cmdline_too_long)
{
    struct em_image k = aout_kernel(0, &aout_good);
    static char line[EM_BOOT_CMDLINE_MAX];

    /* With the kernel's name and a space in front, one byte too many. */
    memset(line, 'z', EM_BOOT_CMDLINE_MAX - 1 - strlen(NAME));
    fx.ctx.cmdline = line;
    expect_refused(&k, (const char *const[]){ NAME, "is 65536 bytes", NULL });
    free(k.data);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("loader_multiboot");
    TCase *ok = tcase_create("good");
    TCase *bad = tcase_create("bad");

    tcase_add_checked_fixture(ok, setup, teardown);
    tcase_add_test(ok, elf_kernel_with_module);
    tcase_add_test(ok, elf_kernel_without_cmdline_or_module);
    tcase_add_test(ok, elf64_kernel_optional_flags);
    tcase_add_test(ok, aout_kludge);
    tcase_add_test(ok, aout_whole_file);
    suite_add_tcase(s, ok);

    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_set_timeout(bad, 30);
    tcase_add_test(bad, bad_checksum);
    tcase_add_test(bad, header_not_aligned);
    tcase_add_test(bad, header_beyond_8k);
    tcase_add_test(bad, requires_video_mode);
    tcase_add_test(bad, requires_unknown_feature);
    tcase_add_test(bad, not_elf_without_address_fields);
    tcase_add_test(bad, aout_load_end_below_load);
    tcase_add_test(bad, aout_load_above_header);
    tcase_add_test(bad, aout_header_outside_file_mapping);
    tcase_add_test(bad, aout_header_outside_loaded_range);
    tcase_add_test(bad, aout_load_end_past_file);
    tcase_add_test(bad, aout_bss_end_below_load_end);
    tcase_add_test(bad, aout_entry_outside);
    tcase_add_test(bad, aout_outside_ram);
    tcase_add_test(bad, aout_over_boot_info);
    tcase_add_test(bad, elf_segment_outside_ram);
    tcase_add_test(bad, elf_entry_outside_segments);
    tcase_add_test(bad, elf64_segment_above_4gib);
    tcase_add_test(bad, module_too_big);
    tcase_add_test(bad, cmdline_too_long);
    suite_add_tcase(s, bad);
    return s;
}
