/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-install's flags, each checked where it is read and refused with a
 * message that names it: "--memory 'lots': not a whole number of MiB".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm-install.h"

#ifndef KVMSTACK_VERSION
#define KVMSTACK_VERSION "0"
#endif

#define NAME_MAX_LEN 64
#define SERIAL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+- "
#define MAX_DISK_GIB 16384.0
#define MIN_MEMORY   4ul
#define MAX_MEMORY   1048576ul
#define MAX_VCPUS    255u
#define GIB          1073741824.0

static const char usage[] =
    "usage: vm-install --name NAME --memory MiB [--vcpus N] --kernel PATH [options]\n"
    "\n"
    "Creates a virtual machine through mgmtd: writes its domain XML, creates its\n"
    "missing disk images, defines and starts it, and attaches its console.\n"
    "\n"
    "  -n, --name NAME        the domain's name (letters, digits, _ . -)\n"
    "      --memory MiB       its memory (4 to 1048576)\n"
    "      --vcpus N          its virtual CPUs (1 to 255; default 1)\n"
    "      --kernel PATH      the kernel it boots (bzImage, PVH vmlinux, multiboot)\n"
    "      --initrd PATH      an initrd\n"
    "      --cmdline \"...\"    the kernel's command line\n"
    "      --disk path=FILE[,size=GiB][,readonly=on][,serial=ID][,cache=none|writeback]\n"
    "                         a virtio disk on a raw image, created sparse with\n"
    "                         size=GiB if missing (repeat for more: vda, vdb, ...)\n"
    "  -w, --network tap[,ifname=NAME][,mac=MAC] | bridge=BR[,mac=MAC][,ifname=NAME]\n"
    "                         a virtio NIC on a tap of its own, or on a bridge\n"
    "      --rng              a virtio-rng device\n"
    "      --autostart        start it whenever mgmtd starts\n"
    "      --print-xml        print the XML and change nothing\n"
    "      --noautoconsole    do not attach to the console\n"
    "  -c, --connect SOCKET   mgmtd's socket (default: $VMCTL_CONNECT, else\n"
    "                         /run/kvmstack/mgmtd.sock)\n"
    "  -h, --help             this text\n"
    "      --version          the version\n";

enum {
    OPT_MEMORY = 256,
    OPT_VCPUS,
    OPT_KERNEL,
    OPT_INITRD,
    OPT_CMDLINE,
    OPT_DISK,
    OPT_RNG,
    OPT_AUTOSTART,
    OPT_PRINT_XML,
    OPT_NOAUTOCONSOLE,
    OPT_VERSION,
};

static const struct option long_opts[] = {
    { "name", required_argument, NULL, 'n' },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "ram", required_argument, NULL, OPT_MEMORY },
    { "vcpus", required_argument, NULL, OPT_VCPUS },
    { "kernel", required_argument, NULL, OPT_KERNEL },
    { "initrd", required_argument, NULL, OPT_INITRD },
    { "cmdline", required_argument, NULL, OPT_CMDLINE },
    { "extra-args", required_argument, NULL, OPT_CMDLINE },
    { "disk", required_argument, NULL, OPT_DISK },
    { "network", required_argument, NULL, 'w' },
    { "rng", no_argument, NULL, OPT_RNG },
    { "autostart", no_argument, NULL, OPT_AUTOSTART },
    { "print-xml", no_argument, NULL, OPT_PRINT_XML },
    { "noautoconsole", no_argument, NULL, OPT_NOAUTOCONSOLE },
    { "connect", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;

    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static int whole(const char *flag, const char *s, unsigned long min, unsigned long max,
                 const char *what, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (!isdigit((unsigned char)*s) || *end || errno || v < min || v > max)
        return fail("%s '%s': not a whole number of %s from %lu to %lu", flag, s, what, min, max);
    *out = v;
    return 0;
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN)
        return fail("--name '%s': a name has 1 to %d characters", s, NAME_MAX_LEN);
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
            return fail("--name '%s': only letters, digits, '_', '.' and '-' may be used", s);
    if (s[0] == '.')
        return fail("--name '%s': must not begin with '.'", s);
    return 0;
}

