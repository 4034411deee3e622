/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * monitor: how fast kvmemu's QMP monitor answers, against QEMU's QMP, with
 * the same guest in the same run.
 *
 *   monitor-bin [--json] [--rounds N] [--seconds S] [--pairs N] [--quick]
 *               --kvmemu PATH --qemu PATH GUEST.elf
 *
 * Both emulators boot GUEST (tests/guests/mb_tiny: one byte to COM1, then
 * it halts, as there is no exit device) with 128 MiB and a QMP socket:
 *   kvmemu --kernel GUEST --memory 128M --serial none --monitor unix:SOCK
 *   qemu -accel kvm -M microvm -m 128M -nodefaults -no-user-config
 *        -nographic -serial none -kernel GUEST -qmp unix:SOCK,server=on,wait=off
 * and one client (tests/qmp/qmp_client) negotiates with each. Then, in
 * rounds that alternate kvmemu, QEMU, kvmemu, ... (after an untimed
 * warm-up of each):
 *   - query-status round trips on one connection for S seconds: send the
 *     request, read and parse the reply, send the next; round trips per
 *     second;
 *   - N stop/cont pairs: the time from sending stop to its reply (which
 *     both emulators give once no vCPU runs guest code), and the same for
 *     cont; the STOP and RESUME events are then awaited, untimed.
 * Round trips per second are the median over rounds; the latencies are the
 * median and 90th percentile of every sample. Every reply is checked
 * (query-status says "running", stop and cont return {}, the events
 * arrive, query-status says "paused" after stop), or the benchmark fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmp_client.h"

#define PROG "monitor"

#define TARGET_RATIO   5.0
#define MAX_ROUNDS     100
#define MAX_PAIRS      1000
#define WARMUP_RT      2000
#define CONNECT_MS     20000
#define REPLY_MS       10000
#define QUIT_MS        5000
#define STATUS_REQUEST "{\"execute\":\"query-status\"}\r\n"

extern char **environ;

enum emu { KVMEMU, QEMU, NR_EMUS };

static const char *const emu_name[NR_EMUS] = { "kvmemu", "qemu" };

struct options {
    bool json;
    unsigned rounds, pairs;
    double seconds;
    const char *path[NR_EMUS];
    const char *guest;
};

struct emulator {
    enum emu e;
    pid_t pid;
    char sock[256];
    char log[256];
    struct qc c;
    bool connected;
};

struct samples {
    double *v;
    unsigned n;
};

struct results {
    double rt[NR_EMUS][MAX_ROUNDS];
    struct samples stop[NR_EMUS], cont[NR_EMUS];
};

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- the emulators ---- */

static void show_log(const struct emulator *m)
{
    char buf[4096];
    FILE *f = fopen(m->log, "r");
    size_t n;

    if (!f)
        return;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n)
        fprintf(stderr, "  %s's output:\n%s", emu_name[m->e], buf);
}

