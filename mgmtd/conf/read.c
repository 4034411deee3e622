/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a document that anyone may have written: bounded in size, no
 * DTD (so no entity can expand or load a file), no network, libxml2's
 * depth limits on, and the first error as one line with its line number.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "internal.h"

struct read_state {
    bool dtd;
    int dtd_line;
    bool have_error;
    int line;
    char msg[256];
};

/* Any DOCTYPE stops the parser before its internal subset is read: no
 * entity is ever declared, so none can expand (billion laughs) or reach
 * a file or the network (XXE). libvirt's XML never has one. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    xmlParserCtxtPtr p = ctx;
    struct read_state *st = p->_private;

    (void)name;
    (void)ext;
    (void)sys;
    st->dtd = true;
    st->dtd_line = xmlSAX2GetLineNumber(ctx);
    xmlStopParser(p);
}

static void keep_first_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr p = ctx;
    struct read_state *st = p ? p->_private : NULL;
    size_t n;

    if (!st || st->have_error || e->level < XML_ERR_ERROR)
        return;
    st->have_error = true;
    st->line = e->line;
    snprintf(st->msg, sizeof(st->msg), "%s", e->message ? e->message : "unknown error");
    n = strlen(st->msg);
    while (n && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
        st->msg[--n] = '\0';
    /* One line: libxml2 puts details (the bad bytes) on a second one. */
    for (char *q = st->msg; *q; q++)
        if (*q == '\n')
            *q = ' ';
}

xmlDoc *md_xml_read(struct md_pctx *c, const char *xml, size_t len)
{
    struct read_state st = { 0 };
    xmlParserCtxtPtr p;
    xmlDoc *doc;

    if (len > MD_XML_MAX) {
        md_fail_line(c, -EFBIG, 0, "the document has %zu bytes; at most %u are accepted", len,
                     MD_XML_MAX);
        return NULL;
    }
    if (len == 0) {
        md_fail_line(c, -EINVAL, 0, "the document is empty");
        return NULL;
    }
    p = xmlNewParserCtxt();
    if (!p) {
        md_oom(c);
        return NULL;
    }
    p->_private = &st;
    p->sax->internalSubset = refuse_doctype;
    p->sax->serror = keep_first_error;
    /* No network, no entity substitution, no DTD loading (none of
     * XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE, HUGE); libxml2's depth
     * and size limits stay on. CDATA becomes plain text; line numbers
     * past 65535 stay exact. */
    doc = xmlCtxtReadMemory(p, xml, (int)len, c->source ? c->source : "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
    if (st.dtd) {
        md_fail_line(c, -EINVAL, st.dtd_line,
                     "<!DOCTYPE>: document type declarations are not accepted (they could "
                     "declare entities); remove it");
    } else if (!doc || !p->wellFormed) {
        md_fail_line(c, -EINVAL, st.have_error ? st.line : 0,
                     "the document is not well-formed XML: %s",
                     st.have_error ? st.msg : "the parser stopped");
    } else if (!xmlDocGetRootElement(doc)) {
        md_fail_line(c, -EINVAL, 0, "the document has no root element");
    } else {
        xmlFreeParserCtxt(p);
        return doc;
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(p);
    return NULL;
}
