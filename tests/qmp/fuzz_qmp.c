/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A libFuzzer target for QMP's request parser and dispatcher: the bytes a
 * client could send, fed to a session (emulator/monitor/session.c) on the
 * fake machine, without sockets or threads.
 *
 * Input: byte 0 chooses how the rest is cut into reads (the seed of the
 * cut lengths and their largest size); the rest is what the client sends.
 * Each input runs twice, each time on a fresh machine and session: in one
 * read, and in the cuts byte 0 chose. Besides what the sanitizers catch,
 * it aborts (a crash for libFuzzer, which keeps the input) when
 *   - a message the session sends is not one line of JSON text: an object
 *     in strict JSON, valid UTF-8, no CR or LF before the final CRLF;
 *   - it is not the greeting, {"return": ...} or {"error": {"class",
 *     "desc"}} with a class QMP has (plus "id");
 *   - the two runs sent different bytes: what a message gets must not
 *     depend on how the socket split it.
 *
 * scripts/fuzz-qmp builds this with clang and libFuzzer; fuzz_replay.c
 * gives it a main() that runs the corpus (the unit suite's regression run).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_machine.h"
#include "fuzz_qmp.h"

struct output {
    char *buf;
    size_t len, cap;
    unsigned messages;
};

static void __attribute__((noreturn, format(printf, 1, 2))) violation(const char *fmt, ...);

static void violation(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz_qmp: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* RFC 3629, written apart from the session's own check. */
static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        unsigned need, lo = 0x80, hi = 0xbf;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3;
        else
            return false;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        else if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        if (n - i - 1 < need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            unsigned char d = p[i + k];

            if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf))
                return false;
        }
        i += need + 1;
    }
    return true;
}

static void check_message(const char *msg, size_t len)
{
    json_tokener *tok;
    json_object *o, *e, *v;
    bool ok;

    if (len < 4 || msg[len - 2] != '\r' || msg[len - 1] != '\n')
        violation("a message that does not end in CRLF: '%.*s'", (int)len, msg);
    if (memchr(msg, '\r', len - 2) || memchr(msg, '\n', len - 2))
        violation("a message with CR or LF inside: '%.*s'", (int)len, msg);
    if (!utf8_valid((const unsigned char *)msg, len))
        violation("a message that is not UTF-8: '%.*s'", (int)len, msg);
    tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, msg, (int)len - 2);
    if (json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len - 2 || !json_object_is_type(o, json_type_object))
        violation("a message that is not one JSON object: '%.*s'", (int)len, msg);
    json_tokener_free(tok);
    if (json_object_object_get_ex(o, "QMP", NULL)) {
        ok = json_object_object_length(o) == 1;
    } else if (json_object_object_get_ex(o, "return", NULL)) {
        ok = json_object_object_length(o) == 1 + (int)json_object_object_get_ex(o, "id", NULL);
    } else if (json_object_object_get_ex(o, "error", &e)) {
        const char *cls =
            json_object_object_get_ex(e, "class", &v) ? json_object_get_string(v) : "";

        ok = json_object_object_length(o) == 1 + (int)json_object_object_get_ex(o, "id", NULL) &&
             json_object_object_length(e) == 2 && json_object_object_get_ex(e, "desc", &v) &&
             json_object_is_type(v, json_type_string) &&
             (!strcmp(cls, "GenericError") || !strcmp(cls, "CommandNotFound"));
    } else {
        ok = false;
    }
    if (!ok)
        violation("a message that is not a greeting, return or error: '%.*s'", (int)len, msg);
    json_object_put(o);
}

static void collect(void *opaque, const char *msg, size_t len)
{
    struct output *out = opaque;

    check_message(msg, len);
    if (out->len + len > out->cap) {
        size_t cap = out->cap ? out->cap : 4096;

        while (cap < out->len + len)
            cap *= 2;
        out->buf = realloc(out->buf, cap);
        if (!out->buf)
            violation("out of memory for %zu bytes of output", cap);
        out->cap = cap;
    }
    memcpy(out->buf + out->len, msg, len);
    out->len += len;
    out->messages++;
}

/* The next cut length, 1 to max. */
static size_t next_cut(uint32_t *state, size_t max)
{
    /* xorshift32: any fixed sequence will do, as long as it is the same
     * for the same byte 0. */
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return 1 + *state % max;
}

/* One session on a fresh machine; split_byte < 0: all in one read. */
static void run(const uint8_t *data, size_t size, int split_byte, struct output *out)
{
    struct fake_machine f;
    struct em_qmp_session *s;
    uint32_t state = 0x9e3779b9u ^ (uint32_t)(split_byte * 2654435761u);
    size_t max = split_byte < 0 ? size : (size_t)2 << (split_byte & 7);

    fake_machine_init(&f);
    s = em_qmp_session_create(&f.m, collect, out);
    if (!s)
        violation("%s", "em_qmp_session_create failed");
    em_qmp_session_greet(s);
    for (size_t off = 0; off < size;) {
        size_t n = split_byte < 0 ? size : next_cut(&state, max);

        if (n > size - off)
            n = size - off;
        if (em_qmp_session_feed(s, (const char *)data + off, n) < 0)
            break;
        off += n;
    }
    em_qmp_session_destroy(s);
    fake_machine_fini(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct output whole = { 0 }, split = { 0 };

    if (size < 1)
        return 0;
    run(data + 1, size - 1, -1, &whole);
    run(data + 1, size - 1, data[0], &split);
    if (whole.len != split.len || memcmp(whole.buf, split.buf, whole.len) != 0)
        violation("the replies differ when the input is cut into reads (byte 0 = %u):\n"
                  "in one read:\n%.*s\ncut:\n%.*s",
                  data[0], (int)whole.len, whole.buf ? whole.buf : "", (int)split.len,
                  split.buf ? split.buf : "");
    if (whole.messages < 1)
        violation("%s", "not even the greeting was sent");
    free(whole.buf);
    free(split.buf);
    return 0;
}