static int start(const struct options *o, const char *dir, enum emu e, struct emulator *m)
{
    const char *argv[40];
    char monitor[300];
    posix_spawn_file_actions_t fa;
    unsigned n = 0;
    int ret;

    memset(m, 0, sizeof(*m));
    m->e = e;
    m->c.fd = -1;
    snprintf(m->sock, sizeof(m->sock), "%s/%s.sock", dir, emu_name[e]);
    snprintf(m->log, sizeof(m->log), "%s/%s.log", dir, emu_name[e]);
    argv[n++] = o->path[e];
    if (e == KVMEMU) {
        static const char *const k[] = { "--memory", "128M", "--serial", "none", "--kernel" };

        for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
            argv[n++] = k[i];
        argv[n++] = o->guest;
        snprintf(monitor, sizeof(monitor), "unix:%s", m->sock);
        argv[n++] = "--monitor";
        argv[n++] = monitor;
    } else {
        static const char *const q[] = { "-accel",     "kvm",     "-M",          "microvm",
                                         "-m",         "128M",    "-nodefaults", "-no-user-config",
                                         "-nographic", "-serial", "none",        "-kernel" };

        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
            argv[n++] = q[i];
        argv[n++] = o->guest;
        snprintf(monitor, sizeof(monitor), "unix:%s,server=on,wait=off", m->sock);
        argv[n++] = "-qmp";
        argv[n++] = monitor;
    }
    argv[n] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, m->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    ret = posix_spawn(&m->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (ret) {
        err("%s: cannot run %s: %s", emu_name[e], argv[0], strerror(ret));
        m->pid = 0;
        return -1;
    }
    if (qc_connect_ready(&m->c, m->sock, CONNECT_MS) < 0) {
        err("%s: no QMP session on %s: %s", emu_name[e], m->sock, m->c.error);
        show_log(m);
        return -1;
    }
    m->connected = true;
    return 0;
}

/* quit, then the process's end; SIGKILL if it does not come. */
static void stop_emulator(struct emulator *m)
{
    double deadline = now_us() + QUIT_MS * 1e3;
    int status;

    if (m->connected) {
        json_object_put(qc_execute(&m->c, "quit", QUIT_MS));
        qc_close(&m->c);
        m->connected = false;
    }
    if (m->pid <= 0)
        return;
    while (waitpid(m->pid, &status, WNOHANG) == 0) {
        if (now_us() > deadline) {
            err("%s did not end %d s after quit: killed", emu_name[m->e], QUIT_MS / 1000);
            kill(m->pid, SIGKILL);
            waitpid(m->pid, &status, 0);
            break;
        }
        usleep(2000);
    }
    m->pid = 0;
}

/* ---- measuring ---- */

static int check_status(struct emulator *m, const char *want)
{
    json_object *r = qc_execute(&m->c, "query-status", REPLY_MS);
    const char *got = qc_str(r, "status");
    bool ok = r && !strcmp(got, want);

    if (!ok)
        err("%s: query-status says '%s', expected '%s'%s%s", emu_name[m->e], r ? got : "(no reply)",
            want, r ? "" : ": ", r ? "" : m->c.error);
    json_object_put(r);
    return ok ? 0 : -1;
}

/* query-status round trips for `seconds` (or `count` of them if > 0). */
static double round_trips(struct emulator *m, double seconds, unsigned count)
{
    const size_t len = strlen(STATUS_REQUEST);
    double t0 = now_us(), end = t0 + seconds * 1e6, t;
    unsigned long n = 0;

    do {
        /* The clock is read every 16 round trips: its cost stays out. */
        for (unsigned i = 0; i < 16; i++) {
            json_object *r, *ret;

            if (qc_send_raw(&m->c, STATUS_REQUEST, len) < 0 || !(r = qc_read(&m->c, REPLY_MS))) {
                err("%s: query-status round trip %lu: %s", emu_name[m->e], n, m->c.error);
                return -1;
            }
            if (!json_object_object_get_ex(r, "return", &ret) ||
                !json_object_object_get_ex(ret, "status", NULL)) {
                err("%s: query-status's reply is %s", emu_name[m->e],
                    json_object_to_json_string(r));
                json_object_put(r);
                return -1;
            }
            json_object_put(r);
            n++;
        }
        t = now_us();
    } while (count ? n < count : t < end);
    return (double)n / ((t - t0) / 1e6);
}

static bool returned_empty(json_object *r)
{
    json_object *ret;

    return r && json_object_object_get_ex(r, "return", &ret) &&
           json_object_is_type(ret, json_type_object) && json_object_object_length(ret) == 0;
}

/* One timed command; its event is awaited after the clock stops. */
static double timed(struct emulator *m, const char *req, const char *event)
{
    double t0 = now_us(), t;
    json_object *r = qc_cmd(&m->c, req, REPLY_MS), *ev;

    t = now_us() - t0;
    if (!returned_empty(r)) {
        err("%s: %s: %s", emu_name[m->e], req, r ? json_object_to_json_string(r) : m->c.error);
        json_object_put(r);
        return -1;
    }
    json_object_put(r);
    ev = qc_event(&m->c, event, REPLY_MS);
    if (!ev) {
        err("%s: no %s event after %s: %s", emu_name[m->e], event, req, m->c.error);
        return -1;
    }
    json_object_put(ev);
    return t;
}

static int stop_cont(struct emulator *m, unsigned pairs, struct samples *stop, struct samples *cont)
{
    for (unsigned i = 0; i < pairs; i++) {
        double s = timed(m, "{\"execute\":\"stop\"}", "STOP"), c;

        if (s < 0)
            return -1;
        /* Once per round: the VM really is paused in between. */
        if (i == 0 && check_status(m, "paused") < 0)
            return -1;
        c = timed(m, "{\"execute\":\"cont\"}", "RESUME");
        if (c < 0)
            return -1;
        stop->v[stop->n++] = s;
        cont->v[cont->n++] = c;
    }
    return check_status(m, "running");
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

    qsort(v, n, sizeof(v[0]), cmp_double);
    if (p == 50)
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    k = (unsigned)(p / 100 * n + 0.999999);
    return v[k ? k - 1 : 0];
}

struct summary {
    double rt[NR_EMUS], rt_min[NR_EMUS], rt_max[NR_EMUS];
    double stop50[NR_EMUS], stop90[NR_EMUS], cont50[NR_EMUS], cont90[NR_EMUS];
    double ratio;
};

static void summarize(const struct options *o, struct results *r, struct summary *s)
{
    for (int e = 0; e < NR_EMUS; e++) {
        double v[MAX_ROUNDS];

        memcpy(v, r->rt[e], sizeof(double) * o->rounds);
        s->rt[e] = percentile(v, o->rounds, 50);
        s->rt_min[e] = v[0];
        s->rt_max[e] = v[o->rounds - 1];
        s->stop50[e] = percentile(r->stop[e].v, r->stop[e].n, 50);
        s->stop90[e] = percentile(r->stop[e].v, r->stop[e].n, 90);
        s->cont50[e] = percentile(r->cont[e].v, r->cont[e].n, 50);
        s->cont90[e] = percentile(r->cont[e].v, r->cont[e].n, 90);
    }
    s->ratio = s->rt[QEMU] > 0 ? s->rt[KVMEMU] / s->rt[QEMU] : 0;
}

static void print_table(const struct options *o, const struct summary *s)
{
    /* The last column is how many times better kvmemu does: more round
     * trips, less latency. */
    printf("\n%-34s %14s %14s %9s\n", "", "kvmemu", "qemu", "kvmemu");
    printf("%-34s %14.0f %14.0f %8.2fx\n", "query-status round trips/s (median)", s->rt[KVMEMU],
           s->rt[QEMU], s->ratio);
    printf("%-34s %6.0f-%-7.0f %6.0f-%-7.0f\n", "  min-max over rounds", s->rt_min[KVMEMU],
           s->rt_max[KVMEMU], s->rt_min[QEMU], s->rt_max[QEMU]);
    printf("%-34s %14.1f %14.1f %8.2fx\n", "stop latency us, median", s->stop50[KVMEMU],
           s->stop50[QEMU], s->stop50[QEMU] / s->stop50[KVMEMU]);
    printf("%-34s %14.1f %14.1f %8.2fx\n", "stop latency us, p90", s->stop90[KVMEMU],
           s->stop90[QEMU], s->stop90[QEMU] / s->stop90[KVMEMU]);
    printf("%-34s %14.1f %14.1f %8.2fx\n", "cont latency us, median", s->cont50[KVMEMU],
           s->cont50[QEMU], s->cont50[QEMU] / s->cont50[KVMEMU]);
    printf("%-34s %14.1f %14.1f %8.2fx\n", "cont latency us, p90", s->cont90[KVMEMU],
           s->cont90[QEMU], s->cont90[QEMU] / s->cont90[KVMEMU]);
    printf("\nround trips kvmemu/qemu: %.2fx   target: %.0fx   %s\n", s->ratio, TARGET_RATIO,
           s->ratio >= TARGET_RATIO ? "PASS" : "BELOW");
    printf("(%u rounds of %.1f s each, alternating; %u stop/cont pairs per round)\n", o->rounds,
           o->seconds, o->pairs);
}

static void print_json(const struct options *o, const struct summary *s)
{
    printf("{\"kvmemu_rt_per_s\":%.0f,\"qemu_rt_per_s\":%.0f,\"ratio\":%.2f,"
           "\"kvmemu_stop_us_median\":%.1f,\"kvmemu_stop_us_p90\":%.1f,"
           "\"qemu_stop_us_median\":%.1f,\"qemu_stop_us_p90\":%.1f,"
           "\"kvmemu_cont_us_median\":%.1f,\"kvmemu_cont_us_p90\":%.1f,"
           "\"qemu_cont_us_median\":%.1f,\"qemu_cont_us_p90\":%.1f,"
           "\"target_ratio\":%.1f,\"pass_ratio\":%s,\"rounds\":%u,\"seconds_per_round\":%.2f,"
           "\"stop_cont_pairs_per_round\":%u,"
           "\"metric\":\"query-status round trips per second on one connection, median of "
           "alternating rounds; kvmemu/qemu\"}\n",
           s->rt[KVMEMU], s->rt[QEMU], s->ratio, s->stop50[KVMEMU], s->stop90[KVMEMU],
           s->stop50[QEMU], s->stop90[QEMU], s->cont50[KVMEMU], s->cont90[KVMEMU], s->cont50[QEMU],
           s->cont90[QEMU], TARGET_RATIO, s->ratio >= TARGET_RATIO ? "true" : "false", o->rounds,
           o->seconds, o->pairs);
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: monitor-bin [--json] [--rounds N] [--seconds S] [--pairs N] [--quick]\n"
               "                   --kvmemu PATH --qemu PATH GUEST.elf\n"
               "QMP query-status round trips per second and stop/cont latency: kvmemu's monitor\n"
               "against qemu-system-x86_64 -accel kvm -M microvm -qmp, the same guest.\n"
               "  --rounds N   alternating rounds of each (default 5)\n"
               "  --seconds S  of round trips per round (default 2)\n"
               "  --pairs N    stop/cont pairs per round (default 100)\n"
               "  --quick      3 rounds of 0.3 s and 10 pairs, for a smoke test\n"
               "  --json       one JSON object on stdout instead of the table\n");
}

