/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

void md_fs_crash_point(const char *point)
{
    const char *want = getenv("MGMTD_TEST_CRASH");

    if (want && !strcmp(want, point))
        kill(getpid(), SIGKILL);
}

static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int md_fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int md_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       struct md_err *err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    int fd, ret;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
        return md_err_set(err, -ENAMETOOLONG, 0, "%s: the path is too long", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        return md_err_set(err, -errno, 0, "%s: cannot create a temporary file: %s", path,
                          strerror(errno));
    ret = write_all(fd, data, len);
    if (ret == 0 && fchmod(fd, mode) < 0)
        ret = -errno;
    if (ret == 0 && fsync(fd) < 0)
        ret = -errno;
    if (close(fd) < 0 && ret == 0)
        ret = -errno;
    if (ret < 0) {
        unlink(tmp);
        return md_err_set(err, ret, 0, "%s: cannot write it: %s", path, strerror(-ret));
    }
    md_fs_crash_point("atomic-before-rename");
    if (rename(tmp, path) < 0) {
        ret = -errno;
        unlink(tmp);
        return md_err_set(err, ret, 0, "%s: cannot replace it: %s", path, strerror(-ret));
    }
    md_fs_crash_point("atomic-after-rename");
    dir_of(path, dir, sizeof(dir));
    ret = md_fs_sync_dir(dir);
    if (ret < 0)
        return md_err_set(err, ret, 0, "%s: cannot sync its directory: %s", path, strerror(-ret));
    return 0;
}

int md_fs_remove(const char *path, struct md_err *err)
{
    char dir[PATH_MAX];
    int ret;

    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return 0;
        return md_err_set(err, -errno, 0, "%s: cannot remove it: %s", path, strerror(errno));
    }
    dir_of(path, dir, sizeof(dir));
    ret = md_fs_sync_dir(dir);
    if (ret < 0)
        return md_err_set(err, ret, 0, "%s: cannot sync its directory: %s", path, strerror(-ret));
    return 0;
}

char *md_fs_read(const char *path, size_t max, size_t *len, struct md_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = 4096, n = 0;
    char *buf;

    if (fd < 0) {
        md_err_set(err, -errno, 0, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(cap + 1);
    while (buf) {
        ssize_t r;

        if (n == cap) {
            char *b;

            /* One byte past the limit tells a file of exactly `max`
             * bytes from a larger one. */
            if (cap > max) {
                md_err_set(err, -EFBIG, 0, "%s: larger than %zu bytes", path, max);
                free(buf);
                buf = NULL;
                break;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            b = realloc(buf, cap + 1);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            md_err_set(err, -errno, 0, "%s: %s", path, strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[n] = '\0';
            if (len)
                *len = n;
            break;
        }
        n += (size_t)r;
    }
    if (!buf && err && err->code == 0)
        md_err_set(err, -ENOMEM, 0, "%s: out of memory", path);
    close(fd);
    return buf;
}

int md_fs_mkdirs(const char *path, mode_t mode, struct md_err *err)
{
    char p[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(p))
        return md_err_set(err, -ENAMETOOLONG, 0, "%s: not a usable directory path", path);
    memcpy(p, path, n + 1);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;

            *s = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST)
                return md_err_set(err, -errno, 0, "%s: cannot create it: %s", p, strerror(errno));
            *s = c;
            if (c == '\0')
                break;
        }
    }
    {
        struct stat st;

        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            return md_err_set(err, -ENOTDIR, 0, "%s: not a directory", path);
    }
    return 0;
}

unsigned md_fs_clean_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".tmp-") && unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    if (n)
        md_fs_sync_dir(dir);
    return n;
}
