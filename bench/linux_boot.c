/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux-boot: how long the project's Linux test guest (tests/linux/guest/)
 * takes to boot under kvmemu, and where the time goes; QEMU with TCG on
 * the same kernel and initramfs as the peer that runs here, and one try of
 * QEMU with KVM, reported for what it does.
 *
 *   linux-boot-bin [--json] [--runs N] [--no-qemu] [--no-qemu-kvm]
 *       [--smp N] [--memory SIZE] [--append-extra WORDS] [--kvmemu-arg ARG]...
 *       [--stop-at-marker]
 *       --kvmemu PATH --qemu PATH --kernel VMLINUX --initrd CPIO --cmdline CMDLINE
 *
 * Each run boots the guest with test=boot (its /init prints the
 * KVMSTACK-INIT marker, runs the empty boot check and powers off) and is
 * timed from just before posix_spawn(). The milestones are the serial
 * lines as they arrive (the kernel's console writes synchronously, so a
 * line arrives when it is printed), and for kvmemu its own --trace-boot
 * timeline: first guest instruction, first serial byte, /init's POST code
 * 0xa0, ACPI S5 power-off. boot_to_init_ms is exec to the KVMSTACK-INIT
 * line: /init has set up the system and is about to run a check or a
 * shell. Runs alternate kvmemu and QEMU (TCG); medians are reported.
 * cpu_ms is the emulator's CPU time (wait4's rusage, every thread): here
 * the guest's ring 0 is emulated on its vCPU threads, so this is the work
 * the boot took, which other load on the host's two cores inflates much
 * less than the wall-clock time (with --stop-at-marker it ends at the
 * marker).
 *
 * --kvmemu-arg adds devices (or anything) to kvmemu's command line, and
 * --stop-at-marker ends each run with SIGTERM at the marker instead of
 * waiting for the guest's power-off: both for measuring what a feature
 * costs (a kernel without ACPI cannot power off).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "linux-boot"

#define MAX_RUNS       50
#define RUN_TIMEOUT_MS 300000
#define KVM_TRY_MS     180000
#define OUT_MAX        (1 << 20)

extern char **environ;

#define MAX_EXTRA_ARGS 16

struct options {
    bool json, qemu, qemu_kvm, stop_at_marker;
    unsigned runs;
    const char *kvmemu_args[MAX_EXTRA_ARGS];
    unsigned nr_kvmemu_args;
    const char *kvmemu, *qemu_path, *kernel, *initrd, *cmdline, *smp, *memory, *extra;
};

/*
 * The phases, in boot order. Each ends at a milestone: a line on the
 * serial port ("serial") or an event of kvmemu's timeline ("timeline");
 * its length is from the previous milestone's time.
 */
enum ms_src { SERIAL, TIMELINE };

static const struct milestone {
    const char *phase; /* JSON key */
    const char *what;  /* the table's words */
    enum ms_src src;
    const char *needle;
} milestones[] = {
    { "vmm_start", "exec to the first guest instruction (kvmemu)", TIMELINE,
      "first guest instruction" },
    { "kernel_early", "early kernel: memory, ACPI tables, per-CPU areas, until the console", SERIAL,
      "printk: console [ttyS0] enabled" },
    { "smp_bringup", "scheduler, timers, APIC, the second vCPU", SERIAL, "smp: Brought up" },
    { "acpi_init", "ACPI interpreter (kvmemu's DSDT)", SERIAL, "ACPI: Interpreter enabled" },
    { "pci_virtio_net", "PCI enumeration, network stack, drivers", SERIAL, "Unpacking initramfs" },
    { "initramfs", "rest of the initcalls, initramfs unpacked", SERIAL,
      "Run /init as init process" },
    { "init_setup", "/init: busybox, mounts, acpid", SERIAL, "KVMSTACK-INIT" },
    { "poweroff", "the check, poweroff, kvmemu's exit", SERIAL, NULL /* the exit */ },
};
#define NR_MS (sizeof(milestones) / sizeof(milestones[0]))

