/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bzImage loader on synthetic images: the zero page field by field,
 * where the kernel and the initrd go, and one clear error (with guest
 * memory untouched) for each way a header can be wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "loader_fixture.h"

const bool test_needs_kvm = false;

#define NAME      "/images/bzImage"
#define ZP        EM_BOOT_INFO
#define RSDP      0xe0000ull
#define HDR_START 0x1f1
#define HDR_END   0x26c /* 0x202 + the jump offset 0x6a */

struct bz_spec {
    uint8_t setup_sects;
    uint16_t version;
    uint16_t xloadflags;
    uint8_t loadflags;
    uint8_t relocatable;
    uint32_t kernel_alignment, init_size, cmdline_size, initrd_addr_max;
    uint64_t pref_address;
    size_t payload;
};

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

static struct bz_spec good(void)
{
    return (struct bz_spec){
        .setup_sects = 3,
        .version = 0x020f,
        .xloadflags = 0x3, /* KERNEL_64, CAN_BE_LOADED_ABOVE_4G */
        .loadflags = 0x81, /* LOADED_HIGH, CAN_USE_HEAP */
        .relocatable = 1,
        .kernel_alignment = 0x200000,
        .init_size = 0x200000,
        .cmdline_size = 255,
        .initrd_addr_max = 0x7fffffff,
        .pref_address = 0x1000000,
        .payload = 8192,
    };
}

static uint64_t kernel_offset(const struct bz_spec *s)
{
    return ((uint64_t)(s->setup_sects ? s->setup_sects : 4) + 1) * 512;
}

/* The setup sectors (a header and a recognisable filler) and the payload. */
static struct em_image make(const struct bz_spec *s)
{
    uint64_t off = kernel_offset(s);
    size_t size = off + s->payload;
    uint8_t *d = malloc(size);

    ck_assert_ptr_nonnull(d);
    for (size_t i = 0; i < off; i++)
        d[i] = fx_pattern(0x40, i);
    for (size_t i = 0; i < s->payload; i++)
        d[off + i] = fx_pattern(0x90, i);
    d[0x1f1] = s->setup_sects;
    fx_put32(d + 0x1f4, (uint32_t)(s->payload / 16)); /* syssize */
    fx_put16(d + 0x1fa, 0xffff);                      /* vid_mode */
    fx_put16(d + 0x1fe, 0xaa55);
    d[0x200] = 0xeb;
    d[0x201] = HDR_END - 0x202;
    memcpy(d + 0x202, "HdrS", 4);
    fx_put16(d + 0x206, s->version);
    d[0x210] = 0;
    d[0x211] = s->loadflags;
    fx_put32(d + 0x218, 0x11111111); /* ramdisk_image: the loader's to set */
    fx_put32(d + 0x21c, 0x22222222);
    fx_put16(d + 0x224, 0x3333);     /* heap_end_ptr */
    fx_put32(d + 0x228, 0x44444444); /* cmd_line_ptr */
    fx_put32(d + 0x22c, s->initrd_addr_max);
    fx_put32(d + 0x230, s->kernel_alignment);
    d[0x234] = s->relocatable;
    fx_put16(d + 0x236, s->xloadflags);
    fx_put32(d + 0x238, s->cmdline_size);
    fx_put64(d + 0x250, 0x5555555555555555ull); /* setup_data */
    fx_put64(d + 0x258, s->pref_address);
    fx_put32(d + 0x260, s->init_size);
    return (struct em_image){ d, size, NAME };
}

static int load(const struct em_image *k)
{
    return em_load_bzimage(k, &fx.ctx, &boot);
}

/* Loads a bad image: one error with every needle, and guest RAM untouched. */
static void expect_refused(const struct em_image *k, const char *const *needles)
{
    ck_assert_int_lt(load(k), 0);
    fx_expect_error(&fx, needles);
    ck_assert_msg(fx_untouched(&fx), "a refused image changed guest memory");
    ck_assert_ptr_null(boot.kind);
}

/* ---- a good image ---- */

