/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmctl [OPTIONS] [COMMAND [ARGS...]]: one command, or with none the
 * interactive shell. Exit status 0 on success, 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmctl.h"

static void usage(FILE *f, const struct vc_ctx *ctx)
{
    fprintf(f,
            "\n"
            "vmctl [options]... [<command> [args...]]\n"
            "\n"
            "  With no command, an interactive shell.\n"
            "\n"
            "  options:\n"
            "    -c | --connect=SOCKET   mgmtd's socket (default: $VMCTL_CONNECT, else\n"
            "                            %s); commands that change\n"
            "                            nothing use its read-only sibling (X-ro.sock)\n"
            "    -e | --escape <char>    set escape sequence for console (default ^])\n"
            "    -h | --help             this help\n"
            "    -q | --quiet            quiet mode\n"
            "    -r | --readonly         connect readonly\n"
            "    -v | --version          program version\n"
            "         --json             query commands print JSON\n"
            "\n"
            "  commands (non interactive mode):\n"
            "\n",
            MD_CLIENT_SYSTEM_SOCKET);
    if (f == stdout)
        vc_help_list(ctx, NULL);
    fprintf(f, "  (specify help <group> for details about the commands in the group)\n"
               "  (specify help <command> for details about the command)\n\n");
}

int main(int argc, char **argv)
{
    struct vc_ctx ctx = { .escape = 0x1d };
    const char *env = getenv("VMCTL_CONNECT");
    int used, rc;

    if (vc_ctx_set_socket(&ctx, env && *env ? env : NULL) < 0)
        return 1;
    used = vc_global_words(&ctx, argc - 1, argv + 1);
    if (used < 0)
        return 1;
    argc -= used + 1;
    argv += used + 1;
    if (argc > 0 && argv[0][0] == '-') {
        if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
            usage(stdout, &ctx);
            return 0;
        }
        if (!strcmp(argv[0], "-v") || !strcmp(argv[0], "--version")) {
            printf("%s\n", KVMSTACK_VERSION);
            return 0;
        }
        vc_error("unsupported option '%s'. See --help.", argv[0]);
        return 1;
    }
    if (argc == 0)
        rc = vc_shell(&ctx);
    else
        rc = vc_run(&ctx, argc, argv);
    vc_ctx_close(&ctx);
    return rc;
}