struct run {
    double at[NR_MS]; /* ms since exec; < 0 if not seen */
    double init_ms;   /* exec -> KVMSTACK-INIT */
    double exit_ms;
    double post_ms; /* kvmemu: /init's POST code */
    double cpu_ms;  /* the emulator's user + system CPU time, all threads */
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

enum emu { KVMEMU, QEMU_TCG, QEMU_KVM };

static void build_argv(const struct options *o, enum emu e, const char *append, const char **argv)
{
    unsigned n = 0;

    if (e == KVMEMU) {
        argv[n++] = o->kvmemu;
        argv[n++] = "--kernel";
        argv[n++] = o->kernel;
        argv[n++] = "--initrd";
        argv[n++] = o->initrd;
        argv[n++] = "--append";
        argv[n++] = append;
        argv[n++] = "--smp";
        argv[n++] = o->smp;
        argv[n++] = "--memory";
        argv[n++] = o->memory;
        argv[n++] = "--serial";
        argv[n++] = "stdio";
        argv[n++] = "--trace-boot";
        for (unsigned i = 0; i < o->nr_kvmemu_args; i++)
            argv[n++] = o->kvmemu_args[i];
    } else {
        argv[n++] = o->qemu_path;
        argv[n++] = "-accel";
        argv[n++] = e == QEMU_KVM ? "kvm" : "tcg";
        argv[n++] = "-M";
        argv[n++] = "pc";
        argv[n++] = "-smp";
        argv[n++] = o->smp;
        argv[n++] = "-m";
        argv[n++] = o->memory;
        argv[n++] = "-nodefaults";
        argv[n++] = "-no-user-config";
        argv[n++] = "-display";
        argv[n++] = "none";
        argv[n++] = "-serial";
        argv[n++] = "stdio";
        argv[n++] = "-no-reboot";
        argv[n++] = "-kernel";
        argv[n++] = o->kernel;
        argv[n++] = "-initrd";
        argv[n++] = o->initrd;
        argv[n++] = "-append";
        argv[n++] = append;
    }
    argv[n] = NULL;
}

struct child {
    pid_t pid;
    int out, err;
    double t0;
    char *serial; /* the whole console, NUL-terminated */
    size_t len;
    char errbuf[65536];
    size_t errlen;
    int status;
};

static int spawn(const struct options *o, enum emu e, struct child *c)
{
    char append[2048];
    const char *argv[48];
    posix_spawn_file_actions_t fa;
    int out[2], errp[2], ret;

    snprintf(append, sizeof(append), "%s test=boot%s%s", o->cmdline, o->extra ? " " : "",
             o->extra ? o->extra : "");
    build_argv(o, e, append, argv);
    memset(c, 0, sizeof(*c));
    c->status = -1;
    c->serial = malloc(OUT_MAX);
    if (!c->serial)
        return -ENOMEM;
    c->serial[0] = '\0';
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        return -errno;
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
        err("cannot run %s: %s", argv[0], strerror(ret));
        return -ret;
    }
    c->out = out[0];
    c->err = errp[0];
    return 0;
}

/* Appends what one pipe has; false at its end. NULs and CRs are dropped. */
static bool drain(int fd, char *buf, size_t cap, size_t *len)
{
    char tmp[8192];
    ssize_t n = read(fd, tmp, sizeof(tmp));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    for (ssize_t i = 0; i < n; i++)
        if (tmp[i] && tmp[i] != '\r' && *len + 1 < cap)
            buf[(*len)++] = tmp[i];
    buf[*len] = '\0';
    return true;
}

/*
 * Runs the child to its exit, or until `stop` appears on its stderr
 * (QEMU's KVM internal error), or timeout_ms. Serial milestones are
 * stamped as they arrive. Returns 0, or -ETIMEDOUT.
 */
