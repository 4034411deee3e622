/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <metadata>: applications' own elements, each in a namespace of its own,
 * kept as they are and written back. Each child is serialised standalone
 * (carrying the namespace declarations it uses, wherever in the document
 * they were made) with the white space between elements dropped and
 * libxml2's indentation, as libvirt does: so the text is the same
 * whether it comes from an admin's file or from our own output.
 * def->metadata is that text, ready to go between the tags.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "internal.h"

static bool blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Removes the indentation between elements, not text inside a leaf. */
static void strip_blanks(xmlNode *n)
{
    bool has_elements = false;
    xmlNode *k, *next;

    for (k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            has_elements = true;
    for (k = n->children; k; k = next) {
        next = k->next;
        if (k->type == XML_ELEMENT_NODE) {
            strip_blanks(k);
        } else if (has_elements && k->type == XML_TEXT_NODE && blank(k->content)) {
            xmlUnlinkNode(k);
            xmlFreeNode(k);
        }
    }
}

/*
 * Appends the child, standalone, to *out as it will be written: at the
 * depth <metadata>'s children have in <domain> (2), with libxml2's
 * indentation, which indents elements and never the text inside a leaf.
 */
static int keep(struct md_pctx *c, xmlNode *n, char **out)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNode *copy = doc ? xmlDocCopyNode(n, doc, 1) : NULL;
    xmlBuffer *buf = xmlBufferCreate();
    size_t old = *out ? strlen(*out) : 0;
    const char *text;
    size_t len;
    char *grown;
    int ret = 0;

    if (copy)
        xmlDocSetRootElement(doc, copy); /* the document owns it from here */
    if (!copy || !buf) {
        ret = md_oom(c);
        goto out;
    }
    strip_blanks(copy);
    if (xmlNodeDump(buf, doc, copy, 2, 1) < 0) {
        ret = md_oom(c);
        goto out;
    }
    text = (const char *)xmlBufferContent(buf);
    len = strlen(text);
    grown = realloc(*out, old + len + 6);
    if (!grown) {
        ret = md_oom(c);
        goto out;
    }
    *out = grown;
    memcpy(grown + old, "    ", 4);
    memcpy(grown + old + 4, text, len);
    memcpy(grown + old + 4 + len, "\n", 2);
out:
    xmlBufferFree(buf);
    xmlFreeDoc(doc);
    return ret;
}

int md_metadata_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    def->has_metadata = true;
    for (xmlNode *k = n->children; k && !ret; k = k->next) {
        char what[256];

        switch (k->type) {
        case XML_ELEMENT_NODE:
            if (!k->ns || !k->ns->href || !*k->ns->href)
                return md_fail_line(c, -EINVAL, md_line(k),
                                    "%s: an element inside <metadata> needs a namespace of its "
                                    "own (xmlns:app='...'), as libvirt requires",
                                    md_desc(k, what, sizeof(what)));
            ret = keep(c, k, &def->metadata);
            break;
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (!blank(k->content))
                return md_fail(c, n,
                               "text directly inside <metadata> is not kept; put it in an "
                               "element of your namespace");
            break;
        default:
            break; /* comments and processing instructions */
        }
    }
    return ret;
}

void md_metadata_format(struct md_buf *b, const struct md_domain_def *def)
{
    if (!def->has_metadata)
        return;
    md_buf_open(b, "metadata");
    if (!def->metadata) {
        md_buf_empty_end(b);
        return;
    }
    md_buf_open_end(b);
    md_buf_add(b, def->metadata);
    md_buf_close(b, "metadata");
}
