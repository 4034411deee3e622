/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating vCPUs and moving their architectural state in and out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "internal.h"

static int vcpu_add_to_vm(struct kc_vm *vm, struct kc_vcpu *vcpu)
{
    int ret = 0;

    pthread_mutex_lock(&vm->run_lock);
    if (vm->nr_vcpus == vm->cap_vcpus) {
        unsigned cap = vm->cap_vcpus ? vm->cap_vcpus * 2 : 4;
        struct kc_vcpu **v = realloc(vm->vcpus, cap * sizeof(*v));

        if (!v) {
            ret = -ENOMEM;
            goto out;
        }
        vm->vcpus = v;
        vm->cap_vcpus = cap;
    }
    vm->vcpus[vm->nr_vcpus++] = vcpu;
out:
    pthread_mutex_unlock(&vm->run_lock);
    return ret;
}

struct kc_vcpu *kc_vcpu_create(struct kc_vm *vm, unsigned id)
{
    struct kc_cpuid *cpuid;
    struct kc_vcpu *vcpu;
    int ret, max = kc_kvm_max_vcpus(vm->kvm);

    if (id >= (unsigned)max) {
        KCI_ERR(&vm->log, "vCPU %u: this host allows vCPU ids below %d", id, max);
        return NULL;
    }
    if (kci_vm_realize_irqchip(vm) < 0)
        return NULL;
    vcpu = calloc(1, sizeof(*vcpu));
    if (!vcpu) {
        KCI_ERR(&vm->log, "vCPU %u: out of memory", id);
        return NULL;
    }
    vcpu->vm = vm;
    vcpu->id = id;
    vcpu->run = MAP_FAILED;
    vcpu->run_size = vm->kvm->vcpu_mmap_size;

