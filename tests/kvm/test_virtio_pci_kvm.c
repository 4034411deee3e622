/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-pci transport on a real VM, through the bus's KVM hooks
 * (emulator/pci/kvm.c): the doorbells are ioeventfds KVM holds (a second
 * one at the same address is refused) and they move with the BAR; MSI-X
 * vectors reach the irq guest's IDT through an irqfd on an MSI route, and
 * the route follows the guest's rewrite of the table entry. The guest
 * (tests/guests/irq.c) waits for four interrupts in turn; steps 1 and 3
 * are IOAPIC lines raised directly, 2 and 4 are the device's
 * configuration interrupts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "harness.h"
#include "pci/msix.h"
#include "pci/pci.h"
#include "virtio/pci.h"

const bool test_needs_kvm = true;

#define MSI_ADDR 0xfee00000ull /* destination APIC id 0, physical mode */
#define NQ       2

static void nothing(void *dev)
{
    (void)dev;
}

static void no_queue(void *dev, unsigned q)
{
    (void)dev;
    (void)q;
}

static const struct em_virtio_device_ops quiet_ops = {
    .name = "quiet",
    .device_id = 42,
    .num_queues = NQ,
    .queue_max_size = 16,
    .queue_notify = no_queue,
    .reset = nothing,
};

static void set_gsi(void *opaque, unsigned gsi, int level)
{
    kc_vm_irq_line(opaque, gsi, level);
}

struct rig {
    struct kt_vm *t;
    struct em_pci_bus *bus;
    struct em_virtio_pci *vp;
    struct em_pci_dev *pci;
};

static void rig_up(struct rig *r)
{
    struct em_pci_bus_config cfg;
    struct em_virtio_dev *vd;

    r->t = kt_vm_new(1, NULL);
    cfg = (struct em_pci_bus_config){
        .pio = kc_vm_pio_bus(r->t->vm),
        .mmio = kc_vm_mmio_bus(r->t->vm),
        .log = &r->t->log.logger,
        .set_gsi = set_gsi,
        .opaque = r->t->vm,
        .accel = &em_pci_kvm_accel,
        .accel_opaque = r->t->vm,
    };
    r->bus = em_pci_bus_create(&cfg);
    ck_assert_ptr_nonnull(r->bus);
    vd = em_virtio_create(&quiet_ops, NULL, kc_vm_mem(r->t->vm), &r->t->log.logger);
    ck_assert_ptr_nonnull(vd);
    r->vp = em_virtio_pci_plug(r->bus, vd, -1, "quiet");
    ck_assert_msg(r->vp != NULL, "%s", r->t->log.text);
    r->pci = em_virtio_pci_dev(r->vp);
}

static void rig_down(struct rig *r)
{
    em_virtio_pci_destroy(r->vp);
    em_pci_bus_destroy(r->bus);
    /* Unbinding the doorbells and irqfds: KVM took every call. */
    ck_assert_msg(!log_has(&r->t->log, "KVM_"), "%s", r->t->log.text);
    kt_vm_free(r->t);
}

static uint64_t bar4(struct rig *r)
{
    return em_pci_bar_addr(r->pci, EM_VIRTIO_PCI_BAR);
}

static void mmio_w(struct rig *r, uint64_t addr, uint64_t v, unsigned size)
{
    bool stop;

    ck_assert(kc_bus_write(kc_vm_mmio_bus(r->t->vm), addr, v, size, &stop));
}

static uint64_t mmio_r(struct rig *r, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    bool stop;

    ck_assert(kc_bus_read(kc_vm_mmio_bus(r->t->vm), addr, size, &v, &stop));
    return v;
}

static void cfg_w(struct rig *r, unsigned off, uint32_t v, unsigned size)
{
    em_pci_config_write(r->bus, 0, em_pci_dev_slot(r->pci), 0, off, v, size);
}

static uint32_t cfg_r(struct rig *r, unsigned off, unsigned size)
{
    return em_pci_config_read(r->bus, 0, em_pci_dev_slot(r->pci), 0, off, size);
}

/* Whether KVM already has an ioeventfd at (addr, 2 bytes): a second one
 * is refused with EEXIST. A raw ioctl, so that the expected refusal is not
 * logged as the VM's error. */
static bool kvm_has_doorbell(struct rig *r, uint64_t addr)
{
    int fd = eventfd(0, EFD_CLOEXEC);
    struct kvm_ioeventfd ev = { .addr = addr, .len = 2, .fd = fd };
    bool taken;

    ck_assert_int_ge(fd, 0);
    if (ioctl(kc_vm_fd(r->t->vm), KVM_IOEVENTFD, &ev) == 0) {
        ev.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
        ck_assert_int_eq(ioctl(kc_vm_fd(r->t->vm), KVM_IOEVENTFD, &ev), 0);
        taken = false;
    } else {
        ck_assert_int_eq(errno, EEXIST);
        taken = true;
    }
    close(fd);
    return taken;
}

