/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI bus's accelerator hooks on KVM (opaque: the struct kc_vm):
 * MSIs by KVM_SIGNAL_MSI or by an irqfd on an MSI route, doorbells by
 * ioeventfd. libkvmcore reports its own errors.
 */
#include <errno.h>

#include "pci.h"

static int kvm_msi(void *opaque, uint64_t addr, uint32_t data)
{
    int ret = kc_vm_signal_msi(opaque, addr, data);

    /* -EBUSY: the guest has the interrupt blocked; not a failure of ours. */
    return ret == -EBUSY ? 0 : ret;
}

static int kvm_irqfd_add(void *opaque, int fd, uint64_t addr, uint32_t data)
{
    int gsi = kc_vm_msi_route_add(opaque, addr, data);
    int ret;

    if (gsi < 0)
        return gsi;
    ret = kc_vm_irqfd_add(opaque, fd, (unsigned)gsi, -1);
    if (ret < 0) {
        kc_vm_msi_route_remove(opaque, (unsigned)gsi);
        return ret;
    }
    return gsi;
}

static int kvm_irqfd_update(void *opaque, int handle, uint64_t addr, uint32_t data)
{
    return kc_vm_msi_route_update(opaque, (unsigned)handle, addr, data);
}

static void kvm_irqfd_remove(void *opaque, int handle, int fd)
{
    kc_vm_irqfd_remove(opaque, fd, (unsigned)handle);
    kc_vm_msi_route_remove(opaque, (unsigned)handle);
}

static int kvm_ioeventfd(void *opaque, uint64_t addr, unsigned len, int fd, bool assign)
{
    struct kc_ioeventfd ev = { .addr = addr, .len = len, .fd = fd };

    return assign ? kc_vm_ioeventfd_add(opaque, &ev) : kc_vm_ioeventfd_remove(opaque, &ev);
}

const struct em_pci_accel_ops em_pci_kvm_accel = {
    .msi = kvm_msi,
    .irqfd_add = kvm_irqfd_add,
    .irqfd_update = kvm_irqfd_update,
    .irqfd_remove = kvm_irqfd_remove,
    .ioeventfd = kvm_ioeventfd,
};
