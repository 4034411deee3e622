/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static uint64_t report_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0;
}

static void report_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct kt_vm *t = opaque;

    (void)offset;
    (void)size;
    pthread_mutex_lock(&t->lock);
    if (t->nr_reports < KT_MAX_REPORTS)
        t->reports[t->nr_reports++] = (uint32_t)value;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

static const struct kc_io_ops report_ops = { .read = report_read, .write = report_write };

/* The exit port is left unclaimed; this policy hands its writes back to the
 * loop's exit handler, which knows which vCPU wrote. */
static enum kc_unhandled_action exit_policy(void *opaque, const struct kc_bus_access *a)
{
    (void)opaque;
    return a->addr == KT_PORT_EXIT && a->is_write ? KC_UNHANDLED_STOP : KC_UNHANDLED_IGNORE;
}

static enum kc_action on_exit_fn(void *opaque, struct kc_vcpu *vcpu, const struct kc_exit *exit)
{
    struct kt_vm *t = opaque;
    unsigned idx = kc_vcpu_id(vcpu);

    pthread_mutex_lock(&t->lock);
    if (exit->type == KC_EXIT_UNHANDLED && exit->reason == KVM_EXIT_IO &&
        exit->io.port == KT_PORT_EXIT)
        t->exit_code[idx] = exit->io.data[0];
    else
        t->last[idx] = *exit;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return KC_ACTION_STOP;
}

struct kt_vm *kt_vm_new(unsigned nr_vcpus, const struct kc_vm_config *cfg)
{
    struct kc_kvm_config kcfg;
    struct kt_vm *t = calloc(1, sizeof(*t));

    ck_assert_ptr_nonnull(t);
    ck_assert_uint_le(nr_vcpus, KT_MAX_VCPUS);
    log_capture_init(&t->log);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    for (unsigned i = 0; i < KT_MAX_VCPUS; i++)
        t->exit_code[i] = -1;

    kc_kvm_config_init(&kcfg);
    kcfg.log = t->log.logger;
    t->kvm = kc_kvm_open(&kcfg);
    ck_assert_msg(t->kvm, "kc_kvm_open failed: %s", t->log.text);
    t->vm = kc_vm_create(t->kvm, cfg);
    ck_assert_msg(t->vm, "kc_vm_create failed: %s", t->log.text);
    ck_assert_msg(kc_vm_add_ram(t->vm, 0, 0xa0000, 0, "low"), "%s", t->log.text);
    ck_assert_msg(kc_vm_add_ram(t->vm, 0x100000, KT_RAM_TOP - 0x100000, 0, "high"), "%s",
                  t->log.text);
    ck_assert_int_eq(
        kc_bus_register(kc_vm_pio_bus(t->vm), KT_PORT_REPORT, 4, &report_ops, t, "report"), 0);
    kc_bus_set_unhandled_policy(kc_vm_pio_bus(t->vm), exit_policy, t);
    for (unsigned i = 0; i < nr_vcpus; i++) {
        t->vcpu[i] = kc_vcpu_create(t->vm, i);
        ck_assert_msg(t->vcpu[i], "kc_vcpu_create(%u) failed: %s", i, t->log.text);
    }
    t->nr_vcpus = nr_vcpus;
    return t;
}

void kt_vm_free(struct kt_vm *t)
{
    if (!t)
        return;
    kc_vm_destroy(t->vm);
    kc_kvm_close(t->kvm);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void kt_load(struct kt_vm *t, const char *name, uint64_t gpa)
{
    char path[512];
    struct stat st;
    void *dst;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s.bin", GUEST_DIR, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "guest image %s: %s", path, strerror(errno));
    ck_assert_int_eq(fstat(fd, &st), 0);
    dst = kc_mem_ptr(kc_vm_mem(t->vm), gpa, (uint64_t)st.st_size);
    ck_assert_msg(dst, "guest image %s does not fit at 0x%llx", path, (unsigned long long)gpa);
    n = read(fd, dst, (size_t)st.st_size);
    ck_assert_int_eq(n, st.st_size);
    close(fd);
}

void kt_setup(struct kt_vm *t, unsigned idx, enum kt_mode mode)
{
    struct kc_vcpu *v = t->vcpu[idx];
    struct kvm_regs regs;
    int ret;

    if (mode == KT_REAL) {
        ret = kc_x86_setup_real_mode(v, KT_REAL_CS, 0);
        ck_assert_msg(ret == 0, "real mode: %s", t->log.text);
        return;
    }
    if (mode == KT_PROTECTED)
        ret = kc_x86_setup_protected_mode(v, KT_GDT, KT_IMAGE);
    else
        ret = kc_x86_setup_long_mode(v, KT_GDT, KT_PAGE_TABLES, KT_IMAGE);
    ck_assert_msg(ret == 0, "mode setup: %s", t->log.text);
    if (idx > 0) {
        /* With the in-kernel LAPIC an AP waits for INIT/SIPI; these tests
         * start it directly, as firmware that already woke it would. */
        struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

        ck_assert_int_eq(kc_vcpu_set_mp_state(v, &mp), 0);
    }
    ck_assert_int_eq(kc_vcpu_get_regs(v, &regs), 0);
    regs.rdi = idx;
    ck_assert_int_eq(kc_vcpu_set_regs(v, &regs), 0);
}

void kt_boot(struct kt_vm *t, const char *name, enum kt_mode mode)
{
    kt_load(t, name, mode == KT_REAL ? (uint64_t)KT_REAL_CS << 4 : KT_IMAGE);
    for (unsigned i = 0; i < t->nr_vcpus; i++)
        kt_setup(t, i, mode);
}

static struct timespec deadline_after(double s)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)s;
    ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* A watchdog: stops a vCPU whose loop has not ended by the deadline. */
