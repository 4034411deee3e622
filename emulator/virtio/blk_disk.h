/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-blk's backing file: opening it as --disk says, and its geometry. */
#ifndef EM_BLK_DISK_H
#define EM_BLK_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "options.h"

struct em_blk_disk {
    int fd;
    char name[256];          /* the path, or "fd N", for messages */
    uint64_t capacity;       /* in 512-byte sectors */
    uint32_t logical_block;  /* the block size the guest is told (>= 512) */
    uint32_t physical_block; /* for the topology hint */
    /* O_DIRECT's alignment rules (cache=none), from statx(STATX_DIOALIGN). */
    uint32_t dio_mem_align;
    uint32_t dio_offset_align;
    bool readonly;
    bool direct;
    bool is_bdev;
};

/* Opens d's path (or a duplicate of its fd) and probes it. 0, or -errno
 * after logging why, naming the disk. */
int em_blk_disk_open(struct em_blk_disk *disk, const struct em_disk_spec *d,
                     const struct kc_logger *log);
void em_blk_disk_close(struct em_blk_disk *disk);

#endif
