/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd: the management daemon. Runs in the foreground (a service manager
 * or the admin puts it in the background), logs to stderr, and ends on
 * SIGTERM or SIGINT leaving every emulator running: a new mgmtd reattaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "log.h"

#ifndef KVMSTACK_VERSION
#define KVMSTACK_VERSION "0"
#endif
#ifndef KVMEMU_INSTALLED
#define KVMEMU_INSTALLED "/usr/local/bin/kvmemu"
#endif

#define USAGE                                                                                      \
    "usage: mgmtd [options]\n"                                                                     \
    "\n"                                                                                           \
    "The management daemon: domain definitions, emulators, and the socket API\n"                   \
    "that vmctl and other programs use.\n"                                                         \
    "\n"                                                                                           \
    "  --root DIR            keep everything under DIR (DIR/etc, DIR/run, DIR/log)\n"              \
    "                        instead of /etc/kvmstack, /run/kvmstack, /var/log/kvmstack\n"         \
    "  --emulator PATH       the kvmemu binary (default: the one beside mgmtd)\n"                  \
    "  --user NAME           run emulators as this user (default: kvmstack, else nobody)\n"        \
    "  --group NAME          ... and this group (default: the user's)\n"                           \
    "  --admin-group NAME    members may use the read-write socket too\n"                          \
    "  --shutdown-grace MS   destroy: SIGKILL this long after SIGTERM (default 10000)\n"           \
    "  -v, --verbose         debug messages\n"                                                     \
    "  -h, --help            this text\n"                                                          \
    "      --version         the version\n"

enum { OPT_ROOT = 256, OPT_EMULATOR, OPT_USER, OPT_GROUP, OPT_ADMIN, OPT_GRACE, OPT_VERSION };

static const struct option long_opts[] = {
    { "root", required_argument, NULL, OPT_ROOT },
    { "emulator", required_argument, NULL, OPT_EMULATOR },
    { "user", required_argument, NULL, OPT_USER },
    { "group", required_argument, NULL, OPT_GROUP },
    { "admin-group", required_argument, NULL, OPT_ADMIN },
    { "shutdown-grace", required_argument, NULL, OPT_GRACE },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 },
};

static void on_signal(uv_signal_t *h, int signum)
{
    md_log(MD_LOG_INFO, "signal %d: stopping (the emulators keep running)", signum);
    uv_stop(h->loop);
}

/* kvmemu beside us (installed), or in the build tree. */
static void default_emulator(char *buf, size_t len)
{
    char self[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

    snprintf(buf, len, "%s", KVMEMU_INSTALLED);
    if (n <= 0)
        return;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (!slash)
        return;
    *slash = '\0';
    if (snprintf(buf, len, "%s/kvmemu", self) < (int)len && access(buf, X_OK) == 0)
        return;
    /* The build tree: build/mgmtd/daemon/mgmtd, build/emulator/kvmemu. */
    if (snprintf(buf, len, "%s/../../emulator/kvmemu", self) < (int)len && access(buf, X_OK) == 0)
        return;
    snprintf(buf, len, "%s", KVMEMU_INSTALLED);
}

/* Held while the daemon runs: a second one with the same root refuses. */
static int lock_pidfile(const char *path)
{
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), n;

    if (fd < 0) {
        fprintf(stderr, "mgmtd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fcntl(fd, F_SETLK, &lk) < 0) {
        n = (int)read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fprintf(stderr, "mgmtd: another mgmtd runs with these directories (pid %s, %s)\n",
                buf[0] ? buf : "unknown", path);
        close(fd);
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
        fprintf(stderr, "mgmtd: %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    struct md_driver_config cfg = { .admin_gid = (gid_t)-1,
                                    .shutdown_grace_ms = 10000,
                                    .start_timeout_ms = 30000 };
    char emulator[PATH_MAX];
    struct md_driver *drv;
    struct md_paths paths;
    struct md_err err;
    uv_signal_t sig[2];
    uv_loop_t loop;
    int c, pid_fd;

    default_emulator(emulator, sizeof(emulator));
    cfg.emulator = emulator;
    while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_ROOT:
            cfg.root = optarg;
            break;
        case OPT_EMULATOR:
            cfg.emulator = optarg;
            break;
        case OPT_USER:
            cfg.user = optarg;
            break;
        case OPT_GROUP:
            cfg.group = optarg;
            break;
        case OPT_ADMIN: {
            const struct group *g = getgrnam(optarg);

            if (!g) {
                fprintf(stderr, "mgmtd: --admin-group %s: no such group\n", optarg);
                return 2;
            }
            cfg.admin_gid = g->gr_gid;
            break;
        }
        case OPT_GRACE: {
            char *end;
            long ms = strtol(optarg, &end, 10);

            if (*end || ms < 0 || ms > 600000) {
                fprintf(stderr, "mgmtd: --shutdown-grace %s: not 0 to 600000 milliseconds\n",
                        optarg);
                return 2;
            }
            cfg.shutdown_grace_ms = (int)ms;
            break;
        }
        case 'v':
            md_log_set_level(MD_LOG_DEBUG);
            break;
        case 'h':
            fputs(USAGE, stdout);
            return 0;
        case OPT_VERSION:
            printf("mgmtd %s\n", KVMSTACK_VERSION);
            return 0;
        default:
            fputs(USAGE, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mgmtd: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (access(cfg.emulator, X_OK) < 0) {
        fprintf(stderr, "mgmtd: the emulator %s: %s (see --emulator)\n", cfg.emulator,
                strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    md_err_clear(&err);
    if (md_paths_init(&paths, cfg.root, &err) < 0) {
        fprintf(stderr, "mgmtd: %s\n", err.msg);
        return 1;
    }
    uv_loop_init(&loop);
    drv = md_driver_create(&loop, &cfg, &err);
    if (!drv) {
        fprintf(stderr, "mgmtd: %s\n", err.msg);
        return 1;
    }
    pid_fd = lock_pidfile(paths.pidfile);
    if (pid_fd < 0) {
        md_driver_destroy(drv);
        return 1;
    }
    if (md_driver_start(drv, &err) < 0) {
        fprintf(stderr, "mgmtd: %s\n", err.msg);
        md_driver_destroy(drv);
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        uv_signal_init(&loop, &sig[i]);
        uv_signal_start(&sig[i], on_signal, i ? SIGINT : SIGTERM);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    md_driver_destroy(drv);
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&sig[i], NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    unlink(paths.pidfile);
    close(pid_fd);
    return 0;
}
