/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API's methods (docs/api.md). Each checks its parameters whole before
 * anything happens; those that change a domain run as jobs of that domain,
 * so that concurrent requests for one domain are served in order, and each
 * is allowed only in the states where it makes sense.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "internal.h"
#include "log.h"

#ifndef KVMSTACK_VERSION
#define KVMSTACK_VERSION "0"
#endif

/* ---- shared ---- */

static struct md_domain *find(struct md_driver *drv, struct md_api_call *call, json_object *params)
{
    const char *what;
    struct md_domain *d;

    if (!md_api_param_str(call, params, "domain", true, &what))
        return NULL;
    d = md_domain_lookup(drv, what);
    if (!d || d->removed)
        md_api_fail(call, MD_API_NO_DOMAIN, "no domain with a name, id or UUID '%s'", what);
    return d;
}

static bool only(struct md_api_call *call, json_object *params, const char *const *allowed)
{
    return md_api_params_only(call, params, allowed);
}

static bool is_active(const struct md_domain *d)
{
    return d->state != MD_STATE_SHUTOFF;
}

static json_object *summary(const struct md_domain *d)
{
    json_object *o = md_domain_brief(d);

    json_object_object_add(o, "state", json_object_new_string(md_state_name(d->state)));
    json_object_object_add(o, "reason", json_object_new_string(d->reason));
    json_object_object_add(o, "persistent", json_object_new_boolean(d->def != NULL));
    json_object_object_add(o, "autostart", json_object_new_boolean(d->autostart));
    return o;
}

static struct md_domain_def *parse(struct md_driver *drv, struct md_api_call *call,
                                   json_object *params)
{
    struct md_parse_opts opts = { .schema = drv->schema, .emulator = drv->cfg.emulator };
    struct md_domain_def *def;
    struct md_err err;
    const char *xml;

    if (!md_api_param_str(call, params, "xml", true, &xml))
        return NULL;
    md_err_clear(&err);
    def = md_domain_def_parse_string(xml, strlen(xml), &opts, &err);
    if (!def) {
        md_api_fail(call, MD_API_INVALID_DEFINITION, "%s", err.msg);
        return NULL;
    }
    return def;
}

/* Name and UUID belong together: a definition may update its own domain,
 * never take another's name or UUID. */
static bool identity_ok(struct md_driver *drv, struct md_api_call *call,
                        const struct md_domain_def *def, struct md_domain **out)
{
    struct md_domain *by_name = md_domain_by_name(drv, def->name);
    struct md_domain *by_uuid = md_domain_by_uuid(drv, def->uuid);
    char uuid[37];

    *out = by_name;
    if (by_name && by_name->removed)
        by_name = NULL;
    if (by_name && memcmp(by_name->uuid, def->uuid, 16) != 0) {
        md_api_fail(call, MD_API_DUPLICATE, "domain '%s' already exists with UUID %s", def->name,
                    by_name->uuid_str);
        return false;
    }
    if (by_uuid && !by_uuid->removed && strcmp(by_uuid->name, def->name) != 0) {
        md_uuid_format(def->uuid, uuid);
        md_api_fail(call, MD_API_DUPLICATE, "UUID %s is already domain '%s'", uuid, by_uuid->name);
        return false;
    }
    return true;
}

/* ---- read-only methods ---- */

static void m_version(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_driver *drv = opaque;
    json_object *r;

    if (!only(call, params, (const char *const[]){ NULL }))
        return;
    r = json_object_new_object();
    json_object_object_add(r, "version", json_object_new_string(KVMSTACK_VERSION));
    json_object_object_add(r, "emulator", json_object_new_string(drv->cfg.emulator));
    json_object_object_add(r, "domains", json_object_new_int((int)drv->ndomains));
    md_api_reply(call, r);
}

