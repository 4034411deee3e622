/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small VM for the real-KVM tests: RAM laid out as on a PC (0-640 KiB and
 * 1 MiB up to 8 MiB), the guest's report port, the debug-exit port handled
 * through the bus's stop policy, and a watchdog so that no test can hang.
 */
#ifndef KVM_HARNESS_H
#define KVM_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#include "testutil.h"

#define KT_MAX_VCPUS   2
#define KT_MAX_REPORTS 256
#define KT_RAM_TOP     (8ull << 20)
#define KT_GDT         0x500
#define KT_PAGE_TABLES 0x10000
#define KT_MAILBOX     0x8000
#define KT_IMAGE       0x100000
#define KT_REAL_CS     0x100
#define KT_PORT_REPORT 0x610
#define KT_PORT_EXIT   0xf4
#define KT_TIMEOUT_S   30.0

enum kt_mode { KT_REAL, KT_PROTECTED, KT_LONG };

struct kt_vm {
    struct log_capture log;
    struct kc_kvm *kvm;
    struct kc_vm *vm;
    struct kc_vcpu *vcpu[KT_MAX_VCPUS];
    unsigned nr_vcpus;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint32_t reports[KT_MAX_REPORTS];
    unsigned nr_reports;
    /* Per vCPU: the debug-exit code, or -1 if the guest did not write one. */
    int exit_code[KT_MAX_VCPUS];
    /* Per vCPU: the exit that ended its loop (if not the debug exit). */
    struct kc_exit last[KT_MAX_VCPUS];
    bool timed_out;
};

/* A VM with nr_vcpus vCPUs (cfg may be NULL for the default config). */
struct kt_vm *kt_vm_new(unsigned nr_vcpus, const struct kc_vm_config *cfg);
void kt_vm_free(struct kt_vm *t);

/* Copies tests/guests/NAME.bin to gpa; fails the test if it cannot. */
void kt_load(struct kt_vm *t, const char *name, uint64_t gpa);
/* Puts vCPU idx in the mode, entering at the image (RDI = idx in 32/64-bit). */
void kt_setup(struct kt_vm *t, unsigned idx, enum kt_mode mode);
/* Load + setup for every vCPU: the usual start of a test. */
void kt_boot(struct kt_vm *t, const char *name, enum kt_mode mode);

/* Runs vCPU idx on this thread until it exits or the watchdog fires.
 * Returns kc_vcpu_loop()'s result. */
int kt_run(struct kt_vm *t, unsigned idx, double timeout_s);
/* Starts vCPU idx on its own thread, and joins it (stopping it after
 * timeout_s if it has not finished, which sets timed_out). */
void kt_start(struct kt_vm *t, unsigned idx);
int kt_join(struct kt_vm *t, unsigned idx, double timeout_s);

/* Waits until the guest has reported `value`; false after timeout_s. */
bool kt_wait_report(struct kt_vm *t, uint32_t value, double timeout_s);
/* Copies the reports so far; returns how many. */
unsigned kt_reports(struct kt_vm *t, uint32_t *out, unsigned max);

/* Sleeps for ms milliseconds. */
void kt_sleep_ms(unsigned ms);
/* Reads a uint64_t of guest memory (fails the test if out of RAM). */
uint64_t kt_peek64(struct kt_vm *t, uint64_t gpa);

#endif
