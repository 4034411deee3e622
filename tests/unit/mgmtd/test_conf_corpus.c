/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The corpus under tests/xml, one test case per file:
 *  - good/NAME.xml parses, formats to good/NAME.out.xml exactly, and that
 *    output is valid per the schema, parses to the same definition
 *    (formats identically: formatting is stable) and so does the input
 *    read by the C parser alone;
 *  - bad/NAME.xml and malformed/NAME.xml are refused with bad/NAME.err's
 *    message exactly, and the C parser alone refuses them with the same
 *    message: the schema never refuses what the parser would accept
 *    silently. The schema alone refuses every one of them too, with the
 *    same message, except the few that bad/schema-valid.list names
 *    (faults across elements, which only the parser checks).
 * MD_CORPUS_REGENERATE=1 writes the expected files instead (review the
 * diff before committing them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_fixture.h"
#include "testutil.h"

const bool test_needs_kvm = false;

static const char *const *good, *const *bad, *const *malformed;
static unsigned nr_good, nr_bad, nr_malformed;

static char *parse_format(struct fixture *f, const char *xml, size_t len, bool schema,
                          struct md_err *err)
{
    struct md_domain_def *def;
    char *out;

    f->opts.no_schema = !schema;
    f->next_random = 0x10; /* the same generated values on every pass */
    md_err_clear(err);
    def = md_domain_def_parse_string(xml, len, &f->opts, err);
    if (!def)
        return NULL;
    ck_assert_int_eq(err->code, 0);
    out = md_domain_def_format(def, err);
    ck_assert_msg(out, "format: %s", err->msg);
    md_domain_def_free(def);
    return out;
}

START_TEST(good_file)
{
    const char *name = good[_i];
    char path[512], file[256];
    struct md_err err;
    struct fixture f;
    char *in, *out, *again, *c_only, *expected;
    size_t len;

    fixture_init(&f);
    snprintf(file, sizeof(file), "%s.xml", name);
    in = fixture_read(fixture_path(path, sizeof(path), "good", file), false, &len);
    out = parse_format(&f, in, len, true, &err);
    ck_assert_msg(out, "%s refused: %s", file, err.msg);

    snprintf(file, sizeof(file), "%s.out.xml", name);
    fixture_path(path, sizeof(path), "good", file);
    if (fixture_regenerate())
        fixture_write(path, out);
    expected = fixture_read(path, false, NULL);
    ck_assert_msg(!strcmp(out, expected), "%s.xml formats differently from %s:\n%s", name, file,
                  out);

    /* The output is in the schema's language and reads back the same. */
    md_err_clear(&err);
    ck_assert_msg(md_schema_validate_string(f.schema, out, strlen(out), &err) == 0,
                  "the output of %s.xml is not valid: %s", name, err.msg);
    again = parse_format(&f, out, strlen(out), true, &err);
    ck_assert_msg(again, "the output of %s.xml is refused: %s", name, err.msg);
    ck_assert_msg(!strcmp(again, out), "formatting %s.xml is not stable:\n%s", name, again);

    /* The C parser alone reads the input to the same definition. */
    c_only = parse_format(&f, in, len, false, &err);
    ck_assert_msg(c_only && !strcmp(c_only, out), "%s.xml without the schema: %s", name,
                  c_only ? c_only : err.msg);

    free(c_only);
    free(again);
    free(expected);
    free(out);
    free(in);
    fixture_fini(&f);
}
END_TEST

/* Whether bad/schema-valid.list names the file. */
static bool schema_valid(const char *name)
{
    char path[512], *list, *line, *save = NULL;
    bool found = false;

    list = fixture_read(fixture_path(path, sizeof(path), "bad", "schema-valid.list"), false, NULL);
    for (line = strtok_r(list, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
        found = line[0] != '#' && !strcmp(line, name);
    free(list);
    return found;
}

static void refused(const char *sub, const char *name)
{
    char path[512], file[256];
    struct md_err err, c_err;
    struct fixture f;
    char *in, *expected, *out;
    size_t len;

    fixture_init(&f);
    snprintf(file, sizeof(file), "%s.xml", name);
    in = fixture_read(fixture_path(path, sizeof(path), sub, file), false, &len);
    out = parse_format(&f, in, len, true, &err);
    ck_assert_msg(!out, "%s/%s.xml is accepted:\n%s", sub, name, out);
    ck_assert_int_lt(err.code, 0);
    ck_assert_msg(!strchr(err.msg, '\n'), "%s: the message is not one line: %s", name, err.msg);

    snprintf(file, sizeof(file), "%s.err", name);
    fixture_path(path, sizeof(path), sub, file);
    if (fixture_regenerate()) {
        char line[MD_ERR_MSG_MAX + 2];

        snprintf(line, sizeof(line), "%s\n", err.msg);
        fixture_write(path, line);
    }
    expected = fixture_read(path, false, NULL);
    expected[strcspn(expected, "\n")] = '\0';
    ck_assert_msg(!strcmp(err.msg, expected), "%s/%s.xml:\n  got  %s\n  want %s", sub, name,
                  err.msg, expected);

    /* Without the schema: the same refusal, in the same words. */
    out = parse_format(&f, in, len, false, &c_err);
    ck_assert_msg(!out, "%s/%s.xml is accepted without the schema:\n%s", sub, name, out);
    ck_assert_msg(!strcmp(c_err.msg, err.msg), "%s/%s.xml without the schema:\n  %s", sub, name,
                  c_err.msg);

    /* The schema alone (vmctl's validation): it refuses all but the faults
     * only the parser can see, with the same message. */
    md_err_clear(&c_err);
    if (md_schema_validate_string(f.schema, in, len, &c_err) == 0) {
        ck_assert_msg(schema_valid(name), "%s/%s.xml passes the schema but is not in %s", sub, name,
                      "bad/schema-valid.list");
    } else {
        ck_assert_msg(!schema_valid(name) || strcmp(sub, "bad"),
                      "%s/%s.xml is in bad/schema-valid.list but fails the schema: %s", sub, name,
                      c_err.msg);
        ck_assert_msg(!strcmp(c_err.msg, err.msg), "%s/%s.xml, the schema alone:\n  %s", sub, name,
                      c_err.msg);
    }
    free(expected);
    free(in);
    fixture_fini(&f);
}

START_TEST(bad_file)
{
    refused("bad", bad[_i]);
}
END_TEST

START_TEST(malformed_file)
{
    refused("malformed", malformed[_i]);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("conf-corpus");
    TCase *tc;

    nr_good = fixture_list("good", ".xml", &good);
    nr_bad = fixture_list("bad", ".xml", &bad);
    nr_malformed = fixture_list("malformed", ".xml", &malformed);

    tc = tcase_create("good");
    tcase_add_loop_test(tc, good_file, 0, (int)nr_good);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_add_loop_test(tc, bad_file, 0, (int)nr_bad);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_loop_test(tc, malformed_file, 0, (int)nr_malformed);
    suite_add_tcase(s, tc);
    return s;
}
