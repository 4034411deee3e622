/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opening /dev/kvm and checking that it can run what the library builds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "internal.h"

#define KVM_DEFAULT_PATH "/dev/kvm"

const struct kci_required_cap kci_required_caps[] = {
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM in user memory" },
    { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "real-mode support" },
    { KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", "real-mode support" },
    { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "CPUID configuration" },
    { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the in-kernel interrupt controllers" },
    { KVM_CAP_PIT2, "KVM_CAP_PIT2", "the in-kernel timer" },
    { KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", "MSI routes" },
    { KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "interrupts from eventfds" },
    { KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "notifications without exits" },
    { KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI", "MSI injection" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "race-free vCPU kicks" },
    { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "vCPU power state" },
    { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS", "exception state" },
};
const unsigned kci_required_caps_count = KCI_ARRAY_SIZE(kci_required_caps);

void kc_kvm_config_init(struct kc_kvm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->path = NULL;
    cfg->fd = -1;
    cfg->log = KC_LOGGER_DEFAULT;
}

int kci_kvm_open_error(const struct kc_logger *log, const char *path, int err)
{
    switch (err) {
    case ENOENT:
        KCI_ERR(log,
                "cannot open %s: %s: KVM is not available on this host; load the module "
                "(modprobe kvm_intel or kvm_amd) and enable virtualization (VT-x/AMD-V) "
                "in the firmware",
                path, strerror(err));
        break;
    case EACCES:
    case EPERM:
        KCI_ERR(log,
                "cannot open %s: %s: add this user to the group that owns it "
                "(usermod -aG kvm USER, then log in again), or run as root",
                path, strerror(err));
        break;
    case ENXIO:
    case ENODEV:
        KCI_ERR(log, "cannot open %s: %s: the device node exists but no KVM module is loaded", path,
                strerror(err));
        break;
    default:
        KCI_ERR(log, "cannot open %s: %s", path, strerror(err));
        break;
    }
    return -err;
}

int kci_kvm_validate(const struct kc_logger *log, const char *what, int api_version,
                     int (*has_cap)(void *opaque, long cap), void *opaque)
{
    if (api_version != KVM_API_VERSION) {
        KCI_ERR(log, "%s: KVM API version %d, this library needs version %d", what, api_version,
                KVM_API_VERSION);
        return -EPROTO;
    }
    for (unsigned i = 0; i < kci_required_caps_count; i++) {
        const struct kci_required_cap *c = &kci_required_caps[i];

        if (has_cap(opaque, c->cap) <= 0) {
            KCI_ERR(log,
                    "%s: missing capability %s (needed for %s); a newer host kernel is "
                    "required",
                    what, c->name, c->why);
            return -ENOTSUP;
        }
    }
    return 0;
}

static int fd_has_cap(void *opaque, long cap)
{
    int fd = *(int *)opaque;
    int ret = ioctl(fd, KVM_CHECK_EXTENSION, cap);

    return ret < 0 ? 0 : ret;
}

struct kc_kvm *kc_kvm_open(const struct kc_kvm_config *cfg)
{
    struct kc_kvm_config def;
    const char *path, *what;
    char fd_name[48];
    struct kc_kvm *kvm;
    int fd, ret;

    if (!cfg) {
        kc_kvm_config_init(&def);
        cfg = &def;
    }
    path = cfg->path ? cfg->path : KVM_DEFAULT_PATH;
    if (cfg->fd >= 0) {
        fd = cfg->fd;
        snprintf(fd_name, sizeof(fd_name), "KVM file descriptor %d", fd);
        what = fd_name;
    } else {
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            kci_kvm_open_error(&cfg->log, path, errno);
            return NULL;
        }
        what = path;
    }

    ret = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (ret < 0) {
        KCI_ERR(&cfg->log, "%s is not a KVM device: KVM_GET_API_VERSION: %s", what,
                strerror(errno));
        goto fail_fd;
    }
    if (kci_kvm_validate(&cfg->log, what, ret, fd_has_cap, &fd) < 0)
        goto fail_fd;

    kvm = calloc(1, sizeof(*kvm));
    if (!kvm) {
        KCI_ERR(&cfg->log, "%s: out of memory", what);
        goto fail_fd;
    }
    kvm->fd = fd;
    kvm->api_version = ret;
    kvm->log = cfg->log;
    pthread_mutex_init(&kvm->cpuid_lock, NULL);
    kvm->vcpu_mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
        KCI_ERR(&cfg->log, "%s: KVM_GET_VCPU_MMAP_SIZE returned %d", what, kvm->vcpu_mmap_size);
        pthread_mutex_destroy(&kvm->cpuid_lock);
        free(kvm);
        goto fail_fd;
    }
    return kvm;

fail_fd:
    if (cfg->fd < 0)
        close(fd);
    return NULL;
}

void kc_kvm_close(struct kc_kvm *kvm)
{
    if (!kvm)
        return;
    kc_cpuid_free(kvm->supported_cpuid);
    pthread_mutex_destroy(&kvm->cpuid_lock);
    close(kvm->fd);
    free(kvm);
}

int kc_kvm_fd(const struct kc_kvm *kvm)
{
    return kvm->fd;
}

int kc_kvm_api_version(const struct kc_kvm *kvm)
{
    return kvm->api_version;
}

int kc_kvm_check_cap(const struct kc_kvm *kvm, long cap)
{
    int ret = ioctl(kvm->fd, KVM_CHECK_EXTENSION, cap);

    return ret < 0 ? 0 : ret;
}

int kc_kvm_nr_vcpus(const struct kc_kvm *kvm)
{
    int n = kc_kvm_check_cap(kvm, KVM_CAP_NR_VCPUS);

    /* The API documents 4 as the answer when the capability is absent. */
    return n > 0 ? n : 4;
}

int kc_kvm_max_vcpus(const struct kc_kvm *kvm)
{
    int n = kc_kvm_check_cap(kvm, KVM_CAP_MAX_VCPUS);

    return n > 0 ? n : kc_kvm_nr_vcpus(kvm);
}

int kc_kvm_msr_index_list(const struct kc_kvm *kvm, uint32_t *out, unsigned max)
{
    struct kvm_msr_list probe = { .nmsrs = 0 };
    struct kvm_msr_list *list;
    unsigned n;
    int ret;

    /* The first call fails with E2BIG and says how many there are. */
    ret = kci_ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, &probe);
    if (ret < 0 && ret != -E2BIG) {
        KCI_ERR(&kvm->log, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
        return ret;
    }
    list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
    if (!list) {
        KCI_ERR(&kvm->log, "KVM_GET_MSR_INDEX_LIST: out of memory");
        return -ENOMEM;
    }
    list->nmsrs = probe.nmsrs;
    ret = kci_ioctl(kvm->fd, KVM_GET_MSR_INDEX_LIST, list);
    if (ret < 0) {
        KCI_ERR(&kvm->log, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
        free(list);
        return ret;
    }
    n = list->nmsrs < max ? list->nmsrs : max;
    memcpy(out, list->indices, n * sizeof(*out));
    free(list);
    return (int)n;
}

const struct kc_logger *kc_kvm_logger(const struct kc_kvm *kvm)
{
    return &kvm->log;
}

const char *kc_version(void)
{
    return KVMCORE_VERSION;
}
