/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The AML encoder against byte sequences worked out by hand from the ACPI
 * 6.x specification (20.2 for the grammar, 6.4 for resource descriptors),
 * its boundaries, and every argument it must refuse.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"
#include "testutil.h"

#define BIG (64u << 20)

static struct em_aml a;

static void setup(void)
{
    em_aml_init(&a, BIG);
}

static void teardown(void)
{
    em_aml_free(&a);
}

/* The buffer holds exactly `n` bytes equal to `want`, and no error. */
static void expect_bytes(const uint8_t *want, size_t n)
{
    ck_assert_msg(!a.failed, "encoder failed: %s", a.why ? a.why : "?");
    ck_assert_uint_eq(a.len, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a.data[i] == want[i], "byte %zu: 0x%02x, expected 0x%02x", i, a.data[i],
                      want[i]);
}

#define EXPECT(...)                                                                                \
    do {                                                                                           \
        static const uint8_t want_[] = { __VA_ARGS__ };                                            \
        expect_bytes(want_, sizeof(want_));                                                        \
    } while (0)

/* The call failed with EINVAL and left nothing behind it. */
static void expect_refused(size_t len_before)
{
    ck_assert(a.failed);
    ck_assert_int_eq(a.error, EINVAL);
    ck_assert_ptr_nonnull(a.why);
    ck_assert_uint_eq(a.len, len_before);
}

/* Decodes a PkgLength at p; returns the value and sets *nbytes. */
static uint32_t pkglen_decode(const uint8_t *p, unsigned *nbytes)
{
    unsigned n = (p[0] >> 6) + 1;
    uint32_t v;

    *nbytes = n;
    if (n == 1)
        return p[0] & 0x3f;
    v = p[0] & 0x0f;
    for (unsigned i = 1; i < n; i++)
        v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
    return v;
}

/* ---- the buffer ---- */

START_TEST(buffer_grows_and_keeps_contents)
{
    for (unsigned i = 0; i < 100000; i++)
        em_aml_u8(&a, (uint8_t)i);
    ck_assert(!a.failed);
    ck_assert_uint_eq(a.len, 100000);
    {
        unsigned i = 0;

        while (i < 100000 && a.data[i] == (uint8_t)i)
            i++;
        ck_assert_uint_eq(i, 100000);
    }
}
END_TEST

