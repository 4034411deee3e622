/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <features> and <pm>: what the machine has (ACPI unless --no-acpi, an
 * APIC, PAE on a 64-bit CPU; no VMware port, no S3/S4), as libvirt lists
 * them. Any other feature is refused by name.
 */
#include <string.h>

#include "internal.h"

static int acpi_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    def->features.acpi = true;
    return md_leaf(c, n, MD_NO_ATTRS);
}

static int apic_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    def->features.apic = true;
    return md_leaf(c, n, MD_NO_ATTRS);
}

static int pae_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    def->features.pae = true;
    return md_leaf(c, n, MD_NO_ATTRS);
}

static int vmport_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *state = md_attr(n, "state");
    int ret = md_leaf(c, n, MD_ATTRS("state"));

    if (ret)
        return ret;
    if (!state || strcmp(state, "off"))
        return md_fail_attr(c, n, "state",
                            "there is no VMware I/O port; only state='off' is accepted");
    def->features.vmport_off = true;
    return 0;
}

static const struct md_child feature_children[] = {
    { "acpi", acpi_parse, false },     { "apic", apic_parse, false }, { "pae", pae_parse, false },
    { "vmport", vmport_parse, false }, { NULL, NULL, false },
};

int md_features_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    def->features.present = true;
    for (xmlNode *k = n->children; k && !ret; k = k->next) {
        const char *name = (const char *)k->name;
        bool known = false;

        if (k->type != XML_ELEMENT_NODE || k->ns)
            continue;
        for (const struct md_child *r = feature_children; r->name; r++)
            known |= !strcmp(r->name, name);
        if (!known)
            return md_fail(c, k,
                           "the feature '%s' is not supported (acpi, apic, pae and "
                           "vmport state='off' are)",
                           name);
    }
    return ret ? ret : md_children(c, n, feature_children, def);
}

void md_features_format(struct md_buf *b, const struct md_domain_def *def)
{
    const typeof(def->features) *f = &def->features;

    if (!f->present)
        return;
    md_buf_open(b, "features");
    if (!f->acpi && !f->apic && !f->pae && !f->vmport_off) {
        md_buf_empty_end(b);
        return;
    }
    md_buf_open_end(b);
    if (f->acpi) {
        md_buf_open(b, "acpi");
        md_buf_empty_end(b);
    }
    if (f->apic) {
        md_buf_open(b, "apic");
        md_buf_empty_end(b);
    }
    if (f->pae) {
        md_buf_open(b, "pae");
        md_buf_empty_end(b);
    }
    if (f->vmport_off) {
        md_buf_open(b, "vmport");
        md_buf_attr(b, "state", "off");
        md_buf_empty_end(b);
    }
    md_buf_close(b, "features");
}

/* <pm>: suspend to RAM or disk may only be listed as disabled. */
static int suspend_parse(struct md_pctx *c, xmlNode *n, bool *off, const char *what)
{
    bool enabled;
    int ret = md_leaf(c, n, MD_ATTRS("enabled"));

    if (!ret)
        ret = md_yes_no(c, n, "enabled", "yes", "no", &enabled);
    if (!ret && enabled)
        ret =
            md_fail_attr(c, n, "enabled", "suspend to %s is not supported; use enabled='no'", what);
    *off = true;
    return ret;
}

static int s3_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    return suspend_parse(c, n, &def->pm.mem_off, "RAM (S3)");
}

static int s4_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;

    return suspend_parse(c, n, &def->pm.disk_off, "disk (S4)");
}

static const struct md_child pm_children[] = {
    { "suspend-to-mem", s3_parse, false },
    { "suspend-to-disk", s4_parse, false },
    { NULL, NULL, false },
};

int md_pm_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    def->pm.present = true;
    return ret ? ret : md_children(c, n, pm_children, def);
}

void md_pm_format(struct md_buf *b, const struct md_domain_def *def)
{
    if (!def->pm.present)
        return;
    md_buf_open(b, "pm");
    if (!def->pm.mem_off && !def->pm.disk_off) {
        md_buf_empty_end(b);
        return;
    }
    md_buf_open_end(b);
    if (def->pm.mem_off) {
        md_buf_open(b, "suspend-to-mem");
        md_buf_attr(b, "enabled", "no");
        md_buf_empty_end(b);
    }
    if (def->pm.disk_off) {
        md_buf_open(b, "suspend-to-disk");
        md_buf_attr(b, "enabled", "no");
        md_buf_empty_end(b);
    }
    md_buf_close(b, "pm");
}
