/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The AML encoder: see aml.h. Opcode values and encodings are from the
 * ACPI 6.x specification, section 20.2 (AML grammar) and 6.4 (resource
 * data types).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/aml.h"

enum {
    AML_ZERO = 0x00,
    AML_ONE = 0x01,
    AML_NAME = 0x08,
    AML_BYTE_PREFIX = 0x0a,
    AML_WORD_PREFIX = 0x0b,
    AML_DWORD_PREFIX = 0x0c,
    AML_STRING_PREFIX = 0x0d,
    AML_QWORD_PREFIX = 0x0e,
    AML_SCOPE = 0x10,
    AML_BUFFER = 0x11,
    AML_PACKAGE = 0x12,
    AML_DUAL_NAME = 0x2e,
    AML_MULTI_NAME = 0x2f,
    AML_EXT_PREFIX = 0x5b,
    AML_EXT_DEVICE = 0x82,
    AML_ROOT = 0x5c,
    AML_PARENT = 0x5e,
    AML_NULL_NAME = 0x00,
};

/* Resource descriptor tags (section 6.4). */
enum {
    RES_IRQ_NOFLAGS = 0x22, /* small, type 4, length 2 */
    RES_IO = 0x47,          /* small, type 8, length 7 */
    RES_END = 0x79,         /* small, type 15, length 1 */
    RES_MEM32_FIXED = 0x86,
    RES_DWORD_ADDR = 0x87,
    RES_WORD_ADDR = 0x88,
    RES_QWORD_ADDR = 0x8a,
};

enum { SPACE_MEMORY = 0, SPACE_IO = 1, SPACE_BUS = 2 };

/* General flags of a bridge's window: MaxFixed, MinFixed, PosDecode,
 * ResourceProducer. */
#define ADDR_PRODUCER_FIXED 0x0c
#define IO_ENTIRE_RANGE     0x03
#define MEM_READ_WRITE      0x01
#define MEM_CACHEABLE       0x02

/* ---- the buffer ---- */

void em_aml_init(struct em_aml *a, size_t max)
{
    memset(a, 0, sizeof(*a));
    a->max = max;
}

void em_aml_free(struct em_aml *a)
{
    free(a->data);
    a->data = NULL;
    a->len = a->cap = 0;
}

static void fail(struct em_aml *a, int error, const char *why)
{
    if (!a->failed) {
        a->failed = true;
        a->error = error;
        a->why = why;
    }
}

void em_aml_fail(struct em_aml *a, const char *why)
{
    fail(a, EINVAL, why);
}

/* Makes room for n more bytes; false (and failed) if that is not possible. */
static bool reserve(struct em_aml *a, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (a->failed)
        return false;
    if (n > a->max || a->len > a->max - n) {
        fail(a, ENOSPC, "the contents exceed the space available");
        return false;
    }
    if (a->len + n <= a->cap)
        return true;
    cap = a->cap ? a->cap : 256 < a->max ? 256 : a->max;
    while (cap < a->len + n)
        cap = cap > a->max / 2 ? a->max : cap * 2;
    p = realloc(a->data, cap);
    if (!p) {
        fail(a, ENOMEM, "out of memory");
        return false;
    }
    a->data = p;
    a->cap = cap;
    return true;
}

void em_aml_bytes(struct em_aml *a, const void *p, size_t n)
{
    if (n == 0 || !reserve(a, n))
        return;
    memcpy(a->data + a->len, p, n);
    a->len += n;
}

void em_aml_zeros(struct em_aml *a, size_t n)
{
    if (n == 0 || !reserve(a, n))
        return;
    memset(a->data + a->len, 0, n);
    a->len += n;
}

void em_aml_align(struct em_aml *a, size_t align)
{
    if (align == 0 || (align & (align - 1))) {
        em_aml_fail(a, "alignment is not a power of two");
        return;
    }
    em_aml_zeros(a, (align - (a->len & (align - 1))) & (align - 1));
}

static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void append_le(struct em_aml *a, uint64_t v, unsigned size)
{
    uint8_t b[8];

    put_le(b, v, size);
    em_aml_bytes(a, b, size);
}

void em_aml_u8(struct em_aml *a, uint8_t v)
{
    append_le(a, v, 1);
}

void em_aml_u16(struct em_aml *a, uint16_t v)
{
    append_le(a, v, 2);
}

