/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one error a conf call reports: set once, where the fault is found,
 * naming the element or attribute and its line; callers only pass the
 * negative errno up. The message is what an admin reads (the daemon sends
 * it to the client as it is).
 */
#ifndef MD_ERR_H
#define MD_ERR_H

#define MD_ERR_MSG_MAX 640

struct md_err {
    int code; /* 0, or a negative errno: -EINVAL for a bad definition */
    int line; /* the line the message names; 0 if it names none */
    char msg[MD_ERR_MSG_MAX];
};

void md_err_clear(struct md_err *e);

/*
 * Records the error unless one is already recorded (the first fault is the
 * one to fix) and returns `code`. `line` > 0 prefixes "line N: ". Safe with
 * a NULL `e`.
 */
int md_err_set(struct md_err *e, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
