/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_vm.h"

#define MAX_ARGS       48
#define QMP_CONNECT_MS 60000 /* kvmemu listens before the guest runs */

void guest_diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

double guest_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- the kit ---- */

/* The first line of a file, without its newline. */
static void read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "re");

    ck_assert_msg(f, "cannot open %s: %s", path, strerror(errno));
    ck_assert_msg(fgets(out, (int)cap, f), "%s is empty", path);
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

void guest_kit_get(struct guest_kit *kit)
{
    char cmd[2048];
    int st;

    /* Its progress and errors go to our stderr (meson's log); its summary
     * to stdout would break TAP, so it is quiet. */
    snprintf(cmd, sizeof(cmd), "'%s' --out '%s' --quiet >&2", KIT_SCRIPT, KIT_DIR);
    st = system(cmd);
    ck_assert_msg(st == 0,
                  "%s failed (status 0x%x): the Linux test guest could not be built; its "
                  "messages are in this test's log",
                  KIT_SCRIPT, st);
    snprintf(kit->vmlinux, sizeof(kit->vmlinux), "%s/vmlinux", KIT_DIR);
    snprintf(kit->initrd, sizeof(kit->initrd), "%s/initramfs.cpio", KIT_DIR);
    snprintf(kit->config, sizeof(kit->config), "%s/kernel.config", KIT_DIR);
    read_line(KIT_DIR "/cmdline", kit->cmdline, sizeof(kit->cmdline));
}

/* ---- output ---- */

static void text_add(struct guest_text *t, const char *p, size_t n)
{
    /* Written through as it comes, so that a failed test leaves it. */
    if (t->log) {
        fwrite(p, 1, n, t->log);
        fflush(t->log);
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 65536;

        while (cap < t->len + n + 1)
            cap *= 2;
        t->buf = realloc(t->buf, cap);
        ck_assert_msg(t->buf, "out of memory for the guest's output");
        t->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\r' && p[i] != '\0')
            t->buf[t->len++] = p[i];
    t->buf[t->len] = '\0';
}

static void take(int *fd, struct guest_text *t)
{
    char buf[16384];
    ssize_t n = read(*fd, buf, sizeof(buf));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    text_add(t, buf, (size_t)n);
}

static void reap(struct guest_vm *vm)
{
    int st;

    if (vm->status >= 0 || waitpid(vm->pid, &st, WNOHANG) != vm->pid)
        return;
    vm->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    vm->ended_ms = guest_now_ms();
}

void guest_vm_pump(struct guest_vm *vm, int ms)
{
    double deadline = guest_now_ms() + ms;

    do {
        struct pollfd p[2] = { { vm->out, POLLIN, 0 }, { vm->err, POLLIN, 0 } };
        double left = deadline - guest_now_ms();

        if (vm->out < 0 && vm->err < 0) {
            reap(vm);
            if (vm->status >= 0)
                return;
            usleep(1000);
            continue;
        }
        if (poll(p, 2, left > 20 ? 20 : left > 0 ? (int)left : 0) > 0) {
            if (p[0].revents)
                take(&vm->out, &vm->serial);
            if (p[1].revents)
                take(&vm->err, &vm->errlog);
        }
        reap(vm);
    } while (guest_now_ms() < deadline);
}

/* ---- the process ---- */

static FILE *open_log(const char *tag, const char *what)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s-%s.log", LOG_DIR, tag, what);
    return fopen(path, "we");
}

