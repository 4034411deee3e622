/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static _Atomic int max_level = MD_LOG_INFO;

void md_log_set_level(enum md_log_level level)
{
    atomic_store(&max_level, (int)level);
}

void md_log(enum md_log_level level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    char line[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if ((int)level > atomic_load(&max_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One write per line, so that lines from a crash are whole. */
    fprintf(stderr, "%04d-%02d-%02d %02d:%02d:%02d.%03ld mgmtd: %s: %s\n", tm.tm_year + 1900,
            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
            names[level], line);
}
