/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML of a new VM, in the shape libvirt and virt-install write
 * (mgmtd's parser takes it as it is): no UUID and no MACs unless given, so
 * that the daemon generates them as libvirt does, and the same flags always
 * give the same text.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "vm-install.h"

/* Text and attribute values: the five characters XML reserves. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void text_elem(FILE *f, const char *indent, const char *name, const char *text)
{
    fprintf(f, "%s<%s>", indent, name);
    put_escaped(f, text);
    fprintf(f, "</%s>\n", name);
}

static void disk(FILE *f, const struct vi_disk *d, unsigned index)
{
    fputs("    <disk type='file' device='disk'>\n", f);
    fputs("      <driver name='qemu' type='raw'", f);
    if (d->cache)
        fprintf(f, " cache='%s'", d->cache);
    fputs("/>\n      <source file='", f);
    put_escaped(f, d->path);
    fputs("'/>\n", f);
    /* vda ... vdh: at most 8 disks. */
    fprintf(f, "      <target dev='vd%c' bus='virtio'/>\n", 'a' + index);
    if (d->readonly)
        fputs("      <readonly/>\n", f);
    if (d->serial[0])
        text_elem(f, "      ", "serial", d->serial);
    fputs("    </disk>\n", f);
}

static void nic(FILE *f, const struct vi_nic *n)
{
    fprintf(f, "    <interface type='%s'>\n", n->bridge ? "bridge" : "ethernet");
    if (n->mac[0])
        fprintf(f, "      <mac address='%s'/>\n", n->mac);
    if (n->bridge) {
        fputs("      <source bridge='", f);
        put_escaped(f, n->source);
        fputs("'/>\n", f);
    }
    if (n->ifname[0]) {
        fputs("      <target dev='", f);
        put_escaped(f, n->ifname);
        fputs("'/>\n", f);
    }
    fputs("      <model type='virtio'/>\n", f);
    fputs("    </interface>\n", f);
}

char *vi_xml(const struct vi_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return NULL;
    fputs("<domain type='kvm'>\n", f);
    text_elem(f, "  ", "name", o->name);
    fprintf(f, "  <memory unit='KiB'>%lu</memory>\n", o->memory_mib * 1024);
    fprintf(f, "  <currentMemory unit='KiB'>%lu</currentMemory>\n", o->memory_mib * 1024);
    fprintf(f, "  <vcpu placement='static'>%u</vcpu>\n", o->vcpus);
    fputs("  <os>\n", f);
    fputs("    <type arch='x86_64' machine='pc'>hvm</type>\n", f);
    text_elem(f, "    ", "kernel", o->kernel);
    if (o->initrd[0])
        text_elem(f, "    ", "initrd", o->initrd);
    if (o->cmdline)
        text_elem(f, "    ", "cmdline", o->cmdline);
    fputs("  </os>\n", f);
    fputs("  <features>\n    <acpi/>\n    <apic/>\n  </features>\n", f);
    fputs("  <cpu mode='host-passthrough' check='none' migratable='on'/>\n", f);
    fputs("  <clock offset='utc'/>\n", f);
    fputs("  <on_poweroff>destroy</on_poweroff>\n", f);
    fputs("  <on_reboot>restart</on_reboot>\n", f);
    fputs("  <on_crash>destroy</on_crash>\n", f);
    fputs("  <devices>\n", f);
    for (unsigned i = 0; i < o->ndisks; i++)
        disk(f, &o->disks[i], i);
    for (unsigned i = 0; i < o->nnics; i++)
        nic(f, &o->nics[i]);
    /* COM1 on a pty: what `vmctl console` attaches to. */
    fputs("    <serial type='pty'>\n"
          "      <target type='isa-serial' port='0'>\n"
          "        <model name='isa-serial'/>\n"
          "      </target>\n"
          "    </serial>\n"
          "    <console type='pty'>\n"
          "      <target type='serial' port='0'/>\n"
          "    </console>\n",
          f);
    if (o->rng)
        fputs("    <rng model='virtio'>\n"
              "      <backend model='random'>/dev/urandom</backend>\n"
              "    </rng>\n",
              f);
    fputs("    <memballoon model='none'/>\n", f);
    fputs("  </devices>\n", f);
    fputs("</domain>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