void em_aml_u32(struct em_aml *a, uint32_t v)
{
    append_le(a, v, 4);
}

void em_aml_u64(struct em_aml *a, uint64_t v)
{
    append_le(a, v, 8);
}

void em_aml_put(struct em_aml *a, size_t off, uint64_t v, unsigned size)
{
    if (a->failed)
        return;
    if (size > 8 || off > a->len || size > a->len - off) {
        em_aml_fail(a, "patching bytes that were not written");
        return;
    }
    put_le(a->data + off, v, size);
}

/* Inserts n bytes at `at`, moving what follows. */
static void insert(struct em_aml *a, size_t at, const uint8_t *p, size_t n)
{
    if (at > a->len) {
        em_aml_fail(a, "closing a block that was never opened");
        return;
    }
    if (!reserve(a, n))
        return;
    memmove(a->data + at + n, a->data + at, a->len - at);
    memcpy(a->data + at, p, n);
    a->len += n;
}

/* ---- AML terms ---- */

/* Encodes len in the given number of bytes (1 to 4); section 20.2.4. */
static size_t pkglen_encode(uint8_t *out, uint32_t len, unsigned nbytes)
{
    if (nbytes == 1) {
        out[0] = (uint8_t)len;
        return 1;
    }
    out[0] = (uint8_t)(((nbytes - 1) << 6) | (len & 0x0f));
    for (unsigned i = 1; i < nbytes; i++)
        out[i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
    return nbytes;
}

/* How many bytes encode len: 6 bits in one byte, then 4 + 8 per byte. */
static unsigned pkglen_size(uint32_t len)
{
    if (len <= 0x3f)
        return 1;
    if (len <= 0xfff)
        return 2;
    if (len <= 0xfffff)
        return 3;
    return 4;
}

void em_aml_pkglen(struct em_aml *a, uint32_t len)
{
    uint8_t b[4];

    if (len > EM_AML_PKGLEN_MAX) {
        em_aml_fail(a, "a package length above 2^28 - 1");
        return;
    }
    em_aml_bytes(a, b, pkglen_encode(b, len, pkglen_size(len)));
}

static bool seg_char(char c, bool lead)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (!lead && c >= '0' && c <= '9');
}

/* Appends the NameSeg made of the n characters at s (n 1..4). */
static void nameseg_n(struct em_aml *a, const char *s, size_t n)
{
    char seg[4] = { '_', '_', '_', '_' };

    if (n == 0 || n > 4) {
        em_aml_fail(a, "a name segment is not 1 to 4 characters long");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!seg_char(s[i], i == 0)) {
            em_aml_fail(a, "a name segment has a character other than A-Z, 0-9 or _");
            return;
        }
        seg[i] = s[i];
    }
    em_aml_bytes(a, seg, 4);
}

void em_aml_nameseg(struct em_aml *a, const char *seg)
{
    nameseg_n(a, seg, strlen(seg));
}

