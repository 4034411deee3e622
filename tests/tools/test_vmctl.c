/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmctl against a real mgmtd, with domains that are defined but never run
 * (no KVM needed): every query's output in virsh's layout and as JSON,
 * define/undefine/autostart/edit, the errors (unknown domain, bad XML,
 * the read-only socket refusing changes, bad command lines), events, the
 * shell from stdin and in a terminal, and the completion bash uses.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Asserts the last run's status, stdout and stderr (NULL: not checked). */
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

static void define(const char *name, const char *devices)
{
    char want[512];
    const char *xml = fx_domain_xml(&f, name, devices);

    FX_VMCTL(&f, &r, NULL, "define", xml);
    snprintf(want, sizeof(want), "Domain '%s' defined from %s\n\n", name, xml);
    expect(0, want, "");
}

/* Defines the domain again from its own XML (dumpxml --inactive). */
static void redefine(const char *name)
{
    char file[64], path[512], want[600];

    FX_VMCTL(&f, &r, NULL, "-q", "dumpxml", "--inactive", name);
    expect(0, NULL, "");
    snprintf(file, sizeof(file), "%s.dump.xml", name);
    snprintf(path, sizeof(path), "%s", fx_write(&f, file, r.out));
    FX_VMCTL(&f, &r, NULL, "define", path);
    snprintf(want, sizeof(want), "Domain '%s' defined from %s\n\n", name, path);
    expect(0, want, "");
}

/* A domain's UUID, through domuuid. */
static const char *uuid_of(const char *name)
{
    static char uuid[64];

    FX_VMCTL(&f, &r, NULL, "domuuid", name);
    expect(0, NULL, "");
    ck_assert_uint_eq(strlen(r.out), 38); /* 36, "\n", and the blank line */
    snprintf(uuid, sizeof(uuid), "%.36s", r.out);
    return uuid;
}

static json_object *json_out(void)
{
    json_object *o = json_tokener_parse(r.out);

    ck_assert_msg(o, "not JSON: %s", r.out);
    return o;
}

/* ---- list ---- */

START_TEST(list_table_and_forms)
{
    char want[512];
    json_object *o, *d;

    FX_VMCTL(&f, &r, NULL, "list", "--all");
    expect(0, " Id   Name   State\n--------------------\n\n", "");
    define("alpha", NULL);
    define("beta", NULL);
    FX_VMCTL(&f, &r, NULL, "list", "--all");
    expect(0,
           " Id   Name    State\n"
           "------------------------\n"
           " -    alpha   shut off\n"
           " -    beta    shut off\n"
           "\n",
           "");
    /* Without --all: the running ones, none. */
    FX_VMCTL(&f, &r, NULL, "list");
    expect(0, " Id   Name   State\n--------------------\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "alpha\nbeta\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--inactive", "--name");
    expect(0, "alpha\nbeta\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--state-running", "--name");
    expect(0, "\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--state-shutoff", "--persistent", "--name");
    expect(0, "alpha\nbeta\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--transient", "--name");
    expect(0, "\n", "");
    snprintf(want, sizeof(want), "%s\n", uuid_of("alpha"));
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\n\n", uuid_of("beta"));
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--uuid");
    expect(0, want, "");
    snprintf(want, sizeof(want), "%s  alpha\n", uuid_of("alpha"));
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s  beta\n\n", uuid_of("beta"));
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name", "--uuid");
    expect(0, want, "");

    FX_VMCTL(&f, &r, NULL, "list", "--all", "--json");
    expect(0, NULL, "");
    o = json_out();
    ck_assert(json_object_is_type(o, json_type_array));
    ck_assert_uint_eq(json_object_array_length(o), 2);
    d = json_object_array_get_idx(o, 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "name")), "beta");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "state")), "shut off");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "uuid")), uuid_of("beta"));
    ck_assert_int_eq(json_object_get_int(json_object_object_get(d, "id")), -1);
    ck_assert(json_object_get_boolean(json_object_object_get(d, "persistent")));
    json_object_put(o);
    /* --json before the command does the same; it ends with no blank line. */
    FX_VMCTL(&f, &r, NULL, "--json", "list");
    expect(0, "[\n]\n", "");
}
END_TEST

/* ---- dominfo, domstate, the ids ---- */

