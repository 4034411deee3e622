/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian's own kernel under kvmemu, judged by what the kernel itself logs on
 * the serial port: that it got our command line, our e820 map (computed
 * here from emulator/memmap.c's layout), our ACPI tables (the RSDP where
 * kvmemu puts it, a MADT) and our CPU count.
 *
 * On a host with hardware virtualization the kernel must go on to run the
 * initramfs's /init, which loads Debian's virtio modules (the PVH boot has a
 * virtio-blk disk, virtio-rng and a virtio-console port), prints which
 * drivers bound which devices, prints KVMSTACK-INIT-OK and powers off:
 * kvmemu exits 0. On this project's development host (nested KVM by kvm_pvm, see
 * shared/MACHINE.md) guest ring-0 code is emulated slowly and some
 * instructions not at all, so a stock kernel stops part way: there the
 * test asserts the early log, and says explicitly where and why the guest
 * stopped, with kvmemu's report of an internal error if there was one.
 * There the runs end as soon as what they can prove has been seen (the
 * early log's last line for PVH, some seconds of running for the bzImage):
 * the project's own guest (test_guest.c) boots to user space here and
 * proves the rest, so waiting longer for a stock kernel proves nothing more.
 *
 * The assets (vmlinuz, the vmlinux inside it, a busybox initramfs) come from
 * tests/linux/build-assets, which caches them in the build directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memmap.h"
#include "testutil.h"

const bool test_needs_kvm = true;

extern char **environ;

#define RAM_MIB  512
#define NR_CPUS  2
#define MARKER   "KVMSTACK-INIT-OK"
#define PVH_SECS 90
#define BZ_SECS  45
/* On hosts that emulate ring 0: the bzImage run only has to show that the
 * loader took it and the vCPUs ran it without an error. */
#define BZ_PVM_SECS 10
/* The early log's last line that expect_early_log() needs; the run ends
 * when it appears, and may take up to PVH_PVM_SECS for it: about 25 s on
 * an idle machine, several times that when other VMs share its cores. */
#define EARLY_LOG_END "smpboot: Allowing"
#define PVH_PVM_SECS  300
#define GRACE_SECS    10
#define DISK_SECTORS  32768 /* 16 MiB */
/* The exact command line; the last word tells the two boots apart. */
#define APPEND_BASE "console=ttyS0 earlyprintk=ttyS0 noxsave"
#define APPEND_PVH  APPEND_BASE " kvmstack.boot=pvh"
#define APPEND_BZ   APPEND_BASE " kvmstack.boot=bzimage"

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A TAP comment line: shown in meson's log, ignored by its parser. */
static void diag(const char *fmt, ...)
{
    va_list ap;

    fputs("# ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static bool hardware_kvm(void)
{
    return access("/sys/module/kvm_pvm", F_OK) != 0;
}

static char *slurp(const char *path)
{
    struct stat st;
    char *buf;
    size_t n;
    FILE *f = fopen(path, "re");

    if (!f)
        return strdup("");
    if (fstat(fileno(f), &st) < 0 || !(buf = malloc((size_t)st.st_size + 1))) {
        fclose(f);
        return strdup("");
    }
    n = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    /* The console writes CR LF, and a log may hold NULs: keep one C string
     * of LF-terminated lines. */
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (buf[i] != '\r')
            buf[k++] = buf[i] ? buf[i] : '\n';
    buf[k] = '\0';
    return buf;
}

/* The line of `text` holding `needle`, copied into out; false if none. */
static bool find_line(const char *text, const char *needle, char *out, size_t cap)
{
    const char *hit = strstr(text, needle), *start, *end;

    if (!hit)
        return false;
    for (start = hit; start > text && start[-1] != '\n'; start--)
        ;
    end = strchrnul(hit, '\n');
    snprintf(out, cap, "%.*s", (int)(end - start), start);
    return true;
}

/* The last non-blank line of `text`. */
static void last_line(const char *text, char *out, size_t cap)
{
    const char *end = text + strlen(text), *start;

    while (end > text && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    for (start = end; start > text && start[-1] != '\n'; start--)
        ;
    snprintf(out, cap, "%.*s", (int)(end - start), start);
    if (!*out)
        snprintf(out, cap, "(nothing on the serial port)");
}

/* ---- the assets ---- */

struct assets {
    char vmlinuz[512], vmlinux[512], initrd[512];
};

/* Runs build-assets (quick when cached); `show` prints its summary. */
static void get_assets(struct assets *a, bool show)
{
    char cmd[2048], *log;
    int st;

    snprintf(cmd, sizeof(cmd), "'%s' '%s' >'%s/build-assets.log' 2>&1", ASSETS_SCRIPT, ASSETS_DIR,
             LOG_DIR);
    st = system(cmd);
    log = slurp(LOG_DIR "/build-assets.log");
    for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
        if (show || st != 0)
            diag("build-assets: %s", line);
    free(log);
    ck_assert_msg(st == 0, "%s %s failed (status 0x%x); see %s/build-assets.log", ASSETS_SCRIPT,
                  ASSETS_DIR, st, LOG_DIR);
    snprintf(a->vmlinuz, sizeof(a->vmlinuz), "%s/vmlinuz", ASSETS_DIR);
    snprintf(a->vmlinux, sizeof(a->vmlinux), "%s/vmlinux", ASSETS_DIR);
    snprintf(a->initrd, sizeof(a->initrd), "%s/initramfs.cpio", ASSETS_DIR);
}

static bool file_has(const char *path, long off, const void *magic, size_t len)
{
    char buf[16] = { 0 };
    FILE *f = fopen(path, "re");
    bool ok;

    if (!f)
        return false;
    ok = fseek(f, off, SEEK_SET) == 0 && fread(buf, 1, len, f) == len && !memcmp(buf, magic, len);
    fclose(f);
    return ok;
}

START_TEST(assets_are_what_they_claim)
{
    struct assets a;

    get_assets(&a, true);
    ck_assert_msg(file_has(a.vmlinuz, 0x202, "HdrS", 4), "%s: no bzImage header", a.vmlinuz);
    ck_assert_msg(file_has(a.vmlinux, 0, "\177ELF\002", 5), "%s: not a 64-bit ELF", a.vmlinux);
    ck_assert_msg(file_has(a.initrd, 0, "070701", 6), "%s: not a newc cpio", a.initrd);
}
END_TEST

/* ---- running kvmemu ---- */

struct boot_run {
    int status;     /* from waitpid */
    bool watchdog;  /* we stopped it */
    bool sigkilled; /* SIGTERM was not enough */
    bool early;     /* stopped once `until` was on the console */
    double seconds;
    char *serial, *err;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs kvmemu with serial and stderr in files, and the extra arguments
 * (NULL-terminated, may be NULL); stops it after `secs`, or as soon as a
 * whole line holding `until` (if not NULL) is on the console. */
static void run_kvmemu(const char *tag, const char *kernel, const char *initrd, const char *append,
                       const char *const *extra, unsigned secs, const char *until,
                       struct boot_run *r)
{
    char serial_path[512], err_path[512], serial_arg[600], mem[16], smp[8], shown[1024] = "";
    const char *argv[40];
    posix_spawn_file_actions_t fa;
    unsigned n = 0;
    double t0, term_at = 0;
    char *copy;
    pid_t pid;
    int ret;

    memset(r, 0, sizeof(*r));
    snprintf(serial_path, sizeof(serial_path), "%s/%s-serial.log", LOG_DIR, tag);
    snprintf(err_path, sizeof(err_path), "%s/%s-stderr.log", LOG_DIR, tag);
    snprintf(serial_arg, sizeof(serial_arg), "file:%s", serial_path);
    snprintf(mem, sizeof(mem), "%dM", RAM_MIB);
    snprintf(smp, sizeof(smp), "%d", NR_CPUS);
    unlink(serial_path);
    argv[n++] = KVMEMU_PATH;
    argv[n++] = "--kernel";
    argv[n++] = kernel;
    argv[n++] = "--initrd";
    argv[n++] = initrd;
    argv[n++] = "--append";
    argv[n++] = append;
    argv[n++] = "--memory";
    argv[n++] = mem;
    argv[n++] = "--smp";
    argv[n++] = smp;
    argv[n++] = "--serial";
    argv[n++] = serial_arg;
    argv[n++] = "--trace-boot";
    for (unsigned i = 0; extra && extra[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++) {
        size_t used = strlen(shown);

        snprintf(shown + used, sizeof(shown) - used, " %s", extra[i]);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    diag("%s: %s --kernel %s --initrd %s --append \"%s\" --memory %s --smp %s --serial %s "
         "--trace-boot%s (watchdog %u s)",
         tag, KVMEMU_PATH, kernel, initrd, append, mem, smp, serial_arg, shown, secs);

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    t0 = now_s();
    ret = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ck_assert_msg(ret == 0, "cannot run %s: %s", KVMEMU_PATH, strerror(ret));

    for (;;) {
        struct timespec tick = { 0, 100 * 1000000L };
        double t = now_s() - t0;
        pid_t w = waitpid(pid, &r->status, WNOHANG);

        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            ck_abort_msg("waitpid: %s", strerror(errno));
        if (until && !r->watchdog && (unsigned)(t * 10) % 10 == 0) {
            char *text = slurp(serial_path), *hit = strstr(text, until);

            r->early = hit && strchr(hit, '\n');
            free(text);
        }
        if (!r->watchdog && (t >= secs || r->early)) {
            /* kvmemu ends the VM on SIGTERM and prints its boot timeline. */
            r->watchdog = true;
            term_at = t;
            kill(pid, SIGTERM);
        } else if (r->watchdog && !r->sigkilled && t >= term_at + GRACE_SECS) {
            r->sigkilled = true;
            kill(pid, SIGKILL);
        }
        nanosleep(&tick, NULL);
    }
    r->seconds = now_s() - t0;
    r->serial = slurp(serial_path);
    r->err = slurp(err_path);
    diag("%s: kvmemu %s after %.1f s%s; serial log %s, stderr %s", tag,
         WIFEXITED(r->status) ? "exited" : "was killed", r->seconds,
         r->watchdog ? (r->sigkilled ? " (watchdog: SIGTERM ignored, SIGKILL)"
                        : r->early   ? " (stopped by SIGTERM: what it can prove here was seen)"
                                     : " (stopped by the watchdog's SIGTERM)")
                     : "",
         serial_path, err_path);
    if (WIFEXITED(r->status))
        diag("%s: exit status %d", tag, WEXITSTATUS(r->status));
    /* kvmemu's own words: errors, the internal error with RIP and bytes,
     * and the boot timeline. */
    copy = strdup(r->err);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        diag("%s: kvmemu: %s", tag, line);
    free(copy);
}

static void free_run(struct boot_run *r)
{
    free(r->serial);
    free(r->err);
}

/* ---- what the kernel's log must show ---- */

static const char *e820_name(uint32_t type)
{
    switch (type) {
    case 1:
        return "usable";
    case 2:
        return "reserved";
    case 3:
        return "ACPI data";
    case 4:
        return "ACPI NVS";
    default:
        return "unknown";
    }
}

/*
 * The map as Linux prints it ("BIOS-e820: ..."): kvmemu's entries plus, on
 * the PVH path, the ISA hole 0xa0000-0xfffff that Linux's PVH entry adds as
 * reserved itself, then sanitised as e820__update_table() does: overlaps
 * go to the larger type, adjacent ranges of one type merge.
 */
static unsigned expected_e820(bool pvh, struct em_e820_entry *out, unsigned max)
{
    struct em_memmap mm;
    struct em_e820_entry in[EM_E820_MAX + 1];
    uint64_t cut[2 * (EM_E820_MAX + 1)];
    unsigned nin, ncut = 0, nout = 0;

    em_memmap_init(&mm, (uint64_t)RAM_MIB << 20);
    memcpy(in, mm.e820, mm.nr_e820 * sizeof(in[0]));
    nin = mm.nr_e820;
    if (pvh)
        in[nin++] = (struct em_e820_entry){ EM_VGA_BASE, EM_HIGH_MEM_START - EM_VGA_BASE,
                                            EM_E820_RESERVED };
    for (unsigned i = 0; i < nin; i++) {
        cut[ncut++] = in[i].addr;
        cut[ncut++] = in[i].addr + in[i].size;
    }
    for (unsigned i = 0; i < ncut; i++) /* sort the boundaries */
        for (unsigned j = i + 1; j < ncut; j++)
            if (cut[j] < cut[i]) {
                uint64_t t = cut[i];

                cut[i] = cut[j];
                cut[j] = t;
            }
    for (unsigned i = 0; i + 1 < ncut; i++) {
        uint64_t lo = cut[i], hi = cut[i + 1];
        uint32_t type = 0;

        if (lo == hi)
            continue;
        for (unsigned j = 0; j < nin; j++)
            if (in[j].addr <= lo && hi <= in[j].addr + in[j].size && in[j].type > type)
                type = in[j].type;
        if (!type)
            continue;
        if (nout && out[nout - 1].type == type && out[nout - 1].addr + out[nout - 1].size == lo)
            out[nout - 1].size += hi - lo;
        else if (nout < max)
            out[nout++] = (struct em_e820_entry){ lo, hi - lo, type };
    }
    return nout;
}

static void expect_line(const char *log, const char *needle, const char *why)
{
    char line[512];

    ck_assert_msg(find_line(log, needle, line, sizeof(line)), "the kernel's log lacks \"%s\" (%s)",
                  needle, why);
    diag("matched: %s", line);
}

/* The early log: everything a stock kernel prints within its first
 * seconds, before anything this host cannot do. */
static void expect_early_log(const char *log, const char *append, bool pvh)
{
    struct em_e820_entry e[EM_E820_MAX + 1];
    unsigned n = expected_e820(pvh, e, EM_E820_MAX + 1);
    char want[256];

    snprintf(want, sizeof(want), "Command line: %s\n", append);
    expect_line(log, want, "our --append, exactly");
    ck_assert_msg(n >= 4 && e[0].addr == 0 && e[0].size == 0x9fc00, "the expected map starts "
                                                                    "with 640 KiB less the EBDA");
    for (unsigned i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "BIOS-e820: [mem 0x%016llx-0x%016llx] %s\n",
                 (unsigned long long)e[i].addr, (unsigned long long)(e[i].addr + e[i].size - 1),
                 e820_name(e[i].type));
        expect_line(log, want, "kvmemu's e820 map for 512 MiB, from emulator/memmap.c");
    }
    snprintf(want, sizeof(want), "ACPI: RSDP 0x%016llX", (unsigned long long)EM_ACPI_BASE);
    expect_line(log, want, "the RSDP where kvmemu puts it");
    expect_line(log, "ACPI: APIC 0x", "kvmemu's MADT");
    expect_line(log, "ACPI: Using ACPI (MADT) for SMP configuration information",
                "the kernel took the CPUs from the MADT");
    expect_line(log, "IOAPIC[0]: apic_id", "the MADT's IOAPIC");
    snprintf(want, sizeof(want), "smpboot: Allowing %d CPUs", NR_CPUS);
    expect_line(log, want, "--smp 2");
}

/* The stderr line kvmemu prints when a vCPU stops (an internal error with
 * RIP and instruction bytes, or another unexpected exit); "" if none. */
static void stop_reason(const char *err, char *out, size_t cap)
{
    char line[1024];
    const char *p = line;

    out[0] = '\0';
    if (!find_line(err, "stopped:", line, sizeof(line)))
        return;
    if (!strncmp(p, "kvmemu: ", 8))
        p += 8;
    snprintf(out, cap, "%s", p);
}

/* Names the instructions shared/MACHINE.md lists as ones this host's KVM
 * cannot emulate, from the bytes in kvmemu's report; NULL if another. */
static const char *known_instruction(const char *reason)
{
    static const struct {
        const char *bytes, *name;
    } known[] = {
        { "f0 48 0f c7", "lock cmpxchg16b" },
        { "cc", "int3" },
        { "48 0f ae", "xrstor (or another 0f ae instruction)" },
        { "0f ae", "xrstor (or another 0f ae instruction)" },
        { "9b", "fwait" },
    };
    const char *b = strstr(reason, "instruction bytes: ");

    if (!b)
        return NULL;
    b += strlen("instruction bytes: ");
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        size_t n = strlen(known[i].bytes);

        if (!strncmp(b, known[i].bytes, n) && (b[n] == ' ' || b[n] == ',' || !b[n]))
            return known[i].name;
    }
    return NULL;
}

/*
 * The end of the boot: on hardware KVM, /init's marker and a clean
 * power-off; on this host, an explicit account of where it stopped.
 */
static void judge_end(const char *tag, const struct boot_run *r)
{
    char last[512], reason[1024], marker[512];
    const char *what;
    bool have_marker = find_line(r->serial, MARKER, marker, sizeof(marker));

    last_line(r->serial, last, sizeof(last));
    stop_reason(r->err, reason, sizeof(reason));
    if (hardware_kvm()) {
        ck_assert_msg(have_marker,
                      "%s: /init's marker %s never appeared; the kernel's last line: "
                      "%s%s%s",
                      tag, MARKER, last, reason[0] ? "; kvmemu: " : "", reason);
        diag("%s: matched: %s", tag, marker);
        ck_assert_msg(!r->watchdog && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
                      "%s: the guest printed the marker but kvmemu did not exit 0 after its "
                      "power-off",
                      tag);
        expect_line(r->serial, "reboot: Power down", "the kernel's own power-off");
        diag("%s: PROVED on hardware KVM: the kernel ran /init from our initramfs, which "
             "printed the marker and powered off; kvmemu exited 0",
             tag);
        return;
    }
    if (have_marker) {
        diag("%s: this host (kvm_pvm) got all the way to userspace: %s", tag, marker);
        ck_assert_msg(!r->watchdog && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0,
                      "%s: the marker appeared but kvmemu did not exit 0 after the power-off", tag);
        return;
    }
    if (r->early) {
        diag("%s: ended at \"%s\" after %.0f s, once the early log was complete: on this host "
             "(nested KVM by kvm_pvm) a stock kernel does not reach user space in reasonable "
             "time; the project's own guest (test_guest) does, and proves the rest; marker not "
             "expected here",
             tag, last, r->seconds);
        return;
    }
    if (r->watchdog) {
        diag("%s: stopped at \"%s\" because this host cannot emulate guest ring-0 code fast "
             "enough (nested KVM by kvm_pvm: the stock kernel was still running, emulated, when "
             "the watchdog ended it after %.0f s); marker not expected here",
             tag, last, r->seconds);
        return;
    }
    ck_assert_msg(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 1 && reason[0],
                  "%s: kvmemu ended after %.1f s without the marker and without reporting a "
                  "stopped vCPU (status 0x%x); the kernel's last line: %s",
                  tag, r->seconds, r->status, last);
    what = known_instruction(reason);
    diag("%s: stopped at \"%s\" because this host cannot emulate %s%s the kernel executes "
         "(kvmemu said: %s); marker not expected here",
         tag, last, what ? what : "an instruction", what ? ", an instruction" : "", reason);
}

/* ---- the virtio devices ---- */

/* What the PVH boot gets besides: a virtio-blk disk, virtio-rng and a
 * virtio-console port, each a modern virtio-pci function. */
static const struct {
    const char *pci_id; /* as Linux's PCI enumeration prints it */
    const char *bound;  /* as /init prints it: virtio device ID, driver */
} virtio_devs[] = {
    { "[1af4:1042]", "0x0002:virtio_blk" },
    { "[1af4:1044]", "0x0004:virtio_rng" },
    { "[1af4:1043]", "0x0003:virtio_console" },
};
#define NDEVS (sizeof(virtio_devs) / sizeof(virtio_devs[0]))

static void make_disk(char *path, size_t cap)
{
    int fd;

    snprintf(path, cap, "%s/pvh-disk.img", LOG_DIR);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_msg(fd >= 0, "cannot create %s: %s", path, strerror(errno));
    ck_assert_msg(ftruncate(fd, (off_t)DISK_SECTORS * 512) == 0, "ftruncate %s: %s", path,
                  strerror(errno));
    close(fd);
}

/*
 * Whether Linux's own drivers took kvmemu's virtio devices. Where /init
 * ran, its KVMSTACK-VIRTIO line must name each device with its driver and
 * the disk must have our size. Where the kernel stopped before (this
 * host), what it did get to is checked: the PCI enumeration lines, if it
 * got that far, must show every function; the rest is said, not assumed.
 */
static void judge_virtio(const char *tag, const struct boot_run *r)
{
    char line[512], want[64];

    if (find_line(r->serial, MARKER, line, sizeof(line))) {
        ck_assert_msg(!find_line(r->serial, "KVMSTACK-INSMOD-FAILED", line, sizeof(line)),
                      "%s: a virtio module did not load: %s", tag, line);
        ck_assert_msg(find_line(r->serial, "KVMSTACK-VIRTIO", line, sizeof(line)),
                      "%s: /init printed no KVMSTACK-VIRTIO line", tag);
        for (size_t i = 0; i < NDEVS; i++)
            ck_assert_msg(strstr(line, virtio_devs[i].bound),
                          "%s: /init's list of bound virtio devices lacks %s: %s", tag,
                          virtio_devs[i].bound, line);
        diag("%s: matched: %s", tag, line);
        snprintf(want, sizeof(want), "KVMSTACK-VDA sectors=%u\n", DISK_SECTORS);
        expect_line(r->serial, want, "/dev/vda is our disk, with its size");
        diag("%s: PROVED: Linux's virtio_pci, virtio_blk, virtio-rng and virtio_console bound "
             "kvmemu's devices, and /dev/vda has the disk's size",
             tag);
        return;
    }
    if (!strstr(r->serial, "pci 0000:00:")) {
        diag("%s: NOT proved on this host: the kernel stopped before PCI enumeration, so the "
             "virtio functions and their drivers were not reached",
             tag);
        return;
    }
    for (size_t i = 0; i < NDEVS; i++) {
        ck_assert_msg(find_line(r->serial, virtio_devs[i].pci_id, line, sizeof(line)),
                      "%s: the kernel enumerated PCI but not the virtio function %s", tag,
                      virtio_devs[i].pci_id);
        diag("%s: matched: %s", tag, line);
    }
    diag("%s: the kernel enumerated every virtio function; NOT proved on this host: the "
         "drivers binding them (/init, which loads the modules, was not reached)",
         tag);
}

START_TEST(pvh_vmlinux_boots)
{
    char disk[512], disk_arg[600];
    struct assets a;
    struct boot_run r;

    get_assets(&a, false);
    make_disk(disk, sizeof(disk));
    snprintf(disk_arg, sizeof(disk_arg), "path=%s", disk);
    run_kvmemu(
        "pvh", a.vmlinux, a.initrd, APPEND_PVH,
        (const char *const[]){ "--disk", disk_arg, "--rng", "--console-virtio", "none", NULL },
        hardware_kvm() ? PVH_SECS : PVH_PVM_SECS, hardware_kvm() ? NULL : EARLY_LOG_END, &r);
    ck_assert_msg(strstr(r.err, "PVH loaded"),
                  "kvmemu's boot timeline has no \"PVH loaded\": "
                  "it did not load %s through its PVH note",
                  a.vmlinux);
    ck_assert_msg(strstr(r.err, "first guest instruction"), "the guest never started");
    expect_early_log(r.serial, APPEND_PVH, true);
    judge_end("pvh", &r);
    judge_virtio("pvh", &r);
    diag("pvh: PROVED: kvmemu loaded Debian's vmlinux through its PVH note and the kernel "
         "reported our command line, our e820 map, our ACPI RSDP and MADT, and %d CPUs",
         NR_CPUS);
    free_run(&r);
    unlink(disk);
}
END_TEST

START_TEST(bzimage_is_entered)
{
    struct assets a;
    struct boot_run r;
    char last[512], reason[1024], line[512];

    get_assets(&a, false);
    run_kvmemu("bzimage", a.vmlinuz, a.initrd, APPEND_BZ, NULL,
               hardware_kvm() ? BZ_SECS : BZ_PVM_SECS, NULL, &r);
    ck_assert_msg(strstr(r.err, "bzImage loaded"),
                  "kvmemu's boot timeline has no \"bzImage "
                  "loaded\": it did not accept %s as a bzImage",
                  a.vmlinuz);
    ck_assert_msg(strstr(r.err, "first guest instruction"), "the guest never started");
    last_line(r.serial, last, sizeof(last));
    stop_reason(r.err, reason, sizeof(reason));
    if (find_line(r.serial, "Command line: ", line, sizeof(line))) {
        /* The decompressor finished: the kernel proper is logging. */
        expect_early_log(r.serial, APPEND_BZ, false);
    }
    if (hardware_kvm()) {
        judge_end("bzimage", &r);
    } else if (r.watchdog) {
        ck_assert_msg(!r.sigkilled, "kvmemu did not end on SIGTERM");
        diag("bzimage: the guest was still running (emulated, slowly) when the watchdog ended it "
             "after %d s; last serial line: \"%s\"",
             BZ_PVM_SECS, last);
    } else {
        ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 1 && reason[0],
                      "kvmemu ended after %.1f s without reporting why (status 0x%x); last "
                      "serial line: %s",
                      r.seconds, r.status, last);
        diag("bzimage: stopped at \"%s\"; kvmemu said: %s", last, reason);
    }
    if (hardware_kvm())
        diag("bzimage: PROVED: kvmemu accepted Debian's bzImage, its decompressor ran and the "
             "kernel booted to /init and powered off");
    else
        diag("bzimage: PROVED: kvmemu accepted Debian's bzImage (its loader, not PVH, took it) "
             "and started the vCPUs at its entry; %s after %.0f s%s. NOT proved on this host: %s",
             r.watchdog ? "no vCPU had stopped with an error when the watchdog ended it"
                        : "the guest ran until the host stopped it",
             r.seconds,
             strstr(r.serial, "Command line: ")
                 ? "; the decompressed kernel logged our command line, e820 map, ACPI and CPUs"
                 : "",
             strstr(r.serial, "Command line: ")
                 ? "that the kernel boots to userspace (the PVH case shows where it stops here)"
                 : "that the decompressor finishes (it prints nothing itself; emulated here it "
                   "takes minutes, and 300 s were not enough in a trial) nor that the kernel "
                   "reads our zero page");
    free_run(&r);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("linux");
    TCase *tc = tcase_create("debian-kernel");

    /* The first run of build-assets downloads the kernel package. */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, assets_are_what_they_claim);
    tcase_add_test(tc, pvh_vmlinux_boots);
    tcase_add_test(tc, bzimage_is_entered);
    suite_add_tcase(s, tc);
    return s;
}
