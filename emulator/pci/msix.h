/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MSI-X (PCI Local Bus 3.0, 6.8.2) for any PCI function: the capability,
 * the vector table and the pending-bit array (PBA) in a 32-bit memory BAR
 * of their own, and delivery through the bus's accelerator hooks.
 *
 * A vector fires only while MSI-X is enabled and neither the function nor
 * its table entry is masked. A masked vector gets its pending bit set and
 * fires when it is unmasked. Delivery is an irqfd per vector where the bus
 * offers one (created at the vector's first interrupt, its route rewritten
 * when the guest rewrites the entry), else a direct MSI.
 *
 * The table is guest-written: every access is checked (aligned dwords and
 * qwords inside the table or the PBA; anything else reads 0 and writes
 * nothing), and the guest can make delivery neither crash nor loop.
 *
 * Locking: the model's own lock, taken from any thread; while holding it,
 * it takes the bus lock (to read the control register) and calls the
 * accelerator, never the other way round.
 */
#ifndef EM_PCI_MSIX_H
#define EM_PCI_MSIX_H

#include <stdbool.h>

#include "pci.h"

/* The table size field is 11 bits. */
#define EM_MSIX_MAX_VECTORS 2048

/* Message control bits (capability offset 2). */
#define EM_MSIX_CTRL_ENABLE   0x8000
#define EM_MSIX_CTRL_MASKALL  0x4000
#define EM_MSIX_ENTRY_SIZE    16
#define EM_MSIX_ENTRY_MASKBIT 0x1

struct em_msix;

/*
 * Gives a device that is not plugged yet `nvec` vectors (1 to
 * EM_MSIX_MAX_VECTORS): adds the capability and BAR `bar` (the table at
 * offset 0, the PBA after it). NULL after logging why (the device may
 * then hold a partial capability: destroy it).
 */
struct em_msix *em_msix_create(struct em_pci_dev *d, unsigned nvec, unsigned bar);
/* Removes the irqfds and frees the model; call it before
 * em_pci_dev_destroy(), with the vCPUs stopped. Safe on NULL. */
void em_msix_destroy(struct em_msix *m);

/* The device's config_write hook must pass every write on: a write to
 * the control register may unmask vectors with pending interrupts. */
void em_msix_config_write(struct em_msix *m, unsigned offset, unsigned size);

/*
 * Raises `vector`. Returns false if MSI-X is disabled (the device then
 * uses INTx); true if it is enabled, whether the vector was delivered,
 * made pending, or is not in the table (virtio's NO_VECTOR) and dropped.
 */
bool em_msix_notify(struct em_msix *m, unsigned vector);
bool em_msix_enabled(struct em_msix *m);
unsigned em_msix_nvec(const struct em_msix *m);
/* Offset of the capability in configuration space, and the table and
 * PBA offsets in the BAR. */
unsigned em_msix_cap_offset(const struct em_msix *m);
uint32_t em_msix_pba_offset(const struct em_msix *m);

/* Drops every pending interrupt (a device reset discards them). */
void em_msix_clear_pending(struct em_msix *m);
/* Power-on state: every entry masked with address and data 0, nothing
 * pending (a machine reset; the bus resets the control register). */
void em_msix_reset(struct em_msix *m);

#endif
