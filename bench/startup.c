/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * startup: how long kvmemu takes to start the smallest guest and to end with
 * it, and how much memory it uses meanwhile, against QEMU (-accel kvm
 * -M microvm) booting the same multiboot ELF in the same run.
 *
 *   startup-bin [--json] [--runs N] [--quick] --kvmemu PATH --qemu PATH GUEST.elf
 *
 * The guest (tests/guests/mb_tiny.S) writes one byte to COM1 and then 0 to
 * port 0xf4, where both emulators have an isa-debug-exit device, so both
 * exit with status (0 << 1) | 1 = 1. Each run is timed from just before
 * posix_spawn() to:
 *   - the guest's first serial byte, read from the emulator's stdout (its
 *     serial port is on stdio) through a pipe: exec -> first byte;
 *   - wait4() returning: exec -> exit, the whole life of the guest;
 * and wait4()'s rusage gives the process's peak RSS (ru_maxrss).
 * kvmemu's own --trace-boot timeline adds "first guest instruction" in ms
 * since its main() started; QEMU has no such hook.
 *
 * Runs alternate kvmemu, QEMU, kvmemu, ... after one untimed warm-up run of
 * each; medians are compared. Every run is checked: exit status 1 and 'K'
 * as the first serial byte, or the benchmark fails.
 *
 * Guest RAM touched: one more run of each without the exit device, so that
 * the guest halts after its byte and stays; 50 ms after the byte,
 * /proc/PID/smaps is read and the process killed. kvmemu's guest RAM is its
 * memfd mappings ("/memfd:ram-..."); the RSS of those is the guest RAM the
 * guest and the loader touched. QEMU's guest RAM is the anonymous mapping
 * at least as large as the RAM size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "startup"

#define RAM_MIB        128
#define GUEST_BYTE     'K'
#define EXPECT_STATUS  1 /* (0 << 1) | 1: the guest wrote 0 to port 0xf4 */
#define RUN_TIMEOUT_MS 30000
#define HOLD_SETTLE_MS 50
#define MAX_RUNS       200
#define OUT_MAX        4096
#define ERR_MAX        16384

#define TARGET_RATIO   10.0
#define TARGET_RSS_KIB 4096 /* kvmemu's RSS minus touched guest RAM */

extern char **environ;

enum emu { KVMEMU, QEMU, NR_EMUS };

static const char *const emu_name[NR_EMUS] = { "kvmemu", "qemu" };

struct options {
    bool json;
    unsigned runs;
    const char *path[NR_EMUS];
    const char *guest;
};

struct run {
    double first_byte_ms; /* exec -> first serial byte */
    double exit_ms;       /* exec -> wait4() */
    double first_insn_ms; /* kvmemu's timeline; < 0 if absent */
    long maxrss_kib;
};

/* What a held run (no exit device) finds in /proc/PID/smaps. */
struct hold {
    long rss_kib;
    long guest_ram_kib;
    long hwm_kib;
};

