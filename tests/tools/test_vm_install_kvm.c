/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-install end to end with the demo guest: the images it creates
 * (sparse, of their size), the domain it defines and starts as asked
 * (vCPUs, disks, NICs, rng, autostart), the guest's own account of that
 * machine through the console, and a failed start undone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

const bool test_needs_kvm = true;

#define WAIT_MS 30000

static struct fx f;
static struct fx_out r;

static void setup(void)
{
    fx_start(&f);
}

static void teardown(void)
{
    fx_stop(&f);
}

static void expect(int status, const char *out, const char *err)
{
    ck_assert_msg(r.status == status, "status %d, not %d; stdout: %s; stderr: %s", r.status, status,
                  r.out, r.err);
    if (out)
        ck_assert_msg(!strcmp(r.out, out), "stdout:\n%s\nnot:\n%s", r.out, out);
    if (err)
        ck_assert_msg(!strcmp(r.err, err), "stderr:\n%s\nnot:\n%s", r.err, err);
}

static void expect_in(const char *text, const char *needle)
{
    ck_assert_msg(strstr(text, needle), "'%s' lacks '%s'", text, needle);
}

START_TEST(install_and_use)
{
    char root[256], data[256], disk1[512], disk2[512], want[2048];
    struct stat st;
    FILE *img;

    snprintf(root, sizeof(root), "%s", fx_path(&f, "vm1-root.img"));
    snprintf(data, sizeof(data), "%s", fx_path(&f, "data.img"));
    /* An image that exists, with a greeting in its first sector. */
    img = fopen(data, "w");
    ck_assert_ptr_nonnull(img);
    fputs("Hello from an existing image", img);
    ck_assert_int_eq(ftruncate(fileno(img), 1 << 20), 0);
    fclose(img);
    snprintf(disk1, sizeof(disk1), "path=%s,size=0.5,serial=ROOT-1", root);
    snprintf(disk2, sizeof(disk2), "%s,readonly=on", data);
    FX_INSTALL(&f, &r, NULL, "--name", "vm1", "--memory", "48", "--vcpus", "2", "--kernel",
               fx_kernel(&f, "demo_mb"), "--cmdline", "demo=yes", "--disk", disk1, "--disk", disk2,
               "--network", "tap,ifname=vi-test0,mac=52:54:00:00:07:01", "--rng", "--autostart",
               "--noautoconsole");
    snprintf(want, sizeof(want),
             "Created disk image %s (512 MiB, sparse)\n"
             "Domain 'vm1' defined\n"
             "Domain 'vm1' marked as autostarted\n"
             "Domain 'vm1' started\n"
             "Domain creation completed. Its console: vmctl console vm1\n",
             root);
    expect(0, want, "");
    /* Sparse: the size asked, no block written. */
    ck_assert_int_eq(stat(root, &st), 0);
    ck_assert_int_eq(st.st_size, 512 << 20);
    ck_assert_int_eq(st.st_blocks, 0);

    FX_VMCTL(&f, &r, NULL, "dominfo", "vm1");
    expect_in(r.out, "State:          running\nCPU(s):         2\n");
    expect_in(r.out, "Max memory:     49152 KiB\n");
    expect_in(r.out, "Autostart:      enable\n");
    FX_VMCTL(&f, &r, NULL, "domiflist", "vm1");
    expect_in(r.out, " vi-test0    ethernet   -        virtio   52:54:00:00:07:01\n");
    FX_VMCTL(&f, &r, NULL, "domblklist", "vm1");
    snprintf(want, sizeof(want), " vda      %s\n", root);
    expect_in(r.out, want);

    /* What the guest found, and the disks it reads. */
    FX_VMCTL(&f, &r, "\rinfo\rdisk\rpoweroff\r", "console", "vm1");
    expect(0, NULL, "");
    expect_in(r.out, "command line: \"");
    expect_in(r.out, " demo=yes\"\r\n");
    expect_in(r.out, "  RAM: 47 MiB usable\r\n");
    expect_in(r.out, "CPUs (ACPI MADT): 2, APIC ids 0 1\r\n");
    expect_in(r.out, " 1af4:1041 virtio network card\r\n");
    expect_in(r.out, " 1af4:1042 virtio block device\r\n");
    expect_in(r.out, " 1af4:1044 virtio entropy source\r\n");
    expect_in(r.out, "virtio disk: 1048576 sectors of 512 bytes (512 MiB), read-write, serial "
                     "'ROOT-1'\r\n");
    expect_in(r.out, "sector 0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 (no text)\r\n");
    expect_in(r.out, "powering off (ACPI S5)\r\n");
    ck_assert(fx_wait_state(&f, "vm1", "shut off", WAIT_MS));

    /* The guest's driver takes the first virtio disk: the read-only one
     * alone shows itself and its text. */
    FX_INSTALL(&f, &r, NULL, "--name", "vm2", "--memory", "32", "--kernel",
               fx_kernel(&f, "demo_mb"), "--disk", disk2, "--noautoconsole");
    expect(0, NULL, "");
    ck_assert_ptr_null(strstr(r.out, "Created disk image"));
    FX_VMCTL(&f, &r, "\rdisk\rpoweroff\r", "console", "vm2");
    expect(0, NULL, "");
    expect_in(r.out, "virtio disk: 2048 sectors of 512 bytes (1 MiB), read-only, no serial\r\n");
    expect_in(r.out, "sector 0: \"Hello from an existing image\"\r\n");
}
END_TEST

START_TEST(failed_start_is_undone)
{
    char disk[512], want[1024];
    const char *img = fx_path(&f, "bad.img");
    const char *kernel = fx_write(&f, "boot/not-a-kernel", "this is not a kernel\n");

    snprintf(disk, sizeof(disk), "path=%s,size=1", img);
    FX_INSTALL(&f, &r, NULL, "--name", "bad", "--memory", "32", "--kernel", kernel, "--disk", disk,
               "--noautoconsole");
    snprintf(want, sizeof(want),
             "Created disk image %s (1 GiB, sparse)\n"
             "Domain 'bad' defined\n"
             "Domain 'bad' undefined again\n"
             "Removed disk image %s\n",
             img, img);
    expect(1, want, NULL);
    expect_in(r.err, "error: Failed to start domain 'bad'\nerror: domain bad: ");
    ck_assert_int_ne(access(img, F_OK), 0);
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vm_install_kvm");
    TCase *tc = tcase_create("vm_install_kvm");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, install_and_use);
    tcase_add_test(tc, failed_start_is_undone);
    suite_add_tcase(s, tc);
    return s;
}
