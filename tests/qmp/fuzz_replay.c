/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz-qmp-replay FILE|DIR...: runs each input (every file of a directory,
 * in name order) through the fuzz target once, without libFuzzer: the
 * seed corpus and any crash that was fixed stay regression tests in the
 * unit suite. TAP, one line per input; a violation aborts (the run fails
 * with the input's name as the last line printed).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_qmp.h"

#define MAX_INPUTS      4096
#define MAX_INPUT_BYTES (4u << 20)

static char *inputs[MAX_INPUTS];
static unsigned ninputs;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        printf("Bail out! %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;

        if (!d) {
            printf("Bail out! %s: %s\n", path, strerror(errno));
            return -1;
        }
        while ((e = readdir(d))) {
            char *p;

            if (e->d_name[0] == '.')
                continue;
            if (asprintf(&p, "%s/%s", path, e->d_name) < 0 || add(p) < 0) {
                closedir(d);
                return -1;
            }
            free(p);
        }
        closedir(d);
        return 0;
    }
    if (ninputs == MAX_INPUTS) {
        printf("Bail out! more than %d inputs\n", MAX_INPUTS);
        return -1;
    }
    inputs[ninputs++] = strdup(path);
    return 0;
}

static int replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    size_t n;

    if (!f) {
        printf("# %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(MAX_INPUT_BYTES);
    n = buf ? fread(buf, 1, MAX_INPUT_BYTES, f) : 0;
    fclose(f);
    if (!buf || n == MAX_INPUT_BYTES) {
        printf("# %s: %s\n", path, buf ? "larger than 4 MiB" : "out of memory");
        free(buf);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: fuzz-qmp-replay FILE|DIR...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (add(argv[i]) < 0)
            return 1;
    if (ninputs == 0) {
        printf("Bail out! no inputs in %s\n", argv[1]);
        return 1;
    }
    qsort(inputs, ninputs, sizeof(inputs[0]), cmp_str);
    printf("1..%u\n", ninputs);
    for (unsigned i = 0; i < ninputs; i++) {
        const char *name = strrchr(inputs[i], '/') ? strrchr(inputs[i], '/') + 1 : inputs[i];

        /* Named before it runs: an abort leaves it as the last line. */
        printf("# replaying %s\n", inputs[i]);
        fflush(stdout);
        if (replay(inputs[i]) < 0) {
            printf("not ok %u - %s\n", i + 1, name);
            failed = 1;
        } else {
            printf("ok %u - %s: replies well-formed, the same in one read and cut\n", i + 1, name);
        }
        free(inputs[i]);
    }
    return failed;
}
