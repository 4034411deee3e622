/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Dirty page logging per memory slot. */
#include <errno.h>
#include <string.h>

#include <linux/kvm.h>

#include "internal.h"

int kc_vm_dirty_log_enable(struct kc_vm *vm, struct kc_region *region, bool on)
{
    bool old = region->dirty_logging;
    int ret;

    if (region->slot < 0) {
        KCI_ERR(&vm->log, "RAM region '%s' is not mapped into the VM", region->name);
        return -EINVAL;
    }
    if (old == on)
        return 0;
    region->dirty_logging = on;
    ret = kci_vm_set_slot(vm, region, true);
    if (ret < 0)
        region->dirty_logging = old;
    return ret;
}

size_t kc_vm_dirty_log_words(const struct kc_region *region)
{
    uint64_t pages = region->size / KCI_PAGE_SIZE;

    return (size_t)((pages + 63) / 64);
}

int kc_vm_dirty_log_fetch(struct kc_vm *vm, struct kc_region *region, uint64_t *bitmap,
                          size_t words)
{
    struct kvm_dirty_log log = { .slot = (uint32_t)region->slot };
    size_t need = kc_vm_dirty_log_words(region);
    int ret;

    if (!region->dirty_logging) {
        KCI_ERR(&vm->log, "RAM region '%s': dirty logging is not enabled", region->name);
        return -EINVAL;
    }
    if (words < need) {
        KCI_ERR(&vm->log, "RAM region '%s': dirty bitmap needs %zu words, got %zu", region->name,
                need, words);
        return -EINVAL;
    }
    memset(bitmap, 0, words * sizeof(*bitmap));
    log.dirty_bitmap = bitmap;
    /* Without KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enabled, this both fetches
     * and re-protects, i.e. clears, the log. */
    ret = kci_ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log);
    if (ret < 0)
        KCI_ERR(&vm->log, "RAM region '%s': KVM_GET_DIRTY_LOG: %s", region->name, strerror(-ret));
    return ret;
}
