/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "insn_complete.h"

#define OP_INT3  0xcc
#define OP_FWAIT 0x9b
#define VEC_BP   3
#define VEC_MF   16

/* FSW's exception flags (IE..PE, bits 0-5) not masked by FCW (bits 0-5). */
static bool x87_exception_pending(struct kc_vcpu *v)
{
    struct kvm_fpu fpu;

    if (kc_vcpu_get_fpu(v, &fpu) < 0)
        return false;
    return (fpu.fsw & ~fpu.fcw & 0x3f) != 0;
}

static bool skip_and_inject(struct kc_vcpu *v, uint64_t rip, int vector)
{
    struct kvm_regs regs;
    struct kvm_vcpu_events ev;

    if (kc_vcpu_get_regs(v, &regs) < 0 || regs.rip != rip)
        return false;
    regs.rip++;
    if (kc_vcpu_set_regs(v, &regs) < 0)
        return false;
    if (vector < 0)
        return true;
    if (kc_vcpu_get_events(v, &ev) < 0)
        return false;
    /* Deliver the exception the instruction raises, as a trap at the
     * instruction after it. */
    ev.exception.injected = 1;
    ev.exception.nr = (uint8_t)vector;
    ev.exception.has_error_code = 0;
    ev.exception.error_code = 0;
    ev.flags = 0;
    return kc_vcpu_set_events(v, &ev) == 0;
}

bool em_insn_complete(struct kc_vcpu *v, const struct kc_exit *e, struct em_insn_stats *st)
{
    if (e->type != KC_EXIT_INTERNAL_ERROR || e->internal.suberror != KC_INTERNAL_EMULATION ||
        !e->internal.rip_valid || e->internal.insn_len < 1)
        return false;
    switch (e->internal.insn[0]) {
    case OP_INT3:
        if (!skip_and_inject(v, e->internal.rip, VEC_BP))
            return false;
        atomic_fetch_add(&st->int3, 1);
        return true;
    case OP_FWAIT:
        if (!skip_and_inject(v, e->internal.rip, x87_exception_pending(v) ? VEC_MF : -1))
            return false;
        atomic_fetch_add(&st->fwait, 1);
        return true;
    default:
        return false;
    }
}
