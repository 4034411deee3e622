/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How an emulator is started: read back from /proc by the child itself.
 * No capability in any set, no_new_privs, another user (when the test runs
 * as root), its own session, umask 077, exactly the descriptors it was
 * given at the numbers promised, and a clear error when exec fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "testutil.h"

const bool test_needs_kvm = false;

/* Runs a shell command through md_spawn() with two extra descriptors;
 * returns what it printed. */
static char *run(const char *script, bool change_id, uid_t uid, gid_t gid, int *status)
{
    int out[2], extra1 = open("/dev/null", O_RDONLY | O_CLOEXEC), extra2;
    int leak = open("/dev/null", O_RDONLY); /* not close-on-exec: must not leak */
    char *const argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    struct md_spawn sp;
    struct md_err err;
    static char buf[16384];
    size_t len = 0;
    pid_t pid;
    ssize_t n;

    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    extra2 = open("/proc/version", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(leak, 0);
    sp = (struct md_spawn){ .argv = argv,
                            .stdout_fd = out[1],
                            .stderr_fd = out[1],
                            .fds = (const int[]){ extra1, extra2 },
                            .nfds = 2,
                            .change_id = change_id,
                            .uid = uid,
                            .gid = gid };
    md_err_clear(&err);
    pid = md_spawn(&sp, &err);
    ck_assert_msg(pid > 0, "%s", err.msg);
    close(out[1]);
    close(extra1);
    close(extra2);
    close(leak);
    while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(out[0]);
    ck_assert_int_eq(waitpid(pid, status, 0), pid);
    return buf;
}

static const char *field(const char *status, const char *name)
{
    const char *p = strstr(status, name);

    ck_assert_msg(p, "no %s in:\n%s", name, status);
    p += strlen(name);
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

START_TEST(no_privilege_left)
{
    bool root = geteuid() == 0;
    const struct passwd *pw = getpwnam("nobody");
    char *out;
    int status;

    out = run("cat /proc/self/status; echo sid=$(cut -d' ' -f6 /proc/self/stat) pid=$$", root,
              pw ? pw->pw_uid : 65534, pw ? pw->pw_gid : 65534, &status);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    for (const char *const *cap =
             (const char *const[]){ "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", NULL };
         *cap; cap++)
        ck_assert_msg(!strncmp(field(out, *cap), "0000000000000000", 16), "%s is not 0:\n%s", *cap,
                      out);
    ck_assert_msg(field(out, "NoNewPrivs:")[0] == '1', "%s", out);
    ck_assert_msg(!strncmp(field(out, "Umask:"), "0077", 4), "%s", out);
    if (root) {
        char want[32];

        snprintf(want, sizeof(want), "%u\t", pw ? (unsigned)pw->pw_uid : 65534u);
        ck_assert_msg(!strncmp(field(out, "Uid:"), want, strlen(want)), "%s", out);
        ck_assert_msg(strncmp(field(out, "Gid:"), "0\t", 2) != 0, "%s", out);
        /* No supplementary groups: the line is empty. */
        ck_assert_msg(field(out, "Groups:")[0] == '\n', "%s", out);
    }
    /* Its own session: the session id is its pid. */
    {
        const char *sid = strstr(out, "sid="), *pid = strstr(out, "pid=");

        ck_assert_ptr_nonnull(sid);
        ck_assert_ptr_nonnull(pid);
        ck_assert_int_eq(atoi(sid + 4), atoi(pid + 4));
    }
}
END_TEST

START_TEST(exactly_the_given_descriptors)
{
    char *out, *p;
    int status;

    /* ls in place of the shell: its descriptors are the inherited ones,
     * and its own directory handle, which lists /proc. fd 3 is /dev/null,
     * fd 4 /proc/version, and nothing else of ours may be there. */
    out = run("exec ls -l /proc/self/fd", false, geteuid(), getegid(), &status);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_msg(strstr(out, " 3 -> /dev/null"), "%s", out);
    ck_assert_msg(strstr(out, " 4 -> /proc/version"), "%s", out);
    for (p = out; (p = strstr(p, " -> ")) != NULL; p += 4) {
        const char *num = p;
        int fd;

        while (num > out && num[-1] != ' ')
            num--;
        fd = atoi(num);
        ck_assert_msg(fd <= 4 || !strncmp(p + 4, "/proc/", 6), "fd %d leaked:\n%s", fd, out);
    }
}
END_TEST

START_TEST(exec_failure_is_reported)
{
    char *const argv[] = { "/nonexistent/kvmemu", NULL };
    struct md_spawn sp = { .argv = argv, .stdout_fd = 1, .stderr_fd = 2 };
    struct md_err err;

    md_err_clear(&err);
    ck_assert_int_eq(md_spawn(&sp, &err), -1);
    ck_assert_msg(strstr(err.msg, "cannot start /nonexistent/kvmemu: exec: No such file"), "%s",
                  err.msg);
}
END_TEST

START_TEST(users)
{
    struct md_err err;
    bool change;
    uid_t uid;
    gid_t gid;

    md_err_clear(&err);
    if (geteuid() != 0) {
        ck_assert_int_eq(md_spawn_user(NULL, NULL, &change, &uid, &gid, &err), 0);
        ck_assert(!change);
        ck_assert_int_lt(md_spawn_user("nobody", NULL, &change, &uid, &gid, &err), 0);
        return;
    }
    ck_assert_int_eq(md_spawn_user(NULL, NULL, &change, &uid, &gid, &err), 0);
    ck_assert(change);
    ck_assert_uint_ne(uid, 0);
    ck_assert_int_eq(md_spawn_user("no-such-user-here", NULL, &change, &uid, &gid, &err), -ENOENT);
    ck_assert_msg(strstr(err.msg, "no-such-user-here"), "%s", err.msg);
    md_err_clear(&err);
    ck_assert_int_eq(md_spawn_user("root", NULL, &change, &uid, &gid, &err), -EPERM);
    ck_assert_msg(strstr(err.msg, "do not run as root"), "%s", err.msg);
    md_err_clear(&err);
    ck_assert_int_eq(md_spawn_user("nobody", "no-such-group-here", &change, &uid, &gid, &err),
                     -ENOENT);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("md_spawn");
    TCase *tc = tcase_create("spawn");

    tcase_add_test(tc, no_privilege_left);
    tcase_add_test(tc, exactly_the_given_descriptors);
    tcase_add_test(tc, exec_failure_is_reported);
    tcase_add_test(tc, users);
    suite_add_tcase(s, tc);
    return s;
}