START_TEST(dominfo_layout)
{
    char want[1024];
    json_object *o;

    define("alpha", NULL);
    snprintf(want, sizeof(want),
             "Id:             -\n"
             "Name:           alpha\n"
             "UUID:           %s\n"
             "OS Type:        hvm\n"
             "State:          shut off\n"
             "CPU(s):         1\n"
             "Max memory:     32768 KiB\n"
             "Used memory:    0 KiB\n"
             "Persistent:     yes\n"
             "Autostart:      disable\n"
             "Managed save:   no\n"
             "\n",
             uuid_of("alpha"));
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect(0, want, "");
    /* By UUID, and with --domain: the same. */
    FX_VMCTL(&f, &r, NULL, "dominfo", "--domain", uuid_of("alpha"));
    expect(0, want, "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha", "--json");
    expect(0, NULL, "");
    o = json_out();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "name")), "alpha");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "max_memory_kib")), 32768);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "vcpus")), 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "shut off");
    json_object_put(o);
}
END_TEST

START_TEST(state_and_ids)
{
    char uuid[64], want[128];
    json_object *o;

    define("alpha", NULL);
    snprintf(uuid, sizeof(uuid), "%s", uuid_of("alpha"));
    FX_VMCTL(&f, &r, NULL, "domstate", "alpha");
    expect(0, "shut off\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domstate", "alpha", "--reason");
    expect(0, "shut off (unknown)\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domstate", "--reason", "--json", "alpha");
    expect(0, NULL, "");
    o = json_out();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "state")), "shut off");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "reason")), "unknown");
    json_object_put(o);
    /* virsh's "-" for the id of a domain that is shut off. */
    FX_VMCTL(&f, &r, NULL, "domid", "alpha");
    expect(0, "-\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domid", "alpha", "--json");
    expect(0, "{\n  \"id\": -1\n}\n", "");
    FX_VMCTL(&f, &r, NULL, "domname", uuid);
    expect(0, "alpha\n\n", "");
    FX_VMCTL(&f, &r, NULL, "domuuid", "alpha", "--json");
    snprintf(want, sizeof(want), "{\n  \"uuid\": \"%s\"\n}\n", uuid);
    expect(0, want, "");
    FX_VMCTL(&f, &r, NULL, "domname", "--json", "alpha");
    expect(0, "{\n  \"name\": \"alpha\"\n}\n", "");
}
END_TEST

START_TEST(dumpxml_forms)
{
    char live[FX_OUT_MAX];
    json_object *o;

    define("alpha", NULL);
    FX_VMCTL(&f, &r, NULL, "dumpxml", "alpha");
    expect(0, NULL, "");
    expect_in(r.out, "<domain type='kvm'>\n");
    expect_in(r.out, "<name>alpha</name>");
    expect_in(r.out, fx_kernel(&f, "demo_mb"));
    /* The daemon's additions, as libvirt writes them back. */
    expect_in(r.out, "<uuid>");
    expect_in(r.out, "<memballoon model='none'/>");
    /* The XML, then virsh's blank line. */
    ck_assert(strlen(r.out) > 11 && !strcmp(r.out + strlen(r.out) - 11, "</domain>\n\n"));
    snprintf(live, sizeof(live), "%s", r.out);
    FX_VMCTL(&f, &r, NULL, "dumpxml", "alpha", "--inactive");
    expect(0, live, "");
    FX_VMCTL(&f, &r, NULL, "dumpxml", "alpha", "--json");
    expect(0, NULL, "");
    o = json_out();
    live[strlen(live) - 1] = '\0';
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "xml")), live);
    json_object_put(o);
}
END_TEST

