/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static bool reserve(struct md_buf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void add_n(struct md_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void md_buf_add(struct md_buf *b, const char *s)
{
    add_n(b, s, strlen(s));
}

static void vaddf(struct md_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && reserve(b, (size_t)n)) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void md_buf_addf(struct md_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vaddf(b, fmt, ap);
    va_end(ap);
}

void md_buf_escape(struct md_buf *b, const char *s, bool attr)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\r':
            /* A parser turns a raw CR into LF: keep it a character. */
            rep = "&#13;";
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        case '\n':
            /* Attribute values are normalised on parsing: a raw newline
             * would come back as a space. */
            rep = attr ? "&#10;" : NULL;
            break;
        }
        if (rep) {
            add_n(b, run, (size_t)(s - run));
            md_buf_add(b, rep);
            run = s + 1;
        }
    }
    add_n(b, run, (size_t)(s - run));
}

static void indent(struct md_buf *b)
{
    for (unsigned i = 0; i < b->depth; i++)
        add_n(b, "  ", 2);
}

void md_buf_open(struct md_buf *b, const char *name)
{
    indent(b);
    md_buf_add(b, "<");
    md_buf_add(b, name);
}

void md_buf_attr(struct md_buf *b, const char *name, const char *value)
{
    if (!value)
        return;
    md_buf_addf(b, " %s='", name);
    md_buf_escape(b, value, true);
    md_buf_add(b, "'");
}

void md_buf_attrf(struct md_buf *b, const char *name, const char *fmt, ...)
{
    va_list ap;

    md_buf_addf(b, " %s='", name);
    va_start(ap, fmt);
    vaddf(b, fmt, ap);
    va_end(ap);
    md_buf_add(b, "'");
}

void md_buf_open_end(struct md_buf *b)
{
    md_buf_add(b, ">\n");
    b->depth++;
}

void md_buf_empty_end(struct md_buf *b)
{
    md_buf_add(b, "/>\n");
}

void md_buf_close(struct md_buf *b, const char *name)
{
    b->depth--;
    indent(b);
    md_buf_addf(b, "</%s>\n", name);
}

void md_buf_text_elem(struct md_buf *b, const char *name, const char *text)
{
    indent(b);
    md_buf_addf(b, "<%s>", name);
    md_buf_escape(b, text, false);
    md_buf_addf(b, "</%s>\n", name);
}

char *md_buf_finish(struct md_buf *b, struct md_err *err)
{
    char *s = b->data;

    if (b->oom || !s) {
        free(b->data);
        *b = (struct md_buf){ 0 };
        md_err_set(err, -ENOMEM, 0, "out of memory formatting the domain XML");
        return NULL;
    }
    *b = (struct md_buf){ 0 };
    return s;
}
