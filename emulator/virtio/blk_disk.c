/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening virtio-blk's backing file: a regular file or a block device,
 * by path or as a descriptor handed to kvmemu (duplicated, so that the
 * device owns what it closes). cache=none adds O_DIRECT, whose alignment
 * rules come from statx(STATX_DIOALIGN); the guest is then told a block
 * size no smaller than the file offset alignment, so that a driver that
 * honours blk_size never sends a request O_DIRECT cannot take.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "virtio/blk_disk.h"

#define SECTOR 512u

static bool good_block_size(uint64_t v)
{
    return v >= SECTOR && v <= 65536 && !(v & (v - 1));
}

static int open_path(struct em_blk_disk *disk, const struct em_disk_spec *d,
                     const struct kc_logger *log)
{
    int flags = (d->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (d->cache_none ? O_DIRECT : 0);
    int err;

    disk->fd = open(d->path, flags);
    if (disk->fd >= 0)
        return 0;
    err = errno;
    kc_log(log, KC_LOG_ERROR, "virtio-blk %s: cannot open it %s%s: %s", disk->name,
           d->readonly ? "read-only" : "read-write",
           d->cache_none ? " with O_DIRECT (cache=none)" : "", strerror(err));
    return -err;
}

static int adopt_fd(struct em_blk_disk *disk, const struct em_disk_spec *d,
                    const struct kc_logger *log)
{
    int fl = fcntl(d->fd, F_GETFL), acc, err;

    if (fl < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: %s", disk->name, strerror(err));
        return -err;
    }
    acc = fl & O_ACCMODE;
    if (acc == O_WRONLY || (!d->readonly && acc != O_RDWR)) {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: the descriptor is open %s, the disk needs %s%s",
               disk->name, acc == O_WRONLY ? "write-only" : "read-only",
               d->readonly ? "reading" : "reading and writing",
               acc == O_RDONLY ? " (or readonly=on)" : "");
        return -EBADF;
    }
    disk->fd = fcntl(d->fd, F_DUPFD_CLOEXEC, 0);
    if (disk->fd < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: dup: %s", disk->name, strerror(err));
        return -err;
    }
    /* O_DIRECT belongs to the open file, which the duplicate shares. */
    if (d->cache_none && !(fl & O_DIRECT) && fcntl(disk->fd, F_SETFL, fl | O_DIRECT) < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: cannot set O_DIRECT (cache=none): %s", disk->name,
               strerror(err));
        return -err;
    }
    return 0;
}

/* Size and block sizes; 0 or -errno after logging. */
static int probe(struct em_blk_disk *disk, const struct kc_logger *log)
{
    uint64_t size;
    struct stat st;
    int err;

    if (fstat(disk->fd, &st) < 0) {
        err = errno;
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: fstat: %s", disk->name, strerror(err));
        return -err;
    }
    disk->logical_block = disk->physical_block = SECTOR;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
        if (good_block_size((uint64_t)st.st_blksize))
            disk->physical_block = (uint32_t)st.st_blksize;
    } else if (S_ISBLK(st.st_mode)) {
        int lbs = 0;
        unsigned pbs = 0;

        disk->is_bdev = true;
        if (ioctl(disk->fd, BLKGETSIZE64, &size) < 0) {
            err = errno;
            kc_log(log, KC_LOG_ERROR, "virtio-blk %s: BLKGETSIZE64: %s", disk->name, strerror(err));
            return -err;
        }
        if (ioctl(disk->fd, BLKSSZGET, &lbs) == 0 && good_block_size((uint64_t)lbs))
            disk->logical_block = (uint32_t)lbs;
        if (ioctl(disk->fd, BLKPBSZGET, &pbs) == 0 && good_block_size(pbs))
            disk->physical_block = pbs;
    } else {
        kc_log(log, KC_LOG_ERROR, "virtio-blk %s: neither a regular file nor a block device",
               disk->name);
        return -EINVAL;
    }
    if (size % SECTOR)
        kc_log(log, KC_LOG_WARN,
               "virtio-blk %s: its size, %llu bytes, is not a multiple of 512: the last %llu "
               "bytes are not part of the disk",
               disk->name, (unsigned long long)size, (unsigned long long)(size % SECTOR));
    disk->capacity = size / SECTOR;
    if (disk->direct) {
        struct statx sx;

        /* Without the kernel's answer, a page is always aligned enough. */
        disk->dio_mem_align = disk->dio_offset_align = 4096;
        if (statx(disk->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
            (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_offset_align) {
            disk->dio_mem_align = sx.stx_dio_mem_align ? sx.stx_dio_mem_align : 1;
            disk->dio_offset_align = sx.stx_dio_offset_align;
        } else if (disk->is_bdev) {
            disk->dio_mem_align = disk->dio_offset_align = disk->logical_block;
        }
        if (good_block_size(disk->dio_offset_align) && disk->dio_offset_align > disk->logical_block)
            disk->logical_block = disk->dio_offset_align;
    }
    if (disk->physical_block < disk->logical_block)
        disk->physical_block = disk->logical_block;
    return 0;
}

int em_blk_disk_open(struct em_blk_disk *disk, const struct em_disk_spec *d,
                     const struct kc_logger *log)
{
    int ret;

    memset(disk, 0, sizeof(*disk));
    disk->fd = -1;
    disk->readonly = d->readonly;
    disk->direct = d->cache_none;
    if (d->path)
        snprintf(disk->name, sizeof(disk->name), "%s", d->path);
    else
        snprintf(disk->name, sizeof(disk->name), "fd %d", d->fd);
    ret = d->path ? open_path(disk, d, log) : adopt_fd(disk, d, log);
    if (ret == 0)
        ret = probe(disk, log);
    if (ret < 0)
        em_blk_disk_close(disk);
    return ret;
}

void em_blk_disk_close(struct em_blk_disk *disk)
{
    if (disk->fd >= 0)
        close(disk->fd);
    disk->fd = -1;
}
