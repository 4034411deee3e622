/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest memory map, the boot timeline, and the CPUID topology. */
#include <string.h>

#include "cpu.h"
#include "memmap.h"
#include "testutil.h"
#include "timeline.h"

const bool test_needs_kvm = false;

struct want {
    uint64_t addr, size;
    uint32_t type;
};

static void expect_map(const struct em_memmap *mm, const struct want *w, unsigned n)
{
    ck_assert_uint_eq(mm->nr_e820, n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_msg(mm->e820[i].addr == w[i].addr && mm->e820[i].size == w[i].size &&
                          mm->e820[i].type == w[i].type,
                      "entry %u: [0x%llx +0x%llx type %u], want [0x%llx +0x%llx type %u]", i,
                      (unsigned long long)mm->e820[i].addr, (unsigned long long)mm->e820[i].size,
                      mm->e820[i].type, (unsigned long long)w[i].addr,
                      (unsigned long long)w[i].size, w[i].type);
}

START_TEST(small_machine)
{
    struct em_memmap mm;
    static const struct want w[] = {
        { 0, 0x9fc00, EM_E820_RAM },
        { 0x9fc00, 0x400, EM_E820_RESERVED },
        { 0xe0000, 0x20000, EM_E820_RESERVED },
        { 0x100000, (128ull << 20) - 0x100000, EM_E820_RAM },
        { EM_PCI_ECAM_BASE, EM_PCI_ECAM_SIZE, EM_E820_RESERVED },
    };

    em_memmap_init(&mm, 128ull << 20);
    ck_assert_uint_eq(mm.ram_below_4g, 128ull << 20);
    ck_assert_uint_eq(mm.ram_above_4g, 0);
    expect_map(&mm, w, 5);
}
END_TEST

START_TEST(ram_split_around_the_hole)
{
    struct em_memmap mm;
    static const struct want w[] = {
        { 0, 0x9fc00, EM_E820_RAM },
        { 0x9fc00, 0x400, EM_E820_RESERVED },
        { 0xe0000, 0x20000, EM_E820_RESERVED },
        { 0x100000, EM_LOW_RAM_LIMIT - 0x100000, EM_E820_RAM },
        { EM_PCI_ECAM_BASE, EM_PCI_ECAM_SIZE, EM_E820_RESERVED },
        { EM_HIGH_RAM_BASE, (5ull << 30) - EM_LOW_RAM_LIMIT, EM_E820_RAM },
    };

    em_memmap_init(&mm, 5ull << 30);
    ck_assert_uint_eq(mm.ram_below_4g, EM_LOW_RAM_LIMIT);
    ck_assert_uint_eq(mm.ram_above_4g, (5ull << 30) - EM_LOW_RAM_LIMIT);
    expect_map(&mm, w, 6);
}
END_TEST

/* Any size: sorted, disjoint, no RAM in the PCI window, and every byte of
 * RAM is accounted for (usable, or the reserved hole below 1 MiB). */
START_TEST(invariants)
{
    static const uint64_t sizes[] = { 4ull << 20, 64ull << 20, 3ull << 30, (3ull << 30) + 4096,
                                      16ull << 30 };

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct em_memmap mm;
        uint64_t usable = 0;

        em_memmap_init(&mm, sizes[s]);
        for (unsigned i = 0; i < mm.nr_e820; i++) {
            const struct em_e820_entry *e = &mm.e820[i];

            ck_assert_uint_gt(e->size, 0);
            if (i)
                ck_assert_uint_ge(e->addr, mm.e820[i - 1].addr + mm.e820[i - 1].size);
            if (e->type == EM_E820_RAM) {
                usable += e->size;
                ck_assert(e->addr + e->size <= EM_PCI_MMIO_BASE || e->addr >= EM_FOUR_GIB);
            }
        }
        ck_assert_uint_eq(usable, sizes[s] - (EM_HIGH_MEM_START - EM_EBDA_BASE));
        ck_assert_uint_eq(mm.ram_below_4g + mm.ram_above_4g, sizes[s]);
    }
}
END_TEST

START_TEST(timeline_records_in_order)
{
    struct em_timeline *tl = em_timeline_create();
    struct em_timeline_event a, b;

    ck_assert_ptr_nonnull(tl);
    em_timeline_mark(tl, "VM created");
    em_timeline_mark(tl, "POST 0x%02x", 0x42);
    ck_assert(em_timeline_mark_once(tl, "first serial byte"));
    ck_assert(!em_timeline_mark_once(tl, "first serial byte"));
    ck_assert_uint_eq(em_timeline_count(tl), 3);
    ck_assert(em_timeline_get(tl, 0, &a));
    ck_assert(em_timeline_get(tl, 1, &b));
    ck_assert_str_eq(a.label, "VM created");
    ck_assert_str_eq(b.label, "POST 0x42");
    ck_assert(a.ms >= 0 && b.ms >= a.ms);
    ck_assert(!em_timeline_get(tl, 3, &a));
    em_timeline_destroy(tl);
}
END_TEST

