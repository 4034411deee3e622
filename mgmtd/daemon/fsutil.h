/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Files the daemon keeps: written atomically (a temporary file in the same
 * directory, fsync, rename over the old one, fsync of the directory), so
 * that a crash at any moment leaves the old file or the new one, whole.
 */
#ifndef MD_FSUTIL_H
#define MD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Temporary files are named PATH.tmp-XXXXXX; md_fs_clean_temps() removes
 * those a crash left in a directory. */
int md_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                       struct md_err *err);
/* Removes the file and syncs its directory; a missing file is fine. */
int md_fs_remove(const char *path, struct md_err *err);
/* The whole file, NUL-terminated, at most `max` bytes; NULL with err set. */
char *md_fs_read(const char *path, size_t max, size_t *len, struct md_err *err);
/* Creates the directory and its parents with `mode` (existing ones are
 * left as they are). */
int md_fs_mkdirs(const char *path, mode_t mode, struct md_err *err);
/* Removes leftover temporary files; returns how many. */
unsigned md_fs_clean_temps(const char *dir);
/* Syncs a directory (after a rename or unlink in it). */
int md_fs_sync_dir(const char *dir);

/*
 * Fault injection for the crash tests: when the environment variable
 * MGMTD_TEST_CRASH names `point` ("atomic-before-rename",
 * "atomic-after-rename"), the process kills itself with SIGKILL there.
 */
void md_fs_crash_point(const char *point);

#endif
