/* SPDX-License-Identifier: GPL-2.0-or-later */
/* list: the domains, as virsh lists them. */
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

static bool wanted(const struct vc_args *a, json_object *d)
{
    const char *state = vc_json_str(d, "state");
    bool running = !strcmp(state, "running"), paused = !strcmp(state, "paused");
    bool off = !strcmp(state, "shut off"), persistent = vc_json_bool(d, "persistent");
    bool autostart = vc_json_bool(d, "autostart");
    bool by_state = vc_flag(a, "state-running") || vc_flag(a, "state-paused") ||
                    vc_flag(a, "state-shutoff") || vc_flag(a, "state-other");

    if (by_state &&
        !((vc_flag(a, "state-running") && running) || (vc_flag(a, "state-paused") && paused) ||
          (vc_flag(a, "state-shutoff") && off) ||
          (vc_flag(a, "state-other") && !running && !paused && !off)))
        return false;
    if (vc_flag(a, "persistent") != vc_flag(a, "transient") &&
        persistent != vc_flag(a, "persistent"))
        return false;
    if (vc_flag(a, "autostart") != vc_flag(a, "no-autostart") &&
        autostart != vc_flag(a, "autostart"))
        return false;
    return true;
}

static int cmd_list(struct vc_ctx *ctx, const struct vc_args *a)
{
    bool by_state = vc_flag(a, "state-running") || vc_flag(a, "state-paused") ||
                    vc_flag(a, "state-shutoff") || vc_flag(a, "state-other");
    bool name = vc_flag(a, "name"), uuid = vc_flag(a, "uuid");
    json_object *params = json_object_new_object(), *r, *all, *shown;
    struct vc_table *t;

    /* The filters other than "running" need every domain. */
    json_object_object_add(
        params, "all",
        json_object_new_boolean(vc_flag(a, "all") || by_state || vc_flag(a, "persistent") ||
                                vc_flag(a, "transient") || vc_flag(a, "autostart") ||
                                vc_flag(a, "no-autostart")));
    json_object_object_add(params, "inactive", json_object_new_boolean(vc_flag(a, "inactive")));
    r = vc_call(ctx, false, "domain.list", params, "failed to list domains");
    if (!r)
        return 1;
    json_object_object_get_ex(r, "domains", &all);
    shown = json_object_new_array();
    for (size_t i = 0; all && i < json_object_array_length(all); i++) {
        json_object *d = json_object_array_get_idx(all, i);

        if (wanted(a, d))
            json_object_array_add(shown, json_object_get(d));
    }
    if (a->json) {
        vc_print_json(shown);
    } else if (name || uuid) {
        for (size_t i = 0; i < json_object_array_length(shown); i++) {
            json_object *d = json_object_array_get_idx(shown, i);

            if (name && uuid)
                printf("%-36s  %s\n", vc_json_str(d, "uuid"), vc_json_str(d, "name"));
            else
                printf("%s\n", vc_json_str(d, name ? "name" : "uuid"));
        }
    } else {
        t = vc_table_new(3, "Id", "Name", "State");
        for (size_t i = 0; i < json_object_array_length(shown); i++) {
            json_object *d = json_object_array_get_idx(shown, i);
            char id[24];

            if (vc_json_int(d, "id") > 0)
                snprintf(id, sizeof(id), "%lld", (long long)vc_json_int(d, "id"));
            else
                snprintf(id, sizeof(id), "-");
            vc_table_add(t, id, vc_json_str(d, "name"), vc_json_str(d, "state"));
        }
        vc_table_print(t, stdout);
        vc_table_free(t);
    }
    json_object_put(shown);
    json_object_put(r);
    return 0;
}

static const struct vc_opt list_opts[] = {
    { "all", VC_OPT_BOOL, 0, "list inactive & active domains" },
    { "inactive", VC_OPT_BOOL, 0, "list inactive domains" },
    { "name", VC_OPT_BOOL, 0, "list domain names only" },
    { "uuid", VC_OPT_BOOL, 0, "list uuid's only" },
    { "state-running", VC_OPT_BOOL, 0, "list domains in running state" },
    { "state-paused", VC_OPT_BOOL, 0, "list domains in paused state" },
    { "state-shutoff", VC_OPT_BOOL, 0, "list domains in shutoff state" },
    { "state-other", VC_OPT_BOOL, 0, "list domains in other states" },
    { "persistent", VC_OPT_BOOL, 0, "list persistent domains" },
    { "transient", VC_OPT_BOOL, 0, "list transient domains" },
    { "autostart", VC_OPT_BOOL, 0, "list domains with autostart enabled" },
    { "no-autostart", VC_OPT_BOOL, 0, "list domains with autostart disabled" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_list[] = {
    { "list", VC_CMD_QUERY, "list domains",
      "Returns list of domains: the running ones, or with --all every one, as a table of\n"
      "their ids, names and states.",
      list_opts, cmd_list },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
