/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The definition as kvmemu's options (docs/kvmemu.md). The mapping:
 * on_reboot restart/destroy -> --on-reboot reset/exit; on_crash
 * destroy/restart -> --on-panic poweroff (the daemon restarts), preserve
 * -> pause; no <acpi/> -> --no-acpi; disabled CPU features ->
 * --cpu host,-name (required ones were checked against the host at
 * parse time and are in --cpu host already); every virtio device gets
 * addr=SLOT, its <address>.
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"

struct argv_buf {
    char **v;
    unsigned n, cap;
    bool oom;
};

static void push(struct argv_buf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void push(struct argv_buf *a, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (a->oom)
        return;
    if (a->n + 2 > a->cap) {
        unsigned cap = a->cap ? a->cap * 2 : 32;
        char **v = realloc(a->v, cap * sizeof(*v));

        if (!v) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0) {
        a->oom = true;
    } else {
        a->v[a->n++] = s;
        a->v[a->n] = NULL;
    }
    va_end(ap);
}

void md_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}

/* A chardev as --serial and --console-virtio take it: prefix and path. */
static const char *chardev_kind(const struct md_chardev *chr)
{
    if (!chr->present)
        return "none";
    switch (chr->type) {
    case MD_CHR_FILE:
        return "file:";
    case MD_CHR_UNIX:
        return "unix:";
    case MD_CHR_PTY:
    default:
        return "pty";
    }
}

static const char *chardev_path(const struct md_chardev *chr)
{
    return chr->present && chr->path ? chr->path : "";
}

static void machine_args(struct argv_buf *a, const struct md_domain_def *def)
{
    char uuid[37];

    md_uuid_format(def->uuid, uuid);
    push(a, "--name");
    push(a, "%s", def->name);
    push(a, "--uuid");
    push(a, "%s", uuid);
    push(a, "--memory");
    if (def->memory_kib % 1024)
        push(a, "%lluK", (unsigned long long)def->memory_kib);
    else
        push(a, "%lluM", (unsigned long long)def->memory_kib / 1024);
    push(a, "--smp");
    push(a, "%u", def->vcpus);
    if (def->cpu.present) {
        size_t len = strlen("host") + 1;
        char *spec;

        for (unsigned i = 0; i < def->cpu.nr_features; i++)
            len += strlen(def->cpu.features[i].kvmemu_name) + 2;
        spec = malloc(len);
        if (!spec) {
            a->oom = true;
            return;
        }
        strcpy(spec, "host");
        for (unsigned i = 0; i < def->cpu.nr_features; i++) {
            if (def->cpu.features[i].policy != MD_CPU_DISABLE)
                continue;
            strcat(spec, ",-");
            strcat(spec, def->cpu.features[i].kvmemu_name);
        }
        push(a, "--cpu");
        push(a, "%s", spec);
        free(spec);
    }
    if (!def->features.acpi)
        push(a, "--no-acpi");
    push(a, "--kernel");
    push(a, "%s", def->os.kernel);
    if (def->os.initrd) {
        push(a, "--initrd");
        push(a, "%s", def->os.initrd);
    }
    if (def->os.cmdline) {
        push(a, "--append");
        push(a, "%s", def->os.cmdline);
    }
    push(a, "--on-reboot");
    push(a, "%s", def->on_reboot == MD_ACTION_DESTROY ? "exit" : "reset");
    push(a, "--on-panic");
    push(a, "%s", def->on_crash == MD_ACTION_PRESERVE ? "pause" : "poweroff");
    if (def->clock.localtime) {
        push(a, "--rtc");
        push(a, "base=localtime");
    }
}

static int launcher_args(struct argv_buf *a, const struct md_argv_params *p, struct md_err *err)
{
    if (p->kvm_fd >= 0) {
        push(a, "--kvm-fd");
        push(a, "%d", p->kvm_fd);
    }
    if (p->monitor_fd >= 0) {
        push(a, "--monitor");
        push(a, "fd=%d", p->monitor_fd);
    } else if (p->monitor_path) {
        if (strlen(p->monitor_path) > MD_UNIX_PATH_MAX)
            return md_err_set(err, -ENAMETOOLONG, 0,
                              "the monitor socket path %s is longer than %d bytes", p->monitor_path,
                              MD_UNIX_PATH_MAX);
        push(a, "--monitor");
        push(a, "unix:%s", p->monitor_path);
    }
    if (p->pidfile) {
        push(a, "--pidfile");
        push(a, "%s", p->pidfile);
    }
    if (p->paused)
        push(a, "--paused");
    return 0;
}

