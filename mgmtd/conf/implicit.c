/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The devices libvirt lists for every x86 guest, which the machine has or
 * which say "none": the PCI root bus, no USB controller, the i8042's PS/2
 * keyboard and mouse, no balloon; and the virtio-serial controller that
 * carries the virtio console. They are written back whether or not the
 * XML listed them, as libvirt does; other controllers are refused.
 *
 * The balloon: kvmemu has no virtio-balloon device, and a guest whose
 * memory cannot be reclaimed is better than an admin who believes it can.
 * model='virtio' (libvirt's default) is refused with the fix in the
 * message, and an absent <memballoon> is written back as model='none'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int index_zero(struct md_pctx *c, xmlNode *n)
{
    const char *index = md_attr(n, "index");
    uint64_t v;

    if (index && (!md_parse_u64(index, &v) || v != 0))
        return md_fail_attr(c, n, "index",
                            "there is one controller of this type: use "
                            "index='0'");
    return 0;
}

static int vserial_address_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    return md_address_parse(c, n, &def->vserial_addr);
}

static const struct md_child vserial_children[] = {
    { "address", vserial_address_parse, false },
    { NULL, NULL, false },
};

static const struct md_child no_children[] = {
    { NULL, NULL, false },
};

static int once(struct md_pctx *c, xmlNode *n, bool *seen)
{
    if (*seen)
        return md_fail(c, n, "appears more than once");
    *seen = true;
    return 0;
}

static const char *const refused_controllers[][2] = {
    { "ide", "there is no IDE controller (libvirt lists one for its i440fx machine): disks are "
             "virtio-blk; remove it" },
    { "sata", "there is no SATA controller: disks are virtio-blk; remove it" },
    { "scsi", "there is no SCSI controller: disks are virtio-blk; remove it" },
    { "fdc", "there is no floppy controller; remove it" },
    { "ccid", "there is no smartcard controller; remove it" },
};

int md_controller_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_implicit_seen *seen = &c->seen.implicit;
    const char *type = md_attr(n, "type");
    const char *model = md_attr(n, "model");
    int ret;

    /* What it is first; its other attributes matter only if it exists. */
    if (!type)
        return md_fail(c, n, "the attribute 'type' is required");
    for (size_t i = 0; i < sizeof(refused_controllers) / sizeof(refused_controllers[0]); i++)
        if (!strcmp(type, refused_controllers[i][0]))
            return md_fail(c, n, "%s", refused_controllers[i][1]);
    if (!strcmp(type, "usb") && model && strcmp(model, "none"))
        return md_fail_attr(c, n, "model",
                            "USB controllers are not supported: the guest has no USB; use "
                            "<controller type='usb' model='none'/>");
    if (!strcmp(type, "usb") && !model)
        return md_fail(c, n,
                       "libvirt's default USB controller is not provided: the guest has "
                       "no USB; use <controller type='usb' model='none'/>");
    if (!strcmp(type, "pci") && model && !strcmp(model, "pcie-root"))
        return md_fail_attr(c, n, "model",
                            "PCI Express (the Q35 machine) is not provided; the root bus is "
                            "model='pci-root'");
    if (!strcmp(type, "pci") && model && strcmp(model, "pci-root"))
        return md_fail_attr(c, n, "model",
                            "PCI bridges and root ports are not provided: every device is on bus "
                            "0 (model='pci-root')");
    if (!strcmp(type, "virtio-serial") && model)
        return md_fail_attr(c, n, "model", "the virtio-serial controller has no models");
    if (strcmp(type, "usb") && strcmp(type, "pci") && strcmp(type, "virtio-serial"))
        return md_fail(c, n, "the controller type '%s' is not provided", type);
    ret = md_attrs_only(c, n, MD_ATTRS("type", "index", "model"));
    if (!ret)
        ret = index_zero(c, n);
    if (ret)
        return ret;
    if (!strcmp(type, "usb"))
        ret = once(c, n, &seen->usb);
    else if (!strcmp(type, "pci"))
        ret = once(c, n, &seen->pci_root);
    else if (seen->vserial_line)
        ret = md_fail(c, n, "appears more than once");
    else
        seen->vserial_line = md_line(n);
    if (ret)
        return ret;
    return md_children(c, n, strcmp(type, "virtio-serial") ? no_children : vserial_children, obj);
}

int md_input_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_implicit_seen *seen = &c->seen.implicit;
    const char *type = md_attr(n, "type");
    const char *bus = md_attr(n, "bus");
    int ret = md_attrs_only(c, n, MD_ATTRS("type", "bus"));

    (void)obj;
    if (ret)
        return ret;
    if (!type || (strcmp(type, "mouse") && strcmp(type, "keyboard")))
        return md_fail(c, n,
                       "the only input devices are the i8042's PS/2 keyboard and mouse "
                       "(type='keyboard' or 'mouse', bus='ps2')");
    if (bus && strcmp(bus, "ps2"))
        return md_fail_attr(c, n, "bus",
                            "the only input devices are the i8042's PS/2 keyboard "
                            "and mouse; use bus='ps2'");
    ret = once(c, n, !strcmp(type, "mouse") ? &seen->mouse : &seen->keyboard);
    return ret ? ret : md_empty(c, n);
}

int md_memballoon_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    const char *model = md_attr(n, "model");
    int ret = md_attrs_only(c, n, MD_ATTRS("model"));

    (void)obj;
    if (ret)
        return ret;
    if (model && !strcmp(model, "virtio"))
        return md_fail(c, n,
                       "there is no balloon device (the guest's memory is fixed at "
                       "<memory>); use <memballoon model='none'/>");
    if (!model || strcmp(model, "none"))
        return md_fail(c, n, "there is no balloon device; use <memballoon model='none'/>");
    return md_children(c, n, no_children, obj);
}

/* The virtio-serial controller exists for the virtio console alone. */
int md_implicit_check(struct md_pctx *c)
{
    if (c->seen.implicit.vserial_line && !c->def->vconsole.present)
        return md_fail_line(c, -EINVAL, c->seen.implicit.vserial_line,
                            "<controller type='virtio-serial'>: it carries only the virtio "
                            "console (hvc0), and there is none; remove it, or add <console "
                            "type='pty'><target type='virtio'/></console>");
    return 0;
}

void md_controllers_format(struct md_buf *b, const struct md_domain_def *def)
{
    md_buf_open(b, "controller");
    md_buf_attr(b, "type", "usb");
    md_buf_attr(b, "index", "0");
    md_buf_attr(b, "model", "none");
    md_buf_empty_end(b);
    md_buf_open(b, "controller");
    md_buf_attr(b, "type", "pci");
    md_buf_attr(b, "index", "0");
    md_buf_attr(b, "model", "pci-root");
    md_buf_empty_end(b);
    if (def->vconsole.present) {
        md_buf_open(b, "controller");
        md_buf_attr(b, "type", "virtio-serial");
        md_buf_attr(b, "index", "0");
        md_buf_open_end(b);
        md_address_format(b, &def->vserial_addr);
        md_buf_close(b, "controller");
    }
}

void md_implicit_tail_format(struct md_buf *b)
{
    md_buf_open(b, "input");
    md_buf_attr(b, "type", "mouse");
    md_buf_attr(b, "bus", "ps2");
    md_buf_empty_end(b);
    md_buf_open(b, "input");
    md_buf_attr(b, "type", "keyboard");
    md_buf_attr(b, "bus", "ps2");
    md_buf_empty_end(b);
    md_buf_open(b, "memballoon");
    md_buf_attr(b, "model", "none");
    md_buf_empty_end(b);
}
