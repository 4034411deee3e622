/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A host-side virtio-pci driver for tests, as QEMU's qtest drivers are: a
 * fresh PCI bus on real libkvmcore buses (no KVM), guest RAM, and a driver
 * that reaches each plugged device only as a guest would: configuration
 * space through ECAM on the MMIO bus, the capability list walked to find
 * the virtio structures and MSI-X, registers through MMIO dispatch at the
 * addresses the BARs hold. It implements struct vdrv_transport, so the
 * same vdriver code drives a device through the real transport.
 *
 * Interrupts come back as a guest would see them: MSIs (and, with
 * vph_opts.irqfd, irqfds served by a harness thread, as KVM would) are
 * decoded to their vector and counted; INTx levels are recorded, and a
 * harness thread services an asserted line by reading ISR (unless a test
 * turns that off to look at the level itself). Both feed vdrv_interrupt()
 * and vdrv_config_interrupt().
 *
 * With vph_opts.ioeventfd, the bus offers ioeventfds and the harness's
 * MMIO writes honour them as KVM does: a write of exactly the bound length
 * at a bound address signals the eventfd and never reaches the handler.
 *
 * A device test in a few lines:
 *
 *   struct vph *h = vph_create(&(struct vph_opts){ .log = &cap.logger });
 *   struct em_vdev_env env = { vph_mem(h), &cap.logger, NULL };
 *   struct vph_dev *d = vph_plug(h, em_vrng_create(&env, 0, 0), "rng");
 *   struct vdrv *drv = vph_vdrv(d);
 *   vph_use_msix(d, true);
 *   vdrv_negotiate(drv, EM_VIRTIO_F_VERSION_1); ...
 *   vph_destroy(h);
 */
#ifndef PCI_HARNESS_H
#define PCI_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "pci/pci.h"
#include "vdriver.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define VPH_MAX_DEVS    4
#define VPH_MAX_VECTORS (EM_VIRTIO_MAX_QUEUES + 1)
#define VPH_NO_VECTOR   0xffff
/* The MSI the harness programs for vector v of device i. */
#define VPH_MSI_ADDR       0xfee00000ull
#define VPH_MSI_DATA(i, v) (0x5a000000u | (uint32_t)(i) << 16 | (uint32_t)(v))
#define VPH_RAM_DEFAULT    (16ull << 20)
#define VPH_ARENA_START    0x100000ull

struct vph_opts {
    uint64_t ram_size;           /* 0: VPH_RAM_DEFAULT */
    const struct kc_logger *log; /* buses, RAM, bus model; NULL: stderr */
    bool irqfd;                  /* offer irqfds (else direct MSIs only) */
    bool ioeventfd;              /* offer ioeventfds (else doorbells exit) */
};

struct vph;
struct vph_dev;

struct vph *vph_create(const struct vph_opts *opts);
/* Destroys every plugged device, the bus, the buses and RAM. NULL-safe. */
void vph_destroy(struct vph *h);

struct kc_mem *vph_mem(struct vph *h);
struct kc_bus *vph_mmio(struct vph *h);
struct kc_bus *vph_pio(struct vph *h);
struct em_pci_bus *vph_bus(struct vph *h);

/*
 * Plugs `vd` (from a factory, not started) at the first free slot, then
 * probes it as a driver: finds the function, walks its capabilities,
 * turns on memory decoding and bus mastering. NULL (and vd destroyed) if
 * vd is NULL, the plug fails, or the device does not look like a virtio
 * one; the reason is logged.
 */
struct vph_dev *vph_plug(struct vph *h, struct em_virtio_dev *vd, const char *name);
/* Unplugs and destroys one device. */
void vph_unplug(struct vph_dev *d);

/* The vdriver on this device's transport (its arena is a slice of RAM). */
struct vdrv *vph_vdrv(struct vph_dev *d);
struct em_virtio_pci *vph_transport(struct vph_dev *d);
unsigned vph_slot(struct vph_dev *d);

