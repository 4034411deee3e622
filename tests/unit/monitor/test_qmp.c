/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP engine without sockets: a session on the fake machine fed bytes
 * as a client would send them, its output captured line by line. The
 * greeting, negotiation, every command's reply shape (QEMU 7.2's), ids,
 * and every kind of bad input: each gets its error and has no side effect,
 * and the session goes on answering.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define MAX_LINES 64

static struct fake_machine f;
static struct em_qmp_session *s;
static char *lines[MAX_LINES];
static unsigned nlines;
static bool bad_framing;

/* The session's output: each message must be one line ending in CRLF. */
static void capture(void *opaque, const char *msg, size_t len)
{
    (void)opaque;
    if (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n' || memchr(msg, '\n', len - 1))
        bad_framing = true;
    if (nlines < MAX_LINES)
        lines[nlines++] = strndup(msg, len - 2);
}

static void clear(void)
{
    for (unsigned i = 0; i < nlines; i++)
        free(lines[i]);
    nlines = 0;
}

static void setup(void)
{
    fake_machine_init(&f);
    s = em_qmp_session_create(&f.m, capture, NULL);
    ck_assert_ptr_nonnull(s);
    bad_framing = false;
    nlines = 0;
}

static void teardown(void)
{
    ck_assert_msg(!bad_framing, "a message was not one CRLF-terminated line");
    clear();
    em_qmp_session_destroy(s);
    fake_machine_fini(&f);
}

static int feed(const char *text)
{
    return em_qmp_session_feed(s, text, strlen(text));
}

/* Line i, parsed strictly as one object (the caller frees it). */
static json_object *line(unsigned i)
{
    json_tokener *t = json_tokener_new();
    json_object *o;

    ck_assert_uint_lt(i, nlines);
    json_tokener_set_flags(t, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(t, lines[i], (int)strlen(lines[i]));
    ck_assert_msg(json_tokener_get_error(t) == json_tokener_success, "not JSON: %s", lines[i]);
    ck_assert_uint_eq(json_tokener_get_parse_end(t), strlen(lines[i]));
    json_tokener_free(t);
    ck_assert(json_object_is_type(o, json_type_object));
    return o;
}

/* Sends one request and returns its only reply. */
static json_object *cmd(const char *req)
{
    clear();
    ck_assert_int_eq(feed(req), 0);
    ck_assert_int_eq(feed("\r\n"), 0);
    ck_assert_msg(nlines == 1, "%u replies to %s", nlines, req);
    return line(0);
}

static void negotiate(void)
{
    json_object *r = cmd("{\"execute\": \"qmp_capabilities\"}");

    ck_assert_str_eq(json_object_to_json_string(r), "{ \"return\": { } }");
    json_object_put(r);
    ck_assert(em_qmp_session_in_command_mode(s));
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;

    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s' in %s", key,
                  json_object_to_json_string(o));
    return v;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = get(o, key);

    ck_assert(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

/* The reply is an error of this class whose desc contains `desc`. */
static void expect_error(json_object *r, const char *cls, const char *desc)
{
    json_object *e = get(r, "error");

    ck_assert_str_eq(str(e, "class"), cls);
    ck_assert_msg(strstr(str(e, "desc"), desc), "desc '%s' lacks '%s'", str(e, "desc"), desc);
    ck_assert_int_eq(json_object_object_length(e), 2);
    json_object_put(r);
}

static void expect_cmd_error(const char *req, const char *cls, const char *desc)
{
    expect_error(cmd(req), cls, desc);
}

static json_object *ret(const char *req)
{
    json_object *r = cmd(req), *v = get(r, "return");

    json_object_get(v);
    json_object_put(r);
    return v;
}

static unsigned calls(const unsigned *counter)
{
    return fake_machine_calls(&f, counter);
}

/* ---- greeting and negotiation ---- */

START_TEST(greeting)
{
    json_object *g, *qmp, *ver, *qemu;

    em_qmp_session_greet(s);
    ck_assert_uint_eq(nlines, 1);
    g = line(0);
    ck_assert_int_eq(json_object_object_length(g), 1);
    qmp = get(g, "QMP");
    ver = get(qmp, "version");
    qemu = get(ver, "qemu");
    ck_assert(json_object_is_type(get(qemu, "major"), json_type_int));
    ck_assert(json_object_is_type(get(qemu, "minor"), json_type_int));
    ck_assert(json_object_is_type(get(qemu, "micro"), json_type_int));
    ck_assert_int_eq(json_object_get_int(get(qemu, "minor")), 1);
    ck_assert(strstr(str(ver, "package"), "kvmemu"));
    /* No capability offered: commands are answered in order. */
    ck_assert(json_object_is_type(get(qmp, "capabilities"), json_type_array));
    ck_assert_int_eq(json_object_array_length(get(qmp, "capabilities")), 0);
    json_object_put(g);
}
END_TEST

START_TEST(negotiation)
{
    ck_assert(!em_qmp_session_in_command_mode(s));
    /* Nothing but qmp_capabilities, and nothing happens. */
    expect_cmd_error("{\"execute\": \"stop\"}", "CommandNotFound",
                     "Expecting capabilities negotiation with 'qmp_capabilities'");
    expect_cmd_error("{\"execute\": \"no-such-command\"}", "CommandNotFound",
                     "Expecting capabilities negotiation");
    ck_assert_uint_eq(calls(&f.stops), 0);
    /* A capability we do not offer is refused, and we still negotiate. */
    expect_cmd_error("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
                     "GenericError", "Capability 'oob' not available");
    ck_assert(!em_qmp_session_in_command_mode(s));
    negotiate();
    expect_cmd_error("{\"execute\": \"qmp_capabilities\"}", "CommandNotFound",
                     "Capabilities negotiation is already complete, command ignored");
    ck_assert(em_qmp_session_in_command_mode(s));
    /* An empty enable list is fine (QEMU's clients send it). */
    em_qmp_session_destroy(s);
    s = em_qmp_session_create(&f.m, capture, NULL);
    json_object_put(ret("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}"));
    ck_assert(em_qmp_session_in_command_mode(s));
}
END_TEST

START_TEST(ids_are_echoed)
{
    static const char *const ids[] = { "\"abc\"", "42", "-1.5", "{\"a\": [1, 2]}", "null", "true" };

    for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char req[128];
        json_object *r, *want = json_tokener_parse(ids[i]);

        snprintf(req, sizeof(req), "{\"execute\": \"qmp_capabilities\", \"id\": %s}", ids[i]);
        r = cmd(req);
        ck_assert_msg(json_object_equal(get(r, "id"), want), "%s", lines[0]);
        json_object_put(r);
        /* Errors carry it too. */
        snprintf(req, sizeof(req), "{\"execute\": \"nope\", \"id\": %s}", ids[i]);
        r = cmd(req);
        ck_assert(json_object_equal(get(r, "id"), want));
        ck_assert_str_eq(str(get(r, "error"), "class"), "CommandNotFound");
        json_object_put(r);
        json_object_put(want);
    }
}
END_TEST

/* ---- the commands ---- */

START_TEST(query_version_and_commands)
{
    json_object *v, *q;
    unsigned n;

    negotiate();
    v = ret("{\"execute\": \"query-version\"}");
    ck_assert(json_object_is_type(get(get(v, "qemu"), "major"), json_type_int));
    ck_assert(strstr(str(v, "package"), "kvmemu"));
    json_object_put(v);
    q = ret("{\"execute\": \"query-commands\"}");
    n = (unsigned)json_object_array_length(q);
    ck_assert_uint_eq(n, em_qmp_command_count());
    ck_assert_uint_ge(n, 16);
    for (unsigned i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(q, i);

        ck_assert_str_eq(str(c, "name"), em_qmp_command_name(i));
        ck_assert_int_eq(json_object_object_length(c), 1);
    }
    json_object_put(q);
    /* The list, each found. */
    for (const char *const *name =
             (const char *const[]){ "qmp_capabilities", "query-version", "query-commands",
                                    "query-status", "query-name", "query-uuid", "query-kvm",
                                    "query-cpus-fast", "query-block", "query-chardev", "stop",
                                    "cont", "system_powerdown", "system_reset", "quit",
                                    "x-query-boot-timeline", NULL };
         *name; name++) {
        bool found = false;

        for (unsigned i = 0; i < em_qmp_command_count(); i++)
            found |= !strcmp(em_qmp_command_name(i), *name);
        ck_assert_msg(found, "%s missing", *name);
    }
    ck_assert_ptr_null(em_qmp_command_name(em_qmp_command_count()));
}
END_TEST

static void expect_status(const char *status, bool running)
{
    json_object *st = ret("{\"execute\": \"query-status\"}");

    ck_assert_str_eq(str(st, "status"), status);
    ck_assert_int_eq(json_object_get_boolean(get(st, "running")), running);
    ck_assert_int_eq(json_object_get_boolean(get(st, "singlestep")), false);
    ck_assert_int_eq(json_object_object_length(st), 3);
    json_object_put(st);
}

START_TEST(query_status_and_run_control)
{
    negotiate();
    expect_status("running", true);
    json_object_put(ret("{\"execute\": \"stop\"}"));
    ck_assert_uint_eq(calls(&f.stops), 1);
    expect_status("paused", false);
    json_object_put(ret("{\"execute\": \"cont\"}"));
    ck_assert_uint_eq(calls(&f.conts), 1);
    expect_status("running", true);
    f.state = EM_RUN_PRELAUNCH;
    expect_status("prelaunch", false);
    f.state = EM_RUN_GUEST_PANICKED;
    expect_status("guest-panicked", false);
    f.state = EM_RUN_INTERNAL_ERROR;
    expect_status("internal-error", false);
    /* A hook's failure is the client's GenericError, with its text. */
    f.state = EM_RUN_SHUTDOWN;
    expect_status("shutdown", false);
    expect_cmd_error("{\"execute\": \"cont\"}", "GenericError",
                     "Resetting the Virtual Machine is required");
    json_object_put(ret("{\"execute\": \"system_powerdown\"}"));
    json_object_put(ret("{\"execute\": \"system_reset\"}"));
    json_object_put(ret("{\"execute\": \"quit\"}"));
    ck_assert_uint_eq(calls(&f.powerdowns), 1);
    ck_assert_uint_eq(calls(&f.resets), 1);
    ck_assert_uint_eq(calls(&f.quits), 1);
}
END_TEST

START_TEST(query_name_uuid_kvm)
{
    json_object *o;

    negotiate();
    o = ret("{\"execute\": \"query-name\"}");
    ck_assert_str_eq(str(o, "name"), "fake");
    json_object_put(o);
    o = ret("{\"execute\": \"query-uuid\"}");
    ck_assert_str_eq(str(o, "UUID"), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    json_object_put(o);
    /* Without a name: an empty object; without a UUID: the nil UUID. */
    f.m.name = NULL;
    f.m.uuid[0] = '\0';
    o = ret("{\"execute\": \"query-name\"}");
    ck_assert_int_eq(json_object_object_length(o), 0);
    json_object_put(o);
    o = ret("{\"execute\": \"query-uuid\"}");
    ck_assert_str_eq(str(o, "UUID"), "00000000-0000-0000-0000-000000000000");
    json_object_put(o);
    o = ret("{\"execute\": \"query-kvm\"}");
    ck_assert_int_eq(json_object_get_boolean(get(o, "enabled")), true);
    ck_assert_int_eq(json_object_get_boolean(get(o, "present")), true);
    ck_assert_int_eq(json_object_get_int(get(get(o, "x-completed-instructions"), "int3")), 3);
    ck_assert_int_eq(json_object_get_int(get(get(o, "x-completed-instructions"), "fwait")), 1);
    json_object_put(o);
}
END_TEST

START_TEST(query_cpus_fast)
{
    json_object *l;

    negotiate();
    l = ret("{\"execute\": \"query-cpus-fast\"}");
    ck_assert_int_eq(json_object_array_length(l), 2);
    for (int i = 0; i < 2; i++) {
        json_object *c = json_object_array_get_idx(l, i), *props = get(c, "props");
        char path[64];

        snprintf(path, sizeof(path), "/machine/unattached/device[%d]", i);
        ck_assert_int_eq(json_object_get_int(get(c, "cpu-index")), i);
        ck_assert_int_eq(json_object_get_int(get(c, "thread-id")), 4000 + i);
        ck_assert_str_eq(str(c, "qom-path"), path);
        ck_assert_str_eq(str(c, "target"), "x86_64");
        ck_assert_int_eq(json_object_get_int(get(props, "socket-id")), i);
        ck_assert_int_eq(json_object_get_int(get(props, "core-id")), 0);
        ck_assert_int_eq(json_object_get_int(get(props, "thread-id")), 0);
    }
    json_object_put(l);
}
END_TEST

START_TEST(query_block_and_chardev)
{
    json_object *l, *b, *ins, *img, *cache, *c;

    negotiate();
    f.disk.readonly = true;
    f.disk.direct = true;
    l = ret("{\"execute\": \"query-block\"}");
    ck_assert_int_eq(json_object_array_length(l), 1);
    b = json_object_array_get_idx(l, 0);
    ck_assert_str_eq(str(b, "device"), "virtio0");
    ck_assert_int_eq(json_object_get_boolean(get(b, "removable")), false);
    ck_assert_int_eq(json_object_get_boolean(get(b, "locked")), false);
    ins = get(b, "inserted");
    ck_assert_str_eq(str(ins, "file"), "/var/lib/fake/disk.img");
    ck_assert_str_eq(str(ins, "node-name"), "disk0");
    ck_assert_str_eq(str(ins, "drv"), "raw");
    ck_assert_int_eq(json_object_get_boolean(get(ins, "ro")), true);
    cache = get(ins, "cache");
    ck_assert_int_eq(json_object_get_boolean(get(cache, "direct")), true);
    ck_assert_int_eq(json_object_get_boolean(get(cache, "writeback")), true);
    img = get(ins, "image");
    ck_assert_int_eq(json_object_get_int64(get(img, "virtual-size")), 16ll << 20);
    ck_assert_str_eq(str(img, "format"), "raw");
    json_object_put(l);

    f.chardev.frame_opened = false;
    snprintf(f.chardev.filename, sizeof(f.chardev.filename), "disconnected:unix:/x,server=on");
    l = ret("{\"execute\": \"query-chardev\"}");
    ck_assert_int_eq(json_object_array_length(l), 1);
    c = json_object_array_get_idx(l, 0);
    ck_assert_str_eq(str(c, "label"), "serial0");
    ck_assert_str_eq(str(c, "filename"), "disconnected:unix:/x,server=on");
    ck_assert_int_eq(json_object_get_boolean(get(c, "frontend-open")), false);
    json_object_put(l);
}
END_TEST

START_TEST(boot_timeline)
{
    struct em_timeline *tl = em_timeline_create();
    json_object *o, *ev;

    negotiate();
    /* Without a timeline: an empty list. */
    o = ret("{\"execute\": \"x-query-boot-timeline\"}");
    ck_assert_int_eq(json_object_array_length(get(o, "events")), 0);
    json_object_put(o);
    em_timeline_mark(tl, "VM created");
    em_timeline_mark(tl, "first guest instruction");
    f.m.timeline = tl;
    o = ret("{\"execute\": \"x-query-boot-timeline\"}");
    ev = get(o, "events");
    ck_assert_int_eq(json_object_array_length(ev), 2);
    ck_assert_str_eq(str(json_object_array_get_idx(ev, 1), "label"), "first guest instruction");
    ck_assert(json_object_is_type(get(json_object_array_get_idx(ev, 0), "ms"), json_type_double));
    ck_assert_double_ge(json_object_get_double(get(json_object_array_get_idx(ev, 1), "ms")),
                        json_object_get_double(get(json_object_array_get_idx(ev, 0), "ms")));
    /* Printed to the microsecond, not json-c's seventeen digits. */
    ck_assert(strstr(lines[0], "\"ms\":"));
    ck_assert_ptr_null(strstr(lines[0], "99999"));
    json_object_put(o);
    f.m.timeline = NULL;
    em_timeline_destroy(tl);
}
END_TEST

/* ---- bad requests: an error each, and no side effect ---- */

START_TEST(bad_requests)
{
    static const struct {
        const char *req, *desc;
    } cases[] = {
        { "[1, 2]", "QMP input must be a JSON object" },
        { "42", "QMP input must be a JSON object" },
        { "\"stop\"", "QMP input must be a JSON object" },
        { "null", "QMP input must be a JSON object" },
        { "{}", "QMP input lacks member 'execute'" },
        { "{\"execute\": 1}", "QMP input member 'execute' must be a string" },
        { "{\"execute\": \"stop\", \"foo\": 1}", "QMP input member 'foo' is unexpected" },
        { "{\"execute\": \"stop\", \"arguments\": []}",
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}", "Parameter 'x' is unexpected" },
        { "{\"execute\": \"stop\", \"exec-oob\": \"stop\"}",
          "QMP input member 'exec-oob' is unexpected" },
        { "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}",
          "Invalid parameter type for 'enable', expected: array" },
        { "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [1]}}",
          "Invalid parameter type for 'enable', expected: array" },
        { "{\"execute\": \"stop\", \"id\": 1, \"id2\": 2}",
          "QMP input member 'id2' is unexpected" },
    };

    negotiate();
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_cmd_error(cases[i].req, "GenericError", cases[i].desc);
    expect_cmd_error("{\"execute\": \"query-everything\"}", "CommandNotFound",
                     "The command query-everything has not been found");
    /* None of them touched the machine. */
    ck_assert_uint_eq(calls(&f.stops), 0);
    ck_assert_uint_eq(calls(&f.conts), 0);
    expect_status("running", true);
}
END_TEST

START_TEST(invalid_json)
{
    static const char *const bad[] = {
        "{\"execute\": }",
        "{\"execute\" \"stop\"}",
        "{'execute': 'stop'}",
        "{\"a\": tru}",
        "{\"a\": 1,}",
        "}",
        "]]",
        "nul",
    };

    negotiate();
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        clear();
        ck_assert_int_eq(feed(bad[i]), 0);
        ck_assert_int_eq(feed("\r\n"), 0);
        /* One error per bad message ("]]" is two, as in QEMU). */
        ck_assert_msg(nlines >= 1 && nlines <= 2, "%u replies to %s", nlines, bad[i]);
        for (unsigned k = 0; k < nlines; k++)
            expect_error(line(k), "GenericError", "JSON parse error");
        /* And the next request is answered. */
        json_object_put(ret("{\"execute\": \"query-name\"}"));
    }
    ck_assert_uint_eq(calls(&f.stops), 0);
}
END_TEST

START_TEST(binary_garbage)
{
    static const char garbage[] = "\x00\xff\x01\x80{\xfe}\x7f";
    json_object *r;

    negotiate();
    clear();
    /* Garbage, then a good command on the next line. */
    ck_assert_int_eq(em_qmp_session_feed(s, garbage, sizeof(garbage) - 1), 0);
    ck_assert_int_eq(feed("\n{\"execute\": \"stop\", \"id\": \"after\"}\r\n"), 0);
    ck_assert_uint_eq(nlines, 2);
    expect_error(line(0), "GenericError", "JSON parse error, invalid character");
    r = line(1);
    ck_assert_str_eq(str(r, "id"), "after");
    json_object_put(r);
    ck_assert_uint_eq(calls(&f.stops), 1);
    /* A control character inside a string: refused at once, and the next
     * line is read. */
    clear();
    ck_assert_int_eq(feed("{\"execute\": \"st\x01op\"}\n{\"execute\": \"cont\"}\n"), 0);
    ck_assert_uint_eq(nlines, 2);
    expect_error(line(0), "GenericError", "JSON parse error, control character in a string");
    json_object_put(line(1));
    ck_assert_uint_eq(calls(&f.conts), 1);
    /* Unbalanced openers wait for their closers, as QEMU's parser does:
     * what comes meanwhile is part of the message, which is then one
     * error, not a command run. */
    clear();
    ck_assert_int_eq(feed("{{{{\n{\"execute\": \"cont\"}\n"), 0);
    ck_assert_uint_eq(nlines, 0);
    ck_assert_int_eq(feed("}}}}\n{\"execute\": \"query-name\"}\n"), 0);
    ck_assert_uint_eq(nlines, 2);
    expect_error(line(0), "GenericError", "JSON parse error");
    json_object_put(line(1));
    ck_assert_uint_eq(calls(&f.conts), 1);
    /* \u0000 would cut the command's name short in the parser. */
    clear();
    ck_assert_int_eq(feed("{\"execute\": \"stop\\u0000x\"}\n"), 0);
    ck_assert_uint_eq(nlines, 1);
    expect_error(line(0), "GenericError", "\\u0000 is not supported");
    /* Bytes that are not UTF-8 in a string. */
    clear();
    ck_assert_int_eq(feed("{\"execute\": \"stop\", \"id\": \"\xc3\x28\"}\n"), 0);
    ck_assert_uint_eq(nlines, 1);
    expect_error(line(0), "GenericError", "invalid UTF-8");
    ck_assert_uint_eq(calls(&f.stops), 1);
    /* Nesting deeper than the parser allows is an error, not a crash. */
    {
        char deep[300];

        memset(deep, '[', 150);
        memset(deep + 150, ']', 150);
        clear();
        ck_assert_int_eq(em_qmp_session_feed(s, deep, sizeof(deep)), 0);
        ck_assert_int_eq(feed("\n"), 0);
        ck_assert_uint_ge(nlines, 1);
        expect_error(line(0), "GenericError", "JSON parse error");
        json_object_put(ret("{\"execute\": \"query-name\"}"));
    }
}
END_TEST

START_TEST(framing)
{
    static const char two[] = "{\"execute\": \"query-name\", \"id\": 1}"
                              "{\"execute\": \"query-uuid\", \"id\": 2}\r\n";
    json_object *r;

    negotiate();
    /* Byte by byte. */
    clear();
    for (size_t i = 0; i < sizeof(two) - 1; i++)
        ck_assert_int_eq(em_qmp_session_feed(s, two + i, 1), 0);
    ck_assert_uint_eq(nlines, 2);
    /* All at once, the same two replies. */
    clear();
    ck_assert_int_eq(feed(two), 0);
    ck_assert_uint_eq(nlines, 2);
    r = line(0);
    ck_assert_int_eq(json_object_get_int(get(r, "id")), 1);
    ck_assert_str_eq(str(get(r, "return"), "name"), "fake");
    json_object_put(r);
    r = line(1);
    ck_assert_int_eq(json_object_get_int(get(r, "id")), 2);
    json_object_put(r);
    /* A message over several lines, braces and quotes inside strings. */
    clear();
    ck_assert_int_eq(feed("{\n  \"execute\":\n \"stop\",\n \"id\": \"}{\\\"]\"\n}\n"), 0);
    ck_assert_uint_eq(nlines, 1);
    r = line(0);
    ck_assert_str_eq(str(r, "id"), "}{\"]");
    json_object_put(r);
    ck_assert_uint_eq(calls(&f.stops), 1);
    /* Whitespace alone is no message. */
    clear();
    ck_assert_int_eq(feed(" \r\n\t\n"), 0);
    ck_assert_uint_eq(nlines, 0);
}
END_TEST

START_TEST(oversized_message)
{
    size_t n = EM_QMP_MAX_MESSAGE;
    char *big = malloc(n + 64);
    size_t len, k;

    negotiate();
    /* Exactly at the limit: parsed, and refused for its argument. */
    len = (size_t)snprintf(big, 64, "{\"execute\": \"stop\", \"arguments\": {\"x\": \"");
    k = n - len - 3;
    memset(big + len, 'a', k);
    memcpy(big + len + k, "\"}}\n", 4);
    clear();
    ck_assert_int_eq(em_qmp_session_feed(s, big, n + 1), 0);
    ck_assert_uint_eq(nlines, 1);
    expect_error(line(0), "GenericError", "Parameter 'x' is unexpected");
    /* One byte more, in pieces: refused, and the session is over. */
    memset(big + len, 'a', k + 1);
    memcpy(big + len + k + 1, "\"}}\n", 4);
    clear();
    for (size_t off = 0; off < n + 2; off += 4096) {
        size_t piece = n + 2 - off < 4096 ? n + 2 - off : 4096;
        int r = em_qmp_session_feed(s, big + off, piece);

        if (r < 0) {
            ck_assert_int_eq(r, -EMSGSIZE);
            break;
        }
    }
    ck_assert_uint_eq(nlines, 1);
    expect_error(line(0), "GenericError", "message too long: the limit is 1048576 bytes");
    ck_assert_int_eq(feed("{\"execute\": \"stop\"}\n"), -EMSGSIZE);
    ck_assert_uint_eq(calls(&f.stops), 0);
    free(big);
}
END_TEST

Suite *test_suite(void)
{
    Suite *su = suite_create("qmp");
    TCase *tc = tcase_create("session");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, greeting);
    tcase_add_test(tc, negotiation);
    tcase_add_test(tc, ids_are_echoed);
    tcase_add_test(tc, query_version_and_commands);
    tcase_add_test(tc, query_status_and_run_control);
    tcase_add_test(tc, query_name_uuid_kvm);
    tcase_add_test(tc, query_cpus_fast);
    tcase_add_test(tc, query_block_and_chardev);
    tcase_add_test(tc, boot_timeline);
    tcase_add_test(tc, bad_requests);
    tcase_add_test(tc, invalid_json);
    tcase_add_test(tc, binary_garbage);
    tcase_add_test(tc, framing);
    tcase_add_test(tc, oversized_message);
    suite_add_tcase(su, tc);
    return su;
}
