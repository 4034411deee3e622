/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's life: build (VM, RAM, devices, tables, boot image, vCPUs),
 * run (vCPU threads plus the main thread's event loop), reset in place,
 * and tear down in the reverse order.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acpi/acpi.h"
#include "control.h"
#include "cpu.h"
#include "devices.h"
#include "machine.h"
#include "teardown.h"

#define MAX_DEVICES  32
#define MAX_CHARDEVS 4

struct device_slot {
    const char *name;
    void *state;
    const struct em_device_ops *ops;
};

struct chardev_slot {
    const char *label;
    struct em_chardev *chr;
};

struct em_machine {
    struct em_config cfg;
    struct em_timeline *tl;
    struct kc_logger log;     /* kvmemu's own messages */
    struct kc_logger kvm_log; /* libkvmcore's: quieter unless -v */
    struct em_memmap mm;

    struct kc_kvm *kvm;
    struct kc_vm *vm;
    struct kc_region *ram_low, *ram_high, *rom;
    struct em_cpus *cpus;
    struct kc_irqchip_state irqchip_init;

    unsigned nr_devices;
    struct device_slot devices[MAX_DEVICES];
    unsigned nr_chardevs;
    struct chardev_slot chardevs[MAX_CHARDEVS];

    /* The boot image, kept so that a reset loads it again. */
    struct em_image kernel, initrd;
    struct em_boot boot;
    uint64_t rsdp;

    uv_loop_t loop;
    uv_async_t wake;
    uv_signal_t sig[3];
    bool loop_ready;

    pthread_mutex_t req_lock;
    enum em_request req;
    int req_status;
    const char *req_reason; /* QEMU's ShutdownCause, for the events */
    bool req_by_guest;
    int exit_status;
    unsigned resets;

    /*
     * The run state (QEMU's RunState). Changes are serialised by ctl_lock,
     * which the monitor's thread (stop, cont) and the main thread (reset,
     * panic, the end) take; vCPU threads never do, so waiting for them
     * under it cannot deadlock. Reads need no lock.
     */
    pthread_mutex_t ctl_lock;
    _Atomic int state;

    /* Resets done and the end, for a host's reset that waits for it. */
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    unsigned reset_gen;
    bool ended;

    /* The monitor, while it exists; events from any thread go through
     * mon_lock so that none reaches it while it is destroyed. */
    pthread_mutex_t mon_lock;
    struct em_control *control;

    int pidfile_fd;
    pid_t teardown_pid;
};

static void log_stderr(void *opaque, enum kc_log_level level, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "kvmemu: %s%s\n",
            level == KC_LOG_ERROR  ? ""
            : level == KC_LOG_WARN ? "warning: "
                                   : "debug: ",
            msg);
}

/* ---- accessors for devices ---- */

const struct em_config *em_machine_config(const struct em_machine *m)
{
    return &m->cfg;
}

const struct em_memmap *em_machine_memmap(const struct em_machine *m)
{
    return &m->mm;
}

struct kc_vm *em_machine_vm(const struct em_machine *m)
{
    return m->vm;
}

struct kc_mem *em_machine_mem(const struct em_machine *m)
{
    return kc_vm_mem(m->vm);
}

struct em_timeline *em_machine_timeline(const struct em_machine *m)
{
    return m->tl;
}

const struct kc_logger *em_machine_logger(const struct em_machine *m)
{
    return &m->log;
}

uv_loop_t *em_machine_loop(struct em_machine *m)
{
    return &m->loop;
}

unsigned em_machine_ncpus(const struct em_machine *m)
{
    return m->cfg.smp;
}

uint64_t em_machine_rsdp(const struct em_machine *m)
{
    return m->rsdp;
}

int em_machine_irq(struct em_machine *m, unsigned gsi, int level)
{
    return kc_vm_irq_line(m->vm, gsi, level);
}

int em_machine_pio(struct em_machine *m, uint16_t port, uint16_t len, const struct kc_io_ops *ops,
                   void *opaque, const char *name)
{
    return kc_bus_register(kc_vm_pio_bus(m->vm), port, len, ops, opaque, name);
}

