/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * <cpu mode='host-passthrough'>: kvmemu's --cpu host (KVM's supported
 * CPUID) with features disabled by name, and features required of the
 * host. libvirt's feature names (sse4.1, tsc-deadline, pclmuldq) and
 * Linux's (sse4_1, tsc_deadline_timer), which kvmemu takes, are both
 * accepted; the XML keeps the one it was given.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <kvmcore/cpuid.h>

#include "internal.h"

/* libvirt's names that are not Linux's with '.' and '-' made '_'. */
static const struct {
    const char *libvirt, *linux_name;
} renamed[] = {
    { "pclmuldq", "pclmulqdq" },
    { "tsc-deadline", "tsc_deadline_timer" },
    { "arch-capabilities", "arch_capabilities" },
};

static const char *kvmemu_name(const char *name)
{
    const struct kc_cpu_feature *f;
    char linux_name[64];

    for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
        if (!strcmp(name, renamed[i].libvirt))
            name = renamed[i].linux_name;
    if (strlen(name) >= sizeof(linux_name))
        return NULL;
    strcpy(linux_name, name);
    for (char *p = linux_name; *p; p++)
        if (*p == '.' || *p == '-')
            *p = '_';
    f = kc_cpu_feature_lookup(linux_name);
    return f ? f->name : NULL;
}

static int feature_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_cpu *cpu = obj;
    const char *policy = md_attr(n, "policy");
    const char *name = md_attr(n, "name");
    struct md_cpu_feature *f, *grown;
    int ret = md_leaf(c, n, MD_ATTRS("policy", "name"));

    if (ret)
        return ret;
    if (!name || !*name)
        return md_fail(c, n, "the attribute 'name' is required");
    if (!policy)
        return md_fail(c, n, "the attribute 'policy' is required: 'disable' or 'require'");
    grown = realloc(cpu->features, (cpu->nr_features + 1) * sizeof(*grown));
    if (!grown)
        return md_oom(c);
    cpu->features = grown;
    f = &cpu->features[cpu->nr_features];
    *f = (struct md_cpu_feature){ .line = md_line(n) };
    if (!strcmp(policy, "disable"))
        f->policy = MD_CPU_DISABLE;
    else if (!strcmp(policy, "require"))
        f->policy = MD_CPU_REQUIRE;
    else
        return md_fail_attr(c, n, "policy",
                            "the policy '%s' is not supported; use 'disable' or 'require'", policy);
    f->kvmemu_name = kvmemu_name(name);
    if (!f->kvmemu_name)
        return md_fail(c, n,
                       "'%s' is not a CPU feature kvmemu knows (its names are Linux's, as "
                       "in /proc/cpuinfo, or libvirt's)",
                       name);
    for (unsigned i = 0; i < cpu->nr_features; i++)
        if (cpu->features[i].kvmemu_name == f->kvmemu_name)
            return md_fail(c, n, "the feature '%s' is already listed at line %d", name,
                           cpu->features[i].line);
    ret = md_strdup(c, name, &f->name);
    if (!ret)
        cpu->nr_features++;
    return ret;
}

static int topology_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_cpu *cpu = obj;
    static const char *const one[] = { "sockets", "dies", "threads" };
    const char *cores = md_attr(n, "cores");
    uint64_t v;
    int ret = md_leaf(c, n, MD_ATTRS("sockets", "dies", "cores", "threads"));

    if (ret)
        return ret;
    cpu->topology = true;
    cpu->topology_line = md_line(n);
    /* kvmemu presents one package of N cores, one thread each. */
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        const char *val = md_attr(n, one[i]);

        if (!val && strcmp(one[i], "dies"))
            return md_fail(c, n, "the attribute '%s' is required", one[i]);
        if (val && (!md_parse_u64(val, &v) || v != 1))
            return md_fail_attr(c, n, one[i],
                                "kvmemu presents one socket of cores with one thread each; "
                                "use sockets='1' dies='1' threads='1'");
    }
    if (!cores)
        return md_fail(c, n, "the attribute 'cores' is required");
    if (!md_parse_u64(cores, &v) || v == 0 || v > MD_MAX_VCPUS)
        return md_fail_attr(c, n, "cores", "'%s' is not a core count from 1 to %d", cores,
                            MD_MAX_VCPUS);
    cpu->cores = (unsigned)v;
    return 0;
}

static const struct md_child cpu_children[] = {
    { "topology", topology_parse, false },
    { "feature", feature_parse, true },
    { NULL, NULL, false },
};

