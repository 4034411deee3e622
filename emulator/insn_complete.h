/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Completing instructions that a host's KVM failed to emulate (this
 * machine's nested KVM cannot emulate int3 or fwait; see MACHINE.md). Only
 * emulation-failure internal errors are considered, and only these two
 * one-byte instructions, whose architectural effect is simple:
 *   int3 (CC): a trap: RIP moves past it, then #BP (vector 3) is delivered;
 *   fwait (9B): #MF (vector 16) if an unmasked x87 exception is pending,
 *               otherwise nothing but RIP moving past it.
 * Anything else still stops the VM with RIP and the bytes.
 */
#ifndef EM_INSN_COMPLETE_H
#define EM_INSN_COMPLETE_H

#include <stdatomic.h>
#include <stdbool.h>

#include <kvmcore/kvmcore.h>

struct em_insn_stats {
    _Atomic unsigned long int3;
    _Atomic unsigned long fwait;
};

/* True if the exit was one of these and the vCPU may run on. */
bool em_insn_complete(struct kc_vcpu *v, const struct kc_exit *e, struct em_insn_stats *st);

#endif
