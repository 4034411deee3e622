/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot GDT and identity page tables, written into a kc_mem without
 * KVM and checked the way the CPU would read them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define MIB      (1024ull * 1024)
#define GIB      (1024 * MIB)
#define RAM_SIZE MIB
#define ROM_GPA  0x200000ull
#define FILL     0xee

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_PS   (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull
#define PDE_2M   0x000fffffffe00000ull

static struct log_capture cap;
static struct kc_mem *mem;

/* 1 MiB of RAM at 0 and a read-only page range at ROM_GPA. */
static void setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(mem);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, RAM_SIZE, 0, "ram"));
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, ROM_GPA, 0x8000, KC_REGION_READONLY, "rom"));
}

static void teardown(void)
{
    kc_mem_destroy(mem);
}

static uint64_t read_u64(uint64_t gpa)
{
    uint64_t v;

    ck_assert_msg(kc_mem_read(mem, gpa, &v, sizeof(v)) == 0,
                  "a table entry points outside RAM: 0x%llx", (unsigned long long)gpa);
    return v;
}

static bool all_bytes(uint64_t gpa, size_t n, uint8_t v)
{
    const uint8_t *p = kc_mem_ptr(mem, gpa, n);

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static void fill(uint64_t gpa, size_t n)
{
    memset(kc_mem_ptr(mem, gpa, n), FILL, n);
}

/* ---- page tables ---- */

/*
 * A 4-level walk as the CPU does it, for 4 KiB, 2 MiB and 1 GiB pages.
 * Every level on the way must be present and writable. False if some
 * level is not present.
 */
static bool translate(uint64_t cr3, uint64_t va, uint64_t *pa)
{
    uint64_t e = read_u64((cr3 & PTE_ADDR) + ((va >> 39) & 511) * 8);

    if (!(e & PTE_P))
        return false;
    ck_assert_msg(e & PTE_RW, "PML4E for 0x%llx read-only", (unsigned long long)va);
    ck_assert_msg(!(e & PTE_PS), "PML4E for 0x%llx has PS (reserved)", (unsigned long long)va);
    e = read_u64((e & PTE_ADDR) + ((va >> 30) & 511) * 8);
    if (!(e & PTE_P))
        return false;
    ck_assert_msg(e & PTE_RW, "PDPTE for 0x%llx read-only", (unsigned long long)va);
    if (e & PTE_PS) {
        *pa = (e & 0x000fffffc0000000ull) | (va & (GIB - 1));
        return true;
    }
    e = read_u64((e & PTE_ADDR) + ((va >> 21) & 511) * 8);
    if (!(e & PTE_P))
        return false;
    ck_assert_msg(e & PTE_RW, "PDE for 0x%llx read-only", (unsigned long long)va);
    if (e & PTE_PS) {
        *pa = (e & PDE_2M) | (va & (2 * MIB - 1));
        return true;
    }
    e = read_u64((e & PTE_ADDR) + ((va >> 12) & 511) * 8);
    if (!(e & PTE_P))
        return false;
    *pa = (e & PTE_ADDR) | (va & 0xfff);
    return true;
}

static void assert_identity(uint64_t cr3, uint64_t va)
{
    uint64_t pa = ~0ull;

    ck_assert_msg(translate(cr3, va, &pa), "0x%llx is not mapped", (unsigned long long)va);
    ck_assert_msg(pa == va, "0x%llx maps to 0x%llx", (unsigned long long)va,
                  (unsigned long long)pa);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_identity_map)
{
    static const uint64_t addrs[] = {
        0,          0x1fffff,   0x200000,   0x3fffffff, 0x40000000, 0x7fffffff,
        0x80000000, 0xbfffffff, 0xc0000000, 0xfee00000, 0xfee000f0, 0xffffffff,
    };
    const uint64_t pt = 0x9000;
    uint64_t cr3 = 0, seed = 0x2545f4914f6cdd1dull, pa;

    fill(pt - 0x1000, KC_X86_PAGE_TABLES_SIZE + 0x2000);
    ck_assert_int_eq(kc_x86_write_page_tables(mem, pt, &cr3), 0);
    ck_assert_uint_eq(cr3, pt);
    ck_assert_uint_eq(cap.count, 0);

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(addrs); i++)
        assert_identity(cr3, addrs[i]);
    for (uint64_t page = 0; page < 4 * GIB; page += 2 * MIB) {
        assert_identity(cr3, page);
        assert_identity(cr3, page + 2 * MIB - 1);
    }
    for (unsigned i = 0; i < 10000; i++)
        assert_identity(cr3, xorshift(&seed) & 0xffffffff);

    /* Nothing beyond 4 GiB. */
    ck_assert(!translate(cr3, 4 * GIB, &pa));
    ck_assert(!translate(cr3, 511 * GIB, &pa));
    ck_assert(!translate(cr3, 1ull << 39, &pa));
    ck_assert(!translate(cr3, 0x00007fffffffffffull, &pa));

    /* The tables fill exactly their 24 KiB: no byte before or after. */
    ck_assert_msg(all_bytes(pt - 0x1000, 0x1000, FILL), "bytes before the tables changed");
    ck_assert_msg(all_bytes(pt + KC_X86_PAGE_TABLES_SIZE, 0x1000, FILL),
                  "bytes after the tables changed");
}
END_TEST

