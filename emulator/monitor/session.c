/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One client's side of QMP: message framing over whatever the socket
 * delivered (a message may arrive in pieces, several may arrive at once),
 * a strict JSON parser for each message, negotiation state, and a reply
 * for every message.
 *
 * Framing is done here, not by json-c: its strict mode refuses anything
 * after a complete value in the same buffer. The parser sees each message
 * whole, once the scanner has found its end (the parts of one that came in
 * several reads are kept until then), so that what a message gets does not
 * depend on how the socket split it. A message is a top-level
 * object or array (it ends where its brackets balance, outside strings)
 * or anything else up to the end of its line. A byte that JSON does not
 * allow outside a string (binary garbage) ends the message with an error
 * at once, and the rest of that line is skipped, so that a client that
 * sent garbage and then a good command on the next line is answered for
 * the command. A message the parser refuses costs only itself: what
 * follows it on the line is read, as QEMU's parser does. A message that grows past
 * EM_QMP_MAX_MESSAGE is refused and ends the connection: nothing of it is kept.
 *
 * The scanner also checks what json-c lets through: strings must be UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), or
 * a reply echoing them would not be JSON; and "\u0000" is refused, as
 * json-c would cut a member name or the command's name at it
 * ("query-status\u0000x" must not run query-status).
 */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/qmp.h"

/* Deeper nesting than any command needs; json-c's own limit is 32. */
#define MAX_DEPTH 32
/* A message buffer larger than this is freed once its message is parsed. */
#define PENDING_KEEP 65536

struct em_qmp_session {
    const struct em_qmp_machine *m;
    em_qmp_send_fn send;
    void *opaque;
    json_tokener *tok;
    bool negotiating;
    bool in_message;  /* between a message's first byte and its end */
    bool skip_to_eol; /* after a parse error */
    size_t msg_bytes; /* of the message being scanned */
    bool dead;        /* -EMSGSIZE was returned */
    /* The part of the current message that earlier reads delivered. */
    char *pending;
    size_t pending_len, pending_cap;
    /* The framing scanner's state within the current message. */
    unsigned depth;
    bool in_string, escape;
    unsigned uhex;         /* hex digits of a \u escape still to come */
    unsigned ucode;        /* their value so far */
    unsigned utf8_need;    /* continuation bytes of a UTF-8 sequence to come */
    unsigned char utf8_lo; /* the range the next one must be in */
    unsigned char utf8_hi;
    const char *scan_error; /* why the scanner refused the message */
};

struct em_qmp_session *em_qmp_session_create(const struct em_qmp_machine *m, em_qmp_send_fn send,
                                             void *opaque)
{
    struct em_qmp_session *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->tok = json_tokener_new_ex(MAX_DEPTH);
    if (!s->tok) {
        free(s);
        return NULL;
    }
    json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT);
    s->m = m;
    s->send = send;
    s->opaque = opaque;
    s->negotiating = true;
    return s;
}

void em_qmp_session_destroy(struct em_qmp_session *s)
{
    if (!s)
        return;
    json_tokener_free(s->tok);
    free(s->pending);
    free(s);
}

bool em_qmp_session_in_command_mode(const struct em_qmp_session *s)
{
    return !s->negotiating;
}

static void send_msg(struct em_qmp_session *s, json_object *msg)
{
    size_t len;
    char *line = em_qmp_line(msg, &len);

    if (line)
        s->send(s->opaque, line, len);
    free(line);
}

void em_qmp_session_greet(struct em_qmp_session *s)
{
    json_object *g = em_qmp_greeting();

    send_msg(s, g);
    json_object_put(g);
}

static void reply_error(struct em_qmp_session *s, const char *desc)
{
    json_object *e = em_qmp_error("GenericError", "%s", desc);

    send_msg(s, e);
    json_object_put(e);
}

static void handle(struct em_qmp_session *s, json_object *msg)
{
    json_object *reply = em_qmp_dispatch(s->m, &s->negotiating, msg);

    if (reply) {
        send_msg(s, reply);
        json_object_put(reply);
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What may appear outside a string in a JSON text. */
static bool is_json_byte(unsigned char c)
{
    return c != '\0' && (is_space((char)c) || strchr("{}[],:\"+-.0123456789eEtrufalsn", c));
}

enum scan_result {
    SCAN_MORE,     /* all of it belongs to the message, which goes on */
    SCAN_COMPLETE, /* the message ends after *used bytes */
    SCAN_GARBAGE,  /* byte *used - 1 cannot be JSON (s->scan_error says why) */
};

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The lead byte of a UTF-8 sequence: false if it cannot start one. */
static bool utf8_lead(struct em_qmp_session *s, unsigned char c)
{
    s->utf8_lo = 0x80;
    s->utf8_hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        s->utf8_need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        s->utf8_need = 2;
        if (c == 0xe0)
            s->utf8_lo = 0xa0; /* overlong */
        else if (c == 0xed)
            s->utf8_hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        s->utf8_need = 3;
        if (c == 0xf0)
            s->utf8_lo = 0x90; /* overlong */
        else if (c == 0xf4)
            s->utf8_hi = 0x8f; /* past U+10FFFF */
    } else {
        return false;
    }
    return true;
}

/* One byte inside a string; false if it cannot be there. */
static bool string_byte(struct em_qmp_session *s, unsigned char c)
{
    if (s->utf8_need) {
        if (c < s->utf8_lo || c > s->utf8_hi) {
            s->scan_error = "invalid UTF-8";
            return false;
        }
        s->utf8_need--;
        s->utf8_lo = 0x80;
        s->utf8_hi = 0xbf;
        return true;
    }
    if (c >= 0x80) {
        if (!utf8_lead(s, c)) {
            s->scan_error = "invalid UTF-8";
            return false;
        }
        return true;
    }
    if (s->uhex) {
        int v = hex_value(c);

        if (v >= 0) {
            s->ucode = s->ucode << 4 | (unsigned)v;
            if (--s->uhex == 0 && s->ucode == 0) {
                s->scan_error = "\\u0000 is not supported";
                return false;
            }
            return true;
        }
        s->uhex = 0; /* not an escape after all: json-c says so */
    }
    if (c < 0x20) {
        s->scan_error = "control character in a string";
        return false;
    }
    return true;
}

/* Finds where the current message ends within buf. */
static enum scan_result scan(struct em_qmp_session *s, const char *buf, size_t len, size_t *used)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        *used = i + 1;
        if (s->in_string) {
            if (!string_byte(s, c))
                return SCAN_GARBAGE;
            if (s->escape) {
                s->escape = false;
                if (c == 'u') {
                    s->uhex = 4;
                    s->ucode = 0;
                }
            } else if (c >= 0x80 || s->uhex) {
                continue; /* part of a UTF-8 sequence or of a \u escape */
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == '"') {
                s->in_string = false;
                if (s->depth == 0)
                    return SCAN_COMPLETE;
            }
            continue;
        }
        if (!is_json_byte(c)) {
            s->scan_error = "invalid character";
            return SCAN_GARBAGE;
        }
        if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if (c == '}' || c == ']') {
            /* A stray closer ends the message too: the parser says why. */
            if (s->depth <= 1) {
                s->depth = 0;
                return SCAN_COMPLETE;
            }
            s->depth--;
        } else if (c == '\n' && s->depth == 0) {
            return SCAN_COMPLETE;
        }
    }
    *used = len;
    return SCAN_MORE;
}

