/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PCI bus: one root bus (bus 0) behind a host bridge at 00:00.0, its
 * configuration space reached through configuration mechanism #1 (ports
 * 0xcf8/0xcfc) and through ECAM at EM_PCI_ECAM_BASE, and the model that
 * device models plug into: a 4 KiB configuration space per function with a
 * write mask per byte, BARs, a capability list and INTx.
 *
 * There is no firmware to assign resources, so the bus assigns BAR
 * addresses when a device is plugged (from EM_PCI_MMIO_BASE and the I/O
 * window below) and enables decoding, as a BIOS would. A guest may move a
 * BAR or turn decoding off; the bus then unmaps the BAR's range from the
 * old address and maps it at the new one. A mapping that would overlap
 * another range is refused (and retried whenever a mapping changes), so a
 * guest cannot make kvmemu fail by programming nonsense.
 *
 * The bus is independent of the machine: it gets the port and MMIO buses,
 * a logger and callbacks (em_pci_bus_create), so that tests drive it
 * without KVM. em_pci_create() (board.c) puts it on the machine.
 *
 * Locking: one recursive lock per bus covers every configuration space,
 * the mappings and the INTx counts. The configuration hooks run without
 * it, so that a device may take its own locks there even though it holds
 * them while calling em_pci_set_irq() (which takes the bus lock); the
 * bar_mapped hook runs with it held. Every hook may call any function here.
 */
#ifndef EM_PCI_H
#define EM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "memmap.h"

#define EM_PCI_CONFIG_SIZE 4096
#define EM_PCI_SLOTS       32
#define EM_PCI_FUNCS       8
#define EM_PCI_BARS        6

/* Configuration mechanism #1; 0xcf9 inside the address register's dword
 * is the reset control register (EM_RESET_PORT), served here too since
 * the two cannot be registered apart. */
#define EM_PCI_CAM_ADDR_PORT 0xcf8
#define EM_PCI_CAM_DATA_PORT 0xcfc

/* Where the bus puts I/O BARs (the ACPI _CRS must cover it). */
#define EM_PCI_IO_BASE 0xc000
#define EM_PCI_IO_SIZE 0x4000

/* The host bridge at 00:00.0: Q35's MCH, as QEMU presents it. */
#define EM_PCI_HOST_VENDOR 0x8086
#define EM_PCI_HOST_DEVICE 0x29c0

/* Standard header (type 0) registers. */
#define EM_PCI_VENDOR_ID      0x00
#define EM_PCI_DEVICE_ID      0x02
#define EM_PCI_COMMAND        0x04
#define EM_PCI_STATUS         0x06
#define EM_PCI_REVISION       0x08
#define EM_PCI_CLASS_PROG     0x09
#define EM_PCI_CACHE_LINE     0x0c
#define EM_PCI_HEADER_TYPE    0x0e
#define EM_PCI_BAR0           0x10
#define EM_PCI_SUBSYS_VENDOR  0x2c
#define EM_PCI_SUBSYS_ID      0x2e
#define EM_PCI_ROM_ADDRESS    0x30
#define EM_PCI_CAP_PTR        0x34
#define EM_PCI_INTERRUPT_LINE 0x3c
#define EM_PCI_INTERRUPT_PIN  0x3d

#define EM_PCI_CMD_IO           0x0001
#define EM_PCI_CMD_MEM          0x0002
#define EM_PCI_CMD_MASTER       0x0004
#define EM_PCI_CMD_PARITY       0x0040
#define EM_PCI_CMD_SERR         0x0100
#define EM_PCI_CMD_INTX_DISABLE 0x0400

#define EM_PCI_STATUS_INTERRUPT 0x0008
#define EM_PCI_STATUS_CAP_LIST  0x0010

#define EM_PCI_HEADER_MULTIFUNCTION 0x80

/* The first capability goes here; the standard space ends at 0x100. */
#define EM_PCI_CAP_START 0x40
#define EM_PCI_CAP_END   0x100

struct em_pci_bus;
struct em_pci_dev;

/*
 * What the hypervisor does for devices, so that interrupts and doorbells
 * need no trip through kvmemu: board.c fills it with KVM's
 * (em_pci_kvm_accel), tests leave it NULL or record the calls. Every hook
 * is optional and may be called from any thread, without the bus lock.
 */
