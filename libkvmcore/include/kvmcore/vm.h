/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One x86 virtual machine: its memory, its two buses, the in-kernel
 * interrupt controllers, eventfd wiring, dirty logging, and VM-wide control
 * of the vCPU run loops (pause, resume, stop).
 */
#ifndef KVMCORE_VM_H
#define KVMCORE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <kvmcore/bus.h>
#include <kvmcore/kvm.h>
#include <kvmcore/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kc_vm_config {
    /* In-kernel PIC, IOAPIC and LAPICs (KVM_CREATE_IRQCHIP). Default on.
     * Created with the first vCPU or interrupt call, after the RAM added
     * until then: memory-slot changes once it exists can cost milliseconds
     * each on some hosts, so add RAM first. */
    bool irqchip;
    /* In-kernel i8254 PIT; needs irqchip. Default on. */
    bool pit;
    /* Three pages KVM needs below 4 GiB for real-mode emulation on Intel
     * (the TSS), and the page after them for the identity map.
     * Defaults 0xfffbd000 and 0xfffbc000, as QEMU uses. */
    uint64_t tss_addr;
    uint64_t identity_map_addr;
    /* Signal used to kick vCPU threads out of KVM_RUN; 0 means SIGRTMIN.
     * The library installs an empty handler for it if it has none. */
    int kick_signal;
};

void kc_vm_config_init(struct kc_vm_config *cfg);

struct kc_vm;
struct kc_vcpu;

/* cfg may be NULL for the defaults. The VM keeps a reference to kvm,
 * which must outlive it. */
struct kc_vm *kc_vm_create(struct kc_kvm *kvm, const struct kc_vm_config *cfg);
/* Stops and joins any vCPU threads, then frees vCPUs, memory and buses. */
void kc_vm_destroy(struct kc_vm *vm);

int kc_vm_fd(const struct kc_vm *vm);
struct kc_kvm *kc_vm_kvm(const struct kc_vm *vm);
const struct kc_logger *kc_vm_logger(const struct kc_vm *vm);
struct kc_mem *kc_vm_mem(const struct kc_vm *vm);
struct kc_bus *kc_vm_pio_bus(const struct kc_vm *vm);
struct kc_bus *kc_vm_mmio_bus(const struct kc_vm *vm);
bool kc_vm_has_irqchip(const struct kc_vm *vm);

/* Adds a memfd-backed RAM region (see kc_mem_add_ram) and maps it into the
 * VM as a KVM memory slot. */
struct kc_region *kc_vm_add_ram(struct kc_vm *vm, uint64_t gpa, uint64_t size, unsigned flags,
                                const char *name);
/* Unmaps the slot and frees the region; the vCPUs must be paused. */
void kc_vm_remove_ram(struct kc_vm *vm, struct kc_region *region);

/* ---- interrupts (need the in-kernel irqchip) ---- */

/* Drives a GSI line: level 1 asserts, 0 deasserts. An edge is 1 then 0. */
int kc_vm_irq_line(struct kc_vm *vm, unsigned gsi, int level);
/* Injects one MSI (KVM_SIGNAL_MSI). Returns 0 if delivered, -EBUSY if the
 * guest had it blocked (KVM returned 0 deliveries). */
int kc_vm_signal_msi(struct kc_vm *vm, uint64_t addr, uint32_t data);

/* GSI routes for MSIs, so that an irqfd can raise an MSI without an exit.
 * The default IOAPIC/PIC routes for GSI 0-23 are always kept. */
int kc_vm_msi_route_add(struct kc_vm *vm, uint64_t addr, uint32_t data); /* returns the GSI */
int kc_vm_msi_route_update(struct kc_vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
int kc_vm_msi_route_remove(struct kc_vm *vm, unsigned gsi);

/* A write to eventfd `fd` raises `gsi`. With resample_fd >= 0 the GSI is
 * level-triggered and resample_fd is signalled on the guest's EOI. */
int kc_vm_irqfd_add(struct kc_vm *vm, int fd, unsigned gsi, int resample_fd);
int kc_vm_irqfd_remove(struct kc_vm *vm, int fd, unsigned gsi);

/* A guest write that matches signals `fd` inside KVM, with no exit to
 * userspace. len 0 matches any access size at addr. */
struct kc_ioeventfd {
    uint64_t addr;
    uint32_t len; /* 0, 1, 2, 4 or 8 */
    int fd;
    bool pio;
    bool datamatch;
    uint64_t data;
};
int kc_vm_ioeventfd_add(struct kc_vm *vm, const struct kc_ioeventfd *ev);
int kc_vm_ioeventfd_remove(struct kc_vm *vm, const struct kc_ioeventfd *ev);

/*
 * The in-kernel PIC, IOAPIC and PIT state, to return a machine to a known
 * state (reset) or to save it. Needs the irqchip (and, for the PIT, pit).
 */
struct kc_irqchip_state {
    struct kvm_irqchip pic_master;
    struct kvm_irqchip pic_slave;
    struct kvm_irqchip ioapic;
    struct kvm_pit_state2 pit;
    bool has_pit;
};
int kc_vm_get_irqchip_state(struct kc_vm *vm, struct kc_irqchip_state *st);
int kc_vm_set_irqchip_state(struct kc_vm *vm, const struct kc_irqchip_state *st);

/* ---- dirty page logging ---- */

int kc_vm_dirty_log_enable(struct kc_vm *vm, struct kc_region *region, bool on);
/* Number of uint64_t words a bitmap for the region needs (one bit per 4 KiB page). */
size_t kc_vm_dirty_log_words(const struct kc_region *region);
/* Copies the bitmap of pages the guest wrote since the last fetch (or since
 * logging was enabled) into bitmap, and clears it in KVM. Writes done by
 * the host through kc_mem_* are not included. */
int kc_vm_dirty_log_fetch(struct kc_vm *vm, struct kc_region *region, uint64_t *bitmap,
                          size_t words);

/* ---- vCPUs as one machine ---- */

unsigned kc_vm_vcpu_count(const struct kc_vm *vm);
struct kc_vcpu *kc_vm_vcpu(const struct kc_vm *vm, unsigned index);

/*
 * Pauses every vCPU that is inside kc_vcpu_loop() (started with
 * kc_vcpu_start() or run by the caller): kicks each out of KVM_RUN and
 * returns once none is executing guest code, even a guest spinning without
 * exits. vCPUs that enter their loop while the VM is paused wait at once.
 * -EDEADLK when called from a vCPU thread of this VM.
 */
int kc_vm_pause(struct kc_vm *vm);
int kc_vm_resume(struct kc_vm *vm);
bool kc_vm_is_paused(const struct kc_vm *vm);
/* Asks every vCPU loop to stop and joins every thread started with
 * kc_vcpu_start(). -EDEADLK from a vCPU thread of this VM. */
int kc_vm_stop(struct kc_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
