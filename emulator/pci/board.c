/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI bus on the machine: the VM's port and MMIO buses, INTx on the
 * in-kernel IOAPIC, MSIs and doorbells through KVM (kvm.c), and the reset
 * control register's reset request.
 * Other devices find the bus with em_machine_device(m, "pci").
 */
#include <errno.h>

#include "devices.h"
#include "pci.h"

static void board_set_gsi(void *opaque, unsigned gsi, int level)
{
    em_machine_irq(opaque, gsi, level);
}

static void board_reset_request(void *opaque)
{
    struct em_machine *m = opaque;

    em_timeline_mark(em_machine_timeline(m), "reset via port 0x%x", EM_RESET_PORT);
    em_machine_request(m, EM_REQ_RESET, 0);
}

static void board_reset(void *state)
{
    em_pci_bus_reset(state);
}

static void board_destroy(void *state)
{
    em_pci_bus_destroy(state);
}

static const struct em_device_ops pci_dev_ops = { .reset = board_reset, .destroy = board_destroy };

int em_pci_create(struct em_machine *m)
{
    struct kc_vm *vm = em_machine_vm(m);
    struct em_pci_bus_config cfg = {
        .pio = kc_vm_pio_bus(vm),
        .mmio = kc_vm_mmio_bus(vm),
        .log = em_machine_logger(m),
        .set_gsi = board_set_gsi,
        .reset_request = board_reset_request,
        .opaque = m,
        .accel = &em_pci_kvm_accel,
        .accel_opaque = vm,
    };
    struct em_pci_bus *bus = em_pci_bus_create(&cfg);
    int ret;

    if (!bus)
        return -errno;
    ret = em_machine_add_device(m, "pci", bus, &pci_dev_ops);
    if (ret < 0)
        em_pci_bus_destroy(bus);
    return ret;
}
