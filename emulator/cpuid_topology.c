/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPUID topology for --smp N: N cores of one thread each in one package.
 * KVM's supported table describes the host's topology, which a guest would
 * otherwise believe (and, e.g., expect hyperthread siblings that do not
 * exist).
 */
#include "cpu.h"

static unsigned log2_ceil(unsigned n)
{
    unsigned s = 0;

    while ((1u << s) < n)
        s++;
    return s;
}

void em_cpuid_set_topology(struct kc_cpuid *cpuid, unsigned n)
{
    unsigned shift = log2_ceil(n);
    struct kvm_cpuid_entry2 *e = kc_cpuid_find(cpuid, 1, 0);
    /* kc_cpuid_find() ignores the subleaf of leaves that have none, so
     * walk the array for the subleaf-indexed leaves. */
    struct kvm_cpuid_entry2 *all = (struct kvm_cpuid_entry2 *)kc_cpuid_entries(cpuid);

    if (e) {
        e->ebx = (e->ebx & ~0x00ff0000u) | ((n > 255 ? 255 : n) << 16);
        if (n > 1)
            e->edx |= 1u << 28; /* HTT: more than one logical CPU per package */
        else
            e->edx &= ~(1u << 28);
    }
    for (unsigned i = 0; i < kc_cpuid_count(cpuid); i++) {
        e = &all[i];
        if (e->function == 4 && (e->eax & 0x1f)) {
            unsigned level = (e->eax >> 5) & 7;
            unsigned sharing = level >= 3 ? n - 1 : 0;

            e->eax =
                (e->eax & 0x3fff) | ((sharing & 0xfff) << 14) | (((n - 1) > 63 ? 63 : n - 1) << 26);
        } else if (e->function == 0xb || e->function == 0x1f) {
            /* Level 0: one thread per core. Level 1: n cores. */
            if (e->index == 0) {
                e->eax = 0;
                e->ebx = 1;
                e->ecx = (1u << 8) | 0;
            } else if (e->index == 1) {
                e->eax = shift;
                e->ebx = n;
                e->ecx = (2u << 8) | 1;
            } else {
                e->eax = e->ebx = 0;
                e->ecx = e->index;
            }
        } else if (e->function == 0x80000008) {
            e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | ((n - 1) & 0xff);
        }
    }
}
