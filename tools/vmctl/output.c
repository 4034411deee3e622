/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Errors, informational lines, JSON for scripts, and virsh's tables. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

void vc_error(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void vc_info(const struct vc_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx->quiet)
        return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void vc_print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *vc_json_str(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return "";
    return json_object_get_string(v);
}

int64_t vc_json_int(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !v)
        return -1;
    return json_object_get_int64(v);
}

bool vc_json_bool(json_object *o, const char *key)
{
    json_object *v;

    return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* ---- tables ---- */

struct vc_table {
    unsigned ncols, nrows, cap;
    char **cells; /* row-major; row 0 is the header */
};

static void add_row(struct vc_table *t, va_list ap)
{
    if (t->nrows == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 16;
        char **c = realloc(t->cells, sizeof(*c) * cap * t->ncols);

        if (!c) {
            perror("vmctl");
            exit(1);
        }
        t->cells = c;
        t->cap = cap;
    }
    for (unsigned i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        char *copy = strdup(s ? s : "");

        if (!copy) {
            perror("vmctl");
            exit(1);
        }
        t->cells[t->nrows * t->ncols + i] = copy;
    }
    t->nrows++;
}

struct vc_table *vc_table_new(unsigned ncols, ...)
{
    struct vc_table *t = calloc(1, sizeof(*t));
    va_list ap;

    if (!t) {
        perror("vmctl");
        exit(1);
    }
    t->ncols = ncols;
    va_start(ap, ncols);
    add_row(t, ap);
    va_end(ap);
    return t;
}

void vc_table_add(struct vc_table *t, ...)
{
    va_list ap;

    va_start(ap, t);
    add_row(t, ap);
    va_end(ap);
}

/* Columns as wide as their widest cell; each cell after a space, the
 * next column 2 spaces after the widest; the dashes as long as all the
 * columns with 3 spaces each: the layout of virsh's tables. */
void vc_table_print(const struct vc_table *t, FILE *f)
{
    size_t width[VC_MAX_OPTS] = { 0 }, dashes = 0;

    for (unsigned r = 0; r < t->nrows; r++)
        for (unsigned c = 0; c < t->ncols && c < VC_MAX_OPTS; c++) {
            size_t w = strlen(t->cells[r * t->ncols + c]);

            if (w > width[c])
                width[c] = w;
        }
    for (unsigned r = 0; r < t->nrows; r++) {
        for (unsigned c = 0; c < t->ncols && c < VC_MAX_OPTS; c++) {
            const char *s = t->cells[r * t->ncols + c];

            if (c + 1 < t->ncols)
                fprintf(f, " %-*s  ", (int)width[c], s);
            else
                fprintf(f, " %s", s);
        }
        fputc('\n', f);
        if (r == 0) {
            for (unsigned c = 0; c < t->ncols && c < VC_MAX_OPTS; c++)
                dashes += width[c] + 3;
            for (size_t i = 0; i < dashes; i++)
                fputc('-', f);
            fputc('\n', f);
        }
    }
}

void vc_table_free(struct vc_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