/* A boot file: it must be a readable regular file; its absolute path. */
static int boot_file(const char *flag, const char *s, char *out)
{
    struct stat st;
    char *real;

    if (stat(s, &st) < 0)
        return fail("%s '%s': %s", flag, s, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail("%s '%s': not a regular file", flag, s);
    if (access(s, R_OK) < 0)
        return fail("%s '%s': %s", flag, s, strerror(errno));
    real = realpath(s, NULL);
    if (!real || strlen(real) >= 4096) {
        free(real);
        return fail("%s '%s': cannot resolve the path", flag, s);
    }
    strcpy(out, real);
    free(real);
    return 0;
}

/* A path made absolute against the working directory (it may not exist). */
static int absolute(const char *flag, const char *spec, const char *s, char *out)
{
    char cwd[PATH_MAX];

    if (!*s)
        return fail("%s '%s': the path is empty", flag, spec);
    if (s[0] == '/') {
        if (strlen(s) >= 4096)
            return fail("%s '%s': the path is too long", flag, spec);
        strcpy(out, s);
        return 0;
    }
    if (!getcwd(cwd, sizeof(cwd)) || strlen(cwd) + strlen(s) + 2 > 4096)
        return fail("%s '%s': cannot make the path absolute", flag, spec);
    strcpy(out, cwd);
    strcat(out, "/");
    strcat(out, s);
    return 0;
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

/* An image that exists must be a file or a block device; one that does
 * not is created, which needs its size. */
static int disk_file(const char *spec, const struct vi_disk *d)
{
    struct stat st;

    if (stat(d->path, &st) == 0) {
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
            return fail("--disk '%s': %s is not a file or a block device", spec, d->path);
        return 0;
    }
    if (errno != ENOENT)
        return fail("--disk '%s': %s: %s", spec, d->path, strerror(errno));
    if (!d->size)
        return fail("--disk '%s': %s does not exist; give size=GiB to create it", spec, d->path);
    return 0;
}

/* "path=FILE,size=GiB,..." (the path may also come first without "path="). */
static int parse_disk(const char *spec, struct vi_disk *d)
{
    char *copy = strdup(spec), *save = NULL, *item;
    bool have_path = false, first = true;
    int ret = 0;

    if (!copy)
        return fail("out of memory");
    for (item = strtok_r(copy, ",", &save); item && ret == 0;
         item = strtok_r(NULL, ",", &save), first = false) {
        char *eq = strchr(item, '='), *val = eq ? eq + 1 : NULL, *end;

        if (eq)
            *eq = '\0';
        if ((first && !eq) || !strcmp(item, "path")) {
            ret = absolute("--disk", spec, first && !eq ? item : val, d->path);
            have_path = ret == 0;
        } else if (!val) {
            ret = fail("--disk '%s': '%s' needs a value (%s=...)", spec, item, item);
        } else if (!strcmp(item, "size")) {
            double gib;

            errno = 0;
            gib = strtod(val, &end);
            if (!*val || *end || errno || !(gib > 0) || gib > MAX_DISK_GIB)
                ret = fail("--disk '%s': size '%s': not a size in GiB above 0 and up to %.0f", spec,
                           val, MAX_DISK_GIB);
            else
                d->size = ((uint64_t)(gib * GIB + 0.5) + 511) / 512 * 512;
        } else if (!strcmp(item, "readonly") || !strcmp(item, "ro")) {
            if (!on_off(val, &d->readonly))
                ret = fail("--disk '%s': readonly '%s': not on or off", spec, val);
        } else if (!strcmp(item, "serial")) {
            if (!*val || strlen(val) > 20 || strspn(val, SERIAL_CHARS) != strlen(val))
                ret = fail("--disk '%s': serial '%s': 1 to 20 of letters, digits, space and "
                           "_ . + -",
                           spec, val);
            else
                snprintf(d->serial, sizeof(d->serial), "%s", val);
        } else if (!strcmp(item, "cache")) {
            if (strcmp(val, "none") != 0 && strcmp(val, "writeback") != 0)
                ret = fail("--disk '%s': cache '%s': not none or writeback", spec, val);
            else
                d->cache = !strcmp(val, "none") ? "none" : "writeback";
        } else if (!strcmp(item, "format")) {
            if (strcmp(val, "raw") != 0)
                ret = fail("--disk '%s': format '%s': only raw images are supported", spec, val);
        } else if (!strcmp(item, "bus")) {
            if (strcmp(val, "virtio") != 0)
                ret = fail("--disk '%s': bus '%s': disks are virtio", spec, val);
        } else {
            ret = fail("--disk '%s': unknown option '%s' (path, size, readonly, serial, cache)",
                       spec, item);
        }
    }
    free(copy);
    if (ret == 0 && !have_path)
        ret = fail("--disk '%s': no path=FILE", spec);
    if (ret == 0)
        ret = disk_file(spec, d);
    return ret;
}

static bool mac_ok(const char *s)
{
    unsigned b[6];
    char tail;

    if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                                  &b[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
            return false;
    return !(b[0] & 1) && (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]);
}

static bool ifname_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
            !isprint((unsigned char)s[i]))
            return false;
    return true;
}