START_TEST(zero_page_fields)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);
    const char *cmdline = "console=ttyS0 root=/dev/vda";
    char got[256];
    uint64_t kaddr = 0x1000000, rd_addr;

    fx_set_initrd(&fx, 100000, 0x17);
    fx.ctx.cmdline = cmdline;
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_eq(fx.cap.count, 0);

    /* Entry: long mode, load address + 0x200, RSI = the zero page. */
    ck_assert_str_eq(boot.kind, "bzImage");
    ck_assert_int_eq(boot.mode, EM_MODE_LONG);
    ck_assert_uint_eq(boot.kernel_addr, kaddr);
    ck_assert_uint_eq(boot.kernel_size, s.init_size);
    ck_assert_uint_eq(boot.entry, kaddr + 0x200);
    ck_assert_uint_eq(boot.rsi, ZP);
    ck_assert_uint_eq(boot.rax, 0);
    ck_assert_uint_eq(boot.rbx, 0);

    /* The payload, byte for byte, at the load address. */
    ck_assert(fx_equal(&fx, kaddr, k.data + kernel_offset(&s), s.payload));

    /* The setup header is the image's, but for the loader's fields. */
    for (unsigned off = HDR_START; off < HDR_END; off++) {
        bool loader_field = off == 0x210 || off == 0x211 || (off >= 0x218 && off < 0x220) ||
                            (off >= 0x224 && off < 0x226) || (off >= 0x228 && off < 0x22c) ||
                            (off >= 0x250 && off < 0x258);

        if (!loader_field)
            ck_assert_msg(fx_rd8(&fx, ZP + off) == k.data[off], "header byte 0x%x differs", off);
    }
    ck_assert_uint_eq(fx_rd8(&fx, ZP + 0x210), 0xff); /* type_of_loader */
    ck_assert_uint_eq(fx_rd8(&fx, ZP + 0x211), 0x01); /* CAN_USE_HEAP cleared */
    ck_assert_uint_eq(fx_rd16(&fx, ZP + 0x224), 0);   /* heap_end_ptr */
    ck_assert_uint_eq(fx_rd64(&fx, ZP + 0x250), 0);   /* setup_data */
    ck_assert_uint_eq(fx_rd16(&fx, ZP + 0x206), 0x020f);
    ck_assert_uint_eq(fx_rd8(&fx, ZP + 0x1f1), 3);

    /* The command line, exactly, at cmd_line_ptr. */
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x228), EM_BOOT_CMDLINE);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x0c8), 0);
    ck_assert_uint_eq(boot.cmdline_addr, EM_BOOT_CMDLINE);
    fx_rdstr(&fx, EM_BOOT_CMDLINE, got, sizeof(got));
    ck_assert_str_eq(got, cmdline);

    /* The initrd: page-aligned, as high as RAM allows, its bytes intact. */
    rd_addr = fx_rd32(&fx, ZP + 0x218);
    ck_assert_uint_eq(rd_addr, (64 * MIB - 100000) & ~0xfffull);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x21c), 100000);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x0c0), 0);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x0c4), 0);
    ck_assert_uint_eq(boot.initrd_addr, rd_addr);
    ck_assert_uint_eq(boot.initrd_size, 100000);
    ck_assert(fx_equal(&fx, rd_addr, fx.initrd.data, fx.initrd.size));

    /* ACPI and the e820 map. */
    ck_assert_uint_eq(fx_rd64(&fx, ZP + 0x070), RSDP);
    ck_assert_uint_eq(fx_rd8(&fx, ZP + 0x1e8), fx.mm.nr_e820);
    for (unsigned i = 0; i < fx.mm.nr_e820; i++) {
        uint64_t e = ZP + 0x2d0 + i * 20;

        ck_assert_uint_eq(fx_rd64(&fx, e), fx.mm.e820[i].addr);
        ck_assert_uint_eq(fx_rd64(&fx, e + 8), fx.mm.e820[i].size);
        ck_assert_uint_eq(fx_rd32(&fx, e + 16), fx.mm.e820[i].type);
    }
    ck_assert(fx_all(&fx, ZP + 0x2d0 + fx.mm.nr_e820 * 20, 20, 0));

    /* The rest of the zero page and the boot area is cleared, not stale. */
    ck_assert(fx_all(&fx, ZP, 0x70, 0));
    ck_assert(fx_all(&fx, ZP + 0x78, 0x0c0 - 0x78, 0));
    ck_assert(fx_all(&fx, ZP + 0x0cc, 0x1e8 - 0x0cc, 0));
    ck_assert(fx_all(&fx, ZP + HDR_END, 0x2d0 - HDR_END, 0));
    ck_assert(fx_all(&fx, ZP + 0x1000, EM_BOOT_INFO_SIZE - 0x1000, 0));
    /* Nothing beyond the kernel's payload was written in its area. */
    ck_assert(fx_all(&fx, kaddr + s.payload, 4096, CANARY));
    free(k.data);
}
END_TEST

