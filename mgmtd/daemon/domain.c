/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domains: the registry (by name, UUID and id), their definitions on disk,
 * their state and the events that announce its changes, and the job queue
 * that serialises what is done to each.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "internal.h"
#include "log.h"

const char *md_state_name(enum md_state s)
{
    switch (s) {
    case MD_STATE_RUNNING:
        return "running";
    case MD_STATE_PAUSED:
        return "paused";
    case MD_STATE_IN_SHUTDOWN:
        return "in shutdown";
    case MD_STATE_CRASHED:
        return "crashed";
    default:
        return "shut off";
    }
}

/* ---- the registry ---- */

struct md_domain *md_domain_new(struct md_driver *drv, const char *name, const uint8_t uuid[16])
{
    struct md_domain *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->drv = drv;
    snprintf(d->name, sizeof(d->name), "%s", name);
    memcpy(d->uuid, uuid, 16);
    md_uuid_format(uuid, d->uuid_str);
    d->state = MD_STATE_SHUTOFF;
    d->reason = "unknown";
    d->id = -1;
    d->pid = -1;
    d->pidfd = -1;
    d->refs = 1;
    d->next = drv->domains;
    drv->domains = d;
    drv->ndomains++;
    return d;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

void md_domain_ref(struct md_domain *d)
{
    d->refs++;
}

void md_domain_unref(struct md_domain *d)
{
    if (--d->refs > 0)
        return;
    if (d->timer)
        uv_close((uv_handle_t *)&d->timer->handle, on_timer_closed);
    md_domain_def_free(d->def);
    md_domain_def_free(d->newdef);
    md_domain_def_free(d->live);
    free(d);
}

void md_domain_free(struct md_domain *d)
{
    struct md_driver *drv = d->drv;
    bool found = false;

    for (struct md_domain **p = &drv->domains; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            drv->ndomains--;
            found = true;
            break;
        }
    d->removed = true;
    if (found)
        md_domain_unref(d);
}

struct md_domain *md_domain_by_name(struct md_driver *drv, const char *name)
{
    for (struct md_domain *d = drv->domains; d; d = d->next)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

struct md_domain *md_domain_by_uuid(struct md_driver *drv, const uint8_t uuid[16])
{
    for (struct md_domain *d = drv->domains; d; d = d->next)
        if (!memcmp(d->uuid, uuid, 16))
            return d;
    return NULL;
}

struct md_domain *md_domain_lookup(struct md_driver *drv, const char *what)
{
    uint8_t uuid[16];
    char *end;
    long id;

