/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Human-readable descriptions of exits, for logs and error messages. */
#include <stdarg.h>
#include <stdio.h>

#include <linux/kvm.h>

#include "internal.h"

static const char *const type_names[] = {
    [KC_EXIT_IO] = "io",
    [KC_EXIT_MMIO] = "mmio",
    [KC_EXIT_HLT] = "hlt",
    [KC_EXIT_SHUTDOWN] = "shutdown",
    [KC_EXIT_INTERNAL_ERROR] = "internal-error",
    [KC_EXIT_FAIL_ENTRY] = "fail-entry",
    [KC_EXIT_INTR] = "interrupted",
    [KC_EXIT_SYSTEM_EVENT] = "system-event",
    [KC_EXIT_DEBUG] = "debug",
    [KC_EXIT_UNHANDLED] = "unhandled-access",
    [KC_EXIT_OTHER] = "other",
};

const char *kc_exit_type_name(enum kc_exit_type type)
{
    if ((unsigned)type >= KCI_ARRAY_SIZE(type_names) || !type_names[type])
        return "unknown";
    return type_names[type];
}

static const char *suberror_name(uint32_t suberror)
{
    switch (suberror) {
    case KC_INTERNAL_EMULATION:
        return "emulation failure";
    case KC_INTERNAL_SIMUL_EX:
        return "exception while delivering an exception";
    case KC_INTERNAL_DELIVERY_EV:
        return "failure while delivering an event";
    case KC_INTERNAL_UNEXPECTED_EXIT_REASON:
        return "unexpected exit reason";
    default:
        return "unknown suberror";
    }
}

/* Appends to buf at *pos without ever overrunning it. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*pos >= len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n;
}

static void append_rip(char *buf, size_t len, size_t *pos, bool valid, uint64_t rip)
{
    if (valid)
        append(buf, len, pos, " at RIP 0x%llx", (unsigned long long)rip);
    else
        append(buf, len, pos, " (RIP unavailable)");
}

char *kc_exit_describe(const struct kc_exit *e, char *buf, size_t len)
{
    size_t pos = 0;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    switch (e->type) {
    case KC_EXIT_IO:
    case KC_EXIT_UNHANDLED:
        if (e->reason == KVM_EXIT_IO)
            append(buf, len, &pos, "%s port %s of %u byte%s at 0x%x",
                   e->type == KC_EXIT_UNHANDLED ? "unhandled" : "io",
                   e->io.is_write ? "write" : "read", e->io.size, e->io.size == 1 ? "" : "s",
                   e->io.port);
        else
            append(buf, len, &pos, "%s MMIO %s of %u byte%s at 0x%llx",
                   e->type == KC_EXIT_UNHANDLED ? "unhandled" : "io",
                   e->mmio.is_write ? "write" : "read", e->mmio.size, e->mmio.size == 1 ? "" : "s",
                   (unsigned long long)e->mmio.gpa);
        break;
    case KC_EXIT_MMIO:
        append(buf, len, &pos, "MMIO %s of %u byte%s at 0x%llx",
               e->mmio.is_write ? "write" : "read", e->mmio.size, e->mmio.size == 1 ? "" : "s",
               (unsigned long long)e->mmio.gpa);
        break;
    case KC_EXIT_SHUTDOWN:
        append(buf, len, &pos, "shutdown (triple fault)");
        append_rip(buf, len, &pos, e->shutdown.rip_valid, e->shutdown.rip);
        break;
    case KC_EXIT_INTERNAL_ERROR:
        append(buf, len, &pos, "internal error: %s (suberror %u)",
               suberror_name(e->internal.suberror), e->internal.suberror);
        append_rip(buf, len, &pos, e->internal.rip_valid, e->internal.rip);
        if (e->internal.insn_len) {
            append(buf, len, &pos, ", instruction bytes:");
            for (unsigned i = 0; i < e->internal.insn_len && i < KC_EXIT_MAX_INSN; i++)
                append(buf, len, &pos, " %02x", e->internal.insn[i]);
        } else {
            append(buf, len, &pos, ", instruction bytes unavailable");
        }
        if (e->internal.ndata > e->internal.data_start) {
            append(buf, len, &pos, ", data:");
            /* The struct may be hand-made: stay inside the array. */
            for (unsigned i = e->internal.data_start; i < e->internal.ndata && i < KC_EXIT_MAX_DATA;
                 i++)
                append(buf, len, &pos, " 0x%llx", (unsigned long long)e->internal.data[i]);
        }
        break;
    case KC_EXIT_FAIL_ENTRY:
        append(buf, len, &pos, "VM entry failed: hardware reason 0x%llx on host CPU %u",
               (unsigned long long)e->fail_entry.hardware_reason, e->fail_entry.cpu);
        append_rip(buf, len, &pos, e->fail_entry.rip_valid, e->fail_entry.rip);
        break;
    case KC_EXIT_SYSTEM_EVENT:
        append(buf, len, &pos, "system event %u (flags 0x%llx)", e->system_event.type,
               (unsigned long long)e->system_event.flags);
        break;
    default:
        append(buf, len, &pos, "%s exit (KVM exit reason %u)", kc_exit_type_name(e->type),
               e->reason);
        break;
    }
    return buf;
}