START_TEST(device_tables)
{
    char devices[1024], want[2048], a[256], b[256];
    json_object *o, *d;

    snprintf(a, sizeof(a), "%s", fx_write(&f, "a.img", ""));
    snprintf(b, sizeof(b), "%s", fx_write(&f, "b.img", ""));
    snprintf(devices, sizeof(devices),
             "    <disk type='file' device='disk'><source file='%s'/>"
             "<target dev='vda' bus='virtio'/></disk>\n"
             "    <disk type='file' device='disk'><source file='%s'/>"
             "<target dev='vdb' bus='virtio'/><readonly/></disk>\n"
             "    <interface type='ethernet'><mac address='52:54:00:aa:bb:01'/>"
             "<target dev='vc-tap0'/><model type='virtio'/></interface>\n"
             "    <interface type='bridge'><mac address='52:54:00:aa:bb:02'/>"
             "<source bridge='br-test'/><model type='virtio'/></interface>\n",
             a, b);
    define("alpha", devices);
    /* Target 6 wide, Source as wide as the paths. */
    snprintf(want, sizeof(want),
             " Target   Source\n"
             "%.*s\n"
             " vda      %s\n"
             " vdb      %s\n"
             "\n",
             (int)(6 + 3 + strlen(a) + 3),
             "-----------------------------------------------------------------------------", a, b);
    FX_VMCTL(&f, &r, NULL, "domblklist", "alpha");
    expect(0, want, "");
    FX_VMCTL(&f, &r, NULL, "domblklist", "alpha", "--details");
    expect(0, NULL, "");
    expect_in(r.out, " Type   Device   Target   Source\n");
    expect_in(r.out, " file   disk     vda      ");
    FX_VMCTL(&f, &r, NULL, "domblklist", "alpha", "--json");
    expect(0, NULL, "");
    o = json_out();
    ck_assert_uint_eq(json_object_array_length(o), 2);
    d = json_object_array_get_idx(o, 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "target")), "vdb");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "source")), b);
    ck_assert(json_object_get_boolean(json_object_object_get(d, "readonly")));
    json_object_put(o);

    FX_VMCTL(&f, &r, NULL, "domiflist", "alpha");
    expect(0,
           " Interface   Type       Source    Model    MAC\n"
           "--------------------------------------------------------------\n"
           " vc-tap0     ethernet   -         virtio   52:54:00:aa:bb:01\n"
           " -           bridge     br-test   virtio   52:54:00:aa:bb:02\n"
           "\n",
           "");
    FX_VMCTL(&f, &r, NULL, "domiflist", "alpha", "--json", "--inactive");
    expect(0, NULL, "");
    o = json_out();
    ck_assert_uint_eq(json_object_array_length(o), 2);
    d = json_object_array_get_idx(o, 1);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "source")), "br-test");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(d, "mac")), "52:54:00:aa:bb:02");
    json_object_put(o);
}
END_TEST

/* ---- changes of definitions ---- */

START_TEST(autostart_and_undefine)
{
    struct stat st;

    define("alpha", NULL);
    define("beta", NULL);
    FX_VMCTL(&f, &r, NULL, "autostart", "alpha");
    expect(0, "Domain 'alpha' marked as autostarted\n\n", "");
    ck_assert_int_eq(lstat(fx_path(&f, "etc/autostart/alpha.xml"), &st), 0);
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect_in(r.out, "Autostart:      enable\n");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--autostart", "--name");
    expect(0, "alpha\n\n", "");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--no-autostart", "--name");
    expect(0, "beta\n\n", "");
    FX_VMCTL(&f, &r, NULL, "autostart", "alpha", "--disable");
    expect(0, "Domain 'alpha' unmarked as autostarted\n\n", "");
    ck_assert_int_ne(lstat(fx_path(&f, "etc/autostart/alpha.xml"), &st), 0);
    FX_VMCTL(&f, &r, NULL, "undefine", "alpha");
    expect(0, "Domain 'alpha' has been undefined\n\n", "");
    ck_assert_int_ne(stat(fx_path(&f, "etc/domains/alpha.xml"), &st), 0);
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "beta\n\n", "");
    /* The same name with another UUID (the file has none: a new one each
     * time) is another domain's; its own XML updates it. */
    FX_VMCTL(&f, &r, NULL, "define", fx_path(&f, "beta.xml"));
    expect(1, "\n", NULL);
    expect_in(r.err, "domain 'beta' already exists with UUID");
    redefine("beta");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "beta\n\n", "");
}
END_TEST

START_TEST(quiet_mode)
{
    const char *xml = fx_domain_xml(&f, "alpha", NULL);

    FX_VMCTL(&f, &r, NULL, "-q", "define", xml);
    expect(0, "", "");
    FX_VMCTL(&f, &r, NULL, "--quiet", "domstate", "alpha");
    expect(0, "shut off\n", "");
}
END_TEST

/* ---- errors ---- */

START_TEST(unknown_domain)
{
    static const char *const cmds[] = { "dominfo",   "domstate", "domid",      "domuuid",
                                        "domname",   "dumpxml",  "domblklist", "domiflist",
                                        "start",     "shutdown", "destroy",    "reboot",
                                        "reset",     "suspend",  "resume",     "undefine",
                                        "autostart", "edit",     "console",    NULL };

    define("alpha", NULL);
    for (int i = 0; cmds[i]; i++) {
        FX_VMCTL(&f, &r, NULL, cmds[i], "nope");
        ck_assert_msg(r.status == 1 && !strcmp(r.err, "error: failed to get domain 'nope'\n"),
                      "%s nope: status %d, stderr %s", cmds[i], r.status, r.err);
    }
    FX_VMCTL(&f, &r, NULL, "event", "--domain", "nope", "--timeout", "1");
    expect(1, NULL, "error: failed to get domain 'nope'\n");
    /* An id that no running domain has. */
    FX_VMCTL(&f, &r, NULL, "dominfo", "7");
    expect(1, NULL, "error: failed to get domain '7'\n");
}
END_TEST

