/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon_proc.h"
#include "testutil.h"

static void launch(struct daemon *d, const char *env)
{
    int fd;

    d->pid = fork();
    ck_assert_int_ge(d->pid, 0);
    if (d->pid == 0) {
        fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (env)
            putenv((char *)env);
        execl(MGMTD_PATH, MGMTD_PATH, "--root", d->root, "--emulator", KVMEMU_PATH,
              "--shutdown-grace", "3000", (char *)NULL);
        _exit(127);
    }
    /* Ready when the read-only socket (made last) answers. */
    for (int i = 0; i < 5000; i++) {
        char err[256];
        struct md_client *c;
        int status;

        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = -1;
            ck_abort_msg("mgmtd exited at start (status %d); see %s", status, d->log);
        }
        if (access(d->ro, F_OK) == 0 && (c = md_client_connect(d->ro, err, sizeof(err)))) {
            md_client_close(c);
            return;
        }
        usleep(1000);
    }
    ck_abort_msg("mgmtd did not come up within 5 s; see %s", d->log);
}

/* A failed assertion ends the test's process without its teardown: the
 * daemon and its emulators must not outlive it. */
static struct daemon *current;
static bool cleanup_registered;

static void cleanup_at_exit(void)
{
    if (current && current->root[0])
        daemon_cleanup(current);
}

void daemon_start(struct daemon *d, const char *env)
{
    memset(d, 0, sizeof(*d));
    current = d;
    if (!cleanup_registered) {
        atexit(cleanup_at_exit);
        cleanup_registered = true;
    }
    snprintf(d->root, sizeof(d->root), "/tmp/test_mgmtd.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d->root));
    /* The emulators (nobody) need nothing in it: they get descriptors. */
    snprintf(d->rw, sizeof(d->rw), "%s/run/mgmtd.sock", d->root);
    snprintf(d->ro, sizeof(d->ro), "%s/run/mgmtd-ro.sock", d->root);
    snprintf(d->log, sizeof(d->log), "%s/mgmtd.log", d->root);
    launch(d, env);
}

void daemon_restart(struct daemon *d, const char *env)
{
    launch(d, env);
}

int daemon_stop(struct daemon *d, int sig)
{
    int status = 0;

    if (d->pid <= 0)
        return -1;
    kill(d->pid, sig);
    waitpid(d->pid, &status, 0);
    d->pid = -1;
    return status;
}

/* Every kvmemu whose command line names this root's domains is ours. */
static void kill_emulators(const struct daemon *d)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;

    while (proc && (e = readdir(proc)) != NULL) {
        char path[300], status[4096];
        int fd;
        ssize_t n;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/environ", e->d_name);
        /* Emulators get no environment from us; find them by their
         * monitor socket, an inherited descriptor into the root. */
        snprintf(path, sizeof(path), "/proc/%s/fd", e->d_name);
        {
            DIR *fds = opendir(path);
            struct dirent *f;
            bool ours = false;

            while (fds && (f = readdir(fds)) != NULL) {
                char link[600], target[400];

                snprintf(link, sizeof(link), "%s/%s", path, f->d_name);
                n = readlink(link, target, sizeof(target) - 1);
                if (n > 0) {
                    target[n] = '\0';
                    ours |= strncmp(target, d->root, strlen(d->root)) == 0;
                }
            }
            if (fds)
                closedir(fds);
            if (!ours)
                continue;
        }
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        fd = open(path, O_RDONLY);
        n = fd >= 0 ? read(fd, status, sizeof(status) - 1) : -1;
        if (fd >= 0)
            close(fd);
        if (n > 0 && !strncmp(status, "kvmemu", 6))
            kill(atoi(e->d_name), SIGKILL);
    }
    if (proc)
        closedir(proc);
}

void daemon_cleanup(struct daemon *d)
{
    char cmd[300];
    int status = daemon_stop(d, SIGTERM);

    /* A daemon that did not end cleanly: its log explains. */
    if (status != -1 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        printf("# mgmtd ended with wait status 0x%x; its log:\n", status);
        fflush(stdout);
        snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s | tail -40", d->log);
        if (system(cmd) != 0) {
            /* nothing more to show */
        }
    }
    kill_emulators(d);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", d->root);
    if (system(cmd) != 0) {
        /* best effort */
    }
    d->root[0] = '\0';
}

struct md_client *daemon_connect(struct daemon *d, bool read_only)
{
    char err[256];
    struct md_client *c = md_client_connect(read_only ? d->ro : d->rw, err, sizeof(err));

    ck_assert_msg(c, "%s", err);
    return c;
}

