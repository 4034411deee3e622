/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP's messages on the wire: the greeting, events, one line each. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/qmp.h"

#ifndef KVMEMU_VERSION
#define KVMEMU_VERSION "0"
#endif

char *em_qmp_line(json_object *msg, size_t *len)
{
    size_t n;
    const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
    char *line;

    if (!s)
        return NULL;
    n = strlen(s);
    line = malloc(n + 3);
    if (!line)
        return NULL;
    memcpy(line, s, n);
    memcpy(line + n, "\r\n", 3);
    *len = n + 2;
    return line;
}

/* "MAJOR.MINOR.MICRO" into QEMU's version struct; missing parts are 0. */
static json_object *version_triple(const char *v)
{
    json_object *o = json_object_new_object();
    static const char *const keys[3] = { "major", "minor", "micro" };

    for (int i = 0; i < 3; i++) {
        char *end;
        long n = strtol(v, &end, 10);

        json_object_object_add(o, keys[i], json_object_new_int(end == v ? 0 : (int)n));
        v = *end == '.' ? end + 1 : end;
    }
    return o;
}

json_object *em_qmp_greeting(void)
{
    json_object *ver = json_object_new_object(), *qmp = json_object_new_object();
    json_object *g = json_object_new_object();

    json_object_object_add(ver, "qemu", version_triple(KVMEMU_VERSION));
    json_object_object_add(ver, "package", json_object_new_string("kvmemu " KVMEMU_VERSION));
    json_object_object_add(qmp, "version", ver);
    /* No "oob": commands are answered in order. */
    json_object_object_add(qmp, "capabilities", json_object_new_array());
    json_object_object_add(g, "QMP", qmp);
    return g;
}

char *em_qmp_event_line(const char *event, json_object *data, size_t *len)
{
    json_object *ev = json_object_new_object(), *ts = json_object_new_object();
    struct timespec now;
    char *line;

    /* Wall-clock time, as QEMU's (a client correlates it with its logs). */
    clock_gettime(CLOCK_REALTIME, &now);
    json_object_object_add(ts, "seconds", json_object_new_int64(now.tv_sec));
    json_object_object_add(ts, "microseconds", json_object_new_int64(now.tv_nsec / 1000));
    json_object_object_add(ev, "event", json_object_new_string(event));
    if (data)
        json_object_object_add(ev, "data", data);
    json_object_object_add(ev, "timestamp", ts);
    line = em_qmp_line(ev, len);
    json_object_put(ev);
    return line;
}