START_TEST(bad_xml_files)
{
    char missing[256], broken[256], graphics[256], schema[256], want[512];

    snprintf(missing, sizeof(missing), "%s", fx_path(&f, "missing.xml"));
    snprintf(broken, sizeof(broken), "%s",
             fx_write(&f, "broken.xml", "<domain type='kvm'>\n  <name>x</name>\n"));
    snprintf(graphics, sizeof(graphics), "%s",
             fx_domain_xml(&f, "gfx", "    <graphics type='vnc'/>\n"));
    snprintf(schema, sizeof(schema), "%s",
             fx_write(&f, "schema.xml", "<domain type='kvm'>\n  <bogus/>\n</domain>\n"));

    FX_VMCTL(&f, &r, NULL, "define", missing);
    snprintf(want, sizeof(want), "error: Failed to open file '%s': No such file or directory\n",
             missing);
    expect(1, NULL, want);
    FX_VMCTL(&f, &r, NULL, "define", broken);
    snprintf(want, sizeof(want), "error: Failed to define domain from %s\nerror: ", broken);
    expect(1, NULL, NULL);
    ck_assert_msg(!strncmp(r.err, want, strlen(want)), "%s", r.err);
    expect_in(r.err, "line");
    /* Well-formed, refused by the daemon's checks, naming the element. */
    FX_VMCTL(&f, &r, NULL, "define", graphics);
    expect(1, NULL, NULL);
    expect_in(r.err, "Failed to define domain from");
    expect_in(r.err, "<graphics");
    /* --validate: refused here, before the daemon sees it. */
    FX_VMCTL(&f, &r, NULL, "define", "--validate", schema);
    expect(1, NULL, NULL);
    expect_in(r.err, "does not validate against the domain schema");
    expect_in(r.err, "line 2");
    FX_VMCTL(&f, &r, NULL, "create", broken);
    expect(1, NULL, NULL);
    expect_in(r.err, "error: Failed to create domain from");
    /* Nothing was defined. */
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
    /* A good file passes --validate. */
    FX_VMCTL(&f, &r, NULL, "define", "--validate", fx_domain_xml(&f, "alpha", NULL));
    expect(0, NULL, "");
}
END_TEST

START_TEST(readonly_refuses_changes)
{
    const char *xml = fx_domain_xml(&f, "alpha", NULL);
    char alt[256], link_ro[300];

    FX_VMCTL(&f, &r, NULL, "-r", "define", xml);
    expect(1, NULL, NULL);
    expect_in(r.err, "error: Failed to define domain from");
    expect_in(r.err, "read-only socket");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--name");
    expect(0, "\n", "");
    define("alpha", NULL);
    FX_VMCTL(&f, &r, NULL, "-c", f.ro, "undefine", "alpha");
    expect(1, NULL, NULL);
    expect_in(r.err, "error: Failed to undefine domain 'alpha'\n");
    expect_in(r.err, "read-only socket");
    FX_VMCTL(&f, &r, NULL, "-r", "autostart", "alpha");
    expect(1, NULL, NULL);
    expect_in(r.err, "read-only socket");
    FX_VMCTL(&f, &r, NULL, "-r", "start", "alpha");
    expect(1, NULL, NULL);
    expect_in(r.err, "Failed to start domain 'alpha'");
    /* Nothing changed, and queries work there. */
    FX_VMCTL(&f, &r, NULL, "-r", "dominfo", "alpha");
    expect(0, NULL, "");
    expect_in(r.out, "Autostart:      disable\n");
    expect_in(r.out, "State:          shut off\n");

    /* Queries go to the read-only sibling, changes to the socket named:
     * here only the sibling exists. */
    snprintf(alt, sizeof(alt), "%s/alt", f.root);
    ck_assert_int_eq(mkdir(alt, 0755), 0);
    snprintf(link_ro, sizeof(link_ro), "%s/mgmtd-ro.sock", alt);
    ck_assert_int_eq(symlink(f.ro, link_ro), 0);
    snprintf(alt, sizeof(alt), "%s/alt/mgmtd.sock", f.root);
    FX_VMCTL(&f, &r, NULL, "-c", alt, "list", "--all", "--name");
    expect(0, "alpha\n\n", "");
    FX_VMCTL(&f, &r, NULL, "-c", alt, "undefine", "alpha");
    expect(1, NULL, NULL);
    expect_in(r.err, "error: failed to connect to mgmtd\n");
    expect_in(r.err, alt);
}
END_TEST

