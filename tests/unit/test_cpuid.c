/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPUID tables: the feature-name table, lookups and atomic edits. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

/* One table entry: leaf, subleaf, flags, then EAX..EDX. */
#define ENTRY(fn, idx, flg, a, b, c, d)                                                            \
    {                                                                                              \
        .function = (fn), .index = (idx), .flags = (flg), .eax = (a), .ebx = (b), .ecx = (c),      \
        .edx = (d)                                                                                 \
    }

/* Alternating bit patterns, so that both setting and clearing any bit
 * change something somewhere in the table. */
static const struct kvm_cpuid_entry2 synthetic[] = {
    ENTRY(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
    ENTRY(1, 0, 0, 0x000806c1, 0xa5a5a5a5, 0xa5a5a5a5, 0x5a5a5a5a),
    ENTRY(7, 0, SIG, 1, 0x5a5a5a5a, 0xa5a5a5a5, 0x0f0f0f0f),
    ENTRY(7, 1, SIG, 0x11111111, 0x22222222, 0x33333333, 0x44444444),
    ENTRY(0xd, 0, SIG, 0x7, 0x340, 0x340, 0),
    ENTRY(0xd, 1, SIG, 0x0000000a, 0xf0f0f0f0, 0, 0),
    ENTRY(0x80000001, 0, 0, 0, 0, 0x5a5a5a5a, 0xa5a5a5a5),
};

#define N_SYNTHETIC KCI_ARRAY_SIZE(synthetic)

static struct kc_cpuid *make_table(void)
{
    struct kc_cpuid *c = kc_cpuid_from_entries(synthetic, N_SYNTHETIC);

    ck_assert_ptr_nonnull(c);
    return c;
}

/* A table without leaf 7, for features whose leaf is absent. */
static struct kc_cpuid *make_table_without_leaf7(void)
{
    struct kvm_cpuid_entry2 e[N_SYNTHETIC];
    unsigned n = 0;

    for (unsigned i = 0; i < N_SYNTHETIC; i++)
        if (synthetic[i].function != 7)
            e[n++] = synthetic[i];
    return kc_cpuid_from_entries(e, n);
}

static const struct kc_cpu_feature *feature(const char *name)
{
    const struct kc_cpu_feature *f = kc_cpu_feature_lookup(name);

    ck_assert_msg(f != NULL, "feature '%s' should be known", name);
    return f;
}

static uint32_t reg_value(const struct kvm_cpuid_entry2 *e, enum kc_cpuid_reg reg)
{
    switch (reg) {
    case KC_CPUID_EAX:
        return e->eax;
    case KC_CPUID_EBX:
        return e->ebx;
    case KC_CPUID_ECX:
        return e->ecx;
    default:
        return e->edx;
    }
}

/* Index in `synthetic` of the entry a CPU would report for the feature. */
static int synthetic_index(const struct kc_cpu_feature *f)
{
    for (unsigned i = 0; i < N_SYNTHETIC; i++)
        if (synthetic[i].function == f->leaf &&
            (!(synthetic[i].flags & SIG) || synthetic[i].index == f->subleaf))
            return (int)i;
    return -1;
}

/*
 * Checks that `after` differs from `before` in at most one bit: the
 * feature's, which must now be `value`. Every register of every entry,
 * and the entry headers, are compared.
 */
static void assert_only_bit(const struct kvm_cpuid_entry2 *before,
                            const struct kvm_cpuid_entry2 *after, unsigned n,
                            const struct kc_cpu_feature *f, int idx, bool value)
{
    for (unsigned i = 0; i < n; i++) {
        for (unsigned r = KC_CPUID_EAX; r <= KC_CPUID_EDX; r++) {
            uint32_t want = reg_value(&before[i], r);

            if ((int)i == idx && r == f->reg)
                want = value ? want | 1u << f->bit : want & ~(1u << f->bit);
            ck_assert_msg(reg_value(&after[i], r) == want,
                          "'%s' %s: entry %u reg %u is 0x%08x, want 0x%08x", f->name,
                          value ? "on" : "off", i, r, reg_value(&after[i], r), want);
        }
        ck_assert_uint_eq(after[i].function, before[i].function);
        ck_assert_uint_eq(after[i].index, before[i].index);
        ck_assert_uint_eq(after[i].flags, before[i].flags);
    }
}

/* ---- tables ---- */

START_TEST(test_from_entries)
{
    struct kvm_cpuid_entry2 e[N_SYNTHETIC];
    struct kc_cpuid *c;

    memcpy(e, synthetic, sizeof(e));
    c = kc_cpuid_from_entries(e, N_SYNTHETIC);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(kc_cpuid_count(c), N_SYNTHETIC);
    ck_assert_mem_eq(kc_cpuid_entries(c), synthetic, sizeof(synthetic));
    /* A copy, not a reference to the caller's array. */
    ck_assert_ptr_ne(kc_cpuid_entries(c), e);
    e[1].ecx = 0;
    ck_assert_uint_eq(kc_cpuid_entries(c)[1].ecx, synthetic[1].ecx);
    kc_cpuid_free(c);

    c = kc_cpuid_from_entries(NULL, 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(kc_cpuid_count(c), 0);
    ck_assert_ptr_null(kc_cpuid_find(c, 0, 0));
    kc_cpuid_free(c);
}
END_TEST

START_TEST(test_copy_independent)
{
    struct kc_cpuid *a = make_table(), *b = kc_cpuid_copy(a);
    const struct kc_cpuid_change on = { feature("avx"), true };

    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(kc_cpuid_count(b), N_SYNTHETIC);
    ck_assert_mem_eq(kc_cpuid_entries(b), kc_cpuid_entries(a), sizeof(synthetic));
    ck_assert_ptr_ne(kc_cpuid_entries(b), kc_cpuid_entries(a));
    ck_assert(!kc_cpuid_has(a, on.feature));
    ck_assert_int_eq(kc_cpuid_apply(b, &on, 1, NULL), 0);
    ck_assert(kc_cpuid_has(b, on.feature));
    ck_assert_msg(!kc_cpuid_has(a, on.feature), "editing the copy changed the original");
    ck_assert_mem_eq(kc_cpuid_entries(a), synthetic, sizeof(synthetic));
    kc_cpuid_free(a);
    ck_assert(kc_cpuid_has(b, on.feature));
    kc_cpuid_free(b);
    kc_cpuid_free(NULL);
}
END_TEST

START_TEST(test_find_significant_index)
{
    struct kc_cpuid *c = make_table();
    const struct kvm_cpuid_entry2 *e = kc_cpuid_entries(c);

    ck_assert_ptr_eq(kc_cpuid_find(c, 0, 0), &e[0]);
    ck_assert_ptr_eq(kc_cpuid_find(c, 1, 0), &e[1]);
    /* No significant index: the subleaf is ignored. */
    ck_assert_ptr_eq(kc_cpuid_find(c, 1, 5), &e[1]);
    ck_assert_ptr_eq(kc_cpuid_find(c, 0x80000001, 0xffffffff), &e[6]);
    /* Significant index: the subleaf selects, and must exist. */
    ck_assert_ptr_eq(kc_cpuid_find(c, 7, 0), &e[2]);
    ck_assert_ptr_eq(kc_cpuid_find(c, 7, 1), &e[3]);
    ck_assert_ptr_null(kc_cpuid_find(c, 7, 2));
    ck_assert_ptr_eq(kc_cpuid_find(c, 0xd, 0), &e[4]);
    ck_assert_ptr_eq(kc_cpuid_find(c, 0xd, 1), &e[5]);
    ck_assert_ptr_null(kc_cpuid_find(c, 0xd, 2));
    /* Absent leaves. */
    ck_assert_ptr_null(kc_cpuid_find(c, 2, 0));
    ck_assert_ptr_null(kc_cpuid_find(c, 0x80000000, 0));
    ck_assert_ptr_null(kc_cpuid_find(c, 0x40000000, 0));
    kc_cpuid_free(c);
}
END_TEST

/* ---- feature names ---- */

START_TEST(test_feature_lookup)
{
    static const struct {
        const char *name;
        uint32_t leaf, subleaf;
        enum kc_cpuid_reg reg;
        uint8_t bit;
    } known[] = {
        { "fpu", 1, 0, KC_CPUID_EDX, 0 },
        { "sse2", 1, 0, KC_CPUID_EDX, 26 },
        { "avx", 1, 0, KC_CPUID_ECX, 28 },
        { "x2apic", 1, 0, KC_CPUID_ECX, 21 },
        { "hypervisor", 1, 0, KC_CPUID_ECX, 31 },
        { "avx2", 7, 0, KC_CPUID_EBX, 5 },
        { "la57", 7, 0, KC_CPUID_ECX, 16 },
        { "xsaves", 0xd, 1, KC_CPUID_EAX, 3 },
        { "lm", 0x80000001, 0, KC_CPUID_EDX, 29 },
        { "nx", 0x80000001, 0, KC_CPUID_EDX, 20 },
        { "lahf_lm", 0x80000001, 0, KC_CPUID_ECX, 0 },
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(known); i++) {
        const struct kc_cpu_feature *f = feature(known[i].name);

        ck_assert_str_eq(f->name, known[i].name);
        ck_assert_msg(f->leaf == known[i].leaf && f->subleaf == known[i].subleaf &&
                          f->reg == known[i].reg && f->bit == known[i].bit,
                      "'%s' is at 0x%x.%u reg %d bit %u, want 0x%x.%u reg %d bit %u", f->name,
                      f->leaf, f->subleaf, f->reg, f->bit, known[i].leaf, known[i].subleaf,
                      known[i].reg, known[i].bit);
    }
    ck_assert_ptr_null(kc_cpu_feature_lookup("no_such_feature"));
    ck_assert_ptr_null(kc_cpu_feature_lookup(""));
    /* Case matters, and a prefix is not a match. */
    ck_assert_ptr_null(kc_cpu_feature_lookup("AVX"));
    ck_assert_ptr_null(kc_cpu_feature_lookup("Lm"));
    ck_assert_ptr_null(kc_cpu_feature_lookup("av"));
    ck_assert_ptr_null(kc_cpu_feature_lookup("avx "));
}
END_TEST

START_TEST(test_feature_table_sane)
{
    unsigned n = 0;
    const struct kc_cpu_feature *t = kc_cpu_feature_table(&n);

    ck_assert_ptr_nonnull(t);
    ck_assert_uint_ge(n, 50);
    for (unsigned i = 0; i < n; i++) {
        ck_assert_msg(t[i].name && t[i].name[0], "entry %u has no name", i);
        ck_assert_msg(t[i].bit < 32, "'%s' has bit %u", t[i].name, t[i].bit);
        ck_assert_msg(t[i].reg <= KC_CPUID_EDX, "'%s' has reg %d", t[i].name, t[i].reg);
        ck_assert_msg(kc_cpu_feature_lookup(t[i].name) == &t[i],
                      "lookup of '%s' does not give its table entry", t[i].name);
        for (unsigned j = 0; j < i; j++) {
            ck_assert_msg(strcmp(t[i].name, t[j].name) != 0, "'%s' appears twice", t[i].name);
            ck_assert_msg(!(t[i].leaf == t[j].leaf && t[i].subleaf == t[j].subleaf &&
                            t[i].reg == t[j].reg && t[i].bit == t[j].bit),
                          "'%s' and '%s' name the same bit", t[i].name, t[j].name);
        }
    }
}
END_TEST

/* ---- kc_cpuid_has / kc_cpuid_apply ---- */

START_TEST(test_has)
{
    struct kc_cpuid *c = make_table(), *no7 = make_table_without_leaf7();

    /* leaf 1 ECX 0xa5a5a5a5: bit 21 set, bit 28 clear. */
    ck_assert(kc_cpuid_has(c, feature("x2apic")));
    ck_assert(!kc_cpuid_has(c, feature("avx")));
    /* leaf 0xd.1 EAX 0xa: bits 1 and 3. */
    ck_assert(kc_cpuid_has(c, feature("xsaves")));
    ck_assert(kc_cpuid_has(c, feature("xsavec")));
    ck_assert(!kc_cpuid_has(c, feature("xsaveopt")));
    /* 0x80000001 EDX 0xa5a5a5a5: bit 29 set (lm), bit 20 clear (nx). */
    ck_assert(kc_cpuid_has(c, feature("lm")));
    ck_assert(!kc_cpuid_has(c, feature("nx")));
    /* leaf 7.0 EBX 0x5a5a5a5a: bit 4 set (hle); absent leaf is false. */
    ck_assert(kc_cpuid_has(c, feature("hle")));
    ck_assert(!kc_cpuid_has(no7, feature("hle")));
    kc_cpuid_free(c);
    kc_cpuid_free(no7);
}
END_TEST

/* Every feature whose leaf is in the table: on, then off, one bit each. */
START_TEST(test_apply_exact_bit)
{
    unsigned n;
    const struct kc_cpu_feature *t = kc_cpu_feature_table(&n);
    unsigned tried = 0;

    for (unsigned i = 0; i < n; i++) {
        int idx = synthetic_index(&t[i]);
        struct kc_cpuid *c;

        if (idx < 0)
            continue;
        for (int value = 0; value <= 1; value++) {
            const struct kc_cpuid_change ch = { &t[i], value };

            c = make_table();
            ck_assert_int_eq(kc_cpuid_apply(c, &ch, 1, NULL), 0);
            assert_only_bit(synthetic, kc_cpuid_entries(c), N_SYNTHETIC, &t[i], idx, value);
            ck_assert(kc_cpuid_has(c, &t[i]) == (bool)value);
            kc_cpuid_free(c);
        }
        tried++;
    }
    ck_assert_uint_ge(tried, 50);
}
END_TEST

START_TEST(test_apply_list)
{
    struct kc_cpuid *c = make_table();
    const struct kc_cpuid_change changes[] = {
        { feature("avx"), true },     { feature("x2apic"), false }, { feature("nx"), true },
        { feature("xsaves"), false }, { feature("avx"), false },    { feature("avx"), true },
    };
    const struct kvm_cpuid_entry2 *e = kc_cpuid_entries(c);

    ck_assert_int_eq(kc_cpuid_apply(c, changes, KCI_ARRAY_SIZE(changes), NULL), 0);
    /* Applied in order: the last word on avx wins. */
    ck_assert_uint_eq(e[1].ecx, (0xa5a5a5a5 | 1u << 28) & ~(1u << 21));
    ck_assert_uint_eq(e[6].edx, 0xa5a5a5a5 | 1u << 20);
    ck_assert_uint_eq(e[5].eax, 0x2);
    ck_assert_int_eq(kc_cpuid_apply(c, NULL, 0, NULL), 0);
    kc_cpuid_free(c);
}
END_TEST

START_TEST(test_clear_absent_leaf)
{
    struct kc_cpuid *c = make_table_without_leaf7();
    const struct kc_cpuid_change ch[] = { { feature("avx2"), false }, { feature("avx"), true } };
    struct log_capture log;
    struct kvm_cpuid_entry2 before[N_SYNTHETIC];
    unsigned n = kc_cpuid_count(c);

    log_capture_init(&log);
    memcpy(before, kc_cpuid_entries(c), n * sizeof(before[0]));
    ck_assert_int_eq(kc_cpuid_apply(c, ch, 1, &log.logger), 0);
    ck_assert_mem_eq(kc_cpuid_entries(c), before, n * sizeof(before[0]));
    /* Together with a valid change, which still happens. */
    ck_assert_int_eq(kc_cpuid_apply(c, ch, 2, &log.logger), 0);
    ck_assert(kc_cpuid_has(c, ch[1].feature));
    ck_assert_uint_eq(log.count, 0);
    kc_cpuid_free(c);
}
END_TEST

START_TEST(test_enable_absent_is_atomic)
{
    struct kc_cpuid *c = make_table_without_leaf7();
    const struct kc_cpuid_change ch[] = {
        { feature("avx"), true },     /* valid */
        { feature("x2apic"), false }, /* valid */
        { feature("avx2"), true },    /* leaf 7 absent */
        { feature("nx"), true },      /* valid, after the bad one */
    };
    struct log_capture log;
    struct kvm_cpuid_entry2 before[N_SYNTHETIC];
    unsigned n = kc_cpuid_count(c);

    log_capture_init(&log);
    memcpy(before, kc_cpuid_entries(c), n * sizeof(before[0]));
    ck_assert_int_eq(kc_cpuid_apply(c, ch, KCI_ARRAY_SIZE(ch), &log.logger), -ENOENT);
    ck_assert_msg(log.count == 1 && log_has(&log, "'avx2'"), "one message naming avx2 expected: %s",
                  log.text);
    ck_assert_msg(memcmp(kc_cpuid_entries(c), before, n * sizeof(before[0])) == 0,
                  "a refused list must leave the table unchanged");
    kc_cpuid_free(c);
}
END_TEST

START_TEST(test_null_feature)
{
    struct kc_cpuid *c = make_table();
    const struct kc_cpuid_change ch[] = { { feature("avx"), true }, { NULL, true } };
    struct log_capture log;

    log_capture_init(&log);
    ck_assert_int_eq(kc_cpuid_apply(c, ch, 2, &log.logger), -EINVAL);
    ck_assert_uint_eq(log.count, 1);
    ck_assert_mem_eq(kc_cpuid_entries(c), synthetic, sizeof(synthetic));
    ck_assert_int_eq(kc_cpuid_apply(c, &ch[1], 1, &log.logger), -EINVAL);
    ck_assert_mem_eq(kc_cpuid_entries(c), synthetic, sizeof(synthetic));
    kc_cpuid_free(c);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cpuid");
    TCase *table = tcase_create("table");
    TCase *features = tcase_create("features");
    TCase *apply = tcase_create("apply");

    tcase_add_test(table, test_from_entries);
    tcase_add_test(table, test_copy_independent);
    tcase_add_test(table, test_find_significant_index);
    suite_add_tcase(s, table);

    tcase_add_test(features, test_feature_lookup);
    tcase_add_test(features, test_feature_table_sane);
    suite_add_tcase(s, features);

    tcase_add_test(apply, test_has);
    tcase_add_test(apply, test_apply_exact_bit);
    tcase_add_test(apply, test_apply_list);
    tcase_add_test(apply, test_clear_absent_leaf);
    tcase_add_test(apply, test_enable_absent_is_atomic);
    tcase_add_test(apply, test_null_feature);
    suite_add_tcase(s, apply);
    return s;
}

const bool test_needs_kvm = false;