int em_machine_mmio(struct em_machine *m, uint64_t base, uint64_t len, const struct kc_io_ops *ops,
                    void *opaque, const char *name)
{
    return kc_bus_register(kc_vm_mmio_bus(m->vm), base, len, ops, opaque, name);
}

int em_machine_add_device(struct em_machine *m, const char *name, void *state,
                          const struct em_device_ops *ops)
{
    if (m->nr_devices == MAX_DEVICES) {
        kc_log(&m->log, KC_LOG_ERROR, "device %s: at most %d devices", name, MAX_DEVICES);
        return -ENOSPC;
    }
    m->devices[m->nr_devices++] = (struct device_slot){ name, state, ops };
    return 0;
}

void *em_machine_device(const struct em_machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nr_devices; i++)
        if (!strcmp(m->devices[i].name, name))
            return m->devices[i].state;
    return NULL;
}

int em_machine_add_chardev(struct em_machine *m, const char *label, struct em_chardev *chr)
{
    if (m->nr_chardevs == MAX_CHARDEVS) {
        kc_log(&m->log, KC_LOG_ERROR, "chardev %s: at most %d", label, MAX_CHARDEVS);
        return -ENOSPC;
    }
    m->chardevs[m->nr_chardevs++] = (struct chardev_slot){ label, chr };
    return 0;
}

unsigned em_machine_chardev_count(const struct em_machine *m)
{
    return m->nr_chardevs;
}

struct em_chardev *em_machine_chardev(const struct em_machine *m, unsigned i, const char **label)
{
    if (i >= m->nr_chardevs)
        return NULL;
    *label = m->chardevs[i].label;
    return m->chardevs[i].chr;
}

/* ---- requests from vCPU threads, devices and the host ---- */

/* A power-off or error is final; a panic overrides a reset, not them. */
static int priority(enum em_request req)
{
    switch (req) {
    case EM_REQ_RESET:
        return 1;
    case EM_REQ_PANIC:
        return 2;
    case EM_REQ_POWEROFF:
    case EM_REQ_ERROR:
        return 3;
    default:
        return 0;
    }
}

static void request(struct em_machine *m, enum em_request req, int status, const char *reason,
                    bool by_guest)
{
    struct kc_vcpu *self = kc_vcpu_self();

    pthread_mutex_lock(&m->req_lock);
    if (priority(req) > priority(m->req)) {
        m->req = req;
        m->req_status = status;
        m->req_reason = reason;
        m->req_by_guest = by_guest;
    }
    pthread_mutex_unlock(&m->req_lock);
    /* The vCPU that asked stops at once; the main thread stops the rest.
     * A panicking vCPU is paused with the others (--on-panic pause), so
     * that "cont" can run it again. */
    if (self && req != EM_REQ_PANIC)
        kc_vcpu_request_stop(self);
    uv_async_send(&m->wake);
}

void em_machine_request(struct em_machine *m, enum em_request req, int status)
{
    static const char *const reasons[] = {
        [EM_REQ_RESET] = "guest-reset",
        [EM_REQ_POWEROFF] = "guest-shutdown",
        [EM_REQ_ERROR] = "guest-shutdown",
        [EM_REQ_PANIC] = "guest-panic",
    };

    request(m, req, status, req < sizeof(reasons) / sizeof(reasons[0]) ? reasons[req] : NULL, true);
}

void em_machine_request_by_host(struct em_machine *m, enum em_request req, int status,
                                const char *reason)
{
    request(m, req, status, reason, false);
}

/* ---- events ---- */

void em_machine_event(struct em_machine *m, const char *event, json_object *data)
{
    pthread_mutex_lock(&m->mon_lock);
    if (m->control)
        em_control_event(m->control, event, data);
    else
        json_object_put(data);
    pthread_mutex_unlock(&m->mon_lock);
}

/* SHUTDOWN and RESET carry who asked and why. */
static void cause_event(struct em_machine *m, const char *event, bool guest, const char *reason)
{
    json_object *d = json_object_new_object();

    json_object_object_add(d, "guest", json_object_new_boolean(guest));
    json_object_object_add(d, "reason", json_object_new_string(reason ? reason : "none"));
    em_machine_event(m, event, d);
}

