/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The global options, and completion of a command line's last word, for
 * the shell (libedit) and for bash (vmctl.bash runs "vmctl complete --
 * WORDS"): command names, a command's options, and domain names asked of
 * the daemon on the read-only socket (nothing is printed if it cannot be
 * reached: a completion that fails offers nothing).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

int vc_parse_escape(const char *s)
{
    if (s[0] == '^' && s[1] && !s[2] && (s[1] & 0x40))
        return s[1] & 0x1f;
    if (s[0] && !s[1] && s[0] != '^')
        return (unsigned char)s[0];
    return -1;
}

/* -c/--connect, -e/--escape: the value, from "-cX", "--connect=X" or the
 * next word. */
static const char *value(int n, char **words, int *i, const char *word, const char *opt)
{
    size_t len = strlen(opt);

    if (!strncmp(word, opt, len) && word[len] == '=')
        return word + len + 1;
    if (opt[1] != '-' && word[2])
        return word + 2;
    if (*i + 1 < n)
        return words[++*i];
    vc_error("option '%s' requires an argument", opt);
    return NULL;
}

int vc_global_words(struct vc_ctx *ctx, int n, char **words)
{
    int i;

    for (i = 0; i < n; i++) {
        const char *w = words[i], *v;
        int esc;

        if (!strcmp(w, "-r") || !strcmp(w, "--readonly")) {
            ctx->readonly = true;
        } else if (!strcmp(w, "-q") || !strcmp(w, "--quiet")) {
            ctx->quiet = true;
        } else if (!strcmp(w, "--json")) {
            ctx->json = true;
        } else if (!strncmp(w, "-c", 2) || !strncmp(w, "--connect", 9)) {
            if (w[1] == '-' && w[9] && w[9] != '=')
                break;
            v = value(n, words, &i, w, w[1] == '-' ? "--connect" : "-c");
            if (!v || vc_ctx_set_socket(ctx, v) < 0)
                return -1;
        } else if (!strncmp(w, "-e", 2) || !strncmp(w, "--escape", 8)) {
            if (w[1] == '-' && w[8] && w[8] != '=')
                break;
            v = value(n, words, &i, w, w[1] == '-' ? "--escape" : "-e");
            if (!v)
                return -1;
            esc = vc_parse_escape(v);
            if (esc < 0) {
                vc_error("--escape '%s': not a character or ^X for Ctrl-X", v);
                return -1;
            }
            ctx->escape = (unsigned char)esc;
        } else if (w[0] == '-' && w[1] && w[1] != '-' && strspn(w + 1, "rq") == strlen(w + 1)) {
            ctx->readonly |= strchr(w, 'r') != NULL;
            ctx->quiet |= strchr(w, 'q') != NULL;
        } else {
            break;
        }
    }
    return i;
}

/* ---- candidates ---- */

struct list {
    char **v;
    size_t n, cap;
};

static void add(struct list *l, const char *prefix, const char *s)
{
    char **v;

    if (strncmp(s, prefix, strlen(prefix)) != 0)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;

        v = realloc(l->v, sizeof(*v) * cap);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    if (l->v[l->n])
        l->n++;
    l->v[l->n] = NULL;
}

static void add_commands(const struct vc_ctx *ctx, struct list *l, const char *prefix, bool groups)
{
    for (const struct vc_group *g = vc_groups; g->keyword; g++) {
        if (groups)
            add(l, prefix, g->keyword);
        for (const struct vc_cmd *c = g->cmds; c->name; c++)
            if (!(c->flags & VC_CMD_HIDDEN) && (ctx->shell || !(c->flags & VC_CMD_SHELL)))
                add(l, prefix, c->name);
    }
}

static void add_domains(struct vc_ctx *ctx, struct list *l, const char *prefix, unsigned flags)
{
    const char *path = vc_conn_path(ctx, false);
    json_object *params = json_object_new_object(), *r, *all;
    struct md_client *c;
    char err[256];

    c = md_client_connect(path, err, sizeof(err));
    if (!c) {
        json_object_put(params);
        return;
    }
    json_object_object_add(params, "all", json_object_new_boolean(true));
    r = md_client_call(c, "domain.list", params);
    if (r && json_object_object_get_ex(r, "domains", &all)) {
        for (size_t i = 0; i < json_object_array_length(all); i++) {
            json_object *d = json_object_array_get_idx(all, i);
            bool off = !strcmp(vc_json_str(d, "state"), "shut off");

            if (((flags & VC_OPT_ACTIVE) && off) || ((flags & VC_OPT_INACTIVE) && !off))
                continue;
            add(l, prefix, vc_json_str(d, "name"));
        }
    }
    json_object_put(r);
    md_client_close(c);
}

static const struct vc_opt *find_opt(const struct vc_cmd *cmd, const char *word)
{
    size_t len;

    if (strncmp(word, "--", 2) != 0)
        return NULL;
    word += 2;
    len = strcspn(word, "=");
    for (const struct vc_opt *o = cmd->opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, word, len))
            return o;
    return NULL;
}

