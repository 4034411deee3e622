/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The strict walk every object's parser uses: each element says which
 * attributes and children it knows, and anything else is an error naming
 * it and its line, never skipped; and the messages' shape.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RULES_MAX 32

static int vfail(struct md_pctx *c, int code, int line, const char *fmt, va_list ap)
{
    char text[MD_ERR_MSG_MAX];
    int n = 0;

    if (c->source)
        n = snprintf(text, sizeof(text), "%s: ", c->source);
    if (line > 0 && n >= 0 && (size_t)n < sizeof(text))
        n += snprintf(text + n, sizeof(text) - (size_t)n, "line %d: ", line);
    if (n >= 0 && (size_t)n < sizeof(text))
        vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
    if (c->err && !c->err->code) {
        md_err_set(c->err, code, 0, "%s", text);
        c->err->line = line > 0 ? line : 0;
    }
    return code;
}

int md_fail_line(struct md_pctx *c, int code, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = vfail(c, code, line, fmt, ap);
    va_end(ap);
    return code;
}

int md_line(const xmlNode *n)
{
    long line = n ? xmlGetLineNo(n) : 0;

    return line > 0 && line < 1000000000 ? (int)line : 0;
}

/* Values are cut in messages: a message is one readable sentence. */
static const char *cut(const char *v, char *buf, size_t size)
{
    if (strlen(v) < size)
        return v;
    snprintf(buf, size, "%.*s...", (int)size - 4, v);
    return buf;
}

static void qname(const xmlNode *n, char *buf, size_t size)
{
    if (n->ns && n->ns->prefix)
        snprintf(buf, size, "%s:%s", (const char *)n->ns->prefix, (const char *)n->name);
    else
        snprintf(buf, size, "%s", (const char *)n->name);
}

/* The attribute that says what an element is: <disk type=...>, <timer name=...>. */
static const char *key_attr(const xmlNode *n)
{
    static const char *const keys[] = { "type", "name", "model" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (md_attr(n, keys[i]))
            return keys[i];
    return NULL;
}

/* <elem key='...' attr='...'>, each part only if present. */
static const char *desc_with(const xmlNode *n, const char *attr, char *buf, size_t size)
{
    const char *key = key_attr(n);
    char name[128], cut1[48], cut2[48];
    const char *v = attr ? md_attr(n, attr) : NULL;
    const char *kv = key && (!attr || strcmp(key, attr)) ? md_attr(n, key) : NULL;

    qname(n, name, sizeof(name));
    if (kv && v)
        snprintf(buf, size, "<%s %s='%s' %s='%s'>", name, key, cut(kv, cut1, sizeof(cut1)), attr,
                 cut(v, cut2, sizeof(cut2)));
    else if (kv)
        snprintf(buf, size, "<%s %s='%s'>", name, key, cut(kv, cut1, sizeof(cut1)));
    else if (v)
        snprintf(buf, size, "<%s %s='%s'>", name, attr, cut(v, cut2, sizeof(cut2)));
    else
        snprintf(buf, size, "<%s>", name);
    return buf;
}

const char *md_desc(const xmlNode *n, char *buf, size_t size)
{
    return desc_with(n, NULL, buf, size);
}

int md_fail(struct md_pctx *c, const xmlNode *n, const char *fmt, ...)
{
    char what[256], msg[MD_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return md_fail_line(c, -EINVAL, md_line(n), "%s: %s", md_desc(n, what, sizeof(what)), msg);
}

int md_fail_attr(struct md_pctx *c, const xmlNode *n, const char *attr, const char *fmt, ...)
{
    char what[256], msg[MD_ERR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return md_fail_line(c, -EINVAL, md_line(n), "%s: %s", desc_with(n, attr, what, sizeof(what)),
                        msg);
}

int md_oom(struct md_pctx *c)
{
    return md_fail_line(c, -ENOMEM, 0, "out of memory reading the domain XML");
}

const char *md_attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns || strcmp((const char *)a->name, name))
            continue;
        /* Without a DTD, a value is one text node (none when empty). */
        if (!a->children)
            return "";
        return a->children->content ? (const char *)a->children->content : "";
    }
    return NULL;
}

