/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <disk type='file' device='disk'>: a raw image as a virtio-blk device,
 * kvmemu's --disk. Other disk types, formats and buses are refused until
 * kvmemu has them.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int driver_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;
    const char *name = md_attr(n, "name");
    const char *type = md_attr(n, "type");
    const char *cache = md_attr(n, "cache");
    const char *io = md_attr(n, "io");
    const char *discard = md_attr(n, "discard");
    int ret = md_leaf(c, n, MD_ATTRS("name", "type", "cache", "io", "discard"));

    if (ret)
        return ret;
    if (name && strcmp(name, "qemu"))
        return md_fail_attr(c, n, "name",
                            "the driver is kvmemu's; use name='qemu' as libvirt "
                            "writes it, or leave it out");
    if (type && strcmp(type, "raw"))
        return md_fail_attr(c, n, "type",
                            "only raw images are supported (qemu-img convert -O raw makes one)");
    if (cache && !strcmp(cache, "none"))
        d->cache = MD_CACHE_NONE;
    else if (cache && !strcmp(cache, "writeback"))
        d->cache = MD_CACHE_WRITEBACK;
    else if (cache)
        return md_fail_attr(c, n, "cache",
                            "the cache mode '%s' is not supported; use none or "
                            "writeback",
                            cache);
    if (io && strcmp(io, "io_uring"))
        return md_fail_attr(c, n, "io",
                            "kvmemu's disk I/O is always io_uring; use io='io_uring' or leave it "
                            "out");
    d->io_uring = io != NULL;
    if (discard && strcmp(discard, "unmap"))
        return md_fail_attr(c, n, "discard",
                            "kvmemu always passes the guest's discards to the image; use "
                            "discard='unmap' or leave it out");
    d->discard_unmap = discard != NULL;
    return 0;
}

static int source_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;
    const char *file = md_attr(n, "file");
    int ret = md_leaf(c, n, MD_ATTRS("file"));

    if (ret)
        return ret;
    if (!file)
        return md_fail(c, n, "the attribute 'file' is required: disks are image files");
    if (file[0] != '/')
        return md_fail_attr(c, n, "file", "'%s' is not an absolute path", file);
    if (strchr(file, ','))
        return md_fail_attr(c, n, "file", "kvmemu's --disk cannot take a path with a comma");
    d->source_line = md_line(n);
    return md_strdup(c, file, &d->source);
}

static int target_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;
    const char *dev = md_attr(n, "dev");
    const char *bus = md_attr(n, "bus");
    size_t len;
    int ret = md_leaf(c, n, MD_ATTRS("dev", "bus"));

    if (ret)
        return ret;
    if (bus && strcmp(bus, "virtio"))
        return md_fail_attr(c, n, "bus", "only virtio disks are supported; use bus='virtio'");
    if (!dev)
        return md_fail(c, n, "the attribute 'dev' is required (vda, vdb, ...)");
    len = strlen(dev);
    if (len < 3 || len > 4 || strncmp(dev, "vd", 2) ||
        strspn(dev + 2, "abcdefghijklmnopqrstuvwxyz") != len - 2)
        return md_fail_attr(c, n, "dev", "a virtio disk is named vd and letters (vda, vdb, ...)");
    return md_strdup(c, dev, &d->target);
}

static int readonly_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;

    d->readonly = true;
    return md_leaf(c, n, MD_NO_ATTRS);
}

static int serial_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_text(c, n, false, &d->serial);
    if (ret)
        return ret;
    /* libvirt's characters; the guest reads at most 20 bytes (GET_ID). */
    if (!*d->serial || strlen(d->serial) > MD_DISK_SERIAL_MAX)
        return md_fail(c, n, "a disk serial has 1 to %d characters", MD_DISK_SERIAL_MAX);
    if (strspn(d->serial, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+- ") !=
        strlen(d->serial))
        return md_fail(c, n,
                       "'%s' may only contain letters, digits, spaces and '_', '.', '+', "
                       "'-'",
                       d->serial);
    return 0;
}

static int address_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_disk *d = obj;

    return md_address_parse(c, n, &d->addr);
}

static const struct md_child disk_children[] = {
    { "driver", driver_parse, false },
    { "source", source_parse, false },
    { "target", target_parse, false },
    { "readonly", readonly_parse, false },
    { "serial", serial_parse, false },
    { "address", address_parse, false },
    { NULL, NULL, false },
};

int md_disk_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *type = md_attr(n, "type");
    const char *device = md_attr(n, "device");
    struct md_disk *d;
    int ret = md_attrs_only(c, n, MD_ATTRS("type", "device"));

    if (ret)
        return ret;
    if (type && strcmp(type, "file"))
        return md_fail(c, n, "only type='file' disks (image files) are supported");
    if (device && strcmp(device, "disk"))
        return md_fail_attr(c, n, "device",
                            "only device='disk' is supported (a virtio-blk disk; there are no "
                            "CD-ROMs, floppies or LUNs)");
    if (def->nr_disks == MD_MAX_DISKS)
        return md_fail(c, n, "at most %d disks are supported (kvmemu's limit)", MD_MAX_DISKS);
    /* Counted before its children, so that md_domain_def_free() frees
     * what a failed parse left. */
    d = &def->disks[def->nr_disks++];
    *d = (struct md_disk){ .line = md_line(n) };
    ret = md_children(c, n, disk_children, d);
    if (ret)
        return ret;
    if (!d->source)
        return md_fail(c, n, "a <source file='...'/> is required");
    if (!d->target)
        return md_fail(c, n, "a <target dev='vdX' bus='virtio'/> is required");
    return 0;
}

void md_disk_format(struct md_buf *b, const struct md_disk *d)
{
    md_buf_open(b, "disk");
    md_buf_attr(b, "type", "file");
    md_buf_attr(b, "device", "disk");
    md_buf_open_end(b);
    md_buf_open(b, "driver");
    md_buf_attr(b, "name", "qemu");
    md_buf_attr(b, "type", "raw");
    md_buf_attr(b, "cache",
                d->cache == MD_CACHE_NONE        ? "none"
                : d->cache == MD_CACHE_WRITEBACK ? "writeback"
                                                 : NULL);
    md_buf_attr(b, "io", d->io_uring ? "io_uring" : NULL);
    md_buf_attr(b, "discard", d->discard_unmap ? "unmap" : NULL);
    md_buf_empty_end(b);
    md_buf_open(b, "source");
    md_buf_attr(b, "file", d->source);
    md_buf_empty_end(b);
    md_buf_open(b, "target");
    md_buf_attr(b, "dev", d->target);
    md_buf_attr(b, "bus", "virtio");
    md_buf_empty_end(b);
    if (d->readonly) {
        md_buf_open(b, "readonly");
        md_buf_empty_end(b);
    }
    if (d->serial)
        md_buf_text_elem(b, "serial", d->serial);
    md_address_format(b, &d->addr);
    md_buf_close(b, "disk");
}

void md_disk_clear(struct md_disk *d)
{
    free(d->source);
    free(d->target);
    free(d->serial);
    *d = (struct md_disk){ 0 };
}