static int by_id_then_name(const void *a, const void *b)
{
    const struct md_domain *x = *(struct md_domain *const *)a;
    const struct md_domain *y = *(struct md_domain *const *)b;

    if ((x->id > 0) != (y->id > 0))
        return x->id > 0 ? -1 : 1;
    if (x->id > 0 && x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A JSON string, escaped (names are letters, digits, '_', '.' and '-'
 * already; the rest are the daemon's own words). */
static void add_jstr(struct md_buf *b, const char *s)
{
    const char *run = s;

    md_buf_add(b, "\"");
    for (; *s; s++) {
        if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
            continue;
        md_buf_addf(b, "%.*s\\u%04x", (int)(s - run), run, (unsigned char)*s);
        run = s + 1;
    }
    md_buf_add(b, run);
    md_buf_add(b, "\"");
}

/* What summary() makes, as JSON text: domain.list answers for every
 * domain at once, and a json-c tree of a thousand summaries cost more
 * than the rest of the call, in time and in memory. */
static void summary_text(struct md_buf *b, const struct md_domain *d)
{
    md_buf_add(b, "{\"name\":");
    add_jstr(b, d->name);
    md_buf_addf(b, ",\"uuid\":\"%s\",\"id\":%d,\"state\":", d->uuid_str, d->id);
    add_jstr(b, md_state_name(d->state));
    md_buf_add(b, ",\"reason\":");
    add_jstr(b, d->reason);
    md_buf_addf(b, ",\"persistent\":%s,\"autostart\":%s}", d->def ? "true" : "false",
                d->autostart ? "true" : "false");
}

static void m_list(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_driver *drv = opaque;
    bool all = false, inactive = false;
    struct md_buf b = { 0 };
    struct md_domain **v;
    struct md_err err;
    unsigned n = 0;
    char *text;

    if (!only(call, params, (const char *const[]){ "all", "inactive", NULL }) ||
        !md_api_param_bool(call, params, "all", &all) ||
        !md_api_param_bool(call, params, "inactive", &inactive))
        return;
    v = malloc(sizeof(*v) * (drv->ndomains + 1));
    if (!v) {
        md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return;
    }
    for (struct md_domain *d = drv->domains; d; d = d->next) {
        bool active = is_active(d);

        if (!d->removed && (all || (inactive ? !active : active)))
            v[n++] = d;
    }
    qsort(v, n, sizeof(*v), by_id_then_name);
    md_buf_add(&b, "{\"domains\":[");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            md_buf_add(&b, ",");
        summary_text(&b, v[i]);
    }
    md_buf_add(&b, "]}");
    free(v);
    md_err_clear(&err);
    text = md_buf_finish(&b, &err);
    if (!text) {
        md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return;
    }
    md_api_reply_text(call, text, strlen(text));
    free(text);
}

static void m_lookup(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "domain", NULL }))
        return;
    d = find(opaque, call, params);
    if (d)
        md_api_reply(call, summary(d));
}

static void m_get_state(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_domain *d;
    json_object *r;

    if (!only(call, params, (const char *const[]){ "domain", NULL }))
        return;
    d = find(opaque, call, params);
    if (!d)
        return;
    r = json_object_new_object();
    json_object_object_add(r, "state", json_object_new_string(md_state_name(d->state)));
    json_object_object_add(r, "reason", json_object_new_string(d->reason));
    md_api_reply(call, r);
}

/* User and system CPU time of the emulator, in nanoseconds. */
static uint64_t cpu_time_ns(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f;

    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    fclose(f);
    return hz > 0 ? (ut + st) * (1000000000ull / (unsigned long long)hz) : 0;
}

static void m_get_info(void *opaque, struct md_api_call *call, json_object *params)
{
    const struct md_domain_def *def;
    struct md_domain *d;
    json_object *r;

    if (!only(call, params, (const char *const[]){ "domain", NULL }))
        return;
    d = find(opaque, call, params);
    if (!d)
        return;
    def = md_domain_shown_def(d, false);
    r = summary(d);
    json_object_object_add(r, "max_memory_kib", json_object_new_int64((int64_t)def->memory_kib));
    json_object_object_add(r, "memory_kib",
                           json_object_new_int64(is_active(d) ? (int64_t)def->memory_kib : 0));
    json_object_object_add(r, "vcpus", json_object_new_int((int)def->vcpus));
    json_object_object_add(r, "cpu_time_ns", json_object_new_int64((int64_t)cpu_time_ns(d->pid)));
    json_object_object_add(r, "pid", json_object_new_int(is_active(d) ? d->pid : -1));
    json_object_object_add(r, "os_type", json_object_new_string("hvm"));
    md_api_reply(call, r);
}

