/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command tables, in help's order, and running one command. */
#include <stdio.h>
#include <string.h>

#include "vmctl.h"

const struct vc_group vc_groups[] = {
    { "domain", "Domain Management", vc_cmds_lifecycle },
    { "domain", "Domain Management", vc_cmds_xml },
    { "domain", "Domain Management", vc_cmds_ids },
    { "domain", "Domain Management", vc_cmds_console },
    { "domain", "Domain Management", vc_cmds_events },
    { "monitor", "Domain Monitoring", vc_cmds_list },
    { "monitor", "Domain Monitoring", vc_cmds_info },
    { "monitor", "Domain Monitoring", vc_cmds_devices },
    { "host", "Host and Hypervisor", vc_cmds_host },
    { "vmctl", "vmctl itself", vc_cmds_vmctl },
    { NULL, NULL, NULL },
};

const struct vc_cmd *vc_cmd_find(const char *name)
{
    for (const struct vc_group *g = vc_groups; g->keyword; g++)
        for (const struct vc_cmd *c = g->cmds; c->name; c++)
            if (!strcmp(c->name, name))
                return c;
    return NULL;
}

const struct vc_group *vc_group_find(const char *keyword)
{
    for (const struct vc_group *g = vc_groups; g->keyword; g++)
        if (!strcmp(g->keyword, keyword))
            return g;
    return NULL;
}

int vc_run(struct vc_ctx *ctx, int argc, char **argv)
{
    const struct vc_cmd *cmd = argc > 0 ? vc_cmd_find(argv[0]) : NULL;
    struct vc_args a;
    int rc;

    if (!cmd || ((cmd->flags & VC_CMD_SHELL) && !ctx->shell)) {
        vc_error("unknown command: '%s'", argc > 0 ? argv[0] : "");
        return 1;
    }
    if (cmd->flags & VC_CMD_WORDS) {
        memset(&a, 0, sizeof(a));
        a.cmd = cmd;
        a.argc = argc;
        a.argv = argv;
    } else if (vc_args_parse(cmd, argc, argv, &a) < 0) {
        return 1;
    }
    a.json |= ctx->json && (cmd->flags & VC_CMD_QUERY);
    rc = cmd->run(ctx, &a);
    /* As virsh: a blank line ends the output of each command that ran,
     * however it ended (not in -q, and not in JSON, which scripts read). */
    if (!(cmd->flags & VC_CMD_RAW) && !ctx->quiet && !a.json)
        putchar('\n');
    fflush(stdout);
    return rc;
}