void em_machine_block_io_error(struct em_machine *m, unsigned index, const char *op, int err)
{
    json_object *d = json_object_new_object();
    char name[24];

    /* QEMU's IoOperationType has only read and write: a flush, discard or
     * write-zeroes fails as a write. */
    snprintf(name, sizeof(name), "virtio%u", index);
    json_object_object_add(d, "device", json_object_new_string(name));
    snprintf(name, sizeof(name), "disk%u", index);
    json_object_object_add(d, "node-name", json_object_new_string(name));
    json_object_object_add(d, "operation",
                           json_object_new_string(strcmp(op, "read") ? "write" : "read"));
    json_object_object_add(d, "action", json_object_new_string("report"));
    json_object_object_add(d, "nospace", json_object_new_boolean(err == ENOSPC));
    json_object_object_add(d, "reason", json_object_new_string(strerror(err)));
    em_machine_event(m, "BLOCK_IO_ERROR", d);
}

/* ---- control: the run state ---- */

enum em_run_state em_machine_state(struct em_machine *m)
{
    return (enum em_run_state)atomic_load(&m->state);
}

int em_machine_stop(struct em_machine *m, char *err, size_t errlen)
{
    bool changed = false;
    int ret = 0;

    pthread_mutex_lock(&m->ctl_lock);
    /* As QEMU: stopping a VM that does not run changes nothing. */
    if (atomic_load(&m->state) == EM_RUN_RUNNING) {
        ret = kc_vm_pause(m->vm);
        if (ret < 0)
            snprintf(err, errlen, "the vCPUs could not be paused: %s", strerror(-ret));
        else {
            atomic_store(&m->state, EM_RUN_PAUSED);
            changed = true;
        }
    }
    pthread_mutex_unlock(&m->ctl_lock);
    if (changed)
        em_machine_event(m, "STOP", NULL);
    return ret;
}

int em_machine_cont(struct em_machine *m, char *err, size_t errlen)
{
    bool changed = false;
    int ret = 0;

    pthread_mutex_lock(&m->ctl_lock);
    switch (atomic_load(&m->state)) {
    case EM_RUN_SHUTDOWN:
    case EM_RUN_INTERNAL_ERROR:
        snprintf(err, errlen, "Resetting the Virtual Machine is required");
        ret = -EBUSY;
        break;
    case EM_RUN_RUNNING:
        break;
    default: /* prelaunch, paused, guest-panicked */
        if (atomic_load(&m->state) == EM_RUN_PRELAUNCH)
            em_timeline_mark_once(m->tl, "first guest instruction");
        kc_vm_resume(m->vm);
        atomic_store(&m->state, EM_RUN_RUNNING);
        changed = true;
        break;
    }
    pthread_mutex_unlock(&m->ctl_lock);
    if (changed)
        em_machine_event(m, "RESUME", NULL);
    return ret;
}

int em_machine_vcpu_thread_id(struct em_machine *m, unsigned i)
{
    return i < kc_vm_vcpu_count(m->vm) ? kc_vcpu_thread_id(kc_vm_vcpu(m->vm, i)) : -1;
}

void em_machine_completed(struct em_machine *m, unsigned long *int3, unsigned long *fwait)
{
    em_cpus_completed(m->cpus, int3, fwait);
}

/* ---- building ---- */

static int add_ram(struct em_machine *m)
{
    m->ram_low = kc_vm_add_ram(m->vm, 0, m->mm.ram_below_4g, 0, "ram-below-4g");
    if (!m->ram_low)
        return -ENOMEM;
    if (m->mm.ram_above_4g) {
        m->ram_high = kc_vm_add_ram(m->vm, EM_HIGH_RAM_BASE, m->mm.ram_above_4g, 0, "ram-above-4g");
        if (!m->ram_high)
            return -ENOMEM;
    }
    em_timeline_mark(m->tl, "memory mapped (%llu MiB)", (unsigned long long)(m->mm.ram_size >> 20));
    return 0;
}

