/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run/domains/NAME.xml, a running domain's status, as libvirt's:
 *
 *   <domstatus state='running' reason='booted' pid='123' starttime='4567'
 *              id='3' persistent='yes'>
 *     <domain ...>the definition it runs</domain>
 *   </domstatus>
 *
 * Written atomically at start and on every state change, removed when the
 * emulator ends. A restarted daemon reads these to find the emulators that
 * kept running, and checks that each pid is still that emulator.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fsutil.h"
#include "internal.h"
#include "log.h"

static int status_path(const struct md_domain *d, char *buf, size_t len)
{
    return md_paths_file(buf, len, d->drv->paths.run_domains, d->name, "xml");
}

static const char *state_key(enum md_state s)
{
    static const char *const keys[] = { "shutoff", "running", "paused", "shutdown", "crashed" };

    return keys[s];
}

static bool parse_state(const char *key, enum md_state *s)
{
    for (int i = MD_STATE_SHUTOFF; i <= MD_STATE_CRASHED; i++)
        if (!strcmp(key, state_key((enum md_state)i))) {
            *s = (enum md_state)i;
            return true;
        }
    return false;
}

/* The reasons are static strings; a file gives one of these back. */
static const char *known_reason(const char *r)
{
    static const char *const reasons[] = { "booted",  "unpaused", "user",      "panicked",
                                           "unknown", "shutdown", "destroyed", "crashed" };

    for (unsigned i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (!strcmp(r, reasons[i]))
            return reasons[i];
    return "unknown";
}

int md_status_write(struct md_domain *d, struct md_err *err)
{
    char path[PATH_MAX], head[512];
    struct md_err local;
    char *xml, *doc;
    size_t n;
    int ret;

    if (!err) {
        md_err_clear(&local);
        err = &local;
    }
    if (!d->live || status_path(d, path, sizeof(path)) < 0)
        return md_err_set(err, -EINVAL, 0, "domain %s: no status to write", d->name);
    xml = md_domain_def_format(d->live, err);
    if (!xml)
        return -ENOMEM;
    snprintf(head, sizeof(head),
             "<domstatus state='%s' reason='%s' pid='%d' starttime='%llu' id='%d' "
             "persistent='%s'>\n",
             state_key(d->state), d->reason, (int)d->pid, d->start_time, d->id,
             d->def ? "yes" : "no");
    n = strlen(head) + strlen(xml) + 16;
    doc = malloc(n);
    if (!doc) {
        free(xml);
        return md_err_set(err, -ENOMEM, 0, "out of memory");
    }
    snprintf(doc, n, "%s%s</domstatus>\n", head, xml);
    free(xml);
    ret = md_fs_write_atomic(path, doc, strlen(doc), 0600, err);
    free(doc);
    if (ret < 0 && err == &local)
        md_log(MD_LOG_WARN, "domain %s: %s", d->name, local.msg);
    return ret;
}

void md_status_remove(struct md_domain *d)
{
    char path[PATH_MAX];

    if (status_path(d, path, sizeof(path)) == 0)
        md_fs_remove(path, NULL);
}

static char *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v ? strdup((const char *)v) : NULL;

    xmlFree(v);
    return s;
}

/* One status file: the domain it describes, reattached or cleaned up. */
static void restore_one(struct md_driver *drv, const char *path)
{
    struct md_parse_opts opts = { .no_schema = true,
                                  .emulator = drv->cfg.emulator,
                                  .source = path };
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *child;
    xmlBuffer *buf = NULL;
    struct md_domain_def *live = NULL;
    struct md_domain *d;
    struct md_err err;
    char *state = NULL, *reason = NULL, *pid = NULL, *start = NULL, *id = NULL;
    enum md_state st;

    md_err_clear(&err);
    if (!root || strcmp((const char *)root->name, "domstatus") != 0)
        goto bad;
    state = attr(root, "state");
    reason = attr(root, "reason");
    pid = attr(root, "pid");
    start = attr(root, "starttime");
    id = attr(root, "id");
    for (child = root->children; child && child->type != XML_ELEMENT_NODE; child = child->next)
        ;
    if (!state || !reason || !pid || !start || !id || !child || !parse_state(state, &st))
        goto bad;
    buf = xmlBufferCreate();
    if (!buf || xmlNodeDump(buf, doc, child, 0, 0) < 0)
        goto bad;
    live = md_domain_def_parse_string((const char *)xmlBufferContent(buf),
                                      (size_t)xmlBufferLength(buf), &opts, &err);
    if (!live)
        goto bad;
    d = md_domain_by_uuid(drv, live->uuid);
    if (!d) {
        d = md_domain_new(drv, live->name, live->uuid);
        if (!d)
            goto bad;
    }
    d->live = live;
    live = NULL;
    d->pid = (pid_t)atoi(pid);
    d->start_time = strtoull(start, NULL, 10);
    d->id = atoi(id);
    if (d->id >= drv->next_id)
        drv->next_id = d->id + 1;
    md_domain_set_state(d, st, known_reason(reason));
    if (md_run_reattach(d, &err) < 0) {
        md_log(MD_LOG_WARN, "domain %s: %s: it is shut off", d->name, err.msg);
        md_status_remove(d);
        md_domain_set_state(d, MD_STATE_SHUTOFF, "unknown");
        d->id = -1;
        d->pid = -1;
        md_domain_def_free(d->live);
        d->live = NULL;
        if (!d->def)
            md_domain_free(d);
    }
    goto out;

bad:
    md_log(MD_LOG_ERROR, "%s: not a status file this daemon can read%s%s: left in place", path,
           err.msg[0] ? ": " : "", err.msg);
out:
    md_domain_def_free(live);
    if (buf)
        xmlBufferFree(buf);
    free(state);
    free(reason);
    free(pid);
    free(start);
    free(id);
    xmlFreeDoc(doc);
}

void md_status_restore(struct md_driver *drv)
{
    DIR *dir = opendir(drv->paths.run_domains);
    struct dirent *e;

    if (!dir)
        return;
    md_fs_clean_temps(drv->paths.run_domains);
    while ((e = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        size_t len = strlen(e->d_name);

        if (len < 5 || strcmp(e->d_name + len - 4, ".xml") != 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", drv->paths.run_domains, e->d_name) <
            (int)sizeof(path))
            restore_one(drv, path);
    }
    closedir(dir);
}
