/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kvmemu's command line: every value checked before anything starts. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#define USAGE_TEXT                                                                                 \
    "usage: kvmemu [options] (--kernel PATH | --firmware PATH | --flat PATH[,...])\n"              \
    "\n"                                                                                           \
    "Runs one virtual machine on KVM.\n"                                                           \
    "\n"                                                                                           \
    "Machine:\n"                                                                                   \
    "  --name NAME              the VM's name ([A-Za-z0-9_.-], at most 64)\n"                      \
    "  --memory SIZE            RAM, e.g. 512M, 2G; a plain number is MiB (default 128M)\n"        \
    "  --smp N                  virtual CPUs, 1 to 255 (default 1)\n"                              \
    "  --cpu host[,-FEAT,+FEAT] the host's CPU model with features removed or added,\n"            \
    "                           by their /proc/cpuinfo names (e.g. host,-avx,-xsave)\n"            \
    "  --no-acpi                no ACPI tables (an MP table describes the CPUs)\n"                 \
    "\n"                                                                                           \
    "Boot (one of):\n"                                                                             \
    "  --kernel PATH            a Linux bzImage, a vmlinux with a PVH note, or a\n"                \
    "                           multiboot ELF (kvm-unit-tests' .flat files)\n"                     \
    "    --initrd PATH          an initrd (bzImage, PVH) or module (multiboot)\n"                  \
    "    --append CMDLINE       the kernel command line\n"                                         \
    "  --firmware PATH          a flat firmware image mapped below 4 GiB, entered at\n"            \
    "                           the reset vector, as QEMU's -bios\n"                               \
    "  --flat PATH[,addr=A][,entry=E][,mode=real|protected|long]\n"                                \
    "                           a flat binary loaded at A (default 0x100000) and\n"                \
    "                           entered at E (default A) in the given mode (long)\n"               \
    "\n"                                                                                           \
    "Devices and behaviour:\n"                                                                     \
    "  --serial stdio|file:PATH|unix:PATH|fd=N|pty|none\n"                                         \
    "                           where COM1 goes (default stdio; in a terminal,\n"                  \
    "                           Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A;\n"                  \
    "                           fd=N: an inherited listening unix socket)\n"                       \
    "  --disk path=FILE|fd=N[,format=raw][,readonly=on|off][,cache=none|writeback]\n"              \
    "         [,serial=ID][,addr=SLOT]\n"                                                          \
    "                           a virtio-blk disk (up to 8); cache=none is O_DIRECT\n"             \
    "  --net tap,ifname=NAME|fd=N[,mac=52:54:00:XX:XX:XX][,addr=SLOT]\n"                           \
    "                           a virtio-net NIC on a tap device (up to 4)\n"                      \
    "  --rng[=max-bytes=N,period=MS,addr=SLOT]\n"                                                  \
    "                           a virtio-rng device fed by getrandom(2), at most N\n"              \
    "                           bytes per MS milliseconds if given\n"                              \
    "  --console-virtio stdio|file:PATH|unix:PATH|fd=N|pty|none[,addr=SLOT]\n"                     \
    "                           a virtio-console port (hvc0) on that backend\n"                    \
    "                           addr=SLOT puts a virtio device in PCI slot 00:SLOT.0\n"            \
    "                           (1 to 31); without it, the lowest free slot\n"                     \
    "  --debug-exit             a write of V to port 0xf4 ends kvmemu with status\n"               \
    "                           (V << 1) | 1, as QEMU's isa-debug-exit\n"                          \
    "  --on-reboot reset|exit   what a guest reset does (default reset)\n"                         \
    "  --on-panic poweroff|pause\n"                                                                \
    "                           what a guest panic (pvpanic, port 0x505) does\n"                   \
    "                           (default poweroff, as QEMU's)\n"                                   \
    "  --rtc base=utc|localtime the RTC's time: the host's in UTC (default) or in\n"               \
    "                           its local time zone (for guests that keep local time)\n"           \
    "\n"                                                                                           \
    "Control:\n"                                                                                   \
    "  --monitor unix:PATH|fd=N a QMP monitor on a unix socket created 0600, or on an\n"           \
    "                           inherited socket (listening or connected); up to 4\n"              \
    "  --paused                 do not start the vCPUs until the monitor's \"cont\"\n"             \
    "  --uuid UUID              the VM's UUID, as query-uuid reports it\n"                         \
    "  --pidfile PATH           write the process id here (locked while running)\n"                \
    "  --kvm-fd N               use this open /dev/kvm descriptor instead of opening it\n"         \
    "  --trace-boot             print the boot timeline on exit\n"                                 \
    "  -v, --verbose            more messages (twice: debug)\n"                                    \
    "  -h, --help               this text\n"                                                       \
    "      --version            the version\n"                                                     \
    "\n"                                                                                           \
    "Exit status: 0 after a guest power-off, (V << 1) | 1 after a debug-exit write of\n"           \
    "V, 1 if the VM failed (the reason is printed), 2 for a bad command line.\n"

void em_options_usage(FILE *f)
{
    fputs(USAGE_TEXT, f);
}

enum {
    OPT_NAME = 256,
    OPT_MEMORY,
    OPT_SMP,
    OPT_CPU,
    OPT_NO_ACPI,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_APPEND,
    OPT_FIRMWARE,
    OPT_FLAT,
    OPT_SERIAL,
    OPT_DEBUG_EXIT,
    OPT_ON_REBOOT,
    OPT_PIDFILE,
    OPT_KVM_FD,
    OPT_TRACE_BOOT,
    OPT_VERSION,
    OPT_DISK,
    OPT_NET,
    OPT_RNG,
    OPT_CONSOLE_VIRTIO,
    OPT_MONITOR,
    OPT_PAUSED,
    OPT_UUID,
    OPT_ON_PANIC,
    OPT_RTC,
};

static const struct option long_opts[] = {
    { "name", required_argument, NULL, OPT_NAME },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "smp", required_argument, NULL, OPT_SMP },
    { "cpu", required_argument, NULL, OPT_CPU },
    { "no-acpi", no_argument, NULL, OPT_NO_ACPI },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "append", required_argument, NULL, OPT_APPEND },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "bios", required_argument, NULL, OPT_FIRMWARE },
    { "flat", required_argument, NULL, OPT_FLAT },
    { "serial", required_argument, NULL, OPT_SERIAL },
    { "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
    { "on-reboot", required_argument, NULL, OPT_ON_REBOOT },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "kvm-fd", required_argument, NULL, OPT_KVM_FD },
    { "trace-boot", no_argument, NULL, OPT_TRACE_BOOT },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { "disk", required_argument, NULL, OPT_DISK },
    { "net", required_argument, NULL, OPT_NET },
    { "rng", optional_argument, NULL, OPT_RNG },
    { "console-virtio", required_argument, NULL, OPT_CONSOLE_VIRTIO },
    { "monitor", required_argument, NULL, OPT_MONITOR },
    { "paused", no_argument, NULL, OPT_PAUSED },
    { "uuid", required_argument, NULL, OPT_UUID },
    { "on-panic", required_argument, NULL, OPT_ON_PANIC },
    { "rtc", required_argument, NULL, OPT_RTC },
    { NULL, 0, NULL, 0 },
};

