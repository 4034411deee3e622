/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-install: a new VM from flags, as virt-install makes one: the flags
 * checked whole (each fault named with its flag), the domain XML in
 * libvirt's shape, missing disk images created sparse, the domain defined
 * and started through mgmtd, and its console attached from the first byte.
 */
#ifndef VI_VM_INSTALL_H
#define VI_VM_INSTALL_H

#include <stdbool.h>
#include <stdint.h>

#define VI_MAX_DISKS 8
#define VI_MAX_NICS  4

struct vi_disk {
    char path[4096]; /* absolute */
    uint64_t size;   /* bytes, 0 when not given */
    bool readonly;
    char serial[21];   /* "" for none */
    const char *cache; /* NULL, "none" or "writeback" */
};

struct vi_nic {
    bool bridge;     /* else a tap of its own (type='ethernet') */
    char source[16]; /* the bridge */
    char ifname[16]; /* the tap's name, "" for the daemon's choice */
    char mac[18];    /* "" for a generated one */
};

struct vi_opts {
    const char *name;
    unsigned long memory_mib;
    unsigned vcpus;
    char kernel[4096], initrd[4096]; /* absolute; initrd "" if none */
    const char *cmdline;
    struct vi_disk disks[VI_MAX_DISKS];
    unsigned ndisks;
    struct vi_nic nics[VI_MAX_NICS];
    unsigned nnics;
    bool rng, autostart, print_xml, noautoconsole;
    const char *connect;
};

/* Parses argv: 0; 1 after --help or --version (printed); -1 with the error
 * printed, naming the flag. */
int vi_parse(int argc, char **argv, struct vi_opts *o);
/* The domain XML (malloc'd). */
char *vi_xml(const struct vi_opts *o);
/* Creates the disk images that do not exist (sparse, of their size):
 * created[i] says which. 0, or -1 with the error printed (those created
 * so far are removed). */
int vi_disks_create(const struct vi_opts *o, bool created[VI_MAX_DISKS]);
void vi_disks_remove(const struct vi_opts *o, const bool created[VI_MAX_DISKS]);

#endif