/* Unused entries must be zero, not left-over memory. */
START_TEST(test_unused_entries_zero)
{
    const uint64_t pt = 0x10000;
    uint64_t cr3;

    fill(pt, KC_X86_PAGE_TABLES_SIZE);
    ck_assert_int_eq(kc_x86_write_page_tables(mem, pt, &cr3), 0);
    for (unsigned i = 1; i < 512; i++)
        ck_assert_msg(read_u64(pt + i * 8) == 0, "PML4[%u] not zero", i);
    for (unsigned i = 4; i < 512; i++)
        ck_assert_msg(read_u64(pt + 0x1000 + i * 8) == 0, "PDPT[%u] not zero", i);
    /* Tables anywhere 4 KiB aligned in RAM work, up to its very end. */
    ck_assert_int_eq(kc_x86_write_page_tables(mem, RAM_SIZE - KC_X86_PAGE_TABLES_SIZE, &cr3), 0);
    ck_assert_uint_eq(cr3, RAM_SIZE - KC_X86_PAGE_TABLES_SIZE);
    assert_identity(cr3, 0xfee00000);
}
END_TEST

START_TEST(test_page_tables_refused)
{
    static const struct {
        uint64_t gpa;
        const char *why;
    } bad[] = {
        { 0x9008, "misaligned" },
        { 0x9800, "misaligned by half a page" },
        { RAM_SIZE - 0x5000, "one page short at the end of RAM" },
        { 0x400000, "outside RAM" },
        { ROM_GPA, "read-only" },
        { UINT64_MAX & ~0xfffull, "at the top of the address space" },
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(bad); i++) {
        char want[64];
        uint64_t cr3 = 0x1234;

        log_capture_init(&cap);
        if (bad[i].gpa < RAM_SIZE)
            fill(bad[i].gpa & ~0xfffull, RAM_SIZE - (bad[i].gpa & ~0xfffull));
        ck_assert_msg(kc_x86_write_page_tables(mem, bad[i].gpa, &cr3) == -EFAULT,
                      "%s: want -EFAULT", bad[i].why);
        ck_assert_msg(cr3 == 0x1234, "%s: cr3 written on failure", bad[i].why);
        snprintf(want, sizeof(want), "page tables at 0x%llx", (unsigned long long)bad[i].gpa);
        ck_assert_msg(cap.count == 1 && log_has(&cap, want), "%s: want \"%s\", got: %s", bad[i].why,
                      want, cap.text);
        if (bad[i].gpa < RAM_SIZE)
            ck_assert_msg(
                all_bytes(bad[i].gpa & ~0xfffull, RAM_SIZE - (bad[i].gpa & ~0xfffull), FILL),
                "%s: RAM written although refused", bad[i].why);
    }
}
END_TEST

/* ---- GDT ---- */

struct descriptor {
    uint32_t base, limit; /* limit in bytes, granularity applied */
    unsigned type, s, dpl, p, l, db, g;
};

static struct descriptor decode(uint64_t d)
{
    struct descriptor r;
    uint32_t raw_limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);

    r.base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24);
    r.type = (d >> 40) & 0xf;
    r.s = (d >> 44) & 1;
    r.dpl = (d >> 45) & 3;
    r.p = (d >> 47) & 1;
    r.l = (d >> 53) & 1;
    r.db = (d >> 54) & 1;
    r.g = (d >> 55) & 1;
    r.limit = r.g ? raw_limit << 12 | 0xfff : raw_limit;
    return r;
}

