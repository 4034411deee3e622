/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A virtual CPU: its architectural state, one-exit-at-a-time running, and a
 * run loop that dispatches port and MMIO exits to the VM's buses.
 *
 * State accessors take the kernel's own structs (linux/kvm.h): they are the
 * stable UAPI, and copying them field by field would only add bugs.
 */
#ifndef KVMCORE_VCPU_H
#define KVMCORE_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include <kvmcore/cpuid.h>
#include <kvmcore/exit.h>
#include <kvmcore/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates vCPU `id` (also its APIC id) and gives it the host's supported
 * CPUID with its APIC id filled in; kc_vcpu_set_cpuid() may replace that
 * before the first run. Freed by kc_vm_destroy().
 */
struct kc_vcpu *kc_vcpu_create(struct kc_vm *vm, unsigned id);

unsigned kc_vcpu_id(const struct kc_vcpu *vcpu);
int kc_vcpu_fd(const struct kc_vcpu *vcpu);
struct kc_vm *kc_vcpu_vm(const struct kc_vcpu *vcpu);
/* The shared run page, for callers that need a field this API lacks. */
struct kvm_run *kc_vcpu_run_page(const struct kc_vcpu *vcpu);

/* ---- state ---- */
int kc_vcpu_get_regs(struct kc_vcpu *vcpu, struct kvm_regs *regs);
int kc_vcpu_set_regs(struct kc_vcpu *vcpu, const struct kvm_regs *regs);
int kc_vcpu_get_sregs(struct kc_vcpu *vcpu, struct kvm_sregs *sregs);
int kc_vcpu_set_sregs(struct kc_vcpu *vcpu, const struct kvm_sregs *sregs);
int kc_vcpu_get_fpu(struct kc_vcpu *vcpu, struct kvm_fpu *fpu);
int kc_vcpu_set_fpu(struct kc_vcpu *vcpu, const struct kvm_fpu *fpu);
int kc_vcpu_get_lapic(struct kc_vcpu *vcpu, struct kvm_lapic_state *lapic);
int kc_vcpu_set_lapic(struct kc_vcpu *vcpu, const struct kvm_lapic_state *lapic);
int kc_vcpu_get_mp_state(struct kc_vcpu *vcpu, struct kvm_mp_state *mp);
int kc_vcpu_set_mp_state(struct kc_vcpu *vcpu, const struct kvm_mp_state *mp);
int kc_vcpu_get_xcrs(struct kc_vcpu *vcpu, struct kvm_xcrs *xcrs);
int kc_vcpu_set_xcrs(struct kc_vcpu *vcpu, const struct kvm_xcrs *xcrs);
int kc_vcpu_get_events(struct kc_vcpu *vcpu, struct kvm_vcpu_events *events);
int kc_vcpu_set_events(struct kc_vcpu *vcpu, const struct kvm_vcpu_events *events);

struct kc_msr {
    uint32_t index;
    uint64_t value;
};
/* Reads or writes n MSRs; -EIO naming the first MSR KVM refused. */
int kc_vcpu_get_msrs(struct kc_vcpu *vcpu, struct kc_msr *msrs, unsigned n);
int kc_vcpu_set_msrs(struct kc_vcpu *vcpu, const struct kc_msr *msrs, unsigned n);

/* Installs cpuid with this vCPU's APIC id filled into leaves 1, 0xb and
 * 0x1f, and the hypervisor bit set. */
int kc_vcpu_set_cpuid(struct kc_vcpu *vcpu, const struct kc_cpuid *cpuid);

/* Translates a guest-virtual address through the vCPU's current paging
 * mode (KVM_TRANSLATE); -EFAULT if it is not mapped. */
int kc_vcpu_translate(struct kc_vcpu *vcpu, uint64_t gva, uint64_t *gpa);

/* ---- running ---- */

/*
 * One KVM_RUN, decoded into *exit. Returns 0 (an interrupted run is the
 * exit KC_EXIT_INTR) or -errno if the ioctl itself failed.
 */
int kc_vcpu_run(struct kc_vcpu *vcpu, struct kc_exit *exit);

/*
 * Offers an exit to the VM's buses. Returns true if it was fully handled
 * (the vCPU may run again), false if the caller must act on it; an
 * unclaimed access whose policy says stop becomes KC_EXIT_UNHANDLED.
 */
bool kc_vcpu_dispatch(struct kc_vcpu *vcpu, struct kc_exit *exit);

enum kc_action {
    KC_ACTION_CONTINUE,
    KC_ACTION_STOP,
};

/* Called on the vCPU's thread for each exit the buses did not handle. */
typedef enum kc_action (*kc_exit_fn)(void *opaque, struct kc_vcpu *vcpu,
                                     const struct kc_exit *exit);

enum kc_loop_result {
    /* The exit handler returned KC_ACTION_STOP (or there was none). */
    KC_LOOP_EXIT = 1,
    /* kc_vcpu_request_stop() or kc_vm_stop() ended the loop. */
    KC_LOOP_STOPPED = 2,
};

/*
 * Runs the vCPU on the calling thread until the exit handler says stop or
 * a stop is requested, honouring VM pause requests in between. The kick
 * signal must not be blocked on this thread. `last` (may be NULL) receives
 * the final exit. Returns a kc_loop_result, or -errno if KVM_RUN failed.
 * A NULL handler stops at the first exit the buses do not handle.
 */
int kc_vcpu_loop(struct kc_vcpu *vcpu, kc_exit_fn fn, void *opaque, struct kc_exit *last);

/* kc_vcpu_loop() on a new thread, which blocks every signal but the kick
 * and the synchronous ones (SIGSEGV, SIGBUS, SIGFPE, SIGILL). */
int kc_vcpu_start(struct kc_vcpu *vcpu, kc_exit_fn fn, void *opaque);
/* Waits for that thread; returns its loop result and copies its last exit. */
int kc_vcpu_join(struct kc_vcpu *vcpu, struct kc_exit *last);
bool kc_vcpu_is_started(const struct kc_vcpu *vcpu);
/* The host thread id (gettid) of the thread that last ran the vCPU's
 * loop, as QEMU's query-cpus-fast reports it; -1 before it first ran. */
int kc_vcpu_thread_id(const struct kc_vcpu *vcpu);

/* Makes the loop return KC_LOOP_STOPPED promptly; callable from any thread,
 * including the vCPU's own (from a device handler). */
void kc_vcpu_request_stop(struct kc_vcpu *vcpu);
/* Forces the vCPU out of KVM_RUN once (the run returns KC_EXIT_INTR). */
void kc_vcpu_kick(struct kc_vcpu *vcpu);

/*
 * The vCPU whose kc_vcpu_loop() runs on the calling thread, or NULL: lets a
 * device handler act on the vCPU that made the access (stop it at once on
 * a power-off write, say). Thread-local, so it holds for any number of VMs.
 */
struct kc_vcpu *kc_vcpu_self(void);

#ifdef __cplusplus
}
#endif

#endif