static int follow(struct child *c, struct run *r, const char *stop, bool stop_at_marker,
                  int timeout_ms)
{
    size_t scanned = 0;
    bool termed = false;
    int ret = 0;

    for (size_t i = 0; i < NR_MS; i++)
        r->at[i] = -1;
    while (c->out >= 0 || c->err >= 0) {
        struct pollfd p[2] = { { c->out, POLLIN, 0 }, { c->err, POLLIN, 0 } };
        double t = now_ms() - c->t0;
        const char *stopped = stop ? strstr(c->errbuf, stop) : NULL;

        /* The whole line of `stop` (QEMU's "Code=..." with the <byte>). */
        if (t > timeout_ms || (stopped && strchr(stopped, '\n'))) {
            kill(c->pid, SIGKILL);
            ret = t > timeout_ms ? -ETIMEDOUT : 0;
            break;
        }
        if (poll(p, 2, 50) <= 0)
            continue;
        t = now_ms() - c->t0;
        if (p[0].revents && !drain(c->out, c->serial, OUT_MAX, &c->len)) {
            close(c->out);
            c->out = -1;
        }
        if (p[1].revents && !drain(c->err, c->errbuf, sizeof(c->errbuf), &c->errlen)) {
            close(c->err);
            c->err = -1;
        }
        /* Stamp the milestones whose line is complete now. */
        for (size_t i = 0; i < NR_MS; i++) {
            const char *hit;

            if (milestones[i].src != SERIAL || !milestones[i].needle || r->at[i] >= 0)
                continue;
            hit = strstr(c->serial + (scanned > 200 ? scanned - 200 : 0), milestones[i].needle);
            if (hit && strchr(hit, '\n'))
                r->at[i] = t;
        }
        scanned = c->len;
        if (stop_at_marker && !termed && r->at[NR_MS - 2] >= 0) {
            kill(c->pid, SIGTERM); /* kvmemu ends the VM, status 0 */
            termed = true;
        }
    }
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0)
        close(c->err);
    {
        struct rusage ru;
        int st;

        wait4(c->pid, &st, 0, &ru);
        c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        r->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    }
    r->exit_ms = now_ms() - c->t0;
    return ret;
}

/* An event of kvmemu's --trace-boot output, ms since its start; < 0 if
 * absent. */
static double timeline_ms(const char *err_text, const char *label)
{
    const char *p = strstr(err_text, "boot timeline (ms since start):");

    while (p && (p = strchr(p, '\n'))) {
        double ms;
        int used = 0;

        p++;
        if (sscanf(p, " %lf %n", &ms, &used) != 1 || !used)
            break;
        if (!strncmp(p + used, label, strlen(label)))
            return ms;
    }
    return -1;
}

/* One boot; 0 if it reached the marker and exited 0. */
static int boot_once(const struct options *o, enum emu e, struct run *r)
{
    struct child c;
    int ret = spawn(o, e, &c);
    size_t init_idx = NR_MS - 2;

    if (ret < 0)
        return ret;
    ret = follow(&c, r, NULL, o->stop_at_marker && e == KVMEMU, RUN_TIMEOUT_MS);
    if (e == KVMEMU) {
        r->at[0] = timeline_ms(c.errbuf, "first guest instruction");
        r->post_ms = timeline_ms(c.errbuf, "POST 0xa0");
    } else {
        /* QEMU has no such timeline: from exec straight to the console. */
        r->at[0] = -1;
        r->post_ms = -1;
    }
    r->at[NR_MS - 1] = r->exit_ms;
    r->init_ms = r->at[init_idx];
    if (ret < 0 || r->init_ms < 0 || c.status != 0) {
        err("%s: the guest %s (status %d); the console ended with: %.400s; stderr: %.600s",
            e == KVMEMU ? "kvmemu" : "qemu (tcg)",
            ret < 0 ? "did not finish in time" : "did not boot to its marker and power off",
            c.status, c.len > 400 ? c.serial + c.len - 400 : c.serial, c.errbuf);
        ret = -EIO;
    }
    free(c.serial);
    return ret;
}

/* QEMU with KVM on this host: what stops it (see shared/MACHINE.md). */
static void try_qemu_kvm(const struct options *o, char *out, size_t cap, double *stopped_ms)
{
    struct child c;
    struct run r;
    const char *ie, *code;

    *stopped_ms = -1;
    if (spawn(o, QEMU_KVM, &c) < 0) {
        snprintf(out, cap, "could not be started");
        return;
    }
    follow(&c, &r, "Code=", false, KVM_TRY_MS);
    ie = strstr(c.errbuf, "KVM internal error");
    code = strstr(c.errbuf, "Code=");
    if (r.at[NR_MS - 2] >= 0)
        snprintf(out, cap, "booted to /init in %.0f ms", r.at[NR_MS - 2]);
    else if (ie && code) {
        const char *lt = strchr(code, '<'), *rip = strstr(c.errbuf, "RIP=");

        *stopped_ms = r.exit_ms;
        snprintf(out, cap, "stopped after %.1f s: %.*s (%s) at %.*s, the instruction %.*s%s",
                 r.exit_ms / 1e3, (int)strcspn(ie, "\n"), ie,
                 strstr(c.errbuf, "emulation failure") ? "emulation failure" : "see its stderr",
                 rip ? (int)strcspn(rip, " \n") : 1, rip ? rip : "?",
                 lt ? (int)strcspn(lt, " \n") : 1, lt ? lt : "?",
                 lt && !strncmp(lt, "<cc>", 4) ? " (int3)" : "");
    } else
        snprintf(out, cap, "neither booted nor stopped within %d s (status %d): %.200s",
                 KVM_TRY_MS / 1000, c.status, c.errbuf);
    free(c.serial);
}

