/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A domain definition: libvirt's domain XML, the subset this stack can run,
 * as plain structs, and back to XML in the shape `virsh dumpxml` writes.
 *
 * md_domain_def_parse_*() validate against schemas/domain.rng (compiled
 * into the library), then read the document into the structs, refusing
 * anything the stack cannot provide with one sentence that names the
 * element or attribute and its line, then fill in what libvirt fills in
 * (UUID, MACs, PCI addresses, emulator, implicit devices) and check the
 * definition as a whole. Parsing reads nothing but the document: whether
 * the files a definition names exist is md_domain_def_check_files(), which
 * the daemon calls at define and start.
 *
 * md_domain_def_format(def) parsed again gives the same definition, and
 * formatting that gives the same text: every field is written.
 */
#ifndef MD_DOMAIN_H
#define MD_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What kvmemu can run (docs/kvmemu.md): its limits are the definition's. */
#define MD_MAX_DISKS       8
#define MD_MAX_NICS        4
#define MD_MAX_VCPUS       255
#define MD_MAX_CPU_DISABLE 64           /* kvmemu's --cpu changes */
#define MD_MEMORY_MIN_KIB  (4ull << 10) /* 4 MiB */
#define MD_MEMORY_MAX_KIB  (1ull << 30) /* 1 TiB */
#define MD_NAME_MAX        64
#define MD_CMDLINE_MAX     0xffff     /* kvmemu's boot command line, less the NUL */
#define MD_XML_MAX         (1u << 20) /* a larger document is refused unread */
#define MD_DISK_SERIAL_MAX 20         /* VIRTIO_BLK_ID_BYTES */
#define MD_IFNAME_MAX      15
#define MD_UNIX_PATH_MAX   107 /* sun_path less the NUL */

/* A PCI address on bus 0: 00:slot.0. Slot 0 is the host bridge, so 0 here
 * means "none yet"; every device has one after parsing. */
struct md_pci_addr {
    unsigned slot;
    int line; /* of the <address> element, 0 when generated */
};

enum md_action {
    MD_ACTION_DESTROY,
    MD_ACTION_RESTART,
    MD_ACTION_PRESERVE,
};

enum md_chr_type {
    MD_CHR_PTY,
    MD_CHR_FILE,
    MD_CHR_UNIX, /* mode='bind': kvmemu listens */
};

struct md_chardev {
    bool present;
    enum md_chr_type type;
    char *path; /* file and unix */
    int line;
};

enum md_disk_cache {
    MD_CACHE_DEFAULT, /* no cache attribute: kvmemu's default, writeback */
    MD_CACHE_NONE,
    MD_CACHE_WRITEBACK,
};

struct md_disk {
    char *source; /* <source file=...> */
    char *target; /* <target dev=...>: vda, vdb, ... */
    enum md_disk_cache cache;
    bool io_uring;      /* io='io_uring': what kvmemu does anyway */
    bool discard_unmap; /* discard='unmap': likewise */
    bool readonly;
    char *serial; /* NULL if none */
    struct md_pci_addr addr;
    int line;
    int source_line;
};

enum md_net_type {
    MD_NET_ETHERNET,
    MD_NET_BRIDGE,
};

struct md_interface {
    enum md_net_type type;
    uint8_t mac[6];
    char *bridge; /* type='bridge': <source bridge=...> */
    char *ifname; /* <target dev=...>, or NULL: the daemon names the tap */
    struct md_pci_addr addr;
    int line;
};

struct md_rng {
    bool present;
    char *backend;           /* /dev/urandom or /dev/random: kvmemu uses getrandom(2) */
    uint64_t rate_bytes;     /* <rate bytes=...>; 0: no limit */
    uint64_t rate_period_ms; /* <rate period=...>; 0: not given (kvmemu's 1000) */
    struct md_pci_addr addr;
    int line;
};

enum md_cpu_policy {
    MD_CPU_DISABLE,
    MD_CPU_REQUIRE,
};

struct md_cpu_feature {
    char *name;              /* as the XML spells it (libvirt's or Linux's name) */
    const char *kvmemu_name; /* Linux's name, which kvmemu's --cpu takes (static) */
    enum md_cpu_policy policy;
    int line;
};

struct md_cpu {
    bool present;        /* <cpu mode='host-passthrough' check='none'> */
    bool migratable_off; /* migratable='off'; 'on' otherwise */
    bool topology;       /* <topology sockets='1' dies='1' cores='N' threads='1'/> */
    unsigned cores;
    struct md_cpu_feature *features;
    unsigned nr_features;
    int line;
    int topology_line;
};

