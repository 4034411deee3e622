/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One client's side of QMP: message framing over whatever the socket
 * delivered (a message may arrive in pieces, several may arrive at once),
 * a strict JSON parser for each message, negotiation state, and a reply
 * for every message.
 *
 * Framing is done here, not by json-c: its strict mode refuses anything
 * after a complete value in the same buffer. A message is a top-level
 * object or array (it ends where its brackets balance, outside strings)
 * or anything else up to the end of its line. A byte that JSON does not
 * allow outside a string (binary garbage), or a parse error, ends the
 * message with an error at once, and the rest of that line is skipped, so
 * that a client that sent garbage and then a good command on the next
 * line is answered for the command. A message that grows past EM_QMP_MAX_MESSAGE is refused and
 * ends the connection: nothing of it is kept.
 */
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/qmp.h"

/* Deeper nesting than any command needs; json-c's own limit is 32. */
#define MAX_DEPTH 32

struct em_qmp_session {
    const struct em_qmp_machine *m;
    em_qmp_send_fn send;
    void *opaque;
    json_tokener *tok;
    bool negotiating;
    bool in_message;  /* the tokener holds part of a message */
    bool skip_to_eol; /* after a parse error */
    size_t msg_bytes; /* of the message being parsed */
    bool dead;        /* -EMSGSIZE was returned */
    /* The framing scanner's state within the current message. */
    unsigned depth;
    bool in_string, escape;
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
    SCAN_MORE,     /* *used bytes (a line, or all) belong to the message, which goes on */
    SCAN_COMPLETE, /* the message ends after *used bytes */
    SCAN_GARBAGE,  /* byte *used - 1 cannot be JSON */
};

/* Finds where the current message ends within buf. */
static enum scan_result scan(struct em_qmp_session *s, const char *buf, size_t len, size_t *used)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        *used = i + 1;
        if (s->in_string) {
            if (s->escape) {
                s->escape = false;
            } else if (c == '\\') {
                s->escape = true;
            } else if (c == '"') {
                s->in_string = false;
                if (s->depth == 0)
                    return SCAN_COMPLETE;
            } else if (c < 0x20) {
                return SCAN_GARBAGE;
            }
            continue;
        }
        if (!is_json_byte(c))
            return SCAN_GARBAGE;
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
        } else if (c == '\n') {
            /* The parser gets a message a line at a time, so that an error
             * costs the rest of its line only. */
            return s->depth == 0 ? SCAN_COMPLETE : SCAN_MORE;
        }
    }
    *used = len;
    return SCAN_MORE;
}

static void end_message(struct em_qmp_session *s)
{
    json_tokener_reset(s->tok);
    s->in_message = false;
    s->depth = 0;
    s->in_string = false;
    s->escape = false;
}

static void parse_error(struct em_qmp_session *s, const char *why)
{
    char desc[160];

    snprintf(desc, sizeof(desc), "JSON parse error, %s", why);
    reply_error(s, desc);
}

int em_qmp_session_feed(struct em_qmp_session *s, const char *buf, size_t len)
{
    if (s->dead)
        return -EMSGSIZE;
    while (len > 0) {
        enum scan_result r;
        json_object *obj;
        enum json_tokener_error err;
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
            s->dead = true;
            return -EMSGSIZE;
        }
        s->msg_bytes += used;
        if (r == SCAN_GARBAGE) {
            parse_error(s, "invalid character");
            end_message(s);
            s->skip_to_eol = buf[used - 1] != '\n';
            buf += used;
            len -= used;
            continue;
        }
        obj = json_tokener_parse_ex(s->tok, buf, (int)used);
        err = json_tokener_get_error(s->tok);
        buf += used;
        len -= used;
        if (r == SCAN_MORE) {
            if (err == json_tokener_continue)
                continue;
            /* The parser saw an error before the message's end: answer
             * now, and drop what is left of its line. */
            parse_error(s, json_tokener_error_desc(err));
            json_object_put(obj);
            end_message(s);
            s->skip_to_eol = buf[-1] != '\n';
            continue;
        }
        end_message(s);
        if (err == json_tokener_success && obj) {
            handle(s, obj);
        } else {
            parse_error(s, err == json_tokener_continue ? "incomplete JSON value"
                                                        : json_tokener_error_desc(err));
            s->skip_to_eol = buf[-1] != '\n';
        }
        json_object_put(obj);
    }
    return 0;
}
