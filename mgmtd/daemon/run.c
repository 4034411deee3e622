/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Emulators: launching one for a domain (everything it uses opened here
 * and inherited; it runs unprivileged, see spawn.h), following it through
 * its monitor's events, ending it, and acting on its end (on_poweroff,
 * on_crash, a pending reboot, a transient domain that goes away).
 *
 * Every emulator starts with --paused, so that the daemon is connected to
 * its monitor before the guest runs its first instruction and misses no
 * event; "cont" then runs it, unless the domain was asked to start paused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf/argv.h"
#include "internal.h"
#include "log.h"
#include "spawn.h"
#include "tap.h"

static void on_exit_readable(uv_poll_t *h, int status, int events);
static const struct md_qmpc_ops monitor_ops;

/* ---- helpers ---- */

static int run_file(const struct md_domain *d, const char *ext, char *buf, size_t len)
{
    return md_paths_file(buf, len, d->drv->paths.run_domains, d->name, ext);
}

static int log_file(const struct md_domain *d, char *buf, size_t len)
{
    return md_paths_file(buf, len, d->drv->paths.log, d->name, "log");
}

/* A listening unix socket at path (a stale one is replaced), root's own. */
static int listen_unix(const char *path, struct md_err *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return md_err_set(err, -ENAMETOOLONG, 0, "%s: longer than a socket path may be", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return md_err_set(err, -errno, 0, "%s: socket: %s", path, strerror(errno));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 4) < 0) {
        int e = errno;

        close(fd);
        return md_err_set(err, -e, 0, "%s: cannot listen: %s", path, strerror(e));
    }
    return fd;
}

/* The process's start time (clock ticks after boot): with the pid, it
 * names one process for good. 0 if it is gone. */
static unsigned long long proc_start_time(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long t = 0;
    FILE *f;
    char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) != NULL) {
        /* After "pid (comm)": field 3 onwards; the start time is field 22. */
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (p)
            t = strtoull(p, NULL, 10);
    }
    fclose(f);
    return t;
}

