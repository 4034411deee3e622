/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd/conf's behaviour beyond the corpus: what a parse puts in the
 * structs, the values it generates (UUID, MACs, PCI slots, emulator), the
 * host CPU check, the file checks, hostile documents, and the error
 * contract (set once, first fault wins, one line naming the line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/argv.h"
#include "conf_fixture.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define HEAD                                                                                       \
    "<domain type='kvm'>\n"                                                                        \
    "  <name>t</name>\n"
#define UUID_LINE "  <uuid>c0ffee00-0000-4000-8000-00000000000a</uuid>\n"
#define OS                                                                                         \
    "  <memory unit='MiB'>64</memory>\n"                                                           \
    "  <os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os>\n"

static struct md_domain_def *parse(struct fixture *f, const char *xml, struct md_err *err)
{
    md_err_clear(err);
    return md_domain_def_parse_string(xml, strlen(xml), &f->opts, err);
}

static struct md_domain_def *parse_ok(struct fixture *f, const char *xml)
{
    struct md_err err;
    struct md_domain_def *def = parse(f, xml, &err);

    ck_assert_msg(def, "refused: %s", err.msg);
    return def;
}

static void expect_refused(struct fixture *f, const char *xml, const char *want)
{
    struct md_err err;
    struct md_domain_def *def = parse(f, xml, &err);

    ck_assert_msg(!def, "accepted, want '%s'", want);
    ck_assert_int_lt(err.code, 0);
    ck_assert_msg(strstr(err.msg, want), "'%s' does not say '%s'", err.msg, want);
}

START_TEST(parse_fills_the_structs)
{
    char path[512];
    struct md_err err = { 0 };
    struct md_domain_def *def;
    struct fixture f;

    fixture_init(&f);
    def = md_domain_def_parse_file(fixture_path(path, sizeof(path), "good", "virsh-dumpxml.xml"),
                                   &f.opts, &err);
    ck_assert_msg(def, "%s", err.msg);
    ck_assert_str_eq(def->name, "web1");
    ck_assert_str_eq(def->title, "Web server");
    ck_assert_uint_eq(def->memory_kib, 1048576);
    ck_assert_uint_eq(def->vcpus, 2);
    ck_assert_str_eq(def->os.machine, "pc-i440fx-7.2");
    ck_assert_str_eq(def->os.cmdline, "console=ttyS0 root=/dev/vda1 ro quiet");
    ck_assert(def->features.acpi && def->features.apic && !def->features.pae);
    ck_assert(def->features.vmport_off);
    ck_assert(def->cpu.present && !def->cpu.migratable_off);
    ck_assert(def->clock.rtc.tickpolicy && def->clock.pit.tickpolicy);
    ck_assert_int_eq(def->clock.hpet.present, 0);
    ck_assert_int_eq(def->on_poweroff, MD_ACTION_DESTROY);
    ck_assert_int_eq(def->on_reboot, MD_ACTION_RESTART);
    ck_assert_int_eq(def->on_crash, MD_ACTION_DESTROY);
    ck_assert(def->pm.mem_off && def->pm.disk_off);
    ck_assert_str_eq(def->emulator, FIXTURE_EMULATOR);
    ck_assert_uint_eq(def->nr_disks, 1);
    ck_assert_str_eq(def->disks[0].source, "/var/lib/libvirt/images/web1.img");
    ck_assert_str_eq(def->disks[0].target, "vda");
    ck_assert_int_eq(def->disks[0].cache, MD_CACHE_NONE);
    ck_assert(def->disks[0].io_uring && def->disks[0].discard_unmap && !def->disks[0].readonly);
    ck_assert_uint_eq(def->disks[0].addr.slot, 4);
    ck_assert_uint_eq(def->nr_nics, 1);
    ck_assert_int_eq(def->nics[0].type, MD_NET_BRIDGE);
    ck_assert_str_eq(def->nics[0].bridge, "br0");
    ck_assert_ptr_null(def->nics[0].ifname);
    ck_assert_mem_eq(def->nics[0].mac, "\x52\x54\x00\x6b\x3c\x58", 6);
    ck_assert_uint_eq(def->nics[0].addr.slot, 3);
    ck_assert(def->serial.present);
    ck_assert_int_eq(def->serial.type, MD_CHR_PTY);
    ck_assert(!def->vconsole.present);
    ck_assert(def->rng.present);
    ck_assert_str_eq(def->rng.backend, "/dev/urandom");
    ck_assert_uint_eq(def->rng.addr.slot, 6);
    /* Lines, for the messages of later checks. */
    ck_assert_int_eq(def->os.kernel_line, 17);
    ck_assert_int_eq(def->disks[0].source_line, 43);
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

START_TEST(uuid_generated_v4_with_getrandom)
{
    struct md_err err = { 0 };
    struct md_domain_def *a, *b;
    const char *xml = HEAD OS "</domain>\n";
    char text[37];

    /* No options at all: the built-in schema and getrandom(2). */
    a = md_domain_def_parse_string(xml, strlen(xml), NULL, &err);
    ck_assert_msg(a, "%s", err.msg);
    b = md_domain_def_parse_string(xml, strlen(xml), NULL, &err);
    ck_assert_msg(b, "%s", err.msg);
    ck_assert_uint_eq(a->uuid[6] >> 4, 4);        /* version 4 */
    ck_assert_uint_eq(a->uuid[8] & 0xc0, 0x80);   /* RFC 4122 variant */
    ck_assert(memcmp(a->uuid, b->uuid, 16) != 0); /* random, not fixed */
    md_uuid_format(a->uuid, text);
    ck_assert_uint_eq(strlen(text), 36);
    ck_assert_uint_eq(text[14], '4');
    /* Without options there is no emulator to fill in. */
    ck_assert_ptr_null(a->emulator);
    md_domain_def_free(a);
    md_domain_def_free(b);
}
END_TEST

START_TEST(uuid_spellings)
{
    static const char *const good[] = {
        "c0ffee00-0000-4000-8000-00000000000a",
        "C0FFEE0000004000800000000000000A",
        "c0-ff-ee-00-00-00-40-00-80-00-00-00-00-00-00-0a",
    };
    static const char *const bad[] = {
        "c0ffee00-0000-4000-8000-00000000000",
        "c0ffee00-0000-4000-8000-00000000000ab",
        "c0ffee00--0000-4000-8000-00000000000a",
        "-c0ffee00-0000-4000-8000-00000000000a",
        "c0ffee00-0000-4000-8000-00000000000a-",
        "g0ffee00-0000-4000-8000-00000000000a",
        "",
    };
    uint8_t u[16];
    char text[37];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(md_uuid_parse(good[i], u), "'%s' refused", good[i]);
        md_uuid_format(u, text);
        ck_assert_str_eq(text, "c0ffee00-0000-4000-8000-00000000000a");
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!md_uuid_parse(bad[i], u), "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(mac_generated_distinct)
{
    struct md_domain_def *def;
    struct fixture f;
    char mac[18];

    fixture_init(&f);
    /* The fixture's random bytes count up from 0x10: the first guess for
     * the second NIC is the first NIC's address, so it must try again. */
    def = parse_ok(&f, HEAD UUID_LINE OS "  <devices>\n"
                                         "    <interface type='ethernet'>\n"
                                         "      <mac address='52:54:00:10:11:12'/>\n"
                                         "    </interface>\n"
                                         "    <interface type='ethernet'/>\n"
                                         "  </devices>\n"
                                         "</domain>\n");
    md_mac_format(def->nics[1].mac, mac);
    ck_assert_str_eq(mac, "52:54:00:13:14:15");
    md_mac_format(def->nics[0].mac, mac);
    ck_assert_str_eq(mac, "52:54:00:10:11:12");
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

static int failing_random(void *opaque, void *buf, size_t len)
{
    (void)opaque;
    (void)buf;
    (void)len;
    return -EIO;
}

START_TEST(random_failure_is_reported)
{
    struct fixture f;

    fixture_init(&f);
    f.opts.random = failing_random;
    expect_refused(&f, HEAD OS "</domain>\n", "no random bytes: Input/output error");
    fixture_fini(&f);
}
END_TEST

START_TEST(pci_slots_generated_around_named_ones)
{
    struct md_domain_def *def, *again;
    struct md_err err = { 0 };
    struct fixture f;
    char *xml, *xml2;

    fixture_init(&f);
    def = parse_ok(&f, HEAD UUID_LINE OS "  <devices>\n"
                                         "    <disk type='file' device='disk'>\n"
                                         "      <source file='/a.img'/><target dev='vda'/>\n"
                                         "    </disk>\n"
                                         "    <disk type='file' device='disk'>\n"
                                         "      <source file='/b.img'/><target dev='vdb'/>\n"
                                         "      <address type='pci' slot='0x03'/>\n"
                                         "    </disk>\n"
                                         "    <rng model='virtio'><backend model='builtin'/>\n"
                                         "      <address type='pci' slot='0x02'/></rng>\n"
                                         "    <interface type='ethernet'/>\n"
                                         "  </devices>\n"
                                         "</domain>\n");
    /* Named: rng 2, vdb 3. Then NICs before disks, from slot 2 up. */
    ck_assert_uint_eq(def->rng.addr.slot, 2);
    ck_assert_uint_eq(def->disks[1].addr.slot, 3);
    ck_assert_uint_eq(def->nics[0].addr.slot, 4);
    ck_assert_uint_eq(def->disks[0].addr.slot, 5);
    xml = md_domain_def_format(def, &err);
    ck_assert_ptr_nonnull(xml);
    ck_assert_ptr_nonnull(strstr(xml, "slot='0x05'"));
    again = parse_ok(&f, xml);
    xml2 = md_domain_def_format(again, &err);
    ck_assert_str_eq(xml, xml2);
    free(xml);
    free(xml2);
    md_domain_def_free(again);
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

START_TEST(emulator_rules)
{
    struct md_domain_def *def;
    struct md_err err = { 0 };
    struct fixture f;
    char *xml;

    fixture_init(&f);
    f.opts.emulator = NULL;
    def = parse_ok(&f, HEAD UUID_LINE OS "</domain>\n");
    ck_assert_ptr_null(def->emulator);
    xml = md_domain_def_format(def, &err);
    ck_assert_ptr_null(strstr(xml, "<emulator>"));
    free(xml);
    md_domain_def_free(def);

    def = parse_ok(&f, HEAD UUID_LINE OS
                   "  <devices><emulator>/opt/x/kvmemu</emulator></devices>\n</domain>\n");
    ck_assert_str_eq(def->emulator, "/opt/x/kvmemu");
    md_domain_def_free(def);

    /* QEMU's path with no kvmemu to put instead: refused, not kept. */
    expect_refused(&f,
                   HEAD OS "  <devices>\n"
                           "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
                           "  </devices>\n</domain>\n",
                   "line 6: <emulator>: '/usr/bin/qemu-system-x86_64' is not kvmemu");

    /* With the daemon's kvmemu, a foreign emulator is replaced by it. */
    f.opts.emulator = "/usr/libexec/kvmemu";
    def = parse_ok(&f, HEAD UUID_LINE OS
                   "  <devices><emulator>/usr/bin/qemu-kvm</emulator></devices>\n</domain>\n");
    ck_assert_str_eq(def->emulator, "/usr/libexec/kvmemu");
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

static int broken_host(void *opaque, const char *name, struct md_err *err)
{
    (void)opaque;
    (void)name;
    return md_err_set(err, -EIO, 0, "KVM_GET_SUPPORTED_CPUID failed");
}

START_TEST(host_cpu_check)
{
    static const char *const cpu =
        HEAD UUID_LINE OS "  <cpu mode='host-passthrough'>\n"
                          "    <feature policy='require' name='avx512f'/>\n"
                          "    <feature policy='require' name='sse4.2'/>\n"
                          "    <feature policy='disable' name='avx'/>\n"
                          "  </cpu>\n"
                          "</domain>\n";
    struct md_host_cpu broken = { broken_host, NULL };
    struct md_domain_def *def;
    struct fixture f;

    fixture_init(&f);
    expect_refused(&f, cpu, "line 7: <feature policy='require' name='avx512f'>: the host's CPU");
    ck_assert_uint_eq(f.host_calls, 1);

    /* Only required features are asked about, by Linux's name. */
    f.host_calls = 0;
    def = parse_ok(&f, HEAD UUID_LINE OS "  <cpu mode='host-passthrough'>\n"
                                         "    <feature policy='require' name='sse4.2'/>\n"
                                         "    <feature policy='disable' name='avx'/>\n"
                                         "  </cpu>\n</domain>\n");
    ck_assert_uint_eq(f.host_calls, 1);
    ck_assert_str_eq(def->cpu.features[0].kvmemu_name, "sse4_2");
    ck_assert_str_eq(def->cpu.features[0].name, "sse4.2");
    md_domain_def_free(def);

    f.opts.host_cpu = &broken;
    expect_refused(&f, cpu, "the host's CPU features are unknown: KVM_GET_SUPPORTED_CPUID failed");

    /* No host given (an offline check): required features are not judged. */
    f.opts.host_cpu = NULL;
    def = parse_ok(&f, cpu);
    ck_assert_uint_eq(def->cpu.nr_features, 3);
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

/* A scratch directory with a kernel, an initrd and an image. */
struct files {
    char dir[64];
    char kernel[128], initrd[128], image[128];
};

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, "x", 1), 1);
    close(fd);
}

static void files_make(struct files *fs)
{
    snprintf(fs->dir, sizeof(fs->dir), "/tmp/md-conf-files-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fs->dir));
    snprintf(fs->kernel, sizeof(fs->kernel), "%s/vmlinuz", fs->dir);
    snprintf(fs->initrd, sizeof(fs->initrd), "%s/initrd", fs->dir);
    snprintf(fs->image, sizeof(fs->image), "%s/disk.img", fs->dir);
    touch(fs->kernel);
    touch(fs->initrd);
    touch(fs->image);
}

static void files_remove(struct files *fs)
{
    unlink(fs->kernel);
    unlink(fs->initrd);
    unlink(fs->image);
    rmdir(fs->dir);
}

static struct md_domain_def *files_def(struct fixture *f, const struct files *fs,
                                       const char *kernel, const char *image,
                                       const char *serial_path)
{
    char xml[2048];

    snprintf(xml, sizeof(xml),
             HEAD UUID_LINE "  <memory unit='MiB'>64</memory>\n"
                            "  <os>\n"
                            "    <type>hvm</type>\n"
                            "    <kernel>%s</kernel>\n"
                            "    <initrd>%s</initrd>\n"
                            "  </os>\n"
                            "  <devices>\n"
                            "    <disk type='file' device='disk'>\n"
                            "      <source file='%s'/>\n"
                            "      <target dev='vda'/>\n"
                            "    </disk>\n"
                            "    <serial type='file'><source path='%s'/></serial>\n"
                            "  </devices>\n"
                            "</domain>\n",
             kernel, fs->initrd, image, serial_path);
    return parse_ok(f, xml);
}

START_TEST(check_files)
{
    struct md_domain_def *def;
    struct md_err err;
    struct files fs;
    struct fixture f;
    char log[160], msg[256];

    fixture_init(&f);
    files_make(&fs);
    snprintf(log, sizeof(log), "%s/serial.log", fs.dir);

    /* Parsing never looks at the files; the check does. */
    def = files_def(&f, &fs, fs.kernel, fs.image, log);
    md_err_clear(&err);
    ck_assert_int_eq(md_domain_def_check_files(def, &err), 0);
    ck_assert_int_eq(err.code, 0);
    md_domain_def_free(def);

    def = files_def(&f, &fs, "/nonexistent/vmlinuz", fs.image, log);
    md_err_clear(&err);
    ck_assert_int_eq(md_domain_def_check_files(def, &err), -ENOENT);
    ck_assert_str_eq(err.msg, "line 7: <kernel>: /nonexistent/vmlinuz: No such file or directory");
    ck_assert_int_eq(err.line, 7);
    md_domain_def_free(def);

    /* A directory is not an image; a character device neither. */
    def = files_def(&f, &fs, fs.kernel, fs.dir, log);
    md_err_clear(&err);
    ck_assert_int_eq(md_domain_def_check_files(def, &err), -EINVAL);
    snprintf(msg, sizeof(msg), "line 12: <source file>: %s: not a regular file or block device",
             fs.dir);
    ck_assert_str_eq(err.msg, msg);
    md_domain_def_free(def);
    def = files_def(&f, &fs, fs.kernel, "/dev/null", log);
    md_err_clear(&err);
    ck_assert_int_eq(md_domain_def_check_files(def, &err), -EINVAL);
    md_domain_def_free(def);

    /* The serial log is created at start: its directory must exist. */
    def = files_def(&f, &fs, fs.kernel, fs.image, "/nonexistent-dir/serial.log");
    md_err_clear(&err);
    ck_assert_int_eq(md_domain_def_check_files(def, &err), -ENOENT);
    ck_assert_str_eq(err.msg, "line 15: <serial>: /nonexistent-dir/serial.log: No such file or "
                              "directory");
    md_domain_def_free(def);

    files_remove(&fs);
    fixture_fini(&f);
}
END_TEST

START_TEST(parse_file_errors_name_the_file)
{
    char path[512], big[64], msg[600];
    struct md_err err;
    struct fixture f;
    FILE *fp;

    fixture_init(&f);
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_file("/nonexistent/dom.xml", &f.opts, &err));
    ck_assert_int_eq(err.code, -ENOENT);
    ck_assert_str_eq(err.msg, "/nonexistent/dom.xml: No such file or directory");

    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_file("/tmp", &f.opts, &err));
    ck_assert_str_eq(err.msg, "/tmp: not a regular file");

    fixture_path(path, sizeof(path), "bad", "graphics-vnc.xml");
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_file(path, &f.opts, &err));
    snprintf(msg, sizeof(msg), "%s: line 66: <graphics type='vnc'>: graphics are not supported",
             path);
    ck_assert_msg(!strncmp(err.msg, msg, strlen(msg)), "%s", err.msg);
    ck_assert_int_eq(err.line, 66);

    /* A file over the limit is not read. */
    snprintf(big, sizeof(big), "/tmp/md-conf-big-%d.xml", (int)getpid());
    fp = fopen(big, "w");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(ftruncate(fileno(fp), MD_XML_MAX + 1), 0);
    fclose(fp);
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_file(big, &f.opts, &err));
    ck_assert_int_eq(err.code, -EFBIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "at most 1048576 are accepted"));
    unlink(big);
    fixture_fini(&f);
}
END_TEST