/* Reads the boot image(s) once; a reset loads them again from memory. */
static int read_images(struct em_machine *m)
{
    const char *path = m->cfg.kernel     ? m->cfg.kernel
                       : m->cfg.firmware ? m->cfg.firmware
                                         : m->cfg.flat.path;
    const char *what = m->cfg.kernel ? "kernel" : m->cfg.firmware ? "firmware" : "flat image";
    int ret = em_image_read(path, what, &m->log, &m->kernel);

    if (ret == 0 && m->cfg.initrd)
        ret = em_image_read(m->cfg.initrd, "initrd", &m->log, &m->initrd);
    if (ret == 0 && m->cfg.firmware) {
        uint64_t base = em_firmware_base(m->kernel.size);

        m->rom = kc_vm_add_ram(m->vm, base, EM_FOUR_GIB - base, KC_REGION_READONLY, "firmware");
        if (!m->rom)
            ret = -ENOMEM;
    }
    return ret;
}

/* Tables and boot image into guest memory: at start and on every reset,
 * since the guest may have overwritten both. */
static int load_boot(struct em_machine *m)
{
    struct em_load_ctx ctx = {
        .log = &m->log,
        .mem = kc_vm_mem(m->vm),
        .mm = &m->mm,
        .cmdline = m->cfg.append,
        .initrd = m->initrd.data ? &m->initrd : NULL,
    };
    int ret = 0;

    m->rsdp = 0;
    /* Firmware brings its own tables. */
    if (!m->cfg.firmware) {
        struct em_acpi_config acfg = { .ncpus = m->cfg.smp, .pm = true, .pci = true };

        ret = em_mptable_build(&m->log, kc_vm_mem(m->vm), EM_MPTABLE_BASE, m->cfg.smp);
        if (ret == 0 && !m->cfg.no_acpi)
            ret = em_acpi_build(&m->log, kc_vm_mem(m->vm), &acfg, &m->rsdp);
        if (ret < 0)
            return ret;
    }
    ctx.rsdp_addr = m->rsdp;
    if (m->cfg.kernel)
        ret = em_load_kernel(&m->kernel, &ctx, &m->boot);
    else if (m->cfg.firmware)
        ret = em_load_firmware(&m->kernel, &ctx, &m->boot);
    else
        ret = em_load_flat(&m->kernel, m->cfg.flat.addr, m->cfg.flat.entry, m->cfg.flat.mode, &ctx,
                           &m->boot);
    if (ret == 0)
        em_timeline_mark(m->tl, "%s loaded (%llu bytes)", m->boot.kind,
                         (unsigned long long)m->kernel.size);
    return ret;
}

static int write_pidfile(struct em_machine *m)
{
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    char buf[32];
    int fd, n;

    if (!m->cfg.pidfile)
        return 0;
    fd = open(m->cfg.pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        kc_log(&m->log, KC_LOG_ERROR, "pidfile %s: %s", m->cfg.pidfile, strerror(errno));
        return -errno;
    }
    /* The lock says "running" to anyone who checks, and dies with us. */
    if (fcntl(fd, F_SETLK, &lk) < 0) {
        n = (int)read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        kc_log(&m->log, KC_LOG_ERROR, "pidfile %s: in use by another running kvmemu (pid %s)",
               m->cfg.pidfile, buf[0] ? buf : "unknown");
        close(fd);
        return -EBUSY;
    }
    n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
        kc_log(&m->log, KC_LOG_ERROR, "pidfile %s: %s", m->cfg.pidfile, strerror(errno));
        close(fd);
        return -EIO;
    }
    m->pidfile_fd = fd;
    return 0;
}

/* Every RAM region exists by now; devices open their files after this, so
 * the teardown process holds none of them. */
static void spawn_teardown(struct em_machine *m)
{
    struct kc_mem *mem = kc_vm_mem(m->vm);
    int keep[8];
    unsigned n = 0;

    keep[n++] = kc_vm_fd(m->vm);
    for (unsigned i = 0; i < kc_mem_region_count(mem) && n < 8; i++)
        keep[n++] = kc_region_fd(kc_mem_region_at(mem, i));
    m->teardown_pid = em_teardown_spawn(keep, n, &m->log);
}