/* One line, naming the option; the caller returns EM_EXIT_USAGE. */
static int bad(FILE *err, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(FILE *err, const char *opt, const char *fmt, ...)
{
    va_list ap;

    fprintf(err, "kvmemu: --%s: ", opt);
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputc('\n', err);
    return EM_EXIT_USAGE;
}

bool em_parse_size(const char *s, uint64_t *out)
{
    unsigned long long v;
    unsigned shift = 20; /* a plain number is MiB, as in QEMU's -m */
    char *end;

    if (!s || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return false;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        end++;
        break;
    case 'M':
        shift = 20;
        end++;
        break;
    case 'G':
        shift = 30;
        end++;
        break;
    case 'T':
        shift = 40;
        end++;
        break;
    case 'B':
        shift = 0;
        break;
    default:
        return false;
    }
    /* Accept "M", "MB", "MiB" alike: binary units, as QEMU has them. */
    if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "ib") || !strcmp(end, "b"))
        end += strlen(end);
    if (*end || v > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)v << shift;
    return true;
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;

    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    *out = strtoull(s, &end, 0);
    return !errno && !*end && *out <= max;
}

/* unix:PATH or fd=N (an open socket). */
static int parse_monitor(const char *v, struct em_config *cfg, FILE *err)
{
    struct em_monitor_spec *m;
    unsigned long long n;

    if (cfg->nr_monitors == EM_MAX_MONITORS)
        return bad(err, "monitor", "at most %d monitors", EM_MAX_MONITORS);
    m = &cfg->monitors[cfg->nr_monitors];
    m->fd = -1;
    m->path = NULL;
    if (!strncmp(v, "unix:", 5) && v[5]) {
        if (strlen(v + 5) >= 108)
            return bad(err, "monitor", "'%s': a unix socket path has at most 107 bytes", v + 5);
        m->path = v + 5;
    } else if (!strncmp(v, "fd=", 3)) {
        if (!parse_uint(v + 3, INT_MAX, &n) || fcntl((int)n, F_GETFD) < 0)
            return bad(err, "monitor", "'%s' is not an open file descriptor", v + 3);
        m->fd = (int)n;
    } else {
        return bad(err, "monitor", "'%s' is not unix:PATH or fd=N", v);
    }
    cfg->nr_monitors++;
    return 0;
}