START_TEST(no_cmdline_no_initrd_no_acpi)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    fx.ctx.rsdp_addr = 0;
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_eq(fx.cap.count, 0);
    ck_assert_uint_eq(fx_rd8(&fx, EM_BOOT_CMDLINE), 0);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x228), EM_BOOT_CMDLINE);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x218), 0);
    ck_assert_uint_eq(fx_rd32(&fx, ZP + 0x21c), 0);
    ck_assert_uint_eq(fx_rd64(&fx, ZP + 0x070), 0);
    ck_assert_uint_eq(boot.initrd_size, 0);
    free(k.data);
}
END_TEST

/* setup_sects 0 means 4: the kernel starts at 5 * 512 in the file. */
START_TEST(setup_sects_zero_means_four)
{
    struct bz_spec s = good();
    struct em_image k;

    s.setup_sects = 0;
    k = make(&s);
    ck_assert_int_eq(load(&k), 0);
    ck_assert(fx_equal(&fx, 0x1000000, k.data + 0xa00, s.payload));
    free(k.data);
}
END_TEST

START_TEST(initrd_below_initrd_addr_max)
{
    struct bz_spec s = good();
    struct em_image k;

    s.initrd_addr_max = 48 * MIB - 1;
    k = make(&s);
    fx_set_initrd(&fx, 5 * MIB + 123, 0x33);
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_eq(boot.initrd_addr, (48 * MIB - (5 * MIB + 123)) & ~0xfffull);
    ck_assert_uint_le(boot.initrd_addr + boot.initrd_size, 48 * MIB);
    ck_assert(fx_equal(&fx, boot.initrd_addr, fx.initrd.data, fx.initrd.size));
    free(k.data);
}
END_TEST

/* pref_address is not RAM here: a relocatable kernel goes to 16 MiB, or
 * to 1 MiB rounded up to kernel_alignment. */
START_TEST(relocatable_fallbacks)
{
    struct bz_spec s = good();
    struct em_image k;

    s.pref_address = 0x3000000000ull;
    k = make(&s);
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_eq(boot.kernel_addr, 16 * MIB);
    fx_fini(&fx);

    fx_init(&fx, 12 * MIB); /* too small for 16 MiB */
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_eq(boot.kernel_addr, 2 * MIB);
    ck_assert_uint_eq(boot.entry, 2 * MIB + 0x200);
    ck_assert(fx_equal(&fx, 2 * MIB, k.data + kernel_offset(&s), s.payload));
    free(k.data);
}
END_TEST

/* init_size is what counts, not the file: the initrd must stay clear of it. */
START_TEST(initrd_clear_of_init_size)
{
    struct bz_spec s = good();
    struct em_image k;

    s.init_size = 40 * MIB; /* the kernel takes [16, 56) MiB */
    k = make(&s);
    fx_set_initrd(&fx, 10 * MIB, 0x5);
    ck_assert_int_eq(load(&k), 0);
    ck_assert_uint_le(boot.initrd_addr + boot.initrd_size, 16 * MIB);
    ck_assert_uint_ge(boot.initrd_addr, EM_HIGH_MEM_START);
    free(k.data);
}
END_TEST