static void on_wake(uv_async_t *h);
static void on_signal(uv_signal_t *h, int signum);

static int init_loop(struct em_machine *m)
{
    static const int sigs[3] = { SIGINT, SIGTERM, SIGHUP };

    if (uv_loop_init(&m->loop) < 0) {
        kc_log(&m->log, KC_LOG_ERROR, "event loop: cannot initialise");
        return -ENOMEM;
    }
    m->loop_ready = true;
    m->loop.data = m;
    uv_async_init(&m->loop, &m->wake, on_wake);
    m->wake.data = m;
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&m->loop, &m->sig[i]);
        m->sig[i].data = m;
        uv_signal_start(&m->sig[i], on_signal, sigs[i]);
    }
    return 0;
}

struct em_machine *em_machine_create(const struct em_config *cfg, struct em_timeline *tl)
{
    struct kc_kvm_config kcfg;
    struct kc_vm_config vcfg;
    struct em_machine *m = calloc(1, sizeof(*m));

    if (!m) {
        fprintf(stderr, "kvmemu: out of memory\n");
        return NULL;
    }
    m->cfg = *cfg;
    m->tl = tl;
    m->pidfile_fd = -1;
    m->log = (struct kc_logger){ log_stderr, m, cfg->verbose > 1 ? KC_LOG_DEBUG : KC_LOG_WARN };
    /* libkvmcore reports every unclaimed port a probing guest touches as a
     * warning: useful when debugging, noise on a console. */
    m->kvm_log = (struct kc_logger){ log_stderr, m,
                                     cfg->verbose > 1   ? KC_LOG_DEBUG
                                     : cfg->verbose > 0 ? KC_LOG_WARN
                                                        : KC_LOG_ERROR };
    pthread_mutex_init(&m->req_lock, NULL);
    pthread_mutex_init(&m->ctl_lock, NULL);
    pthread_mutex_init(&m->done_lock, NULL);
    pthread_cond_init(&m->done_cond, NULL);
    pthread_mutex_init(&m->mon_lock, NULL);
    atomic_store(&m->state, cfg->paused ? EM_RUN_PRELAUNCH : EM_RUN_RUNNING);
    em_memmap_init(&m->mm, cfg->ram_size);
    if (init_loop(m) < 0)
        goto fail;

    kc_kvm_config_init(&kcfg);
    kcfg.fd = cfg->kvm_fd;
    kcfg.log = m->kvm_log;
    m->kvm = kc_kvm_open(&kcfg);
    if (!m->kvm)
        goto fail;
    if (cfg->smp > (unsigned)kc_kvm_max_vcpus(m->kvm)) {
        kc_log(&m->log, KC_LOG_ERROR, "--smp %u: this host allows at most %d vCPUs", cfg->smp,
               kc_kvm_max_vcpus(m->kvm));
        goto fail;
    }
    kc_vm_config_init(&vcfg);
    m->vm = kc_vm_create(m->kvm, &vcfg);
    if (!m->vm)
        goto fail;
    em_timeline_mark(m->tl, "VM created");
    if (add_ram(m) < 0 || read_images(m) < 0)
        goto fail;
    spawn_teardown(m);
    if (em_board_create(m) < 0)
        goto fail;
    if (kc_vm_get_irqchip_state(m->vm, &m->irqchip_init) < 0)
        goto fail;
    if (load_boot(m) < 0)
        goto fail;
    m->cpus = em_cpus_create(m);
    if (!m->cpus || em_cpus_reset(m->cpus, &m->boot) < 0)
        goto fail;
    if (write_pidfile(m) < 0)
        goto fail;
    /* Last: a client that connects finds the whole machine. */
    if (cfg->nr_monitors) {
        m->control = em_control_create(m);
        if (!m->control)
            goto fail;
    }
    return m;

fail:
    em_machine_destroy(m);
    return NULL;
}

/* ---- running ---- */

static void reset_devices(struct em_machine *m)
{
    for (unsigned i = 0; i < m->nr_devices; i++)
        if (m->devices[i].ops && m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].state);
}