static int parse_number(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(v, &end);
    if (errno || *end || end == v || *out < lo || *out > hi) {
        err("--%s: '%s' is not a number from %g to %g", opt, v, lo, hi);
        return -1;
    }
    return 0;
}

/* Returns 0, or the exit status to leave with (-1: 0 after --help). */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "rounds", required_argument, NULL, 'r' },
        { "seconds", required_argument, NULL, 's' },
        { "pairs", required_argument, NULL, 'p' },
        { "quick", no_argument, NULL, 'q' },
        { "kvmemu", required_argument, NULL, 'k' },
        { "qemu", required_argument, NULL, 'Q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double rounds = 0, seconds = 0, pairs = 0;
    bool quick = false;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j') {
            o->json = true;
        } else if (c == 'r') {
            if (parse_number("rounds", optarg, 1, MAX_ROUNDS, &rounds) < 0)
                return 2;
        } else if (c == 's') {
            if (parse_number("seconds", optarg, 0.01, 600, &seconds) < 0)
                return 2;
        } else if (c == 'p') {
            if (parse_number("pairs", optarg, 1, MAX_PAIRS, &pairs) < 0)
                return 2;
        } else if (c == 'q') {
            quick = true;
        } else if (c == 'k') {
            o->path[KVMEMU] = optarg;
        } else if (c == 'Q') {
            o->path[QEMU] = optarg;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? -1 : 2;
        }
    }
    if (optind != argc - 1 || !o->path[KVMEMU] || !o->path[QEMU]) {
        usage(stderr);
        return 2;
    }
    o->guest = argv[optind];
    o->rounds = rounds > 0 ? (unsigned)rounds : quick ? 3 : 5;
    o->seconds = seconds > 0 ? seconds : quick ? 0.3 : 2;
    o->pairs = pairs > 0 ? (unsigned)pairs : quick ? 10 : 100;
    for (int e = 0; e < NR_EMUS; e++) {
        if (access(o->path[e], X_OK) != 0) {
            err("%s: %s: %s%s", emu_name[e], o->path[e], strerror(errno),
                e == QEMU ? " (Debian's qemu-system-x86 package has it)" : "");
            return 1;
        }
    }
    if (access(o->guest, R_OK) != 0) {
        err("guest %s: %s", o->guest, strerror(errno));
        return 1;
    }
    return 0;
}