/* "tap[,ifname=N][,mac=M]", "bridge=BR[,mac=M][,ifname=N]"; *none for "none". */
static int parse_nic(const char *spec, struct vi_nic *n, bool *none)
{
    char *copy = strdup(spec), *save = NULL, *item;
    bool first = true;
    int ret = 0;

    *none = false;
    if (!copy)
        return fail("out of memory");
    for (item = strtok_r(copy, ",", &save); item && ret == 0;
         item = strtok_r(NULL, ",", &save), first = false) {
        char *eq = strchr(item, '='), *val = eq ? eq + 1 : NULL;

        if (eq)
            *eq = '\0';
        if (first && !eq && !strcmp(item, "none")) {
            *none = true;
        } else if (first && !eq && (!strcmp(item, "tap") || !strcmp(item, "ethernet"))) {
            n->bridge = false;
        } else if (first && !strcmp(item, "bridge")) {
            if (!val || !ifname_ok(val))
                ret = fail("--network '%s': bridge '%s': not an interface name (1 to 15 "
                           "characters, no '/', ':' or spaces)",
                           spec, val ? val : "");
            else
                n->bridge = true, snprintf(n->source, sizeof(n->source), "%s", val);
        } else if (first) {
            ret = fail("--network '%s': not tap, bridge=BR or none (virtual networks are not "
                       "supported)",
                       spec);
        } else if (!val) {
            ret = fail("--network '%s': '%s' needs a value (%s=...)", spec, item, item);
        } else if (!strcmp(item, "mac")) {
            if (!mac_ok(val))
                ret = fail("--network '%s': mac '%s': not a unicast MAC address "
                           "(52:54:00:xx:xx:xx)",
                           spec, val);
            else
                snprintf(n->mac, sizeof(n->mac), "%s", val);
        } else if (!strcmp(item, "ifname") || !strcmp(item, "target")) {
            if (!ifname_ok(val))
                ret = fail("--network '%s': ifname '%s': not an interface name (1 to 15 "
                           "characters, no '/', ':' or spaces)",
                           spec, val);
            else
                snprintf(n->ifname, sizeof(n->ifname), "%s", val);
        } else if (!strcmp(item, "model")) {
            if (strcmp(val, "virtio") != 0)
                ret = fail("--network '%s': model '%s': NICs are virtio", spec, val);
        } else {
            ret = fail("--network '%s': unknown option '%s' (mac, ifname, model)", spec, item);
        }
        if (*none && !first)
            ret = fail("--network '%s': none takes no options", spec);
    }
    free(copy);
    return ret;
}

int vi_parse(int argc, char **argv, struct vi_opts *o)
{
    bool have_memory = false, have_kernel = false, no_net = false;
    unsigned long v;
    int c;

    memset(o, 0, sizeof(*o));
    o->vcpus = 1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":n:w:c:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (o->name)
                return fail("--name given twice");
            if (name_ok(optarg) < 0)
                return -1;
            o->name = optarg;
            break;
        case OPT_MEMORY:
            if (whole("--memory", optarg, MIN_MEMORY, MAX_MEMORY, "MiB", &o->memory_mib) < 0)
                return -1;
            have_memory = true;
            break;
        case OPT_VCPUS:
            if (whole("--vcpus", optarg, 1, MAX_VCPUS, "virtual CPUs", &v) < 0)
                return -1;
            o->vcpus = (unsigned)v;
            break;
        case OPT_KERNEL:
            if (boot_file("--kernel", optarg, o->kernel) < 0)
                return -1;
            have_kernel = true;
            break;
        case OPT_INITRD:
            if (boot_file("--initrd", optarg, o->initrd) < 0)
                return -1;
            break;
        case OPT_CMDLINE:
            if (strlen(optarg) > 4096)
                return fail("--cmdline: longer than 4096 characters");
            o->cmdline = optarg;
            break;
        case OPT_DISK:
            if (o->ndisks == VI_MAX_DISKS)
                return fail("--disk '%s': at most %d disks", optarg, VI_MAX_DISKS);
            if (parse_disk(optarg, &o->disks[o->ndisks]) < 0)
                return -1;
            o->ndisks++;
            break;
        case 'w': {
            bool none;

            if (o->nnics == VI_MAX_NICS)
                return fail("--network '%s': at most %d NICs", optarg, VI_MAX_NICS);
            if (parse_nic(optarg, &o->nics[o->nnics], &none) < 0)
                return -1;
            if (none)
                no_net = true;
            else
                o->nnics++;
            break;
        }
        case OPT_RNG:
            o->rng = true;
            break;
        case OPT_AUTOSTART:
            o->autostart = true;
            break;
        case OPT_PRINT_XML:
            o->print_xml = true;
            break;
        case OPT_NOAUTOCONSOLE:
            o->noautoconsole = true;
            break;
        case 'c':
            o->connect = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 1;
        case OPT_VERSION:
            printf("vm-install %s\n", KVMSTACK_VERSION);
            return 1;
        case ':':
            return fail("%s needs a value (see --help)", argv[optind - 1]);
        default:
            return fail("unknown option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail("unexpected argument '%s' (see --help)", argv[optind]);
    if (!o->name)
        return fail("--name is required");
    if (!have_memory)
        return fail("--memory is required (MiB)");
    if (!have_kernel)
        return fail("--kernel is required: the stack boots a kernel directly (no firmware, "
                    "no installer media)");
    if (no_net && o->nnics)
        return fail("--network none: other --network flags were given too");
    return 0;
}
