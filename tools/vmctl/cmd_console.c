/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * console: the guest's serial port (or virtio console) on this terminal.
 * The daemon turns a connection into the console's byte stream; here the
 * terminal goes raw, bytes go both ways until the escape byte (Ctrl-]) is
 * typed or the stream ends (the guest stopped), and the terminal comes
 * back as it was on every way out. Without a terminal (a pipe, a file),
 * input is sent as it is and its end does not end the session: the
 * guest's output is relayed until the domain stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmctl.h"

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = fd == STDOUT_FILENO ? write(fd, p, n) : send(fd, p, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p1 = { .fd = fd, .events = POLLOUT };

            poll(&p1, 1, 100);
            continue;
        }
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

struct md_client *vc_console_open(struct vc_ctx *ctx, const char *uuid, const char *name,
                                  const char *device, bool force)
{
    struct md_client *c = vc_conn_new(ctx);
    json_object *params, *r;

    if (!c)
        return NULL;
    params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(uuid));
    json_object_object_add(params, "force", json_object_new_boolean(force));
    if (device)
        json_object_object_add(params, "device", json_object_new_string(device));
    r = md_client_call(c, "domain.console", params);
    if (!r) {
        vc_error("cannot attach to the console of domain '%s'", name);
        vc_error("%s", md_client_error(c));
        md_client_close(c);
        return NULL;
    }
    json_object_put(r);
    return c;
}

/* What the escape byte is called: "^]". */
static void escape_name(unsigned char esc, char out[3])
{
    out[0] = '^';
    out[1] = (char)(esc < 0x20 ? esc + 0x40 : esc);
    out[2] = '\0';
}

enum relay_end { END_ESCAPE, END_STREAM, END_SIGNAL, END_ERROR };

static enum relay_end relay(struct vc_ctx *ctx, int sock, int sigfd, bool tty)
{
    bool in_open = true;
    char buf[4096];

    for (;;) {
        struct pollfd p[3] = {
            { .fd = sigfd, .events = POLLIN },
            { .fd = sock, .events = POLLIN },
            { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
        };
        ssize_t n;

        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            vc_error("poll: %s", strerror(errno));
            return END_ERROR;
        }
        if (p[0].revents || vc_term_signal())
            return END_SIGNAL;
        if (p[1].revents) {
            n = read(sock, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0)
                return END_STREAM;
            if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
                return END_ERROR;
        }
        if (p[2].revents) {
            char *esc;

            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                /* A terminal that closed is the user leaving; a pipe that
                 * ended leaves the guest's output still to show. */
                if (tty)
                    return END_ESCAPE;
                in_open = false;
                continue;
            }
            esc = tty ? memchr(buf, ctx->escape, (size_t)n) : NULL;
            if (esc)
                n = esc - buf;
            if (n > 0 && write_all(sock, buf, (size_t)n) < 0)
                return END_STREAM;
            if (esc)
                return END_ESCAPE;
        }
    }
}

int vc_console_relay(struct vc_ctx *ctx, struct md_client *c, const char *name)
{
    bool tty = isatty(STDIN_FILENO);
    size_t npending = 0;
    char *pending = md_client_take_buffered(c, &npending);
    enum relay_end end = END_ERROR;
    char esc[3];
    int sigfd, sig;

    escape_name(ctx->escape, esc);
    vc_info(ctx, "Connected to domain '%s'\nEscape character is %s (Ctrl + %c)\n", name, esc,
            esc[1]);
    fflush(stdout);
    sigfd = vc_term_watch_signals();
    if (sigfd >= 0 && vc_term_raw() == 0) {
        if (npending == 0 || write_all(STDOUT_FILENO, pending, npending) == 0)
            end = relay(ctx, md_client_fd(c), sigfd, tty);
    }
    vc_term_restore();
    if (sigfd >= 0)
        vc_term_unwatch_signals();
    free(pending);
    md_client_close(c);
    sig = vc_term_signal();
    if (end != END_ERROR && tty)
        putchar('\n');
    fflush(stdout);
    if (sig) {
        /* The terminal is back: end the way the signal asked. */
        if (ctx->shell && sig == SIGINT)
            return 1;
        signal(sig, SIG_DFL);
        raise(sig);
    }
    return end == END_ERROR ? 1 : 0;
}

int vc_console_attach_resume(struct vc_ctx *ctx, json_object *dom, bool resume, bool force)
{
    const char *name = vc_json_str(dom, "name"), *uuid = vc_json_str(dom, "uuid");
    struct md_client *c = vc_console_open(ctx, uuid, name, NULL, force);
    json_object *params, *r;
    char fail[256];

    if (resume) {
        params = json_object_new_object();
        json_object_object_add(params, "domain", json_object_new_string(uuid));
        snprintf(fail, sizeof(fail), "Failed to resume domain '%s'", name);
        r = vc_call(ctx, true, "domain.resume", params, fail);
        if (!r) {
            md_client_close(c);
            return 1;
        }
        json_object_put(r);
    }
    /* Without a console the domain still runs, as it was asked to. */
    return c ? vc_console_relay(ctx, c, name) : 1;
}

int vc_start_console(struct vc_ctx *ctx, json_object *dom, bool paused, bool force)
{
    const char *name = vc_json_str(dom, "name");
    json_object *params = json_object_new_object(), *r;
    char fail[256];

    json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
    json_object_object_add(params, "paused", json_object_new_boolean(true));
    snprintf(fail, sizeof(fail), "Failed to start domain '%s'", name);
    r = vc_call(ctx, true, "domain.start", params, fail);
    if (!r)
        return 1;
    json_object_put(r);
    vc_info(ctx, "Domain '%s' started\n", name);
    return vc_console_attach_resume(ctx, dom, !paused, force);
}

/* virsh's device names, and ours. */
static const char *device_of(const char *devname, bool *ok)
{
    *ok = true;
    if (!devname)
        return NULL;
    if (!strcmp(devname, "serial") || !strcmp(devname, "serial0"))
        return "serial";
    if (!strcmp(devname, "virtio") || !strcmp(devname, "console0") ||
        !strcmp(devname, "console1") || !strcmp(devname, "hvc0"))
        return "virtio";
    *ok = false;
    return NULL;
}

static int cmd_console(struct vc_ctx *ctx, const struct vc_args *a)
{
    const char *devname = vc_str(a, "devname"), *device;
    struct md_client *c;
    json_object *dom;
    bool ok;
    int rc;

    device = device_of(devname, &ok);
    if (!ok) {
        vc_error("--devname '%s': not serial0 (the serial port) or console1 (the virtio "
                 "console)",
                 devname);
        return 1;
    }
    dom = vc_domain(ctx, true, vc_str(a, "domain"));
    if (!dom)
        return 1;
    c = vc_console_open(ctx, vc_json_str(dom, "uuid"), vc_json_str(dom, "name"), device,
                        vc_flag(a, "force"));
    rc = c ? vc_console_relay(ctx, c, vc_json_str(dom, "name")) : 1;
    json_object_put(dom);
    return rc;
}

static const struct vc_opt console_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_ACTIVE,
      "domain name, id or uuid" },
    { "devname", VC_OPT_STRING, 0, "character device name: serial0 or console1 (virtio)" },
    { "force", VC_OPT_BOOL, 0, "force console connection (disconnect already connected sessions)" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_console[] = {
    { "console", 0, "connect to the guest console",
      "Connect the virtual serial console for the guest: the terminal is raw, every key\n"
      "goes to the guest, Ctrl-] leaves (vmctl -e chooses another escape). The session\n"
      "also ends when the guest stops.",
      console_opts, cmd_console },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