static void m_get_xml(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_domain *d;
    bool inactive = false;
    struct md_err err;
    json_object *r;
    char *xml;

    if (!only(call, params, (const char *const[]){ "domain", "inactive", NULL }) ||
        !md_api_param_bool(call, params, "inactive", &inactive))
        return;
    d = find(opaque, call, params);
    if (!d)
        return;
    md_err_clear(&err);
    xml = md_domain_def_format(md_domain_shown_def(d, inactive), &err);
    if (!xml) {
        md_api_fail(call, MD_API_INTERNAL, "%s", err.msg);
        return;
    }
    r = json_object_new_object();
    json_object_object_add(r, "xml", json_object_new_string(xml));
    free(xml);
    md_api_reply(call, r);
}

static void m_get_devices(void *opaque, struct md_api_call *call, json_object *params)
{
    const struct md_domain_def *def;
    json_object *disks, *nics, *r;
    struct md_domain *d;
    bool inactive = false;

    if (!only(call, params, (const char *const[]){ "domain", "inactive", NULL }) ||
        !md_api_param_bool(call, params, "inactive", &inactive))
        return;
    d = find(opaque, call, params);
    if (!d)
        return;
    def = md_domain_shown_def(d, inactive);
    disks = json_object_new_array();
    for (unsigned i = 0; i < def->nr_disks; i++) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "type", json_object_new_string("file"));
        json_object_object_add(o, "device", json_object_new_string("disk"));
        json_object_object_add(o, "target", json_object_new_string(def->disks[i].target));
        json_object_object_add(o, "source", json_object_new_string(def->disks[i].source));
        json_object_object_add(o, "readonly", json_object_new_boolean(def->disks[i].readonly));
        json_object_array_add(disks, o);
    }
    nics = json_object_new_array();
    for (unsigned i = 0; i < def->nr_nics; i++) {
        const struct md_interface *n = &def->nics[i];
        json_object *o = json_object_new_object();
        char mac[18];
        const char *ifname = d->live && d->live == def && d->taps[i][0] ? d->taps[i] : n->ifname;

        md_mac_format(n->mac, mac);
        json_object_object_add(
            o, "type", json_object_new_string(n->type == MD_NET_BRIDGE ? "bridge" : "ethernet"));
        json_object_object_add(o, "interface", json_object_new_string(ifname ? ifname : "-"));
        json_object_object_add(o, "source",
                               json_object_new_string(n->type == MD_NET_BRIDGE ? n->bridge : "-"));
        json_object_object_add(o, "model", json_object_new_string("virtio"));
        json_object_object_add(o, "mac", json_object_new_string(mac));
        json_object_array_add(nics, o);
    }
    r = json_object_new_object();
    json_object_object_add(r, "disks", disks);
    json_object_object_add(r, "interfaces", nics);
    md_api_reply(call, r);
}

static void m_validate(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_domain_def *def;
    json_object *r;
    char uuid[37];

    if (!only(call, params, (const char *const[]){ "xml", NULL }))
        return;
    def = parse(opaque, call, params);
    if (!def)
        return;
    r = json_object_new_object();
    md_uuid_format(def->uuid, uuid);
    json_object_object_add(r, "name", json_object_new_string(def->name));
    json_object_object_add(r, "uuid", json_object_new_string(uuid));
    md_domain_def_free(def);
    md_api_reply(call, r);
}

static void m_subscribe(void *opaque, struct md_api_call *call, json_object *params)
{
    (void)opaque;
    if (!only(call, params, (const char *const[]){ NULL }))
        return;
    md_api_subscribe(call);
    md_api_reply(call, NULL);
}

/* ---- define, undefine, create ---- */

