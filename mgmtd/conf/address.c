/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <address type='pci'>: where a device sits on the machine's one PCI bus,
 * handed to kvmemu as addr=SLOT. Named slots are honoured and must not
 * clash; a device without one gets the lowest free slot from 2 (slot 1 is
 * left where libvirt's i440fx machine has its PIIX3, so that an address
 * written here is valid there too), and the slot is written back.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FIRST_FREE_SLOT 2
#define LAST_SLOT       31

static int number(struct md_pctx *c, xmlNode *n, const char *attr, unsigned long max,
                  unsigned long *out)
{
    const char *v = md_attr(n, attr);
    char *end;

    *out = 0;
    if (!v)
        return 0;
    /* Hexadecimal (0x04), as libvirt writes them, or decimal. */
    errno = 0;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        *out = strtoul(v + 2, &end, 16);
    else
        *out = strtoul(v, &end, 10);
    if (!isxdigit((unsigned char)v[v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? 2 : 0]) || *end ||
        errno || *out > max)
        return md_fail_attr(c, n, attr, "'%s' is not a number from 0 to 0x%lx", v, max);
    return 0;
}

int md_address_parse(struct md_pctx *c, xmlNode *n, struct md_pci_addr *addr)
{
    const char *type = md_attr(n, "type");
    unsigned long domain, bus, slot, function;
    int ret;

    if (!type)
        return md_fail(c, n, "the attribute 'type' is required: type='pci'");
    if (strcmp(type, "pci"))
        return md_fail(c, n,
                       "only PCI addresses are supported: devices are virtio-pci "
                       "functions on bus 0");
    ret = md_leaf(c, n, MD_ATTRS("type", "domain", "bus", "slot", "function"));
    if (!ret)
        ret = number(c, n, "domain", 0xffff, &domain);
    if (!ret)
        ret = number(c, n, "bus", 0xff, &bus);
    if (!ret)
        ret = number(c, n, "slot", 0x1f, &slot);
    if (!ret)
        ret = number(c, n, "function", 7, &function);
    if (ret)
        return ret;
    if (domain)
        return md_fail_attr(c, n, "domain", "there is one PCI domain, 0x0000");
    if (bus)
        return md_fail_attr(c, n, "bus", "there are no PCI bridges: every device is on bus 0x00");
    if (function)
        return md_fail_attr(c, n, "function", "devices are single-function: use function='0x0'");
    if (!md_attr(n, "slot"))
        return md_fail(c, n, "the attribute 'slot' is required");
    if (!slot)
        return md_fail_attr(c, n, "slot", "slot 0x00 is the host bridge's");
    addr->slot = (unsigned)slot;
    addr->line = md_line(n);
    return 0;
}

void md_address_format(struct md_buf *b, const struct md_pci_addr *addr)
{
    md_buf_open(b, "address");
    md_buf_attr(b, "type", "pci");
    md_buf_attr(b, "domain", "0x0000");
    md_buf_attr(b, "bus", "0x00");
    md_buf_attrf(b, "slot", "0x%02x", addr->slot);
    md_buf_attr(b, "function", "0x0");
    md_buf_empty_end(b);
}

struct placed {
    struct md_pci_addr *addr;
    const char *what;
    int line;
};

/* Every PCI device, in the order libvirt assigns addresses. */
static unsigned pci_devices(struct md_pctx *c, struct placed *out)
{
    struct md_domain_def *def = c->def;
    int vserial_line = c->seen.implicit.vserial_line;
    unsigned n = 0;

    if (def->vconsole.present)
        out[n++] = (struct placed){ &def->vserial_addr, "<controller type='virtio-serial'>",
                                    vserial_line ? vserial_line : def->vconsole.line };
    for (unsigned i = 0; i < def->nr_nics; i++)
        out[n++] = (struct placed){ &def->nics[i].addr, "<interface>", def->nics[i].line };
    for (unsigned i = 0; i < def->nr_disks; i++)
        out[n++] = (struct placed){ &def->disks[i].addr, "<disk>", def->disks[i].line };
    if (def->rng.present)
        out[n++] = (struct placed){ &def->rng.addr, "<rng>", def->rng.line };
    return n;
}

int md_addresses_assign(struct md_pctx *c)
{
    struct placed dev[MD_MAX_DISKS + MD_MAX_NICS + 2];
    const struct placed *owner[LAST_SLOT + 1] = { NULL };
    unsigned n = pci_devices(c, dev), next = FIRST_FREE_SLOT;

    for (unsigned i = 0; i < n; i++) {
        unsigned slot = dev[i].addr->slot;

        if (!slot)
            continue;
        if (owner[slot])
            return md_fail_line(c, -EINVAL, dev[i].addr->line,
                                "<address slot='0x%02x'>: the slot is already taken by the %s at "
                                "line %d",
                                slot, owner[slot]->what, owner[slot]->line);
        owner[slot] = &dev[i];
    }
    for (unsigned i = 0; i < n; i++) {
        if (dev[i].addr->slot)
            continue;
        while (next <= LAST_SLOT && owner[next])
            next++;
        if (next > LAST_SLOT)
            return md_fail_line(c, -ENOSPC, dev[i].line, "%s: no PCI slot is left for it",
                                dev[i].what);
        dev[i].addr->slot = next;
        owner[next] = &dev[i];
    }
    return 0;
}