/* 8-4-4-4-12 hex digits, kept in lower case. */
static int parse_uuid(const char *v, struct em_config *cfg, FILE *err)
{
    if (strlen(v) != 36)
        return bad(err, "uuid", "'%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? v[i] != '-' : !isxdigit((unsigned char)v[i]))
            return bad(err, "uuid", "'%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", v);
        cfg->uuid[i] = (char)tolower((unsigned char)v[i]);
    }
    cfg->uuid[36] = '\0';
    return 0;
}

static int parse_name(const char *v, struct em_config *cfg, FILE *err)
{
    size_t n = strlen(v);

    if (n == 0 || n > EM_NAME_MAX)
        return bad(err, "name", "'%s' must have 1 to 64 characters", v);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && !strchr("_.-", v[i]))
            return bad(err, "name", "'%s' may only contain letters, digits, '_', '.' and '-'", v);
    cfg->name = v;
    return 0;
}

/* "host" or "host,-avx,+x2apic": feature names checked now, applied later. */
static int parse_cpu(char *v, struct em_config *cfg, FILE *err)
{
    char *save = NULL, *tok = strtok_r(v, ",", &save);

    if (!tok || strcmp(tok, "host") != 0)
        return bad(err, "cpu", "'%s' is not a CPU model; the only model is 'host'", tok ? tok : "");
    cfg->nr_cpu_changes = 0;
    while ((tok = strtok_r(NULL, ",", &save))) {
        const struct kc_cpu_feature *f;

        if ((tok[0] != '+' && tok[0] != '-') || !tok[1])
            return bad(err, "cpu", "'%s': write +FEATURE or -FEATURE", tok);
        f = kc_cpu_feature_lookup(tok + 1);
        if (!f)
            return bad(err, "cpu", "unknown CPU feature '%s'", tok + 1);
        if (cfg->nr_cpu_changes == EM_MAX_CPU_CHANGES)
            return bad(err, "cpu", "too many feature changes at '%s'", tok);
        cfg->cpu_changes[cfg->nr_cpu_changes++] = (struct kc_cpuid_change){ f, tok[0] == '+' };
    }
    return 0;
}

