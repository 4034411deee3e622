/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <devices>: each kind of device is parsed and written by its own file;
 * this one dispatches, and writes them in the order `virsh dumpxml` does.
 */
#include <string.h>

#include "internal.h"

static int emulator_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_text(c, n, true, &def->emulator);
    if (!ret && def->emulator[0] != '/')
        ret = md_fail(c, n, "'%s' is not an absolute path", def->emulator);
    c->seen.emulator_line = md_line(n);
    return ret;
}

static const struct md_child device_children[] = {
    { "emulator", emulator_parse, false },
    { "disk", md_disk_parse, true },
    { "controller", md_controller_parse, true },
    { "interface", md_interface_parse, true },
    { "serial", md_serial_parse, true },
    { "console", md_console_parse, true },
    { "input", md_input_parse, true },
    { "memballoon", md_memballoon_parse, false },
    { "rng", md_rng_parse, true },
    { NULL, NULL, false },
};

int md_devices_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    c->seen.devices_line = md_line(n);
    return ret ? ret : md_children(c, n, device_children, obj);
}

void md_devices_format(struct md_buf *b, const struct md_domain_def *def)
{
    md_buf_open(b, "devices");
    md_buf_open_end(b);
    if (def->emulator)
        md_buf_text_elem(b, "emulator", def->emulator);
    for (unsigned i = 0; i < def->nr_disks; i++)
        md_disk_format(b, &def->disks[i]);
    md_controllers_format(b, def);
    for (unsigned i = 0; i < def->nr_nics; i++)
        md_interface_format(b, &def->nics[i]);
    md_chardevs_format(b, def);
    md_implicit_tail_format(b);
    md_rng_format(b, &def->rng);
    md_buf_close(b, "devices");
}
