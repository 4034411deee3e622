/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_fixture.h"
#include "testutil.h"

const char *const fixture_host_lacks[] = { "avx512f", "la57", "waitpkg", NULL };

static int fake_has(void *opaque, const char *name, struct md_err *err)
{
    struct fixture *f = opaque;

    (void)err;
    f->host_calls++;
    for (const char *const *p = fixture_host_lacks; *p; p++)
        if (!strcmp(*p, name))
            return 0;
    return 1;
}

static int counting_random(void *opaque, void *buf, size_t len)
{
    struct fixture *f = opaque;
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++)
        p[i] = f->next_random++;
    return 0;
}

void fixture_init(struct fixture *f)
{
    struct md_err err = { 0 };

    memset(f, 0, sizeof(*f));
    f->next_random = 0x10;
    f->host = (struct md_host_cpu){ fake_has, f };
    f->schema = md_schema_new(&err);
    ck_assert_msg(f->schema, "the built-in schema does not compile: %s", err.msg);
    f->opts = (struct md_parse_opts){
        .schema = f->schema,
        .host_cpu = &f->host,
        .emulator = FIXTURE_EMULATOR,
        .random = counting_random,
        .random_opaque = f,
    };
}

void fixture_fini(struct fixture *f)
{
    md_schema_free(f->schema);
    f->schema = NULL;
}

char *fixture_read(const char *path, bool may_be_missing, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!fp && may_be_missing && errno == ENOENT)
        return NULL;
    ck_assert_msg(fp, "%s: %s", path, strerror(errno));
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        size_t got = fread(buf + n, 1, 4096, fp);

        n += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

void fixture_write(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    ck_assert_msg(fp, "%s: %s", path, strerror(errno));
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

const char *fixture_path(char *buf, size_t size, const char *sub, const char *name)
{
    snprintf(buf, size, "%s/%s/%s", CORPUS_DIR, sub, name);
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

unsigned fixture_list(const char *sub, const char *suffix, const char *const **names)
{
    size_t slen = strlen(suffix);
    char dir[512];
    struct dirent *e;
    char **list = NULL;
    unsigned n = 0;
    DIR *d;

    d = opendir(fixture_path(dir, sizeof(dir), sub, ""));
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        abort();
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);

        if (len <= slen || strcmp(e->d_name + len - slen, suffix) ||
            (len > 8 && !strcmp(e->d_name + len - 8, ".out.xml")))
            continue;
        list = realloc(list, (n + 1) * sizeof(*list));
        if (!list)
            abort();
        list[n] = strndup(e->d_name, len - slen);
        if (!list[n])
            abort();
        n++;
    }
    closedir(d);
    qsort(list, n, sizeof(*list), by_name);
    *names = (const char *const *)list;
    return n;
}

bool fixture_regenerate(void)
{
    const char *v = getenv("MD_CORPUS_REGENERATE");

    return v && !strcmp(v, "1");
}
