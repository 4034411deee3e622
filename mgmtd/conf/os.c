/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <os>: an x86_64 PC booted from a kernel directly, as kvmemu does it
 * (there is no firmware, so no <boot dev>, <loader> or <nvram>).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int type_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *arch = md_attr(n, "arch");
    const char *machine = md_attr(n, "machine");
    char *text = NULL;
    int ret = md_attrs_only(c, n, MD_ATTRS("arch", "machine"));

    if (!ret)
        ret = md_text(c, n, true, &text);
    if (!ret && strcmp(text, "hvm"))
        ret = md_fail(c, n, "the OS type '%s' is not supported; use hvm", text);
    free(text);
    if (ret)
        return ret;
    if (arch && strcmp(arch, "x86_64"))
        return md_fail_attr(c, n, "arch", "the architecture '%s' is not supported; use x86_64",
                            arch);
    if (!machine)
        return 0;
    if (!strncmp(machine, "pc-q35", 6) || !strcmp(machine, "q35"))
        return md_fail_attr(c, n, "machine",
                            "the Q35 machine's PCI Express topology (root ports, SATA) is not "
                            "provided; use machine='pc'");
    if (strcmp(machine, "pc") && strncmp(machine, "pc-i440fx-", 10))
        return md_fail_attr(c, n, "machine",
                            "the machine '%s' is not provided; use machine='pc' (a PC with one "
                            "PCI bus)",
                            machine);
    return md_strdup(c, machine, &def->os.machine);
}

static int path_parse(struct md_pctx *c, xmlNode *n, char **out)
{
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_text(c, n, true, out);
    if (!ret && (*out)[0] != '/')
        ret = md_fail(c, n, "'%s' is not an absolute path", *out);
    return ret;
}

static int kernel_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    def->os.kernel_line = md_line(n);
    return path_parse(c, n, &def->os.kernel);
}

static int initrd_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    def->os.initrd_line = md_line(n);
    return path_parse(c, n, &def->os.initrd);
}

static int cmdline_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_text(c, n, false, &def->os.cmdline);
    if (!ret && strlen(def->os.cmdline) > MD_CMDLINE_MAX)
        ret = md_fail(c, n, "the command line has %zu bytes; at most %d fit",
                      strlen(def->os.cmdline), MD_CMDLINE_MAX);
    return ret;
}

static const struct md_child os_children[] = {
    { "type", type_parse, false },
    { "kernel", kernel_parse, false },
    { "initrd", initrd_parse, false },
    { "cmdline", cmdline_parse, false },
    { NULL, NULL, false },
};

int md_os_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    bool has_type = false;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_children(c, n, os_children, def);
    if (ret)
        return ret;
    c->seen.os_line = md_line(n);
    for (xmlNode *k = n->children; k; k = k->next)
        has_type |= k->type == XML_ELEMENT_NODE && !strcmp((const char *)k->name, "type");
    if (!has_type)
        return md_fail(c, n, "a <type>hvm</type> is required");
    if (!def->os.kernel)
        return md_fail(c, n,
                       "a <kernel> is required: this stack boots a kernel directly (there "
                       "is no firmware)");
    return 0;
}

void md_os_format(struct md_buf *b, const struct md_domain_def *def)
{
    md_buf_open(b, "os");
    md_buf_open_end(b);
    md_buf_open(b, "type");
    md_buf_attr(b, "arch", "x86_64");
    md_buf_attr(b, "machine", def->os.machine);
    md_buf_add(b, ">hvm</type>\n");
    md_buf_text_elem(b, "kernel", def->os.kernel);
    if (def->os.initrd)
        md_buf_text_elem(b, "initrd", def->os.initrd);
    if (def->os.cmdline)
        md_buf_text_elem(b, "cmdline", def->os.cmdline);
    md_buf_close(b, "os");
}