    /* As virsh: an id, then a UUID, then a name. */
    errno = 0;
    id = strtol(what, &end, 10);
    if (*what && !*end && !errno && id > 0)
        for (struct md_domain *d = drv->domains; d; d = d->next)
            if (d->id == id)
                return d;
    if (md_uuid_parse(what, uuid)) {
        struct md_domain *d = md_domain_by_uuid(drv, uuid);

        if (d)
            return d;
    }
    return md_domain_by_name(drv, what);
}

const struct md_domain_def *md_domain_next_def(const struct md_domain *d)
{
    return d->newdef ? d->newdef : d->def;
}

const struct md_domain_def *md_domain_shown_def(const struct md_domain *d, bool inactive)
{
    if (d->live && !inactive)
        return d->live;
    return md_domain_next_def(d) ? md_domain_next_def(d) : d->live;
}

/* ---- files ---- */

static int def_path(const struct md_domain *d, const char *dir, char *buf, size_t len,
                    struct md_err *err)
{
    if (md_paths_file(buf, len, dir, d->name, "xml") < 0)
        return md_err_set(err, -ENAMETOOLONG, 0, "%s/%s.xml: the path is too long", dir, d->name);
    return 0;
}

int md_domain_save(struct md_domain *d, const struct md_domain_def *def, struct md_err *err)
{
    char path[PATH_MAX];
    char *xml;
    int ret = def_path(d, d->drv->paths.domains, path, sizeof(path), err);

    if (ret < 0)
        return ret;
    xml = md_domain_def_format(def, err);
    if (!xml)
        return -ENOMEM;
    ret = md_fs_write_atomic(path, xml, strlen(xml), 0600, err);
    free(xml);
    return ret;
}

int md_domain_set_autostart(struct md_domain *d, bool on, struct md_err *err)
{
    char link[PATH_MAX], target[PATH_MAX];
    int ret = def_path(d, d->drv->paths.autostart, link, sizeof(link), err);

    if (ret == 0)
        ret = def_path(d, d->drv->paths.domains, target, sizeof(target), err);
    if (ret < 0)
        return ret;
    if (!on) {
        ret = md_fs_remove(link, err);
    } else {
        unlink(link);
        if (symlink(target, link) < 0)
            return md_err_set(err, -errno, 0, "%s: cannot create it: %s", link, strerror(errno));
        ret = md_fs_sync_dir(d->drv->paths.autostart);
        if (ret < 0)
            return md_err_set(err, ret, 0, "%s: cannot sync it: %s", d->drv->paths.autostart,
                              strerror(-ret));
    }
    if (ret == 0)
        d->autostart = on;
    return ret;
}

int md_domain_remove_files(struct md_domain *d, struct md_err *err)
{
    char path[PATH_MAX];
    int ret = md_domain_set_autostart(d, false, err);

    if (ret == 0)
        ret = def_path(d, d->drv->paths.domains, path, sizeof(path), err);
    if (ret == 0)
        ret = md_fs_remove(path, err);
    return ret;
}

static void load_one(struct md_driver *drv, const char *file)
{
    struct md_parse_opts opts = { .schema = drv->schema,
                                  .emulator = drv->cfg.emulator,
                                  .source = file };
    struct md_domain_def *def;
    struct md_domain *d;
    struct md_err err;
    char link[PATH_MAX];
    size_t n = strlen(file);

    md_err_clear(&err);
    def = md_domain_def_parse_file(file, &opts, &err);
    if (!def) {
        /* Never removed: the admin fixes it, or it was written by hand. */
        md_log(MD_LOG_ERROR, "%s: skipped: %s", file, err.msg);
        return;
    }
    if (n < 5 || strncmp(file + n - 4 - strlen(def->name), def->name, strlen(def->name)) != 0 ||
        file[n - 5 - strlen(def->name)] != '/') {
        md_log(MD_LOG_ERROR, "%s: skipped: it defines domain '%s', which belongs in %s.xml", file,
               def->name, def->name);
        md_domain_def_free(def);
        return;
    }
    if (md_domain_by_name(drv, def->name) || md_domain_by_uuid(drv, def->uuid)) {
        md_log(MD_LOG_ERROR, "%s: skipped: its name or UUID is another domain's", file);
        md_domain_def_free(def);
        return;
    }
    d = md_domain_new(drv, def->name, def->uuid);
    if (!d) {
        md_domain_def_free(def);
        return;
    }
    d->def = def;
    if (md_paths_file(link, sizeof(link), drv->paths.autostart, d->name, "xml") == 0)
        d->autostart = access(link, F_OK) == 0;
}

void md_domains_load(struct md_driver *drv)
{
    DIR *dir = opendir(drv->paths.domains);
    struct dirent *e;
    unsigned n;

    if (!dir) {
        md_log(MD_LOG_ERROR, "%s: %s", drv->paths.domains, strerror(errno));
        return;
    }
    n = md_fs_clean_temps(drv->paths.domains);
    if (n)
        md_log(MD_LOG_INFO, "%s: removed %u unfinished temporary files", drv->paths.domains, n);
    while ((e = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        size_t len = strlen(e->d_name);

        if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", drv->paths.domains, e->d_name) <
            (int)sizeof(path))
            load_one(drv, path);
    }
    closedir(dir);
}

/* ---- state and events ---- */

json_object *md_domain_brief(const struct md_domain *d)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid_str));
    json_object_object_add(o, "id", json_object_new_int(d->id));
    return o;
}

