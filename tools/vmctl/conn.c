/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which socket a command uses, the connections (made on first use, kept
 * for the shell's next commands), calls whose failures are printed the
 * way virsh prints them, and domain lookups.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmctl.h"

#define RO_SUFFIX ".sock"

int vc_ctx_set_socket(struct vc_ctx *ctx, const char *path)
{
    size_t n;

    if (!path)
        path = MD_CLIENT_SYSTEM_SOCKET;
    n = strlen(path);
    if (n == 0 || n >= VC_SOCK_MAX) {
        vc_error("--connect '%s': not a socket path (1 to %d bytes)", path, VC_SOCK_MAX - 1);
        return -1;
    }
    memcpy(ctx->rw_path, path, n + 1);
    ctx->ro_path[0] = '\0';
    if (n > 8 && !strcmp(path + n - 8, "-ro.sock")) {
        /* The read-only socket itself: everything goes there. */
        memcpy(ctx->ro_path, path, n + 1);
    } else if (n > 5 && !strcmp(path + n - 5, RO_SUFFIX) && n + 3 < VC_SOCK_MAX) {
        snprintf(ctx->ro_path, sizeof(ctx->ro_path), "%.*s-ro.sock", (int)(n - 5), path);
    }
    return 0;
}

void vc_ctx_close(struct vc_ctx *ctx)
{
    md_client_close(ctx->rw);
    md_client_close(ctx->ro);
    ctx->rw = ctx->ro = NULL;
}

const char *vc_conn_path(const struct vc_ctx *ctx, bool change)
{
    if (ctx->readonly)
        return ctx->ro_path[0] ? ctx->ro_path : ctx->rw_path;
    /* A command that changes nothing goes to the read-only socket, if the
     * daemon has one there. */
    if (!change && ctx->ro_path[0] && access(ctx->ro_path, F_OK) == 0)
        return ctx->ro_path;
    return ctx->rw_path;
}

static struct md_client *connect_to(const char *path)
{
    char err[512];
    struct md_client *c = md_client_connect(path, err, sizeof(err));

    if (!c) {
        vc_error("failed to connect to mgmtd");
        vc_error("%s", err);
    }
    return c;
}

struct md_client *vc_conn(struct vc_ctx *ctx, bool change)
{
    const char *path = vc_conn_path(ctx, change);
    struct md_client **slot = path == ctx->ro_path ? &ctx->ro : &ctx->rw;

    /* The shell reconnects after the daemon went away. */
    if (*slot && md_client_closed(*slot)) {
        md_client_close(*slot);
        *slot = NULL;
    }
    if (!*slot)
        *slot = connect_to(path);
    return *slot;
}

struct md_client *vc_conn_new(struct vc_ctx *ctx)
{
    return connect_to(vc_conn_path(ctx, true));
}

json_object *vc_call(struct vc_ctx *ctx, bool change, const char *method, json_object *params,
                     const char *what)
{
    struct md_client *c = vc_conn(ctx, change);
    json_object *r;

    if (!c) {
        json_object_put(params);
        return NULL;
    }
    r = md_client_call(c, method, params);
    if (!r) {
        if (what)
            vc_error("%s", what);
        vc_error("%s", md_client_error(c));
    }
    return r;
}

json_object *vc_domain(struct vc_ctx *ctx, bool change, const char *what)
{
    struct md_client *c = vc_conn(ctx, change);
    json_object *params, *r;

    if (!c)
        return NULL;
    params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(what));
    r = md_client_call(c, "domain.lookup", params);
    if (!r) {
        vc_error("failed to get domain '%s'", what);
        /* Not found says it all; anything else (a lost connection) is told. */
        if (md_client_code(c) != 4)
            vc_error("%s", md_client_error(c));
    }
    return r;
}

json_object *vc_domain_call(struct vc_ctx *ctx, bool change, const char *method, const char *what,
                            json_object *params, const char *fail)
{
    struct md_client *c = vc_conn(ctx, change);
    json_object *r;

    if (!c) {
        json_object_put(params);
        return NULL;
    }
    if (!params)
        params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(what));
    r = md_client_call(c, method, params);
    if (!r && md_client_code(c) == 4) {
        vc_error("failed to get domain '%s'", what);
    } else if (!r) {
        if (fail)
            vc_error("%s", fail);
        vc_error("%s", md_client_error(c));
    }
    return r;
}
