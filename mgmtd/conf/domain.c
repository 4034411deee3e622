/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The top-level element and its simple children (name, uuid, title,
 * description, seclabel); the order in which the objects are parsed,
 * completed, checked and written; and what libvirt fills in.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- name, uuid, title, description ---- */

static int name_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    size_t len;
    int ret;

    ret = md_attrs_only(c, n, MD_NO_ATTRS);
    if (!ret)
        ret = md_text(c, n, false, &def->name);
    if (ret)
        return ret;
    c->seen.name_line = md_line(n);
    len = strlen(def->name);
    /* kvmemu's --name, and a file name for the daemon. */
    if (len == 0 || len > MD_NAME_MAX)
        return md_fail(c, n, "a name has 1 to %d characters", MD_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)def->name[i]) && !strchr("_.-", def->name[i]))
            return md_fail(c, n, "'%s' may only contain letters, digits, '_', '.' and '-'",
                           def->name);
    if (def->name[0] == '.')
        return md_fail(c, n, "'%s' must not begin with '.'", def->name);
    return 0;
}

static int uuid_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    char *text = NULL;
    int ret;

    ret = md_attrs_only(c, n, MD_NO_ATTRS);
    if (!ret)
        ret = md_text(c, n, true, &text);
    if (!ret && !md_uuid_parse(text, def->uuid))
        ret = md_fail(c, n, "'%s' is not a UUID (32 hexadecimal digits, as 8-4-4-4-12)", text);
    free(text);
    c->seen.uuid = true;
    c->seen.uuid_line = md_line(n);
    return ret;
}

static int title_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    if (!ret)
        ret = md_text(c, n, false, &def->title);
    if (!ret && strpbrk(def->title, "\r\n"))
        ret = md_fail(c, n, "a title is one line (use <description> for more)");
    return ret;
}

static int description_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    int ret = md_attrs_only(c, n, MD_NO_ATTRS);

    return ret ? ret : md_text(c, n, false, &def->description);
}

/* Only type='none' is honest: the stack applies no SELinux, AppArmor or
 * DAC labels (it runs emulators as an unprivileged user, which is not a
 * label an admin can set here). */
int md_seclabel_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *type = md_attr(n, "type");
    const char *model = md_attr(n, "model");
    int ret = md_attrs_only(c, n, MD_ATTRS("type", "model", "relabel"));

    if (ret)
        return ret;
    if (model && strcmp(model, "none"))
        return md_fail_attr(c, n, "model",
                            "the security model '%s' is not enforced by this stack; remove the "
                            "<seclabel> or use type='none'",
                            model);
    if (!type || strcmp(type, "none"))
        return md_fail_attr(c, n, "type",
                            "security labels are not applied; only type='none' is "
                            "accepted");
    if (md_attr(n, "relabel"))
        return md_fail_attr(c, n, "relabel", "there is no relabelling with type='none'");
    ret = md_empty(c, n);
    def->seclabel_none = true;
    return ret;
}

/* ---- the top level ---- */

static const struct md_child domain_children[] = {
    { "name", name_parse, false },
    { "uuid", uuid_parse, false },
    { "title", title_parse, false },
    { "description", description_parse, false },
    { "metadata", md_metadata_parse, false },
    { "memory", md_memory_parse, false },
    { "currentMemory", md_current_memory_parse, false },
    { "vcpu", md_vcpu_parse, false },
    { "os", md_os_parse, false },
    { "features", md_features_parse, false },
    { "cpu", md_cpu_parse, false },
    { "clock", md_clock_parse, false },
    { "on_poweroff", md_lifecycle_parse, false },
    { "on_reboot", md_lifecycle_parse, false },
    { "on_crash", md_lifecycle_parse, false },
    { "pm", md_pm_parse, false },
    { "devices", md_devices_parse, false },
    { "seclabel", md_seclabel_parse, false },
    { NULL, NULL, false },
};

int md_check_root(struct md_pctx *c, xmlNode *root)
{
    const char *type;

    if (strcmp((const char *)root->name, "domain"))
        return md_fail(c, root, "the root element must be <domain>");
    if (root->ns)
        return md_fail(c, root,
                       "the root element must be <domain> in no namespace (libvirt's "
                       "XML has none)");
    type = md_attr(root, "type");
    if (!type)
        return md_fail(c, root, "the attribute 'type' is required: type='kvm'");
    if (!strcmp(type, "qemu"))
        return md_fail(c, root, "emulation without KVM (TCG) is not supported; use type='kvm'");
    if (strcmp(type, "kvm"))
        return md_fail(c, root, "only type='kvm' is supported");
    return 0;
}

