/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-install: flags -> domain XML -> disk images -> define -> start ->
 * console. What fails after the first change undoes what this run did
 * (the images it created, the domain it defined), so that a failed install
 * leaves nothing behind.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm-install.h"
#include "vmctl.h"

/* Undoes the definition (and the images this run created). */
static void undo(struct vc_ctx *ctx, const struct vi_opts *o, json_object *dom,
                 const bool created[VI_MAX_DISKS])
{
    if (dom) {
        json_object *params = json_object_new_object(), *r;

        json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
        r = vc_call(ctx, true, "domain.undefine", params, "cannot undefine the domain again");
        if (r)
            printf("Domain '%s' undefined again\n", o->name);
        json_object_put(r);
    }
    vi_disks_remove(o, created);
}

/* True if the daemon has no domain of that name; false with the reason
 * printed if it has one, or cannot be asked. */
static bool name_free(struct vc_ctx *ctx, const char *name)
{
    struct md_client *c = vc_conn(ctx, true);
    json_object *params, *r;

    if (!c)
        return false;
    params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(name));
    r = md_client_call(c, "domain.lookup", params);
    if (r) {
        vc_error("--name '%s': a domain of that name exists already (vmctl undefine %s, or "
                 "choose another name)",
                 name, name);
        json_object_put(r);
        return false;
    }
    if (md_client_code(c) != 4) {
        vc_error("%s", md_client_error(c));
        return false;
    }
    return true;
}

static int install(struct vc_ctx *ctx, const struct vi_opts *o, const char *xml)
{
    bool created[VI_MAX_DISKS] = { false };
    json_object *params, *dom, *r;
    char fail[256];

    if (!name_free(ctx, o->name) || vi_disks_create(o, created) < 0)
        return 1;
    params = json_object_new_object();
    json_object_object_add(params, "xml", json_object_new_string(xml));
    snprintf(fail, sizeof(fail), "Failed to define domain '%s'", o->name);
    dom = vc_call(ctx, true, "domain.define", params, fail);
    if (!dom) {
        undo(ctx, o, NULL, created);
        return 1;
    }
    printf("Domain '%s' defined\n", o->name);
    if (o->autostart) {
        params = json_object_new_object();
        json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
        json_object_object_add(params, "autostart", json_object_new_boolean(true));
        snprintf(fail, sizeof(fail), "Failed to mark domain '%s' as autostarted", o->name);
        r = vc_call(ctx, true, "domain.set_autostart", params, fail);
        if (!r) {
            undo(ctx, o, dom, created);
            json_object_put(dom);
            return 1;
        }
        json_object_put(r);
        printf("Domain '%s' marked as autostarted\n", o->name);
    }
    /* With the console: started paused, so that it shows the first byte. */
    params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
    json_object_object_add(params, "paused", json_object_new_boolean(!o->noautoconsole));
    snprintf(fail, sizeof(fail), "Failed to start domain '%s'", o->name);
    r = vc_call(ctx, true, "domain.start", params, fail);
    if (!r) {
        undo(ctx, o, dom, created);
        json_object_put(dom);
        return 1;
    }
    json_object_put(r);
    printf("Domain '%s' started\n", o->name);
    if (o->noautoconsole) {
        printf("Domain creation completed. Its console: vmctl%s%s console %s\n",
               o->connect ? " -c " : "", o->connect ? o->connect : "", o->name);
        json_object_put(dom);
        return 0;
    }
    fflush(stdout);
    {
        int rc = vc_console_attach_resume(ctx, dom, true, false);

        json_object_put(dom);
        return rc;
    }
}

int main(int argc, char **argv)
{
    struct vc_ctx ctx = { .escape = 0x1d };
    const char *env = getenv("VMCTL_CONNECT");
    struct vi_opts *o = calloc(1, sizeof(*o));
    char *xml;
    int rc;

    if (!o) {
        perror("vm-install");
        return 1;
    }
    rc = vi_parse(argc, argv, o);
    if (rc != 0) {
        free(o);
        return rc < 0 ? 1 : 0;
    }
    xml = vi_xml(o);
    if (!xml) {
        vc_error("out of memory");
        free(o);
        return 1;
    }
    if (o->print_xml) {
        fputs(xml, stdout);
        free(xml);
        free(o);
        return 0;
    }
    if (vc_ctx_set_socket(&ctx, o->connect ? o->connect : env && *env ? env : NULL) < 0) {
        rc = 1;
    } else {
        rc = install(&ctx, o, xml);
        vc_ctx_close(&ctx);
    }
    free(xml);
    free(o);
    return rc;
}
