/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DSDT: the AML a guest's ACPI interpreter loads (ACPI 6.x, 5.2.11.1).
 * Only data, no methods:
 *
 *   \_S5        power off: SLP_TYP 5 in PM1a_CNT (dev/pm.c)
 *   \_SB.PCI0   the PCI host bridge: its windows and the INTx routing
 *   \_SB.MBRS   motherboard resources: the ECAM window (Linux uses the
 *               MCFG only where ACPI or e820 reserves it)
 *   \_SB.COM1, KBD, MOU, RTC   legacy ISA devices, so that PNP finds them
 */
#include "acpi/tables.h"
#include "memmap.h"

#define DSDT_REVISION 2 /* 64-bit integers */

#define PCI_SLOTS 32
#define PCI_PINS  4

#define KBD_DATA_PORT 0x60
#define KBD_CMD_PORT  0x64
#define RTC_PORT      0x70
#define COM_PORTS     8
#define RTC_PORTS     2
#define SLP_TYP_S5    5

/* The ports the bridge forwards: all but its own config ports. */
#define PCI_CONFIG_PORT  0xcf8
#define PCI_CONFIG_PORTS 8

static void name_int(struct em_aml *a, const char *name, uint64_t v)
{
    em_aml_name(a, name);
    em_aml_int(a, v);
}

static void name_eisaid(struct em_aml *a, const char *name, const char *id)
{
    em_aml_name(a, name);
    em_aml_eisaid(a, id);
}

/* Name(\_S5, Package() { SLP_TYP for PM1a, for PM1b, reserved, reserved }) */
static void sleep_states(struct em_aml *a)
{
    struct em_aml_block pkg;

    em_aml_name(a, "\\_S5");
    pkg = em_aml_package_open(a, 4);
    em_aml_int(a, SLP_TYP_S5);
    em_aml_int(a, SLP_TYP_S5);
    em_aml_int(a, 0);
    em_aml_int(a, 0);
    em_aml_close(a, pkg);
}

static void pci_resources(struct em_aml *a)
{
    struct em_aml_block res;

    em_aml_name(a, "_CRS");
    res = em_aml_template_open(a);
    em_aml_res_word_bus(a, 0x00, 0xff);
    em_aml_res_io(a, PCI_CONFIG_PORT, PCI_CONFIG_PORTS);
    em_aml_res_word_io(a, 0x0000, PCI_CONFIG_PORT - 1);
    em_aml_res_word_io(a, PCI_CONFIG_PORT + PCI_CONFIG_PORTS, 0xffff);
    em_aml_res_dword_mem(a, (uint32_t)EM_PCI_MMIO_BASE,
                         (uint32_t)(EM_PCI_MMIO_BASE + EM_PCI_MMIO_SIZE - 1), false);
    em_aml_close(a, res);
}

/*
 * _PRT: one entry per slot and pin, Package() { address (slot << 16 |
 * 0xffff: any function), pin (0 = INTA), source 0, GSI }. With source 0
 * the interrupt is a GSI, level-triggered and active low.
 */
static void pci_routing(struct em_aml *a)
{
    struct em_aml_block prt;

    em_aml_name(a, "_PRT");
    prt = em_aml_package_open(a, (PCI_SLOTS - 1) * PCI_PINS);
    for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
        for (unsigned pin = 0; pin < PCI_PINS; pin++) {
            struct em_aml_block e = em_aml_package_open(a, 4);

            em_aml_int(a, ((uint64_t)slot << 16) | 0xffff);
            em_aml_int(a, pin);
            em_aml_int(a, 0);
            em_aml_int(a, EM_PCI_GSI(slot, pin));
            em_aml_close(a, e);
        }
    }
    em_aml_close(a, prt);
}

static void pci_root(struct em_aml *a)
{
    struct em_aml_block dev = em_aml_device_open(a, "PCI0");
    struct em_aml_block res;

    name_eisaid(a, "_HID", "PNP0A08"); /* PCI Express root */
    name_eisaid(a, "_CID", "PNP0A03"); /* PCI root */
    name_int(a, "_SEG", 0);
    name_int(a, "_UID", 0);
    name_int(a, "_BBN", 0);
    pci_resources(a);
    pci_routing(a);
    em_aml_close(a, dev);

    dev = em_aml_device_open(a, "MBRS");
    name_eisaid(a, "_HID", "PNP0C02");
    name_int(a, "_UID", 0);
    em_aml_name(a, "_CRS");
    res = em_aml_template_open(a);
    em_aml_res_mem32_fixed(a, (uint32_t)EM_PCI_ECAM_BASE, (uint32_t)EM_PCI_ECAM_SIZE);
    em_aml_close(a, res);
    em_aml_close(a, dev);
}

/* Opens Device(name) with its _HID and _UID, and starts Name(_CRS, ...):
 * the caller writes the resource template, then closes the device. */
static struct em_aml_block isa_device_open(struct em_aml *a, const char *name, const char *hid,
                                           unsigned uid)
{
    struct em_aml_block dev = em_aml_device_open(a, name);

    name_eisaid(a, "_HID", hid);
    name_int(a, "_UID", uid);
    em_aml_name(a, "_CRS");
    return dev;
}

static void legacy_devices(struct em_aml *a)
{
    struct em_aml_block dev, res;

    dev = isa_device_open(a, "COM1", "PNP0501", 1); /* 16550A UART */
    res = em_aml_template_open(a);
    em_aml_res_io(a, EM_COM1_PORT, COM_PORTS);
    em_aml_res_irq(a, EM_COM1_GSI);
    em_aml_close(a, res);
    em_aml_close(a, dev);

    dev = isa_device_open(a, "KBD", "PNP0303", 0); /* i8042, keyboard port */
    res = em_aml_template_open(a);
    em_aml_res_io(a, KBD_DATA_PORT, 1);
    em_aml_res_io(a, KBD_CMD_PORT, 1);
    em_aml_res_irq(a, EM_I8042_GSI_KBD);
    em_aml_close(a, res);
    em_aml_close(a, dev);

    dev = isa_device_open(a, "MOU", "PNP0F13", 0); /* i8042, PS/2 mouse port */
    res = em_aml_template_open(a);
    em_aml_res_irq(a, EM_I8042_GSI_AUX);
    em_aml_close(a, res);
    em_aml_close(a, dev);

    dev = isa_device_open(a, "RTC", "PNP0B00", 0); /* MC146818 */
    res = em_aml_template_open(a);
    em_aml_res_io(a, RTC_PORT, RTC_PORTS);
    em_aml_res_irq(a, EM_RTC_GSI);
    em_aml_close(a, res);
    em_aml_close(a, dev);
}

void em_acpi_dsdt(struct em_aml *a, const struct em_acpi_config *cfg)
{
    size_t start = em_acpi_table_begin(a, "DSDT", DSDT_REVISION);
    struct em_aml_block sb;

    if (cfg->pm)
        sleep_states(a);
    sb = em_aml_scope_open(a, "\\_SB");
    if (cfg->pci)
        pci_root(a);
    legacy_devices(a);
    em_aml_close(a, sb);
    em_acpi_table_end(a, start);
}
