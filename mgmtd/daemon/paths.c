/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fsutil.h"
#include "paths.h"

static int set(char *dst, size_t len, const char *a, const char *b, struct md_err *err)
{
    if (snprintf(dst, len, "%s%s", a, b) >= (int)len)
        return md_err_set(err, -ENAMETOOLONG, 0, "%s%s: the path is too long", a, b);
    return 0;
}

int md_paths_init(struct md_paths *p, const char *root, struct md_err *err)
{
    char base[PATH_MAX];
    int ret = 0;

    memset(p, 0, sizeof(*p));
    if (root) {
        size_t n = strlen(root);

        while (n > 1 && root[n - 1] == '/')
            n--;
        if (n >= sizeof(base) - 16)
            return md_err_set(err, -ENAMETOOLONG, 0, "--root %s: the path is too long", root);
        snprintf(base, sizeof(base), "%.*s", (int)n, root);
        ret |= set(p->etc, sizeof(p->etc), base, "/etc", err);
        ret |= set(p->run, sizeof(p->run), base, "/run", err);
        ret |= set(p->log, sizeof(p->log), base, "/log", err);
    } else {
        ret |= set(p->etc, sizeof(p->etc), "/etc/kvmstack", "", err);
        ret |= set(p->run, sizeof(p->run), "/run/kvmstack", "", err);
        ret |= set(p->log, sizeof(p->log), "/var/log/kvmstack", "", err);
    }
    ret |= set(p->domains, sizeof(p->domains), p->etc, "/domains", err);
    ret |= set(p->autostart, sizeof(p->autostart), p->etc, "/autostart", err);
    ret |= set(p->run_domains, sizeof(p->run_domains), p->run, "/domains", err);
    ret |= set(p->pidfile, sizeof(p->pidfile), p->run, "/mgmtd.pid", err);
    if (ret == 0 && snprintf(p->rw_sock, sizeof(p->rw_sock), "%s/mgmtd.sock", p->run) >=
                        (int)sizeof(p->rw_sock))
        ret =
            md_err_set(err, -ENAMETOOLONG, 0,
                       "%s/mgmtd.sock: longer than a unix socket path may be (107 bytes)", p->run);
    if (ret == 0 && snprintf(p->ro_sock, sizeof(p->ro_sock), "%s/mgmtd-ro.sock", p->run) >=
                        (int)sizeof(p->ro_sock))
        ret = md_err_set(err, -ENAMETOOLONG, 0,
                         "%s/mgmtd-ro.sock: longer than a unix socket path may be (107 bytes)",
                         p->run);
    return ret ? -ENAMETOOLONG : 0;
}

int md_paths_create(const struct md_paths *p, struct md_err *err)
{
    int ret = md_fs_mkdirs(p->domains, 0755, err);

    if (ret == 0)
        ret = md_fs_mkdirs(p->autostart, 0755, err);
    if (ret == 0)
        ret = md_fs_mkdirs(p->run, 0755, err);
    /* Live state and the emulators' sockets: root's alone. */
    if (ret == 0)
        ret = md_fs_mkdirs(p->run_domains, 0700, err);
    if (ret == 0)
        ret = md_fs_mkdirs(p->log, 0755, err);
    return ret;
}

int md_paths_file(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
    return snprintf(buf, len, "%s/%s.%s", dir, name, ext) >= (int)len ? -ENAMETOOLONG : 0;
}
