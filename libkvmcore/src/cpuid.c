/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPUID tables: the host's supported set, edited by feature name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

#define F(n, l, s, r, b)                                                                           \
    {                                                                                              \
        n, l, s, KC_CPUID_##r, b                                                                   \
    }

/* Names as Linux prints them in /proc/cpuinfo. */
static const struct kc_cpu_feature features[] = {
    /* leaf 1, EDX */
    F("fpu", 1, 0, EDX, 0),
    F("vme", 1, 0, EDX, 1),
    F("de", 1, 0, EDX, 2),
    F("pse", 1, 0, EDX, 3),
    F("tsc", 1, 0, EDX, 4),
    F("msr", 1, 0, EDX, 5),
    F("pae", 1, 0, EDX, 6),
    F("mce", 1, 0, EDX, 7),
    F("cx8", 1, 0, EDX, 8),
    F("apic", 1, 0, EDX, 9),
    F("sep", 1, 0, EDX, 11),
    F("mtrr", 1, 0, EDX, 12),
    F("pge", 1, 0, EDX, 13),
    F("mca", 1, 0, EDX, 14),
    F("cmov", 1, 0, EDX, 15),
    F("pat", 1, 0, EDX, 16),
    F("pse36", 1, 0, EDX, 17),
    F("clflush", 1, 0, EDX, 19),
    F("mmx", 1, 0, EDX, 23),
    F("fxsr", 1, 0, EDX, 24),
    F("sse", 1, 0, EDX, 25),
    F("sse2", 1, 0, EDX, 26),
    F("ht", 1, 0, EDX, 28),
    /* leaf 1, ECX */
    F("pni", 1, 0, ECX, 0),
    F("pclmulqdq", 1, 0, ECX, 1),
    F("monitor", 1, 0, ECX, 3),
    F("vmx", 1, 0, ECX, 5),
    F("ssse3", 1, 0, ECX, 9),
    F("fma", 1, 0, ECX, 12),
    F("cx16", 1, 0, ECX, 13),
    F("pdcm", 1, 0, ECX, 15),
    F("pcid", 1, 0, ECX, 17),
    F("sse4_1", 1, 0, ECX, 19),
    F("sse4_2", 1, 0, ECX, 20),
    F("x2apic", 1, 0, ECX, 21),
    F("movbe", 1, 0, ECX, 22),
    F("popcnt", 1, 0, ECX, 23),
    F("tsc_deadline_timer", 1, 0, ECX, 24),
    F("aes", 1, 0, ECX, 25),
    F("xsave", 1, 0, ECX, 26),
    F("avx", 1, 0, ECX, 28),
    F("f16c", 1, 0, ECX, 29),
    F("rdrand", 1, 0, ECX, 30),
    F("hypervisor", 1, 0, ECX, 31),
    /* leaf 7.0, EBX */
    F("fsgsbase", 7, 0, EBX, 0),
    F("tsc_adjust", 7, 0, EBX, 1),
    F("bmi1", 7, 0, EBX, 3),
    F("hle", 7, 0, EBX, 4),
    F("avx2", 7, 0, EBX, 5),
    F("smep", 7, 0, EBX, 7),
    F("bmi2", 7, 0, EBX, 8),
    F("erms", 7, 0, EBX, 9),
    F("invpcid", 7, 0, EBX, 10),
    F("rtm", 7, 0, EBX, 11),
    F("mpx", 7, 0, EBX, 14),
    F("avx512f", 7, 0, EBX, 16),
    F("avx512dq", 7, 0, EBX, 17),
    F("rdseed", 7, 0, EBX, 18),
    F("adx", 7, 0, EBX, 19),
    F("smap", 7, 0, EBX, 20),
    F("clflushopt", 7, 0, EBX, 23),
    F("clwb", 7, 0, EBX, 24),
    F("avx512cd", 7, 0, EBX, 28),
    F("sha_ni", 7, 0, EBX, 29),
    F("avx512bw", 7, 0, EBX, 30),
    F("avx512vl", 7, 0, EBX, 31),
    /* leaf 7.0, ECX */
    F("avx512vbmi", 7, 0, ECX, 1),
    F("umip", 7, 0, ECX, 2),
    F("pku", 7, 0, ECX, 3),
    F("ospke", 7, 0, ECX, 4),
    F("waitpkg", 7, 0, ECX, 5),
    F("gfni", 7, 0, ECX, 8),
    F("vaes", 7, 0, ECX, 9),
    F("vpclmulqdq", 7, 0, ECX, 10),
    F("la57", 7, 0, ECX, 16),
    F("rdpid", 7, 0, ECX, 22),
    /* leaf 7.0, EDX */
    F("md_clear", 7, 0, EDX, 10),
    F("serialize", 7, 0, EDX, 14),
    F("flush_l1d", 7, 0, EDX, 28),
    F("arch_capabilities", 7, 0, EDX, 29),
    F("ssbd", 7, 0, EDX, 31),
    /* leaf 0xd.1, EAX */
    F("xsaveopt", 0xd, 1, EAX, 0),
    F("xsavec", 0xd, 1, EAX, 1),
    F("xgetbv1", 0xd, 1, EAX, 2),
    F("xsaves", 0xd, 1, EAX, 3),
    /* leaf 0x80000001, ECX */
    F("lahf_lm", 0x80000001, 0, ECX, 0),
    F("svm", 0x80000001, 0, ECX, 2),
    F("abm", 0x80000001, 0, ECX, 5),
    F("sse4a", 0x80000001, 0, ECX, 6),
    F("misalignsse", 0x80000001, 0, ECX, 7),
    F("3dnowprefetch", 0x80000001, 0, ECX, 8),
    F("topoext", 0x80000001, 0, ECX, 22),
    /* leaf 0x80000001, EDX */
    F("syscall", 0x80000001, 0, EDX, 11),
    F("nx", 0x80000001, 0, EDX, 20),
    F("mmxext", 0x80000001, 0, EDX, 22),
    F("pdpe1gb", 0x80000001, 0, EDX, 26),
    F("rdtscp", 0x80000001, 0, EDX, 27),
    F("lm", 0x80000001, 0, EDX, 29),
};

