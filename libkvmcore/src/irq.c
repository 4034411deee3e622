/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interrupt lines, MSIs, GSI routes, irqfds and ioeventfds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

static int need_irqchip(struct kc_vm *vm, const char *what)
{
    if (!vm->irqchip) {
        KCI_ERR(&vm->log, "%s needs the in-kernel irqchip", what);
        return -ENODEV;
    }
    return kci_vm_realize_irqchip(vm);
}

int kc_vm_irq_line(struct kc_vm *vm, unsigned gsi, int level)
{
    struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };
    int ret = need_irqchip(vm, "KVM_IRQ_LINE");

    if (ret < 0)
        return ret;
    ret = kci_ioctl(vm->fd, KVM_IRQ_LINE, &irq);
    if (ret < 0)
        KCI_ERR(&vm->log, "KVM_IRQ_LINE gsi %u level %d: %s", gsi, level, strerror(-ret));
    return ret;
}

int kc_vm_signal_msi(struct kc_vm *vm, uint64_t addr, uint32_t data)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr,
        .address_hi = (uint32_t)(addr >> 32),
        .data = data,
    };
    int ret = need_irqchip(vm, "KVM_SIGNAL_MSI");

    if (ret < 0)
        return ret;
    ret = kci_ioctl(vm->fd, KVM_SIGNAL_MSI, &msi);
    if (ret < 0) {
        KCI_ERR(&vm->log, "KVM_SIGNAL_MSI addr 0x%llx data 0x%x: %s", (unsigned long long)addr,
                data, strerror(-ret));
        return ret;
    }
    if (ret == 0) {
        /* Not an error of ours: the guest has the interrupt blocked. */
        KCI_DBG(&vm->log, "MSI addr 0x%llx data 0x%x blocked by the guest",
                (unsigned long long)addr, data);
        return -EBUSY;
    }
    return 0;
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so every change rewrites
 * KVM's default routes (GSI 0-15 to both PICs and the IOAPIC, 16-23 to the
 * IOAPIC only) followed by the MSI routes in use. Called with vm->lock.
 */
static int commit_routes(struct kc_vm *vm)
{
    struct kvm_irq_routing *table;
    unsigned n = 0, max = 16 * 2 + 8 + KCI_MAX_MSI_ROUTES;
    int ret;

    table = calloc(1, sizeof(*table) + max * sizeof(table->entries[0]));
    if (!table) {
        KCI_ERR(&vm->log, "GSI routing: out of memory");
        return -ENOMEM;
    }
    for (unsigned gsi = 0; gsi < KCI_IOAPIC_PINS; gsi++) {
        struct kvm_irq_routing_entry *e;

        if (gsi < 16) {
            e = &table->entries[n++];
            e->gsi = gsi;
            e->type = KVM_IRQ_ROUTING_IRQCHIP;
            e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
            e->u.irqchip.pin = gsi % 8;
        }
        e = &table->entries[n++];
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_IRQCHIP;
        e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
        e->u.irqchip.pin = gsi;
    }
    for (unsigned i = 0; i < KCI_MAX_MSI_ROUTES; i++) {
        struct kvm_irq_routing_entry *e;

        if (!vm->msi_routes[i].used)
            continue;
        e = &table->entries[n++];
        e->gsi = KCI_IOAPIC_PINS + i;
        e->type = KVM_IRQ_ROUTING_MSI;
        e->u.msi.address_lo = (uint32_t)vm->msi_routes[i].addr;
        e->u.msi.address_hi = (uint32_t)(vm->msi_routes[i].addr >> 32);
        e->u.msi.data = vm->msi_routes[i].data;
    }
    table->nr = n;
    ret = kci_ioctl(vm->fd, KVM_SET_GSI_ROUTING, table);
    if (ret < 0)
        KCI_ERR(&vm->log, "KVM_SET_GSI_ROUTING with %u routes: %s", n, strerror(-ret));
    free(table);
    return ret;
}

int kc_vm_msi_route_add(struct kc_vm *vm, uint64_t addr, uint32_t data)
{
    int ret = need_irqchip(vm, "an MSI route");
    unsigned i;

    if (ret < 0)
        return ret;
    pthread_mutex_lock(&vm->lock);
    for (i = 0; i < KCI_MAX_MSI_ROUTES && vm->msi_routes[i].used; i++)
        ;
    if (i == KCI_MAX_MSI_ROUTES) {
        KCI_ERR(&vm->log, "MSI routes: all %d in use", KCI_MAX_MSI_ROUTES);
        ret = -ENOSPC;
        goto out;
    }
    vm->msi_routes[i] = (struct kci_msi_route){ true, addr, data };
    ret = commit_routes(vm);
    if (ret < 0) {
        vm->msi_routes[i].used = false;
        goto out;
    }
    ret = KCI_IOAPIC_PINS + (int)i;
out:
    pthread_mutex_unlock(&vm->lock);
    return ret;
}

static struct kci_msi_route *route_of(struct kc_vm *vm, unsigned gsi)
{
    if (gsi < KCI_IOAPIC_PINS || gsi >= KCI_IOAPIC_PINS + KCI_MAX_MSI_ROUTES ||
        !vm->msi_routes[gsi - KCI_IOAPIC_PINS].used) {
        KCI_ERR(&vm->log, "GSI %u is not an MSI route of this VM", gsi);
        return NULL;
    }
    return &vm->msi_routes[gsi - KCI_IOAPIC_PINS];
}

int kc_vm_msi_route_update(struct kc_vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
    struct kci_msi_route *r, old;
    int ret = -ENOENT;

    pthread_mutex_lock(&vm->lock);
    r = route_of(vm, gsi);
    if (r) {
        old = *r;
        r->addr = addr;
        r->data = data;
        ret = commit_routes(vm);
        if (ret < 0)
            *r = old;
    }
    pthread_mutex_unlock(&vm->lock);
    return ret;
}