/* A <timer> as listed: only the values the machine really has are accepted. */
struct md_timer {
    bool listed;
    int present;     /* -1 not given, 0 'no', 1 'yes' */
    bool tickpolicy; /* rtc 'catchup', pit 'delay' */
};

struct md_domain_def {
    char *name;
    uint8_t uuid[16];
    char *title;
    char *description;
    bool has_metadata;
    char *metadata; /* the children of <metadata>, serialised, one per line group */

    uint64_t memory_kib; /* <memory> and <currentMemory>: equal, there is no balloon */
    unsigned vcpus;

    struct {
        char *machine; /* 'pc' or 'pc-i440fx-*' */
        char *kernel;
        char *initrd;
        char *cmdline;
        int kernel_line;
        int initrd_line;
    } os;

    struct {
        bool present; /* <features> */
        bool acpi;
        bool apic;
        bool pae;
        bool vmport_off;
    } features;

    struct md_cpu cpu;

    struct {
        bool localtime; /* offset='localtime': the RTC keeps the host's local time */
        struct md_timer rtc, pit, hpet;
    } clock; /* offset='utc' (the default): the RTC keeps UTC */

    enum md_action on_poweroff, on_reboot, on_crash;

    struct {
        bool present;
        bool mem_off;  /* <suspend-to-mem enabled='no'/> */
        bool disk_off; /* <suspend-to-disk enabled='no'/> */
    } pm;

    char *emulator;
    unsigned nr_disks;
    struct md_disk disks[MD_MAX_DISKS];
    unsigned nr_nics;
    struct md_interface nics[MD_MAX_NICS];
    struct md_chardev serial;        /* COM1; a <console> with target type='serial' is it */
    struct md_chardev vconsole;      /* <console> with target type='virtio': hvc0 */
    struct md_pci_addr vserial_addr; /* its virtio-serial controller's address */
    struct md_rng rng;
    bool seclabel_none; /* <seclabel type='none'/> */
};

/*
 * The host's CPU as kvmemu's --cpu host presents it (KVM's supported
 * CPUID), for <feature policy='require'>. `has` gets Linux's feature name
 * and returns 1 (present), 0 (absent) or a negative errno after reporting
 * into `err` itself.
 */
struct md_host_cpu {
    int (*has)(void *opaque, const char *name, struct md_err *err);
    void *opaque;
};

struct md_schema;

struct md_parse_opts {
    /* The compiled schema (md_schema_new()); NULL compiles it for this call. */
    const struct md_schema *schema;
    /* Skips the RelaxNG pass: for definitions the daemon wrote itself, and
     * for the tests that prove the C parser refuses what the schema does. */
    bool no_schema;
    /* NULL: <feature policy='require'> is not checked against a host. */
    const struct md_host_cpu *host_cpu;
    /* The kvmemu binary: <emulator> when absent, or when it names another
     * program (libvirt writes /usr/bin/qemu-system-x86_64). */
    const char *emulator;
    /* Fills buf with random bytes (UUIDs, MACs); NULL: getrandom(2). */
    int (*random)(void *opaque, void *buf, size_t len);
    void *random_opaque;
    /* Names the document in messages ("FILE: line 3: ..."); may be NULL. */
    const char *source;
};

/* NULL with `err` set on any fault; `opts` may be NULL. */
struct md_domain_def *md_domain_def_parse_string(const char *xml, size_t len,
                                                 const struct md_parse_opts *opts,
                                                 struct md_err *err);
struct md_domain_def *md_domain_def_parse_file(const char *path, const struct md_parse_opts *opts,
                                               struct md_err *err);
/* The XML, malloc'd, or NULL with -ENOMEM reported. */
char *md_domain_def_format(const struct md_domain_def *def, struct md_err *err);
void md_domain_def_free(struct md_domain_def *def);

/*
 * The files the definition names, as the daemon (root) sees them: the
 * kernel and initrd readable regular files, each disk image a readable
 * (and, unless <readonly/>, writable) regular file or block device, the
 * directories of file and socket chardevs present. 0 or -errno, the
 * message naming the element, its line and the path.
 */
int md_domain_def_check_files(const struct md_domain_def *def, struct md_err *err);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" and "52:54:00:12:34:56". */
void md_uuid_format(const uint8_t uuid[16], char out[37]);
bool md_uuid_parse(const char *s, uint8_t uuid[16]);
void md_mac_format(const uint8_t mac[6], char out[18]);

#endif
