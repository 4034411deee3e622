/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "fixture.h"

#define DAEMON_WAIT_MS 10000
#define RUN_TIMEOUT_MS 60000

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

const char *fx_path(const struct fx *f, const char *name)
{
    static char buf[4][512];
    static unsigned next;
    char *p = buf[next++ % 4];

    snprintf(p, sizeof(buf[0]), "%s/%s", f->root, name);
    return p;
}

const char *fx_write(const struct fx *f, const char *name, const char *text)
{
    const char *path = fx_path(f, name);
    FILE *o = fopen(path, "w");

    ck_assert_msg(o, "%s: %s", path, strerror(errno));
    fputs(text, o);
    ck_assert_int_eq(fclose(o), 0);
    return path;
}

const char *fx_kernel(const struct fx *f, const char *guest)
{
    static char buf[4][512];
    static unsigned next;
    char *p = buf[next++ % 4], src[512], data[65536];
    int in, out;
    ssize_t n;

    snprintf(src, sizeof(src), "%s/%s.elf", GUEST_DIR, guest);
    snprintf(p, sizeof(buf[0]), "%s/%s.elf", f->boot, guest);
    if (access(p, R_OK) == 0)
        return p;
    in = open(src, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(in >= 0, "%s: %s", src, strerror(errno));
    out = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(out >= 0, "%s: %s", p, strerror(errno));
    while ((n = read(in, data, sizeof(data))) > 0)
        ck_assert_int_eq(write(out, data, (size_t)n), n);
    close(in);
    ck_assert_int_eq(close(out), 0);
    return p;
}

const char *fx_domain_xml(const struct fx *f, const char *name, const char *devices)
{
    char xml[8192], file[128];

    snprintf(xml, sizeof(xml),
             "<domain type='kvm'>\n"
             "  <name>%s</name>\n"
             "  <memory unit='MiB'>32</memory>\n"
             "  <currentMemory unit='MiB'>32</currentMemory>\n"
             "  <vcpu>1</vcpu>\n"
             "  <os>\n"
             "    <type>hvm</type>\n"
             "    <kernel>%s</kernel>\n"
             "  </os>\n"
             "  <features><acpi/></features>\n"
             "  <devices>\n"
             "    <serial type='pty'/>\n"
             "%s"
             "  </devices>\n"
             "</domain>\n",
             name, fx_kernel(f, "demo_mb"), devices ? devices : "");
    snprintf(file, sizeof(file), "%s.xml", name);
    return fx_write(f, file, xml);
}

/* ---- running programs ---- */

static void child_env(const struct fx *f)
{
    setenv("VMCTL_CONNECT", f->sock, 1);
    setenv("HOME", fx_path(f, "home"), 1);
    setenv("TMPDIR", fx_path(f, "tmp"), 1);
    unsetenv("XDG_CACHE_HOME");
    setenv("LC_ALL", "C", 1);
}

void fx_run(const struct fx *f, struct fx_out *r, const char *input, const char *const *argv)
{
    int in[2], out[2], err[2], status;
    size_t olen = 0, elen = 0;
    double deadline = now_ms() + RUN_TIMEOUT_MS;
    bool out_open = true, err_open = true;
    pid_t pid;

    memset(r, 0, sizeof(*r));
    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        child_env(f);
        if (chdir(f->root) < 0)
            _exit(126);
        if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
            _exit(126);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input) {
        size_t n = strlen(input);

        /* Small inputs: the pipe takes them whole. */
        ck_assert_uint_lt(n, 60000);
        ck_assert_int_eq(write(in[1], input, n), (ssize_t)n);
    }
    close(in[1]);
    while (out_open || err_open) {
        struct pollfd p[2] = { { .fd = out_open ? out[0] : -1, .events = POLLIN },
                               { .fd = err_open ? err[0] : -1, .events = POLLIN } };
        int left = (int)(deadline - now_ms());

        if (left <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("%s %s: still running after %d s; printed: %s %s", argv[0],
                         argv[1] ? argv[1] : "", RUN_TIMEOUT_MS / 1000, r->out, r->err);
        }
        if (poll(p, 2, left) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            char buf[4096];
            ssize_t n;
            char *dst = i ? r->err : r->out;
            size_t *len = i ? &elen : &olen, cap = i ? sizeof(r->err) : sizeof(r->out);

            if (!p[i].revents)
                continue;
            n = read(p[i].fd, buf, sizeof(buf));
            if (n <= 0) {
                if (i)
                    err_open = false;
                else
                    out_open = false;
                continue;
            }
            if (*len + (size_t)n < cap) {
                memcpy(dst + *len, buf, (size_t)n);
                *len += (size_t)n;
            }
        }
    }
    close(out[0]);
    close(err[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the API ---- */

json_object *fx_call(const struct fx *f, const char *method, const char *params_json)
{
    char err[256];
    struct md_client *c = md_client_connect(f->sock, err, sizeof(err));
    json_object *r;

    ck_assert_msg(c, "%s", err);
    r = md_client_call(c, method, params_json ? json_tokener_parse(params_json) : NULL);
    ck_assert_msg(r, "%s %s: %s", method, params_json ? params_json : "", md_client_error(c));
    md_client_close(c);
    return r;
}

const char *fx_state(const struct fx *f, const char *domain, char *buf, size_t len)
{
    char err[256], params[256];
    struct md_client *c = md_client_connect(f->sock, err, sizeof(err));
    json_object *r;

    ck_assert_msg(c, "%s", err);
    snprintf(params, sizeof(params), "{\"domain\": \"%s\"}", domain);
    r = md_client_call(c, "domain.get_state", json_tokener_parse(params));
    snprintf(buf, len, "%s", r ? json_object_get_string(json_object_object_get(r, "state")) : "");
    json_object_put(r);
    md_client_close(c);
    return buf;
}

bool fx_wait_state(const struct fx *f, const char *domain, const char *state, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    char buf[64];

    do {
        if (!strcmp(fx_state(f, domain, buf, sizeof(buf)), state))
            return true;
        sleep_ms(50);
    } while (now_ms() < deadline);
    return false;
}

pid_t fx_find_process(const char *a, const char *b)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;

    ck_assert_ptr_nonnull(proc);
    while (found < 0 && (e = readdir(proc)) != NULL) {
        char path[300], line[4096];
        ssize_t n;
        int fd;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read(fd, line, sizeof(line) - 1);
        close(fd);
        if (n <= 0)
            continue;
        for (ssize_t i = 0; i < n; i++)
            if (!line[i])
                line[i] = ' ';
        line[n] = '\0';
        if (!strncmp(line, a, strlen(a)) && strstr(line, b))
            found = (pid_t)atoi(e->d_name);
    }
    closedir(proc);
    return found;
}

/* ---- the guardian ---- */

/* A kvmemu whose command line names something under root, or -1. */
static pid_t find_emulator(const char *root)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;

    while (proc && found < 0 && (e = readdir(proc)) != NULL) {
        char path[300], line[4096];
        size_t first;
        ssize_t n;
        int fd;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        n = read(fd, line, sizeof(line) - 1);
        close(fd);
        if (n <= 0)
            continue;
        line[n] = '\0';
        first = strlen(line);
        for (ssize_t i = 0; i < n; i++)
            if (!line[i])
                line[i] = ' ';
        if (first >= 7 && !strncmp(line + first - 7, "/kvmemu", 7) && strstr(line, root))
            found = (pid_t)atoi(e->d_name);
    }
    if (proc)
        closedir(proc);
    return found;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void run_quiet(const char *const *argv)
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);

        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* Destroys every domain that is not shut off, then stops the daemon: its
 * exit status (0 when it ended as asked, cleanly). */
static int guardian_cleanup(const struct fx *f, pid_t daemon)
{
    char err[256];
    struct md_client *c = md_client_connect(f->sock, err, sizeof(err));
    double deadline;
    int status;

    if (c) {
        json_object *r = md_client_call(c, "domain.list", json_tokener_parse("{\"all\": true}"));
        json_object *list = r ? json_object_object_get(r, "domains") : NULL;

        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            json_object *d = json_object_array_get_idx(list, i), *p;

            if (!strcmp(json_object_get_string(json_object_object_get(d, "state")), "shut off"))
                continue;
            p = json_object_new_object();
            json_object_object_add(p, "domain", json_object_get(json_object_object_get(d, "uuid")));
            json_object_put(md_client_call(c, "domain.destroy", p));
        }
        json_object_put(r);
        md_client_close(c);
    }
    kill(daemon, SIGTERM);
    deadline = now_ms() + 5000;
    while (waitpid(daemon, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(daemon, SIGKILL);
            waitpid(daemon, &status, 0);
            break;
        }
        sleep_ms(20);
    }
    run_quiet((const char *const[]){ "tmux", "-S", f->tmux, "kill-server", NULL });
    /* Emulators a daemon that died could not stop: their kernel is ours. */
    for (int i = 0; i < 20; i++) {
        pid_t pid = find_emulator(f->root);

        if (pid <= 0)
            break;
        fprintf(stderr, "killing emulator %d, left running under %s\n", (int)pid, f->root);
        kill(pid, SIGKILL);
        sleep_ms(100);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The daemon's log, on stderr (where TAP keeps it), when it ended badly. */
static void show_log(const struct fx *f, int status)
{
    char line[4096];
    FILE *log = fopen(fx_path(f, "mgmtd.log"), "r");

    fprintf(stderr, "mgmtd ended with status %d; its log:\n", status);
    while (log && fgets(line, sizeof(line), log))
        fputs(line, stderr);
    if (log)
        fclose(log);
}

static bool daemon_ready(const struct fx *f)
{
    char err[256];
    struct md_client *a = md_client_connect(f->sock, err, sizeof(err));
    struct md_client *b = md_client_connect(f->ro, err, sizeof(err));
    bool ok = a && b;

    md_client_close(a);
    md_client_close(b);
    return ok;
}

static void guardian(struct fx *f, int ctl, int ready)
{
    char c;
    int status;
    pid_t daemon;
    double deadline = now_ms() + DAEMON_WAIT_MS;
    bool ok = false;

    /* A session of its own: Check kills the test's process group when a
     * test fails, and this is what must outlive it. */
    setsid();
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    daemon = fork();
    if (daemon == 0) {
        int log = open(fx_path(f, "mgmtd.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
            _exit(126);
        execl(MGMTD_PATH, MGMTD_PATH, "--root", f->root, "--shutdown-grace", "2000", (char *)NULL);
        _exit(127);
    }
    while (daemon > 0 && now_ms() < deadline) {
        if (daemon_ready(f)) {
            ok = true;
            break;
        }
        if (waitpid(daemon, NULL, WNOHANG) == daemon) {
            daemon = -1;
            break;
        }
        sleep_ms(20);
    }
    if (write(ready, ok ? "1" : "0", 1) != 1)
        ok = false;
    close(ready);
    /* Until the test is over, by whatever way it ends. */
    while (ok && read(ctl, &c, 1) != 0 && errno == EINTR)
        ;
    status = daemon > 0 ? guardian_cleanup(f, daemon) : 0;
    /* A daemon that did not end cleanly (a sanitizer's finding included)
     * fails the test. */
    if (status != 0)
        show_log(f, status);
    /* KVMSTACK_KEEP_TEST_ROOT=1 keeps it, logs and all, to look at. */
    if (!getenv("KVMSTACK_KEEP_TEST_ROOT"))
        nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    _exit(status != 0);
}

void fx_start(struct fx *f)
{
    int ctl[2], ready[2];
    char c = 0;

    memset(f, 0, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/kvmstack-tools.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->root));
    /* The emulator's user reads the kernels under boot/. */
    ck_assert_int_eq(chmod(f->root, 0755), 0);
    snprintf(f->sock, sizeof(f->sock), "%s/run/mgmtd.sock", f->root);
    snprintf(f->ro, sizeof(f->ro), "%s/run/mgmtd-ro.sock", f->root);
    snprintf(f->tmux, sizeof(f->tmux), "%s/tmux.sock", f->root);
    snprintf(f->boot, sizeof(f->boot), "%s/boot", f->root);
    ck_assert_int_eq(mkdir(fx_path(f, "home"), 0700), 0);
    ck_assert_int_eq(mkdir(fx_path(f, "tmp"), 0700), 0);
    ck_assert_int_eq(mkdir(f->boot, 0755), 0);
    ck_assert_int_eq(pipe2(ctl, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
    f->guardian = fork();
    ck_assert_int_ge(f->guardian, 0);
    if (f->guardian == 0) {
        close(ctl[1]);
        close(ready[0]);
        guardian(f, ctl[0], ready[1]);
    }
    close(ctl[0]);
    close(ready[1]);
    f->guard = ctl[1];
    if (read(ready[0], &c, 1) != 1)
        c = 0;
    close(ready[0]);
    ck_assert_msg(c == '1', "mgmtd did not start in %s (see its log above)", f->root);
}

void fx_stop(struct fx *f)
{
    int status = 0;

    if (f->guard >= 0)
        close(f->guard);
    f->guard = -1;
    if (f->guardian > 0)
        waitpid(f->guardian, &status, 0);
    f->guardian = -1;
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "mgmtd did not end cleanly (its log is on stderr)");
}

/* ---- tmux ---- */

static void tmux(struct fx *f, const char *const *args, char *out, size_t len)
{
    const char *argv[32];
    int p[2], status;
    unsigned n = 0;
    size_t got = 0;
    pid_t pid;

    argv[n++] = "tmux";
    argv[n++] = "-S";
    argv[n++] = f->tmux;
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        child_env(f);
        /* A terminal type tmux knows, whatever ran the tests. */
        setenv("TERM", "xterm", 1);
        dup2(p[1], 1);
        execvp("tmux", (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    for (;;) {
        char buf[4096];
        ssize_t r = read(p[0], buf, sizeof(buf));

        if (r <= 0)
            break;
        if (out && got + (size_t)r < len) {
            memcpy(out + got, buf, (size_t)r);
            got += (size_t)r;
        }
    }
    if (out)
        out[got] = '\0';
    close(p[0]);
    waitpid(pid, &status, 0);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tmux %s failed (status %d)",
                  argv[3], status);
}

void fx_tmux_start(struct fx *f, const char *command)
{
    char wrapped[4096];

    snprintf(wrapped, sizeof(wrapped), "%s; echo EXIT=$?; stty -a; echo STTY-END; exec sleep 600",
             command);
    tmux(f,
         (const char *const[]){ "new-session", "-d", "-s", "t", "-x", "120", "-y", "50", "sh", "-c",
                                wrapped, NULL },
         NULL, 0);
}

void fx_tmux_stop(struct fx *f)
{
    tmux(f, (const char *const[]){ "kill-server", NULL }, NULL, 0);
    /* The server removes its socket as it ends; a new one may start then. */
    for (int i = 0; i < 200 && access(f->tmux, F_OK) == 0; i++)
        sleep_ms(10);
}

void fx_tmux_keys(struct fx *f, const char *const *keys)
{
    const char *args[32] = { "send-keys", "-t", "t", "--" };
    unsigned n = 4;

    while (*keys && n < 31)
        args[n++] = *keys++;
    args[n] = NULL;
    tmux(f, args, NULL, 0);
}

void fx_tmux_screen(struct fx *f, char *screen, size_t len)
{
    tmux(f, (const char *const[]){ "capture-pane", "-p", "-J", "-S", "-3000", "-t", "t", NULL },
         screen, len);
}

bool fx_tmux_wait(struct fx *f, const char *needle, int timeout_ms, char *screen, size_t len)
{
    double deadline = now_ms() + timeout_ms;

    for (;;) {
        fx_tmux_screen(f, screen, len);
        if (strstr(screen, needle))
            return true;
        if (now_ms() > deadline)
            return false;
        sleep_ms(100);
    }
}

/* True if `stty -a`'s output (after EXIT=) has this word, alone. */
static bool stty_word(const char *screen, const char *word)
{
    const char *p = strstr(screen, "EXIT=");
    size_t n = strlen(word);

    for (; p && (p = strstr(p, word)) != NULL; p += n) {
        bool start = p[-1] == ' ' || p[-1] == '\n' || p[-1] == ';';
        bool end = p[n] == ' ' || p[n] == '\n' || p[n] == ';' || p[n] == '\0';

        if (start && end)
            return true;
    }
    return false;
}

void fx_assert_sane_terminal(struct fx *f, char *screen, size_t len)
{
    static const char *const on[] = { "icanon", "echo", "isig", "icrnl", "opost", NULL };

    ck_assert_msg(fx_tmux_wait(f, "STTY-END", 10000, screen, len), "the command has not ended: %s",
                  screen);
    for (int i = 0; on[i]; i++) {
        char off[32];

        snprintf(off, sizeof(off), "-%s", on[i]);
        ck_assert_msg(stty_word(screen, on[i]) && !stty_word(screen, off),
                      "after the command, the terminal lacks %s: %s", on[i],
                      strstr(screen, "EXIT="));
    }
}

unsigned fx_count(const char *s, const char *needle)
{
    unsigned n = 0;

    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}