static void m_define(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_driver *drv = opaque;
    struct md_domain_def *def;
    struct md_domain *d;
    struct md_err err;
    bool created;
    json_object *r;

    if (!only(call, params, (const char *const[]){ "xml", NULL }))
        return;
    def = parse(drv, call, params);
    if (!def)
        return;
    if (!identity_ok(drv, call, def, &d)) {
        md_domain_def_free(def);
        return;
    }
    md_err_clear(&err);
    if (md_domain_def_check_files(def, &err) < 0) {
        md_api_fail(call, MD_API_INVALID_DEFINITION, "%s", err.msg);
        md_domain_def_free(def);
        return;
    }
    created = !d;
    if (!d) {
        d = md_domain_new(drv, def->name, def->uuid);
        if (!d) {
            md_domain_def_free(def);
            md_api_fail(call, MD_API_INTERNAL, "out of memory");
            return;
        }
    }
    /* On disk first: a definition the daemon holds is one it kept. */
    if (md_domain_save(d, def, &err) < 0) {
        md_api_fail(call, MD_API_OPERATION_FAILED, "%s", err.msg);
        md_domain_def_free(def);
        if (created)
            md_domain_free(d);
        return;
    }
    if (is_active(d)) {
        /* Running: the next start uses it (a transient one becomes
         * persistent with it). */
        md_domain_def_free(d->newdef);
        d->newdef = d->def ? def : NULL;
        if (!d->def)
            d->def = def;
    } else {
        md_domain_def_free(d->def);
        d->def = def;
    }
    md_domain_event(d, "defined", created ? "added" : "updated", NULL);
    r = md_domain_brief(d);
    json_object_object_add(r, "created", json_object_new_boolean(created));
    md_api_reply(call, r);
}

static void job_undefine(struct md_domain *d, struct md_job *job)
{
    struct md_err err;

    if (!d->def) {
        md_job_done(d, NULL, MD_API_OPERATION_INVALID,
                    "domain %s is transient: it has no definition to remove", d->name);
        return;
    }
    if (is_active(d) && !job->force) {
        md_job_done(d, NULL, MD_API_OPERATION_INVALID,
                    "domain %s is %s: destroy it first, or undefine with keep_running (it then "
                    "runs on, transient)",
                    d->name, md_state_name(d->state));
        return;
    }
    md_err_clear(&err);
    if (md_domain_remove_files(d, &err) < 0) {
        md_job_done(d, NULL, MD_API_OPERATION_FAILED, "%s", err.msg);
        return;
    }
    md_domain_def_free(d->def);
    md_domain_def_free(d->newdef);
    d->def = d->newdef = NULL;
    md_domain_event(d, "undefined", "removed", NULL);
    if (!is_active(d))
        d->removed = true;
    md_job_done(d, NULL, 0, NULL);
}

static void m_undefine(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_job p = { 0 };
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "domain", "keep_running", NULL }) ||
        !md_api_param_bool(call, params, "keep_running", &p.force))
        return;
    d = find(opaque, call, params);
    if (d)
        md_job_push(d, job_undefine, call, &p);
}

static void m_create(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_driver *drv = opaque;
    struct md_job p = { 0 };
    struct md_domain_def *def;
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "xml", "paused", NULL }) ||
        !md_api_param_bool(call, params, "paused", &p.paused))
        return;
    def = parse(drv, call, params);
    if (!def)
        return;
    if (!identity_ok(drv, call, def, &d)) {
        md_domain_def_free(def);
        return;
    }
    if (d) {
        md_api_fail(call, MD_API_DUPLICATE, "domain '%s' already exists: start it instead",
                    def->name);
        md_domain_def_free(def);
        return;
    }
    d = md_domain_new(drv, def->name, def->uuid);
    if (!d) {
        md_domain_def_free(def);
        md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return;
    }
    d->live = def; /* transient: no persistent definition */
    md_job_push(d, md_run_job_start, call, &p);
}

/* ---- lifecycle ---- */

static void m_start(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_job p = { 0 };
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "domain", "paused", NULL }) ||
        !md_api_param_bool(call, params, "paused", &p.paused))
        return;
    d = find(opaque, call, params);
    if (d)
        md_job_push(d, md_run_job_start, call, &p);
}

static bool require(struct md_domain *d, bool ok, const char *what)
{
    if (!ok)
        md_job_done(d, NULL, MD_API_OPERATION_INVALID, "domain %s is %s: cannot %s", d->name,
                    md_state_name(d->state), what);
    return ok;
}

static void job_destroy(struct md_domain *d, struct md_job *job)
{
    if (!require(d, is_active(d) && d->pid > 0, "destroy it"))
        return;
    md_run_kill(d, job->graceful);
    /* The emulator's end ends the job (run.c). */
}

