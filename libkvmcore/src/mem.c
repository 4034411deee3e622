/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Guest RAM regions backed by memfd, and the checked accessors over them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define HUGE_PAGE_SIZE (2ull << 20)

struct kc_mem *kc_mem_create(const struct kc_logger *log)
{
    struct kc_mem *mem = calloc(1, sizeof(*mem));

    if (!mem) {
        KCI_ERR(log, "guest memory map: out of memory");
        return NULL;
    }
    mem->log = log ? *log : KC_LOGGER_DEFAULT;
    pthread_mutex_init(&mem->lock, NULL);
    return mem;
}

static void region_free(struct kc_region *r)
{
    if (r->host)
        munmap(r->host, r->size);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

void kc_mem_destroy(struct kc_mem *mem)
{
    if (!mem)
        return;
    for (unsigned i = 0; i < atomic_load(&mem->count); i++)
        region_free(atomic_load(&mem->regions[i]));
    pthread_mutex_destroy(&mem->lock);
    free(mem);
}

/* [a, a+alen) and [b, b+blen) intersect; neither wraps. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static int check_new_region(struct kc_mem *mem, uint64_t gpa, uint64_t size, unsigned flags,
                            const char *name)
{
    uint64_t align = (flags & KC_REGION_HUGETLB) ? HUGE_PAGE_SIZE : KCI_PAGE_SIZE;

    if (size == 0 || size % align || gpa % align) {
        KCI_ERR(&mem->log,
                "RAM region '%s' at 0x%llx, size 0x%llx: address and size must be "
                "non-zero multiples of 0x%llx",
                name, (unsigned long long)gpa, (unsigned long long)size, (unsigned long long)align);
        return -EINVAL;
    }
    if (gpa + size < gpa) {
        KCI_ERR(&mem->log,
                "RAM region '%s' at 0x%llx, size 0x%llx: wraps past the end of the "
                "address space",
                name, (unsigned long long)gpa, (unsigned long long)size);
        return -EINVAL;
    }
    if (flags & ~(unsigned)(KC_REGION_HUGETLB | KC_REGION_READONLY)) {
        KCI_ERR(&mem->log, "RAM region '%s': unknown flags 0x%x", name, flags);
        return -EINVAL;
    }
    for (unsigned i = 0; i < atomic_load(&mem->count); i++) {
        const struct kc_region *o = atomic_load(&mem->regions[i]);

        if (ranges_overlap(gpa, size, o->gpa, o->size)) {
            KCI_ERR(&mem->log,
                    "RAM region '%s' [0x%llx, 0x%llx) overlaps region '%s' [0x%llx, 0x%llx)", name,
                    (unsigned long long)gpa, (unsigned long long)(gpa + size), o->name,
                    (unsigned long long)o->gpa, (unsigned long long)(o->gpa + o->size));
            return -EEXIST;
        }
    }
    if (atomic_load(&mem->count) == KC_MEM_MAX_REGIONS) {
        KCI_ERR(&mem->log, "RAM region '%s': at most %d regions", name, KC_MEM_MAX_REGIONS);
        return -ENOSPC;
    }
    return 0;
}

static const char *hugetlb_hint(unsigned flags)
{
    return (flags & KC_REGION_HUGETLB) ? " (are enough 2 MiB huge pages reserved in "
                                         "/proc/sys/vm/nr_hugepages?)"
                                       : "";
}

static struct kc_region *region_alloc(struct kc_mem *mem, uint64_t gpa, uint64_t size,
                                      unsigned flags, const char *name)
{
    struct kc_region *r = calloc(1, sizeof(*r));
    unsigned mfd_flags = MFD_CLOEXEC;

    if (!r) {
        KCI_ERR(&mem->log, "RAM region '%s': out of memory", name);
        return NULL;
    }
    r->fd = -1;
    r->gpa = gpa;
    r->size = size;
    r->flags = flags;
    r->slot = -1;
    snprintf(r->name, sizeof(r->name), "%s", name);

    if (flags & KC_REGION_HUGETLB)
        mfd_flags |= MFD_HUGETLB;
    r->fd = memfd_create(r->name, mfd_flags);
    if (r->fd < 0) {
        KCI_ERR(&mem->log, "RAM region '%s': memfd_create: %s", name, strerror(errno));
        goto fail;
    }
    if (ftruncate(r->fd, (off_t)size) < 0) {
        KCI_ERR(&mem->log, "RAM region '%s': cannot size memfd to %llu bytes: %s%s", name,
                (unsigned long long)size, strerror(errno), hugetlb_hint(flags));
        goto fail;
    }
    r->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (r->host == MAP_FAILED) {
        r->host = NULL;
        /* With no huge pages reserved, this is where hugetlb fails. */
        KCI_ERR(&mem->log, "RAM region '%s': mmap of %llu bytes: %s%s", name,
                (unsigned long long)size, strerror(errno), hugetlb_hint(flags));
        goto fail;
    }
    return r;

fail : {
    int err = errno;

    region_free(r);
    errno = err;
    return NULL;
}
}

