/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interactive shell (vmctl with no command): libedit's line editing,
 * history kept in ~/.cache/vmctl/history, Tab completing command, option
 * and domain names. Commands on one line are separated by ';'. Without a
 * terminal it reads commands from stdin, one a line, with no prompt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "vmctl.h"

#define HISTORY_LINES 500

static struct vc_ctx *shell_ctx;

/* The history file's path, its directory made; false if there is none. */
static bool history_path(char *buf, size_t len)
{
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX];

    if (cache && *cache)
        snprintf(dir, sizeof(dir), "%s", cache);
    else if (home && *home)
        snprintf(dir, sizeof(dir), "%s/.cache", home);
    else
        return false;
    mkdir(dir, 0700);
    if ((size_t)snprintf(buf, len, "%s/vmctl", dir) >= len)
        return false;
    if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return false;
    return (size_t)snprintf(buf, len, "%s/vmctl/history", dir) < len;
}

static size_t common_prefix(char **v)
{
    size_t n = strlen(v[0]);

    for (int i = 1; v[i]; i++) {
        size_t k = 0;

        while (k < n && v[i][k] == v[0][k])
            k++;
        n = k;
    }
    return n;
}

/* libedit asks: the words before `start` and `text`, the word at the cursor. */
static char **attempt(const char *text, int start, int end)
{
    char *head = strndup(rl_line_buffer, (size_t)start), **words = NULL, **cands, **m;
    const char *p = head, *rest = NULL;
    int n = 0, count = 0;

    (void)end;
    rl_attempted_completion_over = 1;
    if (!head)
        return NULL;
    /* The words of the last command on the line. */
    for (;;) {
        if (vc_split(p, &words, &n, &rest) < 0) {
            free(head);
            return NULL;
        }
        if (!rest)
            break;
        vc_words_free(words, n);
        p = rest;
    }
    free(head);
    m = realloc(words, sizeof(*m) * (size_t)(n + 2));
    if (!m) {
        vc_words_free(words, n);
        return NULL;
    }
    words = m;
    words[n] = strdup(text);
    words[n + 1] = NULL;
    cands = words[n] ? vc_complete(shell_ctx, n + 1, words) : NULL;
    vc_words_free(words, n + 1);
    if (!cands) {
        /* A file name goes here: libedit's own completion does those. */
        rl_attempted_completion_over = 0;
        return NULL;
    }
    while (cands[count])
        count++;
    if (count == 0) {
        free(cands);
        return NULL;
    }
    /* The text to put in (the candidates' common prefix), then the
     * candidates, also when there is one: libedit reads m[2] to tell a
     * single match, which then gets its space. */
    m = malloc(sizeof(*m) * (size_t)(count + 2));
    if (!m) {
        vc_words_free(cands, count);
        return NULL;
    }
    m[0] = strndup(cands[0], common_prefix(cands));
    memcpy(m + 1, cands, sizeof(*m) * (size_t)(count + 1));
    free(cands);
    return m;
}

/* Runs the ';'-separated commands of a line; *quit set by quit or exit. */
static int run_line(struct vc_ctx *ctx, const char *line, bool *quit, int rc)
{
    const char *p = line, *rest;

    while (p && !*quit) {
        char **w;
        int n;

        if (vc_split(p, &w, &n, &rest) < 0)
            return 1;
        if (n > 0) {
            *quit = !strcmp(w[0], "quit") || !strcmp(w[0], "exit");
            rc = vc_run(ctx, n, w);
        }
        vc_words_free(w, n);
        p = rest;
    }
    return rc;
}

int vc_shell(struct vc_ctx *ctx)
{
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO), quit = false;
    char hist[PATH_MAX];
    bool have_hist = false;
    int rc = 0;

    ctx->shell = true;
    shell_ctx = ctx;
    if (!tty) {
        char *line = NULL;
        size_t cap = 0;

        while (!quit && getline(&line, &cap, stdin) > 0)
            rc = run_line(ctx, line, &quit, rc);
        free(line);
        return rc;
    }
    vc_info(ctx, "Welcome to vmctl, the kvm-stack interactive terminal.\n\n"
                 "Type:  'help' for help with commands\n"
                 "       'quit' to quit\n\n");
    rl_readline_name = "vmctl";
    rl_attempted_completion_function = attempt;
    using_history();
    stifle_history(HISTORY_LINES);
    have_hist = history_path(hist, sizeof(hist));
    if (have_hist)
        read_history(hist);
    while (!quit) {
        char *line = readline(ctx->readonly ? "vmctl > " : "vmctl # ");

        if (!line) {
            putchar('\n');
            break;
        }
        if (line[strspn(line, " \t")])
            add_history(line);
        rc = run_line(ctx, line, &quit, rc);
        free(line);
    }
    if (have_hist)
        write_history(hist);
    return rc;
}