START_TEST(integers_are_little_endian)
{
    em_aml_u16(&a, 0x1234);
    em_aml_u32(&a, 0x89abcdef);
    em_aml_u64(&a, 0x0102030405060708ull);
    EXPECT(0x34, 0x12, 0xef, 0xcd, 0xab, 0x89, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
}
END_TEST

START_TEST(align_pads_with_zeros)
{
    em_aml_u8(&a, 0xff);
    em_aml_align(&a, 16);
    ck_assert_uint_eq(a.len, 16);
    em_aml_align(&a, 16);
    ck_assert_uint_eq(a.len, 16);
    for (unsigned i = 1; i < 16; i++)
        ck_assert_uint_eq(a.data[i], 0);
    em_aml_align(&a, 12);
    expect_refused(16);
}
END_TEST

START_TEST(over_the_limit_fails_and_sticks)
{
    struct em_aml small;

    em_aml_init(&small, 10);
    em_aml_zeros(&small, 8);
    em_aml_u32(&small, 0x11223344);
    ck_assert(small.failed);
    ck_assert_int_eq(small.error, ENOSPC);
    ck_assert_uint_eq(small.len, 8);
    /* Later calls change nothing, even those that would fit. */
    em_aml_u8(&small, 1);
    em_aml_int(&small, 5);
    ck_assert_uint_eq(small.len, 8);
    ck_assert_int_eq(small.error, ENOSPC);
    /* A huge request cannot wrap the length check. */
    em_aml_free(&small);
    em_aml_init(&small, 10);
    em_aml_u8(&small, 1);
    em_aml_bytes(&small, "x", SIZE_MAX);
    ck_assert(small.failed);
    ck_assert_uint_eq(small.len, 1);
    em_aml_free(&small);
}
END_TEST

START_TEST(put_patches_only_written_bytes)
{
    em_aml_zeros(&a, 4);
    em_aml_put(&a, 1, 0xbeef, 2);
    EXPECT(0x00, 0xef, 0xbe, 0x00);
    em_aml_put(&a, 3, 0x1234, 2);
    expect_refused(4);
}
END_TEST

START_TEST(first_failure_is_kept)
{
    em_aml_nameseg(&a, "TOOLONG");
    em_aml_res_irq(&a, 99);
    ck_assert(a.failed);
    ck_assert_str_eq(a.why, "a name segment is not 1 to 4 characters long");
}
END_TEST

/* ---- PkgLength ---- */

START_TEST(pkglen_boundaries)
{
    static const struct {
        uint32_t value;
        uint8_t bytes[4];
        unsigned n;
    } cases[] = {
        { 0, { 0x00 }, 1 },
        { 63, { 0x3f }, 1 },
        { 64, { 0x40, 0x04 }, 2 },
        { 4095, { 0x4f, 0xff }, 2 },
        { 4096, { 0x80, 0x00, 0x01 }, 3 },
        { 1048575, { 0x8f, 0xff, 0xff }, 3 },
        { 1048576, { 0xc0, 0x00, 0x00, 0x01 }, 4 },
        { 0x0fffffff, { 0xcf, 0xff, 0xff, 0xff }, 4 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        em_aml_free(&a);
        em_aml_init(&a, BIG);
        em_aml_pkglen(&a, cases[i].value);
        expect_bytes(cases[i].bytes, cases[i].n);
    }
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_pkglen(&a, 0x10000000);
    expect_refused(0);
}
END_TEST

/*
 * A Package of k raw bytes: PackageOp, PkgLength, NumElements, the bytes.
 * The PkgLength counts itself, the count byte and the k bytes, so its
 * size steps up one content byte before the encoded value crosses a
 * boundary.
 */
START_TEST(close_counts_its_own_length)
{
    static const struct {
        size_t body; /* bytes after the PkgLength */
        uint32_t value;
        unsigned n;
    } cases[] = {
        { 62, 63, 1 },     { 63, 65, 2 },           { 4093, 4095, 2 },
        { 4094, 4097, 3 }, { 1048572, 1048575, 3 }, { 1048573, 1048577, 4 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct em_aml_block b;
        unsigned n;

        em_aml_free(&a);
        em_aml_init(&a, BIG);
        b = em_aml_package_open(&a, 1);
        em_aml_zeros(&a, cases[i].body - 2);
        em_aml_u8(&a, 0x5a); /* the last byte must stay last */
        em_aml_close(&a, b);
        ck_assert(!a.failed);
        ck_assert_uint_eq(a.data[0], 0x12);
        ck_assert_uint_eq(pkglen_decode(a.data + 1, &n), cases[i].value);
        ck_assert_uint_eq(n, cases[i].n);
        ck_assert_uint_eq(a.len, 1 + cases[i].value);
        ck_assert_uint_eq(a.data[1 + n], 1); /* NumElements */
        ck_assert_uint_eq(a.data[a.len - 1], 0x5a);
    }
}
END_TEST

START_TEST(close_fails_when_its_length_does_not_fit)
{
    struct em_aml small;
    struct em_aml_block b;

    /* 64 bytes of room, all used: a body of 63 needs a 2-byte PkgLength. */
    em_aml_init(&small, 64);
    b = em_aml_package_open(&small, 0);
    em_aml_zeros(&small, 62);
    ck_assert_uint_eq(small.len, 64);
    em_aml_close(&small, b);
    ck_assert(small.failed);
    ck_assert_int_eq(small.error, ENOSPC);
    ck_assert_uint_eq(small.len, 64);
    em_aml_free(&small);
}
END_TEST

/* ---- integers, names, strings ---- */

START_TEST(integers_take_the_shortest_form)
{
    static const struct {
        uint64_t v;
        uint8_t bytes[9];
        unsigned n;
    } cases[] = {
        { 0, { 0x00 }, 1 },
        { 1, { 0x01 }, 1 },
        { 2, { 0x0a, 0x02 }, 2 },
        { 0xff, { 0x0a, 0xff }, 2 },
        { 0x100, { 0x0b, 0x00, 0x01 }, 3 },
        { 0xffff, { 0x0b, 0xff, 0xff }, 3 },
        { 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
        { 0xffffffff, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
        { 1ull << 32, { 0x0e, 0, 0, 0, 0, 0x01, 0, 0, 0 }, 9 },
        { UINT64_MAX, { 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        em_aml_free(&a);
        em_aml_init(&a, BIG);
        em_aml_int(&a, cases[i].v);
        expect_bytes(cases[i].bytes, cases[i].n);
    }
}
END_TEST

START_TEST(nameseg_pads_with_underscores)
{
    em_aml_nameseg(&a, "PCI");
    em_aml_nameseg(&a, "_S5");
    em_aml_nameseg(&a, "C0");
    em_aml_nameseg(&a, "ABCD");
    EXPECT('P', 'C', 'I', '_', '_', 'S', '5', '_', 'C', '0', '_', '_', 'A', 'B', 'C', 'D');
}
END_TEST

START_TEST(nameseg_refuses_bad_segments)
{
    static const char *const bad[] = { "", "ABCDE", "1ABC", "pci0", "A-B", "A B" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em_aml_free(&a);
        em_aml_init(&a, BIG);
        em_aml_nameseg(&a, bad[i]);
        ck_assert_msg(a.failed, "'%s' was accepted", bad[i]);
        expect_refused(0);
    }
}
END_TEST

START_TEST(namestring_prefixes)
{
    em_aml_namestring(&a, "\\");
    EXPECT(0x5c, 0x00);
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "\\_SB");
    EXPECT(0x5c, '_', 'S', 'B', '_');
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "^^FOO");
    EXPECT(0x5e, 0x5e, 'F', 'O', 'O', '_');
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "^");
    EXPECT(0x5e, 0x00);
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "_HID");
    EXPECT('_', 'H', 'I', 'D');
}
END_TEST

START_TEST(namestring_dual_and_multi)
{
    em_aml_namestring(&a, "\\_SB.PCI0");
    EXPECT(0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "A.B.C");
    EXPECT(0x2f, 0x03, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_');
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, "^_SB.PCI0.ISA.COM1");
    EXPECT(0x5e, 0x2f, 0x04, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_', 'C', 'O',
           'M', '1');
}
END_TEST

START_TEST(namestring_refuses_bad_paths)
{
    static const char *const bad[] = { "", "A..B", "A.", ".A", "\\^A", "\\\\A", "_SB.TOOLONG" };
    char many[256 * 2 + 1];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em_aml_free(&a);
        em_aml_init(&a, BIG);
        em_aml_namestring(&a, bad[i]);
        ck_assert_msg(a.failed && a.error == EINVAL, "'%s' was accepted", bad[i]);
    }
    /* 256 segments are one too many for a MultiNamePath. */
    for (int i = 0; i < 256; i++) {
        many[2 * i] = 'A';
        many[2 * i + 1] = '.';
    }
    many[2 * 256 - 1] = '\0';
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, many);
    expect_refused(0);
    /* 255 are fine. */
    many[2 * 255 - 1] = '\0';
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_namestring(&a, many);
    ck_assert(!a.failed);
    ck_assert_uint_eq(a.len, 2 + 4 * 255);
    ck_assert_uint_eq(a.data[1], 255);
}
END_TEST

START_TEST(strings)
{
    em_aml_string(&a, "Hi");
    em_aml_string(&a, "");
    EXPECT(0x0d, 'H', 'i', 0x00, 0x0d, 0x00);
    em_aml_string(&a, "caf\xc3\xa9");
    expect_refused(6);
}
END_TEST

START_TEST(eisaid)
{
    em_aml_eisaid(&a, "PNP0A03");
    em_aml_eisaid(&a, "PNP0501");
    em_aml_eisaid(&a, "ABC0000");
    EXPECT(0x0c, 0x41, 0xd0, 0x0a, 0x03, 0x0c, 0x41, 0xd0, 0x05, 0x01, 0x0c, 0x04, 0x43, 0x00,
           0x00);
}
END_TEST

START_TEST(eisaid_refuses_bad_ids)
{
    static const char *const bad[] = { "pnp0a03",  "PNP0A0G", "PNP0A0",
                                       "PNP0A030", "P1P0A03", "PNP0a03" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        em_aml_free(&a);
        em_aml_init(&a, BIG);
        em_aml_eisaid(&a, bad[i]);
        ck_assert_msg(a.failed, "'%s' was accepted", bad[i]);
        expect_refused(0);
    }
}
END_TEST

/* ---- nested terms ---- */

START_TEST(device_with_a_name)
{
    struct em_aml_block d = em_aml_device_open(&a, "PCI0");

    em_aml_name(&a, "_UID");
    em_aml_int(&a, 0);
    em_aml_close(&a, d);
    /* DeviceOp, PkgLength 11 (itself 1, name 4, NameOp 1, _UID 4, Zero 1) */
    EXPECT(0x5b, 0x82, 0x0b, 'P', 'C', 'I', '0', 0x08, '_', 'U', 'I', 'D', 0x00);
}
END_TEST

START_TEST(scope_and_package)
{
    struct em_aml_block s = em_aml_scope_open(&a, "\\_SB");
    struct em_aml_block p;

    em_aml_name(&a, "X");
    p = em_aml_package_open(&a, 2);
    em_aml_int(&a, 1);
    em_aml_int(&a, 0x10);
    em_aml_close(&a, p);
    em_aml_close(&a, s);
    EXPECT(0x10, 0x11, 0x5c, '_', 'S', 'B', '_', 0x08, 'X', '_', '_', '_', 0x12, 0x05, 0x02, 0x01,
           0x0a, 0x10);
}
END_TEST

START_TEST(package_of_more_than_255_is_refused)
{
    em_aml_package_open(&a, 256);
    expect_refused(0);
}
END_TEST

START_TEST(buffers_carry_their_size)
{
    struct em_aml_block b = em_aml_buffer_open(&a);

    em_aml_bytes(&a, "\x01\x02\x03", 3);
    em_aml_close(&a, b);
    /* BufferOp, PkgLength 6, BufferSize (BytePrefix 3), the bytes. */
    EXPECT(0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03);
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    b = em_aml_buffer_open(&a);
    em_aml_close(&a, b);
    EXPECT(0x11, 0x02, 0x00);
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    b = em_aml_buffer_open(&a);
    em_aml_u8(&a, 0xaa);
    em_aml_close(&a, b);
    EXPECT(0x11, 0x03, 0x01, 0xaa);
}
END_TEST

START_TEST(large_buffer)
{
    struct em_aml_block b = em_aml_buffer_open(&a);
    unsigned n;

    /* 300 bytes: BufferSize is a WordPrefix (3 bytes), the PkgLength 2. */
    em_aml_zeros(&a, 300);
    em_aml_close(&a, b);
    ck_assert(!a.failed);
    ck_assert_uint_eq(pkglen_decode(a.data + 1, &n), 2 + 3 + 300);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(a.data[3], 0x0b);
    ck_assert_uint_eq(a.data[4] | a.data[5] << 8, 300);
    ck_assert_uint_eq(a.len, 1 + 2 + 3 + 300);
}
END_TEST

START_TEST(closing_a_bogus_block_is_refused)
{
    struct em_aml_block b = { 100, EM_AML_BLOCK_PKGLEN };

    em_aml_zeros(&a, 10);
    em_aml_close(&a, b);
    expect_refused(10);
}
END_TEST

/* ---- resource descriptors ---- */

START_TEST(template_of_io_and_irq)
{
    struct em_aml_block r = em_aml_template_open(&a);

    em_aml_res_io(&a, 0x3f8, 8);
    em_aml_res_irq(&a, 4);
    em_aml_close(&a, r);
    EXPECT(0x11, 0x10, 0x0a, 0x0d,                         /* Buffer, 16, size 13 */
           0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
           0x22, 0x10, 0x00,                               /* IRQNoFlags(){4} */
           0x79, 0x00);                                    /* End Tag */
}
END_TEST

START_TEST(word_bus_and_io)
{
    em_aml_res_word_bus(&a, 0, 0xff);
    em_aml_res_word_io(&a, 0x0d00, 0xffff);
    EXPECT(0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00,
           0x01, /* WordBusNumber 0-0xff, length 0x100 */
           0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00,
           0xf3); /* WordIO 0xd00-0xffff, EntireRange, length 0xf300 */
}
END_TEST

START_TEST(dword_io_and_memory)
{
    em_aml_res_dword_io(&a, 0x1000, 0x1fff);
    em_aml_res_dword_mem(&a, 0xc0000000, 0xdfffffff, false);
    EXPECT(0x87, 0x17, 0x00, 0x01, 0x0c, 0x03, /* DWordIO */
           0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0xff, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x00, 0x10, 0x00, 0x00, 0x87, 0x17, 0x00, 0x00, 0x0c,
           0x01, /* DWordMemory, NonCacheable, ReadWrite */
           0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x00, 0x00, 0x00,
           0x00, 0x00, 0x00, 0x00, 0x20);
}
END_TEST

START_TEST(qword_memory_and_mem32_fixed)
{
    em_aml_res_qword_mem(&a, 0x100000000ull, 0x17fffffffull, true);
    em_aml_res_mem32_fixed(&a, 0xe0000000, 0x10000000);
    EXPECT(0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03, /* QWordMemory, Cacheable, ReadWrite */
           0, 0, 0, 0, 0, 0, 0, 0,             /* granularity */
           0, 0, 0, 0, 1, 0, 0, 0,             /* min */
           0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, /* max */
           0, 0, 0, 0, 0, 0, 0, 0,             /* translation */
           0, 0, 0, 0x80, 0, 0, 0, 0,          /* length */
           0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x10);
}
END_TEST

START_TEST(descriptors_refuse_bad_ranges)
{
    em_aml_res_irq(&a, 16);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_io(&a, 0x3f8, 0);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_io(&a, 0xffff, 2);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_word_io(&a, 0x100, 0xff);
    expect_refused(0);

    /* The whole space's length does not fit the length field. */
    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_word_io(&a, 0, 0xffff);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_dword_mem(&a, 0, 0xffffffff, false);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_qword_mem(&a, 0, UINT64_MAX, false);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_mem32_fixed(&a, 0xf0000000, 0x20000000);
    expect_refused(0);

    em_aml_free(&a);
    em_aml_init(&a, BIG);
    em_aml_res_mem32_fixed(&a, 0x1000, 0);
    expect_refused(0);
}
END_TEST

START_TEST(template_after_a_failure_is_not_closed)
{
    struct em_aml_block r = em_aml_template_open(&a);

    em_aml_res_irq(&a, 20);
    em_aml_close(&a, r);
    /* Only the BufferOp before the failure: no End Tag, no length. */
    ck_assert(a.failed);
    ck_assert_uint_eq(a.len, 1);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("aml");
    TCase *tc = tcase_create("aml");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, buffer_grows_and_keeps_contents);
    tcase_add_test(tc, integers_are_little_endian);
    tcase_add_test(tc, align_pads_with_zeros);
    tcase_add_test(tc, over_the_limit_fails_and_sticks);
    tcase_add_test(tc, put_patches_only_written_bytes);
    tcase_add_test(tc, first_failure_is_kept);
    tcase_add_test(tc, pkglen_boundaries);
    tcase_add_test(tc, close_counts_its_own_length);
    tcase_add_test(tc, close_fails_when_its_length_does_not_fit);
    tcase_add_test(tc, integers_take_the_shortest_form);
    tcase_add_test(tc, nameseg_pads_with_underscores);
    tcase_add_test(tc, nameseg_refuses_bad_segments);
    tcase_add_test(tc, namestring_prefixes);
    tcase_add_test(tc, namestring_dual_and_multi);
    tcase_add_test(tc, namestring_refuses_bad_paths);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, eisaid);
    tcase_add_test(tc, eisaid_refuses_bad_ids);
    tcase_add_test(tc, device_with_a_name);
    tcase_add_test(tc, scope_and_package);
    tcase_add_test(tc, package_of_more_than_255_is_refused);
    tcase_add_test(tc, buffers_carry_their_size);
    tcase_add_test(tc, large_buffer);
    tcase_add_test(tc, closing_a_bogus_block_is_refused);
    tcase_add_test(tc, template_of_io_and_irq);
    tcase_add_test(tc, word_bus_and_io);
    tcase_add_test(tc, dword_io_and_memory);
    tcase_add_test(tc, qword_memory_and_mem32_fixed);
    tcase_add_test(tc, descriptors_refuse_bad_ranges);
    tcase_add_test(tc, template_after_a_failure_is_not_closed);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
