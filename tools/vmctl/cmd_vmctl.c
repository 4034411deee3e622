/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmctl itself: help, the shell's quit and exit, and complete (for bash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

static bool listed(const struct vc_ctx *ctx, const struct vc_cmd *c)
{
    return !(c->flags & VC_CMD_HIDDEN) && (ctx->shell || !(c->flags & VC_CMD_SHELL));
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct vc_cmd *const *)a)->name,
                  (*(const struct vc_cmd *const *)b)->name);
}

/* One keyword's commands, from every table that has it, by name. */
static void list_keyword(const struct vc_ctx *ctx, const struct vc_group *first)
{
    const struct vc_cmd *v[64];
    unsigned n = 0;

    for (const struct vc_group *g = first; g->keyword; g++) {
        if (strcmp(g->keyword, first->keyword) != 0)
            continue;
        for (const struct vc_cmd *c = g->cmds; c->name && n < 64; c++)
            if (listed(ctx, c))
                v[n++] = c;
    }
    qsort(v, n, sizeof(v[0]), by_name);
    printf(" %s (help keyword '%s'):\n", first->title, first->keyword);
    for (unsigned i = 0; i < n; i++)
        printf("    %-30s %s\n", v[i]->name, v[i]->summary);
    putchar('\n');
}

void vc_help_list(const struct vc_ctx *ctx, const char *keyword)
{
    if (!keyword)
        printf("Grouped commands:\n\n");
    for (const struct vc_group *g = vc_groups; g->keyword; g++) {
        /* Each keyword once, where it first appears. */
        const struct vc_group *e = vc_groups;

        while (strcmp(e->keyword, g->keyword) != 0)
            e++;
        if (e == g && (!keyword || !strcmp(keyword, g->keyword)))
            list_keyword(ctx, g);
    }
}

static void option_words(const struct vc_opt *o, char *buf, size_t len, bool synopsis)
{
    const char *arg = o->kind == VC_OPT_NUMBER ? "<number>" : "<string>";

    if (o->kind == VC_OPT_BOOL)
        snprintf(buf, len, synopsis ? "[--%s]" : "--%s", o->name);
    else if (synopsis && (o->flags & VC_OPT_POSITIONAL))
        snprintf(buf, len, (o->flags & VC_OPT_REQUIRED) ? "<%s>" : "[<%s>]", o->name);
    else if (synopsis)
        snprintf(buf, len, (o->flags & VC_OPT_REQUIRED) ? "--%s %s" : "[--%s %s]", o->name, arg);
    else if (o->flags & VC_OPT_POSITIONAL)
        snprintf(buf, len, "[--%s] %s", o->name, arg);
    else
        snprintf(buf, len, "--%s %s", o->name, arg);
}

static void help_command(const struct vc_cmd *c)
{
    const char *d = c->description;
    char words[128];

    printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n    %s", c->name, c->summary, c->name);
    for (const struct vc_opt *o = c->opts; o && o->name; o++) {
        option_words(o, words, sizeof(words), true);
        printf(" %s", words);
    }
    if (c->flags & VC_CMD_QUERY)
        printf(" [--json]");
    printf("\n\n  DESCRIPTION\n");
    while (d && *d) {
        size_t n = strcspn(d, "\n");

        printf("    %.*s\n", (int)n, d);
        d += n + (d[n] == '\n');
    }
    if ((c->opts && c->opts[0].name) || (c->flags & VC_CMD_QUERY)) {
        printf("\n  OPTIONS\n");
        for (const struct vc_opt *o = c->opts; o && o->name; o++) {
            option_words(o, words, sizeof(words), false);
            printf("    %-15s  %s\n", words, o->help);
        }
        if (c->flags & VC_CMD_QUERY)
            printf("    %-15s  %s\n", "--json", "print the result as JSON, for scripts");
    }
}

static int cmd_help(struct vc_ctx *ctx, const struct vc_args *a)
{
    const char *what = vc_str(a, "command");
    const struct vc_cmd *c;

    if (!what) {
        vc_help_list(ctx, NULL);
        return 0;
    }
    c = vc_cmd_find(what);
    if (c && listed(ctx, c)) {
        help_command(c);
        return 0;
    }
    if (vc_group_find(what)) {
        vc_help_list(ctx, what);
        return 0;
    }
    vc_error("command or command group '%s' doesn't exist", what);
    return 1;
}

static int cmd_quit(struct vc_ctx *ctx, const struct vc_args *a)
{
    (void)ctx;
    (void)a;
    return 0; /* the shell stops after it */
}

static int cmd_complete(struct vc_ctx *ctx, const struct vc_args *a)
{
    int first = 1;
    char **v;

    /* complete -- WORDS...: the candidates for the last word, one a line. */
    if (a->argc > 1 && !strcmp(a->argv[1], "--"))
        first = 2;
    if (a->argc <= first)
        return 0;
    v = vc_complete(ctx, a->argc - first, a->argv + first);
    for (int i = 0; v && v[i]; i++) {
        printf("%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return 0;
}

static const struct vc_opt help_opts[] = {
    { "command", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_GROUP,
      "Prints global help, command "
      "specific help, or help for a "
      "group of related commands" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt no_opts[] = {
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_vmctl[] = {
    { "help", VC_CMD_LOCAL, "print help",
      "Prints global help, command specific help, or help for a group of related\n"
      "commands.",
      help_opts, cmd_help },
    { "quit", VC_CMD_LOCAL | VC_CMD_SHELL | VC_CMD_RAW, "quit this interactive terminal",
      "Quit this interactive terminal.", no_opts, cmd_quit },
    { "exit", VC_CMD_LOCAL | VC_CMD_SHELL | VC_CMD_RAW, "quit this interactive terminal",
      "Quit this interactive terminal.", no_opts, cmd_quit },
    { "complete", VC_CMD_LOCAL | VC_CMD_HIDDEN | VC_CMD_RAW | VC_CMD_WORDS,
      "complete a command line",
      "Prints the candidates for the last of the words after \"--\", one a line: what\n"
      "the bash completion (vmctl.bash) asks.",
      no_opts, cmd_complete },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
