/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootinfo_host.h"
#include "memmap.h"

void bi_tmp_init(struct bi_tmp *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/kvmemu-boot-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

const char *bi_tmp_path(const struct bi_tmp *t, const char *name)
{
    static char path[8][512];
    static unsigned next;
    char *p = path[next++ % 8];

    snprintf(p, sizeof(path[0]), "%s/%s", t->dir, name);
    return p;
}

void bi_tmp_cleanup(struct bi_tmp *t)
{
    DIR *d;
    struct dirent *de;

    if (!t->dir[0])
        return;
    d = opendir(t->dir);
    if (d) {
        while ((de = readdir(d))) {
            char p[600];

            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
    t->dir[0] = '\0';
}

uint32_t bi_fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* The same formula as tests/guests/bootinfo.h's bi_pattern(). */
uint8_t bi_pattern(size_t i)
{
    return (uint8_t)(i * 167u + (i >> 9) * 13u + 0x5au);
}

void bi_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    ck_assert_msg(fd >= 0, "cannot create %s", path);
    ck_assert_msg(write(fd, data, len) == (ssize_t)len, "cannot write %s", path);
    close(fd);
}

uint32_t bi_write_pattern(const char *path, size_t len)
{
    uint8_t *buf = malloc(len);
    uint32_t h;

    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = bi_pattern(i);
    bi_write_file(path, buf, len);
    h = bi_fnv1a(buf, len);
    free(buf);
    return h;
}

uint8_t *bi_read_file(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    ck_assert_msg(fd >= 0, "cannot open %s (is the guest built?)", path);
    ck_assert_int_eq(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_msg(read(fd, buf, (size_t)st.st_size) == st.st_size, "short read of %s", path);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

const char *bi_guest(const char *name, const char *ext)
{
    static char path[8][512];
    static unsigned next;
    char *p = path[next++ % 8];

    snprintf(p, sizeof(path[0]), "%s/%s.%s", GUEST_DIR, name, ext);
    return p;
}

int bi_run(struct emu *e, const char *what, const char *const *args, int timeout_ms)
{
    double t0 = emu_now_ms();
    int status;

    emu_start(e, NULL, args);
    status = emu_wait(e, timeout_ms);
    fprintf(stderr, "# %s: kvmemu exited with status %d after %.0f ms\n", what, status,
            emu_now_ms() - t0);
    return status;
}

bool bi_has_line(const char *buf, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = buf; (p = strstr(p, line)); p++)
        if ((p == buf || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

const char *bi_find_line(const char *buf, const char *prefix)
{
    size_t n = strlen(prefix);

    for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, prefix, n))
            return p;
    return NULL;
}

unsigned bi_count_lines(const char *buf, const char *prefix)
{
    size_t n = strlen(prefix);
    unsigned count = 0;

    for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, prefix, n))
            count++;
    return count;
}

const char *bi_flat(const char *s)
{
    static char buf[2][EMU_KEEP_BYTES * 2];
    static unsigned next;
    char *out = buf[next++ % 2];
    size_t n = 0;

    for (; *s && n + 4 < sizeof(buf[0]); s++) {
        if (*s == '\n') {
            memcpy(out + n, " | ", 3);
            n += 3;
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return out;
}

void bi_expect_line(const struct emu *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ck_assert_msg(bi_has_line(e->out.buf, line), "the guest did not print \"%s\"; it printed: %s",
                  line, bi_flat(e->out.buf));
}

void bi_expect_ok(const struct emu *e, const char *tag, int status)
{
    char fail[32];

    snprintf(fail, sizeof(fail), "%s FAIL", tag);
    ck_assert_msg(status == BI_STATUS_OK,
                  "kvmemu exited with status %d, not %d; the guest said: %s; stderr: %s", status,
                  BI_STATUS_OK, bi_flat(e->out.buf), bi_flat(e->err.buf));
    ck_assert_msg(!strstr(e->out.buf, fail), "%s", bi_flat(e->out.buf));
    bi_expect_line(e, "%s ok", tag);
}

void bi_expect_e820(const struct emu *e, const char *tag, uint64_t ram)
{
    struct em_memmap mm;
    char prefix[32];
    const char *p;

    em_memmap_init(&mm, ram);
    ck_assert_uint_ge(mm.nr_e820, 4);
    snprintf(prefix, sizeof(prefix), "%s e820 ", tag);
    ck_assert_msg(bi_count_lines(e->out.buf, prefix) == mm.nr_e820,
                  "%u e820 lines, the layout has %u entries: %s",
                  bi_count_lines(e->out.buf, prefix), mm.nr_e820, bi_flat(e->out.buf));
    /* In order: each line after the one before. */
    p = e->out.buf;
    for (unsigned i = 0; i < mm.nr_e820; i++) {
        char line[96];

        snprintf(line, sizeof(line), "%s%016llx %016llx %u\n", prefix,
                 (unsigned long long)mm.e820[i].addr, (unsigned long long)mm.e820[i].size,
                 mm.e820[i].type);
        p = strstr(p, line);
        ck_assert_msg(p, "no \"%.*s\" (entry %u, in order) in: %s", (int)strlen(line) - 1, line, i,
                      bi_flat(e->out.buf));
        p += strlen(line);
    }
}

void bi_ram_sizes(uint64_t ram, uint64_t *below_1m, uint64_t *from_1m, uint64_t *below_4g)
{
    struct em_memmap mm;

    em_memmap_init(&mm, ram);
    *below_1m = *from_1m = 0;
    for (unsigned i = 0; i < mm.nr_e820; i++) {
        if (mm.e820[i].type != EM_E820_RAM)
            continue;
        if (mm.e820[i].addr == 0)
            *below_1m = mm.e820[i].size;
        if (mm.e820[i].addr == EM_HIGH_MEM_START)
            *from_1m = mm.e820[i].size;
    }
    *below_4g = mm.ram_below_4g;
}