START_TEST(cmdline_exactly_cmdline_size)
{
    struct bz_spec s = good();
    struct em_image k;
    char got[32];

    s.cmdline_size = 16;
    k = make(&s);
    fx.ctx.cmdline = "0123456789abcdef";
    ck_assert_int_eq(load(&k), 0);
    fx_rdstr(&fx, EM_BOOT_CMDLINE, got, sizeof(got));
    ck_assert_str_eq(got, "0123456789abcdef");
    free(k.data);
}
END_TEST

/* ---- bad images ---- */

static void refuse_spec(const struct bz_spec *s, const char *const *needles)
{
    struct em_image k = make(s);

    expect_refused(&k, needles);
    free(k.data);
}

START_TEST(too_short_for_a_header)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    k.size = 0x100;
    expect_refused(&k, (const char *const[]){ NAME, "256 bytes are too short", NULL });
    free(k.data);
}
END_TEST

START_TEST(shorter_than_setup)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    k.size = 0x300; /* the header is there, the 3 setup sectors are not */
    expect_refused(&k, (const char *const[]){ NAME, "setup_sects 3", "offset 0x800",
                                              "past the end of the file (768 bytes)", NULL });
    free(k.data);
}
END_TEST

START_TEST(shorter_than_the_kernel_it_claims)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    k.size -= 16;
    expect_refused(&k, (const char *const[]){ NAME, "truncated", "8192-byte kernel", NULL });
    free(k.data);
}
END_TEST

START_TEST(absurd_setup_sects)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    k.data[0x1f1] = 255; /* 256 sectors: 128 KiB of setup in a 10 KiB file */
    expect_refused(&k, (const char *const[]){ NAME, "setup_sects 255", "offset 0x20000", NULL });
    free(k.data);
}
END_TEST

START_TEST(wrong_boot_flag)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    fx_put16(k.data + 0x1fe, 0x55aa);
    ck_assert(!em_is_bzimage(&k));
    expect_refused(&k, (const char *const[]){ NAME, "boot_flag is 0x55aa", NULL });
    free(k.data);
}
END_TEST

START_TEST(wrong_magic)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    memcpy(k.data + 0x202, "HdrZ", 4);
    ck_assert(!em_is_bzimage(&k));
    expect_refused(&k, (const char *const[]){ NAME, "no \"HdrS\"", NULL });
    free(k.data);
}
END_TEST

START_TEST(protocol_too_old)
{
    struct bz_spec s = good();

    s.version = 0x0205;
    refuse_spec(&s, (const char *const[]){ NAME, "boot protocol 2.05 is too old", "2.06", NULL });
}
END_TEST

/* 2.10 has no xloadflags, so no 64-bit entry point to use. */
START_TEST(protocol_without_xloadflags)
{
    struct bz_spec s = good();

    s.version = 0x020a;
    refuse_spec(&s, (const char *const[]){ NAME, "no 64-bit entry point", "protocol 2.10", NULL });
}
END_TEST

START_TEST(no_64bit_entry)
{
    struct bz_spec s = good();

    s.xloadflags = 0x2;
    refuse_spec(&s, (const char *const[]){ NAME, "xloadflags 0x2 lacks XLF_KERNEL_64", NULL });
}
END_TEST

START_TEST(not_loaded_high)
{
    struct bz_spec s = good();

    s.loadflags = 0x80;
    refuse_spec(&s, (const char *const[]){ NAME, "loadflags 0x80 lack LOADED_HIGH", NULL });
}
END_TEST

START_TEST(header_length_absurd)
{
    struct bz_spec s = good();
    struct em_image k = make(&s);

    k.data[0x201] = 0xff; /* the header would end at 0x301 */
    expect_refused(&k, (const char *const[]){ NAME, "would end at 0x301", NULL });
    k.data[0x201] = 0x10; /* before init_size */
    fx.cap.count = 0;
    fx.cap.text[0] = 0;
    expect_refused(&k, (const char *const[]){ NAME, "ends at 0x212, before init_size", NULL });
    free(k.data);
}
END_TEST