void md_domain_event(struct md_domain *d, const char *type, const char *detail, json_object *extra)
{
    json_object *ev = json_object_new_object();
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    json_object_object_add(ev, "event", json_object_new_string("lifecycle"));
    json_object_object_add(ev, "domain", md_domain_brief(d));
    json_object_object_add(ev, "type", json_object_new_string(type));
    json_object_object_add(ev, "detail", json_object_new_string(detail ? detail : ""));
    json_object_object_add(
        ev, "timestamp",
        json_object_new_double((double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6));
    if (extra) {
        json_object_object_foreach(extra, k, v) json_object_object_add(ev, k, json_object_get(v));
        json_object_put(extra);
    }
    md_log(MD_LOG_INFO, "domain %s: %s%s%s", d->name, type, detail ? " " : "",
           detail ? detail : "");
    if (d->drv->api)
        md_api_broadcast(d->drv->api, ev);
    else
        json_object_put(ev);
}

void md_domain_set_state(struct md_domain *d, enum md_state s, const char *reason)
{
    d->state = s;
    d->reason = reason;
}

/* ---- jobs ---- */

/* Starts the next job if none runs. A job that ends at once starts the one
 * after it from md_job_done(), which may also free the domain (undefined,
 * or transient and stopped): nothing here touches d after j->run(). */
static void run_next(struct md_domain *d)
{
    struct md_job *j = d->jobs;

    if (d->job || !j)
        return;
    d->jobs = j->next;
    j->next = NULL;
    d->job = j;
    j->run(d, j);
}

void md_job_push(struct md_domain *d, md_job_fn fn, struct md_api_call *call,
                 const struct md_job *params)
{
    struct md_job *j = calloc(1, sizeof(*j)), **tail;

    if (!j) {
        if (call)
            md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return;
    }
    if (params)
        *j = *params;
    j->run = fn;
    j->call = call;
    j->next = NULL;
    for (tail = &d->jobs; *tail; tail = &(*tail)->next)
        ;
    *tail = j;
    run_next(d);
}

void md_job_timer_stop(struct md_domain *d)
{
    if (d->timer)
        uv_timer_stop(&d->timer->handle);
}

void md_job_done(struct md_domain *d, json_object *result, enum md_api_code code, const char *fmt,
                 ...)
{
    struct md_job *j = d->job;
    char msg[1024];
    va_list ap;

    if (!j) {
        json_object_put(result);
        return;
    }
    md_job_timer_stop(d);
    d->job = NULL;
    if (j->call) {
        if (code) {
            va_start(ap, fmt);
            vsnprintf(msg, sizeof(msg), fmt, ap);
            va_end(ap);
            md_api_fail(j->call, code, "%s", msg);
            json_object_put(result);
        } else {
            md_api_reply(j->call, result);
        }
    } else {
        if (code) {
            va_start(ap, fmt);
            vsnprintf(msg, sizeof(msg), fmt, ap);
            va_end(ap);
            md_log(MD_LOG_ERROR, "domain %s: %s", d->name, msg);
        }
        json_object_put(result);
    }
    free(j);
    if (d->removed) {
        /* Undefined (or a transient domain that ended): what waited for it
         * finds it gone. */
        while (d->jobs) {
            j = d->jobs;
            d->jobs = j->next;
            if (j->call)
                md_api_fail(j->call, MD_API_NO_DOMAIN, "domain %s no longer exists", d->name);
            free(j);
        }
        md_domain_free(d);
        return;
    }
    run_next(d);
}

static void on_job_timer(uv_timer_t *t)
{
    struct md_deadline *timer = (struct md_deadline *)t;

    timer->fn(timer->d);
}

void md_job_timer(struct md_domain *d, int ms, void (*fn)(struct md_domain *d))
{
    if (!d->timer) {
        d->timer = calloc(1, sizeof(*d->timer));
        if (!d->timer)
            return;
        uv_timer_init(d->drv->loop, &d->timer->handle);
        d->timer->d = d;
    }
    d->timer->fn = fn;
    uv_timer_start(&d->timer->handle, on_job_timer, (uint64_t)ms, 0);
}
