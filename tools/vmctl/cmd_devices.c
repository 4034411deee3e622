/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domblklist and domiflist: a domain's disks and NICs as tables. */
#include <stdio.h>

#include "vmctl.h"

static json_object *devices(struct vc_ctx *ctx, const struct vc_args *a, const char *key)
{
    json_object *params = json_object_new_object(), *r, *list;

    json_object_object_add(params, "inactive", json_object_new_boolean(vc_flag(a, "inactive")));
    r = vc_domain_call(ctx, false, "domain.get_devices", vc_str(a, "domain"), params, NULL);
    if (!r)
        return NULL;
    list = json_object_get(json_object_object_get(r, key));
    json_object_put(r);
    return list ? list : json_object_new_array();
}

static int cmd_domblklist(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *disks = devices(ctx, a, "disks");
    bool details = vc_flag(a, "details");
    struct vc_table *t;

    if (!disks)
        return 1;
    if (a->json) {
        vc_print_json(disks);
        json_object_put(disks);
        return 0;
    }
    t = details ? vc_table_new(4, "Type", "Device", "Target", "Source")
                : vc_table_new(2, "Target", "Source");
    for (size_t i = 0; i < json_object_array_length(disks); i++) {
        json_object *d = json_object_array_get_idx(disks, i);

        if (details)
            vc_table_add(t, vc_json_str(d, "type"), vc_json_str(d, "device"),
                         vc_json_str(d, "target"), vc_json_str(d, "source"));
        else
            vc_table_add(t, vc_json_str(d, "target"), vc_json_str(d, "source"));
    }
    vc_table_print(t, stdout);
    vc_table_free(t);
    json_object_put(disks);
    return 0;
}

static int cmd_domiflist(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *nics = devices(ctx, a, "interfaces");
    struct vc_table *t;

    if (!nics)
        return 1;
    if (a->json) {
        vc_print_json(nics);
        json_object_put(nics);
        return 0;
    }
    t = vc_table_new(5, "Interface", "Type", "Source", "Model", "MAC");
    for (size_t i = 0; i < json_object_array_length(nics); i++) {
        json_object *n = json_object_array_get_idx(nics, i);

        vc_table_add(t, vc_json_str(n, "interface"), vc_json_str(n, "type"),
                     vc_json_str(n, "source"), vc_json_str(n, "model"), vc_json_str(n, "mac"));
    }
    vc_table_print(t, stdout);
    vc_table_free(t);
    json_object_put(nics);
    return 0;
}

static const struct vc_opt blk_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { "inactive", VC_OPT_BOOL, 0, "get inactive rather than running configuration" },
    { "details", VC_OPT_BOOL, 0, "additionally display the type and device value" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt if_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { "inactive", VC_OPT_BOOL, 0, "get inactive rather than running configuration" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_devices[] = {
    { "domblklist", VC_CMD_QUERY, "list all domain blocks",
      "Get the summary of block devices for a domain: each disk's target (vda, ...) and\n"
      "its image.",
      blk_opts, cmd_domblklist },
    { "domiflist", VC_CMD_QUERY, "list all domain virtual interfaces",
      "Get the summary of virtual interfaces for a domain: the tap device, the bridge,\n"
      "the model and the MAC address of each.",
      if_opts, cmd_domiflist },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
