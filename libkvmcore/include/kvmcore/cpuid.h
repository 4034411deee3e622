/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPUID tables: the host's supported set from KVM_GET_SUPPORTED_CPUID,
 * edited by feature name before it is given to a vCPU.
 */
#ifndef KVMCORE_CPUID_H
#define KVMCORE_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <kvmcore/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kc_cpuid_reg {
    KC_CPUID_EAX,
    KC_CPUID_EBX,
    KC_CPUID_ECX,
    KC_CPUID_EDX,
};

/* A named feature bit, with the names Linux shows in /proc/cpuinfo. */
struct kc_cpu_feature {
    const char *name;
    uint32_t leaf;
    uint32_t subleaf;
    enum kc_cpuid_reg reg;
    uint8_t bit;
};

/* The feature called `name`, or NULL. Case-sensitive, as Linux's names are. */
const struct kc_cpu_feature *kc_cpu_feature_lookup(const char *name);
/* The table, for listing; *count receives its length. */
const struct kc_cpu_feature *kc_cpu_feature_table(unsigned *count);

struct kc_cpuid;

/* A copy of KVM_GET_SUPPORTED_CPUID; free with kc_cpuid_free(). */
struct kc_cpuid *kc_cpuid_supported(struct kc_kvm *kvm);
/* A table made from given entries (tests, saved state). */
struct kc_cpuid *kc_cpuid_from_entries(const struct kvm_cpuid_entry2 *entries, unsigned n);
struct kc_cpuid *kc_cpuid_copy(const struct kc_cpuid *cpuid);
void kc_cpuid_free(struct kc_cpuid *cpuid);

unsigned kc_cpuid_count(const struct kc_cpuid *cpuid);
const struct kvm_cpuid_entry2 *kc_cpuid_entries(const struct kc_cpuid *cpuid);
/* The entry for (leaf, subleaf); subleaf is ignored for leaves that have
 * none. NULL if absent. */
struct kvm_cpuid_entry2 *kc_cpuid_find(struct kc_cpuid *cpuid, uint32_t leaf, uint32_t subleaf);

/* Whether the feature bit is set; false if its leaf is absent. */
bool kc_cpuid_has(const struct kc_cpuid *cpuid, const struct kc_cpu_feature *f);

struct kc_cpuid_change {
    const struct kc_cpu_feature *feature;
    bool enable;
};

/*
 * Sets or clears each listed feature. Clearing a feature whose leaf is
 * absent succeeds (it is not there); setting one is -ENOENT, logged with
 * the feature's name, and leaves the table unchanged.
 */
int kc_cpuid_apply(struct kc_cpuid *cpuid, const struct kc_cpuid_change *changes, unsigned n,
                   const struct kc_logger *log);

#ifdef __cplusplus
}
#endif

#endif