START_TEST(huge_document_refused_unread)
{
    size_t len = MD_XML_MAX + 100;
    char *xml = malloc(len + 1);
    struct md_err err;
    struct fixture f;

    fixture_init(&f);
    ck_assert_ptr_nonnull(xml);
    memset(xml, ' ', len);
    memcpy(xml, "<domain type='kvm'>", 19);
    xml[len] = '\0';
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_string(xml, len, &f.opts, &err));
    ck_assert_int_eq(err.code, -EFBIG);
    ck_assert_str_eq(err.msg, "the document has 1048676 bytes; at most 1048576 are accepted");
    free(xml);
    fixture_fini(&f);
}
END_TEST

/* 10,000 nested elements inside <metadata>, where anything goes: libxml2's
 * depth limit stops it, with a message. */
START_TEST(deep_nesting_refused)
{
    const unsigned depth = 10000;
    size_t cap = depth * 32 + 512, n = 0;
    char *xml = malloc(cap);
    struct md_err err;
    struct fixture f;

    fixture_init(&f);
    ck_assert_ptr_nonnull(xml);
    n += (size_t)snprintf(xml + n, cap - n, HEAD OS "<metadata>");
    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(xml + n, cap - n, "<a:x xmlns:a='urn:a'>");
    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(xml + n, cap - n, "</a:x>");
    n += (size_t)snprintf(xml + n, cap - n, "</metadata></domain>");
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_string(xml, n, &f.opts, &err));
    ck_assert_msg(strstr(err.msg, "not well-formed XML: Excessive depth in document"), "%s",
                  err.msg);
    free(xml);
    fixture_fini(&f);
}
END_TEST