struct em_pci_accel_ops {
    /* Delivers one MSI now. 0, or -errno. */
    int (*msi)(void *opaque, uint64_t addr, uint32_t data);
    /* An eventfd each write to which delivers the MSI (addr, data): a
     * handle (>= 0) for the two calls below, or -errno. */
    int (*irqfd_add)(void *opaque, int fd, uint64_t addr, uint32_t data);
    int (*irqfd_update)(void *opaque, int handle, uint64_t addr, uint32_t data);
    void (*irqfd_remove)(void *opaque, int handle, int fd);
    /* While assigned, a guest write of exactly `len` bytes to MMIO address
     * `addr` signals `fd` instead of reaching the BAR's handler. */
    int (*ioeventfd)(void *opaque, uint64_t addr, unsigned len, int fd, bool assign);
};

/* KVM's: opaque is the struct kc_vm (kvm.c). */
extern const struct em_pci_accel_ops em_pci_kvm_accel;

struct em_pci_bus_config {
    struct kc_bus *pio;  /* CAM ports and I/O BARs */
    struct kc_bus *mmio; /* ECAM and memory BARs */
    const struct kc_logger *log;
    /* Drives a GSI (level-triggered INTx lines). */
    void (*set_gsi)(void *opaque, unsigned gsi, int level);
    /* The guest set RST_CPU in the reset control register (0xcf9). */
    void (*reset_request)(void *opaque);
    void *opaque;
    /* Optional (NULL: MSIs are dropped, doorbells reach the handlers). */
    const struct em_pci_accel_ops *accel;
    void *accel_opaque;
};

/* Creates the bus with the host bridge at 00:00.0 and registers the CAM
 * ports and the ECAM window. NULL after logging why, with errno set. */
struct em_pci_bus *em_pci_bus_create(const struct em_pci_bus_config *cfg);
/* Destroys every device still plugged, then the bus; safe on NULL. The
 * vCPUs must be stopped (handlers may still reference the devices). */
void em_pci_bus_destroy(struct em_pci_bus *bus);
/* Machine reset: every device's configuration space back to what it was
 * when plugged, BARs mapped where the bus put them, INTx deasserted. */
void em_pci_bus_reset(struct em_pci_bus *bus);

/* Configuration accesses as the guest makes them: bus/dev/fn/offset as
 * decoded from CAM or ECAM. Absent functions read all-ones; offset + size
 * beyond the 4 KiB space, or a size other than 1, 2 or 4, reads all-ones
 * and writes nothing. Exposed for the two front ends and for tests. */
uint32_t em_pci_config_read(struct em_pci_bus *bus, unsigned busnr, unsigned dev, unsigned fn,
                            unsigned offset, unsigned size);
void em_pci_config_write(struct em_pci_bus *bus, unsigned busnr, unsigned dev, unsigned fn,
                         unsigned offset, uint32_t value, unsigned size);

/* ---- devices ---- */

/* Optional hooks (see the locking note at the top). */
struct em_pci_dev_ops {
    /* After a guest write has been applied through the write mask. */
    void (*config_write)(void *opaque, struct em_pci_dev *d, unsigned offset, uint32_t value,
                         unsigned size);
    /* May replace the value a guest read returns (registers that are
     * computed rather than stored). */
    uint32_t (*config_read)(void *opaque, struct em_pci_dev *d, unsigned offset, unsigned size,
                            uint32_t value);
    /* BAR `index` started (mapped) or stopped decoding at `addr`: at plug
     * and unplug, when the guest moves it or toggles decoding, on reset.
     * With the bus lock held: take no lock that is held elsewhere while
     * calling into the bus. */
    void (*bar_mapped)(void *opaque, struct em_pci_dev *d, unsigned index, uint64_t addr,
                       bool mapped);
};

struct em_pci_dev_info {
    const char *name; /* for messages; must outlive the device */
    uint16_t vendor, device;
    uint16_t subsys_vendor, subsys;
    uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
    uint8_t revision;
    uint8_t intx_pin; /* 0: none, 1-4: INTA-INTD */
    const struct em_pci_dev_ops *ops;
    void *opaque;
};

/* A device with a standard (type 0) header, not yet plugged. NULL after
 * logging why (a bad pin, no memory). */
struct em_pci_dev *em_pci_dev_create(struct em_pci_bus *bus, const struct em_pci_dev_info *info);

enum em_pci_bar_flags {
    EM_PCI_BAR_MEM32 = 0,
    EM_PCI_BAR_IO = 1u << 0,
    EM_PCI_BAR_MEM64 = 1u << 1, /* takes BAR index and index + 1 */
    EM_PCI_BAR_PREFETCH = 1u << 2,
};

/*
 * Declares BAR `index` before the device is plugged: `size` bytes (a power
 * of two, 16 or more for memory, 4 to 256 for I/O), served by ops/opaque
 * with offsets inside the BAR. -EINVAL (logged) for a bad index, size or
 * flag combination, or a BAR slot already in use.
 */
