/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schemas/domain.rng through libxml2's RelaxNG. libxml2's own messages
 * are kept only as a fallback: domain.c explains a failed validation in
 * the admin's terms by walking the document with the strict parser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/relaxng.h>

#include "internal.h"
#include "schema.h"

/* The schema's text, generated from schemas/domain.rng at build time. */
extern const char md_schema_rng[];
extern const size_t md_schema_rng_len;

struct md_schema {
    xmlRelaxNGPtr rng;
};

struct first_error {
    bool set;
    int line;
    const xmlNode *node;
    char msg[320];
};

static void keep_first(void *ctx, xmlErrorPtr e)
{
    struct first_error *f = ctx;
    size_t n;

    if (f->set || e->level < XML_ERR_ERROR)
        return;
    f->set = true;
    f->node = e->node;
    f->line = e->line > 0 ? e->line : md_line(e->node);
    snprintf(f->msg, sizeof(f->msg), "%s", e->message ? e->message : "invalid");
    n = strlen(f->msg);
    while (n && (f->msg[n - 1] == '\n' || f->msg[n - 1] == ' '))
        f->msg[--n] = '\0';
    for (char *p = f->msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

const char *md_schema_text(void)
{
    return md_schema_rng;
}

struct md_schema *md_schema_new(struct md_err *err)
{
    struct first_error f = { 0 };
    xmlRelaxNGParserCtxtPtr p;
    struct md_schema *s;

    s = calloc(1, sizeof(*s));
    p = s ? xmlRelaxNGNewMemParserCtxt(md_schema_rng, (int)md_schema_rng_len) : NULL;
    if (!p) {
        free(s);
        md_err_set(err, -ENOMEM, 0, "out of memory compiling schemas/domain.rng");
        return NULL;
    }
    xmlRelaxNGSetParserStructuredErrors(p, keep_first, &f);
    s->rng = xmlRelaxNGParse(p);
    xmlRelaxNGFreeParserCtxt(p);
    if (!s->rng) {
        /* A bug in the built-in schema, not in anyone's XML. */
        md_err_set(err, -EPROTO, 0, "schemas/domain.rng does not compile: line %d: %s", f.line,
                   f.set ? f.msg : "unknown error");
        free(s);
        return NULL;
    }
    return s;
}

void md_schema_free(struct md_schema *s)
{
    if (!s)
        return;
    xmlRelaxNGFree(s->rng);
    free(s);
}

int md_schema_check(struct md_pctx *c, const struct md_schema *s, xmlDoc *doc, char *msg,
                    size_t size, int *line, const xmlNode **node)
{
    struct first_error f = { 0 };
    xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(s->rng);
    int ret;

    if (!v)
        return md_oom(c);
    xmlRelaxNGSetValidStructuredErrors(v, keep_first, &f);
    ret = xmlRelaxNGValidateDoc(v, doc);
    xmlRelaxNGFreeValidCtxt(v);
    if (ret == 0)
        return 0;
    if (ret < 0)
        return md_fail_line(c, -EIO, 0, "schemas/domain.rng: the validation failed internally");
    snprintf(msg, size, "%s", f.set ? f.msg : "the document does not match");
    *line = f.line;
    *node = f.node;
    return -EINVAL;
}

int md_schema_validate_string(const struct md_schema *schema, const char *xml, size_t len,
                              struct md_err *err)
{
    return md_validate_only(schema, xml, len, err);
}
