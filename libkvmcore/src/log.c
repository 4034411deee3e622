/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one place messages are formatted and handed to a logger. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "internal.h"

static const char *const level_names[] = {
    [KC_LOG_ERROR] = "error",
    [KC_LOG_WARN] = "warning",
    [KC_LOG_INFO] = "info",
    [KC_LOG_DEBUG] = "debug",
};

void kc_log(const struct kc_logger *log, enum kc_log_level level, const char *fmt, ...)
{
    struct kc_logger def = KC_LOGGER_DEFAULT;
    char msg[1024];
    va_list ap;

    if (!log)
        log = &def;
    if (level > log->max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log->fn)
        log->fn(log->opaque, level, msg);
    else
        fprintf(stderr, "kvmcore: %s: %s\n", level_names[level], msg);
}

int kci_ioctl(int fd, unsigned long req, void *arg)
{
    int ret;

    do {
        ret = ioctl(fd, req, arg);
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? -errno : ret;
}