static int parse_chardev(char *v, struct em_chardev_spec *s, const char *opt, FILE *err)
{
    if (!strcmp(v, "stdio")) {
        s->kind = EM_CHARDEV_STDIO;
    } else if (!strcmp(v, "pty")) {
        s->kind = EM_CHARDEV_PTY;
    } else if (!strcmp(v, "none")) {
        s->kind = EM_CHARDEV_NONE;
    } else if (!strncmp(v, "file:", 5) && v[5]) {
        s->kind = EM_CHARDEV_FILE;
        s->path = v + 5;
    } else if (!strncmp(v, "unix:", 5) && v[5]) {
        s->kind = EM_CHARDEV_UNIX;
        s->path = v + 5;
        if (strlen(s->path) >= 108)
            return bad(err, opt, "unix socket path '%s' is longer than 107 bytes", s->path);
    } else if (!strncmp(v, "fd=", 3)) {
        unsigned long long n;

        /* A listening unix socket made by whoever started us (mgmtd). */
        if (!parse_uint(v + 3, INT_MAX, &n) || fcntl((int)n, F_GETFD) < 0)
            return bad(err, opt, "'%s' is not an open file descriptor", v + 3);
        s->kind = EM_CHARDEV_UNIX;
        s->path = NULL;
        s->fd = (int)n;
    } else {
        return bad(err, opt, "'%s' is not stdio, file:PATH, unix:PATH, fd=N, pty or none", v);
    }
    return 0;
}

/* Splits "key=value" in place; NULL value when there is no '='. */
static char *split_kv(char *tok)
{
    char *eq = strchr(tok, '=');

    if (!eq)
        return NULL;
    *eq = '\0';
    return eq + 1;
}

static bool on_off(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    return false;
}

static int parse_fd(const char *opt, const char *v, int *fd, FILE *err)
{
    unsigned long long n;

    if (!parse_uint(v, INT_MAX, &n) || fcntl((int)n, F_GETFD) < 0)
        return bad(err, opt, "fd=%s is not an open file descriptor", v);
    *fd = (int)n;
    return 0;
}

/* addr=SLOT: a PCI slot on bus 0 other than the host bridge's. */
static int parse_slot(const char *opt, const char *v, int *slot, FILE *err)
{
    unsigned long long n;

    if (!parse_uint(v, EM_SLOT_MAX, &n) || n == 0)
        return bad(err, opt, "addr=%s is not a PCI slot from 1 to %d (0 is the host bridge)", v,
                   EM_SLOT_MAX);
    *slot = (int)n;
    return 0;
}

static int parse_disk_setting(struct em_disk_spec *d, char *key, char *val, FILE *err)
{
    if (!val)
        return bad(err, "disk", "'%s' needs a value (key=value)", key);
    if (!strcmp(key, "path") && *val)
        d->path = val;
    else if (!strcmp(key, "fd"))
        return parse_fd("disk", val, &d->fd, err);
    else if (!strcmp(key, "format")) {
        if (strcmp(val, "raw"))
            return bad(err, "disk", "format=%s: only raw images are supported", val);
    } else if (!strcmp(key, "readonly")) {
        if (!on_off(val, &d->readonly))
            return bad(err, "disk", "readonly=%s is not on or off", val);
    } else if (!strcmp(key, "cache")) {
        if (!strcmp(val, "none"))
            d->cache_none = true;
        else if (!strcmp(val, "writeback"))
            d->cache_none = false;
        else
            return bad(err, "disk", "cache=%s is not none or writeback", val);
    } else if (!strcmp(key, "serial")) {
        if (strlen(val) > 20)
            return bad(err, "disk", "serial=%s is longer than 20 characters", val);
        snprintf(d->serial, sizeof(d->serial), "%s", val);
    } else if (!strcmp(key, "addr")) {
        return parse_slot("disk", val, &d->slot, err);
    } else {
        return bad(err, "disk",
                   "unknown setting '%s' (path, fd, format, readonly, cache, serial, addr)", key);
    }
    return 0;
}

