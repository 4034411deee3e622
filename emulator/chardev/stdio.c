/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --serial stdio: output to standard output, input from standard input.
 * When standard input is a terminal it goes into raw mode (keys reach the
 * guest as typed, Ctrl-C included) with the Ctrl-A escapes, and its mode
 * is put back on close. Otherwise (a pipe, a file, /dev/null) bytes pass
 * through unchanged and nothing about the descriptors is altered.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "chardev/internal.h"

/* Raw input, output processing left as it was (so "\n" still starts a
 * line on the user's terminal). */
static void make_raw(struct termios *t)
{
    t->c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t->c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t->c_cflag |= CS8;
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

static void enter_raw_mode(struct em_chardev *c, int fd)
{
    struct termios raw;

    if (tcgetattr(fd, &c->saved_tty) < 0) {
        kc_log(&c->log, KC_LOG_WARN, "%s stdio: cannot read the terminal's mode: %s", c->what,
               strerror(errno));
        return;
    }
    raw = c->saved_tty;
    make_raw(&raw);
    if (tcsetattr(fd, TCSANOW, &raw) < 0) {
        kc_log(&c->log, KC_LOG_WARN, "%s stdio: cannot put the terminal in raw mode: %s", c->what,
               strerror(errno));
        return;
    }
    c->tty_saved = true;
    c->tty_fd = fd;
}

static int stdio_open(struct em_chardev *c, const struct em_chardev_config *cfg)
{
    int in = cfg->stdin_fd >= 0 ? cfg->stdin_fd : STDIN_FILENO;
    int out = cfg->stdout_fd >= 0 ? cfg->stdout_fd : STDOUT_FILENO;
    int ret;

    c->out_fd = out;
    if (isatty(in)) {
        c->escapes = true;
        enter_raw_mode(c, in);
    }
    ret = chardev_input_start(c, in);
    /* /dev/null, a regular file or a closed descriptor cannot be polled:
     * the guest then gets no input, which is what such a stdin means. */
    if (ret < 0)
        kc_log(&c->log, KC_LOG_DEBUG, "%s stdio: no input (descriptor %d: %s)", c->what, in,
               uv_strerror(ret));
    return 0;
}

static void stdio_close(struct em_chardev *c)
{
    if (c->tty_saved && tcsetattr(c->tty_fd, TCSANOW, &c->saved_tty) < 0)
        kc_log(&c->log, KC_LOG_WARN, "%s stdio: cannot restore the terminal's mode: %s", c->what,
               strerror(errno));
    c->tty_saved = false;
    /* Descriptors 0 and 1 are not ours to close. */
    chardev_set_output(c, -1);
}

const struct chardev_backend em_chardev_stdio_backend = {
    .name = "stdio",
    .open = stdio_open,
    .close = stdio_close,
};