START_TEST(command_line_errors)
{
    FX_VMCTL(&f, &r, NULL, "nope");
    expect(1, NULL, "error: unknown command: 'nope'\n");
    FX_VMCTL(&f, &r, NULL, "list", "--bogus");
    expect(1, NULL, "error: command 'list' doesn't support option --bogus\n");
    FX_VMCTL(&f, &r, NULL, "domstate");
    expect(1, NULL, "error: command 'domstate' requires <domain> option\n");
    FX_VMCTL(&f, &r, NULL, "domstate", "a", "b");
    expect(1, NULL, "error: unexpected data 'b'\n");
    FX_VMCTL(&f, &r, NULL, "domstate", "--domain");
    expect(1, NULL, "error: expected syntax: --domain <string>\n");
    FX_VMCTL(&f, &r, NULL, "event", "--timeout", "soon");
    expect(1, NULL,
           "error: Numeric value 'soon' for <timeout> option is malformed or out of range\n");
    FX_VMCTL(&f, &r, NULL, "list", "--all", "--all");
    expect(1, NULL, "error: option --all already provided\n");
    /* --json belongs to the commands that change nothing. */
    FX_VMCTL(&f, &r, NULL, "start", "--json", "x");
    expect(1, NULL, "error: command 'start' doesn't support option --json\n");
    FX_VMCTL(&f, &r, NULL, "--bogus", "list");
    expect(1, NULL, "error: unsupported option '--bogus'. See --help.\n");
    FX_VMCTL(&f, &r, NULL, "-e", "^^^", "list");
    expect(1, NULL, NULL);
    expect_in(r.err, "--escape '^^^'");
    /* The shell's own commands are not commands here. */
    FX_VMCTL(&f, &r, NULL, "quit");
    expect(1, NULL, "error: unknown command: 'quit'\n");
    /* No daemon there. */
    FX_VMCTL(&f, &r, NULL, "-c", fx_path(&f, "none.sock"), "list");
    expect(1, NULL, NULL);
    expect_in(r.err, "error: failed to connect to mgmtd\nerror: cannot connect to ");
    expect_in(r.err, "none.sock");
}
END_TEST

/* ---- help, version ---- */

START_TEST(help_and_version)
{
    static const char *const issue[] = {
        "list",      "define",  "undefine", "create", "start",   "shutdown",  "destroy",
        "reboot",    "reset",   "suspend",  "resume", "dominfo", "domstate",  "domid",
        "domuuid",   "domname", "dumpxml",  "edit",   "console", "autostart", "domblklist",
        "domiflist", "event",   "version",  "help",   NULL
    };
    json_object *o;

    FX_VMCTL(&f, &r, NULL, "help");
    expect(0, NULL, "");
    expect_in(r.out, "Grouped commands:\n\n Domain Management (help keyword 'domain'):\n");
    expect_in(r.out, " Domain Monitoring (help keyword 'monitor'):\n");
    for (int i = 0; issue[i]; i++) {
        char line[64];

        snprintf(line, sizeof(line), "\n    %-30s ", issue[i]);
        expect_in(r.out, line);
    }
    ck_assert_ptr_null(strstr(r.out, "complete"));
    FX_VMCTL(&f, &r, NULL, "help", "domstate");
    expect(0, NULL, "");
    expect_in(r.out, "  NAME\n    domstate - domain state\n\n  SYNOPSIS\n"
                     "    domstate <domain> [--reason] [--json]\n");
    expect_in(r.out, "  OPTIONS\n    [--domain] <string>  domain name, id or uuid\n");
    FX_VMCTL(&f, &r, NULL, "help", "monitor");
    expect(0, NULL, "");
    expect_in(r.out, "    dominfo ");
    ck_assert_ptr_null(strstr(r.out, "    start "));
    FX_VMCTL(&f, &r, NULL, "help", "nope");
    expect(1, NULL, "error: command or command group 'nope' doesn't exist\n");
    FX_VMCTL(&f, &r, NULL, "--help");
    expect(0, NULL, "");
    expect_in(r.out, "vmctl [options]... [<command> [args...]]");
    FX_VMCTL(&f, &r, NULL, "-v");
    expect(0, "0.1.0\n", "");
    FX_VMCTL(&f, &r, NULL, "version");
    expect(0, NULL, "");
    expect_in(r.out, "Compiled against library: vmctl 0.1.0\nUsing API: mgmtd 0.1.0\n"
                     "Running hypervisor: kvmemu ");
    FX_VMCTL(&f, &r, NULL, "version", "--json");
    expect(0, NULL, "");
    o = json_out();
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "daemon")), "0.1.0");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "domains")), 0);
    json_object_put(o);
}
END_TEST

