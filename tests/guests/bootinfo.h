/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the boot-information guests (mb_info, pvh_info, bz_info, acpi_info,
 * smp_boot) share: polled COM1 output, numbers in hex and decimal, the
 * checksum and the byte pattern of the test initrd, and the exit codes.
 *
 * Every guest prints one line per value it read or check it made, each
 * line starting with its own tag ("mb ", "pvh ", ...), and ends with
 * "<tag> ok" and debug-exit BI_OK, or with "<tag> FAIL <what>" and an exit
 * code of its own per failure class (BI_FAIL_BASE + n). The host test
 * compares the printed values with what it passed and what it computes.
 */
#ifndef BOOTINFO_GUEST_H
#define BOOTINFO_GUEST_H

#include "guest.h"

/* kvmemu then exits with (0x2a << 1) | 1, as the serial guests do. */
#define BI_OK        0x2a
#define BI_FAIL_BASE 0x40

#define BI_COM1     0x3f8
#define BI_COM1_LSR (BI_COM1 + 5)
#define BI_LSR_THRE 0x20

/* The e820 types a map may hold. */
#define BI_E820_RAM      1
#define BI_E820_RESERVED 2

static inline void bi_putc(char c)
{
    /* Bounded: a transmitter that never empties must not hang the guest. */
    for (unsigned i = 0; i < 100000 && !(inb(BI_COM1_LSR) & BI_LSR_THRE); i++)
        cpu_relax();
    outb(BI_COM1, (uint8_t)c);
}

static inline void bi_puts(const char *s)
{
    while (*s)
        bi_putc(*s++);
}

/* At most max bytes of a guest string, stopping at its NUL. */
static inline void bi_putsn(const volatile char *s, unsigned long max)
{
    for (unsigned long i = 0; i < max && s[i]; i++)
        bi_putc(s[i]);
}

static inline void bi_hex(uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";

    while (digits--)
        bi_putc(hex[(v >> (4 * digits)) & 0xf]);
}

/* "0x" and as many digits as needed. */
static inline void bi_hexv(uint64_t v)
{
    int digits = 1;

    while (digits < 16 && (v >> (4 * digits)))
        digits++;
    bi_puts("0x");
    bi_hex(v, digits);
}

static inline void bi_dec(uint64_t v)
{
    char buf[24];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n--)
        bi_putc(buf[n]);
}

/* "<tag> FAIL <what>", then the exit code. */
__attribute__((noreturn)) static inline void bi_fail(const char *tag, unsigned code,
                                                     const char *what)
{
    bi_puts(tag);
    bi_puts(" FAIL ");
    bi_puts(what);
    bi_puts("\n");
    guest_exit((uint8_t)code);
}

#define BI_CHECK(tag, cond, code)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            bi_fail(tag, BI_FAIL_BASE + (code), #cond);                                            \
    } while (0)

