/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dominfo and domstate, in virsh's layout. */
#include <stdio.h>

#include "vmctl.h"

static const struct vc_opt dom_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { NULL, 0, 0, NULL },
};

static json_object *get(struct vc_ctx *ctx, const struct vc_args *a, const char *method)
{
    return vc_domain_call(ctx, false, method, vc_str(a, "domain"), NULL, NULL);
}

static int cmd_dominfo(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *r = get(ctx, a, "domain.get_info");
    int64_t id, cpu_ns;

    if (!r)
        return 1;
    if (a->json) {
        vc_print_json(r);
        json_object_put(r);
        return 0;
    }
    id = vc_json_int(r, "id");
    if (id > 0)
        printf("%-15s %lld\n", "Id:", (long long)id);
    else
        printf("%-15s %s\n", "Id:", "-");
    printf("%-15s %s\n", "Name:", vc_json_str(r, "name"));
    printf("%-15s %s\n", "UUID:", vc_json_str(r, "uuid"));
    printf("%-15s %s\n", "OS Type:", vc_json_str(r, "os_type"));
    printf("%-15s %s\n", "State:", vc_json_str(r, "state"));
    printf("%-15s %lld\n", "CPU(s):", (long long)vc_json_int(r, "vcpus"));
    cpu_ns = vc_json_int(r, "cpu_time_ns");
    if (cpu_ns > 0)
        printf("%-15s %.1lfs\n", "CPU time:", (double)cpu_ns / 1e9);
    printf("%-15s %lld KiB\n", "Max memory:", (long long)vc_json_int(r, "max_memory_kib"));
    printf("%-15s %lld KiB\n", "Used memory:", (long long)vc_json_int(r, "memory_kib"));
    printf("%-15s %s\n", "Persistent:", vc_json_bool(r, "persistent") ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", vc_json_bool(r, "autostart") ? "enable" : "disable");
    /* The stack has no managed save; no security driver labels guests. */
    printf("%-15s %s\n", "Managed save:", "no");
    json_object_put(r);
    return 0;
}

static int cmd_domstate(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *r = get(ctx, a, "domain.get_state");

    if (!r)
        return 1;
    if (a->json)
        vc_print_json(r);
    else if (vc_flag(a, "reason"))
        printf("%s (%s)\n", vc_json_str(r, "state"), vc_json_str(r, "reason"));
    else
        printf("%s\n", vc_json_str(r, "state"));
    json_object_put(r);
    return 0;
}

static const struct vc_opt state_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { "reason", VC_OPT_BOOL, 0, "also print reason for the state" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_info[] = {
    { "dominfo", VC_CMD_QUERY, "domain information",
      "Returns basic information about the domain: its id, UUID, state, virtual CPUs,\n"
      "the CPU time its emulator used, its memory, and whether it is persistent and\n"
      "starts with the daemon.",
      dom_opts, cmd_dominfo },
    { "domstate", VC_CMD_QUERY, "domain state",
      "Returns state about a domain: running, paused, in shutdown, shut off or crashed;\n"
      "with --reason also why, e.g. \"shut off (crashed)\".",
      state_opts, cmd_domstate },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
