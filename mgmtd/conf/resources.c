/* SPDX-License-Identifier: GPL-2.0-or-later */
/* <memory>, <currentMemory> and <vcpu>. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/*
 * libvirt's units: none is KiB; b/bytes; k, KiB (1024) and KB (1000), and
 * likewise M, G, T, P, E. The first letter is case-insensitive, as in
 * libvirt.
 */
static bool unit_scale(const char *unit, uint64_t *mult)
{
    static const char powers[] = "kmgtpe";
    const char *p;
    uint64_t m = 1, base;

    if (!unit) {
        *mult = 1024;
        return true;
    }
    if (!strcasecmp(unit, "b") || !strcasecmp(unit, "bytes")) {
        *mult = 1;
        return true;
    }
    p = *unit ? strchr(powers, tolower((unsigned char)unit[0])) : NULL;
    if (!p)
        return false;
    if (!unit[1] || !strcasecmp(unit + 1, "iB"))
        base = 1024;
    else if (!strcasecmp(unit + 1, "B"))
        base = 1000;
    else
        return false;
    for (long i = 0; i <= p - powers; i++)
        m *= base;
    *mult = m;
    return true;
}

/* The element's amount in KiB (bytes rounded up, as libvirt does). */
static int amount_kib(struct md_pctx *c, xmlNode *n, uint64_t *kib)
{
    const char *unit = md_attr(n, "unit");
    uint64_t v = 0, mult = 1024;
    char *text = NULL;
    int ret = md_attrs_only(c, n, MD_ATTRS("unit"));

    if (!ret && !unit_scale(unit, &mult))
        ret = md_fail_attr(c, n, "unit",
                           "'%s' is not a unit (b, KiB, MiB, GiB, TiB, KB, MB, GB, TB, ...)", unit);
    if (!ret)
        ret = md_text(c, n, true, &text);
    if (!ret && !md_parse_u64(text, &v))
        ret = md_fail(c, n, "'%s' is not a whole number", text);
    if (!ret && mult > 1 && v > UINT64_MAX / mult)
        ret = md_fail(c, n, "%s %s is too large", text, unit);
    if (!ret)
        *kib = v * mult / 1024 + (v * mult % 1024 != 0);
    free(text);
    return ret;
}

int md_memory_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    uint64_t kib;
    int ret = amount_kib(c, n, &kib);

    if (ret)
        return ret;
    c->seen.memory_line = md_line(n);
    if (kib < MD_MEMORY_MIN_KIB)
        return md_fail(c, n, "%llu KiB is less than the minimum, %llu KiB (4 MiB)",
                       (unsigned long long)kib, MD_MEMORY_MIN_KIB);
    if (kib > MD_MEMORY_MAX_KIB)
        return md_fail(c, n, "%llu KiB is more than the maximum, %llu KiB (1 TiB)",
                       (unsigned long long)kib, MD_MEMORY_MAX_KIB);
    if (kib % 4)
        return md_fail(c, n, "%llu KiB is not a whole number of 4 KiB pages",
                       (unsigned long long)kib);
    def->memory_kib = kib;
    return 0;
}

/* Compared with <memory> in validate.c: they must be equal. */
int md_current_memory_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    int ret = amount_kib(c, n, &c->seen.current_kib);

    (void)obj;
    c->seen.current = true;
    c->seen.current_line = md_line(n);
    return ret;
}

static int vcpu_count(struct md_pctx *c, xmlNode *n, const char *attr, const char *text,
                      unsigned *out)
{
    uint64_t v;

    if (!md_parse_u64(text, &v) || v == 0 || v > MD_MAX_VCPUS) {
        if (attr)
            return md_fail_attr(c, n, attr, "'%s' is not a vCPU count from 1 to %d", text,
                                MD_MAX_VCPUS);
        return md_fail(c, n, "'%s' is not a vCPU count from 1 to %d", text, MD_MAX_VCPUS);
    }
    *out = (unsigned)v;
    return 0;
}

int md_vcpu_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *placement = md_attr(n, "placement");
    const char *current = md_attr(n, "current");
    unsigned cur = 0;
    char *text = NULL;
    int ret = md_attrs_only(c, n, MD_ATTRS("placement", "current"));

    c->seen.vcpu_line = md_line(n);
    if (!ret && placement && strcmp(placement, "static"))
        ret = md_fail_attr(c, n, "placement",
                           "automatic placement (numad) is not supported; use placement='static'");
    if (!ret)
        ret = md_text(c, n, true, &text);
    if (!ret)
        ret = vcpu_count(c, n, NULL, text, &def->vcpus);
    if (!ret && current)
        ret = vcpu_count(c, n, "current", current, &cur);
    if (!ret && current && cur != def->vcpus)
        ret = md_fail_attr(c, n, "current",
                           "vCPU hotplug is not supported: current must equal the count (%u)",
                           def->vcpus);
    free(text);
    return ret;
}

void md_resources_format(struct md_buf *b, const struct md_domain_def *def)
{
    /* libvirt writes KiB, and both elements. */
    md_buf_open(b, "memory");
    md_buf_attr(b, "unit", "KiB");
    md_buf_addf(b, ">%llu</memory>\n", (unsigned long long)def->memory_kib);
    md_buf_open(b, "currentMemory");
    md_buf_attr(b, "unit", "KiB");
    md_buf_addf(b, ">%llu</currentMemory>\n", (unsigned long long)def->memory_kib);
    md_buf_open(b, "vcpu");
    md_buf_attr(b, "placement", "static");
    md_buf_addf(b, ">%u</vcpu>\n", def->vcpus);
}