START_TEST(alignment_not_power_of_two)
{
    struct bz_spec s = good();

    s.kernel_alignment = 0x300000;
    refuse_spec(&s, (const char *const[]){ NAME, "kernel_alignment 0x300000", NULL });
}
END_TEST

START_TEST(init_size_larger_than_ram)
{
    struct bz_spec s = good();

    s.init_size = 128 * MIB;
    refuse_spec(&s,
                (const char *const[]){ NAME, "no room for the kernel", "134217728 bytes", NULL });
}
END_TEST

START_TEST(fixed_kernel_outside_ram)
{
    struct bz_spec s = good();

    s.relocatable = 0;
    s.pref_address = 0x8000000; /* 128 MiB, in a 64 MiB machine */
    refuse_spec(&s, (const char *const[]){ NAME, "no room for the kernel", "at 0x8000000,", NULL });
}
END_TEST

START_TEST(initrd_too_big_below_initrd_addr_max)
{
    struct bz_spec s = good();

    /* The kernel takes [16, 18) MiB; below 48 MiB there are 30 MiB free
     * above it and 15 below, not 31 in one piece. */
    s.initrd_addr_max = 48 * MIB - 1;
    fx_set_initrd(&fx, 31 * MIB, 1);
    refuse_spec(&s, (const char *const[]){ NAME, "initrd /images/initrd.img", "32505856 bytes",
                                           "initrd_addr_max 0x2ffffff", NULL });
}
END_TEST

START_TEST(cmdline_longer_than_cmdline_size)
{
    struct bz_spec s = good();

    s.cmdline_size = 16;
    fx.ctx.cmdline = "0123456789abcdefg";
    refuse_spec(&s, (const char *const[]){ NAME, "17 bytes", "cmdline_size (16)", NULL });
}
END_TEST

START_TEST(cmdline_longer_than_the_machine_holds)
{
    struct bz_spec s = good();
    char *line = malloc(EM_BOOT_CMDLINE_MAX + 1);

    ck_assert_ptr_nonnull(line);
    memset(line, 'x', EM_BOOT_CMDLINE_MAX);
    line[EM_BOOT_CMDLINE_MAX] = 0;
    s.cmdline_size = 0x7fffffff;
    fx.ctx.cmdline = line;
    refuse_spec(&s, (const char *const[]){ NAME, "65536 bytes", "65535 the machine holds", NULL });
    free(line);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("loader_bzimage");
    TCase *ok = tcase_create("good");
    TCase *bad = tcase_create("bad");

    tcase_add_checked_fixture(ok, setup, teardown);
    tcase_add_test(ok, zero_page_fields);
    tcase_add_test(ok, no_cmdline_no_initrd_no_acpi);
    tcase_add_test(ok, setup_sects_zero_means_four);
    tcase_add_test(ok, initrd_below_initrd_addr_max);
    tcase_add_test(ok, relocatable_fallbacks);
    tcase_add_test(ok, initrd_clear_of_init_size);
    tcase_add_test(ok, cmdline_exactly_cmdline_size);
    suite_add_tcase(s, ok);

    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, too_short_for_a_header);
    tcase_add_test(bad, shorter_than_setup);
    tcase_add_test(bad, shorter_than_the_kernel_it_claims);
    tcase_add_test(bad, absurd_setup_sects);
    tcase_add_test(bad, wrong_boot_flag);
    tcase_add_test(bad, wrong_magic);
    tcase_add_test(bad, protocol_too_old);
    tcase_add_test(bad, protocol_without_xloadflags);
    tcase_add_test(bad, no_64bit_entry);
    tcase_add_test(bad, not_loaded_high);
    tcase_add_test(bad, header_length_absurd);
    tcase_add_test(bad, alignment_not_power_of_two);
    tcase_add_test(bad, init_size_larger_than_ram);
    tcase_add_test(bad, fixed_kernel_outside_ram);
    tcase_add_test(bad, initrd_too_big_below_initrd_addr_max);
    tcase_add_test(bad, cmdline_longer_than_cmdline_size);
    tcase_add_test(bad, cmdline_longer_than_the_machine_holds);
    suite_add_tcase(s, bad);
    return s;
}
