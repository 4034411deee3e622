/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating an x86 VM with its in-kernel devices, and mapping RAM into it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "internal.h"

#define DEFAULT_TSS_ADDR          0xfffbd000ull
#define DEFAULT_IDENTITY_MAP_ADDR 0xfffbc000ull
#define MAX_SLOTS                 (8 * 64)

void kc_vm_config_init(struct kc_vm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->irqchip = true;
    cfg->pit = true;
    cfg->tss_addr = DEFAULT_TSS_ADDR;
    cfg->identity_map_addr = DEFAULT_IDENTITY_MAP_ADDR;
    cfg->kick_signal = 0;
}

static void kick_handler(int sig)
{
    /* Nothing to do: the signal's only job is to make KVM_RUN return. */
    (void)sig;
}

int kci_install_kick_handler(const struct kc_logger *log, int sig)
{
    struct sigaction old, sa;

    if (sigaction(sig, NULL, &old) < 0) {
        KCI_ERR(log, "kick signal %d: %s", sig, strerror(errno));
        return -errno;
    }
    /* A handler of the application's own is fine: the kick works through
     * immediate_exit and EINTR, whatever the handler does. */
    if (!(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = kick_handler;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) < 0) {
            KCI_ERR(log, "kick signal %d: %s", sig, strerror(errno));
            return -errno;
        }
    }
    return 0;
}

static int vm_setup_x86(struct kc_vm *vm, const struct kc_vm_config *cfg)
{
    uint64_t idmap = cfg->identity_map_addr;
    int ret;

    ret = kci_ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
    if (ret < 0) {
        KCI_ERR(&vm->log, "KVM_SET_IDENTITY_MAP_ADDR 0x%llx: %s", (unsigned long long)idmap,
                strerror(-ret));
        return ret;
    }
    ret = kci_ioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)cfg->tss_addr);
    if (ret < 0) {
        KCI_ERR(&vm->log, "KVM_SET_TSS_ADDR 0x%llx: %s", (unsigned long long)cfg->tss_addr,
                strerror(-ret));
        return ret;
    }
    if (cfg->pit && !cfg->irqchip) {
        KCI_ERR(&vm->log, "the in-kernel PIT needs the in-kernel irqchip");
        return -EINVAL;
    }
    /* Created later, by kci_vm_realize_irqchip(): see there. */
    vm->irqchip = cfg->irqchip;
    vm->pit = cfg->pit;
    return 0;
}

/*
 * The in-kernel PIC/IOAPIC/LAPIC and PIT are created when they are first
 * needed: at the first vCPU (KVM wants them before any vCPU) or the first
 * interrupt call. RAM added before that is registered cheaply: on some
 * hosts (this project's nested KVM among them) every memory-slot change
 * made once an irqchip exists waits for an expedited RCU grace period,
 * several milliseconds, against microseconds before. Callers that add
 * their RAM first, as a VMM does, get that for free.
 */
int kci_vm_realize_irqchip(struct kc_vm *vm)
{
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    int ret = 0;

    pthread_mutex_lock(&vm->lock);
    if (!vm->irqchip || vm->irqchip_created)
        goto out;
    ret = kci_ioctl(vm->fd, KVM_CREATE_IRQCHIP, NULL);
    if (ret < 0) {
        KCI_ERR(&vm->log, "KVM_CREATE_IRQCHIP: %s", strerror(-ret));
        goto out;
    }
    if (vm->pit) {
        ret = kci_ioctl(vm->fd, KVM_CREATE_PIT2, &pit);
        if (ret < 0) {
            KCI_ERR(&vm->log, "KVM_CREATE_PIT2: %s", strerror(-ret));
            goto out;
        }
    }
    vm->irqchip_created = true;
out:
    pthread_mutex_unlock(&vm->lock);
    return ret < 0 ? ret : 0;
}

struct kc_vm *kc_vm_create(struct kc_kvm *kvm, const struct kc_vm_config *cfg)
{
    struct kc_vm_config def;
    struct kc_vm *vm;
    int ret;

    if (!cfg) {
        kc_vm_config_init(&def);
        cfg = &def;
    }
    vm = calloc(1, sizeof(*vm));
    if (!vm) {
        KCI_ERR(&kvm->log, "VM: out of memory");
        return NULL;
    }
    vm->kvm = kvm;
    vm->log = kvm->log;
    vm->fd = -1;
    vm->kick_signal = cfg->kick_signal ? cfg->kick_signal : SIGRTMIN;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->run_lock, NULL);
    pthread_cond_init(&vm->run_cond, NULL);

    if (kci_install_kick_handler(&vm->log, vm->kick_signal) < 0)
        goto fail;
    ret = kci_ioctl(kvm->fd, KVM_CREATE_VM, (void *)0);
    if (ret < 0) {
        KCI_ERR(&vm->log, "KVM_CREATE_VM: %s%s", strerror(-ret),
                ret == -EINVAL ? " (is another hypervisor holding VT-x/AMD-V?)" : "");
        goto fail;
    }
    vm->fd = ret;
    vm->mem = kc_mem_create(&vm->log);
    vm->pio = kc_bus_create(KC_BUS_PIO, &vm->log);
    vm->mmio = kc_bus_create(KC_BUS_MMIO, &vm->log);
    if (!vm->mem || !vm->pio || !vm->mmio)
        goto fail;
    if (vm_setup_x86(vm, cfg) < 0)
        goto fail;
    return vm;