static int parse_disk(char *v, struct em_config *cfg, FILE *err)
{
    struct em_disk_spec *d;
    char *save = NULL, *tok;
    int ret;

    if (cfg->nr_disks == EM_MAX_DISKS)
        return bad(err, "disk", "at most %d disks", EM_MAX_DISKS);
    d = &cfg->disks[cfg->nr_disks];
    *d = (struct em_disk_spec){ .fd = -1, .slot = EM_SLOT_AUTO };
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        ret = parse_disk_setting(d, tok, split_kv(tok), err);
        if (ret)
            return ret;
    }
    if (!d->path == (d->fd < 0))
        return bad(err, "disk", "%s", "give exactly one of path=FILE and fd=N");
    if (d->path && access(d->path, d->readonly ? R_OK : R_OK | W_OK) != 0) {
        fprintf(err, "kvmemu: --disk: %s: %s%s\n", d->path, strerror(errno),
                errno == EACCES && !d->readonly ? " (readonly=on for a read-only image)" : "");
        return EM_EXIT_USAGE;
    }
    cfg->nr_disks++;
    return 0;
}

static bool parse_mac(const char *v, uint8_t mac[6])
{
    unsigned b[6];
    char end;

    if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) !=
            6 ||
        strlen(v) != 17)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    /* A NIC's address must be unicast: the multicast bit off. */
    return !(mac[0] & 1);
}

static int parse_net(char *v, struct em_config *cfg, FILE *err)
{
    struct em_net_spec *n;
    char *save = NULL, *tok = strtok_r(v, ",", &save);
    bool mac_set = false;

    if (cfg->nr_nics == EM_MAX_NICS)
        return bad(err, "net", "at most %d NICs", EM_MAX_NICS);
    if (!tok || strcmp(tok, "tap"))
        return bad(err, "net", "'%s': the only backend is tap", tok ? tok : "");
    n = &cfg->nics[cfg->nr_nics];
    *n = (struct em_net_spec){ .fd = -1, .slot = EM_SLOT_AUTO };
    while ((tok = strtok_r(NULL, ",", &save))) {
        char *val = split_kv(tok);
        int ret;

        if (!val)
            return bad(err, "net", "'%s' needs a value (key=value)", tok);
        if (!strcmp(tok, "ifname")) {
            if (!*val || strlen(val) >= 16)
                return bad(err, "net", "ifname=%s is not an interface name (1 to 15 bytes)", val);
            n->ifname = val;
        } else if (!strcmp(tok, "fd")) {
            ret = parse_fd("net", val, &n->fd, err);
            if (ret)
                return ret;
        } else if (!strcmp(tok, "mac")) {
            if (!parse_mac(val, n->mac))
                return bad(err, "net", "mac=%s is not a unicast address like 52:54:00:12:34:56",
                           val);
            mac_set = true;
        } else if (!strcmp(tok, "addr")) {
            ret = parse_slot("net", val, &n->slot, err);
            if (ret)
                return ret;
        } else {
            return bad(err, "net", "unknown setting '%s' (ifname, fd, mac, addr)", tok);
        }
    }
    if (!n->ifname == (n->fd < 0))
        return bad(err, "net", "%s", "give exactly one of ifname=NAME and fd=N");
    if (!mac_set) {
        /* QEMU's default prefix, one address per NIC. */
        static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

        memcpy(n->mac, base, 6);
        n->mac[5] = (uint8_t)(base[5] + cfg->nr_nics);
    }
    cfg->nr_nics++;
    return 0;
}

