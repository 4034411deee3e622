/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static void capture(void *opaque, enum kc_log_level level, const char *msg)
{
    struct log_capture *c = opaque;
    size_t used = strlen(c->text);

    (void)level;
    c->count++;
    snprintf(c->text + used, sizeof(c->text) - used, "%s\n", msg);
}

void log_capture_init(struct log_capture *c)
{
    memset(c, 0, sizeof(*c));
    c->logger.fn = capture;
    c->logger.opaque = c;
    c->logger.max_level = KC_LOG_WARN;
}

bool log_has(const struct log_capture *c, const char *needle)
{
    return strstr(c->text, needle) != NULL;
}

size_t first_byte_not(const void *p, size_t n, uint8_t v)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return i;
    return n;
}