int md_cpu_parse(struct md_pctx *c, xmlNode *n, void *obj)
{
    struct md_domain_def *def = obj;
    const char *mode = md_attr(n, "mode");
    const char *check = md_attr(n, "check");
    const char *migratable = md_attr(n, "migratable");
    int ret;

    def->cpu.present = true;
    def->cpu.line = md_line(n);
    /* The mode first: other attributes are about the models it refuses. */
    if (!mode)
        return md_fail(c, n, "mode='host-passthrough' is required: CPU models are not supported");
    if (strcmp(mode, "host-passthrough"))
        return md_fail_attr(c, n, "mode",
                            "CPU models are not supported; use mode='host-passthrough'");
    ret = md_attrs_only(c, n, MD_ATTRS("mode", "check", "migratable"));
    if (ret)
        return ret;
    if (check && strcmp(check, "none"))
        return md_fail_attr(c, n, "check",
                            "the host's CPU is passed through as it is: there is nothing to "
                            "check; use check='none'");
    if (migratable) {
        bool on;

        ret = md_yes_no(c, n, "migratable", "on", "off", &on);
        if (ret)
            return ret;
        def->cpu.migratable_off = !on;
    }
    return md_children(c, n, cpu_children, &def->cpu);
}

int md_cpu_check(struct md_pctx *c)
{
    const struct md_domain_def *def = c->def;
    const struct md_host_cpu *host = c->opts->host_cpu;
    unsigned disabled = 0;

    if (!def->cpu.present)
        return 0;
    if (def->cpu.topology && def->cpu.cores != def->vcpus)
        return md_fail_line(c, -EINVAL, def->cpu.topology_line,
                            "<topology cores='%u'>: the topology must account for the %u vCPUs "
                            "of <vcpu> (cores='%u')",
                            def->cpu.cores, def->vcpus, def->vcpus);
    for (unsigned i = 0; i < def->cpu.nr_features; i++) {
        const struct md_cpu_feature *f = &def->cpu.features[i];
        struct md_err herr = { 0 };
        int has;

        if (f->policy == MD_CPU_DISABLE) {
            if (++disabled > MD_MAX_CPU_DISABLE)
                return md_fail_line(c, -EINVAL, f->line,
                                    "<feature name='%s'>: at most %d features can be disabled",
                                    f->name, MD_MAX_CPU_DISABLE);
            continue;
        }
        if (!host)
            continue;
        has = host->has(host->opaque, f->kvmemu_name, &herr);
        if (has < 0)
            return md_fail_line(c, has, f->line,
                                "<feature policy='require' name='%s'>: the host's CPU features "
                                "are unknown: %s",
                                f->name, herr.msg[0] ? herr.msg : "no reason given");
        if (!has)
            return md_fail_line(c, -EINVAL, f->line,
                                "<feature policy='require' name='%s'>: the host's CPU, as KVM "
                                "offers it, lacks this feature",
                                f->name);
    }
    return 0;
}

void md_cpu_format(struct md_buf *b, const struct md_domain_def *def)
{
    static const char *const policies[] = {
        [MD_CPU_DISABLE] = "disable", [MD_CPU_REQUIRE] = "require"
    };
    const struct md_cpu *cpu = &def->cpu;

    if (!cpu->present)
        return;
    md_buf_open(b, "cpu");
    md_buf_attr(b, "mode", "host-passthrough");
    md_buf_attr(b, "check", "none");
    md_buf_attr(b, "migratable", cpu->migratable_off ? "off" : "on");
    if (!cpu->topology && !cpu->nr_features) {
        md_buf_empty_end(b);
        return;
    }
    md_buf_open_end(b);
    if (cpu->topology) {
        md_buf_open(b, "topology");
        md_buf_attr(b, "sockets", "1");
        md_buf_attr(b, "dies", "1");
        md_buf_attrf(b, "cores", "%u", cpu->cores);
        md_buf_attr(b, "threads", "1");
        md_buf_empty_end(b);
    }
    for (unsigned i = 0; i < cpu->nr_features; i++) {
        md_buf_open(b, "feature");
        md_buf_attr(b, "policy", policies[cpu->features[i].policy]);
        md_buf_attr(b, "name", cpu->features[i].name);
        md_buf_empty_end(b);
    }
    md_buf_close(b, "cpu");
}

void md_cpu_free(struct md_cpu *cpu)
{
    for (unsigned i = 0; i < cpu->nr_features; i++)
        free(cpu->features[i].name);
    free(cpu->features);
    cpu->features = NULL;
    cpu->nr_features = 0;
}
