/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

void md_err_clear(struct md_err *e)
{
    if (e)
        memset(e, 0, sizeof(*e));
}

int md_err_set(struct md_err *e, int code, int line, const char *fmt, ...)
{
    va_list ap;
    int n = 0;

    if (!e || e->code)
        return code;
    e->code = code;
    e->line = line > 0 ? line : 0;
    if (line > 0)
        n = snprintf(e->msg, sizeof(e->msg), "line %d: ", line);
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}