static void m_destroy(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_job p = { 0 };
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "domain", "graceful", NULL }) ||
        !md_api_param_bool(call, params, "graceful", &p.graceful))
        return;
    d = find(opaque, call, params);
    if (d)
        md_job_push(d, job_destroy, call, &p);
}

static void on_shutdown_timeout(struct md_domain *d)
{
    int s = d->job ? d->job->timeout_ms / 1000 : 0;

    if (d->state == MD_STATE_IN_SHUTDOWN)
        md_domain_set_state(d, MD_STATE_RUNNING, "booted");
    md_job_done(d, NULL, MD_API_TIMEOUT,
                "domain %s did not shut down within %d s (the guest may ignore the ACPI power "
                "button); it is still %s",
                d->name, s, md_state_name(d->state));
}

static void on_powerdown(void *opaque, json_object *ret, const char *error)
{
    struct md_domain *d = opaque;

    /* The guest powered off before the answer was read: the monitor went
     * with the emulator, and emulator_gone() ended the job. */
    if (!ret && !d->mon)
        return;
    if (!ret) {
        md_job_done(d, NULL, MD_API_OPERATION_FAILED, "domain %s: %s", d->name, error);
        return;
    }
    if (d->state == MD_STATE_RUNNING)
        md_domain_set_state(d, MD_STATE_IN_SHUTDOWN, "user");
    md_domain_event(d, "shutdown", d->reboot_pending ? "reboot" : "user", NULL);
    /* With a timeout the job waits for the emulator's end (run.c ends it). */
    if (d->job->timeout_ms > 0)
        md_job_timer(d, d->job->timeout_ms, on_shutdown_timeout);
    else
        md_job_done(d, NULL, 0, NULL);
}

static void powerdown(struct md_domain *d)
{
    if (!d->mon) {
        md_job_done(d, NULL, MD_API_OPERATION_FAILED,
                    "domain %s: its emulator's monitor is not connected", d->name);
        return;
    }
    md_qmpc_execute(d->mon, "system_powerdown", NULL, on_powerdown, d);
}

static void job_shutdown(struct md_domain *d, struct md_job *job)
{
    if (!require(d, d->state == MD_STATE_RUNNING || d->state == MD_STATE_IN_SHUTDOWN,
                 "shut it down"))
        return;
    /* The guest powered itself off: there is no button left to press (its
     * emulator may have closed the monitor already), only its end to wait
     * for, which ends the job with a timeout (run.c). */
    if (d->state == MD_STATE_IN_SHUTDOWN && d->guest_shutdown) {
        if (job->timeout_ms > 0)
            md_job_timer(d, job->timeout_ms, on_shutdown_timeout);
        else
            md_job_done(d, NULL, 0, NULL);
        return;
    }
    powerdown(d);
}

static void m_shutdown(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_job p = { 0 };
    struct md_domain *d;
    int64_t timeout = 0;

    if (!only(call, params, (const char *const[]){ "domain", "timeout", NULL }) ||
        !md_api_param_int(call, params, "timeout", 0, 86400, &timeout))
        return;
    d = find(opaque, call, params);
    if (!d)
        return;
    p.timeout_ms = (int)timeout * 1000;
    md_job_push(d, job_shutdown, call, &p);
}

static void job_reboot(struct md_domain *d, struct md_job *job)
{
    (void)job;
    if (!require(d, d->state == MD_STATE_RUNNING, "reboot it"))
        return;
    /* As libvirt's ACPI reboot: the guest powers off, and starts again. */
    d->reboot_pending = true;
    powerdown(d);
}

static void job_reset(struct md_domain *d, struct md_job *job)
{
    (void)job;
    if (!require(d, is_active(d), "reset it"))
        return;
    md_run_qmp_job(d, "system_reset", (enum md_state) - 1, NULL);
}

static void job_suspend(struct md_domain *d, struct md_job *job)
{
    (void)job;
    if (d->state == MD_STATE_PAUSED) {
        md_job_done(d, NULL, MD_API_OPERATION_INVALID, "domain %s is already paused", d->name);
        return;
    }
    if (!require(d, d->state == MD_STATE_RUNNING || d->state == MD_STATE_IN_SHUTDOWN, "suspend it"))
        return;
    md_run_qmp_job(d, "stop", MD_STATE_PAUSED, "user");
}

