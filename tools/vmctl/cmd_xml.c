/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Definitions as XML: define, create, dumpxml, edit. `define --validate`
 * checks the file against schemas/domain.rng here, before it is sent; the
 * daemon checks every definition again (schema and meaning) either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/schema.h"
#include "vmctl.h"

#define MAX_XML (4u << 20)

/* A file's text (malloc'd, NUL-terminated), or NULL with the error printed. */
static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;

    if (!f) {
        vc_error("Failed to open file '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_XML + 1);
    if (!buf) {
        fclose(f);
        vc_error("out of memory");
        return NULL;
    }
    n = fread(buf, 1, MAX_XML + 1, f);
    if (ferror(f) || n > MAX_XML) {
        vc_error("Failed to read file '%s': %s", path,
                 ferror(f) ? strerror(errno) : "larger than 4 MiB");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int validate(const char *file, const char *xml, size_t len, const char *fail)
{
    struct md_err err;

    md_err_clear(&err);
    if (md_schema_validate_string(NULL, xml, len, &err) < 0) {
        vc_error("%s", fail);
        vc_error("%s does not validate against the domain schema: %s", file, err.msg);
        return -1;
    }
    return 0;
}

static int cmd_define(struct vc_ctx *ctx, const struct vc_args *a)
{
    const char *file = vc_str(a, "file");
    json_object *params, *r;
    char fail[PATH_MAX + 64];
    size_t len;
    char *xml = read_text(file, &len);

    if (!xml)
        return 1;
    snprintf(fail, sizeof(fail), "Failed to define domain from %s", file);
    if (vc_flag(a, "validate") && validate(file, xml, len, fail) < 0) {
        free(xml);
        return 1;
    }
    params = json_object_new_object();
    json_object_object_add(params, "xml", json_object_new_string_len(xml, (int)len));
    free(xml);
    r = vc_call(ctx, true, "domain.define", params, fail);
    if (!r)
        return 1;
    vc_info(ctx, "Domain '%s' defined from %s\n", vc_json_str(r, "name"), file);
    json_object_put(r);
    return 0;
}

static int cmd_create(struct vc_ctx *ctx, const struct vc_args *a)
{
    const char *file = vc_str(a, "file");
    bool console = vc_flag(a, "console"), paused = vc_flag(a, "paused");
    json_object *params, *r;
    char fail[PATH_MAX + 64];
    size_t len;
    char *xml = read_text(file, &len);
    int rc = 0;

    if (!xml)
        return 1;
    snprintf(fail, sizeof(fail), "Failed to create domain from %s", file);
    if (vc_flag(a, "validate") && validate(file, xml, len, fail) < 0) {
        free(xml);
        return 1;
    }
    params = json_object_new_object();
    json_object_object_add(params, "xml", json_object_new_string_len(xml, (int)len));
    /* With the console: paused until it is attached. */
    json_object_object_add(params, "paused", json_object_new_boolean(paused || console));
    free(xml);
    r = vc_call(ctx, true, "domain.create", params, fail);
    if (!r)
        return 1;
    vc_info(ctx, "Domain '%s' created from %s\n", vc_json_str(r, "name"), file);
    if (console)
        rc = vc_console_attach_resume(ctx, r, !paused, vc_flag(a, "force"));
    json_object_put(r);
    return rc;
}

static int cmd_dumpxml(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *params = json_object_new_object(), *r;
    const char *xml;

    json_object_object_add(params, "inactive", json_object_new_boolean(vc_flag(a, "inactive")));
    r = vc_domain_call(ctx, false, "domain.get_xml", vc_str(a, "domain"), params, NULL);
    if (!r)
        return 1;
    if (a->json) {
        vc_print_json(r);
    } else {
        xml = vc_json_str(r, "xml");
        fputs(xml, stdout);
        if (*xml && xml[strlen(xml) - 1] != '\n')
            putchar('\n');
    }
    json_object_put(r);
    return 0;
}

/* ---- edit ---- */

/* Runs the editor on path, waiting for it: 0, or -1 with the error. */
static int run_editor(const char *path)
{
    const char *editor = getenv("VISUAL");
    struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
    char *cmd;
    pid_t pid;
    int status;

    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    /* The editor's own words may hold options ("emacs -nw"). */
    if (asprintf(&cmd, "%s \"$1\"", editor) < 0) {
        vc_error("out of memory");
        return -1;
    }
    fflush(stdout);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    if (pid < 0) {
        vc_error("cannot run the editor '%s': %s", editor, strerror(errno));
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            vc_error("the editor '%s' failed (exit status %d); nothing was changed", editor,
                     WEXITSTATUS(status));
        else
            vc_error("the editor '%s' was killed by signal %d; nothing was changed", editor,
                     WTERMSIG(status));
        return -1;
    }
    return 0;
}

/* After a refused edit: true to edit again. Reads the answer from stdin
 * (a terminal or not); end of input is "no". */
static bool try_again(void)
{
    char line[64];

    for (;;) {
        printf("Failed. Try again? [y,n,?]: ");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin)) {
            putchar('\n');
            return false;
        }
        if (line[0] == 'y' || line[0] == 'Y')
            return true;
        if (line[0] == 'n' || line[0] == 'N')
            return false;
        if (line[0] == '?')
            printf("y - yes, start editor again\n"
                   "n - no, throw away my changes\n"
                   "? - print this help\n");
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int edit(struct vc_ctx *ctx, json_object *dom, const char *orig, char *path)
{
    const char *name = vc_json_str(dom, "name");

    for (;;) {
        json_object *params, *r;
        size_t len;
        char *xml;

        if (run_editor(path) < 0)
            return 1;
        xml = read_text(path, &len);
        if (!xml)
            return 1;
        if (!strcmp(xml, orig)) {
            free(xml);
            vc_info(ctx, "Domain '%s' XML configuration not changed.\n", name);
            return 0;
        }
        params = json_object_new_object();
        json_object_object_add(params, "xml", json_object_new_string_len(xml, (int)len));
        free(xml);
        r = vc_call(ctx, true, "domain.define", params, NULL);
        if (r) {
            vc_info(ctx, "Domain '%s' XML configuration edited.\n", vc_json_str(r, "name"));
            json_object_put(r);
            return 0;
        }
        /* The daemon refused it (the message is printed): nothing was
         * applied; the admin's text is kept for the next try. */
        if (!try_again())
            return 1;
    }
}

static int cmd_edit(struct vc_ctx *ctx, const struct vc_args *a)
{
    json_object *dom = vc_domain(ctx, true, vc_str(a, "domain")), *params, *r;
    const char *tmpdir = getenv("TMPDIR"), *xml;
    char path[PATH_MAX];
    int fd, rc;

    if (!dom)
        return 1;
    params = json_object_new_object();
    json_object_object_add(params, "domain", json_object_new_string(vc_json_str(dom, "uuid")));
    json_object_object_add(params, "inactive", json_object_new_boolean(true));
    r = vc_call(ctx, true, "domain.get_xml", params, NULL);
    if (!r) {
        json_object_put(dom);
        return 1;
    }
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    snprintf(path, sizeof(path), "%s/vmctl-%s-XXXXXX.xml", tmpdir, vc_json_str(dom, "name"));
    fd = mkstemps(path, 4);
    xml = vc_json_str(r, "xml");
    if (fd < 0 || write_all(fd, xml, strlen(xml)) < 0 || close(fd) < 0) {
        vc_error("cannot write a temporary copy %s: %s", path, strerror(errno));
        if (fd >= 0)
            unlink(path);
        json_object_put(r);
        json_object_put(dom);
        return 1;
    }
    rc = edit(ctx, dom, xml, path);
    unlink(path);
    json_object_put(r);
    json_object_put(dom);
    return rc;
}

static const struct vc_opt define_opts[] = {
    { "file", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_FILE,
      "file containing an XML domain description" },
    { "validate", VC_OPT_BOOL, 0, "validate the XML against the schema" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt create_opts[] = {
    { "file", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_FILE,
      "file containing an XML domain description" },
    { "console", VC_OPT_BOOL, 0, "attach to console after creation" },
    { "paused", VC_OPT_BOOL, 0, "leave the guest paused after creation" },
    { "validate", VC_OPT_BOOL, 0, "validate the XML against the schema" },
    { "force", VC_OPT_BOOL, 0, "with --console: take the console over from another session" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt dumpxml_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { "inactive", VC_OPT_BOOL, 0, "show inactive defined XML" },
    { NULL, 0, 0, NULL },
};

static const struct vc_opt edit_opts[] = {
    { "domain", VC_OPT_STRING, VC_OPT_POSITIONAL | VC_OPT_REQUIRED | VC_OPT_DOMAIN,
      "domain name, id or uuid" },
    { NULL, 0, 0, NULL },
};

const struct vc_cmd vc_cmds_xml[] = {
    { "define", 0, "define (but don't start) a domain from an XML file",
      "Define a domain: a new one, or a new definition of an existing one (a running\n"
      "domain uses it at its next start).",
      define_opts, cmd_define },
    { "create", 0, "create a domain from an XML file",
      "Create a transient domain and start it: it is gone when it stops.", create_opts,
      cmd_create },
    { "dumpxml", VC_CMD_QUERY, "domain information in XML",
      "Output the domain information as an XML dump to stdout: what runs, or with\n"
      "--inactive (or when shut off) the definition of its next start.",
      dumpxml_opts, cmd_dumpxml },
    { "edit", 0, "edit XML configuration for a domain",
      "Edit the XML configuration for a domain in $VISUAL or $EDITOR (default vi), on a\n"
      "temporary copy. The result is defined only if the daemon accepts it; a refused\n"
      "edit is shown with the reason and offered again.",
      edit_opts, cmd_edit },
    { NULL, 0, NULL, NULL, NULL, NULL },
};