/* The billion laughs would be 3 GB if expanded: refused at once, and the
 * external entity is never read (its text appears nowhere). */
START_TEST(entities_never_expand_or_load)
{
    char path[512], secret[64], xml[1024];
    struct timespec t0, t1;
    struct md_err err;
    struct fixture f;
    char *doc;
    size_t len;
    FILE *fp;

    fixture_init(&f);
    doc = fixture_read(fixture_path(path, sizeof(path), "malformed", "billion-laughs.xml"), false,
                       &len);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_string(doc, len, &f.opts, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(t1.tv_sec - t0.tv_sec < 2, "the parse took %ld s", (long)(t1.tv_sec - t0.tv_sec));
    ck_assert_ptr_nonnull(strstr(err.msg, "<!DOCTYPE>"));
    free(doc);

    snprintf(secret, sizeof(secret), "/tmp/md-conf-secret-%d", (int)getpid());
    fp = fopen(secret, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("TOP-SECRET-CONTENT", fp);
    fclose(fp);
    snprintf(xml, sizeof(xml),
             "<!DOCTYPE domain [<!ENTITY s SYSTEM 'file://%s'>]>\n"
             "<domain type='kvm'><name>&s;</name></domain>\n",
             secret);
    md_err_clear(&err);
    ck_assert_ptr_null(md_domain_def_parse_string(xml, strlen(xml), &f.opts, &err));
    ck_assert_ptr_null(strstr(err.msg, "TOP-SECRET"));
    ck_assert_ptr_nonnull(strstr(err.msg, "document type declarations are not accepted"));
    unlink(secret);
    fixture_fini(&f);
}
END_TEST

START_TEST(error_set_once)
{
    struct md_err err;

    md_err_clear(&err);
    ck_assert_int_eq(md_err_set(&err, -EINVAL, 3, "first %d", 1), -EINVAL);
    ck_assert_int_eq(md_err_set(&err, -ENOMEM, 9, "second"), -ENOMEM);
    ck_assert_int_eq(err.code, -EINVAL);
    ck_assert_int_eq(err.line, 3);
    ck_assert_str_eq(err.msg, "line 3: first 1");
    ck_assert_int_eq(md_err_set(NULL, -EIO, 0, "nowhere"), -EIO);
    md_err_clear(NULL);
    md_domain_def_free(NULL);
    md_schema_free(NULL);
    md_argv_free(NULL);
}
END_TEST

START_TEST(schema_is_the_file)
{
    char *file = fixture_read(SCHEMA_PATH, false, NULL);
    struct md_err err = { 0 };
    const char *ok = HEAD OS "</domain>\n";

    ck_assert_str_eq(md_schema_text(), file);
    free(file);
    /* Validation alone, without a compiled schema at hand. */
    ck_assert_int_eq(md_schema_validate_string(NULL, ok, strlen(ok), &err), 0);
    ck_assert_int_eq(md_schema_validate_string(NULL, "<x/>", 4, &err), -EINVAL);
    ck_assert_str_eq(err.msg, "line 1: <x>: the root element must be <domain>");
}
END_TEST

START_TEST(format_escapes_and_is_stable)
{
    struct md_domain_def *def, *again;
    struct md_err err = { 0 };
    struct fixture f;
    char *a, *b;

    fixture_init(&f);
    def = parse_ok(&f, HEAD UUID_LINE OS "</domain>\n");
    /* Values the XML could carry, set directly: they must survive. */
    free(def->description);
    def->description = strdup("a < b && c > 'd' \"e\"\n\tindented\r\n");
    free(def->os.cmdline);
    def->os.cmdline = strdup("x='1' y=\"2\" & <z>");
    a = md_domain_def_format(def, &err);
    ck_assert_ptr_nonnull(a);
    again = parse_ok(&f, a);
    ck_assert_str_eq(again->description, def->description);
    ck_assert_str_eq(again->os.cmdline, def->os.cmdline);
    b = md_domain_def_format(again, &err);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    md_domain_def_free(again);
    md_domain_def_free(def);
    fixture_fini(&f);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("conf-api");
    TCase *tc = tcase_create("api");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, parse_fills_the_structs);
    tcase_add_test(tc, uuid_generated_v4_with_getrandom);
    tcase_add_test(tc, uuid_spellings);
    tcase_add_test(tc, mac_generated_distinct);
    tcase_add_test(tc, random_failure_is_reported);
    tcase_add_test(tc, pci_slots_generated_around_named_ones);
    tcase_add_test(tc, emulator_rules);
    tcase_add_test(tc, host_cpu_check);
    tcase_add_test(tc, check_files);
    tcase_add_test(tc, parse_file_errors_name_the_file);
    tcase_add_test(tc, huge_document_refused_unread);
    tcase_add_test(tc, deep_nesting_refused);
    tcase_add_test(tc, entities_never_expand_or_load);
    tcase_add_test(tc, error_set_once);
    tcase_add_test(tc, schema_is_the_file);
    tcase_add_test(tc, format_escapes_and_is_stable);
    suite_add_tcase(s, tc);
    return s;
}
