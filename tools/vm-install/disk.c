/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk images that do not exist yet: sparse raw files of their size. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vm-install.h"

static void say_size(uint64_t bytes, char *buf, size_t len)
{
    double gib = (double)bytes / 1073741824.0;

    if (gib >= 1)
        snprintf(buf, len, "%.4g GiB", gib);
    else
        snprintf(buf, len, "%.4g MiB", (double)bytes / 1048576.0);
}

int vi_disks_create(const struct vi_opts *o, bool created[VI_MAX_DISKS])
{
    memset(created, 0, sizeof(bool) * VI_MAX_DISKS);
    for (unsigned i = 0; i < o->ndisks; i++) {
        const struct vi_disk *d = &o->disks[i];
        char size[32];
        int fd;

        if (access(d->path, F_OK) == 0)
            continue;
        /* O_EXCL: an image that appeared meanwhile is someone's, not ours. */
        fd = open(d->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)d->size) < 0 || fsync(fd) < 0) {
            int e = errno;

            if (fd >= 0) {
                close(fd);
                unlink(d->path);
            }
            fprintf(stderr, "error: --disk path=%s: cannot create the image: %s\n", d->path,
                    strerror(e));
            vi_disks_remove(o, created);
            return -1;
        }
        close(fd);
        created[i] = true;
        say_size(d->size, size, sizeof(size));
        printf("Created disk image %s (%s, sparse)\n", d->path, size);
    }
    return 0;
}

void vi_disks_remove(const struct vi_opts *o, const bool created[VI_MAX_DISKS])
{
    for (unsigned i = 0; i < o->ndisks; i++)
        if (created[i] && unlink(o->disks[i].path) == 0)
            printf("Removed disk image %s\n", o->disks[i].path);
}
