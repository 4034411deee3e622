/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A command's words as virsh reads them: "--name value", "--name=value",
 * and the positional options in order without their names ("start demo"
 * is "start --domain demo"); "--" makes every later word positional.
 * Also the shell's line splitting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

static int find_opt(const struct vc_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && !strncmp(cmd->opts[i].name, name, len))
            return i;
    return -1;
}

static int set_value(const struct vc_cmd *cmd, struct vc_args *a, int i, const char *value)
{
    const struct vc_opt *o = &cmd->opts[i];

    if (o->kind == VC_OPT_NUMBER) {
        char *end;
        long v;

        errno = 0;
        v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < 0) {
            vc_error("Numeric value '%s' for <%s> option is malformed or out of range", value,
                     o->name);
            return -1;
        }
        a->num[i] = v;
    }
    a->str[i] = value;
    a->set[i] = true;
    return 0;
}

int vc_args_parse(const struct vc_cmd *cmd, int argc, char **argv, struct vc_args *a)
{
    bool only_data = false;

    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    for (int w = 1; w < argc; w++) {
        const char *word = argv[w];

        if (!only_data && !strcmp(word, "--")) {
            only_data = true;
        } else if (!only_data && word[0] == '-' && word[1] == '-' && word[2]) {
            const char *name = word + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            int i = find_opt(cmd, name, len);

            if (i < 0 && len == 4 && !strncmp(name, "json", 4) && (cmd->flags & VC_CMD_QUERY) &&
                !eq) {
                a->json = true;
                continue;
            }
            if (i < 0) {
                vc_error("command '%s' doesn't support option --%.*s", cmd->name, (int)len, name);
                return -1;
            }
            if (a->set[i]) {
                vc_error("option --%s already provided", cmd->opts[i].name);
                return -1;
            }
            if (cmd->opts[i].kind == VC_OPT_BOOL) {
                if (eq) {
                    vc_error("option --%s takes no value", cmd->opts[i].name);
                    return -1;
                }
                a->set[i] = true;
                continue;
            }
            if (!eq && w + 1 >= argc) {
                vc_error("expected syntax: --%s <%s>", cmd->opts[i].name,
                         cmd->opts[i].kind == VC_OPT_NUMBER ? "number" : "string");
                return -1;
            }
            if (set_value(cmd, a, i, eq ? eq + 1 : argv[++w]) < 0)
                return -1;
        } else {
            int i;

            for (i = 0; cmd->opts && cmd->opts[i].name; i++)
                if ((cmd->opts[i].flags & VC_OPT_POSITIONAL) && !a->set[i])
                    break;
            if (!cmd->opts || !cmd->opts[i].name) {
                vc_error("unexpected data '%s'", word);
                return -1;
            }
            if (set_value(cmd, a, i, word) < 0)
                return -1;
        }
    }
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if ((cmd->opts[i].flags & VC_OPT_REQUIRED) && !a->set[i]) {
            vc_error("command '%s' requires <%s> option", cmd->name, cmd->opts[i].name);
            return -1;
        }
    return 0;
}

static int index_of(const struct vc_args *a, const char *name)
{
    int i = find_opt(a->cmd, name, strlen(name));

    if (i < 0) {
        /* A command asking for an option it does not declare is a bug. */
        vc_error("internal: command '%s' has no option --%s", a->cmd->name, name);
        abort();
    }
    return i;
}

bool vc_flag(const struct vc_args *a, const char *name)
{
    return a->set[index_of(a, name)];
}

const char *vc_str(const struct vc_args *a, const char *name)
{
    int i = index_of(a, name);

    return a->set[i] ? a->str[i] : NULL;
}

long vc_num(const struct vc_args *a, const char *name, long dflt)
{
    int i = index_of(a, name);

    return a->set[i] ? a->num[i] : dflt;
}

/* ---- the shell's lines ---- */

void vc_words_free(char **words, int n)
{
    for (int i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

static int push(char ***words, int *n, char *w)
{
    char **v = realloc(*words, sizeof(*v) * (size_t)(*n + 2));

    if (!v) {
        free(w);
        return -1;
    }
    v[(*n)++] = w;
    v[*n] = NULL;
    *words = v;
    return 0;
}

int vc_split(const char *line, char ***words, int *n, const char **rest)
{
    const char *p = line;

    *words = NULL;
    *n = 0;
    *rest = NULL;
    for (;;) {
        char *w, *o;
        char quote = 0;
        bool any = false;

        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            return 0;
        if (*p == ';') {
            *rest = p + 1;
            return 0;
        }
        w = o = malloc(strlen(p) + 1);
        if (!w)
            goto fail;
        for (; *p; p++) {
            if (quote) {
                if (*p == quote)
                    quote = 0;
                else if (*p == '\\' && quote == '"' && p[1])
                    *o++ = *++p;
                else
                    *o++ = *p;
                continue;
            }
            if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';')
                break;
            any = true;
            if (*p == '\'' || *p == '"')
                quote = *p;
            else if (*p == '\\' && p[1])
                *o++ = *++p;
            else
                *o++ = *p;
        }
        if (quote) {
            free(w);
            vc_error("unterminated quote (%c)", quote);
            goto fail;
        }
        *o = '\0';
        if (any && push(words, n, w) < 0)
            goto fail;
        if (!any)
            free(w);
    }

fail:
    vc_words_free(*words, *n);
    *words = NULL;
    *n = 0;
    return -1;
}