/* Reset in place: every vCPU stopped, devices, interrupt controllers,
 * memory contents (tables, image) and vCPUs back to power-on, then run. */
static int reset_in_place(struct em_machine *m)
{
    int ret;

    em_timeline_mark(m->tl, "reset %u", ++m->resets);
    em_cpus_stop(m->cpus);
    reset_devices(m);
    ret = kc_vm_set_irqchip_state(m->vm, &m->irqchip_init);
    if (ret == 0)
        ret = load_boot(m);
    if (ret == 0)
        ret = em_cpus_reset(m->cpus, &m->boot);
    if (ret == 0)
        ret = em_cpus_start(m->cpus);
    return ret;
}

static void announce_done(struct em_machine *m, bool reset)
{
    pthread_mutex_lock(&m->done_lock);
    if (reset)
        m->reset_gen++;
    else
        m->ended = true;
    pthread_cond_broadcast(&m->done_cond);
    pthread_mutex_unlock(&m->done_lock);
}

int em_machine_reset_by_host(struct em_machine *m, const char *reason)
{
    struct timespec deadline;
    unsigned gen;
    int ret = 0;

    pthread_mutex_lock(&m->done_lock);
    gen = m->reset_gen;
    pthread_mutex_unlock(&m->done_lock);
    em_machine_request_by_host(m, EM_REQ_RESET, 0, reason);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&m->done_lock);
    while (m->reset_gen == gen && !m->ended && ret == 0)
        ret = pthread_cond_timedwait(&m->done_cond, &m->done_lock, &deadline);
    pthread_mutex_unlock(&m->done_lock);
    return ret ? -ETIMEDOUT : 0;
}

/* The end of the run, in `state` (shutdown, internal-error). */
static void finish(struct em_machine *m, int status, enum em_run_state state)
{
    unsigned long int3, fwait;

    pthread_mutex_lock(&m->ctl_lock);
    atomic_store(&m->state, state);
    em_cpus_stop(m->cpus);
    pthread_mutex_unlock(&m->ctl_lock);
    em_cpus_completed(m->cpus, &int3, &fwait);
    if (int3 || fwait)
        em_timeline_mark(m->tl, "completed for the host: %lu int3, %lu fwait", int3, fwait);
    m->exit_status = status;
    announce_done(m, false);
    uv_stop(&m->loop);
}

/* Reset in place, keeping a stopped VM stopped: as QEMU, a VM reset while
 * not running is then in prelaunch, and "cont" runs it. */
static void do_reset(struct em_machine *m, bool guest, const char *reason)
{
    int ret;

    pthread_mutex_lock(&m->ctl_lock);
    ret = reset_in_place(m);
    if (ret == 0 && atomic_load(&m->state) != EM_RUN_RUNNING)
        atomic_store(&m->state, EM_RUN_PRELAUNCH);
    pthread_mutex_unlock(&m->ctl_lock);
    if (ret < 0) {
        kc_log(&m->log, KC_LOG_ERROR, "the machine could not be reset");
        finish(m, EM_EXIT_ERROR, EM_RUN_INTERNAL_ERROR);
        return;
    }
    cause_event(m, "RESET", guest, reason);
    announce_done(m, true);
}

/* QEMU's order: GUEST_PANICKED, then STOP (pause) or SHUTDOWN (power-off). */
static void do_panic(struct em_machine *m)
{
    json_object *d = json_object_new_object();
    bool pause = m->cfg.on_panic == EM_PANIC_PAUSE;

    json_object_object_add(d, "action", json_object_new_string(pause ? "pause" : "poweroff"));
    em_machine_event(m, "GUEST_PANICKED", d);
    if (!pause) {
        cause_event(m, "SHUTDOWN", true, "guest-panic");
        finish(m, EM_EXIT_OK, EM_RUN_SHUTDOWN);
        return;
    }
    pthread_mutex_lock(&m->ctl_lock);
    kc_vm_pause(m->vm);
    atomic_store(&m->state, EM_RUN_GUEST_PANICKED);
    pthread_mutex_unlock(&m->ctl_lock);
    em_machine_event(m, "STOP", NULL);
}