/* Present ring-0 flat 4 GiB segment. */
static void assert_flat(const struct descriptor *d, const char *what)
{
    ck_assert_msg(d->base == 0 && d->limit == 0xffffffff, "%s: base 0x%x limit 0x%x", what, d->base,
                  d->limit);
    ck_assert_msg(d->p && d->s && d->dpl == 0 && d->g, "%s: p %u s %u dpl %u g %u", what, d->p,
                  d->s, d->dpl, d->g);
}

START_TEST(test_gdt)
{
    const uint64_t gdt = 0x500;
    struct descriptor d;

    ck_assert_uint_eq(KC_X86_GDT_SIZE, 32);
    fill(gdt - 8, KC_X86_GDT_SIZE + 16);
    ck_assert_int_eq(kc_x86_write_gdt(mem, gdt), 0);
    ck_assert_uint_eq(read_u64(gdt), 0);

    d = decode(read_u64(gdt + KC_X86_SEL_CODE32));
    assert_flat(&d, "code32");
    ck_assert_msg((d.type & 0xa) == 0xa, "code32: type 0x%x is not readable code", d.type);
    ck_assert_msg(d.l == 0 && d.db == 1, "code32: L %u D %u, want 0 1", d.l, d.db);

    d = decode(read_u64(gdt + KC_X86_SEL_CODE64));
    assert_flat(&d, "code64");
    ck_assert_msg((d.type & 0xa) == 0xa, "code64: type 0x%x is not readable code", d.type);
    ck_assert_msg(d.l == 1 && d.db == 0, "code64: L %u D %u, want 1 0 (D must be 0 with L)", d.l,
                  d.db);

    d = decode(read_u64(gdt + KC_X86_SEL_DATA));
    assert_flat(&d, "data");
    ck_assert_msg((d.type & 0xa) == 0x2, "data: type 0x%x is not writable data", d.type);
    ck_assert_msg(d.l == 0 && d.db == 1, "data: L %u B %u, want 0 1", d.l, d.db);

    ck_assert_msg(all_bytes(gdt - 8, 8, FILL) && all_bytes(gdt + KC_X86_GDT_SIZE, 8, FILL),
                  "bytes around the GDT changed");
}
END_TEST

START_TEST(test_gdt_refused)
{
    static const struct {
        uint64_t gpa;
        const char *why;
    } bad[] = {
        { 0x400000, "outside RAM" },
        { RAM_SIZE - 16, "half past the end of RAM" },
        { ROM_GPA, "read-only" },
        { UINT64_MAX - 15, "wrapping" },
    };

    fill(RAM_SIZE - 16, 16);
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(bad); i++) {
        char want[64];

        log_capture_init(&cap);
        ck_assert_msg(kc_x86_write_gdt(mem, bad[i].gpa) == -EFAULT, "%s: want -EFAULT", bad[i].why);
        snprintf(want, sizeof(want), "boot GDT at 0x%llx", (unsigned long long)bad[i].gpa);
        ck_assert_msg(cap.count == 1 && log_has(&cap, want), "%s: want \"%s\", got: %s", bad[i].why,
                      want, cap.text);
    }
    ck_assert_msg(all_bytes(RAM_SIZE - 16, 16, FILL), "a refused GDT was partly written");
    ck_assert_msg(all_bytes(ROM_GPA, KC_X86_GDT_SIZE, 0), "a GDT was written into ROM");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("x86_tables");
    TCase *pt = tcase_create("page_tables");
    TCase *gdt = tcase_create("gdt");

    tcase_add_checked_fixture(pt, setup, teardown);
    tcase_add_test(pt, test_identity_map);
    tcase_add_test(pt, test_unused_entries_zero);
    tcase_add_test(pt, test_page_tables_refused);
    tcase_set_timeout(pt, 20);
    suite_add_tcase(s, pt);

    tcase_add_checked_fixture(gdt, setup, teardown);
    tcase_add_test(gdt, test_gdt);
    tcase_add_test(gdt, test_gdt_refused);
    suite_add_tcase(s, gdt);
    return s;
}

const bool test_needs_kvm = false;
