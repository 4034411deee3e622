/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What changes a domain's state: start, shutdown, destroy, reboot, reset,
 * suspend, resume, autostart, undefine. Each looks the domain up (a name,
 * an id or a UUID) on the read-write socket, acts on its UUID, and says
 * what it did as virsh does ("Domain 'web' started").
 */
#include <stdio.h>

#include "vmctl.h"

/* What is said: "Failed to <verb> domain 'NAME'<suffix>", "Domain 'NAME' <done>". */
struct say {
    const char *verb, *suffix, *done;
};

/* `method` on the domain `a` names, with `params` (taken) added. */
static int act(struct vc_ctx *ctx, const struct vc_args *a, const char *method, json_object *params,
               struct say say)
{
    json_object *dom = vc_domain(ctx, true, vc_str(a, "domain")), *r;
    char what[256];
    const char *name;

    if (!dom) {
        json_object_put(params);
        return 1;
    }
    name = vc_json_str(dom, "name");
    if (!params)
        params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
    snprintf(what, sizeof(what), "Failed to %s domain '%s'%s", say.verb, name,
             say.suffix ? say.suffix : "");
    r = vc_call(ctx, true, method, params, what);
    if (r)
        vc_info(ctx, "Domain '%s' %s\n", name, say.done);
    json_object_put(r);
    json_object_put(dom);
    return r ? 0 : 1;
}

static json_object *one(const char *key, json_object *v)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, key, v);
    return o;
}

static int cmd_start(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *dom;
    int rc;

    if (!vc_flag(a, "console"))
        return act(ctx, a, "domain.start",
                   one("paused", json_object_new_boolean(vc_flag(a, "paused"))),
                   (struct say){ "start", NULL, "started" });
    dom = vc_domain(ctx, true, vc_str(a, "domain"));
    if (!dom)
        return 1;
    rc = vc_start_console(ctx, dom, vc_flag(a, "paused"), vc_flag(a, "force"));
    json_object_put(dom);
    return rc;
}

static int cmd_shutdown(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *params = NULL;

    if (vc_str(a, "timeout"))
        params = one("timeout", json_object_new_int((int)vc_num(a, "timeout", 0)));
    return act(ctx, a, "domain.shutdown", params,
               (struct say){ "shutdown", NULL,
                             vc_str(a, "timeout") ? "is shut off" : "is being shutdown" });
}

static int cmd_destroy(struct vc_ctx *ctx, const struct vc_args *a)
{
    return act(ctx, a, "domain.destroy",
               one("graceful", json_object_new_boolean(vc_flag(a, "graceful"))),
               (struct say){ "destroy", NULL, "destroyed" });
}

static int cmd_reboot(struct vc_ctx *ctx, const struct vc_args *a)
{
    return act(ctx, a, "domain.reboot", NULL, (struct say){ "reboot", NULL, "is being rebooted" });
}

static int cmd_reset(struct vc_ctx *ctx, const struct vc_args *a)
{
    return act(ctx, a, "domain.reset", NULL, (struct say){ "reset", NULL, "was reset" });
}

static int cmd_suspend(struct vc_ctx *ctx, const struct vc_args *a)
{
    return act(ctx, a, "domain.suspend", NULL, (struct say){ "suspend", NULL, "suspended" });
}

static int cmd_resume(struct vc_ctx *ctx, const struct vc_args *a)
{
    return act(ctx, a, "domain.resume", NULL, (struct say){ "resume", NULL, "resumed" });
}

static int cmd_autostart(struct vc_ctx *ctx, const struct vc_args *a)
{
    bool off = vc_flag(a, "disable");

    return act(ctx, a, "domain.set_autostart", one("autostart", json_object_new_boolean(!off)),
               (struct say){ off ? "unmark" : "mark", " as autostarted",
                             off ? "unmarked as autostarted" : "marked as autostarted" });
}

static int cmd_undefine(struct vc_ctx *ctx, const struct vc_args *a)
{
    /* As virsh: a running domain keeps running, transient, until it stops. */
    return act(ctx, a, "domain.undefine", one("keep_running", json_object_new_boolean(true)),
               (struct say){ "undefine", NULL, "has been undefined" });
}

#define DOMAIN_OPT(which)                                                                          \
    {                                                                                              \
        "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | (which),                    \
            "domain name, id or uuid"                                                              \
    }

static const struct vc_opt start_opts[] = {
    DOMAIN_OPT(VC_OPT_INACTIVE),
    { "console", VC_OPT_BOOL, 0, "attach to console after creation" },
    { "paused", VC_OPT_BOOL, 0, "leave the guest paused after creation" },
    { "force", VC_OPT_BOOL, 0, "with --console: take the console over from another session" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt shutdown_opts[] = {
    DOMAIN_OPT(VC_OPT_ACTIVE),
    { "timeout", VC_OPT_NUMBER, 0, "wait up to this many seconds for the domain to shut off" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt destroy_opts[] = {
    DOMAIN_OPT(VC_OPT_ACTIVE),
    { "graceful", VC_OPT_BOOL, 0, "terminate gracefully: no SIGKILL" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt active_opts[] = {
    DOMAIN_OPT(VC_OPT_ACTIVE),
    { NULL, 0, 0, NULL },
};

static const struct vc_opt any_opts[] = {
    DOMAIN_OPT(VC_OPT_DOMAIN),
    { NULL, 0, 0, NULL },
};

static const struct vc_opt autostart_opts[] = {
    DOMAIN_OPT(VC_OPT_DOMAIN),
    { "disable", VC_OPT_BOOL, 0, "disable autostarting" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_lifecycle[] = {
    { "start", 0, "start a (previously defined) inactive domain",
      "Start a domain: its emulator is launched and the guest boots. With --console the\n"
      "console is attached before the guest runs its first instruction, so nothing it\n"
      "prints is missed.",
      start_opts, cmd_start },
    { "shutdown", 0, "gracefully shutdown a domain",
      "Run shutdown in the target domain: the ACPI power button is pressed, and the\n"
      "guest powers off if it heeds it. With --timeout, wait until it is shut off.",
      shutdown_opts, cmd_shutdown },
    { "destroy", 0, "destroy (stop) a domain",
      "Forcefully stop a given domain, but leave its resources intact: its emulator\n"
      "gets SIGTERM, then SIGKILL after the daemon's grace time (not with --graceful).",
      destroy_opts, cmd_destroy },
    { "reboot", 0, "reboot a domain",
      "Run a reboot command in the target domain: the ACPI power button, and a new\n"
      "start once the guest powered off.",
      active_opts, cmd_reboot },
    { "reset", 0, "reset a domain",
      "Reset the target domain as if by power button: a hard reset of the machine.", active_opts,
      cmd_reset },
    { "suspend", 0, "suspend a domain", "Suspend a running domain: every vCPU stops.", active_opts,
      cmd_suspend },
    { "resume", 0, "resume a domain", "Resume a previously suspended domain.", active_opts,
      cmd_resume },
    { "autostart", 0, "autostart a domain",
      "Configure a domain to be automatically started when the daemon starts.", autostart_opts,
      cmd_autostart },
    { "undefine", 0, "undefine a domain",
      "Undefine an inactive domain, or convert a running domain to transient (it is\n"
      "gone when it stops).",
      any_opts, cmd_undefine },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