int kc_vm_msi_route_remove(struct kc_vm *vm, unsigned gsi)
{
    struct kci_msi_route *r;
    int ret = -ENOENT;

    pthread_mutex_lock(&vm->lock);
    r = route_of(vm, gsi);
    if (r) {
        r->used = false;
        ret = commit_routes(vm);
        if (ret < 0)
            r->used = true;
    }
    pthread_mutex_unlock(&vm->lock);
    return ret;
}

static int irqfd(struct kc_vm *vm, int fd, unsigned gsi, int resample_fd, bool assign)
{
    struct kvm_irqfd req = { .fd = (uint32_t)fd, .gsi = gsi };
    int ret = need_irqchip(vm, "an irqfd");

    if (ret < 0)
        return ret;
    if (!assign)
        req.flags |= KVM_IRQFD_FLAG_DEASSIGN;
    else if (resample_fd >= 0) {
        req.flags |= KVM_IRQFD_FLAG_RESAMPLE;
        req.resamplefd = (uint32_t)resample_fd;
    }
    ret = kci_ioctl(vm->fd, KVM_IRQFD, &req);
    if (ret < 0)
        KCI_ERR(&vm->log, "KVM_IRQFD %s fd %d gsi %u: %s", assign ? "assign" : "deassign", fd, gsi,
                strerror(-ret));
    return ret;
}

int kc_vm_irqfd_add(struct kc_vm *vm, int fd, unsigned gsi, int resample_fd)
{
    return irqfd(vm, fd, gsi, resample_fd, true);
}

int kc_vm_irqfd_remove(struct kc_vm *vm, int fd, unsigned gsi)
{
    return irqfd(vm, fd, gsi, -1, false);
}

static int ioeventfd(struct kc_vm *vm, const struct kc_ioeventfd *ev, bool assign)
{
    struct kvm_ioeventfd req = {
        .datamatch = ev->data,
        .addr = ev->addr,
        .len = ev->len,
        .fd = ev->fd,
    };
    int ret;

    if (ev->len != 0 && ev->len != 1 && ev->len != 2 && ev->len != 4 && ev->len != 8) {
        KCI_ERR(&vm->log, "ioeventfd at 0x%llx: length %u is not 0, 1, 2, 4 or 8",
                (unsigned long long)ev->addr, ev->len);
        return -EINVAL;
    }
    if (ev->pio)
        req.flags |= KVM_IOEVENTFD_FLAG_PIO;
    if (ev->datamatch)
        req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    if (!assign)
        req.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
    ret = kci_ioctl(vm->fd, KVM_IOEVENTFD, &req);
    if (ret < 0)
        KCI_ERR(&vm->log, "KVM_IOEVENTFD %s %s 0x%llx len %u fd %d: %s",
                assign ? "assign" : "deassign", ev->pio ? "port" : "MMIO",
                (unsigned long long)ev->addr, ev->len, ev->fd, strerror(-ret));
    return ret;
}

int kc_vm_ioeventfd_add(struct kc_vm *vm, const struct kc_ioeventfd *ev)
{
    return ioeventfd(vm, ev, true);
}

int kc_vm_ioeventfd_remove(struct kc_vm *vm, const struct kc_ioeventfd *ev)
{
    return ioeventfd(vm, ev, false);
}

static int irqchip_ioctl(struct kc_vm *vm, unsigned long req, const char *name,
                         struct kvm_irqchip *chip, unsigned id)
{
    int ret;

    chip->chip_id = id;
    ret = kci_ioctl(vm->fd, req, chip);
    if (ret < 0)
        KCI_ERR(&vm->log, "%s chip %u: %s", name, id, strerror(-ret));
    return ret;
}

int kc_vm_get_irqchip_state(struct kc_vm *vm, struct kc_irqchip_state *st)
{
    int ret = need_irqchip(vm, "saving interrupt controller state");

    memset(st, 0, sizeof(*st));
    if (ret == 0)
        ret = irqchip_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &st->pic_master,
                            KVM_IRQCHIP_PIC_MASTER);
    if (ret == 0)
        ret = irqchip_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &st->pic_slave,
                            KVM_IRQCHIP_PIC_SLAVE);
    if (ret == 0)
        ret =
            irqchip_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &st->ioapic, KVM_IRQCHIP_IOAPIC);
    if (ret == 0 && vm->pit) {
        ret = kci_ioctl(vm->fd, KVM_GET_PIT2, &st->pit);
        if (ret < 0)
            KCI_ERR(&vm->log, "KVM_GET_PIT2: %s", strerror(-ret));
        st->has_pit = ret == 0;
    }
    return ret < 0 ? ret : 0;
}

int kc_vm_set_irqchip_state(struct kc_vm *vm, const struct kc_irqchip_state *st)
{
    struct kc_irqchip_state copy = *st;
    int ret = need_irqchip(vm, "restoring interrupt controller state");

    if (ret == 0)
        ret = irqchip_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &copy.pic_master,
                            KVM_IRQCHIP_PIC_MASTER);
    if (ret == 0)
        ret = irqchip_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &copy.pic_slave,
                            KVM_IRQCHIP_PIC_SLAVE);
    if (ret == 0)
        ret =
            irqchip_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &copy.ioapic, KVM_IRQCHIP_IOAPIC);
    if (ret == 0 && st->has_pit && vm->pit) {
        ret = kci_ioctl(vm->fd, KVM_SET_PIT2, &copy.pit);
        if (ret < 0)
            KCI_ERR(&vm->log, "KVM_SET_PIT2: %s", strerror(-ret));
    }
    return ret < 0 ? ret : 0;
}