/* The candidates for option o's value; true if they are file names. */
static bool add_values(struct vc_ctx *ctx, struct list *l, const char *prefix,
                       const struct vc_opt *o)
{
    if (o->flags & (VC_OPT_DOMAIN | VC_OPT_ACTIVE | VC_OPT_INACTIVE))
        add_domains(ctx, l, prefix, o->flags);
    else if (o->flags & VC_OPT_GROUP)
        add_commands(ctx, l, prefix, true);
    return (o->flags & VC_OPT_FILE) != 0;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* NULL for a file name (the caller completes those), else the list in
 * order, empty when nothing fits. */
static char **done(struct list *l, bool files)
{
    if (files) {
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
        return NULL;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(l->v[0]), by_text);
    return l->v ? l->v : calloc(1, sizeof(char *));
}

char **vc_complete(struct vc_ctx *ctx, int n, char **words)
{
    const char *cur = n > 0 ? words[n - 1] : "";
    const struct vc_cmd *cmd;
    struct list l = { 0 };
    int first;
    const struct vc_opt *o;
    bool used[VC_MAX_OPTS] = { false };

    if (n <= 0)
        return done(&l, false);
    /* Global options before the command (-c SOCKET chooses the daemon). */
    first = vc_global_words(ctx, n - 1, words);
    if (first < 0)
        return done(&l, false);
    if (first == n - 1) {
        if (cur[0] == '-') {
            static const char *const globals[] = { "--connect", "--readonly", "--quiet",
                                                   "--escape",  "--json",     "--help",
                                                   "--version", NULL };

            for (int i = 0; globals[i]; i++)
                add(&l, cur, globals[i]);
        } else {
            add_commands(ctx, &l, cur, false);
        }
        return done(&l, false);
    }
    cmd = vc_cmd_find(words[first]);
    if (!cmd || (cmd->flags & VC_CMD_WORDS))
        return done(&l, false);
    /* What the words so far filled: options by name, and the positional
     * ones in order. */
    for (int i = first + 1; i < n - 1; i++) {
        o = find_opt(cmd, words[i]);
        if (o) {
            used[o - cmd->opts] = true;
            if (o->kind != VC_OPT_BOOL && !strchr(words[i], '=')) {
                if (i + 1 == n - 1)
                    return done(&l, add_values(ctx, &l, cur, o));
                i++;
            }
        } else if (words[i][0] != '-') {
            for (o = cmd->opts; o && o->name; o++)
                if ((o->flags & VC_OPT_POSITIONAL) && !used[o - cmd->opts]) {
                    used[o - cmd->opts] = true;
                    break;
                }
        }
    }
    if (cur[0] == '-') {
        for (o = cmd->opts; o && o->name; o++)
            if (!used[o - cmd->opts]) {
                char opt[64];

                snprintf(opt, sizeof(opt), "--%s", o->name);
                add(&l, cur, opt);
            }
        if (cmd->flags & VC_CMD_QUERY)
            add(&l, cur, "--json");
        return done(&l, false);
    }
    /* The positional option this word would fill. */
    for (o = cmd->opts; o && o->name; o++)
        if ((o->flags & VC_OPT_POSITIONAL) && !used[o - cmd->opts])
            return done(&l, add_values(ctx, &l, cur, o));
    return done(&l, false);
}
