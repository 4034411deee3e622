/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vm-install without running anything (no KVM needed): --print-xml against
 * golden files (tests/tools/golden, @DIR@ standing for the test's root),
 * that XML accepted by mgmtd's parser and by the daemon, --print-xml
 * changing nothing, every invalid flag refused with its name, and a failed
 * install undoing its changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain.h"
#include "fixture.h"

const bool test_needs_kvm = false;

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

/* The golden file with @DIR@ replaced by the root. */
static char *golden(const char *name)
{
    char path[512], *text, *out, *p, *o;
    FILE *g;
    long n;

    snprintf(path, sizeof(path), "%s/golden/%s", TOOLS_TEST_DIR, name);
    g = fopen(path, "r");
    ck_assert_msg(g, "%s: %s", path, strerror(errno));
    fseek(g, 0, SEEK_END);
    n = ftell(g);
    rewind(g);
    text = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(text, 1, (size_t)n, g), n);
    fclose(g);
    out = calloc(1, (size_t)n * 4 + 1);
    for (p = text, o = out; *p;) {
        if (!strncmp(p, "@DIR@", 5)) {
            o = stpcpy(o, f.root);
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    free(text);
    return out;
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* ---- --print-xml ---- */

struct golden_case {
    const char *file;
    const char *args[24]; /* after vm-install; "@K" is the kernel, "@D/x" a path in the root */
};

static const struct golden_case goldens[] = {
    { "minimal.xml", { "--name", "small", "--memory", "64", "--kernel", "@K", NULL } },
    { "full.xml",
      { "-n",
        "web-1.example",
        "--ram",
        "512",
        "--vcpus",
        "2",
        "--kernel",
        "@K",
        "--initrd",
        "@D/initrd.img",
        "--extra-args",
        "console=ttyS0 quiet & <x> 'y' \"z\"",
        "--disk",
        "path=@D/root.img,size=1",
        "--disk",
        "@D/data.img,readonly=on,serial=DATA-1,cache=writeback",
        "--network",
        "tap",
        "-w",
        "bridge=br0,mac=52:54:00:12:34:56,ifname=vm-web0,model=virtio",
        "--rng",
        "--autostart",
        NULL } },
    { "tap-cache-none.xml",
      { "--name", "tapper", "--memory", "4", "--vcpus", "255", "--kernel", "@K", "--disk",
        "relative.img,size=0.5,cache=none,format=raw,bus=virtio", "--network",
        "tap,ifname=tap-x,mac=02:00:00:00:00:01", "--noautoconsole", NULL } },
};

/* Runs vm-install with a case's arguments (and more, NULL-terminated). */
static void run_case(const char *const *args, const char *const *more)
{
    const char *argv[48] = { VM_INSTALL_PATH };
    static char expanded[24][512];
    unsigned n = 1;

    for (unsigned i = 0; args[i]; i++, n++) {
        if (!strcmp(args[i], "@K"))
            argv[n] = fx_kernel(&f, "demo_mb");
        else if (strstr(args[i], "@D/")) {
            const char *at = strstr(args[i], "@D/");

            snprintf(expanded[i], sizeof(expanded[i]), "%.*s%s/%s", (int)(at - args[i]), args[i],
                     f.root, at + 3);
            argv[n] = expanded[i];
        } else {
            argv[n] = args[i];
        }
    }
    for (unsigned i = 0; more && more[i]; i++)
        argv[n++] = more[i];
    argv[n] = NULL;
    fx_run(&f, &r, NULL, argv);
}

static void existing_files(void)
{
    fx_write(&f, "initrd.img", "initrd");
    fx_write(&f, "data.img", "");
}

START_TEST(print_xml_golden)
{
    existing_files();
    for (unsigned i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        char *want = golden(goldens[i].file);

        run_case(goldens[i].args, (const char *const[]){ "--print-xml", NULL });
        ck_assert_msg(r.status == 0 && !strcmp(r.out, want) && !r.err[0],
                      "%s: status %d\n%s\nnot:\n%s\nstderr: %s", goldens[i].file, r.status, r.out,
                      want, r.err);
        free(want);
    }
}
END_TEST

START_TEST(print_xml_is_accepted)
{
    struct md_parse_opts opts = { .emulator = "/usr/bin/kvmemu" };

    existing_files();
    for (unsigned i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
        struct md_domain_def *def;
        struct md_err err;
        json_object *params, *v;

        run_case(goldens[i].args, (const char *const[]){ "--print-xml", NULL });
        expect(0, NULL, "");
        /* mgmtd's parser, schema included... */
        md_err_clear(&err);
        def = md_domain_def_parse_string(r.out, strlen(r.out), &opts, &err);
        ck_assert_msg(def, "%s: %s", goldens[i].file, err.msg);
        if (i == 1) {
            ck_assert_str_eq(def->name, "web-1.example");
            ck_assert_uint_eq(def->memory_kib, 524288);
            ck_assert_uint_eq(def->vcpus, 2);
            ck_assert_uint_eq(def->nr_disks, 2);
            ck_assert(def->disks[1].readonly);
            ck_assert_str_eq(def->disks[1].serial, "DATA-1");
            ck_assert_uint_eq(def->nr_nics, 2);
            ck_assert_str_eq(def->os.cmdline, "console=ttyS0 quiet & <x> 'y' \"z\"");
        }
        md_domain_def_free(def);
        /* ... and the daemon's. */
        params = json_object_new_object();
        json_object_object_add(params, "xml", json_object_new_string(r.out));
        v = fx_call(&f, "domain.validate", json_object_to_json_string(params));
        json_object_put(params);
        json_object_put(v);
    }
}
END_TEST

START_TEST(print_xml_changes_nothing)
{
    const char *img = fx_path(&f, "new.img");
    char disk[512];

    snprintf(disk, sizeof(disk), "path=%s,size=2", img);
    /* No daemon is needed, and none is asked. */
    FX_INSTALL(&f, &r, NULL, "--name", "x", "--memory", "64", "--kernel", fx_kernel(&f, "demo_mb"),
               "--disk", disk, "--print-xml", "-c", fx_path(&f, "nothing.sock"));
    expect(0, NULL, "");
    ck_assert_ptr_nonnull(strstr(r.out, img));
    ck_assert(!exists(img));
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
}
END_TEST

/* ---- invalid flags ---- */

struct bad_case {
    const char *args[12]; /* "@K": the kernel; "@D": the root */
    const char *err;
};

#define BASE "--name", "x", "--memory", "64", "--kernel", "@K"

static const struct bad_case bads[] = {
    { { NULL }, "error: --name is required\n" },
    { { "--name", "x", NULL }, "error: --memory is required (MiB)\n" },
    { { "--name", "x", "--memory", "64", NULL },
      "error: --kernel is required: the stack boots a kernel directly (no firmware, no installer "
      "media)\n" },
    { { "--name", "a b", NULL },
      "error: --name 'a b': only letters, digits, '_', '.' and '-' may be used\n" },
    { { "--name", ".hidden", NULL }, "error: --name '.hidden': must not begin with '.'\n" },
    { { "--name", "x", "--name", "y", NULL }, "error: --name given twice\n" },
    { { "--memory", "3", NULL },
      "error: --memory '3': not a whole number of MiB from 4 to 1048576\n" },
    { { "--memory", "64M", NULL },
      "error: --memory '64M': not a whole number of MiB from 4 to 1048576\n" },
    { { "--vcpus", "256", NULL },
      "error: --vcpus '256': not a whole number of virtual CPUs from 1 to 255\n" },
    { { "--kernel", "/nonexistent/vmlinuz", NULL },
      "error: --kernel '/nonexistent/vmlinuz': No such file or directory\n" },
    { { "--kernel", "@D", NULL }, "error: --kernel '@D': not a regular file\n" },
    { { BASE, "--initrd", "@D/nope", NULL },
      "error: --initrd '@D/nope': No such file or directory\n" },
    { { BASE, "--disk", "size=1", NULL }, "error: --disk 'size=1': no path=FILE\n" },
    { { BASE, "--disk", "path=@D/x.img", NULL },
      "error: --disk 'path=@D/x.img': @D/x.img does not exist; give size=GiB to create it\n" },
    { { BASE, "--disk", "path=@D/x.img,size=0", NULL },
      "error: --disk 'path=@D/x.img,size=0': size '0': not a size in GiB above 0 and up to "
      "16384\n" },
    { { BASE, "--disk", "@D/x.img,size=1,readonly=maybe", NULL },
      "error: --disk '@D/x.img,size=1,readonly=maybe': readonly 'maybe': not on or off\n" },
    { { BASE, "--disk", "@D/x.img,size=1,serial=a/b", NULL },
      "error: --disk '@D/x.img,size=1,serial=a/b': serial 'a/b': 1 to 20 of letters, digits, "
      "space and _ . + -\n" },
    { { BASE, "--disk", "@D/x.img,size=1,cache=unsafe", NULL },
      "error: --disk '@D/x.img,size=1,cache=unsafe': cache 'unsafe': not none or writeback\n" },
    { { BASE, "--disk", "@D/x.img,size=1,format=qcow2", NULL },
      "error: --disk '@D/x.img,size=1,format=qcow2': format 'qcow2': only raw images are "
      "supported\n" },
    { { BASE, "--disk", "@D/x.img,size=1,bogus=1", NULL },
      "error: --disk '@D/x.img,size=1,bogus=1': unknown option 'bogus' (path, size, readonly, "
      "serial, cache)\n" },
    { { BASE, "--disk", "@D/home", NULL },
      "error: --disk '@D/home': @D/home is not a file or a block device\n" },
    { { BASE, "--network", "network=default", NULL },
      "error: --network 'network=default': not tap, bridge=BR or none (virtual networks are not "
      "supported)\n" },
    { { BASE, "--network", "bridge=", NULL },
      "error: --network 'bridge=': bridge '': not an interface name (1 to 15 characters, no '/', "
      "':' or spaces)\n" },
    { { BASE, "--network", "tap,mac=zz", NULL },
      "error: --network 'tap,mac=zz': mac 'zz': not a unicast MAC address (52:54:00:xx:xx:xx)\n" },
    { { BASE, "--network", "tap,mac=01:00:5e:00:00:01", NULL },
      "error: --network 'tap,mac=01:00:5e:00:00:01': mac '01:00:5e:00:00:01': not a unicast MAC "
      "address (52:54:00:xx:xx:xx)\n" },
    { { BASE, "--network", "tap,model=e1000", NULL },
      "error: --network 'tap,model=e1000': model 'e1000': NICs are virtio\n" },
    { { BASE, "--network", "tap,ifname=much-too-long-name", NULL },
      "error: --network 'tap,ifname=much-too-long-name': ifname 'much-too-long-name': not an "
      "interface name (1 to 15 characters, no '/', ':' or spaces)\n" },
    { { BASE, "--network", "none", "--network", "tap", NULL },
      "error: --network none: other --network flags were given too\n" },
    { { BASE, "--bogus", NULL }, "error: unknown option '--bogus' (see --help)\n" },
    { { BASE, "--memory", NULL }, "error: --memory needs a value (see --help)\n" },
    { { BASE, "stray", NULL }, "error: unexpected argument 'stray' (see --help)\n" },
};

/* "@D" -> the root, "@K" -> the kernel, in s. */
static void expand(const char *s, char *out, size_t len)
{
    out[0] = '\0';
    while (*s) {
        size_t used = strlen(out);

        if (!strncmp(s, "@D", 2)) {
            snprintf(out + used, len - used, "%s", f.root);
            s += 2;
        } else if (!strncmp(s, "@K", 2)) {
            snprintf(out + used, len - used, "%s", fx_kernel(&f, "demo_mb"));
            s += 2;
        } else {
            snprintf(out + used, len - used, "%c", *s++);
        }
    }
}

START_TEST(invalid_flags)
{
    for (unsigned i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        static char words[12][512];
        const char *argv[14] = { VM_INSTALL_PATH };
        char want[1024];
        unsigned n = 0;

        for (; bads[i].args[n]; n++) {
            expand(bads[i].args[n], words[n], sizeof(words[n]));
            argv[n + 1] = words[n];
        }
        argv[n + 1] = NULL;
        expand(bads[i].err, want, sizeof(want));
        fx_run(&f, &r, NULL, argv);
        ck_assert_msg(r.status == 1 && !strcmp(r.err, want) && !r.out[0],
                      "case %u: status %d, stderr:\n%s\nnot:\n%s", i, r.status, r.err, want);
    }
    ck_assert(!exists(fx_path(&f, "x.img")));
}
END_TEST

/* ---- failures undo the changes ---- */

START_TEST(name_taken)
{
    char disk[512];

    FX_VMCTL(&f, &r, NULL, "define", fx_domain_xml(&f, "alpha", NULL));
    expect(0, NULL, "");
    snprintf(disk, sizeof(disk), "path=%s,size=1", fx_path(&f, "new.img"));
    FX_INSTALL(&f, &r, NULL, "--name", "alpha", "--memory", "64", "--kernel",
               fx_kernel(&f, "demo_mb"), "--disk", disk);
    expect(1, "",
           "error: --name 'alpha': a domain of that name exists already (vmctl undefine alpha, "
           "or choose another name)\n");
    ck_assert(!exists(fx_path(&f, "new.img")));
}
END_TEST

START_TEST(refused_define_is_undone)
{
    char disk[512], want[1024];
    const char *img = fx_path(&f, "new.img");

    /* The read-only socket answers the lookup and refuses the definition. */
    snprintf(disk, sizeof(disk), "path=%s,size=1", img);
    FX_INSTALL(&f, &r, NULL, "-c", f.ro, "--name", "alpha", "--memory", "64", "--kernel",
               fx_kernel(&f, "demo_mb"), "--disk", disk);
    snprintf(want, sizeof(want), "Created disk image %s (1 GiB, sparse)\nRemoved disk image %s\n",
             img, img);
    expect(1, want, NULL);
    ck_assert_msg(strstr(r.err, "error: Failed to define domain 'alpha'\nerror: domain.define "),
                  "%s", r.err);
    ck_assert(!exists(img));
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
}
END_TEST

START_TEST(help_and_version)
{
    FX_INSTALL(&f, &r, NULL, "--help");
    expect(0, NULL, "");
    ck_assert_ptr_nonnull(strstr(r.out, "usage: vm-install --name NAME --memory MiB"));
    ck_assert_ptr_nonnull(strstr(r.out, "--print-xml"));
    FX_INSTALL(&f, &r, NULL, "--version");
    expect(0, "vm-install 0.1.0\n", "");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vm_install");
    TCase *tc = tcase_create("vm_install");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, print_xml_golden);
    tcase_add_test(tc, print_xml_is_accepted);
    tcase_add_test(tc, print_xml_changes_nothing);
    tcase_add_test(tc, invalid_flags);
    tcase_add_test(tc, name_taken);
    tcase_add_test(tc, refused_define_is_undone);
    tcase_add_test(tc, help_and_version);
    suite_add_tcase(s, tc);
    return s;
}
