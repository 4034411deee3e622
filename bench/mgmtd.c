/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mgmtd: what an admin waits for, mgmtd against libvirtd, over the same
 * number of defined domains, in the same run. bench/mgmtd (the shell
 * wrapper beside this file) sets both daemons up and runs this.
 *
 *   mgmtd-bin [--json] [--runs N] [--cycles N] [--quick] --domains N --prefix P
 *             --client PATH --socket PATH --mgmtd-pid PID
 *             --virsh PATH --uri URI --libvirtd-pid PID --kvmemu PATH --guest ELF
 *
 * Both daemons hold N persistent domains named P-0000, P-0001, ...; every
 * request is a new client process (fork and exec, as an admin types it):
 *   ours:     CLIENT -c SOCKET list --all | dominfo D | start D | destroy D
 *   libvirt:  VIRSH -c URI     list --all | dominfo D | start D | destroy D
 * timed from fork to the end of its output and its exit. CLIENT is vmctl,
 * or bench's one-call client until vmctl exists: both take virsh's
 * command line.
 *   - `list --all` and `dominfo P-<N/2>` (a shut-off domain): R runs each,
 *     alternating ours and libvirt's (which goes first alternates too);
 *   - then C cycles of `start P-0000` (its answer comes once the guest
 *     runs) and `destroy P-0000` (once the emulator has ended), again
 *     alternating; after each, an untimed `domstate` must say "running" or
 *     "shut off". Each cycle also starts kvmemu alone, as mgmtd launches it
 *     (/dev/kvm and a monitor socket inherited, --paused, its own session),
 *     sends "cont" and then SIGTERM: the floor under mgmtd's start and
 *     destroy.
 * Every output is checked: the list names all N domains, dominfo names
 * its domain. Figures are the median and 90th percentile of all samples.
 * The daemons' RSS (/proc/PID/status VmRSS, and the peak VmHWM) is read
 * after the list and dominfo runs. Any child that outlives its deadline
 * is killed and the benchmark fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "mgmtd-bench"

#define TARGET_LIST_RATIO 20.0
#define TARGET_START_MS   20.0
#define TARGET_RSS_KIB    (10 * 1024)
#define MAX_RUNS          1000
#define MAX_CYCLES        100
#define MAX_DOMAINS       100000
/* A request that takes longer than this has hung: the run fails. */
#define REQUEST_MS 60000

enum side { OURS, LIBVIRT, NR_SIDES };
enum op { LIST, INFO, START, DESTROY, NR_OPS };

static const char *const side_name[NR_SIDES] = { "mgmtd", "libvirtd" };
static const char *const op_name[NR_OPS] = { "list --all", "dominfo", "start -> running",
                                             "destroy -> shut off" };
static const char *const op_key[NR_OPS] = { "list", "info", "start", "destroy" };

struct options {
    bool json;
    unsigned runs, cycles, domains;
    const char *prefix;
    const char *tool[NR_SIDES]; /* the client, virsh */
    const char *conn[NR_SIDES]; /* its -c argument */
    pid_t daemon[NR_SIDES];
    bool vmctl;         /* the client is vmctl (else bench's own) */
    const char *kvmemu; /* for the floor: kvmemu alone */
    const char *guest;
};

struct samples {
    double v[MAX_RUNS];
    unsigned n;
};

struct mem {
    long rss_kib, hwm_kib;
};

static struct samples samples[NR_SIDES][NR_OPS];
/* kvmemu alone, without a daemon: exec to running, SIGTERM to reaped. */
static struct samples floor_start, floor_stop;

/* The client or kvmemu running now: killed with us, so that a request in
 * flight (a start) does not hold up the daemons' shutdown. */
static volatile sig_atomic_t current_child;