static int parse_rng(char *v, struct em_config *cfg, FILE *err)
{
    char *save = NULL, *tok;
    unsigned long long n;

    cfg->rng.enabled = true;
    cfg->rng.max_bytes = 0;
    cfg->rng.period_ms = 1000;
    cfg->rng.slot = EM_SLOT_AUTO;
    if (!v)
        return 0;
    for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *val = split_kv(tok);
        int ret;

        if (val && !strcmp(tok, "addr")) {
            ret = parse_slot("rng", val, &cfg->rng.slot, err);
            if (ret)
                return ret;
            continue;
        }
        if (!val || !parse_uint(val, UINT32_MAX, &n) || n == 0)
            return bad(err, "rng", "'%s%s%s' is not max-bytes=N or period=MS with N, MS > 0", tok,
                       val ? "=" : "", val ? val : "");
        if (!strcmp(tok, "max-bytes"))
            cfg->rng.max_bytes = n;
        else if (!strcmp(tok, "period"))
            cfg->rng.period_ms = n;
        else
            return bad(err, "rng", "unknown setting '%s' (max-bytes, period, addr)", tok);
    }
    return 0;
}

/* BACKEND[,addr=SLOT]: the suffix is taken from the end, so that a file or
 * socket path may itself contain commas. */
static int parse_console_virtio(char *v, struct em_config *cfg, FILE *err)
{
    char *comma = strrchr(v, ',');

    cfg->console_virtio = true;
    if (comma && !strncmp(comma, ",addr=", 6)) {
        int ret = parse_slot("console-virtio", comma + 6, &cfg->console_slot, err);

        if (ret)
            return ret;
        *comma = '\0';
    }
    return parse_chardev(v, &cfg->console, "console-virtio", err);
}

/* PATH[,addr=A][,entry=E][,mode=real|protected|long] */
static int parse_flat(char *v, struct em_config *cfg, FILE *err)
{
    char *save = NULL, *tok = strtok_r(v, ",", &save);
    bool entry_set = false;
    unsigned long long n;

    if (!tok || !*tok)
        return bad(err, "flat", "'%s' names no file", v);
    cfg->flat.path = tok;
    cfg->flat.addr = 0x100000;
    cfg->flat.mode = EM_MODE_LONG;
    while ((tok = strtok_r(NULL, ",", &save))) {
        if (!strncmp(tok, "addr=", 5)) {
            if (!parse_uint(tok + 5, UINT32_MAX, &n))
                return bad(err, "flat", "'%s' is not an address below 4 GiB", tok + 5);
            cfg->flat.addr = n;
        } else if (!strncmp(tok, "entry=", 6)) {
            if (!parse_uint(tok + 6, UINT32_MAX, &n))
                return bad(err, "flat", "'%s' is not an address below 4 GiB", tok + 6);
            cfg->flat.entry = n;
            entry_set = true;
        } else if (!strcmp(tok, "mode=real")) {
            cfg->flat.mode = EM_MODE_REAL;
        } else if (!strcmp(tok, "mode=protected")) {
            cfg->flat.mode = EM_MODE_PROTECTED;
        } else if (!strcmp(tok, "mode=long")) {
            cfg->flat.mode = EM_MODE_LONG;
        } else {
            return bad(err, "flat", "unknown setting '%s' (addr=, entry=, mode=)", tok);
        }
    }
    if (!entry_set)
        cfg->flat.entry = cfg->flat.addr;
    if (cfg->flat.mode == EM_MODE_REAL &&
        (cfg->flat.addr % 16 || cfg->flat.addr >= 0xa0000 || cfg->flat.entry < cfg->flat.addr ||
         cfg->flat.entry - cfg->flat.addr > 0xffff))
        return bad(err, "flat", "%s",
                   "a real-mode image needs a 16-byte aligned address below "
                   "0xa0000, entered within its first 64 KiB");
    return 0;
}

/* A file the VM will read: it must exist and be readable now, not later. */
static int check_readable(FILE *err, const char *opt, const char *path)
{
    if (access(path, R_OK) != 0) {
        fprintf(err, "kvmemu: --%s: %s: %s\n", opt, path, strerror(errno));
        return EM_EXIT_USAGE;
    }
    return 0;
}

/* Two devices given one slot: named here rather than when the second is
 * plugged, after the VM was built. */
