/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP's dispatcher and kvmemu's commands. A request is checked whole
 * (its members, the command, every argument's name and type) before the
 * command runs, so a bad request has no side effect. Replies and errors
 * have QEMU's shapes and, where a client might match on it, QEMU's text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "monitor/qmp.h"

enum arg_type {
    ARG_STR,
    ARG_INT,
    ARG_BOOL,
    ARG_STR_LIST,
};

struct arg_spec {
    const char *name;
    enum arg_type type;
    bool required;
};

#define MAX_ARGS 4

struct cmd_ctx {
    const struct em_qmp_machine *m;
    bool *negotiating;
};

/* Returns the reply's "return" value, or NULL with *err set. */
typedef json_object *(*cmd_fn)(struct cmd_ctx *c, json_object *args, json_object **err);

struct command {
    const char *name;
    cmd_fn fn;
    struct arg_spec args[MAX_ARGS];
};

const char *em_run_state_name(enum em_run_state s)
{
    static const char *const names[] = {
        [EM_RUN_PRELAUNCH] = "prelaunch",
        [EM_RUN_RUNNING] = "running",
        [EM_RUN_PAUSED] = "paused",
        [EM_RUN_SHUTDOWN] = "shutdown",
        [EM_RUN_GUEST_PANICKED] = "guest-panicked",
        [EM_RUN_INTERNAL_ERROR] = "internal-error",
    };

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "running";
}

json_object *em_qmp_error(const char *cls, const char *fmt, ...)
{
    json_object *e = json_object_new_object(), *r = json_object_new_object();
    char desc[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    json_object_object_add(e, "class", json_object_new_string(cls));
    json_object_object_add(e, "desc", json_object_new_string(desc));
    json_object_object_add(r, "error", e);
    return r;
}

/* A machine hook's failure as the client's error. */
static json_object *hook(int (*fn)(void *, char *, size_t), const struct em_qmp_machine *m,
                         json_object **err)
{
    char msg[256] = "";

    if (fn(m->opaque, msg, sizeof(msg)) < 0) {
        *err = em_qmp_error("GenericError", "%s", msg[0] ? msg : "the operation failed");
        return NULL;
    }
    return json_object_new_object();
}

/* ---- the commands ---- */

static json_object *cmd_qmp_capabilities(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *enable = args ? json_object_object_get(args, "enable") : NULL;

    if (!*c->negotiating) {
        *err = em_qmp_error("CommandNotFound",
                            "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    /* We offer none: any capability asked for is refused, as QEMU does. */
    if (enable && json_object_array_length(enable) > 0) {
        *err = em_qmp_error("GenericError", "Capability '%s' not available",
                            json_object_get_string(json_object_array_get_idx(enable, 0)));
        return NULL;
    }
    *c->negotiating = false;
    return json_object_new_object();
}

static json_object *cmd_query_version(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *g = em_qmp_greeting(), *qmp, *ver;

    (void)c;
    (void)args;
    (void)err;
    json_object_object_get_ex(g, "QMP", &qmp);
    json_object_object_get_ex(qmp, "version", &ver);
    json_object_get(ver);
    json_object_put(g);
    return ver;
}

static json_object *cmd_query_commands(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *list = json_object_new_array();

    (void)c;
    (void)args;
    (void)err;
    for (unsigned i = 0; i < em_qmp_command_count(); i++) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "name", json_object_new_string(em_qmp_command_name(i)));
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *cmd_query_status(struct cmd_ctx *c, json_object *args, json_object **err)
{
    enum em_run_state st = c->m->ops->state(c->m->opaque);
    json_object *o = json_object_new_object();

    (void)args;
    (void)err;
    json_object_object_add(o, "running", json_object_new_boolean(st == EM_RUN_RUNNING));
    json_object_object_add(o, "singlestep", json_object_new_boolean(false));
    json_object_object_add(o, "status", json_object_new_string(em_run_state_name(st)));
    return o;
}

static json_object *cmd_query_name(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *o = json_object_new_object();

    (void)args;
    (void)err;
    if (c->m->name)
        json_object_object_add(o, "name", json_object_new_string(c->m->name));
    return o;
}

static json_object *cmd_query_uuid(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *o = json_object_new_object();

    (void)args;
    (void)err;
    json_object_object_add(o, "UUID",
                           json_object_new_string(c->m->uuid[0]
                                                      ? c->m->uuid
                                                      : "00000000-0000-0000-0000-000000000000"));
    return o;
}

static json_object *cmd_query_kvm(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *o = json_object_new_object();

    (void)args;
    (void)err;
    /* kvmemu has no other accelerator. */
    json_object_object_add(o, "enabled", json_object_new_boolean(true));
    json_object_object_add(o, "present", json_object_new_boolean(true));
    /* kvmemu's own: the instructions a host's KVM could not emulate and
     * kvmemu completed (nested KVM without int3/fwait emulation). */
    if (c->m->ops->completed) {
        json_object *x = json_object_new_object();
        unsigned long int3 = 0, fwait = 0;

        c->m->ops->completed(c->m->opaque, &int3, &fwait);
        json_object_object_add(x, "int3", json_object_new_int64((int64_t)int3));
        json_object_object_add(x, "fwait", json_object_new_int64((int64_t)fwait));
        json_object_object_add(o, "x-completed-instructions", x);
    }
    return o;
}

static json_object *cmd_query_cpus_fast(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *list = json_object_new_array();

    (void)args;
    (void)err;
    for (unsigned i = 0; i < c->m->ncpus; i++) {
        json_object *o = json_object_new_object(), *props = json_object_new_object();
        char path[64];

        /* One core per socket, as QEMU's -smp N. */
        json_object_object_add(props, "core-id", json_object_new_int(0));
        json_object_object_add(props, "thread-id", json_object_new_int(0));
        json_object_object_add(props, "socket-id", json_object_new_int((int)i));
        snprintf(path, sizeof(path), "/machine/unattached/device[%u]", i);
        json_object_object_add(o, "cpu-index", json_object_new_int((int)i));
        json_object_object_add(o, "qom-path", json_object_new_string(path));
        json_object_object_add(o, "thread-id",
                               json_object_new_int(c->m->ops->cpu_thread_id(c->m->opaque, i)));
        json_object_object_add(o, "props", props);
        json_object_object_add(o, "target", json_object_new_string("x86_64"));
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *block_inserted(const struct em_qmp_disk *d)
{
    static const char *const throttle[] = {
        "bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"
    };
    json_object *ins = json_object_new_object(), *img = json_object_new_object();
    json_object *cache = json_object_new_object();

    json_object_object_add(img, "filename", json_object_new_string(d->file));
    json_object_object_add(img, "format", json_object_new_string("raw"));
    json_object_object_add(img, "virtual-size", json_object_new_int64((int64_t)d->size));
    json_object_object_add(cache, "writeback", json_object_new_boolean(true));
    json_object_object_add(cache, "direct", json_object_new_boolean(d->direct));
    json_object_object_add(cache, "no-flush", json_object_new_boolean(false));
    json_object_object_add(ins, "file", json_object_new_string(d->file));
    json_object_object_add(ins, "node-name", json_object_new_string(d->node));
    json_object_object_add(ins, "ro", json_object_new_boolean(d->readonly));
    json_object_object_add(ins, "drv", json_object_new_string("raw"));
    json_object_object_add(ins, "backing_file_depth", json_object_new_int(0));
    json_object_object_add(ins, "encrypted", json_object_new_boolean(false));
    json_object_object_add(ins, "detect_zeroes", json_object_new_string("off"));
    /* No I/O throttling: QEMU's members are required, 0 means unlimited. */
    for (unsigned i = 0; i < sizeof(throttle) / sizeof(throttle[0]); i++)
        json_object_object_add(ins, throttle[i], json_object_new_int(0));
    json_object_object_add(ins, "write_threshold", json_object_new_int(0));
    json_object_object_add(ins, "cache", cache);
    json_object_object_add(ins, "image", img);
    return ins;
}

static json_object *cmd_query_block(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *list = json_object_new_array();

    (void)args;
    (void)err;
    for (unsigned i = 0; i < c->m->nr_disks; i++) {
        const struct em_qmp_disk *d = &c->m->disks[i];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "device", json_object_new_string(d->device));
        json_object_object_add(o, "locked", json_object_new_boolean(false));
        json_object_object_add(o, "removable", json_object_new_boolean(false));
        json_object_object_add(o, "type", json_object_new_string("unknown"));
        json_object_object_add(o, "io-status", json_object_new_string("ok"));
        json_object_object_add(o, "inserted", block_inserted(d));
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *cmd_query_chardev(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *list = json_object_new_array();

    (void)args;
    (void)err;
    for (unsigned i = 0;; i++) {
        struct em_qmp_chardev cd = { .frame_opened = true };
        json_object *o;

        if (!c->m->ops->chardev(c->m->opaque, i, &cd))
            break;
        o = json_object_new_object();
        json_object_object_add(o, "label", json_object_new_string(cd.label));
        json_object_object_add(o, "filename", json_object_new_string(cd.filename));
        /* QEMU's ChardevInfo member is "frontend-open". */
        json_object_object_add(o, "frontend-open", json_object_new_boolean(cd.frame_opened));
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *cmd_stop(struct cmd_ctx *c, json_object *args, json_object **err)
{
    (void)args;
    return hook(c->m->ops->stop, c->m, err);
}

static json_object *cmd_cont(struct cmd_ctx *c, json_object *args, json_object **err)
{
    (void)args;
    return hook(c->m->ops->cont, c->m, err);
}

static json_object *cmd_system_powerdown(struct cmd_ctx *c, json_object *args, json_object **err)
{
    (void)args;
    return hook(c->m->ops->powerdown, c->m, err);
}

static json_object *cmd_system_reset(struct cmd_ctx *c, json_object *args, json_object **err)
{
    (void)args;
    return hook(c->m->ops->reset, c->m, err);
}

static json_object *cmd_quit(struct cmd_ctx *c, json_object *args, json_object **err)
{
    (void)args;
    return hook(c->m->ops->quit, c->m, err);
}

/* kvmemu's own (QEMU has no such command, hence the x- prefix):
 * {"events": [{"ms": 1.25, "label": "VM created"}, ...]}. */
static json_object *cmd_boot_timeline(struct cmd_ctx *c, json_object *args, json_object **err)
{
    json_object *o = json_object_new_object(), *list = json_object_new_array();
    struct em_timeline_event ev;

    (void)args;
    (void)err;
    for (unsigned i = 0; c->m->timeline && em_timeline_get(c->m->timeline, i, &ev); i++) {
        json_object *e = json_object_new_object();
        char ms[32];

        /* Microseconds are what the clock resolves; json-c would print
         * the double's every digit. */
        snprintf(ms, sizeof(ms), "%.3f", ev.ms);
        json_object_object_add(e, "ms", json_object_new_double_s(ev.ms, ms));
        json_object_object_add(e, "label", json_object_new_string(ev.label));
        json_object_array_add(list, e);
    }
    json_object_object_add(o, "events", list);
    return o;
}

static const struct command commands[] = {
    { "qmp_capabilities", cmd_qmp_capabilities, { { "enable", ARG_STR_LIST, false } } },
    { "query-version", cmd_query_version, { { 0 } } },
    { "query-commands", cmd_query_commands, { { 0 } } },
    { "query-status", cmd_query_status, { { 0 } } },
    { "query-name", cmd_query_name, { { 0 } } },
    { "query-uuid", cmd_query_uuid, { { 0 } } },
    { "query-kvm", cmd_query_kvm, { { 0 } } },
    { "query-cpus-fast", cmd_query_cpus_fast, { { 0 } } },
    { "query-block", cmd_query_block, { { 0 } } },
    { "query-chardev", cmd_query_chardev, { { 0 } } },
    { "stop", cmd_stop, { { 0 } } },
    { "cont", cmd_cont, { { 0 } } },
    { "system_powerdown", cmd_system_powerdown, { { 0 } } },
    { "system_reset", cmd_system_reset, { { 0 } } },
    { "quit", cmd_quit, { { 0 } } },
    { "x-query-boot-timeline", cmd_boot_timeline, { { 0 } } },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

unsigned em_qmp_command_count(void)
{
    return NR_COMMANDS;
}

const char *em_qmp_command_name(unsigned i)
{
    return i < NR_COMMANDS ? commands[i].name : NULL;
}

static const struct command *find(const char *name)
{
    for (unsigned i = 0; i < NR_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static const char *type_name(enum arg_type t)
{
    switch (t) {
    case ARG_STR:
        return "string";
    case ARG_INT:
        return "integer";
    case ARG_BOOL:
        return "boolean";
    default:
        return "array";
    }
}

static bool type_ok(enum arg_type t, json_object *v)
{
    switch (t) {
    case ARG_STR:
        return json_object_is_type(v, json_type_string);
    case ARG_INT:
        return json_object_is_type(v, json_type_int);
    case ARG_BOOL:
        return json_object_is_type(v, json_type_boolean);
    case ARG_STR_LIST:
        if (!json_object_is_type(v, json_type_array))
            return false;
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                return false;
        return true;
    }
    return false;
}

/* Every argument known and of its type, every required one present. */
static json_object *check_args(const struct command *cmd, json_object *args)
{
    if (args) {
        json_object_object_foreach(args, key, val)
        {
            const struct arg_spec *a = NULL;

            for (unsigned i = 0; i < MAX_ARGS && cmd->args[i].name; i++)
                if (!strcmp(cmd->args[i].name, key))
                    a = &cmd->args[i];
            if (!a)
                return em_qmp_error("GenericError", "Parameter '%s' is unexpected", key);
            if (!type_ok(a->type, val))
                return em_qmp_error("GenericError", "Invalid parameter type for '%s', expected: %s",
                                    key, type_name(a->type));
        }
    }
    for (unsigned i = 0; i < MAX_ARGS && cmd->args[i].name; i++)
        if (cmd->args[i].required &&
            !(args && json_object_object_get_ex(args, cmd->args[i].name, NULL)))
            return em_qmp_error("GenericError", "Parameter '%s' is missing", cmd->args[i].name);
    return NULL;
}

/* The request's shape: an object with execute, optional arguments and id. */
static json_object *check_request(json_object *msg, const char **name, json_object **args)
{
    json_object *exec = NULL;

    if (!json_object_is_type(msg, json_type_object))
        return em_qmp_error("GenericError", "QMP input must be a JSON object");
    json_object_object_foreach(msg, key, val)
    {
        if (!strcmp(key, "execute")) {
            exec = val;
        } else if (!strcmp(key, "arguments")) {
            if (!json_object_is_type(val, json_type_object))
                return em_qmp_error("GenericError",
                                    "QMP input member 'arguments' must be an object");
            *args = val;
        } else if (!strcmp(key, "exec-oob")) {
            /* Out-of-band execution was not offered in the greeting. */
            return em_qmp_error("GenericError", "QMP input member 'exec-oob' is unexpected");
        } else if (strcmp(key, "id") != 0) {
            return em_qmp_error("GenericError", "QMP input member '%s' is unexpected", key);
        }
    }
    if (!exec)
        return em_qmp_error("GenericError", "QMP input lacks member 'execute'");
    if (!json_object_is_type(exec, json_type_string))
        return em_qmp_error("GenericError", "QMP input member 'execute' must be a string");
    *name = json_object_get_string(exec);
    return NULL;
}

json_object *em_qmp_dispatch(const struct em_qmp_machine *m, bool *negotiating, json_object *msg)
{
    struct cmd_ctx ctx = { m, negotiating };
    const struct command *cmd;
    json_object *args = NULL, *reply, *ret, *err = NULL, *id = NULL;
    const char *name = NULL;

    reply = check_request(msg, &name, &args);
    if (!reply) {
        cmd = find(name);
        if (*negotiating && (!cmd || cmd->fn != cmd_qmp_capabilities))
            reply = em_qmp_error("CommandNotFound",
                                 "Expecting capabilities negotiation with 'qmp_capabilities'");
        else if (!cmd)
            reply = em_qmp_error("CommandNotFound", "The command %s has not been found", name);
        else
            reply = check_args(cmd, args);
        if (!reply) {
            ret = cmd->fn(&ctx, args, &err);
            if (ret) {
                reply = json_object_new_object();
                json_object_object_add(reply, "return", ret);
            } else {
                reply = err ? err : em_qmp_error("GenericError", "%s failed", name);
            }
        }
    }
    /* Every reply to an object carries its id back, errors included. */
    if (json_object_is_type(msg, json_type_object) && json_object_object_get_ex(msg, "id", &id))
        json_object_object_add(reply, "id", json_object_get(id));
    return reply;
}
