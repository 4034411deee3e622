/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the mgmtd/conf tests share: parse options as the daemon would give
 * them, but with a host CPU and random bytes the tests control, and the
 * corpus under tests/xml.
 */
#ifndef CONF_FIXTURE_H
#define CONF_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/domain.h"
#include "conf/schema.h"

#define FIXTURE_EMULATOR "/usr/bin/kvmemu"

/* A host CPU that has every feature kvmemu knows except these. */
extern const char *const fixture_host_lacks[];

struct fixture {
    struct md_parse_opts opts;
    struct md_host_cpu host;
    struct md_schema *schema;
    uint8_t next_random; /* random bytes count up from here */
    unsigned host_calls;
};

/* Options with the shared schema, the fake host and counting random bytes. */
void fixture_init(struct fixture *f);
void fixture_fini(struct fixture *f);

/* The whole file, NUL-terminated (the test fails if it cannot be read);
 * NULL if it does not exist and `may_be_missing`. */
char *fixture_read(const char *path, bool may_be_missing, size_t *len);
void fixture_write(const char *path, const char *text);
/* CORPUS_DIR "/" sub "/" name */
const char *fixture_path(char *buf, size_t size, const char *sub, const char *name);

/* The names (without the suffix) of sub's files ending in suffix, sorted;
 * *.out.xml are outputs, not listed. Keep the list for the process. */
unsigned fixture_list(const char *sub, const char *suffix, const char *const **names);

/* Whether MD_CORPUS_REGENERATE=1: expected files are written, not read. */
bool fixture_regenerate(void);

#endif