/* ---- edit ---- */

/* An editor (a script) that runs `body` on the file "$1". */
static void editor(const char *body)
{
    char script[2048];
    const char *path;

    snprintf(script, sizeof(script), "#!/bin/sh\nset -e\n%s\n", body);
    path = fx_write(&f, "editor.sh", script);
    ck_assert_int_eq(chmod(path, 0755), 0);
    setenv("EDITOR", path, 1);
    unsetenv("VISUAL");
}

static unsigned files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(edit_flows)
{
    define("alpha", NULL);

    editor("touch \"$1\"");
    FX_VMCTL(&f, &r, NULL, "edit", "alpha");
    expect(0, "Domain 'alpha' XML configuration not changed.\n\n", "");

    editor("sed -i \"s|<vcpu placement='static'>1</vcpu>|<vcpu placement='static'>2</vcpu>|\" "
           "\"$1\"");
    FX_VMCTL(&f, &r, NULL, "edit", "alpha");
    expect(0, "Domain 'alpha' XML configuration edited.\n\n", "");
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect_in(r.out, "CPU(s):         2\n");

    /* Refused: shown with its reason, offered again; "n" drops it. */
    editor("sed -i \"s|<devices>|<devices><graphics type='vnc'/>|\" \"$1\"");
    FX_VMCTL(&f, &r, "n\n", "edit", "alpha");
    expect(1, "Failed. Try again? [y,n,?]: \n", NULL);
    expect_in(r.err, "error: ");
    expect_in(r.err, "<graphics");
    FX_VMCTL(&f, &r, NULL, "dumpxml", "alpha");
    ck_assert_ptr_null(strstr(r.out, "graphics"));
    /* End of input is "no". */
    FX_VMCTL(&f, &r, NULL, "edit", "alpha");
    expect(1, NULL, NULL);
    expect_in(r.out, "Failed. Try again? [y,n,?]: ");
    /* "?" explains; "y" edits the same text again, which the editor now
     * fixes. */
    editor("if grep -q graphics \"$1\"; then\n"
           "  sed -i \"s|<graphics type='vnc'/>||; s|<vcpu placement='static'>2|"
           "<vcpu placement='static'>3|\" \"$1\"\n"
           "else\n"
           "  sed -i \"s|<devices>|<devices><graphics type='vnc'/>|\" \"$1\"\n"
           "fi");
    FX_VMCTL(&f, &r, "?\ny\n", "edit", "alpha");
    expect(0, NULL, NULL);
    expect_in(r.out, "y - yes, start editor again\nn - no, throw away my changes\n");
    expect_in(r.out, "Domain 'alpha' XML configuration edited.\n");
    ck_assert_uint_eq(fx_count(r.out, "Failed. Try again?"), 2);
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect_in(r.out, "CPU(s):         3\n");
    /* An editor that fails changes nothing. */
    editor("echo broken >\"$1\"; exit 3");
    FX_VMCTL(&f, &r, NULL, "edit", "alpha");
    expect(1, "\n", NULL);
    expect_in(r.err, "failed (exit status 3); nothing was changed");
    FX_VMCTL(&f, &r, NULL, "dominfo", "alpha");
    expect_in(r.out, "CPU(s):         3\n");
    /* Every temporary copy is gone. */
    ck_assert_uint_eq(files_in(fx_path(&f, "tmp")), 0);
}
END_TEST

/* ---- events ---- */

struct bg {
    pthread_t t;
    struct fx_out out;
    const char *const *argv;
};

static void *bg_run(void *arg)
{
    struct bg *b = arg;

    fx_run(&f, &b->out, NULL, b->argv);
    return NULL;
}

/* Starts argv in the background; returns once it runs (and had time to
 * subscribe: its process exists, then 500 ms). */
static void bg_start(struct bg *b, const char *const *argv, const char *marker)
{
    b->argv = argv;
    ck_assert_int_eq(pthread_create(&b->t, NULL, bg_run, b), 0);
    for (int i = 0; i < 100 && fx_find_process(VMCTL_PATH, marker) < 0; i++)
        usleep(20000);
    usleep(500000);
}

