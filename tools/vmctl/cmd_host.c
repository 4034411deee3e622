/* SPDX-License-Identifier: GPL-2.0-or-later */
/* version: vmctl's, the daemon's and its emulator. */
#include <stdio.h>

#include "vmctl.h"

static int cmd_version(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *r = vc_call(ctx, false, "daemon.version", NULL, "failed to get the version");

    if (!r)
        return 1;
    if (a->json) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "client", json_object_new_string(KVMSTACK_VERSION));
        json_object_object_add(o, "daemon", json_object_get(json_object_object_get(r, "version")));
        json_object_object_add(o, "emulator",
                               json_object_get(json_object_object_get(r, "emulator")));
        json_object_object_add(o, "domains", json_object_get(json_object_object_get(r, "domains")));
        vc_print_json(o);
        json_object_put(o);
    } else {
        printf("Compiled against library: vmctl %s\n", KVMSTACK_VERSION);
        printf("Using API: mgmtd %s\n", vc_json_str(r, "version"));
        printf("Running hypervisor: kvmemu %s\n", vc_json_str(r, "emulator"));
    }
    json_object_put(r);
    return 0;
}

static const struct vc_opt no_opts[] = {
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_host[] = {
    { "version", VC_CMD_QUERY, "show version",
      "Display the version of vmctl, of the daemon it talks to, and the emulator the\n"
      "daemon runs.",
      no_opts, cmd_version },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