struct kc_region *kc_mem_add_ram(struct kc_mem *mem, uint64_t gpa, uint64_t size, unsigned flags,
                                 const char *name)
{
    struct kc_region *r = NULL;
    unsigned n;
    int ret;

    if (!name)
        name = "ram";
    pthread_mutex_lock(&mem->lock);
    ret = check_new_region(mem, gpa, size, flags, name);
    if (ret < 0) {
        errno = -ret;
        goto out;
    }
    r = region_alloc(mem, gpa, size, flags, name);
    if (!r)
        goto out;
    n = atomic_load(&mem->count);
    atomic_store_explicit(&mem->regions[n], r, memory_order_release);
    atomic_store_explicit(&mem->count, n + 1, memory_order_release);
out:
    pthread_mutex_unlock(&mem->lock);
    return r;
}

void kc_mem_remove(struct kc_mem *mem, struct kc_region *region)
{
    unsigned n, i;

    if (!region)
        return;
    pthread_mutex_lock(&mem->lock);
    n = atomic_load(&mem->count);
    for (i = 0; i < n; i++)
        if (atomic_load(&mem->regions[i]) == region)
            break;
    if (i < n) {
        for (; i + 1 < n; i++)
            atomic_store(&mem->regions[i], atomic_load(&mem->regions[i + 1]));
        atomic_store(&mem->count, n - 1);
        region_free(region);
    }
    pthread_mutex_unlock(&mem->lock);
}

struct kc_region *kc_mem_find(const struct kc_mem *mem, uint64_t gpa)
{
    unsigned n = atomic_load_explicit(&mem->count, memory_order_acquire);

    for (unsigned i = 0; i < n; i++) {
        struct kc_region *r = atomic_load_explicit(&mem->regions[i], memory_order_acquire);

        if (gpa >= r->gpa && gpa - r->gpa < r->size)
            return r;
    }
    return NULL;
}

unsigned kc_mem_region_count(const struct kc_mem *mem)
{
    return atomic_load_explicit(&mem->count, memory_order_acquire);
}

struct kc_region *kc_mem_region_at(const struct kc_mem *mem, unsigned index)
{
    if (index >= kc_mem_region_count(mem))
        return NULL;
    return atomic_load_explicit(&mem->regions[index], memory_order_acquire);
}

uint64_t kc_region_gpa(const struct kc_region *r)
{
    return r->gpa;
}

uint64_t kc_region_size(const struct kc_region *r)
{
    return r->size;
}

void *kc_region_host(const struct kc_region *r)
{
    return r->host;
}

int kc_region_fd(const struct kc_region *r)
{
    return r->fd;
}

unsigned kc_region_flags(const struct kc_region *r)
{
    return r->flags;
}

const char *kc_region_name(const struct kc_region *r)
{
    return r->name;
}

int kc_region_slot(const struct kc_region *r)
{
    return r->slot;
}

static void *ptr_in_region(const struct kc_mem *mem, uint64_t gpa, uint64_t len, bool write)
{
    struct kc_region *r;
    uint64_t off;

    if (len == 0)
        return NULL;
    r = kc_mem_find(mem, gpa);
    if (!r || (write && (r->flags & KC_REGION_READONLY)))
        return NULL;
    off = gpa - r->gpa;
    /* off < size here, so size - off cannot underflow, and comparing len
     * against it avoids computing gpa + len, which could wrap. */
    if (len > r->size - off)
        return NULL;
    return r->host + off;
}

void *kc_mem_ptr(const struct kc_mem *mem, uint64_t gpa, uint64_t len)
{
    return ptr_in_region(mem, gpa, len, false);
}

void *kc_mem_ptr_rw(const struct kc_mem *mem, uint64_t gpa, uint64_t len)
{
    return ptr_in_region(mem, gpa, len, true);
}

/*
 * Walks [gpa, gpa + len) region by region. With copy == false it only
 * checks that every byte is covered, so that a failed copy copies nothing.
 */
static int walk(const struct kc_mem *mem, uint64_t gpa, uint8_t *buf, uint64_t len, bool write,
                bool copy)
{
    if (gpa + len < gpa && gpa + len != 0)
        return -EFAULT;
    while (len) {
        struct kc_region *r = kc_mem_find(mem, gpa);
        uint64_t off, chunk;

        if (!r || (write && (r->flags & KC_REGION_READONLY)))
            return -EFAULT;
        off = gpa - r->gpa;
        chunk = r->size - off < len ? r->size - off : len;
        if (copy) {
            if (write)
                memcpy(r->host + off, buf, chunk);
            else
                memcpy(buf, r->host + off, chunk);
        }
        buf += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return 0;
}

int kc_mem_read(const struct kc_mem *mem, uint64_t gpa, void *buf, uint64_t len)
{
    int ret = walk(mem, gpa, buf, len, false, false);

    return ret < 0 ? ret : walk(mem, gpa, buf, len, false, true);
}

int kc_mem_write(const struct kc_mem *mem, uint64_t gpa, const void *buf, uint64_t len)
{
    int ret = walk(mem, gpa, (uint8_t *)buf, len, true, false);

    return ret < 0 ? ret : walk(mem, gpa, (uint8_t *)buf, len, true, true);
}