START_TEST(doorbells_are_kvm_ioeventfds)
{
    struct rig r;
    uint64_t base, moved = 0xd0000000ull;

    rig_up(&r);
    base = bar4(&r);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(r.vp), NQ);
    for (unsigned q = 0; q < NQ; q++)
        ck_assert(kvm_has_doorbell(&r, base + EM_VIRTIO_PCI_NOTIFY_OFF + 4 * q));
    /* Not beyond the queues. */
    ck_assert(!kvm_has_doorbell(&r, base + EM_VIRTIO_PCI_NOTIFY_OFF + 4 * NQ));

    /* The guest moves the BAR: the doorbells follow. */
    cfg_w(&r, EM_PCI_BAR0 + 4 * EM_VIRTIO_PCI_BAR, (uint32_t)moved | 0x4, 4);
    ck_assert_uint_eq(bar4(&r), moved);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(r.vp), NQ);
    for (unsigned q = 0; q < NQ; q++) {
        ck_assert(!kvm_has_doorbell(&r, base + EM_VIRTIO_PCI_NOTIFY_OFF + 4 * q));
        ck_assert(kvm_has_doorbell(&r, moved + EM_VIRTIO_PCI_NOTIFY_OFF + 4 * q));
    }
    /* Decoding off: none; on: back. */
    cfg_w(&r, EM_PCI_COMMAND, cfg_r(&r, EM_PCI_COMMAND, 2) & ~EM_PCI_CMD_MEM, 2);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(r.vp), 0);
    ck_assert(!kvm_has_doorbell(&r, moved + EM_VIRTIO_PCI_NOTIFY_OFF));
    cfg_w(&r, EM_PCI_COMMAND, cfg_r(&r, EM_PCI_COMMAND, 2) | EM_PCI_CMD_MEM, 2);
    ck_assert_uint_eq(em_virtio_pci_ioeventfds(r.vp), NQ);
    ck_assert(kvm_has_doorbell(&r, moved + EM_VIRTIO_PCI_NOTIFY_OFF));
    rig_down(&r);
}
END_TEST

static void step(struct kt_vm *t, uint32_t ready)
{
    ck_assert_msg(kt_wait_report(t, ready, KT_TIMEOUT_S), "guest never reported ready %u", ready);
}

static void delivered(struct kt_vm *t, uint32_t vector)
{
    ck_assert_msg(kt_wait_report(t, 0x1000 | vector, KT_TIMEOUT_S),
                  "vector 0x%x never reached the guest (%s)", vector, t->log.text);
}

static void config_interrupt(struct rig *r)
{
    struct em_virtio_dev *vd = em_virtio_pci_vdev(r->vp);

    em_virtio_lock(vd);
    em_virtio_config_changed(vd);
    em_virtio_unlock(vd);
}

START_TEST(msix_vectors_reach_the_guest)
{
    static const uint32_t want[] = { 1, 0x1040, 2, 0x1041, 3, 0x1042, 4, 0x1043 };
    uint32_t got[KT_MAX_REPORTS];
    struct rig r;
    uint64_t common, table;
    unsigned msix_cap;

    rig_up(&r);
    common = bar4(&r) + EM_VIRTIO_PCI_COMMON_OFF;
    table = em_pci_bar_addr(r.pci, EM_VIRTIO_PCI_MSIX_BAR);
    msix_cap = (unsigned)em_pci_dev_find_cap(r.pci, 0x11);

    /* A driver's set-up: entry 0 to vector 0x41, MSI-X on, the config
     * vector 0, features, DRIVER_OK. */
    mmio_w(&r, table + 0, MSI_ADDR, 4);
    mmio_w(&r, table + 4, 0, 4);
    mmio_w(&r, table + 8, 0x41, 4);
    mmio_w(&r, table + 12, 0, 4);
    cfg_w(&r, msix_cap + 2, EM_MSIX_CTRL_ENABLE, 2);
    mmio_w(&r, common + VIRTIO_PCI_COMMON_MSIX, 0, 2);
    ck_assert_uint_eq(mmio_r(&r, common + VIRTIO_PCI_COMMON_MSIX, 2), 0);
    mmio_w(&r, common + VIRTIO_PCI_COMMON_STATUS, 3, 1);
    mmio_w(&r, common + VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    mmio_w(&r, common + VIRTIO_PCI_COMMON_GF, 1, 4); /* VERSION_1 */
    mmio_w(&r, common + VIRTIO_PCI_COMMON_STATUS, 0xb, 1);
    mmio_w(&r, common + VIRTIO_PCI_COMMON_STATUS, 0xf, 1);
    ck_assert_uint_eq(mmio_r(&r, common + VIRTIO_PCI_COMMON_STATUS, 1), 0xf);

    kt_boot(r.t, "irq", KT_LONG);
    kt_start(r.t, 0);
    step(r.t, 1);
    ck_assert_int_eq(kc_vm_irq_line(r.t->vm, 10, 1), 0);
    ck_assert_int_eq(kc_vm_irq_line(r.t->vm, 10, 0), 0);
    delivered(r.t, 0x40);

    /* The device's configuration interrupt: an irqfd on an MSI route. */
    step(r.t, 2);
    config_interrupt(&r);
    delivered(r.t, 0x41);

    step(r.t, 3);
    ck_assert_int_eq(kc_vm_irq_line(r.t->vm, 11, 1), 0);
    ck_assert_int_eq(kc_vm_irq_line(r.t->vm, 11, 0), 0);
    delivered(r.t, 0x42);

    /* The guest retargets the entry (masked while it writes): the route
     * follows, and the interrupt arrives as the new vector. */
    step(r.t, 4);
    mmio_w(&r, table + 12, 1, 4);
    mmio_w(&r, table + 8, 0x43, 4);
    mmio_w(&r, table + 12, 0, 4);
    config_interrupt(&r);
    delivered(r.t, 0x43);

    ck_assert_int_eq(kt_join(r.t, 0, KT_TIMEOUT_S), KC_LOOP_EXIT);
    ck_assert_int_eq(r.t->exit_code[0], 0);
    ck_assert_uint_eq(kt_reports(r.t, got, KT_MAX_REPORTS), 8);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_msg(got[i] == want[i], "report %u: 0x%x, want 0x%x", i, got[i], want[i]);
    rig_down(&r);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("virtio-pci-kvm");
    TCase *tc = tcase_create("virtio-pci-kvm");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, doorbells_are_kvm_ioeventfds);
    tcase_add_test(tc, msix_vectors_reach_the_guest);
    suite_add_tcase(s, tc);
    return s;
}
