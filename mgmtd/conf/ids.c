/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UUIDs and MAC addresses: parsing, formatting, and random ones. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)tolower((unsigned char)ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* 32 hexadecimal digits, with a hyphen allowed between any two byte pairs
 * (as libvirt accepts them); written back as 8-4-4-4-12. */
bool md_uuid_parse(const char *s, uint8_t uuid[16])
{
    unsigned i = 0;

    while (*s && i < 16) {
        int hi, lo;

        if (*s == '-' && i > 0)
            s++;
        hi = hexval(s[0]);
        lo = hi < 0 ? -1 : hexval(s[1]);
        if (lo < 0)
            return false;
        uuid[i++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return i == 16 && *s == '\0';
}

void md_uuid_format(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

bool md_mac_parse(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

        if (lo < 0)
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s++ != ':')
            return false;
    }
    return *s == '\0';
}

void md_mac_format(const uint8_t m[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int md_random_bytes(struct md_pctx *c, void *buf, size_t len)
{
    size_t got = 0;

    if (c->opts->random) {
        int ret = c->opts->random(c->opts->random_opaque, buf, len);

        return ret < 0 ? md_fail_line(c, ret, 0, "no random bytes: %s", strerror(-ret)) : 0;
    }
    while (got < len) {
        ssize_t n = getrandom((char *)buf + got, len - got, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return md_fail_line(c, -errno, 0, "getrandom: %s", strerror(errno));
        got += (size_t)n;
    }
    return 0;
}