struct child {
    pid_t pid;
    int out, err;
    double t0;
    char outbuf[OUT_MAX];
    size_t outlen;
    char errbuf[ERR_MAX];
    size_t errlen;
    double first_byte_ms;
    int status;
    struct rusage ru;
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

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The command line of one emulator; `hold` leaves out the exit device. */
static void build_argv(const struct options *o, enum emu e, bool hold, const char **argv)
{
    unsigned n = 0;

    argv[n++] = o->path[e];
    if (e == KVMEMU) {
        argv[n++] = "--kernel";
        argv[n++] = o->guest;
        argv[n++] = "--memory";
        argv[n++] = "128M";
        argv[n++] = "--serial";
        argv[n++] = "stdio";
        argv[n++] = "--trace-boot";
        if (!hold)
            argv[n++] = "--debug-exit";
    } else {
        static const char *const q[] = { "-accel",     "kvm",     "-M",          "microvm",
                                         "-m",         "128M",    "-nodefaults", "-no-user-config",
                                         "-nographic", "-serial", "stdio",       "-kernel" };

        for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
            argv[n++] = q[i];
        argv[n++] = o->guest;
        if (!hold) {
            argv[n++] = "-device";
            argv[n++] = "isa-debug-exit,iobase=0xf4,iosize=1";
        }
    }
    argv[n] = NULL;
}

static int spawn(const struct options *o, enum emu e, bool hold, struct child *c)
{
    const char *argv[32];
    posix_spawn_file_actions_t fa;
    int out[2], errp[2], ret;

    build_argv(o, e, hold, argv);
    memset(c, 0, sizeof(*c));
    c->first_byte_ms = -1;
    if (pipe2(out, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(errp, O_CLOEXEC) < 0) {
        ret = -errno;
        close(out[0]);
        close(out[1]);
        return ret;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    c->t0 = now_ms();
    ret = posix_spawn(&c->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(errp[1]);
    if (ret) {
        err("%s: cannot run %s: %s", emu_name[e], argv[0], strerror(ret));
        close(out[0]);
        close(errp[0]);
        return -ret;
    }
    c->out = out[0];
    c->err = errp[0];
    return 0;
}

/* Reads what is ready on one pipe; returns false at EOF. */
static bool drain(int fd, char *buf, size_t cap, size_t *len, double *first, double t0)
{
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof(tmp));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (first && *first < 0)
        *first = now_ms() - t0;
    if (*len < cap - 1) {
        size_t k = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;

        memcpy(buf + *len, tmp, k);
        *len += k;
        buf[*len] = '\0';
    }
    return true;
}

/*
 * Reads both pipes until both are closed or, with stop_at_byte, until the
 * first serial byte; false if the deadline passed first.
 */
static bool pump(struct child *c, bool stop_at_byte, double deadline)
{
    bool out_open = true, err_open = true;

    while (out_open || err_open) {
        struct pollfd p[2] = { { out_open ? c->out : -1, POLLIN, 0 },
                               { err_open ? c->err : -1, POLLIN, 0 } };
        double left = deadline - now_ms();
        int n;

        if (stop_at_byte && c->first_byte_ms >= 0)
            return true;
        if (left <= 0)
            return false;
        n = poll(p, 2, (int)left + 1);
        if (n < 0 && errno != EINTR)
            return false;
        if (n <= 0)
            continue;
        if (p[0].revents)
            out_open =
                drain(c->out, c->outbuf, sizeof(c->outbuf), &c->outlen, &c->first_byte_ms, c->t0);
        if (p[1].revents)
            err_open = drain(c->err, c->errbuf, sizeof(c->errbuf), &c->errlen, NULL, c->t0);
    }
    return true;
}

static void reap(struct child *c)
{
    while (wait4(c->pid, &c->status, 0, &c->ru) < 0 && errno == EINTR)
        ;
    close(c->out);
    close(c->err);
}

/* "   6.728  first guest instruction" in kvmemu's --trace-boot timeline. */
static double timeline_ms(const char *text, const char *label)
{
    const char *hit = strstr(text, label), *line;

    if (!hit)
        return -1;
    for (line = hit; line > text && line[-1] != '\n'; line--)
        ;
    return strtod(line, NULL);
}

static void show_failure(enum emu e, const struct child *c, const char *what)
{
    err("%s did not run the guest as expected: %s", emu_name[e], what);
    if (WIFEXITED(c->status))
        fprintf(stderr, "  exit status %d (expected %d)\n", WEXITSTATUS(c->status), EXPECT_STATUS);
    else if (WIFSIGNALED(c->status))
        fprintf(stderr, "  killed by signal %d\n", WTERMSIG(c->status));
    fprintf(stderr, "  serial output (%zu bytes): '%.*s'\n", c->outlen, (int)c->outlen, c->outbuf);
    if (c->errlen)
        fprintf(stderr, "  its stderr:\n%s", c->errbuf);
}

static int run_once(const struct options *o, enum emu e, struct run *r)
{
    struct child c;
    bool done;

    if (spawn(o, e, false, &c) < 0)
        return -1;
    done = pump(&c, false, c.t0 + RUN_TIMEOUT_MS);
    if (!done)
        kill(c.pid, SIGKILL);
    reap(&c);
    r->exit_ms = now_ms() - c.t0;
    r->first_byte_ms = c.first_byte_ms;
    r->maxrss_kib = c.ru.ru_maxrss;
    r->first_insn_ms = e == KVMEMU ? timeline_ms(c.errbuf, "first guest instruction") : -1;
    if (!done) {
        show_failure(e, &c, "still running after 30 s (killed)");
        return -1;
    }
    if (c.outlen == 0 || c.outbuf[0] != GUEST_BYTE) {
        show_failure(e, &c, "the guest's byte 'K' did not appear on the serial port");
        return -1;
    }
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != EXPECT_STATUS) {
        show_failure(e, &c, "not the debug-exit status");
        return -1;
    }
    if (e == KVMEMU && r->first_insn_ms < 0) {
        show_failure(e, &c, "no 'first guest instruction' in its --trace-boot timeline");
        return -1;
    }
    return 0;
}

/* Sums the Rss of every mapping, and of the guest RAM mappings. */
static int read_smaps(pid_t pid, enum emu e, struct hold *h)
{
    char path[64], line[512];
    bool guest = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -errno;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long lo, hi;
        long kib;

        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            /* kvmemu: libkvmcore's memfd RAM; QEMU: its anonymous RAM block,
             * the one mapping at least as large as the guest's RAM. */
            if (e == KVMEMU)
                guest = strstr(line, "/memfd:") != NULL;
            else
                guest = hi - lo >= ((unsigned long long)RAM_MIB << 20) && !strchr(line, '/');
        } else if (sscanf(line, "Rss: %ld kB", &kib) == 1) {
            h->rss_kib += kib;
            if (guest)
                h->guest_ram_kib += kib;
        }
    }
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (f) {
        while (fgets(line, sizeof(line), f))
            sscanf(line, "VmHWM: %ld kB", &h->hwm_kib);
        fclose(f);
    }
    return 0;
}