void em_aml_namestring(struct em_aml *a, const char *path)
{
    const char *p = path;
    size_t nsegs = 0;

    if (*p == '\0') {
        em_aml_fail(a, "an empty name");
        return;
    }
    if (*p == '\\') {
        em_aml_u8(a, AML_ROOT);
        p++;
    } else {
        while (*p == '^') {
            em_aml_u8(a, AML_PARENT);
            p++;
        }
    }
    if (*p == '\0') {
        em_aml_u8(a, AML_NULL_NAME);
        return;
    }
    nsegs = 1;
    for (const char *q = p; *q; q++)
        nsegs += *q == '.';
    if (nsegs == 2) {
        em_aml_u8(a, AML_DUAL_NAME);
    } else if (nsegs > 2) {
        if (nsegs > 255) {
            em_aml_fail(a, "a name path of more than 255 segments");
            return;
        }
        em_aml_u8(a, AML_MULTI_NAME);
        em_aml_u8(a, (uint8_t)nsegs);
    }
    while (!a->failed) {
        size_t n = strcspn(p, ".");

        nameseg_n(a, p, n);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
}

/* The shortest integer term for v; returns its length (at most 9). */
static size_t int_encode(uint8_t *out, uint64_t v)
{
    static const uint8_t prefix[9] = {
        [1] = AML_BYTE_PREFIX, [2] = AML_WORD_PREFIX, [4] = AML_DWORD_PREFIX, [8] = AML_QWORD_PREFIX
    };
    unsigned size;

    if (v <= 1) {
        out[0] = v ? AML_ONE : AML_ZERO;
        return 1;
    }
    size = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;
    out[0] = prefix[size];
    put_le(out + 1, v, size);
    return 1 + size;
}

void em_aml_int(struct em_aml *a, uint64_t v)
{
    uint8_t b[9];

    em_aml_bytes(a, b, int_encode(b, v));
}

void em_aml_string(struct em_aml *a, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] > 0x7f) {
            em_aml_fail(a, "a string with a character outside ASCII");
            return;
        }
    }
    em_aml_u8(a, AML_STRING_PREFIX);
    em_aml_bytes(a, s, n + 1);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void em_aml_eisaid(struct em_aml *a, const char *id)
{
    uint32_t v = 0;

    if (strlen(id) != 7) {
        em_aml_fail(a, "an EISA id is not 7 characters long");
        return;
    }
    /* Three letters, 5 bits each ('A' is 1), then four hex digits; the
     * bytes are stored big-endian within the little-endian DWord. */
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            em_aml_fail(a, "an EISA id does not start with three capital letters");
            return;
        }
        v = (v << 5) | (uint32_t)(id[i] - 'A' + 1);
    }
    for (int i = 3; i < 7; i++) {
        int d = hex_digit(id[i]);

        if (d < 0) {
            em_aml_fail(a, "an EISA id does not end with four hex digits");
            return;
        }
        v = (v << 4) | (uint32_t)d;
    }
    em_aml_u8(a, AML_DWORD_PREFIX);
    em_aml_u32(a, __builtin_bswap32(v));
}

void em_aml_name(struct em_aml *a, const char *path)
{
    em_aml_u8(a, AML_NAME);
    em_aml_namestring(a, path);
}

struct em_aml_block em_aml_scope_open(struct em_aml *a, const char *path)
{
    struct em_aml_block b;

    em_aml_u8(a, AML_SCOPE);
    b = (struct em_aml_block){ a->len, EM_AML_BLOCK_PKGLEN };
    em_aml_namestring(a, path);
    return b;
}

struct em_aml_block em_aml_device_open(struct em_aml *a, const char *path)
{
    struct em_aml_block b;

    em_aml_u8(a, AML_EXT_PREFIX);
    em_aml_u8(a, AML_EXT_DEVICE);
    b = (struct em_aml_block){ a->len, EM_AML_BLOCK_PKGLEN };
    em_aml_namestring(a, path);
    return b;
}

struct em_aml_block em_aml_package_open(struct em_aml *a, unsigned count)
{
    struct em_aml_block b;

    if (count > 255)
        em_aml_fail(a, "a package of more than 255 elements");
    em_aml_u8(a, AML_PACKAGE);
    b = (struct em_aml_block){ a->len, EM_AML_BLOCK_PKGLEN };
    em_aml_u8(a, (uint8_t)count);
    return b;
}

struct em_aml_block em_aml_buffer_open(struct em_aml *a)
{
    em_aml_u8(a, AML_BUFFER);
    return (struct em_aml_block){ a->len, EM_AML_BLOCK_BUFFER };
}

struct em_aml_block em_aml_template_open(struct em_aml *a)
{
    em_aml_u8(a, AML_BUFFER);
    return (struct em_aml_block){ a->len, EM_AML_BLOCK_TEMPLATE };
}

void em_aml_close(struct em_aml *a, struct em_aml_block b)
{
    uint8_t prefix[4 + 9], size[9];
    size_t body, size_len = 0, n;
    unsigned nbytes;

    if (b.kind == EM_AML_BLOCK_TEMPLATE) {
        /* End Tag; a zero checksum means "not checksummed". */
        em_aml_u8(a, RES_END);
        em_aml_u8(a, 0);
    }
    if (a->failed)
        return;
    if (b.at > a->len) {
        em_aml_fail(a, "closing a block that was never opened");
        return;
    }
    body = a->len - b.at;
    if (body > EM_AML_PKGLEN_MAX - 4 - 9) {
        em_aml_fail(a, "a package longer than 2^28 - 1 bytes");
        return;
    }
    /* A Buffer's contents start with its size, as an integer term. */
    if (b.kind != EM_AML_BLOCK_PKGLEN)
        size_len = int_encode(size, body);
    body += size_len;
    /* The length counts its own bytes, so its size depends on itself. */
    nbytes = pkglen_size((uint32_t)body + 1);
    while (pkglen_size((uint32_t)body + nbytes) > nbytes)
        nbytes++;
    n = pkglen_encode(prefix, (uint32_t)body + nbytes, nbytes);
    memcpy(prefix + n, size, size_len);
    insert(a, b.at, prefix, n + size_len);
}

