/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpu.h"
#include "insn_complete.h"

/* A vCPU's power-on state, as KVM created it. */
struct power_on_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_fpu fpu;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_xcrs xcrs;
    struct kvm_vcpu_events events;
};

struct em_cpus {
    struct em_machine *m;
    unsigned n;
    struct em_insn_stats completed;
    struct kc_vcpu **vcpu;
    struct power_on_state *init;
};

/*
 * MSRs a guest sets that outlive a reset unless put back: the kvmclock
 * and PV feature pages (KVM keeps writing to them), the syscall entry
 * points, the TSC deadline. Values are the architectural reset values;
 * an MSR this host does not have is skipped.
 */
static const struct kc_msr reset_msrs[] = {
    { 0x11, 0 },                      /* MSR_KVM_WALL_CLOCK */
    { 0x12, 0 },                      /* MSR_KVM_SYSTEM_TIME */
    { 0x4b564d00, 0 },                /* MSR_KVM_WALL_CLOCK_NEW */
    { 0x4b564d01, 0 },                /* MSR_KVM_SYSTEM_TIME_NEW */
    { 0x4b564d02, 0 },                /* MSR_KVM_ASYNC_PF_EN */
    { 0x4b564d03, 0 },                /* MSR_KVM_STEAL_TIME */
    { 0x4b564d04, 0 },                /* MSR_KVM_PV_EOI_EN */
    { 0x4b564d05, 1 },                /* MSR_KVM_POLL_CONTROL */
    { 0x174, 0 },                     /* SYSENTER_CS */
    { 0x175, 0 },                     /* SYSENTER_ESP */
    { 0x176, 0 },                     /* SYSENTER_EIP */
    { 0xc0000081, 0 },                /* STAR */
    { 0xc0000082, 0 },                /* LSTAR */
    { 0xc0000083, 0 },                /* CSTAR */
    { 0xc0000084, 0 },                /* SFMASK */
    { 0xc0000102, 0 },                /* KERNEL_GS_BASE */
    { 0xc0000103, 0 },                /* TSC_AUX */
    { 0x6e0, 0 },                     /* TSC_DEADLINE */
    { 0x277, 0x0007040600070406ull }, /* PAT */
    { 0x2ff, 0 },                     /* MTRRdefType */
    { 0x48, 0 },                      /* SPEC_CTRL */
};

static int snapshot(struct em_cpus *c, unsigned i)
{
    struct kc_vcpu *v = c->vcpu[i];
    struct power_on_state *s = &c->init[i];

    if (kc_vcpu_get_regs(v, &s->regs) || kc_vcpu_get_sregs(v, &s->sregs) ||
        kc_vcpu_get_fpu(v, &s->fpu) || kc_vcpu_get_lapic(v, &s->lapic) ||
        kc_vcpu_get_mp_state(v, &s->mp) || kc_vcpu_get_xcrs(v, &s->xcrs) ||
        kc_vcpu_get_events(v, &s->events))
        return -EIO;
    return 0;
}

struct em_cpus *em_cpus_create(struct em_machine *m)
{
    const struct em_config *cfg = em_machine_config(m);
    const struct kc_logger *log = em_machine_logger(m);
    struct em_cpus *c = calloc(1, sizeof(*c));
    struct kc_cpuid *cpuid = NULL;

    if (!c)
        return NULL;
    c->m = m;
    c->n = cfg->smp;
    c->vcpu = calloc(c->n, sizeof(*c->vcpu));
    c->init = calloc(c->n, sizeof(*c->init));
    if (!c->vcpu || !c->init) {
        kc_log(log, KC_LOG_ERROR, "vCPUs: out of memory");
        goto fail;
    }
    cpuid = kc_cpuid_supported(kc_vm_kvm(em_machine_vm(m)));
    if (!cpuid)
        goto fail;
    if (kc_cpuid_apply(cpuid, cfg->cpu_changes, cfg->nr_cpu_changes, log) < 0)
        goto fail;
    em_cpuid_set_topology(cpuid, c->n);
    for (unsigned i = 0; i < c->n; i++) {
        c->vcpu[i] = kc_vcpu_create(em_machine_vm(m), i);
        if (!c->vcpu[i])
            goto fail;
        if (kc_vcpu_set_cpuid(c->vcpu[i], cpuid) < 0 || snapshot(c, i) < 0)
            goto fail;
    }
    kc_cpuid_free(cpuid);
    return c;

fail:
    kc_cpuid_free(cpuid);
    em_cpus_destroy(c);
    return NULL;
}

void em_cpus_destroy(struct em_cpus *c)
{
    if (!c)
        return;
    /* The vCPUs themselves belong to the VM and go with it. */
    free(c->vcpu);
    free(c->init);
    free(c);
}

static void reset_msrs_of(struct kc_vcpu *v)
{
    struct kvm_msrs *k;

    k = calloc(1, sizeof(*k) + sizeof(k->entries[0]));
    if (!k)
        return;
    /* One at a time, quietly: an MSR this host lacks is simply not there. */
    for (size_t i = 0; i < sizeof(reset_msrs) / sizeof(reset_msrs[0]); i++) {
        k->nmsrs = 1;
        k->entries[0].index = reset_msrs[i].index;
        k->entries[0].data = reset_msrs[i].value;
        ioctl(kc_vcpu_fd(v), KVM_SET_MSRS, k);
    }
    free(k);
}

