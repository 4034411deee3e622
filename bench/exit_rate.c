/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * exit-rate: port I/O exit round trips per second through libkvmcore's run
 * loop and bus dispatch, against a bare ioctl(KVM_RUN) loop over the same
 * guest, in the same process and run.
 *
 *   exit-rate-bin [--json] [--seconds S] [--rounds N] [--quick] GUEST.bin
 *
 * The guest (tests/guests/exitloop.S) is `1: out %al,$0x80; jmp 1b` in real
 * mode, so every guest instruction pair is one exit and the rate measures
 * the cost of an exit and nothing else. Rounds alternate raw, kc, raw, kc,
 * ... so that drift of the machine (frequency, a noisy neighbour) affects
 * both sides alike; the medians are compared.
 *
 * Both VMs are set up alike: no in-kernel irqchip or PIT, 640 KiB of
 * memfd-backed RAM at 0 in one slot, the same TSS and identity-map
 * addresses, the host's supported CPUID, the image at linear 0x1000 with
 * CS = 0x100, IP = 0. A round ends the same way on both sides: a timer
 * thread sets immediate_exit and signals the running thread, so neither
 * hot loop reads the clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <kvmcore/kvmcore.h>

#define PROG "exit-rate"

/* The guest's layout, as tests/guests/lib/real.ld and kc-run have it. */
#define GUEST_CS   0x100
#define GUEST_LOAD ((uint64_t)GUEST_CS << 4)
#define RAM_SIZE   0xa0000ull /* conventional memory, below the VGA hole */
#define EXIT_PORT  0x80

/* The addresses libkvmcore's default config uses (QEMU's). */
#define TSS_ADDR   0xfffbd000ull
#define IDMAP_ADDR 0xfffbc000ull

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)

/* The raw loop's stop signal; libkvmcore uses its own (SIGRTMIN). */
#define RAW_STOP_SIGNAL SIGUSR1

#define TARGET_RATIO 0.97
#define MAX_ROUNDS   1000

struct options {
    bool json;
    double seconds;
    unsigned rounds;
    const char *guest;
};

struct image {
    uint8_t *data;
    size_t size;
};

struct round {
    uint64_t exits;
    double seconds;
};

struct summary {
    double median, min, max;
};

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double round_rate(const struct round *r)
{
    return r->seconds > 0 ? (double)r->exits / r->seconds : 0.0;
}

/* ---- the guest image ---- */

