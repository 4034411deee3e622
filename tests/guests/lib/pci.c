/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"
#include "pci.h"

#define CAM_ADDR 0xcf8
#define CAM_DATA 0xcfc

static void select_reg(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    outl(CAM_ADDR, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (off & 0xfc));
}

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    select_reg(bus, dev, fn, off);
    return inl(CAM_DATA);
}

void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
    select_reg(bus, dev, fn, off);
    outl(CAM_DATA, v);
}

uint8_t pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    select_reg(bus, dev, fn, off);
    return inb((uint16_t)(CAM_DATA + (off & 3)));
}

uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
    select_reg(bus, dev, fn, off);
    return inw((uint16_t)(CAM_DATA + (off & 2)));
}

void pci_write16(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint16_t v)
{
    select_reg(bus, dev, fn, off);
    outw((uint16_t)(CAM_DATA + (off & 2)), v);
}