int md_general_parse(struct md_pctx *c, xmlNode *root)
{
    struct md_domain_def *def = c->def;
    int ret = md_check_root(c, root);

    if (!ret)
        ret = md_attrs_only(c, root, MD_ATTRS("type"));
    if (!ret)
        ret = md_children(c, root, domain_children, def);
    if (ret)
        return ret;
    if (!def->name)
        return md_fail(c, root, "a <name> is required");
    if (!def->memory_kib)
        return md_fail(c, root, "a <memory> is required");
    if (!def->os.kernel)
        return md_fail(c, root, "an <os> with a <kernel> is required");
    return 0;
}

static bool names_kvmemu(const char *path)
{
    const char *base = strrchr(path, '/');

    return !strcmp(base ? base + 1 : path, "kvmemu");
}

/* <emulator> names kvmemu: a definition from libvirt names QEMU, which
 * this stack never runs, so it gets the daemon's kvmemu (and says so in
 * its XML from then on), as libvirt fills in its own default. */
static int complete_emulator(struct md_pctx *c)
{
    struct md_domain_def *def = c->def;
    const char *mine = c->opts->emulator;

    if (def->emulator && names_kvmemu(def->emulator))
        return 0;
    if (mine)
        return md_strdup(c, mine, &def->emulator);
    if (def->emulator)
        return md_fail_line(c, -EINVAL, c->seen.emulator_line,
                            "<emulator>: '%s' is not kvmemu; name the kvmemu binary or leave "
                            "<emulator> out",
                            def->emulator);
    return 0;
}

/* What libvirt fills in when the XML leaves it out. */
static int complete(struct md_pctx *c)
{
    struct md_domain_def *def = c->def;
    int ret = complete_emulator(c);

    if (!ret && !c->seen.uuid) {
        ret = md_random_bytes(c, def->uuid, sizeof(def->uuid));
        /* A version 4 (random) UUID, RFC 4122 variant. */
        def->uuid[6] = (uint8_t)((def->uuid[6] & 0x0f) | 0x40);
        def->uuid[8] = (uint8_t)((def->uuid[8] & 0x3f) | 0x80);
    }
    if (!def->vcpus)
        def->vcpus = 1;
    if (!def->os.machine && !ret)
        ret = md_strdup(c, "pc", &def->os.machine);
    return ret;
}

int md_domain_read(struct md_pctx *c, xmlNode *root)
{
    int ret = md_general_parse(c, root);

    if (!ret)
        ret = complete(c);
    if (!ret)
        ret = md_validate(c);
    return ret;
}

/* ---- formatting ---- */

char *md_domain_def_format(const struct md_domain_def *def, struct md_err *err)
{
    struct md_buf b = { 0 };
    char uuid[37];

    md_uuid_format(def->uuid, uuid);
    md_buf_open(&b, "domain");
    md_buf_attr(&b, "type", "kvm");
    md_buf_open_end(&b);
    md_buf_text_elem(&b, "name", def->name);
    md_buf_text_elem(&b, "uuid", uuid);
    if (def->title)
        md_buf_text_elem(&b, "title", def->title);
    if (def->description)
        md_buf_text_elem(&b, "description", def->description);
    md_metadata_format(&b, def);
    md_resources_format(&b, def);
    md_os_format(&b, def);
    md_features_format(&b, def);
    md_cpu_format(&b, def);
    md_clock_format(&b, def);
    md_lifecycle_format(&b, def);
    md_pm_format(&b, def);
    md_devices_format(&b, def);
    if (def->seclabel_none) {
        md_buf_open(&b, "seclabel");
        md_buf_attr(&b, "type", "none");
        md_buf_attr(&b, "model", "none");
        md_buf_empty_end(&b);
    }
    md_buf_close(&b, "domain");
    return md_buf_finish(&b, err);
}

void md_domain_def_free(struct md_domain_def *def)
{
    if (!def)
        return;
    free(def->name);
    free(def->title);
    free(def->description);
    free(def->metadata);
    free(def->os.machine);
    free(def->os.kernel);
    free(def->os.initrd);
    free(def->os.cmdline);
    md_cpu_free(&def->cpu);
    free(def->emulator);
    for (unsigned i = 0; i < def->nr_disks; i++)
        md_disk_clear(&def->disks[i]);
    for (unsigned i = 0; i < def->nr_nics; i++)
        md_interface_clear(&def->nics[i]);
    free(def->serial.path);
    free(def->vconsole.path);
    free(def->rng.backend);
    free(def);
}