/* FNV-1a, 32 bits: what the host computes over the initrd it wrote. */
static inline uint32_t bi_fnv1a(const volatile uint8_t *p, unsigned long n)
{
    uint32_t h = 2166136261u;

    for (unsigned long i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* The test initrd's byte i (tests/kvm/bootinfo_host.h has the same). */
static inline uint8_t bi_pattern(unsigned long i)
{
    return (uint8_t)(i * 167u + (i >> 9) * 13u + 0x5au);
}

/* The index of the first byte that breaks the pattern, or n. */
static inline unsigned long bi_pattern_mismatch(const volatile uint8_t *p, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        if (p[i] != bi_pattern(i))
            return i;
    return n;
}

/* Fails with `code` (relative to BI_FAIL_BASE) unless the n bytes at p
 * are the test pattern; `what` names them ("mod", "ramdisk"). */
static inline void bi_check_pattern(const char *tag, const char *what, const volatile uint8_t *p,
                                    unsigned long n, unsigned code);

/* The RSDP at addr, when there is one (addr != 0): 16-byte aligned below
 * 4 GiB, signature, both checksums, revision 2; prints what it found under
 * `label`. Fails with `code` (relative to BI_FAIL_BASE). */
static inline void bi_check_rsdp(const char *tag, const char *label, uint64_t addr, unsigned code);

static inline int bi_memeq(const volatile void *a, const char *b, unsigned long n)
{
    const volatile uint8_t *p = a;

    for (unsigned long i = 0; i < n; i++)
        if (p[i] != (uint8_t)b[i])
            return 0;
    return 1;
}

/* The sum of n bytes, as ACPI and MP table checksums want it (0). */
static inline uint8_t bi_sum(const volatile uint8_t *p, unsigned long n)
{
    uint8_t s = 0;

    for (unsigned long i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static inline uint16_t bi_rd16(const volatile uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t bi_rd32(const volatile uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t bi_rd64(const volatile uint8_t *p)
{
    return (uint64_t)bi_rd32(p) | (uint64_t)bi_rd32(p + 4) << 32;
}

/* A guest-physical address as a pointer (paging off, or identity-mapped). */
static inline const volatile uint8_t *bi_ptr(uint64_t gpa)
{
    return (const volatile uint8_t *)(uintptr_t)gpa;
}

/*
 * A memory map entry, checked and printed as "<tag> e820 ADDR SIZE TYPE"
 * (16 hex digits each, the type in decimal). Entries must be sorted and
 * must not overlap; *end is the end of the previous one. Returns 0 or the
 * failed check's description.
 */
static inline const char *bi_e820_entry(const char *tag, uint64_t addr, uint64_t size,
                                        uint32_t type, uint64_t *end)
{
    bi_puts(tag);
    bi_puts(" e820 ");
    bi_hex(addr, 16);
    bi_putc(' ');
    bi_hex(size, 16);
    bi_putc(' ');
    bi_dec(type);
    bi_puts("\n");
    if (size == 0)
        return "an empty memory map entry";
    if (addr + size < addr)
        return "a memory map entry wraps";
    if (addr < *end)
        return "memory map entries unsorted or overlapping";
    if (type != BI_E820_RAM && type != BI_E820_RESERVED)
        return "a memory map type other than RAM or reserved";
    *end = addr + size;
    return 0;
}

/* The RAM entry of a checked map that contains addr: its size from addr. */
struct bi_ram {
    uint64_t below_1m; /* RAM from 0 */
    uint64_t from_1m;  /* RAM from 1 MiB */
    uint64_t total;
};

static inline void bi_ram_add(struct bi_ram *r, uint64_t addr, uint64_t size, uint32_t type)
{
    if (type != BI_E820_RAM)
        return;
    r->total += size;
    if (addr == 0)
        r->below_1m = size;
    if (addr <= 0x100000 && addr + size > 0x100000)
        r->from_1m = addr + size - 0x100000;
}

static inline void bi_check_pattern(const char *tag, const char *what, const volatile uint8_t *p,
                                    unsigned long n, unsigned code)
{
    unsigned long bad = bi_pattern_mismatch(p, n);

    if (bad != n) {
        bi_puts(tag);
        bi_puts(" ");
        bi_puts(what);
        bi_puts(" byte ");
        bi_dec(bad);
        bi_puts(" breaks the pattern\n");
        bi_fail(tag, BI_FAIL_BASE + code, "the bytes of the initrd");
    }
    bi_puts(tag);
    bi_puts(" ");
    bi_puts(what);
    bi_puts(" pattern ok\n");
}

static inline void bi_check_rsdp(const char *tag, const char *label, uint64_t addr, unsigned code)
{
    const volatile uint8_t *r = bi_ptr(addr);

    bi_puts(tag);
    bi_puts(" ");
    bi_puts(label);
    bi_puts(" ");
    bi_hexv(addr);
    bi_puts("\n");
    if (addr == 0)
        return;
    BI_CHECK(tag, addr < 0x100000000ull && addr % 16 == 0, code);
    BI_CHECK(tag, bi_memeq(r, "RSD PTR ", 8), code);
    BI_CHECK(tag, bi_sum(r, 20) == 0, code);
    BI_CHECK(tag, r[15] >= 2 && bi_rd32(r + 20) >= 36 && bi_sum(r, bi_rd32(r + 20)) == 0, code);
    bi_puts(tag);
    bi_puts(" rsdp signature \"RSD PTR \" revision ");
    bi_dec(r[15]);
    bi_puts(" checksums ok\n");
}

#endif