int em_pci_dev_add_bar(struct em_pci_dev *d, unsigned index, uint64_t size, unsigned flags,
                       const struct kc_io_ops *ops, void *opaque);

/*
 * Appends a capability of `len` bytes (header included, at least 2) to the
 * list, with its ID written and its body zero and read-only; returns its
 * offset in configuration space, or -ENOSPC (logged) when the standard
 * space is full. The caller fills the body with em_pci_set*() and opens
 * writable fields with em_pci_set_wmask*().
 */
int em_pci_dev_add_cap(struct em_pci_dev *d, uint8_t id, unsigned len);
/* Offset of the first capability with this ID, or -ENOENT. */
int em_pci_dev_find_cap(const struct em_pci_dev *d, uint8_t id);

/*
 * Plugs the device at 00:slot.fn: assigns its BARs, maps them and enables
 * decoding, sets the interrupt line to EM_PCI_GSI(slot, pin). -EBUSY if
 * the function is taken, -EINVAL for a slot/function out of range (slot 0
 * is the host bridge's), -ENOSPC when a BAR window is full; all logged.
 * On failure the device is still the caller's to destroy.
 */
int em_pci_dev_plug(struct em_pci_dev *d, unsigned slot, unsigned fn);
/* The first slot with function 0 free (from 1), or -ENOSPC. */
int em_pci_bus_free_slot(struct em_pci_bus *bus);
/* Unplugs (unmapping its BARs, deasserting its INTx) and frees; NULL-safe. */
void em_pci_dev_destroy(struct em_pci_dev *d);

/* Drives the device's INTx pin: level-triggered and shared, so the GSI is
 * asserted while any device on it asserts (and has INTx enabled). */
void em_pci_set_irq(struct em_pci_dev *d, int level);

/* The bus's accelerator hooks for this device (struct em_pci_accel_ops);
 * -ENOTSUP, not logged, where the bus has none. */
int em_pci_msi_signal(struct em_pci_dev *d, uint64_t addr, uint32_t data);
int em_pci_msi_irqfd_add(struct em_pci_dev *d, int fd, uint64_t addr, uint32_t data);
int em_pci_msi_irqfd_update(struct em_pci_dev *d, int handle, uint64_t addr, uint32_t data);
void em_pci_msi_irqfd_remove(struct em_pci_dev *d, int handle, int fd);
int em_pci_ioeventfd(struct em_pci_dev *d, uint64_t addr, unsigned len, int fd, bool assign);

/* The bus lock, for a device reading its configuration space consistently
 * from a hook that runs without it (recursive). */
void em_pci_dev_lock(struct em_pci_dev *d);
void em_pci_dev_unlock(struct em_pci_dev *d);

/* ---- configuration space from the device model's side ---- */

/* Host-side access: no write mask, no hooks. Offsets out of range are
 * ignored (reads give 0). */
uint8_t em_pci_get8(const struct em_pci_dev *d, unsigned offset);
uint16_t em_pci_get16(const struct em_pci_dev *d, unsigned offset);
uint32_t em_pci_get32(const struct em_pci_dev *d, unsigned offset);
void em_pci_set8(struct em_pci_dev *d, unsigned offset, uint8_t v);
void em_pci_set16(struct em_pci_dev *d, unsigned offset, uint16_t v);
void em_pci_set32(struct em_pci_dev *d, unsigned offset, uint32_t v);
/* Bits the guest may change, per byte; the rest keep their value. */
void em_pci_set_wmask8(struct em_pci_dev *d, unsigned offset, uint8_t mask);
void em_pci_set_wmask16(struct em_pci_dev *d, unsigned offset, uint16_t mask);
void em_pci_set_wmask32(struct em_pci_dev *d, unsigned offset, uint32_t mask);
/* Bits the guest clears by writing 1 (status flags). */
void em_pci_set_w1cmask16(struct em_pci_dev *d, unsigned offset, uint16_t mask);

/* ---- queries ---- */

const char *em_pci_dev_name(const struct em_pci_dev *d);
unsigned em_pci_dev_slot(const struct em_pci_dev *d);
unsigned em_pci_dev_fn(const struct em_pci_dev *d);
/* The GSI of its INTx pin, or -1 without one. */
int em_pci_dev_gsi(const struct em_pci_dev *d);
/* The address BAR `index` holds now (64-bit BARs: both halves). */
uint64_t em_pci_bar_addr(const struct em_pci_dev *d, unsigned index);
/* True if the BAR's range is registered on its bus right now. */
bool em_pci_bar_mapped(const struct em_pci_dev *d, unsigned index);
/* The device at 00:slot.fn, or NULL. */
struct em_pci_dev *em_pci_bus_dev(struct em_pci_bus *bus, unsigned slot, unsigned fn);

#endif
