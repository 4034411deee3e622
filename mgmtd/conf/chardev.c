/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <serial> and <console>: COM1 (kvmemu's --serial) and the virtio console
 * hvc0 (--console-virtio), on a pty, a file or a unix socket kvmemu
 * listens on. As libvirt does, a <console> whose target is the serial
 * port is that port, listed twice: both must agree, and a console alone
 * defines the port.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const chr_types[] = {
    [MD_CHR_PTY] = "pty",
    [MD_CHR_FILE] = "file",
    [MD_CHR_UNIX] = "unix",
};

struct chr_parse {
    struct md_chardev chr;
    const char *target_type; /* console: 'serial' or 'virtio' */
    bool has_source;
};

static int source_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct chr_parse *p = obj;
    const char *path = md_attr(n, "path");
    const char *mode = md_attr(n, "mode");
    int ret;

    p->has_source = true;
    if (p->chr.type == MD_CHR_PTY)
        return md_fail(c, n, "a pty is allocated when the guest starts; remove the <source>");
    ret = md_leaf(c, n, p->chr.type == MD_CHR_UNIX ? MD_ATTRS("mode", "path") : MD_ATTRS("path"));
    if (ret)
        return ret;
    if (!path)
        return md_fail(c, n, "the attribute 'path' is required");
    if (path[0] != '/')
        return md_fail_attr(c, n, "path", "'%s' is not an absolute path", path);
    if (p->chr.type == MD_CHR_UNIX) {
        if (!mode || strcmp(mode, "bind"))
            return md_fail(c, n, "kvmemu listens on the socket; use mode='bind'");
        if (strlen(path) > MD_UNIX_PATH_MAX)
            return md_fail_attr(c, n, "path", "a socket path has at most %d bytes",
                                MD_UNIX_PATH_MAX);
    }
    return md_strdup(c, path, &p->chr.path);
}

static int model_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    const char *name = md_attr(n, "name");
    int ret = md_leaf(c, n, MD_ATTRS("name"));

    (void)obj;
    if (!ret && (!name || strcmp(name, "isa-serial")))
        ret = md_fail(c, n, "the serial port is a 16550A on the ISA bus; use name='isa-serial'");
    return ret;
}

static const struct md_child serial_target_children[] = {
    { "model", model_parse, false },
    { NULL, NULL, false },
};

static int port_zero(struct md_pctx *c, xmlNode *n, const char *what)
{
    const char *port = md_attr(n, "port");
    uint64_t v;

    if (port && (!md_parse_u64(port, &v) || v != 0))
        return md_fail_attr(c, n, "port", "there is one %s: use port='0'", what);
    return 0;
}

static int serial_target_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    const char *type = md_attr(n, "type");
    int ret = md_attrs_only(c, n, MD_ATTRS("type", "port"));

    if (ret)
        return ret;
    if (type && strcmp(type, "isa-serial"))
        return md_fail(c, n, "the serial port is on the ISA bus; use type='isa-serial'");
    ret = port_zero(c, n, "serial port, COM1");
    return ret ? ret : md_children(c, n, serial_target_children, obj);
}

static int console_target_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct chr_parse *p = obj;
    const char *type = md_attr(n, "type");
    int ret = md_leaf(c, n, MD_ATTRS("type", "port"));

    if (ret)
        return ret;
    if (type && strcmp(type, "serial") && strcmp(type, "virtio"))
        return md_fail(c, n,
                       "a console is the serial port (type='serial') or hvc0 "
                       "(type='virtio')");
    p->target_type = type;
    return port_zero(c, n, type && !strcmp(type, "virtio") ? "virtio console" : "serial port");
}

static const struct md_child serial_children[] = {
    { "source", source_parse, false },
    { "target", serial_target_parse, false },
    { NULL, NULL, false },
};

static const struct md_child console_children[] = {
    { "source", source_parse, false },
    { "target", console_target_parse, false },
    { NULL, NULL, false },
};

static int chr_parse(struct md_pctx *c, xmlNode *n, const struct md_child *rules,
                     struct chr_parse *p)
{
    const char *type = md_attr(n, "type");
    int ret = md_attrs_only(c, n, MD_ATTRS("type"));
    int found = -1;