START_TEST(events)
{
    struct bg b;
    json_object *o;

    FX_VMCTL(&f, &r, NULL, "event", "--list");
    expect(0, "lifecycle\nreboot\nio-error\n\n", "");
    FX_VMCTL(&f, &r, NULL, "event", "--event", "nope");
    expect(1, NULL, "error: unknown event type nope (see event --list)\n");
    FX_VMCTL(&f, &r, NULL, "event", "--timeout", "1");
    expect(0, "event loop timed out\nevents received: 0\n\n", "");

    bg_start(&b,
             (const char *const[]){ VMCTL_PATH, "-c", f.sock, "event", "--loop", "--timeout", "4",
                                    NULL },
             "--loop");
    define("alpha", NULL);
    redefine("alpha");
    FX_VMCTL(&f, &r, NULL, "undefine", "alpha");
    pthread_join(b.t, NULL);
    ck_assert_int_eq(b.out.status, 0);
    ck_assert_str_eq(b.out.out, "event 'lifecycle' for domain 'alpha': Defined Added\n"
                                "event 'lifecycle' for domain 'alpha': Defined Updated\n"
                                "event 'lifecycle' for domain 'alpha': Undefined Removed\n"
                                "event loop timed out\n"
                                "events received: 3\n\n");

    /* One event, without --loop, as JSON; and only beta's. */
    define("alpha", NULL);
    define("beta", NULL);
    bg_start(&b,
             (const char *const[]){ VMCTL_PATH, "-c", f.sock, "event", "--json", "--domain", "beta",
                                    "--timeout", "10", NULL },
             "--json");
    FX_VMCTL(&f, &r, NULL, "undefine", "alpha");
    redefine("beta");
    pthread_join(b.t, NULL);
    ck_assert_int_eq(b.out.status, 0);
    ck_assert_uint_eq(fx_count(b.out.out, "\n"), 1);
    o = json_tokener_parse(b.out.out);
    ck_assert_msg(o, "%s", b.out.out);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "event")), "lifecycle");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "type")), "defined");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "detail")), "updated");
    ck_assert_str_eq(
        json_object_get_string(json_object_object_get(json_object_object_get(o, "domain"), "name")),
        "beta");
    json_object_put(o);
}
END_TEST

/* ---- the shell and completion ---- */

START_TEST(shell_from_stdin)
{
    const char *const shell[] = { VMCTL_PATH, NULL };

    define("alpha", NULL);
    fx_run(&f, &r,
           "list --all --name; domstate alpha --reason\nnope\n\n  domid 'alpha'\nquit\nlist\n",
           shell);
    expect(0, "alpha\n\nshut off (unknown)\n\n-\n\n", "error: unknown command: 'nope'\n");
    /* Its status is the last command's. */
    fx_run(&f, &r, "domstate nope\n", shell);
    expect(1, "\n", "error: failed to get domain 'nope'\n");
    fx_run(&f, &r, "domstate 'alpha\n", shell);
    expect(1, "", "error: unterminated quote (')\n");
}
END_TEST

/* The lines `vmctl complete -- WORDS` prints. */
static void complete(const char *const *words, const char *want)
{
    const char *argv[16] = { VMCTL_PATH, "complete", "--" };
    unsigned n = 3;

    while (*words)
        argv[n++] = *words++;
    argv[n] = NULL;
    fx_run(&f, &r, NULL, argv);
    expect(0, want, "");
}

#define COMPLETE(want, ...) complete((const char *const[]){ __VA_ARGS__, NULL }, (want))

START_TEST(completion)
{
    char script[1024];
    const char *argv[4] = { "/bin/bash", "-c", script, NULL };

    define("alpha", NULL);
    define("beta", NULL);
    COMPLETE("domblklist\ndomid\ndomiflist\ndominfo\ndomname\ndomstate\ndomuuid\n", "dom");
    COMPLETE("alpha\nbeta\n", "domstate", "");
    COMPLETE("alpha\n", "dominfo", "a");
    /* start offers the domains that are shut off, shutdown the others. */
    COMPLETE("alpha\nbeta\n", "start", "");
    COMPLETE("", "shutdown", "");
    COMPLETE("--json\n--reason\n", "domstate", "alpha", "--");
    COMPLETE("--paused\n", "-c", f.sock, "start", "--p");
    COMPLETE("alpha\nbeta\n", "-r", "start", "--domain", "");
    COMPLETE("--connect\n", "--co");
    /* define's FILE: nothing, so that bash completes file names. */
    COMPLETE("", "define", "");
    COMPLETE("domain\n", "help", "doma");

    /* The bash completion file, as bash runs it. */
    snprintf(script, sizeof(script),
             ". '%s/tools/vmctl/vmctl.bash'\n"
             "COMP_WORDS=('%s' -c '%s' dominfo b); COMP_CWORD=4; _vmctl_complete\n"
             "printf '<%%s>' \"${COMPREPLY[@]}\"; echo\n"
             "COMP_WORDS=('%s' dom); COMP_CWORD=1; _vmctl_complete\n"
             "printf '<%%s>' \"${COMPREPLY[@]}\"; echo\n"
             "COMP_WORDS=(vm-install --rn); COMP_CWORD=1; _vm_install_complete\n"
             "printf '<%%s>' \"${COMPREPLY[@]}\"; echo\n"
             "complete -p vmctl vm-install\n",
             SRC_DIR, VMCTL_PATH, f.sock, VMCTL_PATH);
    fx_run(&f, &r, NULL, argv);
    expect(0,
           "<beta>\n"
           "<domblklist><domid><domiflist><dominfo><domname><domstate><domuuid>\n"
           "<--rng>\n"
           "complete -o default -F _vmctl_complete vmctl\n"
           "complete -o default -F _vm_install_complete vm-install\n",
           "");
}
END_TEST

