/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files a definition names, checked apart from parsing (which reads
 * only the document): the daemon calls this at define and at start, when
 * the answer can change.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain.h"

static int fail(struct md_err *err, int line, const char *what, const char *path, int code,
                const char *why)
{
    return md_err_set(err, code, line, "%s: %s: %s", what, path, why);
}

static int check_file(struct md_err *err, int line, const char *what, const char *path,
                      bool block_ok, int mode)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return fail(err, line, what, path, -errno, strerror(errno));
    if (!S_ISREG(st.st_mode) && !(block_ok && S_ISBLK(st.st_mode)))
        return fail(err, line, what, path, -EINVAL,
                    block_ok ? "not a regular file or block device" : "not a regular file");
    if (access(path, mode) < 0)
        return fail(err, line, what, path, -errno,
                    errno == EACCES && (mode & W_OK) ? "not writable (add <readonly/> for a "
                                                       "read-only disk)"
                                                     : strerror(errno));
    return 0;
}

/* The directory a file or socket is created in must exist. */
static int check_dir_of(struct md_err *err, int line, const char *what, const char *path)
{
    char copy[PATH_MAX];
    struct stat st;
    const char *dir;

    if (strlen(path) >= sizeof(copy))
        return fail(err, line, what, path, -ENAMETOOLONG, "the path is too long");
    strcpy(copy, path);
    dir = dirname(copy);
    if (stat(dir, &st) < 0)
        return fail(err, line, what, path, -errno, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, line, what, path, -ENOTDIR, "its directory is not a directory");
    return 0;
}

static int check_chardev(struct md_err *err, const struct md_chardev *chr, const char *what)
{
    if (!chr->present || chr->type == MD_CHR_PTY)
        return 0;
    return check_dir_of(err, chr->line, what, chr->path);
}

int md_domain_def_check_files(const struct md_domain_def *def, struct md_err *err)
{
    int ret = check_file(err, def->os.kernel_line, "<kernel>", def->os.kernel, false, R_OK);

    if (!ret && def->os.initrd)
        ret = check_file(err, def->os.initrd_line, "<initrd>", def->os.initrd, false, R_OK);
    for (unsigned i = 0; i < def->nr_disks && !ret; i++) {
        const struct md_disk *d = &def->disks[i];

        ret = check_file(err, d->source_line, "<source file>", d->source, true,
                         d->readonly ? R_OK : R_OK | W_OK);
    }
    if (!ret)
        ret = check_chardev(err, &def->serial, "<serial>");
    if (!ret)
        ret = check_chardev(err, &def->vconsole, "<console>");
    return ret;
}