    if (ret)
        return ret;
    for (int i = 0; type && i < (int)(sizeof(chr_types) / sizeof(chr_types[0])); i++)
        if (!strcmp(type, chr_types[i]))
            found = i;
    if (!type)
        return md_fail(c, n, "the attribute 'type' is required: pty, file or unix");
    if (found < 0)
        return md_fail(c, n,
                       "the character device type '%s' is not supported; use pty, file or "
                       "unix",
                       type);
    p->chr =
        (struct md_chardev){ .present = true, .type = (enum md_chr_type)found, .line = md_line(n) };
    ret = md_children(c, n, rules, p);
    if (!ret && p->chr.type != MD_CHR_PTY && !p->has_source)
        ret = md_fail(c, n, "a <source path='...'/> is required");
    return ret;
}

static bool same_backend(const struct md_chardev *a, const struct md_chardev *b)
{
    return a->type == b->type &&
           ((!a->path && !b->path) || (a->path && b->path && !strcmp(a->path, b->path)));
}

/*
 * The port, from a <serial> or from a <console> on it: whichever comes
 * first defines it, the other must agree. Each may appear once.
 */
static int set_serial(struct md_pctx *c, xmlNode *n, struct chr_parse *p, bool from_console)
{
    struct md_domain_def *def = c->def;
    int *mine = from_console ? &c->seen.serial_console_line : &c->seen.serial_line;
    int other = from_console ? c->seen.serial_line : c->seen.serial_console_line;

    if (*mine)
        return md_fail(c, n, "there is one serial port (COM1), already at line %d", *mine);
    *mine = md_line(n);
    if (!other) {
        def->serial = p->chr;
        p->chr.path = NULL;
        return 0;
    }
    if (!same_backend(&def->serial, &p->chr))
        return md_fail(c, n,
                       "a console on the serial port is the port at line %d, and must "
                       "have the same type and source",
                       other);
    if (!from_console)
        def->serial.line = p->chr.line; /* the <serial> element's line is the port's */
    return 0;
}

int md_serial_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct chr_parse p = { 0 };
    int ret = chr_parse(c, n, serial_children, &p);

    (void)obj;
    if (!ret)
        ret = set_serial(c, n, &p, false);
    free(p.chr.path);
    return ret;
}

int md_console_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    struct chr_parse p = { 0 };
    int ret = chr_parse(c, n, console_children, &p);

    if (!ret && p.target_type && !strcmp(p.target_type, "virtio")) {
        if (def->vconsole.present)
            ret = md_fail(c, n, "there is one virtio console (hvc0), already at line %d",
                          def->vconsole.line);
        else {
            def->vconsole = p.chr;
            p.chr.path = NULL;
        }
    } else if (!ret) {
        ret = set_serial(c, n, &p, true);
    }
    free(p.chr.path);
    return ret;
}

static void backend_format(struct md_buf *b, const char *elem, const struct md_chardev *chr)
{
    md_buf_open(b, elem);
    md_buf_attr(b, "type", chr_types[chr->type]);
    md_buf_open_end(b);
    if (chr->type != MD_CHR_PTY) {
        md_buf_open(b, "source");
        md_buf_attr(b, "mode", chr->type == MD_CHR_UNIX ? "bind" : NULL);
        md_buf_attr(b, "path", chr->path);
        md_buf_empty_end(b);
    }
}

void md_chardevs_format(struct md_buf *b, const struct md_domain_def *def)
{
    if (def->serial.present) {
        backend_format(b, "serial", &def->serial);
        md_buf_open(b, "target");
        md_buf_attr(b, "type", "isa-serial");
        md_buf_attr(b, "port", "0");
        md_buf_open_end(b);
        md_buf_open(b, "model");
        md_buf_attr(b, "name", "isa-serial");
        md_buf_empty_end(b);
        md_buf_close(b, "target");
        md_buf_close(b, "serial");
        /* libvirt lists the port again as the console. */
        backend_format(b, "console", &def->serial);
        md_buf_open(b, "target");
        md_buf_attr(b, "type", "serial");
        md_buf_attr(b, "port", "0");
        md_buf_empty_end(b);
        md_buf_close(b, "console");
    }
    if (def->vconsole.present) {
        backend_format(b, "console", &def->vconsole);
        md_buf_open(b, "target");
        md_buf_attr(b, "type", "virtio");
        md_buf_attr(b, "port", "0");
        md_buf_empty_end(b);
        md_buf_close(b, "console");
    }
}
