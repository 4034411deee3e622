/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The messages a user sees when KVM cannot be opened or is not good
 * enough, produced without a working KVM: bad paths and descriptors for
 * kc_kvm_open(), and a fake KVM_CHECK_EXTENSION for the validation.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "internal.h"
#include "testutil.h"

#define NOBODY 65534

/* Open descriptors of this process, to catch a leaked fd. */
static unsigned count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;

    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void assert_logged(const struct log_capture *c, const char *needle)
{
    ck_assert_msg(log_has(c, needle), "expected \"%s\" in the message, got: %s", needle, c->text);
}

/* ---- kc_kvm_open ---- */

START_TEST(test_config_defaults)
{
    struct kc_kvm_config cfg;

    memset(&cfg, 0x5a, sizeof(cfg));
    kc_kvm_config_init(&cfg);
    ck_assert_ptr_null(cfg.path);
    ck_assert_int_eq(cfg.fd, -1);
    ck_assert_ptr_null(cfg.log.fn);
    ck_assert_int_eq(cfg.log.max_level, KC_LOG_WARN);
}
END_TEST

START_TEST(test_open_missing_path)
{
    static const char path[] = "/nonexistent-kvmcore-test/kvm";
    struct kc_kvm_config cfg;
    struct log_capture log;

    log_capture_init(&log);
    kc_kvm_config_init(&cfg);
    cfg.path = path;
    cfg.log = log.logger;
    ck_assert_ptr_null(kc_kvm_open(&cfg));
    ck_assert_uint_eq(log.count, 1);
    assert_logged(&log, path);
    assert_logged(&log, "No such file");
    assert_logged(&log, "modprobe");
}
END_TEST

/*
 * Runs kc_kvm_open(path) as nobody; puts what it logged (or why the child
 * failed) in out. Returns whether the child ran to completion.
 */
static bool open_as_nobody(const char *path, char *out, size_t outlen)
{
    int p[2];
    pid_t pid;
    int status;
    ssize_t n, got = 0;

    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct kc_kvm_config cfg;
        struct log_capture log;
        struct kc_kvm *kvm;

        close(p[0]);
        if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
            dprintf(p[1], "cannot drop privileges: %s", strerror(errno));
            _exit(1);
        }
        log_capture_init(&log);
        kc_kvm_config_init(&cfg);
        cfg.path = path;
        cfg.log = log.logger;
        kvm = kc_kvm_open(&cfg);
        dprintf(p[1], "%s%s", kvm ? "OPENED " : "", log.text);
        _exit(0);
    }
    close(p[1]);
    while (got < (ssize_t)outlen - 1 && (n = read(p[0], out + got, outlen - 1 - got)) > 0)
        got += n;
    out[got] = '\0';
    close(p[0]);
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

START_TEST(test_open_permission_denied)
{
    char dir[] = "/tmp/kvmcore-test-XXXXXX", path[64];
    struct kc_kvm_config cfg;
    struct log_capture log;
    static char out[sizeof(log.text) + 16];
    bool child_ok = true;
    int fd;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kvm", dir);
    fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
    close(fd);

    if (geteuid() == 0) {
        /* root ignores modes: try as nobody, in a child, with the
         * directory searchable and the file root's own 0600. */
        chmod(dir, 0755);
        child_ok = open_as_nobody(path, out, sizeof(out));
    } else {
        chmod(path, 0);
        log_capture_init(&log);
        kc_kvm_config_init(&cfg);
        cfg.path = path;
        cfg.log = log.logger;
        snprintf(out, sizeof(out), "%s%s", kc_kvm_open(&cfg) ? "OPENED " : "", log.text);
    }
    /* Clean up before asserting: a failed assertion ends the test. */
    unlink(path);
    rmdir(dir);

    ck_assert_msg(fd >= 0, "cannot create %s", path);
    ck_assert_msg(child_ok, "the unprivileged child failed: %s", out);
    ck_assert_msg(strncmp(out, "OPENED", 6) != 0, "an unprivileged open of a 0600 file succeeded");
    ck_assert_msg(strstr(out, path) && strstr(out, "Permission denied") &&
                      strstr(out, "usermod -aG kvm"),
                  "want the path, \"Permission denied\" and the usermod fix, got: %s", out);
}
END_TEST

START_TEST(test_open_fd_not_kvm)
{
    struct kc_kvm_config cfg;
    struct log_capture log;
    char what[64];
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

    ck_assert_int_ge(fd, 0);
    log_capture_init(&log);
    kc_kvm_config_init(&cfg);
    cfg.fd = fd;
    cfg.log = log.logger;
    ck_assert_ptr_null(kc_kvm_open(&cfg));
    ck_assert_uint_eq(log.count, 1);
    assert_logged(&log, "is not a KVM device");
    snprintf(what, sizeof(what), "descriptor %d", fd);
    assert_logged(&log, what);
    /* On failure the caller keeps ownership: the fd must still be open. */
    ck_assert_msg(fcntl(fd, F_GETFD) >= 0, "kc_kvm_open closed the caller's fd on failure");
    close(fd);
}
END_TEST