/* The 1-minute load average: the emulated guest shares the host's two
 * cores with whatever else runs, so the figures say how busy it was. */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "re");

    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The median of milestone i's phase length over the runs; < 0 if unknown. */
static double phase_median(const struct run *runs, unsigned n, size_t i)
{
    double v[MAX_RUNS];
    unsigned k = 0;

    for (unsigned j = 0; j < n; j++) {
        double prev = 0, end = runs[j].at[i];

        for (size_t p = i; p-- > 0;)
            if (runs[j].at[p] >= 0) {
                prev = runs[j].at[p];
                break;
            }
        if (end >= 0)
            v[k++] = end - prev;
    }
    return k ? median(v, k) : -1;
}

static double field_median(const struct run *runs, unsigned n, size_t off)
{
    double v[MAX_RUNS];

    for (unsigned j = 0; j < n; j++)
        v[j] = *(const double *)((const char *)&runs[j] + off);
    return median(v, n);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: linux-boot-bin [--json] [--runs N] [--no-qemu] [--no-qemu-kvm] [--smp N]\n"
        "       [--memory SIZE] [--append-extra WORDS] [--kvmemu-arg ARG]... [--stop-at-marker]\n"
        "       --kvmemu PATH --qemu PATH\n"
        "       --kernel VMLINUX --initrd CPIO --cmdline CMDLINE\n");
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "runs", required_argument, NULL, 'r' },
        { "no-qemu", no_argument, NULL, 'Q' },
        { "no-qemu-kvm", no_argument, NULL, 'K' },
        { "smp", required_argument, NULL, 's' },
        { "memory", required_argument, NULL, 'm' },
        { "append-extra", required_argument, NULL, 'a' },
        { "kvmemu-arg", required_argument, NULL, 'A' },
        { "stop-at-marker", no_argument, NULL, 'S' },
        { "kvmemu", required_argument, NULL, 'e' },
        { "qemu", required_argument, NULL, 'q' },
        { "kernel", required_argument, NULL, 'k' },
        { "initrd", required_argument, NULL, 'i' },
        { "cmdline", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    int c;

    *o =
        (struct options){ .qemu = true, .qemu_kvm = true, .runs = 5, .smp = "2", .memory = "128M" };
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->json = true;
            break;
        case 'r':
            o->runs = (unsigned)atoi(optarg);
            if (o->runs < 1 || o->runs > MAX_RUNS) {
                err("--runs: 1 to %d", MAX_RUNS);
                return 2;
            }
            break;
        case 'Q':
            o->qemu = false;
            o->qemu_kvm = false;
            break;
        case 'K':
            o->qemu_kvm = false;
            break;
        case 's':
            o->smp = optarg;
            break;
        case 'm':
            o->memory = optarg;
            break;
        case 'a':
            o->extra = optarg;
            break;
        case 'A':
            if (o->nr_kvmemu_args == MAX_EXTRA_ARGS) {
                err("--kvmemu-arg: at most %d", MAX_EXTRA_ARGS);
                return 2;
            }
            o->kvmemu_args[o->nr_kvmemu_args++] = optarg;
            break;
        case 'S':
            o->stop_at_marker = true;
            break;
        case 'e':
            o->kvmemu = optarg;
            break;
        case 'q':
            o->qemu_path = optarg;
            break;
        case 'k':
            o->kernel = optarg;
            break;
        case 'i':
            o->initrd = optarg;
            break;
        case 'c':
            o->cmdline = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->kvmemu || !o->kernel || !o->initrd || !o->cmdline || (o->qemu && !o->qemu_path)) {
        usage(stderr);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct run kv[MAX_RUNS], tcg[MAX_RUNS];
    char kvm_result[1024] = "not tried (--no-qemu-kvm)";
    double kvm_stopped_ms = -1, kv_init, kv_exit, kv_post, kv_cpu, tcg_init = -1, tcg_exit = -1,
           tcg_cpu = -1;
    struct options o;
    int ret = parse(argc, argv, &o);
    double load0 = loadavg(), load1;

    if (ret)
        return ret;
    for (unsigned i = 0; i < o.runs; i++) {
        if (boot_once(&o, KVMEMU, &kv[i]) < 0)
            return 1;
        if (!o.json)
            fprintf(stderr, "run %u: kvmemu %.0f ms to /init", i + 1, kv[i].init_ms);
        if (o.qemu) {
            if (boot_once(&o, QEMU_TCG, &tcg[i]) < 0)
                return 1;
            if (!o.json)
                fprintf(stderr, ", qemu (tcg) %.0f ms", tcg[i].init_ms);
        }
        if (!o.json)
            fputc('\n', stderr);
    }
    if (o.qemu_kvm)
        try_qemu_kvm(&o, kvm_result, sizeof(kvm_result), &kvm_stopped_ms);
    load1 = loadavg();
    kv_init = field_median(kv, o.runs, offsetof(struct run, init_ms));
    kv_exit = field_median(kv, o.runs, offsetof(struct run, exit_ms));
    kv_post = field_median(kv, o.runs, offsetof(struct run, post_ms));
    kv_cpu = field_median(kv, o.runs, offsetof(struct run, cpu_ms));
    if (o.qemu) {
        tcg_init = field_median(tcg, o.runs, offsetof(struct run, init_ms));
        tcg_exit = field_median(tcg, o.runs, offsetof(struct run, exit_ms));
        tcg_cpu = field_median(tcg, o.runs, offsetof(struct run, cpu_ms));
    }

    if (o.json) {
        printf("{\"boot_to_init_ms\":%.1f,\"exit_ms\":%.1f,\"post_init_ms\":%.1f,\"cpu_ms\":%.1f,"
               "\"runs\":%u,\"timeline\":{",
               kv_init, kv_exit, kv_post, kv_cpu, o.runs);
        for (size_t i = 0; i < NR_MS; i++)
            printf("%s\"%s\":%.1f", i ? "," : "", milestones[i].phase, phase_median(kv, o.runs, i));
        printf("},\"qemu_tcg\":");
        if (o.qemu) {
            printf("{\"boot_to_init_ms\":%.1f,\"exit_ms\":%.1f,\"cpu_ms\":%.1f,\"timeline\":{",
                   tcg_init, tcg_exit, tcg_cpu);
            for (size_t i = 1; i < NR_MS; i++)
                printf("%s\"%s\":%.1f", i > 1 ? "," : "", milestones[i].phase,
                       phase_median(tcg, o.runs, i));
            printf("}}");
        } else {
            printf("null");
        }
        printf(",\"host_load\":[%.2f,%.2f],\"qemu_kvm\":\"", load0, load1);
        for (const char *p = kvm_result; *p; p++)
            printf(*p == '"' || *p == '\\' ? "\\%c" : (unsigned char)*p < 32 ? " " : "%c", *p);
        printf("\"}\n");
        return 0;
    }
    printf(
        "The Linux test guest, exec to its /init marker (median of %u, --smp %s --memory %s)\n\n",
        o.runs, o.smp, o.memory);
    printf("| phase | kvmemu (ms) |%s\n| --- | --- |%s\n", o.qemu ? " QEMU TCG (ms) |" : "",
           o.qemu ? " --- |" : "");
    for (size_t i = 0; i < NR_MS; i++) {
        printf("| %s | %.0f |", milestones[i].what, phase_median(kv, o.runs, i));
        if (o.qemu) {
            double q = phase_median(tcg, o.runs, i);

            if (q >= 0)
                printf(" %.0f |", q);
            else
                printf(" - |");
        }
        printf("\n");
    }
    printf("| **exec to /init's marker** | **%.0f** |", kv_init);
    if (o.qemu)
        printf(" **%.0f** |", tcg_init);
    printf("\n| exec to exit after power-off | %.0f |", kv_exit);
    if (o.qemu)
        printf(" %.0f |", tcg_exit);
    printf("\n| CPU time of the emulator, all threads | %.0f |", kv_cpu);
    if (o.qemu)
        printf(" %.0f |", tcg_cpu);
    printf("\n\nkvmemu's own timeline puts /init's POST code 0xa0 at %.0f ms.\n", kv_post);
    printf("QEMU with KVM on this host: %s\n", kvm_result);
    printf("The host's load average: %.2f before, %.2f after.\n", load0, load1);
    (void)kvm_stopped_ms;
    return 0;
}
