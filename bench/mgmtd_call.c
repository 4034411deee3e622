/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/mgmtd's stand-in for vmctl until vmctl is in the tree: one process
 * per request, as an admin typing a command. Connects, makes one call
 * through the client library (mgmtd/client), prints the answer as virsh
 * prints it, exits. The same command line as vmctl's:
 *
 *   mgmtd-call [-c SOCKET] list [--all] | dominfo DOMAIN | domstate DOMAIN
 *                          | start DOMAIN | destroy DOMAIN
 *
 * Exit status 0, or 1 with the daemon's message on stderr.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

static const char *str(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int64_t num(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static bool flag(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static void print_list(json_object *r)
{
    json_object *list = NULL;
    size_t n, width = 4;

    json_object_object_get_ex(r, "domains", &list);
    n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(str(json_object_array_get_idx(list, i), "name"));

        if (w > width)
            width = w;
    }
    printf(" %-4s %-*s   %s\n", "Id", (int)width, "Name", "State");
    for (size_t i = 0; i < width + 21; i++)
        putchar('-');
    putchar('\n');
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(list, i);
        int64_t id = num(d, "id");

        if (id > 0)
            printf(" %-4" PRId64 " %-*s   %s\n", id, (int)width, str(d, "name"), str(d, "state"));
        else
            printf(" %-4s %-*s   %s\n", "-", (int)width, str(d, "name"), str(d, "state"));
    }
    putchar('\n');
}

static void print_info(json_object *r)
{
    int64_t id = num(r, "id");
    long long cpu = (long long)num(r, "cpu_time_ns");

    if (id > 0)
        printf("%-15s %" PRId64 "\n", "Id:", id);
    else
        printf("%-15s -\n", "Id:");
    printf("%-15s %s\n", "Name:", str(r, "name"));
    printf("%-15s %s\n", "UUID:", str(r, "uuid"));
    printf("%-15s %s\n", "OS Type:", str(r, "os_type"));
    printf("%-15s %s\n", "State:", str(r, "state"));
    printf("%-15s %" PRId64 "\n", "CPU(s):", num(r, "vcpus"));
    if (id > 0)
        printf("%-15s %.1fs\n", "CPU time:", (double)cpu / 1e9);
    printf("%-15s %" PRId64 " KiB\n", "Max memory:", num(r, "max_memory_kib"));
    printf("%-15s %" PRId64 " KiB\n", "Used memory:", num(r, "memory_kib"));
    printf("%-15s %s\n", "Persistent:", flag(r, "persistent") ? "yes" : "no");
    printf("%-15s %s\n", "Autostart:", flag(r, "autostart") ? "enable" : "disable");
    putchar('\n');
}

static int usage(void)
{
    fputs("usage: mgmtd-call [-c SOCKET] list [--all] | dominfo DOMAIN | domstate DOMAIN\n"
          "                               | start DOMAIN | destroy DOMAIN\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *sock = MD_CLIENT_SYSTEM_SOCKET, *cmd, *method;
    json_object *params = NULL, *r;
    struct md_client *c;
    char err[512];
    int i = 1;

    if (argc > 2 && !strcmp(argv[1], "-c")) {
        sock = argv[2];
        i = 3;
    }
    if (i >= argc)
        return usage();
    cmd = argv[i++];
    if (!strcmp(cmd, "list")) {
        method = "domain.list";
        params = json_object_new_object();
        if (i < argc && !strcmp(argv[i], "--all")) {
            json_object_object_add(params, "all", json_object_new_boolean(true));
            i++;
        }
        if (i != argc)
            return usage();
    } else {
        if (!strcmp(cmd, "dominfo"))
            method = "domain.get_info";
        else if (!strcmp(cmd, "domstate"))
            method = "domain.get_state";
        else if (!strcmp(cmd, "start"))
            method = "domain.start";
        else if (!strcmp(cmd, "destroy"))
            method = "domain.destroy";
        else
            return usage();
        if (i + 1 != argc)
            return usage();
        params = json_object_new_object();
        json_object_object_add(params, "domain", json_object_new_string(argv[i]));
    }
    c = md_client_connect(sock, err, sizeof(err));
    if (!c) {
        json_object_put(params);
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    r = md_client_call(c, method, params);
    if (!r) {
        fprintf(stderr, "error: %s\n", md_client_error(c));
        md_client_close(c);
        return 1;
    }
    if (!strcmp(cmd, "list"))
        print_list(r);
    else if (!strcmp(cmd, "dominfo"))
        print_info(r);
    else if (!strcmp(cmd, "domstate"))
        printf("%s\n\n", str(r, "state"));
    else if (!strcmp(cmd, "start"))
        printf("Domain '%s' started\n\n", argv[argc - 1]);
    else
        printf("Domain '%s' destroyed\n\n", argv[argc - 1]);
    json_object_put(r);
    md_client_close(c);
    return 0;
}
