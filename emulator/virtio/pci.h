/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio over PCI (virtio 1.2, 4.1), the modern interface only: it maps a
 * virtio device core (virtio.h) onto a PCI function of the bus model
 * (pci/pci.h).
 *
 * The function: vendor 0x1af4, device 0x1040 + the virtio device ID,
 * revision 1, subsystem 0x1af4 / the device ID, a class code by device
 * type, INTA. Two memory BARs:
 *
 *   BAR 1 (32-bit, 4 KiB)  the MSI-X table (at 0) and PBA (at 0x800), with
 *                          num_queues + 1 vectors (pci/msix.h)
 *   BAR 4 (64-bit, 16 KiB) 0x0000 common configuration
 *                          0x1000 ISR status (read to clear)
 *                          0x2000 device-specific configuration
 *                          0x3000 notifications, 4 bytes per queue
 *
 * and the capabilities that describe them: the five vendor-specific
 * virtio ones (common, notify, ISR, device, and the PCI configuration
 * access window into BAR 4) and MSI-X. The device capability is left out
 * for a device without configuration space (rng).
 *
 * Notifications: queue_notify_off is the queue index and the multiplier
 * is 4, so each queue has its own doorbell address: one ioeventfd per
 * queue (bound through the bus's accelerator, without datamatch, for the
 * 2-byte write drivers make) takes a kick straight to the core's kick
 * eventfd, with no exit to kvmemu. The doorbells move with the BAR. A
 * write the ioeventfd does not match (another width, or no accelerator as
 * in the unit tests) reaches the BAR handler, which kicks the same queue.
 *
 * Interrupts: with MSI-X enabled, a queue or configuration event raises
 * its vector (nothing for NO_VECTOR; masked vectors go pending); with
 * MSI-X disabled, ISR bit 0 (queue) or 1 (configuration) is set and INTx
 * asserted until the driver reads ISR. A configuration change sets ISR
 * bit 1 in both modes, as the spec asks.
 *
 * Every guest-written value is checked; wrong-width accesses to the
 * common configuration read 0 and write nothing.
 *
 * Locks, in the order they may nest: the core's device lock (held while
 * the core calls the interrupt hooks), then the transport's ISR lock or
 * the MSI-X lock, then the bus lock. Register accesses take none of ours
 * while calling into the core.
 */
#ifndef EM_VIRTIO_PCI_H
#define EM_VIRTIO_PCI_H

#include <stdint.h>

#include "pci/pci.h"
#include "virtio/virtio.h"

#define EM_VIRTIO_PCI_VENDOR      0x1af4
#define EM_VIRTIO_PCI_DEVICE_BASE 0x1040
#define EM_VIRTIO_PCI_REVISION    0x01

#define EM_VIRTIO_PCI_MSIX_BAR 1
#define EM_VIRTIO_PCI_BAR      4
#define EM_VIRTIO_PCI_BAR_SIZE 0x4000

#define EM_VIRTIO_PCI_COMMON_OFF 0x0000
#define EM_VIRTIO_PCI_ISR_OFF    0x1000
#define EM_VIRTIO_PCI_DEVICE_OFF 0x2000
#define EM_VIRTIO_PCI_NOTIFY_OFF 0x3000
#define EM_VIRTIO_PCI_REGION     0x1000
/* Each queue's doorbell is queue index * multiplier into the region. */
#define EM_VIRTIO_PCI_NOTIFY_MULT 4

#define EM_VIRTIO_PCI_NO_VECTOR 0xffff

struct em_virtio_pci;

/*
 * Plugs device `vd` (made by a factory, not started) into `bus` at slot
 * `slot` (function 0), or at the first free slot when slot < 0; sets the
 * transport's interrupt hooks on the core and starts its I/O thread
 * (em_virtio_start). `name` names the PCI function in messages (copied).
 * On success the transport owns vd; on failure (logged, errno set) vd is
 * still the caller's to destroy, and nothing is left on the bus.
 */
struct em_virtio_pci *em_virtio_pci_plug(struct em_pci_bus *bus, struct em_virtio_dev *vd, int slot,
                                         const char *name);
/* Unplugs the function and destroys the device; before the bus, with the
 * vCPUs stopped. Safe on NULL. */
void em_virtio_pci_destroy(struct em_virtio_pci *t);
/* Machine reset: the device reset (as a driver's status write of 0) and
 * the MSI-X table back to its power-on state. The bus resets the
 * configuration space itself. */
void em_virtio_pci_reset(struct em_virtio_pci *t);

const char *em_virtio_pci_name(const struct em_virtio_pci *t);
struct em_pci_dev *em_virtio_pci_dev(const struct em_virtio_pci *t);
struct em_virtio_dev *em_virtio_pci_vdev(const struct em_virtio_pci *t);
/* How many queue doorbells are bound to ioeventfds right now. */
unsigned em_virtio_pci_ioeventfds(const struct em_virtio_pci *t);

/* The PCI class code a device of this virtio type presents. */
uint32_t em_virtio_pci_class(uint16_t device_id);

#endif