static void job_resume(struct md_domain *d, struct md_job *job)
{
    (void)job;
    if (!require(d, d->state == MD_STATE_PAUSED || d->state == MD_STATE_CRASHED, "resume it"))
        return;
    md_run_qmp_job(d, "cont", MD_STATE_RUNNING, "unpaused");
}

#define SIMPLE_METHOD(fn, job)                                                                     \
    static void fn(void *opaque, struct md_api_call *call, json_object *params)                    \
    {                                                                                              \
        struct md_domain *d;                                                                       \
                                                                                                   \
        if (!only(call, params, (const char *const[]){ "domain", NULL }))                          \
            return;                                                                                \
        d = find(opaque, call, params);                                                            \
        if (d)                                                                                     \
            md_job_push(d, job, call, NULL);                                                       \
    }

SIMPLE_METHOD(m_reboot, job_reboot)
SIMPLE_METHOD(m_reset, job_reset)
SIMPLE_METHOD(m_suspend, job_suspend)
SIMPLE_METHOD(m_resume, job_resume)

static void job_autostart(struct md_domain *d, struct md_job *job)
{
    struct md_err err;

    if (!d->def) {
        md_job_done(d, NULL, MD_API_OPERATION_INVALID,
                    "domain %s is transient: only a defined domain can start with the daemon",
                    d->name);
        return;
    }
    md_err_clear(&err);
    if (md_domain_set_autostart(d, job->force, &err) < 0)
        md_job_done(d, NULL, MD_API_OPERATION_FAILED, "%s", err.msg);
    else
        md_job_done(d, NULL, 0, NULL);
}

static void m_set_autostart(void *opaque, struct md_api_call *call, json_object *params)
{
    struct md_job p = { .force = true };
    struct md_domain *d;

    if (!only(call, params, (const char *const[]){ "domain", "autostart", NULL }) ||
        !md_api_param_bool(call, params, "autostart", &p.force))
        return;
    d = find(opaque, call, params);
    if (d)
        md_job_push(d, job_autostart, call, &p);
}

/* ---- the console ---- */

static void console_ended(void *opaque)
{
    struct md_domain *d = opaque;

    d->console = NULL;
}

/*
 * The answer waits until kvmemu took the connection: connect() returns once
 * it is queued, and what the guest prints before kvmemu accept()s it is
 * dropped (nobody reads), so "start paused, attach, resume" (vmctl start
 * --console) would lose the guest's first lines. query-chardev shows the
 * socket's client ("unix:PATH,server=on", without "disconnected:"); it is
 * asked again until it does, a round trip each (tens of microseconds), at
 * most CONSOLE_POLLS times, then the answer goes anyway. The callbacks come
 * from the domain's monitor only, which is closed (failing what is
 * pending, at once) before the domain can go: no timer outlives it.
 */
#define CONSOLE_POLLS 2000

struct console_wait {
    struct md_domain *d;
    struct md_api_call *call;
    int fd;
    unsigned polls;
    char want[PATH_MAX + 32];
};

static void console_attach(struct console_wait *w)
{
    w->d->console = md_api_reply_stream(w->call, w->fd, console_ended, w->d);
    free(w);
}

static void on_chardevs(void *opaque, json_object *ret, const char *error)
{
    struct console_wait *w = opaque;
    struct md_domain *d = w->d;

    (void)error;
    if (!ret && !d->mon) {
        /* Released with its emulator: the domain stopped meanwhile. */
        md_api_fail(w->call, MD_API_OPERATION_INVALID, "domain %s is not running", d->name);
        close(w->fd);
        free(w);
        return;
    }
    for (size_t i = 0; ret && i < json_object_array_length(ret); i++) {
        json_object *c = json_object_array_get_idx(ret, i), *name;

        if (json_object_object_get_ex(c, "filename", &name) &&
            !strcmp(json_object_get_string(name), w->want)) {
            console_attach(w);
            return;
        }
    }
    if (!ret || ++w->polls >= CONSOLE_POLLS || !md_qmpc_is_ready(d->mon)) {
        console_attach(w);
        return;
    }
    md_qmpc_execute(d->mon, "query-chardev", NULL, on_chardevs, w);
}