START_TEST(timeline_is_bounded)
{
    struct em_timeline *tl = em_timeline_create();
    char text[64 * 1024];
    FILE *f = fmemopen(text, sizeof(text) - 1, "w");

    for (int i = 0; i < EM_TIMELINE_MAX + 10; i++)
        em_timeline_mark(tl, "event %d", i);
    ck_assert_uint_eq(em_timeline_count(tl), EM_TIMELINE_MAX);
    em_timeline_print(tl, f);
    fclose(f);
    ck_assert_msg(strstr(text, "(10 later events not kept)"), "%s", text + strlen(text) - 80);
    em_timeline_destroy(tl);
}
END_TEST

/* A synthetic host table with the topology leaves KVM reports. */
static struct kc_cpuid *host_table(void)
{
    static const struct kvm_cpuid_entry2 e[] = {
        { .function = 1, .ebx = 0x00100800, .edx = 1u << 28 },
        { .function = 4,
          .index = 0,
          .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 0x1c004121 }, /* L1d, shared by 2 */
        { .function = 4,
          .index = 3,
          .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 0x1c03c163 }, /* L3 */
        { .function = 4, .index = 4, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 0 },
        { .function = 0xb,
          .index = 0,
          .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 1,
          .ebx = 2,
          .ecx = 0x100 },
        { .function = 0xb,
          .index = 1,
          .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
          .eax = 5,
          .ebx = 16,
          .ecx = 0x201 },
        { .function = 0xb, .index = 2, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ecx = 2 },
        { .function = 0x80000008, .ecx = 0x0000700f },
    };

    return kc_cpuid_from_entries(e, sizeof(e) / sizeof(e[0]));
}

static const struct kvm_cpuid_entry2 *entry(const struct kc_cpuid *c, uint32_t f, uint32_t i)
{
    const struct kvm_cpuid_entry2 *e = kc_cpuid_entries(c);

    for (unsigned k = 0; k < kc_cpuid_count(c); k++)
        if (e[k].function == f && e[k].index == i)
            return &e[k];
    ck_abort_msg("no leaf 0x%x.%u", f, i);
    return NULL;
}

START_TEST(topology_matches_smp)
{
    struct kc_cpuid *c = host_table();

    em_cpuid_set_topology(c, 3);
    ck_assert_uint_eq((entry(c, 1, 0)->ebx >> 16) & 0xff, 3);
    ck_assert(entry(c, 1, 0)->edx & (1u << 28));
    /* Leaf 4: 3 cores per package; L1 private, L3 shared by all three. */
    ck_assert_uint_eq(entry(c, 4, 0)->eax >> 26, 2);
    ck_assert_uint_eq((entry(c, 4, 0)->eax >> 14) & 0xfff, 0);
    ck_assert_uint_eq((entry(c, 4, 3)->eax >> 14) & 0xfff, 2);
    ck_assert_uint_eq(entry(c, 4, 0)->eax & 0x3fff, 0x0121); /* cache type/level kept */
    ck_assert_uint_eq(entry(c, 4, 4)->eax, 0);               /* the terminator stays */
    /* Leaf 0xb: one thread per core, three cores, a 2-bit core shift. */
    ck_assert_uint_eq(entry(c, 0xb, 0)->ebx, 1);
    ck_assert_uint_eq(entry(c, 0xb, 0)->eax, 0);
    ck_assert_uint_eq(entry(c, 0xb, 1)->ebx, 3);
    ck_assert_uint_eq(entry(c, 0xb, 1)->eax, 2);
    ck_assert_uint_eq(entry(c, 0xb, 1)->ecx, 0x201);
    ck_assert_uint_eq(entry(c, 0xb, 2)->ebx, 0);
    ck_assert_uint_eq(entry(c, 0x80000008, 0)->ecx & 0xff, 2);
    ck_assert_uint_eq((entry(c, 0x80000008, 0)->ecx >> 12) & 0xf, 2);
    kc_cpuid_free(c);

    c = host_table();
    em_cpuid_set_topology(c, 1);
    ck_assert_uint_eq((entry(c, 1, 0)->ebx >> 16) & 0xff, 1);
    ck_assert(!(entry(c, 1, 0)->edx & (1u << 28)));
    ck_assert_uint_eq(entry(c, 0xb, 1)->eax, 0);
    kc_cpuid_free(c);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_memmap");
    TCase *tc = tcase_create("memmap");

    tcase_add_test(tc, small_machine);
    tcase_add_test(tc, ram_split_around_the_hole);
    tcase_add_test(tc, invariants);
    tcase_add_test(tc, timeline_records_in_order);
    tcase_add_test(tc, timeline_is_bounded);
    tcase_add_test(tc, topology_matches_smp);
    suite_add_tcase(s, tc);
    return s;
}
