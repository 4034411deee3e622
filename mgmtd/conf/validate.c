/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The checks across elements, once every object is read, and the device
 * values libvirt generates (MACs, PCI addresses), which need to know all
 * the given ones first.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static int check_memory(struct md_pctx *c)
{
    const struct md_domain_def *def = c->def;
    unsigned long long cur = c->seen.current_kib, mem = def->memory_kib;

    if (!c->seen.current || cur == mem)
        return 0;
    if (cur > mem)
        return md_fail_line(c, -EINVAL, c->seen.current_line,
                            "<currentMemory>: %llu KiB is more than <memory> (%llu KiB)", cur, mem);
    return md_fail_line(c, -EINVAL, c->seen.current_line,
                        "<currentMemory>: %llu KiB is less than <memory> (%llu KiB), which needs "
                        "a balloon device, and there is none; make them equal",
                        cur, mem);
}

static int check_disks(struct md_pctx *c)
{
    const struct md_domain_def *def = c->def;

    for (unsigned i = 0; i < def->nr_disks; i++) {
        const struct md_disk *d = &def->disks[i];

        for (unsigned j = 0; j < i; j++) {
            const struct md_disk *e = &def->disks[j];

            if (!strcmp(d->target, e->target))
                return md_fail_line(c, -EINVAL, d->line,
                                    "<disk>: the target '%s' is already the disk at line %d",
                                    d->target, e->line);
            /* Two writers of one image corrupt it. */
            if (!strcmp(d->source, e->source) && !(d->readonly && e->readonly))
                return md_fail_line(c, -EINVAL, d->source_line,
                                    "<source file='%s'>: the image is already the disk at line "
                                    "%d; one image can be two disks only if both are <readonly/>",
                                    d->source, e->line);
        }
    }
    return 0;
}

static int check_nics(struct md_pctx *c)
{
    const struct md_domain_def *def = c->def;

    for (unsigned i = 0; i < def->nr_nics; i++) {
        const struct md_interface *a = &def->nics[i];
        char mac[18];

        for (unsigned j = 0; j < i; j++) {
            const struct md_interface *b = &def->nics[j];
            bool both_given = !(c->seen.nic_mac_missing & (1u << i | 1u << j));

            if (both_given && !memcmp(a->mac, b->mac, 6)) {
                md_mac_format(a->mac, mac);
                return md_fail_line(c, -EINVAL, a->line,
                                    "<interface>: the MAC address %s is already the interface's "
                                    "at line %d",
                                    mac, b->line);
            }
            if (a->ifname && b->ifname && !strcmp(a->ifname, b->ifname))
                return md_fail_line(c, -EINVAL, a->line,
                                    "<interface>: the tap '%s' is already the interface's at "
                                    "line %d",
                                    a->ifname, b->line);
        }
    }
    return 0;
}

/* 52:54:00 (QEMU's and libvirt's prefix) and three random bytes, distinct
 * from every other NIC's address. */
static int generate_macs(struct md_pctx *c)
{
    struct md_domain_def *def = c->def;

    for (unsigned i = 0; i < def->nr_nics; i++) {
        bool clash = true;

        if (!(c->seen.nic_mac_missing & (1u << i)))
            continue;
        for (int tries = 0; clash && tries < 16; tries++) {
            uint8_t *mac = def->nics[i].mac;
            int ret;

            mac[0] = 0x52;
            mac[1] = 0x54;
            mac[2] = 0x00;
            ret = md_random_bytes(c, mac + 3, 3);
            if (ret)
                return ret;
            clash = false;
            for (unsigned j = 0; j < def->nr_nics; j++)
                clash |= j != i && !memcmp(def->nics[j].mac, mac, 6) &&
                         (j < i || !(c->seen.nic_mac_missing & (1u << j)));
        }
        if (clash)
            return md_fail_line(c, -EIO, def->nics[i].line,
                                "<interface>: no distinct MAC address could be generated");
    }
    return 0;
}

int md_validate(struct md_pctx *c)
{
    int ret = check_memory(c);

    if (!ret)
        ret = md_implicit_check(c);
    if (!ret)
        ret = check_disks(c);
    if (!ret)
        ret = check_nics(c);
    if (!ret)
        ret = md_cpu_check(c);
    if (!ret)
        ret = generate_macs(c);
    if (!ret)
        ret = md_addresses_assign(c);
    return ret;
}