const struct kc_cpu_feature *kc_cpu_feature_lookup(const char *name)
{
    for (unsigned i = 0; i < KCI_ARRAY_SIZE(features); i++)
        if (strcmp(features[i].name, name) == 0)
            return &features[i];
    return NULL;
}

const struct kc_cpu_feature *kc_cpu_feature_table(unsigned *count)
{
    *count = KCI_ARRAY_SIZE(features);
    return features;
}

static struct kc_cpuid *cpuid_alloc(unsigned n)
{
    struct kc_cpuid *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

    if (c)
        c->n = n;
    return c;
}

struct kc_cpuid *kc_cpuid_from_entries(const struct kvm_cpuid_entry2 *entries, unsigned n)
{
    struct kc_cpuid *c = cpuid_alloc(n);

    if (c && n)
        memcpy(c->entries, entries, n * sizeof(*entries));
    return c;
}

struct kc_cpuid *kc_cpuid_copy(const struct kc_cpuid *cpuid)
{
    return kc_cpuid_from_entries(cpuid->entries, cpuid->n);
}

void kc_cpuid_free(struct kc_cpuid *cpuid)
{
    free(cpuid);
}

/* KVM_GET_SUPPORTED_CPUID, growing the buffer until it fits. */
static struct kc_cpuid *fetch_supported(struct kc_kvm *kvm)
{
    for (unsigned cap = 64; cap <= 4096; cap *= 2) {
        struct kvm_cpuid2 *k = calloc(1, sizeof(*k) + cap * sizeof(k->entries[0]));
        struct kc_cpuid *c;
        int ret;

        if (!k)
            break;
        k->nent = cap;
        ret = kci_ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, k);
        if (ret == -E2BIG) {
            free(k);
            continue;
        }
        if (ret < 0) {
            KCI_ERR(&kvm->log, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-ret));
            free(k);
            return NULL;
        }
        c = kc_cpuid_from_entries(k->entries, k->nent);
        free(k);
        if (!c)
            break;
        return c;
    }
    KCI_ERR(&kvm->log, "KVM_GET_SUPPORTED_CPUID: out of memory");
    return NULL;
}

struct kc_cpuid *kc_cpuid_supported(struct kc_kvm *kvm)
{
    struct kc_cpuid *copy = NULL;