/* What the capability walk found. */
struct vph_region {
    bool present;
    unsigned count; /* capabilities of this type seen */
    unsigned cap;   /* offset in configuration space (the first one) */
    uint8_t cap_len, bar;
    uint32_t offset, length;
};
struct vph_caps {
    unsigned walked; /* capabilities in the list */
    struct vph_region common, notify, isr, device, pci_cfg;
    uint32_t notify_mult;
    unsigned msix_cap; /* 0: none */
    unsigned msix_size;
    uint8_t table_bar, pba_bar;
    uint32_t table_off, pba_off;
};
const struct vph_caps *vph_caps(struct vph_dev *d);

/* ---- raw access, as a guest driver ---- */

uint32_t vph_cfg_read(struct vph_dev *d, unsigned off, unsigned size);
void vph_cfg_write(struct vph_dev *d, unsigned off, uint32_t v, unsigned size);
/* The address BAR `bar` holds now (read from configuration space). */
uint64_t vph_bar_addr(struct vph_dev *d, unsigned bar);
uint64_t vph_bar_read(struct vph_dev *d, unsigned bar, uint64_t off, unsigned size);
void vph_bar_write(struct vph_dev *d, unsigned bar, uint64_t off, uint64_t v, unsigned size);
/* A region the capabilities describe (common, isr, device, notify). */
uint64_t vph_read(struct vph_dev *d, const struct vph_region *r, uint64_t off, unsigned size);
void vph_write(struct vph_dev *d, const struct vph_region *r, uint64_t off, uint64_t v,
               unsigned size);
/* Any MMIO write, through the emulated ioeventfds first. */
void vph_mmio_write(struct vph *h, uint64_t addr, uint64_t v, unsigned size);

/* ---- interrupts ---- */

/*
 * Programs every MSI-X table entry (VPH_MSI_ADDR, VPH_MSI_DATA, unmasked)
 * and enables MSI-X, or disables it (INTx then). The config vector (0 by
 * default) is written now and after every reset; queue vectors (q + 1 by
 * default) when a queue is set up.
 */
void vph_use_msix(struct vph_dev *d, bool on);
void vph_set_config_vector(struct vph_dev *d, uint16_t vector);
void vph_set_queue_vector(struct vph_dev *d, unsigned q, uint16_t vector);
/* What the device read back when the harness last wrote them. */
uint16_t vph_config_vector_readback(struct vph_dev *d);
uint16_t vph_queue_vector_readback(struct vph_dev *d, unsigned q);

/* MSIs received for `vector` of this device; waiting ones give up after
 * timeout_ms and return false. */
unsigned vph_msi_count(struct vph_dev *d, unsigned vector);
bool vph_wait_msi(struct vph_dev *d, unsigned vector, unsigned count, unsigned timeout_ms);
/* MSIs whose data matched no device (a route the harness never wrote). */
unsigned vph_stray_msis(struct vph *h);

/* INTx: the line's level, and whether the harness services it (reads
 * ISR when it rises; on by default). */
int vph_intx_level(struct vph_dev *d);
void vph_intx_service(struct vph_dev *d, bool on);
/* A read of ISR (which clears it). */
uint8_t vph_read_isr(struct vph_dev *d);
/* ISR bits the harness's INTx service has seen. */
unsigned vph_isr_serviced(struct vph_dev *d, uint8_t bit);

/* ---- the accelerator as the bus saw it ---- */

/* ioeventfds assigned now; writes they swallowed; calls that KVM would
 * have refused (assigning one twice, removing one that is not there). */
unsigned vph_ioeventfds(struct vph *h);
bool vph_ioeventfd_at(struct vph *h, uint64_t addr, unsigned len, int fd);
unsigned vph_ioeventfd_hits(struct vph *h);
unsigned vph_accel_errors(struct vph *h);
/* irqfds in use, and route updates made. */
unsigned vph_irqfds(struct vph *h);
unsigned vph_irqfd_updates(struct vph *h);

#endif
