/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <rng model='virtio'>: kvmemu's --rng, fed by getrandom(2). That is what
 * libvirt's backend model='builtin' is, and what model='random' with
 * /dev/urandom or /dev/random gives on any current kernel; other backends
 * (EGD) are refused. <rate> is kvmemu's max-bytes and period.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int backend_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_rng *rng = obj;
    const char *model = md_attr(n, "model");
    int ret;

    if (!model || (strcmp(model, "random") && strcmp(model, "builtin")))
        return md_fail(c, n,
                       "virtio-rng is fed by getrandom(2): use <backend "
                       "model='random'>/dev/urandom</backend> or model='builtin'");
    ret = md_attrs_only(c, n, MD_ATTRS("model"));
    if (ret)
        return ret;
    if (!strcmp(model, "builtin")) {
        ret = md_empty(c, n);
        return ret ? ret : md_strdup(c, "builtin", &rng->backend);
    }
    ret = md_text(c, n, true, &rng->backend);
    if (!ret && strcmp(rng->backend, "/dev/urandom") && strcmp(rng->backend, "/dev/random"))
        ret = md_fail(c, n,
                      "'%s': virtio-rng is fed by getrandom(2), as /dev/urandom; use "
                      "/dev/urandom",
                      rng->backend);
    return ret;
}

static int rate_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_rng *rng = obj;
    const char *bytes = md_attr(n, "bytes");
    const char *period = md_attr(n, "period");
    int ret = md_leaf(c, n, MD_ATTRS("bytes", "period"));

    if (ret)
        return ret;
    if (!bytes)
        return md_fail(c, n, "the attribute 'bytes' is required");
    if (!md_parse_u64(bytes, &rng->rate_bytes) || !rng->rate_bytes || rng->rate_bytes > UINT32_MAX)
        return md_fail_attr(c, n, "bytes", "'%s' is not a byte count from 1 to %u", bytes,
                            UINT32_MAX);
    if (period && (!md_parse_u64(period, &rng->rate_period_ms) || !rng->rate_period_ms ||
                   rng->rate_period_ms > UINT32_MAX))
        return md_fail_attr(c, n, "period", "'%s' is not a period from 1 to %u ms", period,
                            UINT32_MAX);
    return 0;
}

static int address_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_rng *rng = obj;

    return md_address_parse(c, n, &rng->addr);
}

static const struct md_child rng_children[] = {
    { "backend", backend_parse, false },
    { "rate", rate_parse, false },
    { "address", address_parse, false },
    { NULL, NULL, false },
};

int md_rng_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *model = md_attr(n, "model");
    int ret = md_attrs_only(c, n, MD_ATTRS("model"));

    if (ret)
        return ret;
    if (!model || strcmp(model, "virtio"))
        return md_fail(c, n, "the only rng model is virtio; use model='virtio'");
    if (def->rng.present)
        return md_fail(c, n, "there is one virtio-rng device, already at line %d", def->rng.line);
    def->rng.present = true;
    def->rng.line = md_line(n);
    ret = md_children(c, n, rng_children, &def->rng);
    if (!ret && !def->rng.backend)
        ret = md_fail(c, n, "a <backend model='random'>/dev/urandom</backend> is required");
    return ret;
}

void md_rng_format(struct md_buf *b, const struct md_rng *rng)
{
    if (!rng->present)
        return;
    md_buf_open(b, "rng");
    md_buf_attr(b, "model", "virtio");
    md_buf_open_end(b);
    if (rng->rate_bytes) {
        md_buf_open(b, "rate");
        md_buf_attrf(b, "bytes", "%llu", (unsigned long long)rng->rate_bytes);
        if (rng->rate_period_ms)
            md_buf_attrf(b, "period", "%llu", (unsigned long long)rng->rate_period_ms);
        md_buf_empty_end(b);
    }
    md_buf_open(b, "backend");
    if (!strcmp(rng->backend, "builtin")) {
        md_buf_attr(b, "model", "builtin");
        md_buf_empty_end(b);
    } else {
        md_buf_attr(b, "model", "random");
        md_buf_add(b, ">");
        md_buf_escape(b, rng->backend, false);
        md_buf_add(b, "</backend>\n");
    }
    md_address_format(b, &rng->addr);
    md_buf_close(b, "rng");
}