static void on_wake(uv_async_t *h)
{
    struct em_machine *m = h->data;
    enum em_request req;
    const char *reason;
    bool guest;
    int status;

    pthread_mutex_lock(&m->req_lock);
    req = m->req;
    status = m->req_status;
    reason = m->req_reason;
    guest = m->req_by_guest;
    m->req = EM_REQ_NONE;
    pthread_mutex_unlock(&m->req_lock);

    switch (req) {
    case EM_REQ_RESET:
        if (m->cfg.on_reboot == EM_REBOOT_EXIT) {
            /* As QEMU's -no-reboot: the reset becomes a shutdown. */
            em_timeline_mark(m->tl, "reset: exiting (--on-reboot exit)");
            cause_event(m, "SHUTDOWN", guest, reason);
            finish(m, EM_EXIT_OK, EM_RUN_SHUTDOWN);
        } else {
            do_reset(m, guest, reason);
        }
        break;
    case EM_REQ_POWEROFF:
        em_timeline_mark(m->tl, "power-off (status %d)", status);
        cause_event(m, "SHUTDOWN", guest, reason);
        finish(m, status, EM_RUN_SHUTDOWN);
        break;
    case EM_REQ_ERROR:
        em_timeline_mark(m->tl, "stopped on an error");
        if (em_machine_state(m) == EM_RUN_RUNNING)
            em_machine_event(m, "STOP", NULL);
        finish(m, status ? status : EM_EXIT_ERROR, EM_RUN_INTERNAL_ERROR);
        break;
    case EM_REQ_PANIC:
        do_panic(m);
        break;
    default:
        break;
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct em_machine *m = h->data;

    /* As QEMU does: a termination signal ends the VM, status 0. */
    fprintf(stderr, "kvmemu: terminating on signal %d\n", signum);
    em_timeline_mark(m->tl, "terminated by signal %d", signum);
    em_machine_request_by_host(m, EM_REQ_POWEROFF, EM_EXIT_OK, "host-signal");
}

int em_machine_run(struct em_machine *m)
{
    /* --paused: the vCPU threads start and wait at once, for "cont". */
    if (m->cfg.paused) {
        kc_vm_pause(m->vm);
        em_timeline_mark(m->tl, "vCPUs wait for \"cont\" (--paused)");
    }
    if (em_cpus_start(m->cpus) < 0)
        return EM_EXIT_ERROR;
    m->exit_status = EM_EXIT_ERROR;
    uv_run(&m->loop, UV_RUN_DEFAULT);
    return m->exit_status;
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

static void close_loop(struct em_machine *m)
{
    if (!m->loop_ready)
        return;
    uv_close((uv_handle_t *)&m->wake, close_cb);
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&m->sig[i], close_cb);
    /* Let devices' handles close too (they were closed in destroy). */
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m->loop);
}

void em_machine_destroy(struct em_machine *m)
{
    if (!m)
        return;
    /* The monitor first: its commands act on everything below. What it
     * still has to send (the reply to "quit", the last events) goes out. */
    if (m->control) {
        struct em_control *c = m->control;

        pthread_mutex_lock(&m->mon_lock);
        m->control = NULL;
        pthread_mutex_unlock(&m->mon_lock);
        em_control_destroy(c);
    }
    if (m->vm)
        kc_vm_stop(m->vm);
    for (unsigned i = m->nr_devices; i-- > 0;)
        if (m->devices[i].ops && m->devices[i].ops->destroy)
            m->devices[i].ops->destroy(m->devices[i].state);
    em_cpus_destroy(m->cpus);
    kc_vm_destroy(m->vm);
    kc_kvm_close(m->kvm);
    em_image_free(&m->kernel);
    em_image_free(&m->initrd);
    close_loop(m);
    if (m->pidfile_fd >= 0) {
        unlink(m->cfg.pidfile);
        close(m->pidfile_fd);
    }
    pthread_mutex_destroy(&m->req_lock);
    pthread_mutex_destroy(&m->ctl_lock);
    pthread_mutex_destroy(&m->done_lock);
    pthread_cond_destroy(&m->done_cond);
    pthread_mutex_destroy(&m->mon_lock);
    free(m);
}
