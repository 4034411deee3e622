/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The driver's life: its directories, the definitions and the emulators
 * it finds at start, autostart, the API sockets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/schema.h"
#include "internal.h"
#include "log.h"
#include "spawn.h"

struct md_driver *md_driver_create(uv_loop_t *loop, const struct md_driver_config *cfg,
                                   struct md_err *err)
{
    struct md_driver *drv = calloc(1, sizeof(*drv));

    if (!drv) {
        md_err_set(err, -ENOMEM, 0, "out of memory");
        return NULL;
    }
    drv->loop = loop;
    drv->cfg = *cfg;
    drv->next_id = 1;
    if (md_paths_init(&drv->paths, cfg->root, err) < 0 || md_paths_create(&drv->paths, err) < 0 ||
        md_spawn_user(cfg->user, cfg->group, &drv->change_id, &drv->uid, &drv->gid, err) < 0)
        goto fail;
    drv->schema = md_schema_new(err);
    if (!drv->schema)
        goto fail;
    return drv;

fail:
    md_driver_destroy(drv);
    return NULL;
}

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void autostart(struct md_driver *drv)
{
    for (struct md_domain *d = drv->domains; d; d = d->next)
        if (d->autostart && d->state == MD_STATE_SHUTOFF) {
            md_log(MD_LOG_INFO, "domain %s: autostart", d->name);
            md_job_push(d, md_run_job_start, NULL, NULL);
        }
}

int md_driver_start(struct md_driver *drv, struct md_err *err)
{
    struct md_api_config acfg = {
        .rw_path = drv->paths.rw_sock,
        .ro_path = drv->paths.ro_sock,
        .admin_gid = drv->cfg.admin_gid,
        .methods = md_methods,
        .opaque = drv,
    };

    md_domains_load(drv);
    md_status_restore(drv);
    autostart(drv);
    drv->api = md_api_create(drv->loop, &acfg, err);
    if (!drv->api)
        return err ? err->code : -EIO;
    md_log(MD_LOG_INFO, "%u domains; listening on %s and %s", drv->ndomains, drv->paths.rw_sock,
           drv->paths.ro_sock);
    return 0;
}

void md_driver_destroy(struct md_driver *drv)
{
    if (!drv)
        return;
    md_api_destroy(drv->api);
    drv->api = NULL;
    while (drv->domains) {
        struct md_domain *d = drv->domains;

        /* The emulators run on: a restarted daemon reattaches. (d->mon
         * first: what was pending fails into callbacks that see it gone.) */
        struct md_qmpc *mon = d->mon;

        d->mon = NULL;
        md_qmpc_close(mon);
        if (d->exit_watch) {
            uv_poll_stop(d->exit_watch);
            uv_close((uv_handle_t *)d->exit_watch, free_handle);
            d->exit_watch = NULL;
        }
        if (d->pidfd >= 0)
            close(d->pidfd);
        d->pidfd = -1;
        while (d->jobs) {
            struct md_job *j = d->jobs;

            d->jobs = j->next;
            free(j);
        }
        free(d->job);
        d->job = NULL;
        md_domain_free(d);
    }
    md_schema_free(drv->schema);
    uv_run(drv->loop, UV_RUN_NOWAIT);
    free(drv);
}