/* Starts kvmemu, with `--monitor MONITOR` unless monitor is NULL. */
static void start(struct guest_vm *vm, const char *tag, const struct guest_kit *kit,
                  const char *append_extra, const char *const *args, const char *monitor)
{
    const char *argv[MAX_ARGS + 1];
    char append[2048];
    int in[2], out[2], err[2];
    unsigned n = 0;

    memset(vm, 0, sizeof(*vm));
    snprintf(vm->tag, sizeof(vm->tag), "%s", tag);
    vm->status = -1;
    vm->qmp.fd = -1;
    snprintf(append, sizeof(append), "%s%s%s", kit->cmdline, append_extra ? " " : "",
             append_extra ? append_extra : "");
    argv[n++] = KVMEMU_PATH;
    argv[n++] = "--kernel";
    argv[n++] = kit->vmlinux;
    argv[n++] = "--initrd";
    argv[n++] = kit->initrd;
    argv[n++] = "--append";
    argv[n++] = append;
    argv[n++] = "--serial";
    argv[n++] = "stdio";
    argv[n++] = "--trace-boot";
    if (monitor) {
        argv[n++] = "--monitor";
        argv[n++] = monitor;
    }
    for (unsigned i = 0; args && args[i]; i++) {
        ck_assert_msg(n < MAX_ARGS, "too many kvmemu arguments");
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    {
        char shown[4096] = "";

        for (unsigned i = 0; i < n; i++) {
            size_t used = strlen(shown);

            snprintf(shown + used, sizeof(shown) - used, i ? " '%s'" : "%s", argv[i]);
        }
        guest_diag("%s: %s", tag, shown);
    }

    vm->serial.log = open_log(tag, "serial");
    vm->errlog.log = open_log(tag, "stderr");
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    vm->started_ms = guest_now_ms();
    vm->pid = fork();
    ck_assert_int_ge(vm->pid, 0);
    if (vm->pid == 0) {
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
            _exit(126);
        execv(KVMEMU_PATH, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    vm->in = in[1];
    vm->out = out[0];
    vm->err = err[0];
    /* A guest that stops reading must not block the test. */
    fcntl(vm->in, F_SETFL, O_NONBLOCK);
}

void guest_vm_start(struct guest_vm *vm, const char *tag, const struct guest_kit *kit,
                    const char *append_extra, const char *const *args)
{
    start(vm, tag, kit, append_extra, args, NULL);
}

void guest_vm_start_qmp(struct guest_vm *vm, const char *tag, const struct guest_kit *kit,
                        const char *append_extra, const char *const *args)
{
    char dir[64] = "/tmp/kvmstack-qmp.XXXXXX", path[128], monitor[160];

    ck_assert_msg(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    snprintf(path, sizeof(path), "%s/qmp.sock", dir);
    snprintf(monitor, sizeof(monitor), "unix:%s", path);
    start(vm, tag, kit, append_extra, args, monitor);
    snprintf(vm->qmp_path, sizeof(vm->qmp_path), "%s", path);
    if (qc_connect_ready(&vm->qmp, path, QMP_CONNECT_MS) < 0) {
        guest_vm_pump(vm, 100);
        ck_abort_msg("%s: kvmemu's monitor on %s: %s; kvmemu said: %s", tag, path, vm->qmp.error,
                     vm->errlog.buf ? vm->errlog.buf : "(nothing)");
    }
}

json_object *guest_vm_qmp_event(struct guest_vm *vm, const char *name, int timeout_ms)
{
    double deadline = guest_now_ms() + timeout_ms;

    ck_assert_msg(vm->qmp.fd >= 0, "%s: no monitor (guest_vm_start_qmp starts one)", vm->tag);
    for (;;) {
        /* A short wait on the socket, then the console's pipes: the guest
         * must not find the serial port's pipe full meanwhile. */
        json_object *ev = qc_event(&vm->qmp, name, 20);

        if (ev || guest_now_ms() >= deadline || !strcmp(vm->qmp.error, "connection closed"))
            return ev;
        guest_vm_pump(vm, 0);
    }
}

/* The last few lines of the console, for failure messages. */
static const char *tail_of(const struct guest_text *t, unsigned lines)
{
    const char *p;

    if (!t->buf)
        return "(nothing)";
    p = t->buf + t->len;
    while (p > t->buf && lines) {
        p--;
        if (*p == '\n' && p + 1 < t->buf + t->len)
            lines--;
    }
    return p == t->buf ? p : p + 1;
}

size_t guest_vm_wait(struct guest_vm *vm, const char *needle, size_t from, int timeout_ms)
{
    double deadline = guest_now_ms() + timeout_ms;

    for (;;) {
        const char *hit =
            vm->serial.buf && from <= vm->serial.len ? strstr(vm->serial.buf + from, needle) : NULL;

        /* The whole line: the test reads it next. */
        if (hit && strchr(hit, '\n'))
            return (size_t)(hit - vm->serial.buf) + strlen(needle);
        if (guest_now_ms() >= deadline || (vm->status >= 0 && vm->out < 0 && vm->err < 0))
            return 0;
        guest_vm_pump(vm, 20);
    }
}

bool guest_vm_line(const struct guest_vm *vm, const char *needle, size_t from, char *out,
                   size_t cap)
{
    const char *hit, *start, *end;

    if (!vm->serial.buf || from > vm->serial.len || !(hit = strstr(vm->serial.buf + from, needle)))
        return false;
    for (start = hit; start > vm->serial.buf && start[-1] != '\n'; start--)
        ;
    end = strchrnul(hit, '\n');
    snprintf(out, cap, "%.*s", (int)(end - start), start);
    return true;
}

void guest_vm_type(struct guest_vm *vm, const char *line)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s\n", line);
    ssize_t w;

    ck_assert_msg(n > 0 && (size_t)n < sizeof(buf), "line too long to type");
    w = write(vm->in, buf, (size_t)n);
    ck_assert_msg(w == n, "%s: typing \"%s\" into the serial port: %s", vm->tag, line,
                  w < 0 ? strerror(errno) : "short write");
}

int guest_vm_wait_exit(struct guest_vm *vm, int timeout_ms)
{
    double deadline = guest_now_ms() + timeout_ms;

    while (vm->status < 0 && guest_now_ms() < deadline)
        guest_vm_pump(vm, 50);
    if (vm->status < 0) {
        kill(vm->pid, SIGKILL);
        waitpid(vm->pid, NULL, 0);
        vm->status = 128 + SIGKILL;
        ck_abort_msg("%s: kvmemu still ran %d ms later; the console ended with:\n%s", vm->tag,
                     timeout_ms, tail_of(&vm->serial, 8));
    }
    /* The rest of what it wrote (the timeline comes last). */
    while (vm->out >= 0 || vm->err >= 0)
        guest_vm_pump(vm, 50);
    return vm->status;
}

void guest_vm_end(struct guest_vm *vm)
{
    if (vm->pid > 0 && vm->status < 0) {
        kill(vm->pid, SIGKILL);
        waitpid(vm->pid, NULL, 0);
        vm->status = 128 + SIGKILL;
    }
    if (vm->serial.log)
        fclose(vm->serial.log);
    if (vm->errlog.log)
        fclose(vm->errlog.log);
    guest_diag("%s: the console and kvmemu's stderr are in %s/%s-{serial,stderr}.log", vm->tag,
               LOG_DIR, vm->tag);
    if (vm->in >= 0)
        close(vm->in);
    if (vm->out >= 0)
        close(vm->out);
    if (vm->err >= 0)
        close(vm->err);
    qc_close(&vm->qmp);
    if (vm->qmp_path[0]) {
        unlink(vm->qmp_path);
        *strrchr(vm->qmp_path, '/') = '\0';
        rmdir(vm->qmp_path);
    }
    free(vm->serial.buf);
    free(vm->errlog.buf);
    memset(vm, 0, sizeof(*vm));
    vm->in = vm->out = vm->err = vm->qmp.fd = -1;
}

double guest_vm_event_ms(const struct guest_vm *vm, const char *label, unsigned n)
{
    const char *p =
        vm->errlog.buf ? strstr(vm->errlog.buf, "boot timeline (ms since start):") : NULL;

    while (p && (p = strchr(p, '\n'))) {
        double ms;
        int used = 0;

        p++;
        if (sscanf(p, " %lf %n", &ms, &used) != 1 || used == 0)
            break;
        if (!strncmp(p + used, label, strlen(label)) && n-- == 0)
            return ms;
    }
    return -1;
}