    ret = kci_ioctl(vm->fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);
    if (ret < 0) {
        KCI_ERR(&vm->log, "vCPU %u: KVM_CREATE_VCPU: %s", id,
                ret == -EEXIST ? "a vCPU with this id exists" : strerror(-ret));
        vcpu->fd = -1;
        goto fail;
    }
    vcpu->fd = ret;
    vcpu->run = mmap(NULL, (size_t)vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
    if (vcpu->run == MAP_FAILED) {
        KCI_ERR(&vm->log, "vCPU %u: mmap of kvm_run: %s", id, strerror(errno));
        goto fail;
    }
    cpuid = kc_cpuid_supported(vm->kvm);
    if (!cpuid)
        goto fail;
    ret = kc_vcpu_set_cpuid(vcpu, cpuid);
    kc_cpuid_free(cpuid);
    if (ret < 0)
        goto fail;
    if (vcpu_add_to_vm(vm, vcpu) < 0) {
        KCI_ERR(&vm->log, "vCPU %u: out of memory", id);
        goto fail;
    }
    return vcpu;

fail:
    kci_vcpu_free(vcpu);
    return NULL;
}

void kci_vcpu_free(struct kc_vcpu *vcpu)
{
    if (!vcpu)
        return;
    if (vcpu->run != MAP_FAILED)
        munmap(vcpu->run, (size_t)vcpu->run_size);
    if (vcpu->fd >= 0)
        close(vcpu->fd);
    free(vcpu);
}

unsigned kc_vcpu_id(const struct kc_vcpu *vcpu)
{
    return vcpu->id;
}

int kc_vcpu_fd(const struct kc_vcpu *vcpu)
{
    return vcpu->fd;
}

struct kc_vm *kc_vcpu_vm(const struct kc_vcpu *vcpu)
{
    return vcpu->vm;
}

struct kvm_run *kc_vcpu_run_page(const struct kc_vcpu *vcpu)
{
    return vcpu->run;
}

unsigned kc_vm_vcpu_count(const struct kc_vm *vm)
{
    return vm->nr_vcpus;
}

struct kc_vcpu *kc_vm_vcpu(const struct kc_vm *vm, unsigned index)
{
    return index < vm->nr_vcpus ? vm->vcpus[index] : NULL;
}

/* One state ioctl, with the error named after the request. */
static int state_ioctl(struct kc_vcpu *vcpu, unsigned long req, const char *name, void *arg)
{
    int ret = kci_ioctl(vcpu->fd, req, arg);

    if (ret < 0)
        KCI_ERR(&vcpu->vm->log, "vCPU %u: %s: %s", vcpu->id, name, strerror(-ret));
    return ret < 0 ? ret : 0;
}

#define STATE_ACCESSORS(what, type, GET, SET)                                                      \
    int kc_vcpu_get_##what(struct kc_vcpu *vcpu, type *s)                                          \
    {                                                                                              \
        return state_ioctl(vcpu, GET, #GET, s);                                                    \
    }                                                                                              \
    int kc_vcpu_set_##what(struct kc_vcpu *vcpu, const type *s)                                    \
    {                                                                                              \
        return state_ioctl(vcpu, SET, #SET, (void *)s);                                            \
    }

STATE_ACCESSORS(regs, struct kvm_regs, KVM_GET_REGS, KVM_SET_REGS)
STATE_ACCESSORS(sregs, struct kvm_sregs, KVM_GET_SREGS, KVM_SET_SREGS)
STATE_ACCESSORS(fpu, struct kvm_fpu, KVM_GET_FPU, KVM_SET_FPU)
STATE_ACCESSORS(lapic, struct kvm_lapic_state, KVM_GET_LAPIC, KVM_SET_LAPIC)
STATE_ACCESSORS(mp_state, struct kvm_mp_state, KVM_GET_MP_STATE, KVM_SET_MP_STATE)
STATE_ACCESSORS(xcrs, struct kvm_xcrs, KVM_GET_XCRS, KVM_SET_XCRS)
STATE_ACCESSORS(events, struct kvm_vcpu_events, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS)

static int msrs_ioctl(struct kc_vcpu *vcpu, struct kc_msr *msrs, unsigned n, bool set)
{
    struct kvm_msrs *k;
    int ret;

    if (n == 0)
        return 0;
    k = calloc(1, sizeof(*k) + n * sizeof(k->entries[0]));
    if (!k) {
        KCI_ERR(&vcpu->vm->log, "vCPU %u: out of memory for %u MSRs", vcpu->id, n);
        return -ENOMEM;
    }
    k->nmsrs = n;
    for (unsigned i = 0; i < n; i++) {
        k->entries[i].index = msrs[i].index;
        k->entries[i].data = msrs[i].value;
    }
    ret = kci_ioctl(vcpu->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, k);
    if (ret < 0) {
        KCI_ERR(&vcpu->vm->log, "vCPU %u: %s: %s", vcpu->id, set ? "KVM_SET_MSRS" : "KVM_GET_MSRS",
                strerror(-ret));
    } else if ((unsigned)ret < n) {
        /* KVM stops at the first MSR it refuses and returns how many it did. */
        KCI_ERR(&vcpu->vm->log, "vCPU %u: %s MSR 0x%x refused by KVM", vcpu->id,
                set ? "writing" : "reading", msrs[ret].index);
        ret = -EIO;
    } else {
        if (!set)
            for (unsigned i = 0; i < n; i++)
                msrs[i].value = k->entries[i].data;
        ret = 0;
    }
    free(k);
    return ret;
}

int kc_vcpu_get_msrs(struct kc_vcpu *vcpu, struct kc_msr *msrs, unsigned n)
{
    return msrs_ioctl(vcpu, msrs, n, false);
}

int kc_vcpu_set_msrs(struct kc_vcpu *vcpu, const struct kc_msr *msrs, unsigned n)
{
    return msrs_ioctl(vcpu, (struct kc_msr *)msrs, n, true);
}

int kc_vcpu_translate(struct kc_vcpu *vcpu, uint64_t gva, uint64_t *gpa)
{
    struct kvm_translation tr = { .linear_address = gva };
    int ret = kci_ioctl(vcpu->fd, KVM_TRANSLATE, &tr);

    if (ret < 0) {
        KCI_ERR(&vcpu->vm->log, "vCPU %u: KVM_TRANSLATE 0x%llx: %s", vcpu->id,
                (unsigned long long)gva, strerror(-ret));
        return ret;
    }
    if (!tr.valid)
        return -EFAULT;
    *gpa = tr.physical_address;
    return 0;
}