static int enter_boot(struct kc_vcpu *bsp, const struct em_boot *b)
{
    struct kvm_regs regs;
    int ret;

    switch (b->mode) {
    case EM_MODE_REAL:
        ret = kc_x86_setup_real_mode(bsp, b->real_cs, (uint16_t)b->entry);
        break;
    case EM_MODE_PROTECTED:
        ret = kc_x86_setup_protected_mode(bsp, EM_BOOT_GDT, b->entry);
        break;
    default:
        ret = kc_x86_setup_long_mode(bsp, EM_BOOT_GDT, EM_BOOT_PT, b->entry);
        break;
    }
    if (ret < 0)
        return ret;
    ret = kc_vcpu_get_regs(bsp, &regs);
    if (ret < 0)
        return ret;
    regs.rax = b->rax;
    regs.rbx = b->rbx;
    regs.rsi = b->rsi;
    regs.rdi = b->rdi;
    regs.rsp = b->rsp;
    return kc_vcpu_set_regs(bsp, &regs);
}

int em_cpus_reset(struct em_cpus *c, const struct em_boot *boot)
{
    for (unsigned i = 0; i < c->n; i++) {
        struct kc_vcpu *v = c->vcpu[i];
        struct power_on_state *s = &c->init[i];

        if (kc_vcpu_set_sregs(v, &s->sregs) || kc_vcpu_set_regs(v, &s->regs) ||
            kc_vcpu_set_fpu(v, &s->fpu) || kc_vcpu_set_lapic(v, &s->lapic) ||
            kc_vcpu_set_xcrs(v, &s->xcrs) || kc_vcpu_set_events(v, &s->events) ||
            kc_vcpu_set_mp_state(v, &s->mp))
            return -EIO;
        reset_msrs_of(v);
    }
    return boot->reset_vector ? 0 : enter_boot(c->vcpu[0], boot);
}

/*
 * Exits no device handled. Every one of these ends this vCPU's loop: the
 * main thread then stops the others and resets, powers off or fails.
 */
static enum kc_action handle_exit(void *opaque, struct kc_vcpu *v, const struct kc_exit *e)
{
    struct em_cpus *c = opaque;
    struct em_machine *m = c->m;
    char why[512];

    /* An instruction this host's KVM could not emulate but we can finish. */
    if (em_insn_complete(v, e, &c->completed)) {
        if (em_timeline_mark_once(em_machine_timeline(m), "completed an unemulated instruction"))
            kc_log(em_machine_logger(m), KC_LOG_WARN,
                   "vCPU %u: the host could not emulate %s at RIP 0x%llx; kvmemu completed it "
                   "(counted in the boot timeline)",
                   kc_vcpu_id(v), e->internal.insn[0] == 0xcc ? "int3" : "fwait",
                   (unsigned long long)e->internal.rip);
        return KC_ACTION_CONTINUE;
    }
    kc_exit_describe(e, why, sizeof(why));
    switch (e->type) {
    case KC_EXIT_SHUTDOWN:
        em_timeline_mark(em_machine_timeline(m), "vCPU %u: triple fault", kc_vcpu_id(v));
        em_machine_request(m, EM_REQ_RESET, 0);
        break;
    case KC_EXIT_SYSTEM_EVENT:
        if (e->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
            em_machine_request(m, EM_REQ_POWEROFF, EM_EXIT_OK);
        else if (e->system_event.type == KVM_SYSTEM_EVENT_RESET)
            em_machine_request(m, EM_REQ_RESET, 0);
        else {
            fprintf(stderr, "kvmemu: vCPU %u stopped: %s\n", kc_vcpu_id(v), why);
            em_machine_request(m, EM_REQ_ERROR, EM_EXIT_ERROR);
        }
        break;
    default:
        /* Internal errors (an instruction KVM cannot emulate), failed
         * entries and anything unexpected: say where, and stop. */
        fprintf(stderr, "kvmemu: vCPU %u stopped: %s\n", kc_vcpu_id(v), why);
        em_timeline_mark(em_machine_timeline(m), "vCPU %u: %s", kc_vcpu_id(v),
                         kc_exit_type_name(e->type));
        em_machine_request(m, EM_REQ_ERROR, EM_EXIT_ERROR);
        break;
    }
    return KC_ACTION_STOP;
}

int em_cpus_start(struct em_cpus *c)
{
    em_timeline_mark_once(em_machine_timeline(c->m), "first guest instruction");
    for (unsigned i = 0; i < c->n; i++) {
        int ret = kc_vcpu_start(c->vcpu[i], handle_exit, c);

        if (ret < 0) {
            em_cpus_stop(c);
            return ret;
        }
    }
    return 0;
}

void em_cpus_stop(struct em_cpus *c)
{
    kc_vm_stop(em_machine_vm(c->m));
}

void em_cpus_completed(struct em_cpus *c, unsigned long *int3, unsigned long *fwait)
{
    *int3 = atomic_load(&c->completed.int3);
    *fwait = atomic_load(&c->completed.fwait);
}
