/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * event: the daemon's events as they happen, as virsh prints them
 * ("event 'lifecycle' for domain 'web': Started Booted"); with --json, the
 * event objects themselves, one a line.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmctl.h"

/* The daemon's lifecycle types; the others are events of their own. */
static const char *const lifecycle_types[] = {
    "defined",  "undefined", "started", "suspended", "resumed",
    "shutdown", "stopped",   "crashed", NULL,
};

static const char *const event_names[] = { "lifecycle", "reboot", "io-error", NULL };

/* virsh's name of an event of this type. */
static const char *event_name(const char *type)
{
    for (int i = 0; lifecycle_types[i]; i++)
        if (!strcmp(type, lifecycle_types[i]))
            return "lifecycle";
    if (!strcmp(type, "reset"))
        return "reboot";
    return type;
}

static void put_capitalised(const char *s)
{
    if (*s)
        putchar(toupper((unsigned char)*s++));
    fputs(s, stdout);
}

static void print_event(json_object *ev, bool timestamp)
{
    json_object *dom = json_object_object_get(ev, "domain");
    const char *type = vc_json_str(ev, "type"), *name = event_name(type);

    if (timestamp) {
        double t = json_object_get_double(json_object_object_get(ev, "timestamp"));
        time_t secs = (time_t)t;
        struct tm tm;
        char when[64];

        gmtime_r(&secs, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        printf("%s.%03d+0000: ", when, (int)((t - floor(t)) * 1000));
    }
    printf("event '%s' for domain '%s'", name, vc_json_str(dom, "name"));
    if (!strcmp(name, "lifecycle")) {
        fputs(": ", stdout);
        put_capitalised(type);
        putchar(' ');
        put_capitalised(vc_json_str(ev, "detail"));
    } else if (!strcmp(name, "io-error")) {
        printf(": %s", vc_json_str(ev, "detail"));
    }
    putchar('\n');
}

static bool matches(const struct vc_args *a, json_object *ev, json_object *dom)
{
    const char *only = vc_str(a, "event");
    json_object *d = json_object_object_get(ev, "domain");

    if (only && strcmp(only, event_name(vc_json_str(ev, "type"))) != 0)
        return false;
    return !dom || !strcmp(vc_json_str(d, "uuid"), vc_json_str(dom, "uuid"));
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_event(struct vc_ctx *ctx, const struct vc_args *a)
{
    const char *only = vc_str(a, "event");
    bool loop = vc_flag(a, "loop"), timestamp = vc_flag(a, "timestamp");
    long timeout = vc_num(a, "timeout", 0);
    double deadline = now_s() + (double)timeout;
    json_object *dom = NULL, *r;
    struct md_client *c;
    unsigned count = 0;
    int sigfd, rc = 0;
    const char *why = NULL;

    if (vc_flag(a, "list")) {
        for (int i = 0; event_names[i]; i++)
            printf("%s\n", event_names[i]);
        return 0;
    }
    if (only) {
        int i;

        for (i = 0; event_names[i] && strcmp(event_names[i], only) != 0; i++)
            ;
        if (!event_names[i]) {
            vc_error("unknown event type %s (see event --list)", only);
            return 1;
        }
    }
    if (vc_str(a, "domain")) {
        dom = vc_domain(ctx, false, vc_str(a, "domain"));
        if (!dom)
            return 1;
    }
    /* A connection of its own: events arrive on it for as long as it lives. */
    c = vc_conn(ctx, false);
    r = c ? md_client_call(c, "events.subscribe", NULL) : NULL;
    if (!r) {
        if (c) {
            vc_error("failed to register for events");
            vc_error("%s", md_client_error(c));
        }
        json_object_put(dom);
        return 1;
    }
    json_object_put(r);
    sigfd = vc_term_watch_signals();
    while (!why) {
        int wait_ms = 200;
        json_object *ev;

        if (timeout > 0) {
            double left = deadline - now_s();

            if (left <= 0) {
                why = "event loop timed out";
                break;
            }
            if (left * 1000 < wait_ms)
                wait_ms = (int)(left * 1000) + 1;
        }
        if (vc_term_signal()) {
            why = "event loop interrupted";
            break;
        }
        ev = md_client_next_event(c, wait_ms);
        if (!ev) {
            if (md_client_closed(c)) {
                vc_error("%s", md_client_error(c));
                rc = 1;
                break;
            }
            continue;
        }
        if (matches(a, ev, dom)) {
            count++;
            if (a->json)
                puts(json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
            else
                print_event(ev, timestamp);
            fflush(stdout);
            if (!loop)
                why = "";
        }
        json_object_put(ev);
    }
    if (sigfd >= 0)
        vc_term_unwatch_signals();
    /* This connection carried events: the next command gets a new one. */
    vc_ctx_close(ctx);
    if (!a->json && rc == 0) {
        if (why && *why)
            printf("%s\n", why);
        printf("events received: %u\n", count);
    }
    json_object_put(dom);
    fflush(stdout);
    /* Ctrl-C ends the loop; other signals end vmctl, once it said so. */
    if (vc_term_signal() && vc_term_signal() != SIGINT) {
        signal(vc_term_signal(), SIG_DFL);
        raise(vc_term_signal());
    }
    return rc;
}

static const struct vc_opt event_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_DOMAIN, "filter by domain name, id or uuid" },
    { "event", VC_OPT_STRING, 0, "which event type to wait for (see --list)" },
    { "all", VC_OPT_BOOL, 0, "wait for all events instead of just one type (the default)" },
    { "loop", VC_OPT_BOOL, 0, "loop until timeout or interrupt, rather than one-shot" },
    { "timeout", VC_OPT_NUMBER, 0, "timeout seconds" },
    { "list", VC_OPT_BOOL, 0, "list valid event types" },
    { "timestamp", VC_OPT_BOOL, 0, "show timestamp for each printed event" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_events[] = {
    { "event", VC_CMD_QUERY, "Domain Events",
      "List event types, or wait for domain events to occur: one, or with --loop every\n"
      "one until --timeout seconds passed or the command is interrupted (Ctrl-C).",
      event_opts, cmd_event },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
