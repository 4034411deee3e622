/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One KVM_RUN, the exit decoded into a plain struct, and bus dispatch. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "internal.h"

#define EFER_LMA (1ull << 10)

/* Guest-virtual address of the instruction at RIP. */
static uint64_t insn_linear_address(const struct kvm_sregs *s, uint64_t rip)
{
    if ((s->efer & EFER_LMA) && s->cs.l)
        return rip; /* 64-bit code: the CS base is ignored */
    if (s->cr0 & 1)
        return (uint32_t)(s->cs.base + rip);
    return s->cs.base + (rip & 0xffff);
}

/* Reads up to KC_EXIT_MAX_INSN bytes at linear address la, stopping at the
 * first byte that is unmapped or outside RAM. Returns how many it read. */
static uint8_t fetch_insn(struct kc_vcpu *vcpu, uint64_t la, uint8_t *out)
{
    uint8_t n = 0;

    while (n < KC_EXIT_MAX_INSN) {
        struct kvm_translation tr = { .linear_address = la + n };
        uint64_t in_page = KCI_PAGE_SIZE - ((la + n) & (KCI_PAGE_SIZE - 1));
        uint64_t want = KC_EXIT_MAX_INSN - n < in_page ? KC_EXIT_MAX_INSN - n : in_page;

        /* Paging off: KVM_TRANSLATE returns the address itself. */
        if (kci_ioctl(vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
            break;
        if (kc_mem_read(vcpu->vm->mem, tr.physical_address, out + n, want) < 0) {
            /* Part of the page may still be RAM: fall back to bytes. */
            while (want && kc_mem_read(vcpu->vm->mem, tr.physical_address, out + n, 1) == 0) {
                n++;
                tr.physical_address++;
                want--;
            }
            break;
        }
        n = (uint8_t)(n + want);
    }
    return n;
}

/* For exits that end a run: where the vCPU stopped, and what was there. */
static void fill_rip(struct kc_vcpu *vcpu, uint64_t *rip, bool *valid, uint8_t *insn,
                     uint8_t *insn_len)
{
    struct kvm_regs regs;
    struct kvm_sregs sregs;

    *valid = false;
    if (kci_ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
        return;
    *rip = regs.rip;
    *valid = true;
    if (!insn || *insn_len)
        return;
    if (kci_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
        return;
    *insn_len = fetch_insn(vcpu, insn_linear_address(&sregs, regs.rip), insn);
}

static void decode_internal(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    const struct kvm_run *run = vcpu->run;
    uint32_t ndata = run->internal.ndata;

    exit->internal.suberror = run->internal.suberror;
    if (ndata > KC_EXIT_MAX_DATA)
        ndata = KC_EXIT_MAX_DATA;
    exit->internal.ndata = ndata;
    memcpy(exit->internal.data, run->internal.data, ndata * sizeof(uint64_t));
    exit->internal.insn_len = 0;
    exit->internal.data_start = 0;
    /* Newer kernels hand over the bytes they failed on; trust only a
     * length that fits. */
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && run->internal.ndata >= 3 &&
        (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
        run->emulation_failure.insn_size <= KC_EXIT_MAX_INSN) {
        exit->internal.insn_len = run->emulation_failure.insn_size;
        memcpy(exit->internal.insn, run->emulation_failure.insn_bytes,
               run->emulation_failure.insn_size);
        /* data[0] holds the flags, data[1..2] the bytes just copied. */
        exit->internal.data_start = 3;
    }
    fill_rip(vcpu, &exit->internal.rip, &exit->internal.rip_valid, exit->internal.insn,
             &exit->internal.insn_len);
}

static void decode(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    struct kvm_run *run = vcpu->run;

    exit->reason = run->exit_reason;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        uint64_t bytes = (uint64_t)run->io.size * run->io.count;

        /* The kernel fills these; still, never hand out a pointer past
         * the mapping. */
        if (run->io.data_offset > (uint64_t)vcpu->run_size ||
            bytes > (uint64_t)vcpu->run_size - run->io.data_offset || run->io.size == 0) {
            exit->type = KC_EXIT_OTHER;
            break;
        }
        exit->type = KC_EXIT_IO;
        exit->io.port = run->io.port;
        exit->io.size = run->io.size;
        exit->io.is_write = run->io.direction == KVM_EXIT_IO_OUT;
        exit->io.count = run->io.count;
        exit->io.data = (uint8_t *)run + run->io.data_offset;
        break;
    }
    case KVM_EXIT_MMIO:
        exit->type = KC_EXIT_MMIO;
        exit->mmio.gpa = run->mmio.phys_addr;
        exit->mmio.size = (uint8_t)(run->mmio.len > 8 ? 8 : run->mmio.len);
        exit->mmio.is_write = run->mmio.is_write;
        memcpy(exit->mmio.data, run->mmio.data, sizeof(exit->mmio.data));
        break;
    case KVM_EXIT_HLT:
        exit->type = KC_EXIT_HLT;
        break;
    case KVM_EXIT_SHUTDOWN:
        exit->type = KC_EXIT_SHUTDOWN;
        fill_rip(vcpu, &exit->shutdown.rip, &exit->shutdown.rip_valid, NULL, NULL);
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        exit->type = KC_EXIT_INTERNAL_ERROR;
        decode_internal(vcpu, exit);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        exit->type = KC_EXIT_FAIL_ENTRY;
        exit->fail_entry.hardware_reason = run->fail_entry.hardware_entry_failure_reason;
        exit->fail_entry.cpu = run->fail_entry.cpu;
        fill_rip(vcpu, &exit->fail_entry.rip, &exit->fail_entry.rip_valid, NULL, NULL);
        break;
    case KVM_EXIT_INTR:
        exit->type = KC_EXIT_INTR;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        exit->type = KC_EXIT_SYSTEM_EVENT;
        exit->system_event.type = run->system_event.type;
        exit->system_event.flags = run->system_event.flags;
        break;
    case KVM_EXIT_DEBUG:
        exit->type = KC_EXIT_DEBUG;
        break;
    default:
        exit->type = KC_EXIT_OTHER;
        break;
    }
}

int kc_vcpu_run(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    int ret = ioctl(vcpu->fd, KVM_RUN, 0);

    if (ret < 0) {
        int err = errno;

        if (err == EINTR || err == EAGAIN) {
            /*
             * A kick. Clear immediate_exit before the caller looks at its
             * requests; the fence orders this store before that load, so a
             * kick that lands in between is seen either as a request or as
             * immediate_exit = 1 on the next run (kc_vcpu_kick()).
             */
            __atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
            atomic_thread_fence(memory_order_seq_cst);
            exit->type = KC_EXIT_INTR;
            exit->reason = KVM_EXIT_INTR;
            return 0;
        }
        KCI_ERR(&vcpu->vm->log, "vCPU %u: KVM_RUN: %s", vcpu->id, strerror(err));
        return -err;
    }
    decode(vcpu, exit);
    return 0;
}

static uint64_t le_load(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;

    memcpy(&v, p, size); /* x86 is little-endian */
    return v;
}

static bool dispatch_io(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    struct kc_bus *bus = vcpu->vm->pio;
    bool stop = false;

    for (uint32_t i = 0; i < exit->io.count && !stop; i++) {
        uint8_t *p = exit->io.data + (size_t)i * exit->io.size;
        uint64_t v;

        if (exit->io.is_write) {
            kc_bus_write(bus, exit->io.port, le_load(p, exit->io.size), exit->io.size, &stop);
        } else {
            kc_bus_read(bus, exit->io.port, exit->io.size, &v, &stop);
            memcpy(p, &v, exit->io.size);
        }
    }
    if (stop)
        exit->type = KC_EXIT_UNHANDLED;
    return !stop;
}

static bool dispatch_mmio(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    struct kc_bus *bus = vcpu->vm->mmio;
    bool stop = false;
    uint64_t v;

    if (exit->mmio.size == 0)
        return true;
    if (exit->mmio.is_write) {
        kc_bus_write(bus, exit->mmio.gpa, le_load(exit->mmio.data, exit->mmio.size),
                     exit->mmio.size, &stop);
    } else {
        kc_bus_read(bus, exit->mmio.gpa, exit->mmio.size, &v, &stop);
        memcpy(exit->mmio.data, &v, exit->mmio.size);
        /* KVM completes the guest's load from the run page on the next run. */
        memcpy(vcpu->run->mmio.data, &v, exit->mmio.size);
    }
    if (stop)
        exit->type = KC_EXIT_UNHANDLED;
    return !stop;
}

bool kc_vcpu_dispatch(struct kc_vcpu *vcpu, struct kc_exit *exit)
{
    switch (exit->type) {
    case KC_EXIT_IO:
        return dispatch_io(vcpu, exit);
    case KC_EXIT_MMIO:
        return dispatch_mmio(vcpu, exit);
    case KC_EXIT_INTR:
        return true;
    default:
        return false;
    }
}