static void on_signal(int sig)
{
    if (current_child > 0)
        kill((pid_t)current_child, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- one request: a client process ---- */

struct output {
    char *buf;
    size_t len, cap;
};

/* Runs argv with stdin from /dev/null and stdout and stderr into out;
 * the time from fork to its exit, in ms, or -1 (said why) if it could not
 * run, failed, or outlived the deadline. */
static double run(char *const *argv, struct output *out)
{
    double t0, t1;
    int pfd[2], status = 0;
    bool timed_out = false;
    pid_t pid;

    out->len = 0;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        err("pipe: %s", strerror(errno));
        return -1;
    }
    t0 = now_ms();
    pid = fork();
    if (pid < 0) {
        err("fork: %s", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);

        if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
            _exit(126);
        execv(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    current_child = pid;
    close(pfd[1]);
    for (;;) {
        struct pollfd p = { .fd = pfd[0], .events = POLLIN };
        int left = (int)(t0 + REQUEST_MS - now_ms());
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) == 0) {
            timed_out = true;
            break;
        }
        if (out->cap - out->len < 65536) {
            char *b = realloc(out->buf, out->cap * 2 + 65536);

            if (!b) {
                err("out of memory");
                timed_out = true;
                break;
            }
            out->buf = b;
            out->cap = out->cap * 2 + 65536;
        }
        n = read(pfd[0], out->buf + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out->len += (size_t)n;
    }
    close(pfd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    current_child = 0;
    t1 = now_ms();
    if (out->buf)
        out->buf[out->len] = '\0';
    if (timed_out) {
        err("%s %s: no answer within %d ms: killed", argv[0], argv[3], REQUEST_MS);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        err("%s %s failed (wait status 0x%x): %.2000s", argv[0], argv[3], status,
            out->buf ? out->buf : "");
        return -1;
    }
    return t1 - t0;
}

static unsigned count(const char *hay, const char *needle)
{
    unsigned n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* One timed request of side s; the output checked. */
static int request(const struct options *o, enum side s, enum op op, const char *dom,
                   struct output *out)
{
    static const char *const verb[NR_OPS] = { "list", "dominfo", "start", "destroy" };
    char *argv[] = { (char *)o->tool[s],
                     "-c",
                     (char *)o->conn[s],
                     (char *)verb[op],
                     op == LIST ? "--all" : (char *)dom,
                     NULL };
    double ms = run(argv, out);
    char last[128], any[96];

    if (ms < 0)
        return -1;
    if (op == LIST) {
        /* Every domain once: P-0000 ... P-<N-1>, each on its line. */
        snprintf(last, sizeof(last), " %s-%04u ", o->prefix, o->domains - 1);
        snprintf(any, sizeof(any), " %s-", o->prefix);
        if (!strstr(out->buf, last) || count(out->buf, any) != o->domains) {
            err("%s's list --all does not show the %u domains:\n%.2000s", side_name[s], o->domains,
                out->buf);
            return -1;
        }
    } else if (op == INFO && !strstr(out->buf, dom)) {
        err("%s's dominfo %s does not name it:\n%.2000s", side_name[s], dom, out->buf);
        return -1;
    }
    if (samples[s][op].n < MAX_RUNS)
        samples[s][op].v[samples[s][op].n++] = ms;
    return 0;
}

/* Untimed: the domain's state as the client says it. */
static int state_is(const struct options *o, enum side s, const char *dom, const char *want,
                    struct output *out)
{
    char *argv[] = { (char *)o->tool[s], "-c", (char *)o->conn[s], "domstate", (char *)dom, NULL };

    if (run(argv, out) < 0)
        return -1;
    if (!strstr(out->buf, want)) {
        err("%s: %s is not %s: %s", side_name[s], dom, want, out->buf);
        return -1;
    }
    return 0;
}

/* ---- the floor: kvmemu alone ---- */

/* One line from the monitor into buf (NUL-terminated), by the deadline. */
static int qmp_line(int fd, char *buf, size_t len, double deadline)
{
    size_t n = 0;

    while (n + 1 < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int left = (int)(deadline - now_ms());
        ssize_t r;

        if (left <= 0 || poll(&p, 1, left) == 0)
            return -1;
        r = read(fd, buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
    return 0;
}

static int qmp_command(int fd, const char *cmd, double deadline)
{
    char line[4096];

    if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
        return -1;
    /* Events may come first. */
    do {
        if (qmp_line(fd, line, sizeof(line), deadline) < 0)
            return -1;
    } while (!strstr(line, "\"return\""));
    return 0;
}

/* Waits for pid until the deadline; true if it was reaped. */
static bool reap(pid_t pid, double deadline)
{
    struct timespec tick = { 0, 100000 };

    while (now_ms() < deadline) {
        pid_t r = waitpid(pid, NULL, WNOHANG);

        if (r == pid || (r < 0 && errno != EINTR)) {
            current_child = 0;
            return true;
        }
        nanosleep(&tick, NULL);
    }
    return false;
}

/* kvmemu launched as mgmtd launches it (/dev/kvm and a connected monitor
 * socket inherited, --paused, a session of its own: with the scheduler's
 * autogroups, which Debian's kernels enable, a new session is a new
 * scheduling group, and what that costs under load belongs in the floor),
 * and "cont" through its monitor: the time from fork to cont's answer;
 * then SIGTERM to its end, reaped. */
static int floor_cycle(const struct options *o)
{
    char line[4096];
    int sv[2], kvm;
    double t0, t1, deadline;
    pid_t pid;

    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        err("/dev/kvm or socketpair: %s", strerror(errno));
        if (kvm >= 0)
            close(kvm);
        return -1;
    }
    t0 = now_ms();
    deadline = t0 + REQUEST_MS;
    pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        /* Above 4 first, so that 3 and 4 do not overwrite each other. */
        int k = fcntl(kvm, F_DUPFD, 10), m = fcntl(sv[1], F_DUPFD, 10);

        if (null < 0 || k < 0 || m < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
            dup2(null, 2) < 0 || dup2(k, 3) < 0 || dup2(m, 4) < 0 || setsid() < 0)
            _exit(126);
        execl(o->kvmemu, o->kvmemu, "--name", "floor", "--memory", "64M", "--smp", "1", "--kernel",
              o->guest, "--kvm-fd", "3", "--monitor", "fd=4", "--paused", "--serial", "none",
              (char *)NULL);
        _exit(127);
    }
    current_child = pid;
    close(kvm);
    close(sv[1]);
    if (pid < 0) {
        err("fork: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    if (qmp_line(sv[0], line, sizeof(line), deadline) < 0 ||
        qmp_command(sv[0], "{\"execute\":\"qmp_capabilities\"}\n", deadline) < 0 ||
        qmp_command(sv[0], "{\"execute\":\"cont\"}\n", deadline) < 0) {
        err("kvmemu alone (%s --kernel %s) did not answer on its monitor", o->kvmemu, o->guest);
        kill(pid, SIGKILL);
        reap(pid, now_ms() + 5000);
        close(sv[0]);
        return -1;
    }
    t1 = now_ms();
    kill(pid, SIGTERM);
    if (!reap(pid, t1 + 10000)) {
        err("kvmemu alone still runs 10 s after SIGTERM: killed");
        kill(pid, SIGKILL);
        reap(pid, now_ms() + 5000);
        close(sv[0]);
        return -1;
    }
    floor_start.v[floor_start.n++] = t1 - t0;
    floor_stop.v[floor_stop.n++] = now_ms() - t1;
    close(sv[0]);
    return 0;
}

static int read_mem(pid_t pid, struct mem *m)
{
    char path[64], line[256];
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f) {
        err("%s: %s (did the daemon die?)", path, strerror(errno));
        return -1;
    }
    m->rss_kib = m->hwm_kib = -1;
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmRSS:", 6))
            m->rss_kib = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "VmHWM:", 6))
            m->hwm_kib = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return m->rss_kib < 0 ? -1 : 0;
}

static int measure(const struct options *o, struct mem *mem)
{
    struct output out = { 0 };
    char info_dom[128], run_dom[128];
    int ret = -1;

    snprintf(info_dom, sizeof(info_dom), "%s-%04u", o->prefix, o->domains / 2);
    snprintf(run_dom, sizeof(run_dom), "%s-%04u", o->prefix, 0);
    /* Untimed warm-up: page cache, libvirtd's first connection. */
    for (int s = 0; s < NR_SIDES; s++)
        if (request(o, s, LIST, NULL, &out) < 0 || request(o, s, INFO, info_dom, &out) < 0 ||
            state_is(o, s, run_dom, "shut off", &out) < 0)
            goto out;
    for (int s = 0; s < NR_SIDES; s++)
        for (int op = 0; op < NR_OPS; op++)
            samples[s][op].n = 0;
    for (unsigned i = 0; i < o->runs; i++)
        for (int k = 0; k < NR_SIDES; k++) {
            enum side s = (enum side)((i + (unsigned)k) % NR_SIDES);

            if (request(o, s, LIST, NULL, &out) < 0 || request(o, s, INFO, info_dom, &out) < 0)
                goto out;
        }
    for (int s = 0; s < NR_SIDES; s++)
        if (read_mem(o->daemon[s], &mem[s]) < 0)
            goto out;
    if (floor_cycle(o) < 0)
        goto out;
    floor_start.n = floor_stop.n = 0;
    for (unsigned i = 0; i < o->cycles; i++)
        for (int k = 0; k < NR_SIDES; k++) {
            enum side s = (enum side)((i + (unsigned)k) % NR_SIDES);

            if (k == 0 && floor_cycle(o) < 0)
                goto out;
            if (request(o, s, START, run_dom, &out) < 0 ||
                state_is(o, s, run_dom, "running", &out) < 0 ||
                request(o, s, DESTROY, run_dom, &out) < 0 ||
                state_is(o, s, run_dom, "shut off", &out) < 0)
                goto out;
        }
    ret = 0;
out:
    free(out.buf);
    return ret;
}

/* ---- statistics and output ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The p-th percentile (0-100) of n values, sorted in place; nearest rank. */
static double percentile(double *v, unsigned n, double p)
{
    unsigned k;

    if (!n)
        return 0;
    qsort(v, n, sizeof(v[0]), cmp_double);
    if (p == 50)
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    k = (unsigned)(p / 100 * n + 0.999999);
    return v[k ? k - 1 : 0];
}

struct summary {
    double p50[NR_SIDES][NR_OPS], p90[NR_SIDES][NR_OPS];
    double ratio[NR_OPS]; /* libvirt / ours, medians */
    double floor_start, floor_stop;
    double load[2]; /* the 1-minute load average before and after */
};

static double loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "re");
    double l = -1;

    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static void summarize(struct summary *s)
{
    s->floor_start = percentile(floor_start.v, floor_start.n, 50);
    s->floor_stop = percentile(floor_stop.v, floor_stop.n, 50);
    for (int e = 0; e < NR_SIDES; e++)
        for (int op = 0; op < NR_OPS; op++) {
            s->p50[e][op] = percentile(samples[e][op].v, samples[e][op].n, 50);
            s->p90[e][op] = percentile(samples[e][op].v, samples[e][op].n, 90);
        }
    for (int op = 0; op < NR_OPS; op++)
        s->ratio[op] = s->p50[OURS][op] > 0 ? s->p50[LIBVIRT][op] / s->p50[OURS][op] : 0;
}

static const char *verdict(bool ok)
{
    return ok ? "MET" : "MISSED";
}

static void print_table(const struct options *o, const struct summary *s, const struct mem *m)
{
    printf("\n%u defined domains; one client process per request: %s -c SOCKET / virsh -c URI\n",
           o->domains, o->vmctl ? "vmctl" : "mgmtd-call");
    printf("%-30s %12s %12s %16s\n", "", "mgmtd", "libvirtd", "libvirtd/mgmtd");
    for (int op = 0; op < NR_OPS; op++) {
        printf("%-22s ms, median %12.2f %12.2f %15.1fx\n", op_name[op], s->p50[OURS][op],
               s->p50[LIBVIRT][op], s->ratio[op]);
        printf("%-22s ms, p90    %12.2f %12.2f\n", "", s->p90[OURS][op], s->p90[LIBVIRT][op]);
    }
    printf("%-30s %12.2f %12s\n", "  kvmemu alone: exec -> running", s->floor_start, "");
    printf("%-30s %12.2f %12s\n", "  kvmemu alone: SIGTERM -> reaped", s->floor_stop, "");
    printf("%-30s %12.1f %12.1f %15.1fx\n", "daemon RSS, MiB", m[OURS].rss_kib / 1024.0,
           m[LIBVIRT].rss_kib / 1024.0, (double)m[LIBVIRT].rss_kib / (double)m[OURS].rss_kib);
    printf("%-30s %12.1f %12.1f\n", "daemon peak RSS, MiB", m[OURS].hwm_kib / 1024.0,
           m[LIBVIRT].hwm_kib / 1024.0);
    printf("\ntargets: list --all %.0fx faster than libvirtd: %.1fx %s\n", TARGET_LIST_RATIO,
           s->ratio[LIST], verdict(s->ratio[LIST] >= TARGET_LIST_RATIO));
    printf("         start -> running under %.0f ms: %.2f ms %s\n", TARGET_START_MS,
           s->p50[OURS][START], verdict(s->p50[OURS][START] < TARGET_START_MS));
    printf("         mgmtd's RSS with %u definitions under %d MiB: %.1f MiB %s\n", o->domains,
           TARGET_RSS_KIB / 1024, m[OURS].rss_kib / 1024.0,
           verdict(m[OURS].rss_kib < TARGET_RSS_KIB));
    printf("(%u runs of list and dominfo, %u start/destroy cycles, alternating; load average "
           "%.1f before, %.1f after)\n",
           o->runs, o->cycles, s->load[0], s->load[1]);
}

static void print_json(const struct options *o, const struct summary *s, const struct mem *m)
{
    printf("{\"domains\":%u,\"client\":\"%s\",\"runs\":%u,\"cycles\":%u", o->domains,
           o->vmctl ? "vmctl" : "mgmtd-call", o->runs, o->cycles);
    for (int op = 0; op < NR_OPS; op++)
        printf(",\"%s_ms_median\":%.3f,\"%s_ms_p90\":%.3f,\"libvirt_%s_ms_median\":%.3f,"
               "\"libvirt_%s_ms_p90\":%.3f",
               op_key[op], s->p50[OURS][op], op_key[op], s->p90[OURS][op], op_key[op],
               s->p50[LIBVIRT][op], op_key[op], s->p90[LIBVIRT][op]);
    printf(",\"ratio\":%.2f,\"info_ratio\":%.2f,\"start_ratio\":%.2f,\"destroy_ratio\":%.2f",
           s->ratio[LIST], s->ratio[INFO], s->ratio[START], s->ratio[DESTROY]);
    printf(",\"kvmemu_alone_start_ms_median\":%.3f,\"kvmemu_alone_stop_ms_median\":%.3f",
           s->floor_start, s->floor_stop);
    printf(",\"loadavg_before\":%.2f,\"loadavg_after\":%.2f", s->load[0], s->load[1]);
    printf(",\"mgmtd_rss_kib\":%ld,\"mgmtd_peak_rss_kib\":%ld,\"libvirtd_rss_kib\":%ld,"
           "\"libvirtd_peak_rss_kib\":%ld",
           m[OURS].rss_kib, m[OURS].hwm_kib, m[LIBVIRT].rss_kib, m[LIBVIRT].hwm_kib);
    printf(",\"target_ratio\":%.0f,\"pass_ratio\":%s,\"target_start_ms\":%.0f,\"pass_start\":%s,"
           "\"target_rss_kib\":%d,\"pass_rss\":%s",
           TARGET_LIST_RATIO, s->ratio[LIST] >= TARGET_LIST_RATIO ? "true" : "false",
           TARGET_START_MS, s->p50[OURS][START] < TARGET_START_MS ? "true" : "false",
           TARGET_RSS_KIB, m[OURS].rss_kib < TARGET_RSS_KIB ? "true" : "false");
    printf(",\"metric\":\"whole-process latency of one client per request (fork to exit), "
           "median of alternating runs; ratio = libvirt/ours for list --all\"}\n");
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mgmtd-bin [--json] [--runs N] [--cycles N] [--quick] --domains N --prefix P\n"
            "                 --client PATH [--vmctl] --socket PATH --mgmtd-pid PID\n"
            "                 --virsh PATH --uri URI --libvirtd-pid PID --kvmemu PATH --guest ELF\n"
            "Whole-process latency of list --all, dominfo, start and destroy, one client\n"
            "process per request, mgmtd against libvirtd over the same N domains P-0000...\n"
            "  --runs N     list and dominfo runs of each side (default 30)\n"
            "  --cycles N   start/destroy cycles of each side (default 10)\n"
            "  --quick      5 runs and 2 cycles, for a smoke test\n"
            "  --vmctl      the client is vmctl (for the output's label)\n"
            "  --kvmemu, --guest  kvmemu and the domains' kernel, for the floor: kvmemu\n"
            "               started and stopped alone, as mgmtd does it\n"
            "  --json       one JSON object on stdout instead of the table\n");
}