/* ---- resource descriptors ---- */

void em_aml_res_io(struct em_aml *a, uint16_t base, uint8_t len)
{
    if (len == 0 || base + len - 1 > 0xffff) {
        em_aml_fail(a, "an IO descriptor with a range beyond port 0xffff or of length 0");
        return;
    }
    em_aml_u8(a, RES_IO);
    em_aml_u8(a, 0x01); /* Decode16 */
    em_aml_u16(a, base);
    em_aml_u16(a, base);
    em_aml_u8(a, 1);
    em_aml_u8(a, len);
}

void em_aml_res_irq(struct em_aml *a, unsigned irq)
{
    if (irq > 15) {
        em_aml_fail(a, "an IRQ descriptor for an interrupt above 15");
        return;
    }
    em_aml_u8(a, RES_IRQ_NOFLAGS);
    em_aml_u16(a, (uint16_t)(1u << irq));
}

void em_aml_res_mem32_fixed(struct em_aml *a, uint32_t base, uint32_t len)
{
    if (len == 0 || base + (uint64_t)len - 1 > 0xffffffffull) {
        em_aml_fail(a, "a Memory32Fixed descriptor beyond 4 GiB or of length 0");
        return;
    }
    em_aml_u8(a, RES_MEM32_FIXED);
    em_aml_u16(a, 9);
    em_aml_u8(a, MEM_READ_WRITE);
    em_aml_u32(a, base);
    em_aml_u32(a, len);
}

/*
 * Word, DWord and QWord address space descriptors share one layout with
 * fields of `size` bytes: tag, length, type, general flags, type-specific
 * flags, then granularity, minimum, maximum, translation offset, length.
 */
static void addr_space(struct em_aml *a, unsigned size, uint8_t space, uint8_t type_flags,
                       uint64_t min, uint64_t max)
{
    static const uint8_t tags[9] = {
        [2] = RES_WORD_ADDR, [4] = RES_DWORD_ADDR, [8] = RES_QWORD_ADDR
    };

    uint64_t field_max = size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;

    if (min > max) {
        em_aml_fail(a, "an address space descriptor whose maximum is below its minimum");
        return;
    }
    /* The length is a field of the same size: a window over the whole
     * space (0 to all-ones) cannot be described. */
    if (max - min == field_max) {
        em_aml_fail(a, "an address space descriptor whose length does not fit its field");
        return;
    }
    em_aml_u8(a, tags[size]);
    em_aml_u16(a, (uint16_t)(3 + 5 * size));
    em_aml_u8(a, space);
    em_aml_u8(a, ADDR_PRODUCER_FIXED);
    em_aml_u8(a, type_flags);
    append_le(a, 0, size);
    append_le(a, min, size);
    append_le(a, max, size);
    append_le(a, 0, size);
    append_le(a, max - min + 1, size);
}

void em_aml_res_word_bus(struct em_aml *a, uint16_t min, uint16_t max)
{
    addr_space(a, 2, SPACE_BUS, 0, min, max);
}

void em_aml_res_word_io(struct em_aml *a, uint16_t min, uint16_t max)
{
    addr_space(a, 2, SPACE_IO, IO_ENTIRE_RANGE, min, max);
}

void em_aml_res_dword_io(struct em_aml *a, uint32_t min, uint32_t max)
{
    addr_space(a, 4, SPACE_IO, IO_ENTIRE_RANGE, min, max);
}

void em_aml_res_dword_mem(struct em_aml *a, uint32_t min, uint32_t max, bool cacheable)
{
    addr_space(a, 4, SPACE_MEMORY, MEM_READ_WRITE | (cacheable ? MEM_CACHEABLE : 0), min, max);
}

void em_aml_res_qword_mem(struct em_aml *a, uint64_t min, uint64_t max, bool cacheable)
{
    addr_space(a, 8, SPACE_MEMORY, MEM_READ_WRITE | (cacheable ? MEM_CACHEABLE : 0), min, max);
}