    pthread_mutex_lock(&kvm->cpuid_lock);
    if (!kvm->supported_cpuid)
        kvm->supported_cpuid = fetch_supported(kvm);
    if (kvm->supported_cpuid) {
        copy = kc_cpuid_copy(kvm->supported_cpuid);
        if (!copy)
            KCI_ERR(&kvm->log, "CPUID table: out of memory");
    }
    pthread_mutex_unlock(&kvm->cpuid_lock);
    return copy;
}

unsigned kc_cpuid_count(const struct kc_cpuid *cpuid)
{
    return cpuid->n;
}

const struct kvm_cpuid_entry2 *kc_cpuid_entries(const struct kc_cpuid *cpuid)
{
    return cpuid->entries;
}

struct kvm_cpuid_entry2 *kc_cpuid_find(struct kc_cpuid *cpuid, uint32_t leaf, uint32_t subleaf)
{
    for (unsigned i = 0; i < cpuid->n; i++) {
        struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

        if (e->function != leaf)
            continue;
        if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == subleaf)
            return e;
    }
    return NULL;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum kc_cpuid_reg reg)
{
    switch (reg) {
    case KC_CPUID_EAX:
        return &e->eax;
    case KC_CPUID_EBX:
        return &e->ebx;
    case KC_CPUID_ECX:
        return &e->ecx;
    default:
        return &e->edx;
    }
}

bool kc_cpuid_has(const struct kc_cpuid *cpuid, const struct kc_cpu_feature *f)
{
    struct kvm_cpuid_entry2 *e = kc_cpuid_find((struct kc_cpuid *)cpuid, f->leaf, f->subleaf);

    return e && (*reg_of(e, f->reg) >> f->bit) & 1;
}

int kc_cpuid_apply(struct kc_cpuid *cpuid, const struct kc_cpuid_change *changes, unsigned n,
                   const struct kc_logger *log)
{
    /* Check everything first, so that a refused list changes nothing. */
    for (unsigned i = 0; i < n; i++) {
        const struct kc_cpu_feature *f = changes[i].feature;

        if (!f) {
            KCI_ERR(log, "CPUID change %u names no feature", i);
            return -EINVAL;
        }
        if (changes[i].enable && !kc_cpuid_find(cpuid, f->leaf, f->subleaf)) {
            KCI_ERR(log, "cannot enable CPU feature '%s': CPUID leaf 0x%x.%u is not in the table",
                    f->name, f->leaf, f->subleaf);
            return -ENOENT;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        const struct kc_cpu_feature *f = changes[i].feature;
        struct kvm_cpuid_entry2 *e = kc_cpuid_find(cpuid, f->leaf, f->subleaf);
        uint32_t *r;

        if (!e)
            continue;
        r = reg_of(e, f->reg);
        if (changes[i].enable)
            *r |= 1u << f->bit;
        else
            *r &= ~(1u << f->bit);
    }
    return 0;
}

int kc_vcpu_set_cpuid(struct kc_vcpu *vcpu, const struct kc_cpuid *cpuid)
{
    struct kvm_cpuid2 *k;
    int ret;

    k = calloc(1, sizeof(*k) + cpuid->n * sizeof(k->entries[0]));
    if (!k) {
        KCI_ERR(&vcpu->vm->log, "vCPU %u: out of memory for CPUID", vcpu->id);
        return -ENOMEM;
    }
    k->nent = cpuid->n;
    memcpy(k->entries, cpuid->entries, cpuid->n * sizeof(k->entries[0]));
    for (unsigned i = 0; i < k->nent; i++) {
        struct kvm_cpuid_entry2 *e = &k->entries[i];

        switch (e->function) {
        case 1:
            /* Initial APIC id in EBX[31:24]; we run under a hypervisor. */
            e->ebx = (e->ebx & 0x00ffffff) | (vcpu->id << 24);
            e->ecx |= 1u << 31;
            break;
        case 0xb:
        case 0x1f:
            /* x2APIC id of this logical processor, every subleaf. */
            e->edx = vcpu->id;
            break;
        default:
            break;
        }
    }
    ret = kci_ioctl(vcpu->fd, KVM_SET_CPUID2, k);
    if (ret < 0)
        KCI_ERR(&vcpu->vm->log, "vCPU %u: KVM_SET_CPUID2 with %u entries: %s%s", vcpu->id, k->nent,
                strerror(-ret),
                ret == -EBUSY ? " (CPUID cannot change after the vCPU has run)" : "");
    free(k);
    return ret < 0 ? ret : 0;
}
