/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host bridge at 00:00.0. It has no BARs and no interrupt; it is there
 * because operating systems look for a host bridge at 00:00.0 before they
 * trust the bus. It presents itself as Q35's MCH, as QEMU does.
 */
#include "pci_internal.h"

#define HOST_CLASS         0x060000 /* bridge, host */
#define HOST_SUBSYS_VENDOR 0x1af4   /* Red Hat, Inc., as QEMU sets it */
#define HOST_SUBSYS        0x1100

static const struct em_pci_dev_info host_info = {
    .name = "host-bridge",
    .vendor = EM_PCI_HOST_VENDOR,
    .device = EM_PCI_HOST_DEVICE,
    .subsys_vendor = HOST_SUBSYS_VENDOR,
    .subsys = HOST_SUBSYS,
    .class_code = HOST_CLASS,
};

struct em_pci_dev *pci_host_bridge_create(struct em_pci_bus *bus)
{
    struct em_pci_dev *d = em_pci_dev_create(bus, &host_info);

    if (!d)
        return NULL;
    if (em_pci_dev_plug(d, 0, 0) < 0) {
        em_pci_dev_destroy(d);
        return NULL;
    }
    return d;
}