static int image_load(struct image *img, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        err("guest image %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        err("guest image %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* It runs in one real-mode segment. */
    if (st.st_size <= 0 || st.st_size > 0x10000) {
        err("guest image %s: %s", path, st.st_size <= 0 ? "empty file" : "larger than 64 KiB");
        close(fd);
        return -1;
    }
    img->size = (size_t)st.st_size;
    img->data = malloc(img->size);
    if (!img->data || read(fd, img->data, img->size) != (ssize_t)img->size) {
        err("guest image %s: cannot read it", path);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ---- the timer thread that ends a round ---- */

/*
 * Sleeps for the round's length, then calls stop() and keeps calling it
 * every 10 ms until the runner says it has left its loop. The repeat
 * covers a stop that lands before the loop was entered (kc_vcpu_request_stop
 * ignores a vCPU that is not in its loop yet); in practice stop() runs once.
 */
struct stopper {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    double seconds;
    void (*stop)(void *arg);
    void *arg;
};

static struct timespec deadline_in(double seconds)
{
    struct timespec ts;
    long long ns;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ns = ts.tv_nsec + (long long)(seconds * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/* Waits until `done` or the deadline; called with s->lock held. */
static void stopper_wait(struct stopper *s, double seconds)
{
    struct timespec dl = deadline_in(seconds);

    while (!s->done && pthread_cond_timedwait(&s->cond, &s->lock, &dl) != ETIMEDOUT)
        ;
}

static void *stopper_main(void *arg)
{
    struct stopper *s = arg;

    pthread_mutex_lock(&s->lock);
    stopper_wait(s, s->seconds);
    while (!s->done) {
        pthread_mutex_unlock(&s->lock);
        s->stop(s->arg);
        pthread_mutex_lock(&s->lock);
        stopper_wait(s, 0.01);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int stopper_start(struct stopper *s, double seconds, void (*stop)(void *), void *arg)
{
    pthread_condattr_t attr;
    int ret;

    s->done = false;
    s->seconds = seconds;
    s->stop = stop;
    s->arg = arg;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_init(&attr);
    /* Deadlines are CLOCK_MONOTONIC, immune to wall-clock steps. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    ret = pthread_create(&s->thread, NULL, stopper_main, s);
    if (ret) {
        err("cannot create the timer thread: %s", strerror(ret));
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

/* Called by the runner once its loop has returned, for whatever reason. */
static void stopper_finish(struct stopper *s)
{
    pthread_mutex_lock(&s->lock);
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

/* ---- the raw side: bare KVM ioctls ---- */

struct raw_vm {
    int kvm_fd;
    int vm_fd;
    int vcpu_fd;
    int mem_fd;
    uint8_t *mem;
    struct kvm_run *run;
    size_t run_size;
    pthread_t runner;
};

static int raw_open_kvm(struct raw_vm *r)
{
    r->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (r->kvm_fd < 0) {
        int e = errno;

        if (e == ENOENT)
            err("/dev/kvm does not exist: KVM is not available on this machine");
        else if (e == EACCES)
            err("/dev/kvm: permission denied (join the group that owns it, usually kvm)");
        else
            err("/dev/kvm: %s", strerror(e));
        return -1;
    }
    if (ioctl(r->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        err("/dev/kvm: unexpected KVM API version");
        return -1;
    }
    return 0;
}

/* Fails with a message naming the ioctl if ret < 0. */
static int raw_check(int ret, const char *what)
{
    if (ret < 0)
        err("raw VM: %s: %s", what, strerror(errno));
    return ret;
}

static int raw_add_ram(struct raw_vm *r)
{
    struct kvm_userspace_memory_region slot = { 0 };

    /* memfd-backed and shared, as libkvmcore's RAM is. */
    r->mem_fd = memfd_create("raw-low", MFD_CLOEXEC);
    if (raw_check(r->mem_fd, "memfd_create") < 0 ||
        raw_check(ftruncate(r->mem_fd, (off_t)RAM_SIZE), "ftruncate") < 0)
        return -1;
    r->mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, r->mem_fd, 0);
    if (r->mem == MAP_FAILED) {
        r->mem = NULL;
        return raw_check(-1, "mmap of guest RAM");
    }
    slot.guest_phys_addr = 0;
    slot.memory_size = RAM_SIZE;
    slot.userspace_addr = (uintptr_t)r->mem;
    return raw_check(ioctl(r->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot),
                     "KVM_SET_USER_MEMORY_REGION");
}

static int raw_create_vm(struct raw_vm *r)
{
    uint64_t idmap = IDMAP_ADDR;
    int ret;

    r->vm_fd = raw_check(ioctl(r->kvm_fd, KVM_CREATE_VM, 0), "KVM_CREATE_VM");
    if (r->vm_fd < 0)
        return -1;
    ret = ioctl(r->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
    if (raw_check(ret, "KVM_SET_IDENTITY_MAP_ADDR") < 0)
        return -1;
    ret = ioctl(r->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)TSS_ADDR);
    if (raw_check(ret, "KVM_SET_TSS_ADDR") < 0)
        return -1;
    return raw_add_ram(r);
}

/* The host's supported CPUID, as libkvmcore gives every vCPU, so that the
 * two vCPUs differ in nothing KVM might consult on entry or exit. */
static int raw_set_cpuid(struct raw_vm *r)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        int ret;

        if (!c) {
            err("raw VM: out of memory");
            return -1;
        }
        c->nent = n;
        ret = ioctl(r->kvm_fd, KVM_GET_SUPPORTED_CPUID, c);
        if (ret == 0)
            ret = raw_check(ioctl(r->vcpu_fd, KVM_SET_CPUID2, c), "KVM_SET_CPUID2");
        else if (errno == E2BIG)
            ret = 1; /* try a larger table */
        else
            ret = raw_check(ret, "KVM_GET_SUPPORTED_CPUID");
        free(c);
        if (ret <= 0)
            return ret;
    }
    err("raw VM: KVM_GET_SUPPORTED_CPUID: table too large");
    return -1;
}

/* Real mode at GUEST_CS:0, as kc_x86_setup_real_mode() sets it up. */
static int raw_set_real_mode(struct raw_vm *r)
{
    struct kvm_sregs s;
    struct kvm_regs regs = { 0 };
    struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };

    if (raw_check(ioctl(r->vcpu_fd, KVM_GET_SREGS, &s), "KVM_GET_SREGS") < 0)
        return -1;
    for (unsigned i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        segs[i]->selector = GUEST_CS;
        segs[i]->base = GUEST_LOAD;
        segs[i]->limit = 0xffff;
    }
    s.cr0 &= ~(CR0_PE | CR0_PG);
    if (raw_check(ioctl(r->vcpu_fd, KVM_SET_SREGS, &s), "KVM_SET_SREGS") < 0)
        return -1;
    regs.rflags = 2; /* bit 1 is reserved and always set */
    regs.rip = 0;
    return raw_check(ioctl(r->vcpu_fd, KVM_SET_REGS, &regs), "KVM_SET_REGS");
}

static int raw_create_vcpu(struct raw_vm *r)
{
    int size = raw_check(ioctl(r->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0), "KVM_GET_VCPU_MMAP_SIZE");

    if (size < 0)
        return -1;
    r->vcpu_fd = raw_check(ioctl(r->vm_fd, KVM_CREATE_VCPU, 0), "KVM_CREATE_VCPU");
    if (r->vcpu_fd < 0)
        return -1;
    r->run_size = (size_t)size;
    r->run = mmap(NULL, r->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->vcpu_fd, 0);
    if (r->run == MAP_FAILED) {
        r->run = NULL;
        return raw_check(-1, "mmap of kvm_run");
    }
    if (raw_set_cpuid(r) < 0)
        return -1;
    return raw_set_real_mode(r);
}

static void raw_destroy(struct raw_vm *r)
{
    if (r->run)
        munmap(r->run, r->run_size);
    if (r->vcpu_fd >= 0)
        close(r->vcpu_fd);
    if (r->vm_fd >= 0)
        close(r->vm_fd);
    if (r->mem)
        munmap(r->mem, RAM_SIZE);
    if (r->mem_fd >= 0)
        close(r->mem_fd);
    if (r->kvm_fd >= 0)
        close(r->kvm_fd);
}

static void empty_handler(int sig)
{
    /* Its only job is to make KVM_RUN return -EINTR. */
    (void)sig;
}

static int raw_create(struct raw_vm *r, const struct image *img)
{
    struct sigaction sa;

    memset(r, 0, sizeof(*r));
    r->kvm_fd = r->vm_fd = r->vcpu_fd = r->mem_fd = -1;
    /* No SA_RESTART: the point of the signal is an interrupted KVM_RUN. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = empty_handler;
    sigemptyset(&sa.sa_mask);
    if (raw_check(sigaction(RAW_STOP_SIGNAL, &sa, NULL), "sigaction") < 0)
        return -1;
    if (raw_open_kvm(r) < 0 || raw_create_vm(r) < 0 || raw_create_vcpu(r) < 0)
        return -1;
    memcpy(r->mem + GUEST_LOAD, img->data, img->size);
    return 0;
}

static void raw_stop(void *arg)
{
    struct raw_vm *r = arg;

    /* immediate_exit covers a signal that arrives between two KVM_RUNs. */
    __atomic_store_n(&r->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(r->runner, RAW_STOP_SIGNAL);
}

/* The hot loop: nothing but KVM_RUN, the exit check and a counter. */
static int raw_loop(struct raw_vm *r, uint64_t *exits)
{
    struct kvm_run *run = r->run;
    uint64_t n = 0;

    for (;;) {
        if (ioctl(r->vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR)
                break;
            *exits = n;
            return raw_check(-1, "KVM_RUN");
        }
        if (run->exit_reason != KVM_EXIT_IO || run->io.port != EXIT_PORT) {
            err("raw VM: unexpected exit (reason %u, port 0x%x)", run->exit_reason,
                run->exit_reason == KVM_EXIT_IO ? run->io.port : 0);
            *exits = n;
            return -1;
        }
        n++;
    }
    *exits = n;
    return 0;
}

static int raw_round(struct raw_vm *r, double seconds, struct round *out)
{
    struct stopper s;
    double t0;
    int ret;

    r->runner = pthread_self();
    if (stopper_start(&s, seconds, raw_stop, r) < 0)
        return -1;
    t0 = now();
    ret = raw_loop(r, &out->exits);
    out->seconds = now() - t0;
    stopper_finish(&s);
    /* Only now: the timer thread can no longer set it again. */
    __atomic_store_n(&r->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
    return ret;
}

/* ---- the libkvmcore side ---- */

struct kc_side {
    struct kc_kvm *kvm;
    struct kc_vm *vm;
    struct kc_vcpu *vcpu;
    uint64_t exits; /* counted by the port device */
    struct kc_exit bad_exit;
    bool bad;
};

static void count_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct kc_side *k = opaque;

    (void)offset;
    (void)value;
    (void)size;
    k->exits++;
}

static const struct kc_io_ops counter_ops = {
    .write = count_write,
};

/* Any exit the bus did not take is a broken guest or setup: end the round. */
static enum kc_action kc_unexpected(void *opaque, struct kc_vcpu *vcpu, const struct kc_exit *exit)
{
    struct kc_side *k = opaque;

    (void)vcpu;
    k->bad_exit = *exit;
    k->bad = true;
    return KC_ACTION_STOP;
}

static int kc_load(struct kc_side *k, const struct image *img)
{
    void *dst;

    if (!kc_vm_add_ram(k->vm, 0, RAM_SIZE, 0, "low"))
        return -1;
    dst = kc_mem_ptr(kc_vm_mem(k->vm), GUEST_LOAD, img->size);
    if (!dst) {
        err("kc VM: the guest image does not fit in RAM");
        return -1;
    }
    memcpy(dst, img->data, img->size);
    return 0;
}

static int kc_create(struct kc_side *k, const struct image *img)
{
    struct kc_vm_config cfg;

    memset(k, 0, sizeof(*k));
    k->kvm = kc_kvm_open(NULL);
    if (!k->kvm)
        return -1;
    /* Like the raw VM: nothing in the kernel but the vCPU. */
    kc_vm_config_init(&cfg);
    cfg.irqchip = false;
    cfg.pit = false;
    cfg.tss_addr = TSS_ADDR;
    cfg.identity_map_addr = IDMAP_ADDR;
    k->vm = kc_vm_create(k->kvm, &cfg);
    if (!k->vm || kc_load(k, img) < 0)
        return -1;
    if (kc_bus_register(kc_vm_pio_bus(k->vm), EXIT_PORT, 1, &counter_ops, k, "counter") < 0)
        return -1;
    k->vcpu = kc_vcpu_create(k->vm, 0);
    if (!k->vcpu || kc_x86_setup_real_mode(k->vcpu, GUEST_CS, 0) < 0)
        return -1;
    return 0;
}

static void kc_destroy(struct kc_side *k)
{
    kc_vm_destroy(k->vm);
    kc_kvm_close(k->kvm);
}

static void kc_stop(void *arg)
{
    kc_vcpu_request_stop(arg);
}

static int kc_round(struct kc_side *k, double seconds, struct round *out)
{
    struct stopper s;
    char why[256];
    double t0;
    int ret;

    k->exits = 0;
    if (stopper_start(&s, seconds, kc_stop, k->vcpu) < 0)
        return -1;
    t0 = now();
    ret = kc_vcpu_loop(k->vcpu, kc_unexpected, k, NULL);
    out->seconds = now() - t0;
    out->exits = k->exits;
    stopper_finish(&s);
    if (ret == KC_LOOP_STOPPED)
        return 0;
    if (k->bad)
        err("kc VM: unexpected exit: %s", kc_exit_describe(&k->bad_exit, why, sizeof(why)));
    else
        err("kc VM: kc_vcpu_loop returned %d", ret);
    return -1;
}

/* ---- statistics and output ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static struct summary summarize(const struct round *rounds, unsigned n)
{
    double rates[MAX_ROUNDS];
    struct summary s;

    for (unsigned i = 0; i < n; i++)
        rates[i] = round_rate(&rounds[i]);
    qsort(rates, n, sizeof(rates[0]), cmp_double);
    s.min = rates[0];
    s.max = rates[n - 1];
    s.median = n % 2 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
    return s;
}

static double ratio_of(const struct summary *raw, const struct summary *kc)
{
    return raw->median > 0 ? kc->median / raw->median : 0.0;
}

static void print_round(const char *mode, unsigned i, const struct round *r)
{
    printf("%5u  %-4s  %10llu  %7.3f  %10.0f  %7.2f\n", i + 1, mode, (unsigned long long)r->exits,
           r->seconds, round_rate(r), r->exits ? r->seconds * 1e6 / (double)r->exits : 0.0);
    fflush(stdout);
}

static void print_table_header(const struct options *o)
{
    printf("exit-rate: PIO exit round trips (guest: out %%al,$0x80; jmp) per second\n"
           "both VMs: no in-kernel irqchip/PIT, 640 KiB RAM at 0, real mode at 0x100:0\n"
           "%u rounds of %.2f s each, alternating raw and kc\n\n",
           o->rounds, o->seconds);
    printf("round  mode       exits  seconds     exits/s  us/exit\n");
}

static void print_summary_row(const char *name, const struct summary *s)
{
    printf("%-4s  %10.0f  %10.0f  %10.0f  %7.2f\n", name, s->median, s->min, s->max,
           s->median > 0 ? 1e6 / s->median : 0.0);
}

static void print_table_summary(const struct summary *raw, const struct summary *kc)
{
    double ratio = ratio_of(raw, kc);

    printf("\nmode      median         min         max  us/exit\n");
    print_summary_row("raw", raw);
    print_summary_row("kc", kc);
    printf("\nratio kc/raw (medians): %.1f%%   target: %.0f%%   %s\n", ratio * 100,
           TARGET_RATIO * 100, ratio >= TARGET_RATIO ? "PASS" : "BELOW");
}

static void print_json_rates(const char *key, const struct round *rounds, unsigned n)
{
    printf("\"%s\":[", key);
    for (unsigned i = 0; i < n; i++)
        printf("%s%.1f", i ? "," : "", round_rate(&rounds[i]));
    printf("]");
}

static void print_json(const struct options *o, const struct round *raw, const struct round *kc)
{
    struct summary rs = summarize(raw, o->rounds), ks = summarize(kc, o->rounds);
    double ratio = ratio_of(&rs, &ks);

    printf("{\"raw_exits_per_s\":%.1f,\"kc_exits_per_s\":%.1f,\"ratio\":%.4f,"
           "\"target_ratio\":%.2f,\"pass\":%s,\"rounds\":%u,\"seconds_per_round\":%.3f,"
           "\"raw_min\":%.1f,\"raw_max\":%.1f,\"kc_min\":%.1f,\"kc_max\":%.1f,"
           "\"vm_config\":\"no irqchip, no PIT\",",
           rs.median, ks.median, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "true" : "false",
           o->rounds, o->seconds, rs.min, rs.max, ks.min, ks.max);
    print_json_rates("raw_rounds", raw, o->rounds);
    printf(",");
    print_json_rates("kc_rounds", kc, o->rounds);
    printf("}\n");
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f, "usage: exit-rate-bin [--json] [--seconds S] [--rounds N] [--quick] GUEST.bin\n"
               "Port I/O exits per second: libkvmcore's run loop against a bare KVM_RUN loop.\n"
               "  --seconds S  length of one round (default 1.0)\n"
               "  --rounds N   rounds per side, alternating raw and kc (default 5)\n"
               "  --quick      0.2 s and 3 rounds, for a smoke test\n"
               "  --json       one JSON object on stdout instead of the table\n");
}

static int parse_number(const char *opt, const char *arg, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(arg, &end);
    if (errno || end == arg || *end || !(*out >= lo && *out <= hi)) {
        err("%s: '%s' is not a number between %g and %g", opt, arg, lo, hi);
        return -1;
    }
    return 0;
}

/* Returns 0, or the exit status to leave with. */
static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },          /* one JSON object, no table */
        { "seconds", required_argument, NULL, 's' }, /* length of one round */
        { "rounds", required_argument, NULL, 'r' },  /* rounds per side */
        { "quick", no_argument, NULL, 'q' },         /* smoke test: 0.2 s x 3 */
        { "help", no_argument, NULL, 'h' },          /* usage on stdout */
        { NULL, 0, NULL, 0 },
    };
    double seconds = -1, rounds = -1;
    bool quick = false;
    int c;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j') {
            o->json = true;
        } else if (c == 's') {
            if (parse_number("--seconds", optarg, 0.01, 3600, &seconds) < 0)
                return 2;
        } else if (c == 'r') {
            if (parse_number("--rounds", optarg, 1, MAX_ROUNDS, &rounds) < 0)
                return 2;
            if (rounds != (unsigned)rounds) {
                err("--rounds: '%s' is not a whole number", optarg);
                return 2;
            }
        } else if (c == 'q') {
            quick = true;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? -1 : 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o->guest = argv[optind];
    /* --quick sets defaults; an explicit --seconds or --rounds still wins. */
    o->seconds = seconds > 0 ? seconds : quick ? 0.2 : 1.0;
    o->rounds = rounds > 0 ? (unsigned)rounds : quick ? 3 : 5;
    return 0;
}

/* Alternates raw and kc rounds; prints each one in table mode. */
static int run_rounds(const struct options *o, struct raw_vm *raw, struct kc_side *kc,
                      struct round *raw_rounds, struct round *kc_rounds)
{
    if (!o->json)
        print_table_header(o);
    for (unsigned i = 0; i < o->rounds; i++) {
        if (raw_round(raw, o->seconds, &raw_rounds[i]) < 0)
            return -1;
        if (!o->json)
            print_round("raw", i, &raw_rounds[i]);
        if (kc_round(kc, o->seconds, &kc_rounds[i]) < 0)
            return -1;
        if (!o->json)
            print_round("kc", i, &kc_rounds[i]);
    }
    return 0;
}

/* A round with no exits means the guest or a loop is broken, whatever the ratio. */
static bool any_zero(const struct round *rounds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (rounds[i].exits == 0)
            return true;
    return false;
}

static int report(const struct options *o, const struct round *raw, const struct round *kc)
{
    if (o->json) {
        print_json(o, raw, kc);
    } else {
        struct summary rs = summarize(raw, o->rounds), ks = summarize(kc, o->rounds);

        print_table_summary(&rs, &ks);
    }
    if (any_zero(raw, o->rounds) || any_zero(kc, o->rounds)) {
        err("a round counted no exits: the %s loop is not running the guest",
            any_zero(raw, o->rounds) ? "raw" : "kc");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct round raw_rounds[MAX_ROUNDS], kc_rounds[MAX_ROUNDS];
    struct options o = { 0 };
    struct image img = { 0 };
    struct raw_vm raw = { 0 };
    struct kc_side kc = { 0 };
    int status = 1;
    int ret = parse_options(argc, argv, &o);

    if (ret)
        return ret < 0 ? 0 : ret;
    if (image_load(&img, o.guest) < 0)
        return 1;
    /* The raw side first: its /dev/kvm messages are this program's own. */
    if (raw_create(&raw, &img) == 0 && kc_create(&kc, &img) == 0 &&
        run_rounds(&o, &raw, &kc, raw_rounds, kc_rounds) == 0)
        status = report(&o, raw_rounds, kc_rounds);
    kc_destroy(&kc);
    raw_destroy(&raw);
    free(img.data);
    return status;
}