START_TEST(shell_in_a_terminal)
{
    char screen[65536], cmd[512], hist[16384];
    FILE *h;
    size_t n;

    define("alpha", NULL);
    snprintf(cmd, sizeof(cmd), "HOME=%s/home %s -c %s", f.root, VMCTL_PATH, f.sock);
    fx_tmux_start(&f, cmd);
    ck_assert_msg(fx_tmux_wait(&f, "vmctl # ", 10000, screen, sizeof(screen)), "%s", screen);
    expect_in(screen, "Welcome to vmctl");
    /* Tab completes the command, then the domain. */
    FX_KEYS(&f, "doms", "Tab");
    ck_assert_msg(fx_tmux_wait(&f, "vmctl # domstate ", 5000, screen, sizeof(screen)), "%s",
                  screen);
    FX_KEYS(&f, "al", "Tab");
    ck_assert_msg(fx_tmux_wait(&f, "vmctl # domstate alpha ", 5000, screen, sizeof(screen)), "%s",
                  screen);
    FX_KEYS(&f, "--rea", "Tab");
    ck_assert_msg(fx_tmux_wait(&f, "domstate alpha --reason", 5000, screen, sizeof(screen)), "%s",
                  screen);
    FX_KEYS(&f, "Enter");
    ck_assert_msg(fx_tmux_wait(&f, "shut off (unknown)", 5000, screen, sizeof(screen)), "%s",
                  screen);
    FX_KEYS(&f, "list --all", "Enter");
    ck_assert_msg(fx_tmux_wait(&f, " -    alpha   shut off", 5000, screen, sizeof(screen)), "%s",
                  screen);
    /* History: Up brings the last line back. */
    FX_KEYS(&f, "Up");
    ck_assert_msg(fx_tmux_wait(&f, "vmctl # list --all\n", 5000, screen, sizeof(screen)) &&
                      fx_count(screen, "vmctl # list --all") == 2,
                  "%s", screen);
    FX_KEYS(&f, "C-u", "quit", "Enter");
    ck_assert_msg(fx_tmux_wait(&f, "EXIT=0", 5000, screen, sizeof(screen)), "%s", screen);
    fx_assert_sane_terminal(&f, screen, sizeof(screen));
    h = fopen(fx_path(&f, "home/.cache/vmctl/history"), "r");
    ck_assert_ptr_nonnull(h);
    n = fread(hist, 1, sizeof(hist) - 1, h);
    hist[n] = '\0';
    fclose(h);
    expect_in(hist, "domstate");
    expect_in(hist, "list");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("vmctl");
    TCase *tc = tcase_create("vmctl");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, list_table_and_forms);
    tcase_add_test(tc, dominfo_layout);
    tcase_add_test(tc, state_and_ids);
    tcase_add_test(tc, dumpxml_forms);
    tcase_add_test(tc, device_tables);
    tcase_add_test(tc, autostart_and_undefine);
    tcase_add_test(tc, quiet_mode);
    tcase_add_test(tc, unknown_domain);
    tcase_add_test(tc, bad_xml_files);
    tcase_add_test(tc, readonly_refuses_changes);
    tcase_add_test(tc, command_line_errors);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, edit_flows);
    tcase_add_test(tc, events);
    tcase_add_test(tc, shell_from_stdin);
    tcase_add_test(tc, completion);
    tcase_add_test(tc, shell_in_a_terminal);
    suite_add_tcase(s, tc);
    return s;
}