struct watchdog {
    struct kt_vm *t;
    unsigned idx;
    double timeout_s;
    bool done;
    pthread_t thread;
};

static void *watchdog_main(void *arg)
{
    struct watchdog *w = arg;
    struct timespec dl = deadline_after(w->timeout_s);
    int rc = 0;

    pthread_mutex_lock(&w->t->lock);
    while (!w->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w->t->cond, &w->t->lock, &dl);
    if (!w->done)
        w->t->timed_out = true;
    pthread_mutex_unlock(&w->t->lock);
    if (rc == ETIMEDOUT)
        kc_vcpu_request_stop(w->t->vcpu[w->idx]);
    return NULL;
}

static void watchdog_start(struct watchdog *w, struct kt_vm *t, unsigned idx, double timeout_s)
{
    *w = (struct watchdog){ t, idx, timeout_s, false, 0 };
    ck_assert_int_eq(pthread_create(&w->thread, NULL, watchdog_main, w), 0);
}

static void watchdog_stop(struct watchdog *w)
{
    pthread_mutex_lock(&w->t->lock);
    w->done = true;
    pthread_cond_broadcast(&w->t->cond);
    pthread_mutex_unlock(&w->t->lock);
    pthread_join(w->thread, NULL);
}

int kt_run(struct kt_vm *t, unsigned idx, double timeout_s)
{
    struct watchdog w;
    int ret;

    watchdog_start(&w, t, idx, timeout_s);
    ret = kc_vcpu_loop(t->vcpu[idx], on_exit_fn, t, NULL);
    watchdog_stop(&w);
    return ret;
}

void kt_start(struct kt_vm *t, unsigned idx)
{
    int ret = kc_vcpu_start(t->vcpu[idx], on_exit_fn, t);

    ck_assert_msg(ret == 0, "kc_vcpu_start(%u): %s", idx, t->log.text);
}

int kt_join(struct kt_vm *t, unsigned idx, double timeout_s)
{
    struct watchdog w;
    int ret;

    watchdog_start(&w, t, idx, timeout_s);
    ret = kc_vcpu_join(t->vcpu[idx], NULL);
    watchdog_stop(&w);
    return ret;
}

bool kt_wait_report(struct kt_vm *t, uint32_t value, double timeout_s)
{
    struct timespec dl = deadline_after(timeout_s);
    bool found = false;
    int rc = 0;

    pthread_mutex_lock(&t->lock);
    while (!found && rc != ETIMEDOUT) {
        for (unsigned i = 0; i < t->nr_reports && !found; i++)
            found = t->reports[i] == value;
        if (!found)
            rc = pthread_cond_timedwait(&t->cond, &t->lock, &dl);
    }
    pthread_mutex_unlock(&t->lock);
    return found;
}

unsigned kt_reports(struct kt_vm *t, uint32_t *out, unsigned max)
{
    unsigned n;

    pthread_mutex_lock(&t->lock);
    n = t->nr_reports < max ? t->nr_reports : max;
    memcpy(out, t->reports, n * sizeof(*out));
    pthread_mutex_unlock(&t->lock);
    return n;
}

void kt_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

uint64_t kt_peek64(struct kt_vm *t, uint64_t gpa)
{
    uint64_t v;

    ck_assert_int_eq(kc_mem_read(kc_vm_mem(t->vm), gpa, &v, sizeof(v)), 0);
    return v;
}
