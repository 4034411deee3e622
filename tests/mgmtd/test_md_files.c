/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's files: atomic replacement (whole old or whole new, even
 * when the process is killed between the steps), leftovers cleaned up,
 * bounded reads, directories, and the layout under --root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "paths.h"
#include "testutil.h"

const bool test_needs_kvm = false;

static char dir[64], file[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_md_files.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/dom.xml", dir);
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path)
{
    struct md_err err;
    char *s;

    md_err_clear(&err);
    s = md_fs_read(path, 1 << 20, NULL, &err);
    ck_assert_msg(s, "%s", err.msg);
    return s;
}

static unsigned count_temps(void)
{
    char cmd[160];
    FILE *p;
    unsigned n = 0;

    snprintf(cmd, sizeof(cmd), "ls -a %s | grep -c '\\.tmp-' || true", dir);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(fscanf(p, "%u", &n), 1);
    pclose(p);
    return n;
}

START_TEST(atomic_write_creates_and_replaces)
{
    struct md_err err;
    struct stat st;
    char *s;

    md_err_clear(&err);
    ck_assert_int_eq(md_fs_write_atomic(file, "old\n", 4, 0600, &err), 0);
    s = slurp(file);
    ck_assert_str_eq(s, "old\n");
    free(s);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(md_fs_write_atomic(file, "new content\n", 12, 0644, &err), 0);
    s = slurp(file);
    ck_assert_str_eq(s, "new content\n");
    free(s);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    ck_assert_uint_eq(count_temps(), 0);
}
END_TEST

/* Writes "new" in a child that kills itself at `point`. */
static void crash_at(const char *point)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("MGMTD_TEST_CRASH", point, 1);
        md_fs_write_atomic(file, "new\n", 4, 0600, NULL);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the child was not killed");
}

START_TEST(killed_before_the_rename_keeps_the_old_file)
{
    char *s;

    ck_assert_int_eq(md_fs_write_atomic(file, "old\n", 4, 0600, NULL), 0);
    crash_at("atomic-before-rename");
    s = slurp(file);
    ck_assert_str_eq(s, "old\n");
    free(s);
    /* The half-made temporary is left, and the next start removes it. */
    ck_assert_uint_eq(count_temps(), 1);
    ck_assert_uint_eq(md_fs_clean_temps(dir), 1);
    ck_assert_uint_eq(count_temps(), 0);
    s = slurp(file);
    ck_assert_str_eq(s, "old\n");
    free(s);
}
END_TEST

START_TEST(killed_after_the_rename_has_the_new_file)
{
    char *s;

    ck_assert_int_eq(md_fs_write_atomic(file, "old\n", 4, 0600, NULL), 0);
    crash_at("atomic-after-rename");
    s = slurp(file);
    ck_assert_str_eq(s, "new\n");
    free(s);
    ck_assert_uint_eq(count_temps(), 0);
}
END_TEST

START_TEST(errors_name_the_path)
{
    struct md_err err;
    char missing[160], big[160], *s;
    int fd;

    md_err_clear(&err);
    ck_assert_int_lt(md_fs_write_atomic("/nonexistent/dir/x.xml", "x", 1, 0600, &err), 0);
    ck_assert_msg(strstr(err.msg, "/nonexistent/dir/x.xml"), "%s", err.msg);
    snprintf(missing, sizeof(missing), "%s/missing.xml", dir);
    md_err_clear(&err);
    ck_assert_ptr_null(md_fs_read(missing, 100, NULL, &err));
    ck_assert_int_eq(err.code, -ENOENT);
    ck_assert_msg(strstr(err.msg, missing), "%s", err.msg);
    /* A file larger than asked for is refused, not truncated. */
    snprintf(big, sizeof(big), "%s/big", dir);
    fd = open(big, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_eq(ftruncate(fd, 10000), 0);
    close(fd);
    md_err_clear(&err);
    ck_assert_ptr_null(md_fs_read(big, 5000, NULL, &err));
    ck_assert_int_eq(err.code, -EFBIG);
    md_err_clear(&err);
    s = md_fs_read(big, 10000, NULL, &err);
    ck_assert_ptr_nonnull(s);
    free(s);
    /* Removing a file that is not there is fine. */
    ck_assert_int_eq(md_fs_remove(missing, &err), 0);
}
END_TEST

START_TEST(directories)
{
    struct md_err err;
    char deep[160], blocked[160];
    struct stat st;

    snprintf(deep, sizeof(deep), "%s/a/b/c", dir);
    md_err_clear(&err);
    ck_assert_int_eq(md_fs_mkdirs(deep, 0700, &err), 0);
    ck_assert_int_eq(stat(deep, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(md_fs_mkdirs(deep, 0700, &err), 0); /* again: fine */
    snprintf(blocked, sizeof(blocked), "%s/sub", file);
    ck_assert_int_eq(md_fs_write_atomic(file, "x", 1, 0600, &err), 0);
    ck_assert_int_lt(md_fs_mkdirs(blocked, 0700, &err), 0);
    ck_assert_msg(strstr(err.msg, file), "%s", err.msg);
}
END_TEST

START_TEST(layout)
{
    struct md_paths p;
    struct md_err err;
    char root[96], longroot[200];
    struct stat st;

    snprintf(root, sizeof(root), "%s/root/", dir);
    md_err_clear(&err);
    ck_assert_int_eq(md_paths_init(&p, root, &err), 0);
    ck_assert(strstr(p.domains, "/root/etc/domains"));
    ck_assert(strstr(p.rw_sock, "/root/run/mgmtd.sock"));
    ck_assert(strstr(p.ro_sock, "/root/run/mgmtd-ro.sock"));
    ck_assert(strstr(p.log, "/root/log"));
    ck_assert_int_eq(md_paths_create(&p, &err), 0);
    ck_assert_int_eq(stat(p.run_domains, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(p.autostart, &st), 0);
    /* The system layout. */
    ck_assert_int_eq(md_paths_init(&p, NULL, &err), 0);
    ck_assert_str_eq(p.domains, "/etc/kvmstack/domains");
    ck_assert_str_eq(p.rw_sock, "/run/kvmstack/mgmtd.sock");
    ck_assert_str_eq(p.log, "/var/log/kvmstack");
    /* A root whose sockets would not fit a sockaddr_un is refused. */
    memset(longroot, 'x', sizeof(longroot) - 1);
    longroot[0] = '/';
    longroot[sizeof(longroot) - 1] = '\0';
    ck_assert_int_eq(md_paths_init(&p, longroot, &err), -ENAMETOOLONG);
    ck_assert_msg(strstr(err.msg, "mgmtd.sock"), "%s", err.msg);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("md_files");
    TCase *tc = tcase_create("files");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, atomic_write_creates_and_replaces);
    tcase_add_test(tc, killed_before_the_rename_keeps_the_old_file);
    tcase_add_test(tc, killed_after_the_rename_has_the_new_file);
    tcase_add_test(tc, errors_name_the_path);
    tcase_add_test(tc, directories);
    tcase_add_test(tc, layout);
    suite_add_tcase(s, tc);
    return s;
}
