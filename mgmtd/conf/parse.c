/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entry points: a document read safely, its root checked, validated
 * against the schema (a refusal explained by the strict parser), then read
 * into a definition by domain.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "internal.h"
#include "schema.h"

/* Zeroed, with libvirt's defaults where they are not zero. */
static struct md_domain_def *new_def(void)
{
    struct md_domain_def *def = calloc(1, sizeof(*def));

    if (def)
        def->on_reboot = MD_ACTION_RESTART;
    return def;
}

/* The schema said no: the strict walk says why in the admin's terms; only
 * if it finds nothing (the two disagree) is libxml2's message used. */
static int explain_invalid(struct md_pctx *c, xmlNode *root, const char *msg, int line,
                           const xmlNode *node)
{
    struct md_domain_def *scratch = new_def();
    struct md_pctx walk = *c;
    char what[256];
    int ret;

    if (!scratch)
        return md_oom(c);
    walk.def = scratch;
    memset(&walk.seen, 0, sizeof(walk.seen));
    ret = md_domain_read(&walk, root);
    md_domain_def_free(scratch);
    if (ret)
        return ret;
    if (node && node->type == XML_ELEMENT_NODE)
        return md_fail_line(c, -EINVAL, line, "%s: %s (schemas/domain.rng)",
                            md_desc(node, what, sizeof(what)), msg);
    return md_fail_line(c, -EINVAL, line, "%s (schemas/domain.rng)", msg);
}

static int validate_schema(struct md_pctx *c, xmlDoc *doc)
{
    struct md_schema *own = NULL;
    const struct md_schema *s = c->opts->schema;
    const xmlNode *node = NULL;
    char msg[320];
    int line = 0, ret;

    if (!s) {
        own = md_schema_new(c->err);
        if (!own)
            return c->err ? c->err->code : -ENOMEM;
        s = own;
    }
    ret = md_schema_check(c, s, doc, msg, sizeof(msg), &line, &node);
    if (ret == -EINVAL)
        ret = explain_invalid(c, xmlDocGetRootElement(doc), msg, line, node);
    md_schema_free(own);
    return ret;
}

static const struct md_parse_opts no_opts;

int md_validate_only(const struct md_schema *schema, const char *xml, size_t len,
                     struct md_err *err)
{
    const struct md_parse_opts opts = { .schema = schema };
    struct md_pctx c = { .err = err, .opts = &opts };
    xmlDoc *doc = md_xml_read(&c, xml, len);
    int ret;

    if (!doc)
        return err && err->code ? err->code : -EINVAL;
    ret = md_check_root(&c, xmlDocGetRootElement(doc));
    if (!ret)
        ret = validate_schema(&c, doc);
    xmlFreeDoc(doc);
    return ret;
}

struct md_domain_def *md_domain_def_parse_string(const char *xml, size_t len,
                                                 const struct md_parse_opts *opts,
                                                 struct md_err *err)
{
    struct md_pctx c = {
        .err = err,
        .opts = opts ? opts : &no_opts,
        .source = opts ? opts->source : NULL,
    };
    xmlDoc *doc;
    xmlNode *root;
    int ret;

    doc = md_xml_read(&c, xml, len);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    /* The root first: the schema's message for a wrong one is obscure. */
    ret = md_check_root(&c, root);
    if (!ret && !c.opts->no_schema)
        ret = validate_schema(&c, doc);
    if (!ret) {
        c.def = new_def();
        ret = c.def ? md_domain_read(&c, root) : md_oom(&c);
    }
    xmlFreeDoc(doc);
    if (ret) {
        md_domain_def_free(c.def);
        return NULL;
    }
    return c.def;
}

struct md_domain_def *md_domain_def_parse_file(const char *path, const struct md_parse_opts *opts,
                                               struct md_err *err)
{
    struct md_parse_opts o = opts ? *opts : no_opts;
    struct md_domain_def *def = NULL;
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int fd;

    if (!o.source)
        o.source = path;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        md_err_set(err, -errno, 0, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        md_err_set(err, -errno, 0, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        md_err_set(err, -EINVAL, 0, "%s: not a regular file", path);
        goto out;
    }
    /* Refused unread, as md_domain_def_parse_string() would refuse it. */
    if (st.st_size > MD_XML_MAX) {
        md_err_set(err, -EFBIG, 0, "%s: the document has %lld bytes; at most %u are accepted", path,
                   (long long)st.st_size, MD_XML_MAX);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        md_err_set(err, -ENOMEM, 0, "%s: out of memory", path);
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            md_err_set(err, n < 0 ? -errno : -EIO, 0, "%s: %s", path,
                       n < 0 ? strerror(errno) : "the file shrank while it was read");
            goto out;
        }
        got += (size_t)n;
    }
    def = md_domain_def_parse_string(buf, got, &o, err);
out:
    free(buf);
    close(fd);
    return def;
}