static int device_args(struct argv_buf *a, const struct md_domain_def *def,
                       const struct md_argv_params *p, struct md_err *err)
{
    push(a, "--serial");
    if (p->serial_fd > 0 && def->serial.present && def->serial.type == MD_CHR_PTY)
        push(a, "fd=%d", p->serial_fd);
    else
        push(a, "%s%s", chardev_kind(&def->serial), chardev_path(&def->serial));
    for (unsigned i = 0; i < def->nr_disks; i++) {
        const struct md_disk *d = &def->disks[i];
        char src[64];

        if (p->disk_fds && p->disk_fds[i] < 0)
            return md_err_set(err, -EBADF, d->line, "<disk>: the launcher opened no image for %s",
                              d->target);
        if (p->disk_fds)
            snprintf(src, sizeof(src), "fd=%d", p->disk_fds[i]);
        push(a, "--disk");
        push(a, "%s%s,format=raw%s%s%s%s,addr=0x%02x",
             p->disk_fds ? src : "path=", p->disk_fds ? "" : d->source,
             d->readonly ? ",readonly=on" : "",
             d->cache == MD_CACHE_NONE        ? ",cache=none"
             : d->cache == MD_CACHE_WRITEBACK ? ",cache=writeback"
                                              : "",
             d->serial ? ",serial=" : "", d->serial ? d->serial : "", d->addr.slot);
    }
    for (unsigned i = 0; i < def->nr_nics; i++) {
        const struct md_interface *nic = &def->nics[i];
        char mac[18];

        md_mac_format(nic->mac, mac);
        if (p->tap_fds ? p->tap_fds[i] < 0 : !nic->ifname)
            return md_err_set(err, -EBADF, nic->line,
                              "<interface>: the launcher opened no tap for the NIC %s", mac);
        push(a, "--net");
        if (p->tap_fds)
            push(a, "tap,fd=%d,mac=%s,addr=0x%02x", p->tap_fds[i], mac, nic->addr.slot);
        else
            push(a, "tap,ifname=%s,mac=%s,addr=0x%02x", nic->ifname, mac, nic->addr.slot);
    }
    if (def->rng.present) {
        const struct md_rng *rng = &def->rng;

        /* --rng's value is optional, so it must be attached with '='. */
        if (rng->rate_bytes && rng->rate_period_ms)
            push(a, "--rng=max-bytes=%llu,period=%llu,addr=0x%02x",
                 (unsigned long long)rng->rate_bytes, (unsigned long long)rng->rate_period_ms,
                 rng->addr.slot);
        else if (rng->rate_bytes)
            push(a, "--rng=max-bytes=%llu,addr=0x%02x", (unsigned long long)rng->rate_bytes,
                 rng->addr.slot);
        else
            push(a, "--rng=addr=0x%02x", rng->addr.slot);
    }
    if (def->vconsole.present) {
        push(a, "--console-virtio");
        if (p->vconsole_fd > 0 && def->vconsole.type == MD_CHR_PTY)
            push(a, "fd=%d,addr=0x%02x", p->vconsole_fd, def->vserial_addr.slot);
        else
            push(a, "%s%s,addr=0x%02x", chardev_kind(&def->vconsole), chardev_path(&def->vconsole),
                 def->vserial_addr.slot);
    }
    return 0;
}

char **md_argv_build(const struct md_domain_def *def, const struct md_argv_params *p,
                     struct md_err *err)
{
    const char *emulator = def->emulator ? def->emulator : p->emulator;
    struct argv_buf a = { 0 };
    int ret;

    if (!emulator) {
        md_err_set(err, -EINVAL, 0,
                   "no kvmemu binary: the definition has no <emulator> and the "
                   "launcher gave none");
        return NULL;
    }
    push(&a, "%s", emulator);
    machine_args(&a, def);
    ret = launcher_args(&a, p, err);
    if (!ret)
        ret = device_args(&a, def, p, err);
    if (!ret && a.oom)
        ret = md_err_set(err, -ENOMEM, 0, "out of memory building kvmemu's command line");
    if (ret) {
        md_argv_free(a.v);
        return NULL;
    }
    return a.v;
}