static int measure(const struct options *o, struct emulator *m, struct results *r)
{
    for (int e = 0; e < NR_EMUS; e++) {
        if (check_status(&m[e], "running") < 0 || round_trips(&m[e], 0, WARMUP_RT) < 0)
            return -1;
    }
    if (!o->json)
        printf("round  emu      query-status rt/s   stop us (median)   cont us (median)\n");
    for (unsigned i = 0; i < o->rounds; i++) {
        for (int e = 0; e < NR_EMUS; e++) {
            struct samples *st = &r->stop[e], *ct = &r->cont[e];
            unsigned first = st->n;
            double rt = round_trips(&m[e], o->seconds, 0);

            if (rt < 0 || stop_cont(&m[e], o->pairs, st, ct) < 0)
                return -1;
            r->rt[e][i] = rt;
            if (!o->json) {
                double s[MAX_PAIRS], c[MAX_PAIRS];

                memcpy(s, st->v + first, sizeof(double) * o->pairs);
                memcpy(c, ct->v + first, sizeof(double) * o->pairs);
                printf("%5u  %-6s %19.0f %18.1f %18.1f\n", i + 1, emu_name[e], rt,
                       percentile(s, o->pairs, 50), percentile(c, o->pairs, 50));
                fflush(stdout);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct results r;
    struct options o = { 0 };
    struct emulator m[NR_EMUS] = { { .pid = 0 } };
    struct summary s;
    char dir[] = "/tmp/kvmstack-bench-monitor-XXXXXX";
    int ret = parse_options(argc, argv, &o), status = 1;

    if (ret)
        return ret < 0 ? 0 : ret;
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(dir)) {
        err("cannot create a directory for the sockets: %s", strerror(errno));
        return 1;
    }
    for (int e = 0; e < NR_EMUS; e++) {
        r.stop[e].v = calloc((size_t)o.rounds * o.pairs, sizeof(double));
        r.cont[e].v = calloc((size_t)o.rounds * o.pairs, sizeof(double));
        if (!r.stop[e].v || !r.cont[e].v) {
            err("out of memory");
            return 1;
        }
    }
    if (!o.json)
        printf("monitor: QMP round trips and stop/cont latency, kvmemu against QEMU\n"
               "guest:  %s (multiboot: one byte to COM1, then hlt)\n"
               "kvmemu: %s --memory 128M --serial none --kernel GUEST --monitor unix:SOCK\n"
               "qemu:   %s -accel kvm -M microvm -m 128M -nodefaults -no-user-config\n"
               "          -nographic -serial none -kernel GUEST -qmp unix:SOCK,server=on,wait=off\n"
               "client: tests/qmp/qmp_client (one connection each, replies parsed with json-c)\n\n",
               o.guest, o.path[KVMEMU], o.path[QEMU]);
    if (start(&o, dir, KVMEMU, &m[KVMEMU]) == 0 && start(&o, dir, QEMU, &m[QEMU]) == 0 &&
        measure(&o, m, &r) == 0)
        status = 0;
    for (int e = 0; e < NR_EMUS; e++) {
        if (status && m[e].pid > 0)
            show_log(&m[e]);
        stop_emulator(&m[e]);
        unlink(m[e].sock);
        unlink(m[e].log);
    }
    rmdir(dir);
    if (status == 0) {
        summarize(&o, &r, &s);
        if (o.json)
            print_json(&o, &s);
        else
            print_table(&o, &s);
        fflush(stdout);
        fprintf(stderr,
                PROG ": both monitors answered every request as expected: %u rounds of "
                     "query-status and %u stop/cont pairs each, with their events\n",
                o.rounds, o.rounds * o.pairs);
    }
    for (int e = 0; e < NR_EMUS; e++) {
        free(r.stop[e].v);
        free(r.cont[e].v);
    }
    return status;
}
