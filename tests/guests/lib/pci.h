/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI configuration space for guests, through configuration mechanism #1. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);
uint8_t pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint16_t v);

#endif