static int hold_once(const struct options *o, enum emu e, struct hold *h)
{
    struct timespec settle = { 0, HOLD_SETTLE_MS * 1000000L };
    struct child c;
    int ret = -1;

    memset(h, 0, sizeof(*h));
    if (spawn(o, e, true, &c) < 0)
        return -1;
    if (pump(&c, true, c.t0 + RUN_TIMEOUT_MS) && c.first_byte_ms >= 0) {
        nanosleep(&settle, NULL);
        if (kill(c.pid, 0) == 0 && waitpid(c.pid, NULL, WNOHANG) == 0)
            ret = read_smaps(c.pid, e, h);
    }
    kill(c.pid, SIGKILL);
    reap(&c);
    if (ret < 0 || h->rss_kib == 0)
        show_failure(e, &c, "without the exit device, the guest did not stay up after its byte");
    return ret < 0 || h->rss_kib == 0 ? -1 : 0;
}

/* ---- statistics and output ---- */

struct summary {
    double median, min, max;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static struct summary summarize(const struct run *runs, unsigned n, size_t field)
{
    double v[MAX_RUNS];
    struct summary s;

    for (unsigned i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&runs[i] + field, sizeof(double));
    qsort(v, n, sizeof(v[0]), cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

static long median_rss(const struct run *runs, unsigned n)
{
    double v[MAX_RUNS];

    for (unsigned i = 0; i < n; i++)
        v[i] = (double)runs[i].maxrss_kib;
    qsort(v, n, sizeof(v[0]), cmp_double);
    return (long)(n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

struct results {
    struct summary byte[NR_EMUS], exit[NR_EMUS], insn;
    long rss[NR_EMUS];
    struct hold hold[NR_EMUS];
    long rest_kib; /* kvmemu's peak RSS minus its touched guest RAM */
};

static void print_run(unsigned i, enum emu e, const struct run *r)
{
    printf("%4u  %-6s  %10.2f  %10.2f  %9ld", i + 1, emu_name[e], r->first_byte_ms, r->exit_ms,
           r->maxrss_kib);
    if (r->first_insn_ms >= 0)
        printf("  %10.2f", r->first_insn_ms);
    printf("\n");
    fflush(stdout);
}

static void print_row(const char *what, const struct summary *k, const struct summary *q)
{
    printf("%-28s %8.2f (%.2f-%.2f)  %8.2f (%.2f-%.2f)  %6.1fx\n", what, k->median, k->min, k->max,
           q->median, q->min, q->max, k->median > 0 ? q->median / k->median : 0.0);
}

static void print_table(const struct options *o, const struct results *r)
{
    double ratio = r->exit[KVMEMU].median > 0 ? r->exit[QEMU].median / r->exit[KVMEMU].median : 0;

    printf("\nmedians of %u runs each (min-max)      kvmemu                   qemu  qemu/kvmemu\n",
           o->runs);
    print_row("exec -> first serial byte ms", &r->byte[KVMEMU], &r->byte[QEMU]);
    print_row("exec -> exit (power-off) ms", &r->exit[KVMEMU], &r->exit[QEMU]);
    printf("%-28s %8ld                  %8ld             %6.1fx\n", "peak RSS KiB", r->rss[KVMEMU],
           r->rss[QEMU], r->rss[KVMEMU] ? (double)r->rss[QEMU] / (double)r->rss[KVMEMU] : 0.0);
    printf("\nkvmemu's own timeline: first guest instruction %.2f ms after its main() "
           "(median; QEMU has no such hook)\n",
           r->insn.median);
    printf("\nwhile the guest halts after its byte (one run each, no exit device, "
           "/proc/PID/smaps):\n");
    for (int e = 0; e < NR_EMUS; e++)
        printf("  %-6s  RSS %6ld KiB, of which guest RAM %5ld KiB, the rest %6ld KiB\n",
               emu_name[e], r->hold[e].rss_kib, r->hold[e].guest_ram_kib,
               r->hold[e].rss_kib - r->hold[e].guest_ram_kib);
    printf("\nstartup ratio qemu/kvmemu (exec -> exit): %.1fx   target: %.0fx   %s\n", ratio,
           TARGET_RATIO, ratio >= TARGET_RATIO ? "PASS" : "BELOW");
    printf("kvmemu peak RSS minus touched guest RAM: %ld KiB   target: < %d KiB   %s\n",
           r->rest_kib, TARGET_RSS_KIB, r->rest_kib < TARGET_RSS_KIB ? "PASS" : "ABOVE");
}

static void print_json(const struct options *o, const struct results *r)
{
    double ratio = r->exit[KVMEMU].median > 0 ? r->exit[QEMU].median / r->exit[KVMEMU].median : 0;
    double bratio = r->byte[KVMEMU].median > 0 ? r->byte[QEMU].median / r->byte[KVMEMU].median : 0;

    printf("{\"kvmemu_ms\":%.3f,\"qemu_ms\":%.3f,\"ratio\":%.2f,"
           "\"kvmemu_rss_kib\":%ld,\"qemu_rss_kib\":%ld,"
           "\"kvmemu_first_byte_ms\":%.3f,\"qemu_first_byte_ms\":%.3f,\"first_byte_ratio\":%.2f,"
           "\"kvmemu_exit_ms\":%.3f,\"qemu_exit_ms\":%.3f,"
           "\"kvmemu_first_insn_ms\":%.3f,"
           "\"kvmemu_guest_ram_kib\":%ld,\"kvmemu_rss_minus_guest_ram_kib\":%ld,"
           "\"kvmemu_idle_rss_kib\":%ld,\"qemu_idle_rss_kib\":%ld,\"qemu_guest_ram_kib\":%ld,"
           "\"target_ratio\":%.1f,\"target_rss_minus_guest_ram_kib\":%d,"
           "\"pass_ratio\":%s,\"pass_rss\":%s,\"runs\":%u,\"ram_mib\":%d,"
           "\"metric\":\"kvmemu_ms/qemu_ms: exec to process exit after the guest's debug-exit "
           "write, median\"}\n",
           r->exit[KVMEMU].median, r->exit[QEMU].median, ratio, r->rss[KVMEMU], r->rss[QEMU],
           r->byte[KVMEMU].median, r->byte[QEMU].median, bratio, r->exit[KVMEMU].median,
           r->exit[QEMU].median, r->insn.median, r->hold[KVMEMU].guest_ram_kib, r->rest_kib,
           r->hold[KVMEMU].rss_kib, r->hold[QEMU].rss_kib, r->hold[QEMU].guest_ram_kib,
           TARGET_RATIO, TARGET_RSS_KIB, ratio >= TARGET_RATIO ? "true" : "false",
           r->rest_kib < TARGET_RSS_KIB ? "true" : "false", o->runs, RAM_MIB);
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: startup-bin [--json] [--runs N] [--quick] --kvmemu PATH --qemu PATH "
               "GUEST.elf\n"
               "Exec to the guest's first serial byte and to exit, and peak RSS: kvmemu against\n"
               "qemu-system-x86_64 -accel kvm -M microvm, booting the same multiboot ELF.\n"
               "  --runs N     timed runs of each, alternating (default 20)\n"
               "  --quick      3 runs of each, for a smoke test\n"
               "  --json       one JSON object on stdout instead of the table\n");
}

/* Returns 0, or the exit status to leave with. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "runs", required_argument, NULL, 'r' },
        { "quick", no_argument, NULL, 'q' },
        { "kvmemu", required_argument, NULL, 'k' },
        { "qemu", required_argument, NULL, 'Q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long runs = -1;
    bool quick = false;
    char *end;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j') {
            o->json = true;
        } else if (c == 'r') {
            errno = 0;
            runs = strtol(optarg, &end, 10);
            if (errno || *end || runs < 1 || runs > MAX_RUNS) {
                err("--runs: '%s' is not a whole number from 1 to %d", optarg, MAX_RUNS);
                return 2;
            }
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
    o->runs = runs > 0 ? (unsigned)runs : quick ? 3 : 20;
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

int main(int argc, char **argv)
{
    static struct run runs[NR_EMUS][MAX_RUNS];
    struct options o = { 0 };
    struct results r = { 0 };
    struct run warm;
    int ret = parse_options(argc, argv, &o);

    if (ret)
        return ret < 0 ? 0 : ret;
    if (!o.json) {
        printf("startup: exec to the guest's first serial byte and to exit, and peak RSS\n"
               "guest:  %s (multiboot ELF: one byte to COM1, 0 to port 0xf4)\n"
               "kvmemu: %s --kernel GUEST --memory 128M --serial stdio --debug-exit "
               "--trace-boot\n"
               "qemu:   %s -accel kvm -M microvm -m 128M -nodefaults -no-user-config "
               "-nographic -serial stdio\n"
               "          -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel GUEST\n"
               "%u runs each, alternating, after one untimed warm-up run of each\n\n",
               o.guest, o.path[KVMEMU], o.path[QEMU], o.runs);
        printf(" run  emu     first byte     exit ms   peak RSS  first insn\n"
               "                      ms                  KiB  (own, ms)\n");
    }
    for (int e = 0; e < NR_EMUS; e++)
        if (run_once(&o, (enum emu)e, &warm) < 0)
            return 1;
    for (unsigned i = 0; i < o.runs; i++) {
        for (int e = 0; e < NR_EMUS; e++) {
            if (run_once(&o, (enum emu)e, &runs[e][i]) < 0)
                return 1;
            if (!o.json)
                print_run(i, (enum emu)e, &runs[e][i]);
        }
    }
    for (int e = 0; e < NR_EMUS; e++) {
        if (hold_once(&o, (enum emu)e, &r.hold[e]) < 0)
            return 1;
        r.byte[e] = summarize(runs[e], o.runs, offsetof(struct run, first_byte_ms));
        r.exit[e] = summarize(runs[e], o.runs, offsetof(struct run, exit_ms));
        r.rss[e] = median_rss(runs[e], o.runs);
    }
    r.insn = summarize(runs[KVMEMU], o.runs, offsetof(struct run, first_insn_ms));
    r.rest_kib = r.rss[KVMEMU] - r.hold[KVMEMU].guest_ram_kib;
    if (o.json)
        print_json(&o, &r);
    else
        print_table(&o, &r);
    /* What every run was checked for, whatever the figures. */
    fflush(stdout);
    fprintf(stderr,
            PROG ": both emulators ran the guest %u times (plus a warm-up and a held run): exit "
                 "status %d after its debug-exit write and its byte '%c' on the serial port\n",
            o.runs, EXPECT_STATUS, GUEST_BYTE);
    return 0;
}
