/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The formatter's output: XML written the way `virsh dumpxml` writes it
 * (two spaces per level, attributes in single quotes, empty elements as
 * <x/>). Allocation failure is remembered and reported once, by
 * md_buf_finish(), so that format code needs no error paths.
 */
#ifndef MD_BUF_H
#define MD_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct md_buf {
    char *data;
    size_t len;
    size_t cap;
    unsigned depth;
    bool oom;
};

/* Appends raw text (no escaping). */
void md_buf_add(struct md_buf *b, const char *s);
void md_buf_addf(struct md_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text with &, <, >, ' and " escaped (and \t \n \r in attributes). */
void md_buf_escape(struct md_buf *b, const char *s, bool attr);

/* "<name" at the current depth. */
void md_buf_open(struct md_buf *b, const char *name);
/* " name='value'", escaped; nothing when value is NULL. */
void md_buf_attr(struct md_buf *b, const char *name, const char *value);
void md_buf_attrf(struct md_buf *b, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ">\n" and one level deeper, or "/>\n". */
void md_buf_open_end(struct md_buf *b);
void md_buf_empty_end(struct md_buf *b);
/* One level up and "</name>\n". */
void md_buf_close(struct md_buf *b, const char *name);
/* "<name>text</name>\n" at the current depth. */
void md_buf_text_elem(struct md_buf *b, const char *name, const char *text);

/* The string (the caller frees it), or NULL with -ENOMEM reported. */
char *md_buf_finish(struct md_buf *b, struct md_err *err);

#endif