static void console_wait(struct md_domain *d, struct md_api_call *call, int fd, const char *path)
{
    struct console_wait *w = calloc(1, sizeof(*w));

    if (!w) {
        close(fd);
        md_api_fail(call, MD_API_INTERNAL, "out of memory");
        return;
    }
    *w = (struct console_wait){ .d = d, .call = call, .fd = fd };
    snprintf(w->want, sizeof(w->want), "unix:%s,server=on", path);
    if (!d->mon || !md_qmpc_is_ready(d->mon)) {
        console_attach(w);
        return;
    }
    md_qmpc_execute(d->mon, "query-chardev", NULL, on_chardevs, w);
}

/* The socket of the console asked for (NULL: the serial port, else hvc0);
 * false if the domain has none. */
static bool console_socket(struct md_domain *d, const char *device, char *path, size_t len)
{
    const char *const order[2] = { device && !strcmp(device, "virtio") ? "hvc" : "console",
                                   device ? NULL : "hvc" };

    for (int i = 0; i < 2 && order[i]; i++)
        if (md_paths_file(path, len, d->drv->paths.run_domains, d->name, order[i]) == 0 &&
            access(path, F_OK) == 0)
            return true;
    return false;
}

static void m_console(void *opaque, struct md_api_call *call, json_object *params)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *device = NULL;
    struct md_domain *d;
    bool force = false;
    char path[PATH_MAX];
    int fd;

    if (!only(call, params, (const char *const[]){ "domain", "force", "device", NULL }) ||
        !md_api_param_bool(call, params, "force", &force) ||
        !md_api_param_str(call, params, "device", false, &device))
        return;
    if (device && strcmp(device, "serial") != 0 && strcmp(device, "virtio") != 0) {
        md_api_fail(call, MD_API_INVALID_PARAMS,
                    "domain.console: device '%s' is not serial or virtio", device);
        return;
    }
    d = find(opaque, call, params);
    if (!d)
        return;
    if (!is_active(d) || d->pid <= 0) {
        md_api_fail(call, MD_API_OPERATION_INVALID, "domain %s is not running", d->name);
        return;
    }
    if (d->console && !force) {
        md_api_fail(call, MD_API_BUSY,
                    "domain %s: another console session is attached (force takes it over)",
                    d->name);
        return;
    }
    if (!console_socket(d, device, path, sizeof(path)) || strlen(path) >= sizeof(sa.sun_path)) {
        md_api_fail(call, MD_API_OPERATION_INVALID,
                    "domain %s has no %s console (its definition needs a <serial type='pty'> or "
                    "a <console type='pty'> with a virtio target)",
                    d->name, device ? device : "pty");
        return;
    }
    if (d->console) {
        struct md_api_stream *old = d->console;

        d->console = NULL;
        md_api_stream_close(old);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        md_api_fail(call, MD_API_OPERATION_FAILED, "domain %s: cannot reach its console: %s",
                    d->name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    console_wait(d, call, fd, path);
}

/* ---- the table ---- */

const struct md_api_method md_methods[] = {
    { "daemon.version", false, m_version },
    { "domain.list", false, m_list },
    { "domain.lookup", false, m_lookup },
    { "domain.get_state", false, m_get_state },
    { "domain.get_info", false, m_get_info },
    { "domain.get_xml", false, m_get_xml },
    { "domain.get_devices", false, m_get_devices },
    { "domain.validate", false, m_validate },
    { "events.subscribe", false, m_subscribe },
    { "domain.define", true, m_define },
    { "domain.undefine", true, m_undefine },
    { "domain.create", true, m_create },
    { "domain.start", true, m_start },
    { "domain.shutdown", true, m_shutdown },
    { "domain.destroy", true, m_destroy },
    { "domain.reboot", true, m_reboot },
    { "domain.reset", true, m_reset },
    { "domain.suspend", true, m_suspend },
    { "domain.resume", true, m_resume },
    { "domain.set_autostart", true, m_set_autostart },
    { "domain.console", true, m_console },
    { NULL, false, NULL },
};