START_TEST(test_open_path_not_kvm)
{
    struct kc_kvm_config cfg;
    struct log_capture log;
    unsigned before = count_fds();

    log_capture_init(&log);
    kc_kvm_config_init(&cfg);
    cfg.path = "/dev/null";
    cfg.log = log.logger;
    ck_assert_ptr_null(kc_kvm_open(&cfg));
    ck_assert_uint_eq(log.count, 1);
    assert_logged(&log, "/dev/null is not a KVM device");
    /* The fd the library opened itself is closed again. */
    ck_assert_uint_eq(count_fds(), before);
}
END_TEST

/*
 * The failing thing is named in full (log.h's convention), however long
 * its path: not cut to fit a fixed-size buffer.
 */
START_TEST(test_open_long_path_named_in_full)
{
    /* /dev/null, spelled with 70 characters. */
    static const char path[] =
        "/dev/./././././././././././././././././././././././././././././././null";
    struct kc_kvm_config cfg;
    struct log_capture log;
    char want[128];

    ck_assert_uint_gt(strlen(path), 64);
    log_capture_init(&log);
    kc_kvm_config_init(&cfg);
    cfg.path = path;
    cfg.log = log.logger;
    ck_assert_ptr_null(kc_kvm_open(&cfg));
    snprintf(want, sizeof(want), "%s is not a KVM device", path);
    assert_logged(&log, want);
}
END_TEST

/* ---- kci_kvm_validate ---- */

struct fake_kvm {
    long missing; /* the capability to deny, or -1 */
    int answer;   /* what a denied capability returns (0, or an error) */
    unsigned calls;
};

static int fake_has_cap(void *opaque, long cap)
{
    struct fake_kvm *f = opaque;

    f->calls++;
    return cap == f->missing ? f->answer : 1;
}

START_TEST(test_validate_api_version)
{
    struct fake_kvm f = { -1, 0, 0 };
    struct log_capture log;
    char want[32];

    log_capture_init(&log);
    ck_assert_int_eq(kci_kvm_validate(&log.logger, "/dev/kvm", 11, fake_has_cap, &f), -EPROTO);
    ck_assert_uint_eq(log.count, 1);
    assert_logged(&log, "/dev/kvm");
    assert_logged(&log, "version 11");
    snprintf(want, sizeof(want), "version %d", KVM_API_VERSION);
    assert_logged(&log, want);

    log_capture_init(&log);
    ck_assert_int_eq(kci_kvm_validate(&log.logger, "x", KVM_API_VERSION + 1, fake_has_cap, &f),
                     -EPROTO);
    ck_assert_uint_eq(log.count, 1);
}
END_TEST

START_TEST(test_validate_each_cap_missing)
{
    bool saw_irqfd = false;

    ck_assert_uint_ge(kci_required_caps_count, 1);
    for (unsigned i = 0; i < kci_required_caps_count; i++) {
        const struct kci_required_cap *c = &kci_required_caps[i];

        /* Absent (0) and a failed check (negative) are both "missing". */
        for (int answer = 0; answer >= -1; answer--) {
            struct fake_kvm f = { c->cap, answer, 0 };
            struct log_capture log;

            log_capture_init(&log);
            ck_assert_msg(kci_kvm_validate(&log.logger, "/dev/kvm", KVM_API_VERSION, fake_has_cap,
                                           &f) == -ENOTSUP,
                          "missing %s should give -ENOTSUP", c->name);
            ck_assert_uint_eq(log.count, 1);
            assert_logged(&log, c->name);
            assert_logged(&log, c->why);
            /* Exactly that capability is blamed. */
            for (unsigned j = 0; j < kci_required_caps_count; j++)
                if (j != i && !strstr(c->name, kci_required_caps[j].name))
                    ck_assert_msg(!log_has(&log, kci_required_caps[j].name),
                                  "missing %s, but the message names %s: %s", c->name,
                                  kci_required_caps[j].name, log.text);
        }
        if (strcmp(c->name, "KVM_CAP_IRQFD") == 0) {
            ck_assert_int_eq(c->cap, KVM_CAP_IRQFD);
            saw_irqfd = true;
        }
    }
    ck_assert_msg(saw_irqfd, "KVM_CAP_IRQFD should be required");
}
END_TEST

START_TEST(test_validate_all_present)
{
    struct fake_kvm f = { -1, 0, 0 };
    struct log_capture log;

    log_capture_init(&log);
    ck_assert_int_eq(kci_kvm_validate(&log.logger, "/dev/kvm", KVM_API_VERSION, fake_has_cap, &f),
                     0);
    ck_assert_uint_eq(log.count, 0);
    ck_assert_msg(f.calls == kci_required_caps_count, "asked for %u capabilities, want %u", f.calls,
                  kci_required_caps_count);
}
END_TEST

/* ---- kci_kvm_open_error ---- */