static int parse_uint(const char *opt, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long n;

    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || end == v || n < lo || n > hi) {
        err("--%s: '%s' is not a number from %u to %u", opt, v, lo, hi);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* Returns 0, or the exit status to leave with (-1: 0 after --help). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "runs", required_argument, NULL, 'r' },
        { "cycles", required_argument, NULL, 'y' },
        { "quick", no_argument, NULL, 'q' },
        { "domains", required_argument, NULL, 'n' },
        { "prefix", required_argument, NULL, 'p' },
        { "client", required_argument, NULL, 'c' },
        { "vmctl", no_argument, NULL, 'V' },
        { "socket", required_argument, NULL, 's' },
        { "mgmtd-pid", required_argument, NULL, 'm' },
        { "virsh", required_argument, NULL, 'v' },
        { "uri", required_argument, NULL, 'u' },
        { "libvirtd-pid", required_argument, NULL, 'l' },
        { "kvmemu", required_argument, NULL, 'k' },
        { "guest", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned runs = 0, cycles = 0, pid;
    bool quick = false;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->json = true;
            break;
        case 'r':
            if (parse_uint("runs", optarg, 1, MAX_RUNS, &runs) < 0)
                return 2;
            break;
        case 'y':
            if (parse_uint("cycles", optarg, 1, MAX_CYCLES, &cycles) < 0)
                return 2;
            break;
        case 'q':
            quick = true;
            break;
        case 'n':
            if (parse_uint("domains", optarg, 2, MAX_DOMAINS, &o->domains) < 0)
                return 2;
            break;
        case 'p':
            o->prefix = optarg;
            break;
        case 'c':
            o->tool[OURS] = optarg;
            break;
        case 'V':
            o->vmctl = true;
            break;
        case 's':
            o->conn[OURS] = optarg;
            break;
        case 'v':
            o->tool[LIBVIRT] = optarg;
            break;
        case 'u':
            o->conn[LIBVIRT] = optarg;
            break;
        case 'k':
            o->kvmemu = optarg;
            break;
        case 'g':
            o->guest = optarg;
            break;
        case 'm':
        case 'l':
            if (parse_uint(c == 'm' ? "mgmtd-pid" : "libvirtd-pid", optarg, 1, 1u << 30, &pid) < 0)
                return 2;
            o->daemon[c == 'm' ? OURS : LIBVIRT] = (pid_t)pid;
            break;
        default:
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? -1 : 2;
        }
    }
    if (optind != argc || !o->domains || !o->prefix || strlen(o->prefix) > 64 || !o->kvmemu ||
        !o->guest) {
        usage(stderr);
        return 2;
    }
    for (int s = 0; s < NR_SIDES; s++) {
        if (!o->tool[s] || !o->conn[s] || !o->daemon[s]) {
            usage(stderr);
            return 2;
        }
        if (access(o->tool[s], X_OK) != 0) {
            err("%s: %s", o->tool[s], strerror(errno));
            return 1;
        }
    }
    o->runs = runs ? runs : quick ? 5 : 30;
    o->cycles = cycles ? cycles : quick ? 2 : 10;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = { 0 };
    struct mem mem[NR_SIDES];
    struct summary s;
    int ret = parse_options(argc, argv, &o);

    if (ret)
        return ret < 0 ? 0 : ret;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    s.load[0] = loadavg();
    if (measure(&o, mem) < 0)
        return 1;
    summarize(&s);
    s.load[1] = loadavg();
    if (o.json)
        print_json(&o, &s, mem);
    else
        print_table(&o, &s, mem);
    return 0;
}
