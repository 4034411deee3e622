/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domid, domname, domuuid: one of a domain's three names from another. */
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

static int show(struct vc_ctx *ctx, const struct vc_args *a, const char *key)
{
    json_object *r = vc_domain_call(ctx, false, "domain.lookup", vc_str(a, "domain"), NULL, NULL);
    json_object *o;

    if (!r)
        return 1;
    if (a->json) {
        o = json_object_new_object();
        json_object_object_add(o, key, json_object_get(json_object_object_get(r, key)));
        vc_print_json(o);
        json_object_put(o);
    } else if (!strcmp(key, "id")) {
        /* virsh prints "-" for a domain that is shut off. */
        if (vc_json_int(r, "id") > 0)
            printf("%lld\n", (long long)vc_json_int(r, "id"));
        else
            printf("-\n");
    } else {
        printf("%s\n", vc_json_str(r, key));
    }
    json_object_put(r);
    return 0;
}

static int cmd_domid(struct vc_ctx *ctx, const struct vc_args *a)
{
    return show(ctx, a, "id");
}

static int cmd_domname(struct vc_ctx *ctx, const struct vc_args *a)
{
    return show(ctx, a, "name");
}

static int cmd_domuuid(struct vc_ctx *ctx, const struct vc_args *a)
{
    return show(ctx, a, "uuid");
}

static const struct vc_opt dom_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_ids[] = {
    { "domid", VC_CMD_QUERY, "convert a domain name or UUID to domain id",
      "Converts a domain name or UUID to its id: a running domain's number, \"-\" when\n"
      "it is shut off.",
      dom_opts, cmd_domid },
    { "domname", VC_CMD_QUERY, "convert a domain id or UUID to domain name",
      "Converts a domain id or UUID to the domain's name.", dom_opts, cmd_domname },
    { "domuuid", VC_CMD_QUERY, "convert a domain name or id to domain UUID",
      "Converts a domain name or id to the domain's UUID.", dom_opts, cmd_domuuid },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