fail:
    kc_vm_destroy(vm);
    return NULL;
}

void kc_vm_destroy(struct kc_vm *vm)
{
    if (!vm)
        return;
    if (vm->nr_vcpus)
        kc_vm_stop(vm);
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        kci_vcpu_free(vm->vcpus[i]);
    free(vm->vcpus);
    /* Closing the VM fd drops KVM's slots before the memory is unmapped. */
    if (vm->fd >= 0)
        close(vm->fd);
    kc_mem_destroy(vm->mem);
    kc_bus_destroy(vm->pio);
    kc_bus_destroy(vm->mmio);
    pthread_cond_destroy(&vm->run_cond);
    pthread_mutex_destroy(&vm->run_lock);
    pthread_mutex_destroy(&vm->lock);
    free(vm);
}

int kc_vm_fd(const struct kc_vm *vm)
{
    return vm->fd;
}

struct kc_kvm *kc_vm_kvm(const struct kc_vm *vm)
{
    return vm->kvm;
}

const struct kc_logger *kc_vm_logger(const struct kc_vm *vm)
{
    return &vm->log;
}

struct kc_mem *kc_vm_mem(const struct kc_vm *vm)
{
    return vm->mem;
}

struct kc_bus *kc_vm_pio_bus(const struct kc_vm *vm)
{
    return vm->pio;
}

struct kc_bus *kc_vm_mmio_bus(const struct kc_vm *vm)
{
    return vm->mmio;
}

bool kc_vm_has_irqchip(const struct kc_vm *vm)
{
    return vm->irqchip;
}

static int slot_alloc(struct kc_vm *vm)
{
    for (int i = 0; i < MAX_SLOTS; i++) {
        if (!(vm->slot_used[i / 64] & (1ull << (i % 64)))) {
            vm->slot_used[i / 64] |= 1ull << (i % 64);
            return i;
        }
    }
    return -ENOSPC;
}

static void slot_release(struct kc_vm *vm, int slot)
{
    vm->slot_used[slot / 64] &= ~(1ull << (slot % 64));
}

/* (Re)programs the KVM slot of a region with its current flags. */
int kci_vm_set_slot(struct kc_vm *vm, struct kc_region *r, bool present)
{
    struct kvm_userspace_memory_region kr = {
        .slot = (uint32_t)r->slot,
        .flags = 0,
        .guest_phys_addr = r->gpa,
        .memory_size = present ? r->size : 0,
        .userspace_addr = (uintptr_t)r->host,
    };
    int ret;

    if (r->flags & KC_REGION_READONLY)
        kr.flags |= KVM_MEM_READONLY;
    if (r->dirty_logging)
        kr.flags |= KVM_MEM_LOG_DIRTY_PAGES;
    ret = kci_ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &kr);
    if (ret < 0)
        KCI_ERR(&vm->log, "RAM region '%s': KVM_SET_USER_MEMORY_REGION slot %d: %s", r->name,
                r->slot, strerror(-ret));
    return ret;
}

struct kc_region *kc_vm_add_ram(struct kc_vm *vm, uint64_t gpa, uint64_t size, unsigned flags,
                                const char *name)
{
    struct kc_region *r;
    int slot;

    if ((flags & KC_REGION_READONLY) && kc_kvm_check_cap(vm->kvm, KVM_CAP_READONLY_MEM) <= 0) {
        KCI_ERR(&vm->log, "RAM region '%s': read-only memory needs KVM_CAP_READONLY_MEM",
                name ? name : "ram");
        return NULL;
    }
    r = kc_mem_add_ram(vm->mem, gpa, size, flags, name);
    if (!r)
        return NULL;
    pthread_mutex_lock(&vm->lock);
    slot = slot_alloc(vm);
    pthread_mutex_unlock(&vm->lock);
    if (slot < 0) {
        KCI_ERR(&vm->log, "RAM region '%s': no free memory slot", r->name);
        kc_mem_remove(vm->mem, r);
        return NULL;
    }
    r->slot = slot;
    if (kci_vm_set_slot(vm, r, true) < 0) {
        pthread_mutex_lock(&vm->lock);
        slot_release(vm, slot);
        pthread_mutex_unlock(&vm->lock);
        kc_mem_remove(vm->mem, r);
        return NULL;
    }
    return r;
}

void kc_vm_remove_ram(struct kc_vm *vm, struct kc_region *r)
{
    if (!r)
        return;
    if (r->slot >= 0) {
        kci_vm_set_slot(vm, r, false);
        pthread_mutex_lock(&vm->lock);
        slot_release(vm, r->slot);
        pthread_mutex_unlock(&vm->lock);
    }
    kc_mem_remove(vm->mem, r);
}
