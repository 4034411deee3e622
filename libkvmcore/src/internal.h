/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Object layouts and helpers shared by the library's files. Nothing here
 * is installed; symbols use the kci_ prefix, which the version script
 * keeps out of the shared library's exports.
 */
#ifndef KVMCORE_INTERNAL_H
#define KVMCORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#define KCI_ERR(log, ...)  kc_log((log), KC_LOG_ERROR, __VA_ARGS__)
#define KCI_WARN(log, ...) kc_log((log), KC_LOG_WARN, __VA_ARGS__)
#define KCI_DBG(log, ...)  kc_log((log), KC_LOG_DEBUG, __VA_ARGS__)

#define KCI_PAGE_SIZE     4096ull
#define KCI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ioctl() that retries on EINTR and returns -errno on failure. */
int kci_ioctl(int fd, unsigned long req, void *arg);

/* ---- kvm.c ---- */

struct kc_kvm {
    int fd;
    int api_version;
    int vcpu_mmap_size;
    struct kc_logger log;
    /* KVM_GET_SUPPORTED_CPUID, fetched on first use. */
    pthread_mutex_t cpuid_lock;
    struct kc_cpuid *supported_cpuid;
};

/* One capability the library cannot work without. */
struct kci_required_cap {
    long cap;
    const char *name;
    const char *why;
};
extern const struct kci_required_cap kci_required_caps[];
extern const unsigned kci_required_caps_count;

/*
 * The checks kc_kvm_open() makes once /dev/kvm answers, split out so the
 * messages can be tested without a broken KVM: `has_cap` answers for
 * KVM_CHECK_EXTENSION. Returns 0 or -errno after logging the reason.
 */
int kci_kvm_validate(const struct kc_logger *log, const char *what, int api_version,
                     int (*has_cap)(void *opaque, long cap), void *opaque);

/* Message and errno for a failed open() of the KVM device. */
int kci_kvm_open_error(const struct kc_logger *log, const char *path, int err);

/* ---- mem.c ---- */

struct kc_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
    int fd;
    unsigned flags;
    int slot;
    bool dirty_logging;
    char name[32];
};

struct kc_mem {
    struct kc_logger log;
    pthread_mutex_t lock; /* serializes writers only */
    /* Readers scan regions[0..count) with no lock: a slot is filled before
     * count is published with release ordering, and removal (which needs
     * quiescence, see mem.h) compacts the array. */
    _Atomic unsigned count;
    struct kc_region *_Atomic regions[KC_MEM_MAX_REGIONS];
};

/* ---- vm.c / irq.c ---- */

struct kci_msi_route {
    bool used;
    uint64_t addr;
    uint32_t data;
};

#define KCI_IOAPIC_PINS    24
#define KCI_MAX_MSI_ROUTES 1024

struct kc_vm {
    struct kc_kvm *kvm;
    struct kc_logger log;
    int fd;
    bool irqchip;         /* wanted (the config) */
    bool pit;             /* wanted */
    bool irqchip_created; /* both created (kci_vm_realize_irqchip) */
    int kick_signal;
    struct kc_mem *mem;
    struct kc_bus *pio;
    struct kc_bus *mmio;
    /* Slots handed out to regions; a bitmap of the first 512. */
    uint64_t slot_used[8];

    /* Serializes slot allocation and GSI routing updates. */
    pthread_mutex_t lock;
    struct kci_msi_route msi_routes[KCI_MAX_MSI_ROUTES]; /* GSI 24 + i */

    /* vCPUs and their run-state machine (vcpu_thread.c). */
    pthread_mutex_t run_lock;
    pthread_cond_t run_cond;
    bool paused;
    unsigned nr_vcpus;
    unsigned cap_vcpus;
    struct kc_vcpu **vcpus;
};

/* Creates the configured irqchip and PIT if not done yet (vm.c). */
int kci_vm_realize_irqchip(struct kc_vm *vm);

/* (Re)programs the KVM slot of a region (vm.c); present == false deletes it. */
int kci_vm_set_slot(struct kc_vm *vm, struct kc_region *r, bool present);

/* ---- vcpu.c / vcpu_run.c / vcpu_thread.c ---- */

enum kci_vcpu_state {
    KCI_VCPU_IDLE,    /* not inside kc_vcpu_loop() */
    KCI_VCPU_RUNNING, /* inside the loop, may be in KVM_RUN */
    KCI_VCPU_PAUSED,  /* inside the loop, waiting for resume */
};

#define KCI_REQ_PAUSE (1u << 0)
#define KCI_REQ_STOP  (1u << 1)

struct kc_vcpu {
    struct kc_vm *vm;
    unsigned id;
    int fd;
    struct kvm_run *run;
    int run_size;

    /* Pending requests, read once per loop iteration without the lock. */
    _Atomic unsigned requests;
    /* Protected by vm->run_lock. */
    enum kci_vcpu_state state;
    bool has_thread; /* a thread from kc_vcpu_start() exists */
    bool loop_thread_valid;
    pthread_t loop_thread; /* the thread inside kc_vcpu_loop() */
    pthread_t thread;      /* from kc_vcpu_start() */
    _Atomic int tid;       /* the kernel's id of the loop's thread; 0 before */

    /* The thread helper's arguments and result. */
    kc_exit_fn fn;
    void *fn_opaque;
    int loop_result;
    struct kc_exit last_exit;
};

void kci_vcpu_free(struct kc_vcpu *vcpu);
/* Ensures the kick signal has a handler that does not kill the process. */
int kci_install_kick_handler(const struct kc_logger *log, int sig);

/* ---- cpuid.c ---- */

struct kc_cpuid {
    unsigned n;
    struct kvm_cpuid_entry2 entries[];
};

#endif