void md_run_log_tail(const struct md_domain *d, char *buf, size_t len)
{
    char path[PATH_MAX], tail[4096];
    ssize_t n = 0;
    int fd;
    struct stat st;
    char *p;
    int lines = 0;

    buf[0] = '\0';
    if (log_file(d, path, sizeof(path)) < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    if (fstat(fd, &st) == 0) {
        off_t from =
            st.st_size > (off_t)sizeof(tail) - 1 ? st.st_size - (off_t)sizeof(tail) + 1 : 0;

        n = pread(fd, tail, sizeof(tail) - 1, from);
    }
    close(fd);
    if (n <= 0)
        return;
    tail[n] = '\0';
    /* The last 5 lines. */
    p = tail + n;
    while (p > tail && (p[-1] == '\n'))
        *--p = '\0';
    while (p > tail && lines < 5) {
        p--;
        if (*p == '\n')
            lines++;
    }
    if (*p == '\n')
        p++;
    snprintf(buf, len, "%s", p);
}

static void write_log_header(int fd, char *const *argv)
{
    char line[8192];
    time_t now = time(NULL);
    struct tm tm;
    size_t n;

    gmtime_r(&now, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S UTC: starting:", &tm);
    for (char *const *a = argv; *a && n + 4 < sizeof(line); a++)
        n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", *a);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(fd, line, n) < 0) {
        /* the log is best effort */
    }
}

/* ---- the end of an emulator ---- */

static void close_watch_cb(uv_handle_t *h)
{
    free(h);
}

static void release(struct md_domain *d)
{
    char path[PATH_MAX];

    if (d->mon) {
        struct md_qmpc *q = d->mon;

        d->mon = NULL;
        md_qmpc_close(q);
    }
    if (d->exit_watch) {
        uv_close((uv_handle_t *)d->exit_watch, close_watch_cb);
        d->exit_watch = NULL;
    }
    if (d->pidfd >= 0)
        close(d->pidfd);
    d->pidfd = -1;
    if (d->console) {
        struct md_api_stream *s = d->console;

        d->console = NULL;
        md_api_stream_close(s);
    }
    if (run_file(d, "qmp", path, sizeof(path)) == 0)
        unlink(path);
    if (run_file(d, "console", path, sizeof(path)) == 0)
        unlink(path);
    if (run_file(d, "hvc", path, sizeof(path)) == 0)
        unlink(path);
    md_status_remove(d);
}

static void run_start(struct md_domain *d);

/* What the domain's on_* settings ask for after this end. */
static bool restart_wanted(const struct md_domain *d, const char *reason)
{
    const struct md_domain_def *def = d->live;

    if (!def)
        return false;
    if (d->reboot_pending && d->guest_shutdown)
        return true;
    if (!strcmp(reason, "shutdown"))
        return def->on_poweroff == MD_ACTION_RESTART;
    if (!strcmp(reason, "crashed"))
        return def->on_crash == MD_ACTION_RESTART;
    return false;
}

static void emulator_gone(struct md_domain *d, int wstatus, bool known)
{
    const char *reason = d->stop_reason ? d->stop_reason : "crashed";
    json_object *extra = json_object_new_object();
    char tail[2048];
    bool restart, starting;

    release(d);
    md_run_log_tail(d, tail, sizeof(tail));
    if (known && WIFEXITED(wstatus))
        json_object_object_add(extra, "exit_status", json_object_new_int(WEXITSTATUS(wstatus)));
    else if (known && WIFSIGNALED(wstatus))
        json_object_object_add(extra, "signal", json_object_new_int(WTERMSIG(wstatus)));
    if (!strcmp(reason, "crashed")) {
        json_object_object_add(extra, "log", json_object_new_string(tail));
        md_log(MD_LOG_WARN, "domain %s: its emulator (pid %d) ended unexpectedly; its log ends: %s",
               d->name, (int)d->pid, tail);
    }
    /* A start that failed is not retried: it would fail again; libvirt
     * calls its end "failed". */
    starting = d->job && d->job->run == md_run_job_start;
    if (starting && !d->stop_reason)
        reason = "failed";
    restart = !starting && restart_wanted(d, reason);
    md_domain_set_state(d, MD_STATE_SHUTOFF, reason);
    md_domain_event(d, "stopped", reason, extra);
    d->id = -1;
    d->pid = -1;
    d->stop_reason = NULL;
    d->guest_shutdown = false;
    d->panicked = false;
    d->reboot_pending = false;
    /* The job that waited for this end (start, destroy, shutdown --wait). */
    if (d->job) {
        if (starting)
            md_job_done(d, NULL, MD_API_OPERATION_FAILED,
                        "domain %s: the emulator ended while starting: %s", d->name,
                        tail[0] ? tail : "(its log is empty)");
        else
            md_job_done(d, NULL, 0, NULL);
    }
    if (restart) {
        md_log(MD_LOG_INFO, "domain %s: starting it again (%s)", d->name,
               !strcmp(reason, "crashed") ? "on_crash" : "on_poweroff or reboot");
        md_job_push(d, md_run_job_start, NULL, NULL);
        return;
    }
    md_domain_def_free(d->live);
    d->live = NULL;
    if (d->newdef) {
        md_domain_def_free(d->def);
        d->def = d->newdef;
        d->newdef = NULL;
    }
    if (!d->def) {
        /* Transient: gone with its emulator (after any job in progress). */
        md_domain_event(d, "undefined", "transient", NULL);
        d->removed = true;
        if (!d->job && !d->jobs)
            md_domain_free(d);
    }
}

static void on_exit_readable(uv_poll_t *h, int status, int events)
{
    struct md_domain *d = h->data;
    int wstatus = 0;
    bool known = false;

    (void)status;
    (void)events;
    if (d->our_child) {
        pid_t r;

        do
            r = waitpid(d->pid, &wstatus, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0)
            return; /* not yet: spurious */
        known = r == d->pid;
    }
    md_domain_ref(d);
    emulator_gone(d, wstatus, known);
    md_domain_unref(d);
}

static int watch_exit(struct md_domain *d, struct md_err *err)
{
    d->pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
    if (d->pidfd < 0)
        return md_err_set(err, -errno, 0, "pidfd_open(%d): %s", (int)d->pid, strerror(errno));
    d->exit_watch = calloc(1, sizeof(*d->exit_watch));
    if (!d->exit_watch)
        return md_err_set(err, -ENOMEM, 0, "out of memory");
    uv_poll_init(d->drv->loop, d->exit_watch, d->pidfd);
    d->exit_watch->data = d;
    uv_poll_start(d->exit_watch, UV_READABLE, on_exit_readable);
    return 0;
}

/* ---- the monitor's events ---- */

static void on_monitor_ready(void *opaque);

static void on_monitor_event(void *opaque, const char *name, json_object *data)
{
    struct md_domain *d = opaque;
    json_object *v = NULL;

    if (!strcmp(name, "SHUTDOWN")) {
        const char *why =
            json_object_object_get_ex(data, "reason", &v) ? json_object_get_string(v) : "";

        d->guest_shutdown =
            json_object_object_get_ex(data, "guest", &v) && json_object_get_boolean(v);
        if (!strcmp(why, "guest-panic"))
            d->stop_reason = "crashed";
        else if (d->guest_shutdown)
            d->stop_reason = "shutdown";
        else if (!d->stop_reason)
            d->stop_reason = "destroyed";
        md_domain_set_state(d, MD_STATE_IN_SHUTDOWN, d->guest_shutdown ? "user" : "destroyed");
    } else if (!strcmp(name, "GUEST_PANICKED")) {
        const char *action =
            json_object_object_get_ex(data, "action", &v) ? json_object_get_string(v) : "";

        d->panicked = true;
        if (!strcmp(action, "pause")) {
            md_domain_set_state(d, MD_STATE_CRASHED, "panicked");
            md_domain_event(d, "crashed", "panicked", NULL);
            md_status_write(d, NULL);
        }
    } else if (!strcmp(name, "STOP")) {
        if (d->state == MD_STATE_RUNNING || d->state == MD_STATE_IN_SHUTDOWN) {
            md_domain_set_state(d, MD_STATE_PAUSED, "user");
            md_domain_event(d, "suspended", "paused", NULL);
            md_status_write(d, NULL);
        }
    } else if (!strcmp(name, "RESUME")) {
        if (d->state != MD_STATE_RUNNING) {
            md_domain_set_state(d, MD_STATE_RUNNING, "unpaused");
            md_domain_event(d, "resumed", "unpaused", NULL);
            md_status_write(d, NULL);
        }
    } else if (!strcmp(name, "RESET")) {
        bool guest = json_object_object_get_ex(data, "guest", &v) && json_object_get_boolean(v);

        /* A guest that reboots rather than powering off is running again. */
        if (d->state == MD_STATE_IN_SHUTDOWN)
            md_domain_set_state(d, MD_STATE_RUNNING, "booted");
        md_domain_event(d, "reset", guest ? "guest" : "host", NULL);
    } else if (!strcmp(name, "BLOCK_IO_ERROR")) {
        json_object *extra = json_object_new_object();

        json_object_object_add(extra, "data", json_object_get(data));
        md_domain_event(d, "io-error",
                        json_object_get_string(json_object_object_get(data, "device")), extra);
    }
}

static void on_monitor_closed(void *opaque, const char *why)
{
    struct md_domain *d = opaque;

    d->mon = NULL;
    /* The emulator's end follows (the exit watch sees it); if it does not,
     * it runs on without a monitor, which is logged. */
    md_log(MD_LOG_DEBUG, "domain %s: monitor closed: %s", d->name, why);
}

static const struct md_qmpc_ops monitor_ops = {
    .ready = on_monitor_ready,
    .event = on_monitor_event,
    .closed = on_monitor_closed,
};

/* ---- start ---- */

/* Before an emulator ran: nothing of the start stays (a transient domain
 * that never ran is gone). */
static void start_failed(struct md_domain *d, const char *why)
{
    char path[PATH_MAX];

    if (run_file(d, "qmp", path, sizeof(path)) == 0)
        unlink(path);
    if (run_file(d, "console", path, sizeof(path)) == 0)
        unlink(path);
    if (run_file(d, "hvc", path, sizeof(path)) == 0)
        unlink(path);
    d->id = -1;
    d->pid = -1;
    if (d->def) {
        md_domain_def_free(d->live);
        d->live = NULL;
    } else {
        d->removed = true; /* md_job_done() frees it */
    }
    md_job_done(d, NULL, MD_API_OPERATION_FAILED, "domain %s: cannot start: %s", d->name, why);
}

static void on_start_timeout(struct md_domain *d)
{
    md_log(MD_LOG_ERROR, "domain %s: the emulator did not answer within %d ms: killed", d->name,
           d->drv->cfg.start_timeout_ms);
    if (d->pid > 0)
        kill(d->pid, SIGKILL);
    /* emulator_gone() ends the job. */
}

static void on_cont(void *opaque, json_object *ret, const char *error)
{
    struct md_domain *d = opaque;

    /* Released with its emulator (whose pid may be reaped already):
     * emulator_gone() fails the start. */
    if (!ret && !d->mon)
        return;
    if (!ret) {
        md_log(MD_LOG_ERROR, "domain %s: cont: %s", d->name, error);
        if (d->pid > 0)
            kill(d->pid, SIGKILL);
        return; /* its end fails the job */
    }
    md_domain_set_state(d, MD_STATE_RUNNING, "booted");
    md_status_write(d, NULL);
    md_domain_event(d, "started", "booted", NULL);
    md_job_done(d, md_domain_brief(d), 0, NULL);
}

static void on_reattach_status(void *opaque, json_object *ret, const char *error);

static void on_monitor_ready(void *opaque)
{
    struct md_domain *d = opaque;

    if (d->job && d->job->run == md_run_job_start) {
        /* A start: the emulator waits in prelaunch. */
        if (d->job && d->job->paused) {
            md_domain_set_state(d, MD_STATE_PAUSED, "user");
            md_status_write(d, NULL);
            md_domain_event(d, "started", "booted", NULL);
            md_domain_event(d, "suspended", "paused", NULL);
            md_job_done(d, md_domain_brief(d), 0, NULL);
        } else {
            md_qmpc_execute(d->mon, "cont", NULL, on_cont, d);
        }
        return;
    }
    /* A reattach: learn where it stands. */
    md_qmpc_execute(d->mon, "query-status", NULL, on_reattach_status, d);
}

struct launch {
    int fds[MD_SPAWN_MAX_FDS];
    unsigned nfds;
    int log_fd;
};

static int add_fd(struct launch *l, int fd)
{
    if (l->nfds == MD_SPAWN_MAX_FDS) {
        close(fd);
        return -1;
    }
    l->fds[l->nfds++] = fd;
    return MD_SPAWN_FIRST_FD + (int)l->nfds - 1;
}

static void launch_close(struct launch *l)
{
    for (unsigned i = 0; i < l->nfds; i++)
        close(l->fds[i]);
    if (l->log_fd >= 0)
        close(l->log_fd);
}

/* Opens everything the emulator will inherit; the argv parameters name the
 * numbers the descriptors get in it. */
static int prepare(struct md_domain *d, struct launch *l, struct md_argv_params *p, int *disk_fds,
                   int *tap_fds, struct md_err *err)
{
    const struct md_domain_def *def = d->live;
    char path[PATH_MAX];
    int fd;

    fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return md_err_set(err, -errno, 0, "/dev/kvm: %s", strerror(errno));
    p->kvm_fd = add_fd(l, fd);
    for (unsigned i = 0; i < def->nr_disks; i++) {
        const struct md_disk *disk = &def->disks[i];

        fd = open(disk->source, (disk->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (fd < 0)
            return md_err_set(err, -errno, disk->source_line, "<source file='%s'>: %s",
                              disk->source, strerror(errno));
        disk_fds[i] = add_fd(l, fd);
    }
    for (unsigned i = 0; i < def->nr_nics; i++) {
        const struct md_interface *nic = &def->nics[i];

        fd = md_tap_open(nic->ifname, nic->type == MD_NET_BRIDGE ? nic->bridge : NULL, d->taps[i],
                         err);
        if (fd < 0)
            return fd;
        tap_fds[i] = add_fd(l, fd);
    }
    if (run_file(d, "qmp", path, sizeof(path)) < 0)
        return md_err_set(err, -ENAMETOOLONG, 0, "the monitor socket's path is too long");
    fd = listen_unix(path, err);
    if (fd < 0)
        return fd;
    p->monitor_fd = add_fd(l, fd);
    /* The consoles: sockets of ours that kvmemu serves, which the API
     * hands to vmctl console (pty chardevs; file and unix ones are the
     * admin's as written). */
    if (def->serial.present && def->serial.type == MD_CHR_PTY) {
        if (run_file(d, "console", path, sizeof(path)) < 0)
            return md_err_set(err, -ENAMETOOLONG, 0, "the console socket's path is too long");
        fd = listen_unix(path, err);
        if (fd < 0)
            return fd;
        p->serial_fd = add_fd(l, fd);
    }
    if (def->vconsole.present && def->vconsole.type == MD_CHR_PTY) {
        if (run_file(d, "hvc", path, sizeof(path)) < 0)
            return md_err_set(err, -ENAMETOOLONG, 0, "the console socket's path is too long");
        fd = listen_unix(path, err);
        if (fd < 0)
            return fd;
        p->vconsole_fd = add_fd(l, fd);
    }
    if (p->kvm_fd < 0 || p->monitor_fd < 0)
        return md_err_set(err, -E2BIG, 0, "too many descriptors for one emulator");
    if (log_file(d, path, sizeof(path)) < 0)
        return md_err_set(err, -ENAMETOOLONG, 0, "the log's path is too long");
    l->log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (l->log_fd < 0)
        return md_err_set(err, -errno, 0, "%s: %s", path, strerror(errno));
    return 0;
}

static void run_start(struct md_domain *d)
{
    struct md_driver *drv = d->drv;
    struct launch l = { .log_fd = -1 };
    int disk_fds[MD_MAX_DISKS], tap_fds[MD_MAX_NICS];
    struct md_argv_params p = { .emulator = drv->cfg.emulator,
                                .kvm_fd = -1,
                                .monitor_fd = -1,
                                .disk_fds = disk_fds,
                                .tap_fds = tap_fds,
                                .paused = true };
    struct md_spawn sp = { 0 };
    struct md_err err;
    char path[PATH_MAX];
    char **argv;

    md_err_clear(&err);
    if (md_domain_def_check_files(d->live, &err) < 0 ||
        prepare(d, &l, &p, disk_fds, tap_fds, &err) < 0) {
        launch_close(&l);
        start_failed(d, err.msg);
        return;
    }
    argv = md_argv_build(d->live, &p, &err);
    if (!argv) {
        launch_close(&l);
        start_failed(d, err.msg);
        return;
    }
    write_log_header(l.log_fd, argv);
    sp = (struct md_spawn){ .argv = argv,
                            .stdout_fd = l.log_fd,
                            .stderr_fd = l.log_fd,
                            .fds = l.fds,
                            .nfds = l.nfds,
                            .change_id = drv->change_id,
                            .uid = drv->uid,
                            .gid = drv->gid };
    d->pid = md_spawn(&sp, &err);
    md_argv_free(argv);
    launch_close(&l); /* the emulator has its own copies */
    if (d->pid < 0) {
        start_failed(d, err.msg);
        return;
    }
    d->our_child = true;
    d->start_time = proc_start_time(d->pid);
    d->id = drv->next_id++;
    d->stop_reason = NULL;
    /* As libvirt says of a domain whose emulator runs but has not been
     * resumed yet: it has an id, and is not "shut off" any more. */
    md_domain_set_state(d, MD_STATE_PAUSED, "starting up");
    if (watch_exit(d, &err) < 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
        d->pid = -1;
        d->id = -1;
        start_failed(d, err.msg);
        return;
    }
    if (md_status_write(d, &err) < 0)
        md_log(MD_LOG_WARN, "domain %s: %s (a daemon restart will not find it)", d->name, err.msg);
    if (run_file(d, "qmp", path, sizeof(path)) == 0)
        d->mon = md_qmpc_connect(drv->loop, path, &monitor_ops, d);
    if (!d->mon) {
        kill(d->pid, SIGKILL);
        return; /* its end fails the job */
    }
    md_job_timer(d, drv->cfg.start_timeout_ms, on_start_timeout);
}

/* ---- stop ---- */

static void on_kill_timeout(struct md_domain *d)
{
    if (d->job && d->job->graceful) {
        md_job_done(d, NULL, MD_API_TIMEOUT,
                    "domain %s: still running %d ms after SIGTERM (--graceful: not killed)",
                    d->name, d->drv->cfg.shutdown_grace_ms);
        return;
    }
    md_log(MD_LOG_WARN, "domain %s: still running %d ms after SIGTERM: SIGKILL", d->name,
           d->drv->cfg.shutdown_grace_ms);
    kill(d->pid, SIGKILL);
}

void md_run_kill(struct md_domain *d, bool graceful)
{
    (void)graceful;
    d->stop_reason = "destroyed";
    if (kill(d->pid, SIGTERM) < 0 && errno == ESRCH)
        return; /* already going: its end ends the job */
    md_job_timer(d, d->drv->cfg.shutdown_grace_ms, on_kill_timeout);
}

/* ---- commands through the monitor ---- */

struct qmp_job {
    struct md_domain *d;
    enum md_state state;
    const char *reason;
};

static void on_qmp_job(void *opaque, json_object *ret, const char *error)
{
    struct qmp_job *q = opaque;
    struct md_domain *d = q->d;
    enum md_state state = q->state;
    const char *reason = q->reason;

    free(q);
    /* The monitor was released with its emulator: emulator_gone() ends
     * the job. */
    if (!ret && !d->mon)
        return;
    if (!ret) {
        md_job_done(d, NULL, MD_API_OPERATION_FAILED, "domain %s: %s", d->name, error);
        return;
    }
    /* The state changes with the answer (the event that follows it then
     * changes nothing), so that whoever asked sees it at once. */
    if ((int)state >= 0 && d->state != state) {
        md_domain_set_state(d, state, reason);
        md_status_write(d, NULL);
        if (state == MD_STATE_PAUSED)
            md_domain_event(d, "suspended", "paused", NULL);
        else if (state == MD_STATE_RUNNING)
            md_domain_event(d, "resumed", "unpaused", NULL);
    }
    md_job_done(d, NULL, 0, NULL);
}

void md_run_qmp_job(struct md_domain *d, const char *command, enum md_state ok_state,
                    const char *ok_reason)
{
    struct qmp_job *q;

    /* A monitor still negotiating (just reattached) takes the command
     * when it is ready. */
    if (!d->mon) {
        md_job_done(d, NULL, MD_API_OPERATION_FAILED,
                    "domain %s: its emulator's monitor is not connected", d->name);
        return;
    }
    q = malloc(sizeof(*q));
    if (!q) {
        md_job_done(d, NULL, MD_API_INTERNAL, "out of memory");
        return;
    }
    *q = (struct qmp_job){ d, ok_state, ok_reason };
    md_qmpc_execute(d->mon, command, NULL, on_qmp_job, q);
}

/* ---- reattach ---- */

static void on_reattach_status(void *opaque, json_object *ret, const char *error)
{
    struct md_domain *d = opaque;
    json_object *st = NULL;
    const char *s;

    if (!ret) {
        md_log(MD_LOG_WARN, "domain %s: query-status: %s", d->name, error);
        return;
    }
    json_object_object_get_ex(ret, "status", &st);
    s = st ? json_object_get_string(st) : "";
    if (!strcmp(s, "running"))
        md_domain_set_state(d, MD_STATE_RUNNING,
                            d->state == MD_STATE_RUNNING ? d->reason : "unpaused");
    else if (!strcmp(s, "guest-panicked"))
        md_domain_set_state(d, MD_STATE_CRASHED, "panicked");
    else if (!strcmp(s, "shutdown"))
        md_domain_set_state(d, MD_STATE_IN_SHUTDOWN, "user");
    else
        md_domain_set_state(d, MD_STATE_PAUSED, d->state == MD_STATE_PAUSED ? d->reason : "user");
    md_status_write(d, NULL);
    md_log(MD_LOG_INFO, "domain %s: reattached to its emulator (pid %d), %s", d->name, (int)d->pid,
           md_state_name(d->state));
}

int md_run_reattach(struct md_domain *d, struct md_err *err)
{
    char exe[PATH_MAX], want[PATH_MAX], link[64], path[PATH_MAX];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/%d/exe", (int)d->pid);
    n = readlink(link, exe, sizeof(exe) - 1);
    if (n < 0 || proc_start_time(d->pid) != d->start_time)
        return md_err_set(err, -ESRCH, 0, "its emulator (pid %d) is gone", (int)d->pid);
    exe[n] = '\0';
    if (!realpath(d->drv->cfg.emulator, want) || strcmp(exe, want) != 0)
        return md_err_set(err, -ESRCH, 0, "pid %d is %s, not the emulator", (int)d->pid, exe);
    d->our_child = false;
    if (watch_exit(d, err) < 0)
        return err ? err->code : -EIO;
    if (run_file(d, "qmp", path, sizeof(path)) == 0)
        d->mon = md_qmpc_connect(d->drv->loop, path, &monitor_ops, d);
    return d->mon ? 0 : md_err_set(err, -ENOMEM, 0, "out of memory");
}

/* ---- the start job (here because emulator_gone() restarts with it) ---- */

static void job_start(struct md_domain *d, struct md_job *job)
{
    if (d->state != MD_STATE_SHUTOFF) {
        md_job_done(d, NULL, MD_API_OPERATION_INVALID, "domain %s is already %s", d->name,
                    md_state_name(d->state));
        return;
    }
    if (!d->live) {
        const struct md_domain_def *def = md_domain_next_def(d);
        char *xml;
        struct md_err err;
        struct md_parse_opts opts = { .no_schema = true, .emulator = d->drv->cfg.emulator };

        /* A private copy: the persistent one may be redefined meanwhile. */
        md_err_clear(&err);
        xml = def ? md_domain_def_format(def, &err) : NULL;
        d->live = xml ? md_domain_def_parse_string(xml, strlen(xml), &opts, &err) : NULL;
        free(xml);
        if (!d->live) {
            md_job_done(d, NULL, MD_API_INTERNAL, "domain %s: %s", d->name,
                        err.msg[0] ? err.msg : "no definition");
            return;
        }
    }
    (void)job; /* job->paused is read when the monitor is ready */
    run_start(d);
}

void md_run_job_start(struct md_domain *d, struct md_job *job)
{
    job_start(d, job);
}
