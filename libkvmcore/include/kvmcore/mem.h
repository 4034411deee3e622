/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest physical memory: a set of regions, each backed by its own memfd so
 * that it can be shared with another process or saved, translated only
 * through checked accessors.
 *
 * Device code must never compute a host pointer from a guest address by
 * hand: kc_mem_ptr() returns NULL when any byte of the range lies outside
 * guest RAM, including when gpa + len wraps around.
 *
 * Concurrency: lookups are lock-free and safe from any thread, including
 * while regions are being added. Removing a region requires that no other
 * thread is using it (vCPUs paused, device threads quiesced).
 */
#ifndef KVMCORE_MEM_H
#define KVMCORE_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <kvmcore/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KC_MEM_MAX_REGIONS 64

enum kc_region_flags {
    /* Back the region with huge pages (memfd MFD_HUGETLB); size must be a
     * multiple of 2 MiB and the host must have huge pages reserved. */
    KC_REGION_HUGETLB = 1u << 0,
    /* Read-only for the guest (ROM): guest writes become MMIO exits, and
     * the _rw accessors refuse it. Host-side loaders use kc_mem_ptr(). */
    KC_REGION_READONLY = 1u << 1,
};

struct kc_mem;
struct kc_region;

/* log is copied; NULL means KC_LOGGER_DEFAULT. */
struct kc_mem *kc_mem_create(const struct kc_logger *log);
void kc_mem_destroy(struct kc_mem *mem);

/*
 * Allocates a memfd-backed region of `size` bytes (a multiple of 4 KiB) at
 * guest-physical `gpa`. Overlapping an existing region is refused. The
 * memory reads as zero. Returns the region, or NULL with errno set
 * (EINVAL for a bad range or flags, EEXIST for an overlap, ENOSPC when
 * KC_MEM_MAX_REGIONS are in use, or the failing system call's error).
 */
struct kc_region *kc_mem_add_ram(struct kc_mem *mem, uint64_t gpa, uint64_t size, unsigned flags,
                                 const char *name);
/* Unmaps and frees a region; see the concurrency note above. */
void kc_mem_remove(struct kc_mem *mem, struct kc_region *region);

/* Region whose range contains gpa, or NULL. */
struct kc_region *kc_mem_find(const struct kc_mem *mem, uint64_t gpa);
unsigned kc_mem_region_count(const struct kc_mem *mem);
struct kc_region *kc_mem_region_at(const struct kc_mem *mem, unsigned index);

uint64_t kc_region_gpa(const struct kc_region *r);
uint64_t kc_region_size(const struct kc_region *r);
void *kc_region_host(const struct kc_region *r);
int kc_region_fd(const struct kc_region *r);
unsigned kc_region_flags(const struct kc_region *r);
const char *kc_region_name(const struct kc_region *r);
/* KVM memory slot number, or -1 if the region is not mapped into a VM. */
int kc_region_slot(const struct kc_region *r);

/*
 * Host pointer for [gpa, gpa + len) if the whole range lies inside one
 * region; NULL if len is 0, if gpa + len wraps, or if any byte is outside
 * guest RAM. kc_mem_ptr_rw() also refuses read-only regions: use it for
 * writes the guest asked for (DMA).
 */
void *kc_mem_ptr(const struct kc_mem *mem, uint64_t gpa, uint64_t len);
void *kc_mem_ptr_rw(const struct kc_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Copy between guest memory and a host buffer; the range may span adjacent
 * regions. 0 on success, -EFAULT (nothing copied) if any byte is outside
 * guest RAM, or, for kc_mem_write(), inside a read-only region.
 */
int kc_mem_read(const struct kc_mem *mem, uint64_t gpa, void *buf, uint64_t len);
int kc_mem_write(const struct kc_mem *mem, uint64_t gpa, const void *buf, uint64_t len);

#ifdef __cplusplus
}
#endif

#endif