START_TEST(test_open_error_messages)
{
    static const struct {
        int err;
        const char *want[3];
        const char *not_want;
    } cases[] = {
        { ENOENT, { "No such file", "modprobe", "VT-x" }, "usermod" },
        { EACCES, { "Permission denied", "usermod -aG kvm", "root" }, "modprobe" },
        { EPERM, { "usermod -aG kvm", NULL, NULL }, "modprobe" },
        { ENXIO, { "No such device or address", "no KVM module is loaded", NULL }, "usermod" },
        { ENODEV, { "no KVM module is loaded", NULL, NULL }, "usermod" },
        { EIO, { "Input/output error", NULL, NULL }, "modprobe" },
    };

    for (unsigned i = 0; i < KCI_ARRAY_SIZE(cases); i++) {
        struct log_capture log;

        log_capture_init(&log);
        ck_assert_int_eq(kci_kvm_open_error(&log.logger, "/dev/kvm-test", cases[i].err),
                         -cases[i].err);
        ck_assert_uint_eq(log.count, 1);
        assert_logged(&log, "cannot open /dev/kvm-test");
        for (unsigned k = 0; k < 3 && cases[i].want[k]; k++)
            assert_logged(&log, cases[i].want[k]);
        ck_assert_msg(!log_has(&log, cases[i].not_want), "errno %d: unexpected \"%s\" in: %s",
                      cases[i].err, cases[i].not_want, log.text);
    }
}
END_TEST

/* ---- kc_log ---- */

struct level_rec {
    unsigned n;
    enum kc_log_level levels[8];
    char last[128];
};

static void level_rec_fn(void *opaque, enum kc_log_level level, const char *msg)
{
    struct level_rec *r = opaque;

    if (r->n < KCI_ARRAY_SIZE(r->levels))
        r->levels[r->n] = level;
    r->n++;
    snprintf(r->last, sizeof(r->last), "%s", msg);
}

START_TEST(test_log_max_level)
{
    struct level_rec r = { 0 };
    struct kc_logger l = { level_rec_fn, &r, KC_LOG_WARN };

    kc_log(&l, KC_LOG_DEBUG, "debug %d", 1);
    kc_log(&l, KC_LOG_INFO, "info %d", 2);
    ck_assert_msg(r.n == 0, "messages below max_level must be dropped");
    kc_log(&l, KC_LOG_WARN, "warn %d", 3);
    kc_log(&l, KC_LOG_ERROR, "error %d", 4);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(r.levels[0], KC_LOG_WARN);
    ck_assert_int_eq(r.levels[1], KC_LOG_ERROR);
    ck_assert_str_eq(r.last, "error 4");

    l.max_level = KC_LOG_DEBUG;
    kc_log(&l, KC_LOG_DEBUG, "%s=%u", "x", 5u);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_int_eq(r.levels[2], KC_LOG_DEBUG);
    ck_assert_str_eq(r.last, "x=5");

    l.max_level = KC_LOG_ERROR;
    kc_log(&l, KC_LOG_WARN, "dropped");
    ck_assert_uint_eq(r.n, 3);
}
END_TEST

/* Runs kc_log with a NULL logger and returns what reached stderr. */
static void log_to_stderr(enum kc_log_level level, const char *msg, char *out, size_t outlen)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    ck_assert_ptr_nonnull(tmp);
    ck_assert_int_ge(saved, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
    kc_log(NULL, level, "%s", msg);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, outlen - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

START_TEST(test_log_null_logger)
{
    char out[256];

    log_to_stderr(KC_LOG_ERROR, "something broke", out, sizeof(out));
    ck_assert_str_eq(out, "kvmcore: error: something broke\n");
    log_to_stderr(KC_LOG_WARN, "careful", out, sizeof(out));
    ck_assert_str_eq(out, "kvmcore: warning: careful\n");
    /* The default drops debug and info. */
    log_to_stderr(KC_LOG_DEBUG, "noise", out, sizeof(out));
    ck_assert_str_eq(out, "");
    log_to_stderr(KC_LOG_INFO, "noise", out, sizeof(out));
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *open_tc = tcase_create("open");
    TCase *validate = tcase_create("validate");
    TCase *logging = tcase_create("log");

    tcase_add_test(open_tc, test_config_defaults);
    tcase_add_test(open_tc, test_open_missing_path);
    tcase_add_test(open_tc, test_open_permission_denied);
    tcase_add_test(open_tc, test_open_fd_not_kvm);
    tcase_add_test(open_tc, test_open_path_not_kvm);
    tcase_add_test(open_tc, test_open_long_path_named_in_full);
    suite_add_tcase(s, open_tc);

    tcase_add_test(validate, test_validate_api_version);
    tcase_add_test(validate, test_validate_each_cap_missing);
    tcase_add_test(validate, test_validate_all_present);
    tcase_add_test(validate, test_open_error_messages);
    suite_add_tcase(s, validate);

    tcase_add_test(logging, test_log_max_level);
    tcase_add_test(logging, test_log_null_logger);
    suite_add_tcase(s, logging);
    return s;
}

const bool test_needs_kvm = false;
