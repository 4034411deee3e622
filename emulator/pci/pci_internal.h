/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PCI bus's own structures, shared by the files of emulator/pci/. */
#ifndef EM_PCI_INTERNAL_H
#define EM_PCI_INTERNAL_H

#include <pthread.h>

#include "pci.h"

#define PCI_NAME_MAX 64

struct pci_bar {
    uint64_t size; /* 0: the BAR is not implemented */
    unsigned flags;
    const struct kc_io_ops *ops;
    void *opaque;
    bool mapped;
    uint64_t mapped_addr;
    /* Where a mapping was last refused (and reported), so that a guest
     * leaving a BAR on a conflict does not repeat the message. */
    bool refused;
    bool refused_by_bus; /* by the port/MMIO bus, not by our own check */
    uint64_t refused_addr;
    char name[PCI_NAME_MAX]; /* the bus keeps this pointer while mapped */
};

struct em_pci_dev {
    struct em_pci_bus *bus;
    struct em_pci_dev_info info;
    bool plugged;
    unsigned slot, fn;
    uint8_t config[EM_PCI_CONFIG_SIZE];
    uint8_t wmask[EM_PCI_CONFIG_SIZE];
    uint8_t w1cmask[EM_PCI_CONFIG_SIZE];
    /* The configuration space as plugged: what a reset returns to. */
    uint8_t config_init[EM_PCI_CONFIG_SIZE];
    struct pci_bar bar[EM_PCI_BARS];
    unsigned cap_next;  /* where the next capability goes */
    unsigned cap_last;  /* offset of the last one, 0 if none */
    bool intx_level;    /* what the device model drives */
    bool intx_asserted; /* counted in the GSI's count */
};

#define PCI_NR_INTX_GSIS 4

struct em_pci_bus {
    struct em_pci_bus_config cfg;
    struct kc_logger log;
    pthread_mutex_t lock; /* recursive: hooks may call back in */
    uint32_t cam_addr;
    uint8_t rcr; /* reset control register, 0xcf9 */
    struct em_pci_dev *devs[EM_PCI_SLOTS][EM_PCI_FUNCS];
    unsigned gsi_count[PCI_NR_INTX_GSIS];
    uint64_t mmio_next;
    uint32_t io_next;
    struct em_pci_dev *host;
    bool cam_addr_registered, cam_data_registered, ecam_registered;
};

/* bar.c */
/* Brings every BAR's registration in line with its register and the
 * command register: unmaps what moved or was disabled, then maps what
 * should be (retrying earlier conflicts). Lock held. */
void pci_update_mappings(struct em_pci_bus *bus);
/* Assigns addresses to a device's BARs from the bus's windows. */
int pci_assign_bars(struct em_pci_dev *d);
/* Unregisters every BAR of the device. */
void pci_unmap_bars(struct em_pci_dev *d);

/* bus.c */
/* Recomputes the device's INTx line (level, INTx disable). Lock held. */
void pci_intx_update(struct em_pci_dev *d);

/* host.c */
struct em_pci_dev *pci_host_bridge_create(struct em_pci_bus *bus);

#endif
