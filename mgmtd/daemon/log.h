/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgmtd's own messages: one line each on stderr, "mgmtd: " and a level.
 * Errors that a client caused go back to that client (struct md_err), not
 * here; this log is for the admin who runs the daemon.
 */
#ifndef MD_LOG_H
#define MD_LOG_H

enum md_log_level {
    MD_LOG_ERROR,
    MD_LOG_WARN,
    MD_LOG_INFO,
    MD_LOG_DEBUG,
};

/* Messages above this level are dropped (default: info). */
void md_log_set_level(enum md_log_level level);
void md_log(enum md_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