static int check_slots(const struct em_config *cfg, FILE *err)
{
    const char *owner[EM_SLOT_MAX + 1] = { NULL };
    struct {
        const char *opt;
        int slot;
    } used[EM_MAX_DISKS + EM_MAX_NICS + 2];
    unsigned n = 0;

    for (unsigned i = 0; i < cfg->nr_disks; i++)
        used[n++] = (typeof(used[0])){ "disk", cfg->disks[i].slot };
    for (unsigned i = 0; i < cfg->nr_nics; i++)
        used[n++] = (typeof(used[0])){ "net", cfg->nics[i].slot };
    if (cfg->rng.enabled)
        used[n++] = (typeof(used[0])){ "rng", cfg->rng.slot };
    if (cfg->console_virtio)
        used[n++] = (typeof(used[0])){ "console-virtio", cfg->console_slot };
    for (unsigned i = 0; i < n; i++) {
        if (used[i].slot == EM_SLOT_AUTO)
            continue;
        if (owner[used[i].slot])
            return bad(err, used[i].opt, "addr=%d: the slot is already given to --%s", used[i].slot,
                       owner[used[i].slot]);
        owner[used[i].slot] = used[i].opt;
    }
    return 0;
}

static int check_combination(struct em_config *cfg, FILE *err)
{
    int sources = !!cfg->kernel + !!cfg->firmware + !!cfg->flat.path;
    int ret = 0;

    if (sources == 0) {
        fprintf(err, "kvmemu: nothing to boot: give --kernel, --firmware or --flat "
                     "(see --help)\n");
        return EM_EXIT_USAGE;
    }
    if (sources > 1) {
        fprintf(err, "kvmemu: --kernel, --firmware and --flat exclude each other\n");
        return EM_EXIT_USAGE;
    }
    if (cfg->console_virtio && cfg->console.kind == EM_CHARDEV_STDIO &&
        cfg->serial.kind == EM_CHARDEV_STDIO) {
        fprintf(err, "kvmemu: --console-virtio stdio: stdio is already the serial port's; "
                     "give --serial another backend (or none)\n");
        return EM_EXIT_USAGE;
    }
    ret = check_slots(cfg, err);
    if (ret)
        return ret;
    if (!cfg->kernel && cfg->initrd)
        return bad(err, "initrd", "%s", "needs --kernel");
    if (!cfg->kernel && cfg->append)
        return bad(err, "append", "%s", "needs --kernel");
    if (cfg->kernel)
        ret = check_readable(err, "kernel", cfg->kernel);
    if (!ret && cfg->initrd)
        ret = check_readable(err, "initrd", cfg->initrd);
    if (!ret && cfg->firmware)
        ret = check_readable(err, "firmware", cfg->firmware);
    if (!ret && cfg->flat.path)
        ret = check_readable(err, "flat", cfg->flat.path);
    return ret;
}

static void defaults(struct em_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->name = "vm";
    cfg->ram_size = 128ull << 20;
    cfg->smp = 1;
    cfg->serial.kind = EM_CHARDEV_STDIO;
    cfg->on_reboot = EM_REBOOT_RESET;
    cfg->kvm_fd = -1;
    cfg->console_slot = EM_SLOT_AUTO;
}

