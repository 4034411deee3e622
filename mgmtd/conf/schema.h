/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schemas/domain.rng, compiled into the library. Compile it once and pass
 * it in md_parse_opts: a compiled schema is only read while validating,
 * each validation having a context of its own.
 */
#ifndef MD_SCHEMA_H
#define MD_SCHEMA_H

#include <stddef.h>

#include "err.h"

struct md_schema;

struct md_schema *md_schema_new(struct md_err *err);
void md_schema_free(struct md_schema *s);

/* The schema's text, as built in (for `vmctl` to print or install). */
const char *md_schema_text(void);

/*
 * Checks a document against the schema alone (`vmctl define --validate`):
 * 0, or -EINVAL with a message naming the element or attribute and its
 * line. `schema` may be NULL (compiled for this call).
 */
int md_schema_validate_string(const struct md_schema *schema, const char *xml, size_t len,
                              struct md_err *err);

#endif
