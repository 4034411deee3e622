/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The KVM system handle: one open /dev/kvm, its capabilities, and the
 * logger that every object created from it reports errors to.
 */
#ifndef KVMCORE_KVM_H
#define KVMCORE_KVM_H

#include <stdint.h>

#include <kvmcore/log.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kc_kvm_config {
    /* Path to open when fd < 0; NULL means "/dev/kvm". */
    const char *path;
    /*
     * An already-open /dev/kvm descriptor (for an unprivileged process that
     * was handed one), or -1. On success the kc_kvm owns it and closes it;
     * on failure it is left open for the caller.
     */
    int fd;
    /* Where messages go (default: KC_LOGGER_DEFAULT). */
    struct kc_logger log;
};

/* Fills a config with the defaults described above. */
void kc_kvm_config_init(struct kc_kvm_config *cfg);

struct kc_kvm;

/*
 * Opens KVM and checks the API version and every capability the library
 * needs. Each way this can fail is reported with its fix: no /dev/kvm,
 * permission denied, a descriptor that is not /dev/kvm, an API version
 * mismatch, a missing capability (named).
 */
struct kc_kvm *kc_kvm_open(const struct kc_kvm_config *cfg);
void kc_kvm_close(struct kc_kvm *kvm);

int kc_kvm_fd(const struct kc_kvm *kvm);
int kc_kvm_api_version(const struct kc_kvm *kvm);

/* KVM_CHECK_EXTENSION on the system fd: > 0 when present, 0 when absent. */
int kc_kvm_check_cap(const struct kc_kvm *kvm, long cap);

/* Recommended and maximum vCPU counts (KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS). */
int kc_kvm_nr_vcpus(const struct kc_kvm *kvm);
int kc_kvm_max_vcpus(const struct kc_kvm *kvm);

/*
 * The MSRs KVM saves and restores for a vCPU (KVM_GET_MSR_INDEX_LIST), for
 * code that snapshots vCPU state. Returns how many indices it wrote to
 * `out` (at most `max`), or -errno.
 */
int kc_kvm_msr_index_list(const struct kc_kvm *kvm, uint32_t *out, unsigned max);

/* The logger given at open, for code layered on the library. */
const struct kc_logger *kc_kvm_logger(const struct kc_kvm *kvm);

#ifdef __cplusplus
}
#endif

#endif