static int parse_one(int c, char *v, struct em_config *cfg, FILE *err)
{
    unsigned long long n;

    switch (c) {
    case OPT_NAME:
        return parse_name(v, cfg, err);
    case OPT_MEMORY:
        if (!em_parse_size(v, &cfg->ram_size) || cfg->ram_size < EM_MIN_RAM || cfg->ram_size % 4096)
            return bad(err, "memory", "'%s' is not a size of at least 4M in whole pages", v);
        return 0;
    case OPT_SMP:
        if (!parse_uint(v, EM_MAX_CPUS, &n) || n == 0)
            return bad(err, "smp", "'%s' is not a CPU count from 1 to 255", v);
        cfg->smp = (unsigned)n;
        return 0;
    case OPT_CPU:
        return parse_cpu(v, cfg, err);
    case OPT_NO_ACPI:
        cfg->no_acpi = true;
        return 0;
    case OPT_KERNEL:
        cfg->kernel = v;
        return 0;
    case OPT_INITRD:
        cfg->initrd = v;
        return 0;
    case OPT_APPEND:
        cfg->append = v;
        return 0;
    case OPT_FIRMWARE:
        cfg->firmware = v;
        return 0;
    case OPT_FLAT:
        return parse_flat(v, cfg, err);
    case OPT_SERIAL:
        return parse_chardev(v, &cfg->serial, "serial", err);
    case OPT_DISK:
        return parse_disk(v, cfg, err);
    case OPT_NET:
        return parse_net(v, cfg, err);
    case OPT_RNG:
        return parse_rng(v, cfg, err);
    case OPT_CONSOLE_VIRTIO:
        return parse_console_virtio(v, cfg, err);
    case OPT_DEBUG_EXIT:
        cfg->debug_exit = true;
        return 0;
    case OPT_ON_REBOOT:
        if (!strcmp(v, "reset"))
            cfg->on_reboot = EM_REBOOT_RESET;
        else if (!strcmp(v, "exit"))
            cfg->on_reboot = EM_REBOOT_EXIT;
        else
            return bad(err, "on-reboot", "'%s' is not reset or exit", v);
        return 0;
    case OPT_ON_PANIC:
        if (!strcmp(v, "poweroff"))
            cfg->on_panic = EM_PANIC_POWEROFF;
        else if (!strcmp(v, "pause"))
            cfg->on_panic = EM_PANIC_PAUSE;
        else
            return bad(err, "on-panic", "'%s' is not poweroff or pause", v);
        return 0;
    case OPT_RTC:
        if (!strcmp(v, "base=utc"))
            cfg->rtc_localtime = false;
        else if (!strcmp(v, "base=localtime"))
            cfg->rtc_localtime = true;
        else
            return bad(err, "rtc", "'%s' is not base=utc or base=localtime", v);
        return 0;
    case OPT_MONITOR:
        return parse_monitor(v, cfg, err);
    case OPT_PAUSED:
        cfg->paused = true;
        return 0;
    case OPT_UUID:
        return parse_uuid(v, cfg, err);
    case OPT_PIDFILE:
        if (!*v)
            return bad(err, "pidfile", "%s", "empty path");
        cfg->pidfile = v;
        return 0;
    case OPT_KVM_FD:
        if (!parse_uint(v, INT_MAX, &n) || fcntl((int)n, F_GETFD) < 0)
            return bad(err, "kvm-fd", "'%s' is not an open file descriptor", v);
        cfg->kvm_fd = (int)n;
        return 0;
    case OPT_TRACE_BOOT:
        cfg->trace_boot = true;
        return 0;
    case 'v':
        cfg->verbose++;
        return 0;
    default:
        return EM_EXIT_USAGE;
    }
}

int em_options_parse(int argc, char **argv, struct em_config *cfg, FILE *out, FILE *err)
{
    int c, ret;

    defaults(cfg);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hv", long_opts, NULL)) != -1) {
        if (c == 'h') {
            em_options_usage(out);
            return -1;
        }
        if (c == OPT_VERSION) {
            fprintf(out, "kvmemu %s (libkvmcore %s)\n", KVMEMU_VERSION, kc_version());
            return -1;
        }
        if (c == '?' || c == ':') {
            const char *what = argv[optind - 1];

            fprintf(err, "kvmemu: %s: %s (see --help)\n", what,
                    c == ':' ? "needs a value" : "unknown option");
            return EM_EXIT_USAGE;
        }
        ret = parse_one(c, optarg, cfg, err);
        if (ret)
            return ret;
    }
    if (optind < argc) {
        fprintf(err, "kvmemu: unexpected argument '%s' (see --help)\n", argv[optind]);
        return EM_EXIT_USAGE;
    }
    return check_combination(cfg, err);
}
