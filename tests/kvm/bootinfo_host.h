/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of the boot-information guests (tests/guests/bootinfo.h):
 * running kvmemu on one of them, the lines they print, the test initrd
 * (its pattern and checksum, the same as the guests'), scratch files, and
 * the e820 map the guests must have been given.
 */
#ifndef BOOTINFO_HOST_H
#define BOOTINFO_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "kvmemu_proc.h"

/* A few KiB, deliberately not a multiple of a page. */
#define BI_INITRD_LEN 6000

/* A guest that checked everything ends with debug-exit 0x2a. */
#define BI_STATUS_OK EMU_GUEST_OK

/* A scratch directory under /tmp, removed with everything in it. */
struct bi_tmp {
    char dir[256];
};

void bi_tmp_init(struct bi_tmp *t);
/* "<dir>/<name>" in a static buffer (one of 8, reused in turn). */
const char *bi_tmp_path(const struct bi_tmp *t, const char *name);
void bi_tmp_cleanup(struct bi_tmp *t);

uint32_t bi_fnv1a(const uint8_t *p, size_t n);
uint8_t bi_pattern(size_t i);
/* Writes len bytes of the pattern; returns their FNV-1a. */
uint32_t bi_write_pattern(const char *path, size_t len);
void bi_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file into a malloc'ed buffer. */
uint8_t *bi_read_file(const char *path, size_t *len);

/* A built guest: "<GUEST_DIR>/<name>.<ext>" in a static buffer (one of 8). */
const char *bi_guest(const char *name, const char *ext);

/* Runs kvmemu with args (NULL-terminated), waits up to timeout_ms, and
 * notes on stderr how long it took; returns the exit status. */
int bi_run(struct emu *e, const char *what, const char *const *args, int timeout_ms);

/* True if buf has `line` as a whole line (without its newline). */
bool bi_has_line(const char *buf, const char *line);
/* The first line of buf that starts with prefix, or NULL. */
const char *bi_find_line(const char *buf, const char *prefix);
/* How many lines of buf start with prefix. */
unsigned bi_count_lines(const char *buf, const char *prefix);

/* s on one line (newlines shown as " | "), for failure messages: a
 * newline would end the TAP line. In one of 2 static buffers, in turn. */
const char *bi_flat(const char *s);

/* Fails unless the guest printed this exact line (printf format). */
void bi_expect_line(const struct emu *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fails unless the guest ended well: status, "<tag> ok", no FAIL line. */
void bi_expect_ok(const struct emu *e, const char *tag, int status);
/* Fails unless the guest printed exactly the e820 map kvmemu's layout
 * (em_memmap_init) has for ram bytes, as "<tag> e820 ..." lines in order. */
void bi_expect_e820(const struct emu *e, const char *tag, uint64_t ram);

/* The RAM entries of that map: sizes from 0 and from 1 MiB. */
void bi_ram_sizes(uint64_t ram, uint64_t *below_1m, uint64_t *from_1m, uint64_t *below_4g);

#endif