static void end_message(struct em_qmp_session *s)
{
    s->in_message = false;
    s->depth = 0;
    s->in_string = false;
    s->escape = false;
    s->uhex = 0;
    s->utf8_need = 0;
}

static void parse_error(struct em_qmp_session *s, const char *why)
{
    char desc[160];

    snprintf(desc, sizeof(desc), "JSON parse error, %s", why);
    reply_error(s, desc);
}

/* Parses one whole message and answers it. */
static void parse_message(struct em_qmp_session *s, const char *msg, size_t len)
{
    json_object *obj;
    enum json_tokener_error err;

    json_tokener_reset(s->tok);
    obj = json_tokener_parse_ex(s->tok, msg, (int)len);
    err = json_tokener_get_error(s->tok);
    /* JSON's null parses as NULL: the dispatcher says it is not an
     * object, as for any other value. */
    if (err == json_tokener_success)
        handle(s, obj);
    else
        parse_error(s, err == json_tokener_continue ? "incomplete JSON value"
                                                    : json_tokener_error_desc(err));
    json_object_put(obj);
}

/* Keeps the part of a message that one read delivered. */
static int keep(struct em_qmp_session *s, const char *buf, size_t len)
{
    if (s->pending_len + len > s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap : 4096;
        char *p;

        while (cap < s->pending_len + len)
            cap *= 2;
        p = realloc(s->pending, cap);
        if (!p)
            return -ENOMEM;
        s->pending = p;
        s->pending_cap = cap;
    }
    memcpy(s->pending + s->pending_len, buf, len);
    s->pending_len += len;
    return 0;
}

static void drop_pending(struct em_qmp_session *s)
{
    s->pending_len = 0;
    /* One large message does not pin its buffer for the session's life. */
    if (s->pending_cap > PENDING_KEEP) {
        free(s->pending);
        s->pending = NULL;
        s->pending_cap = 0;
    }
}

int em_qmp_session_feed(struct em_qmp_session *s, const char *buf, size_t len)
{
    if (s->dead)
        return -EMSGSIZE;
    while (len > 0) {
        enum scan_result r;
        size_t used = 0;

        if (s->skip_to_eol) {
            const char *nl = memchr(buf, '\n', len);

            if (!nl)
                return 0;
            s->skip_to_eol = false;
            len -= (size_t)(nl + 1 - buf);
            buf = nl + 1;
            continue;
        }
        /* Whitespace between messages is not part of any. */
        if (!s->in_message) {
            while (len > 0 && is_space(*buf)) {
                buf++;
                len--;
            }
            if (len == 0)
                return 0;
            s->msg_bytes = 0;
            s->in_message = true;
        }
        r = scan(s, buf, len, &used);
        if (s->msg_bytes + used > EM_QMP_MAX_MESSAGE) {
            reply_error(s, "message too long: the limit is 1048576 bytes");
            end_message(s);
            drop_pending(s);
            s->dead = true;
            return -EMSGSIZE;
        }
        s->msg_bytes += used;
        if (r == SCAN_GARBAGE) {
            parse_error(s, s->scan_error);
            end_message(s);
            drop_pending(s);
            s->skip_to_eol = buf[used - 1] != '\n';
        } else if (r == SCAN_MORE) {
            if (keep(s, buf, used) < 0) {
                reply_error(s, "out of memory for the message");
                end_message(s);
                drop_pending(s);
                s->skip_to_eol = true;
            }
        } else if (s->pending_len == 0) {
            /* The whole message came in this read: parsed where it is. */
            end_message(s);
            parse_message(s, buf, used);
        } else {
            end_message(s);
            if (keep(s, buf, used) < 0)
                reply_error(s, "out of memory for the message");
            else
                parse_message(s, s->pending, s->pending_len);
            drop_pending(s);
        }
        buf += used;
        len -= used;
    }
    return 0;
}
