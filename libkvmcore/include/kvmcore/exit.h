/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A vCPU exit, decoded from kvm_run into a plain struct, so that the code
 * acting on it never reads the shared run page itself.
 */
#ifndef KVMCORE_EXIT_H
#define KVMCORE_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kc_exit_type {
    /* Port I/O not (yet) dispatched; see io. */
    KC_EXIT_IO,
    /* MMIO not (yet) dispatched; see mmio. */
    KC_EXIT_MMIO,
    /* HLT without an in-kernel LAPIC. */
    KC_EXIT_HLT,
    /* Triple fault or similar: the CPU would reset. rip is filled in. */
    KC_EXIT_SHUTDOWN,
    /* KVM could not continue: see internal (suberror, rip, instruction). */
    KC_EXIT_INTERNAL_ERROR,
    /* VM entry failed: see fail_entry. */
    KC_EXIT_FAIL_ENTRY,
    /* KVM_RUN was interrupted (a kick or another signal). */
    KC_EXIT_INTR,
    /* KVM_EXIT_SYSTEM_EVENT (shutdown, reset, crash requested by KVM). */
    KC_EXIT_SYSTEM_EVENT,
    /* KVM_EXIT_DEBUG (guest debugging). */
    KC_EXIT_DEBUG,
    /* An unclaimed I/O or MMIO access whose policy said stop; see io/mmio. */
    KC_EXIT_UNHANDLED,
    /* Anything else; reason holds KVM's exit reason. */
    KC_EXIT_OTHER,
};

/* KVM_INTERNAL_ERROR_* suberrors, mirrored so users need not include linux/kvm.h. */
enum kc_internal_suberror {
    KC_INTERNAL_EMULATION = 1,
    KC_INTERNAL_SIMUL_EX = 2,
    KC_INTERNAL_DELIVERY_EV = 3,
    KC_INTERNAL_UNEXPECTED_EXIT_REASON = 4,
};

#define KC_EXIT_MAX_INSN 15u
#define KC_EXIT_MAX_DATA 16u

struct kc_exit {
    enum kc_exit_type type;
    /* KVM's raw exit reason (KVM_EXIT_*). */
    uint32_t reason;
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2 or 4 */
            bool is_write;
            uint32_t count; /* > 1 for string I/O (rep ins/outs) */
            /* count * size bytes inside the run page; valid until the next run. */
            uint8_t *data;
        } io;
        struct {
            uint64_t gpa;
            uint8_t size; /* 1 to 8 */
            bool is_write;
            uint8_t data[8];
        } mmio;
        struct {
            uint32_t suberror;
            uint64_t rip;
            bool rip_valid;
            /* Instruction bytes at rip: from KVM if it supplied them, else
             * fetched from guest memory through the vCPU's page tables. */
            uint8_t insn_len;
            uint8_t insn[KC_EXIT_MAX_INSN];
            /* KVM's debug words; data[data_start..ndata) are the ones
             * not already decoded above. */
            uint32_t ndata;
            uint32_t data_start;
            uint64_t data[KC_EXIT_MAX_DATA];
        } internal;
        struct {
            uint64_t hardware_reason;
            uint32_t cpu;
            uint64_t rip;
            bool rip_valid;
        } fail_entry;
        struct {
            uint64_t rip;
            bool rip_valid;
        } shutdown;
        struct {
            uint32_t type;
            uint64_t flags;
        } system_event;
    };
};

/* Short name of an exit type ("io", "internal-error", ...). */
const char *kc_exit_type_name(enum kc_exit_type type);

/*
 * One line that says what happened, for a log or an error message, e.g.
 * "internal error: emulation failure (suberror 1) at RIP 0x1003,
 *  instruction bytes: cc f4 00 00". Always NUL-terminates; returns buf.
 */
char *kc_exit_describe(const struct kc_exit *exit, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