int md_attrs_only(struct md_pctx *c, const xmlNode *n, const char *const *allowed)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        const char *why;
        bool ok = false;

        if (a->ns)
            return md_fail(c, n, "the attribute '%s:%s' is not supported",
                           a->ns->prefix ? (const char *)a->ns->prefix : "", (const char *)a->name);
        for (const char *const *p = allowed; *p && !ok; p++)
            ok = !strcmp(*p, (const char *)a->name);
        if (ok)
            continue;
        why = md_refusal_attr((const char *)n->name, (const char *)a->name);
        return md_fail_attr(c, n, (const char *)a->name, "the attribute '%s' is not supported%s%s",
                            (const char *)a->name, why ? ": " : "", why ? why : "");
    }
    return 0;
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static int unexpected_text(struct md_pctx *c, const xmlNode *parent, const xmlNode *t)
{
    char buf[48], text[48];
    const char *s = (const char *)t->content;

    while (isspace((unsigned char)*s))
        s++;
    snprintf(text, sizeof(text), "%s", s);
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    for (size_t n = strlen(text); n && text[n - 1] == ' ';)
        text[--n] = '\0';
    return md_fail(c, parent, "unexpected text '%s' (only elements belong here)",
                   cut(text, buf, sizeof(buf)));
}

int md_empty(struct md_pctx *c, const xmlNode *n)
{
    for (const xmlNode *k = n->children; k; k = k->next) {
        char what[256];

        if (k->type == XML_ELEMENT_NODE)
            return md_fail_line(c, -EINVAL, md_line(k), "%s: not expected inside <%s>",
                                md_desc(k, what, sizeof(what)), (const char *)n->name);
        if ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) &&
            !blank((const char *)k->content))
            return unexpected_text(c, n, k);
    }
    return 0;
}

int md_leaf(struct md_pctx *c, const xmlNode *n, const char *const *allowed)
{
    int ret = md_attrs_only(c, n, allowed);

    return ret ? ret : md_empty(c, n);
}

int md_strdup(struct md_pctx *c, const char *s, char **out)
{
    free(*out);
    *out = strdup(s);
    return *out ? 0 : md_oom(c);
}

int md_text(struct md_pctx *c, const xmlNode *n, bool trim, char **out)
{
    xmlChar *content;
    char *s, *end;
    int ret;

    for (const xmlNode *k = n->children; k; k = k->next) {
        char what[256];

        if (k->type == XML_ELEMENT_NODE)
            return md_fail_line(c, -EINVAL, md_line(k), "%s: <%s> holds text only",
                                md_desc(k, what, sizeof(what)), (const char *)n->name);
    }
    content = xmlNodeGetContent(n);
    if (!content)
        return md_oom(c);
    s = (char *)content;
    if (trim) {
        while (isspace((unsigned char)*s))
            s++;
        end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
            *--end = '\0';
    }
    ret = md_strdup(c, s, out);
    xmlFree(content);
    return ret;
}

int md_yes_no(struct md_pctx *c, const xmlNode *n, const char *attr, const char *yes,
              const char *no, bool *out)
{
    const char *v = md_attr(n, attr);

    if (v && !strcmp(v, yes)) {
        *out = true;
        return 0;
    }
    if (v && !strcmp(v, no)) {
        *out = false;
        return 0;
    }
    return md_fail_attr(c, n, attr, "%s must be '%s' or '%s'", attr, yes, no);
}

bool md_parse_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return false;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static int unknown_child(struct md_pctx *c, const xmlNode *parent, const xmlNode *k)
{
    const char *pname = (const char *)parent->name;
    char what[256];
    const char *why;

    md_desc(k, what, sizeof(what));
    if (k->ns)
        return md_fail_line(c, -EINVAL, md_line(k),
                            "%s: elements of other namespaces are kept only inside <metadata>",
                            what);
    why = md_refusal_elem(pname, (const char *)k->name);
    if (why)
        return md_fail_line(c, -EINVAL, md_line(k), "%s: %s", what, why);
    return md_fail_line(c, -EINVAL, md_line(k), "%s: this element is not supported inside <%s>",
                        what, pname);
}

int md_children(struct md_pctx *c, xmlNode *n, const struct md_child *rules, void *obj)
{
    int seen[RULES_MAX] = { 0 };

    for (xmlNode *k = n->children; k; k = k->next) {
        const struct md_child *r = NULL;
        char what[256];
        int ret, i = 0;

        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
            if (!blank((const char *)k->content))
                return unexpected_text(c, n, k);
            continue;
        }
        if (k->type == XML_COMMENT_NODE || k->type == XML_PI_NODE)
            continue;
        if (k->type != XML_ELEMENT_NODE)
            return md_fail(c, n, "unexpected content (node type %d)", (int)k->type);
        for (; i < RULES_MAX && rules[i].name && !k->ns; i++) {
            if (!strcmp(rules[i].name, (const char *)k->name)) {
                r = &rules[i];
                break;
            }
        }
        if (!r)
            return unknown_child(c, n, k);
        if (seen[i]++ && !r->many)
            return md_fail_line(c, -EINVAL, md_line(k), "%s: appears more than once in <%s>",
                                md_desc(k, what, sizeof(what)), (const char *)n->name);
        ret = r->parse(c, k, obj);
        if (ret)
            return ret;
    }
    return 0;
}