char *guest_xml(const char *name, const char *uuid, const char *devices, const char *extra)
{
    char *xml;
    int n = asprintf(&xml,
                     "<domain type='kvm'>\n"
                     "  <name>%s</name>\n"
                     "%s%s%s"
                     "  <memory unit='MiB'>64</memory>\n"
                     "  <vcpu>1</vcpu>\n"
                     "  <os><type arch='x86_64' machine='pc'>hvm</type>"
                     "<kernel>%s/monitor_mb.elf</kernel></os>\n"
                     "  <features><acpi/><apic/></features>\n"
                     "%s"
                     "  <devices>\n"
                     "    <serial type='pty'><target port='0'/></serial>\n"
                     "%s"
                     "    <memballoon model='none'/>\n"
                     "  </devices>\n"
                     "</domain>\n",
                     name, uuid ? "  <uuid>" : "", uuid ? uuid : "", uuid ? "</uuid>\n" : "",
                     GUEST_DIR, extra ? extra : "", devices ? devices : "");

    ck_assert_int_gt(n, 0);
    return xml;
}

static json_object *params(const char *fmt, va_list ap)
{
    char buf[65536];
    json_object *p;

    if (!fmt)
        return NULL;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    p = json_tokener_parse(buf);
    ck_assert_msg(p, "test bug: params are not JSON: %s", buf);
    return p;
}

json_object *call_ok(struct md_client *c, const char *method, const char *params_fmt, ...)
{
    json_object *r;
    va_list ap;

    va_start(ap, params_fmt);
    r = md_client_call(c, method, params(params_fmt, ap));
    va_end(ap);
    ck_assert_msg(r, "%s failed: %s", method, md_client_error(c));
    return r;
}

void call_fails(struct md_client *c, int code, const char *text, const char *method,
                const char *params_fmt, ...)
{
    json_object *r;
    va_list ap;

    va_start(ap, params_fmt);
    r = md_client_call(c, method, params(params_fmt, ap));
    va_end(ap);
    ck_assert_msg(!r, "%s succeeded: %s", method, json_object_to_json_string(r));
    ck_assert_msg(md_client_code(c) == code, "%s: code %d, not %d: %s", method, md_client_code(c),
                  code, md_client_error(c));
    ck_assert_msg(strstr(md_client_error(c), text), "%s: '%s' lacks '%s'", method,
                  md_client_error(c), text);
}

const char *jquote(const char *s)
{
    static char buf[65536];
    json_object *o = json_object_new_string(s);

    snprintf(buf, sizeof(buf), "%s", json_object_to_json_string(o));
    json_object_put(o);
    return buf;
}

json_object *define(struct md_client *c, const char *xml)
{
    json_object *p = json_object_new_object(), *r;

    json_object_object_add(p, "xml", json_object_new_string(xml));
    r = md_client_call(c, "domain.define", p);
    ck_assert_msg(r, "define failed: %s", md_client_error(c));
    return r;
}

const char *jstr(json_object *o, const char *key)
{
    json_object *v = NULL;

    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s' in %s", key,
                  json_object_to_json_string(o));
    return json_object_get_string(v);
}

int64_t jint(json_object *o, const char *key)
{
    json_object *v = NULL;

    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s' in %s", key,
                  json_object_to_json_string(o));
    return json_object_get_int64(v);
}

void state_is(struct md_client *c, const char *dom, const char *state, const char *reason)
{
    json_object *r = call_ok(c, "domain.get_state", "{\"domain\": \"%s\"}", dom);

    ck_assert_msg(!strcmp(jstr(r, "state"), state) &&
                      (!reason || !strcmp(jstr(r, "reason"), reason)),
                  "%s is %s (%s), not %s (%s)", dom, jstr(r, "state"), jstr(r, "reason"), state,
                  reason ? reason : "any");
    json_object_put(r);
}

bool wait_state(struct md_client *c, const char *dom, const char *state, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        json_object *r = call_ok(c, "domain.get_state", "{\"domain\": \"%s\"}", dom);
        bool ok = !strcmp(jstr(r, "state"), state);

        json_object_put(r);
        if (ok)
            return true;
        usleep(10000);
    }
    return false;
}

pid_t emulator_pid(struct md_client *c, const char *dom)
{
    json_object *r = call_ok(c, "domain.get_info", "{\"domain\": \"%s\"}", dom);
    pid_t pid = (pid_t)jint(r, "pid");

    json_object_put(r);
    return pid;
}

bool pid_alive(pid_t pid)
{
    char path[64], state = 0;
    FILE *f;
    bool alive;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return false;
    /* A zombie is gone for our purposes. */
    alive = fscanf(f, "%*d (%*[^)]) %c", &state) == 1 && state != 'Z';
    fclose(f);
    return alive;
}
