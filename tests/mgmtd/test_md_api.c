/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The API server with test methods, driven by the C client library (and by
 * raw bytes where the client would not send them): answers now and later,
 * every kind of bad request, the read-only socket, the peer's credentials,
 * oversized requests, 100 clients at once, events to subscribers only, and
 * a connection turned into a byte stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "client/client.h"
#include "testutil.h"

const bool test_needs_kvm = false;

static uv_loop_t loop;
static uv_async_t stop_async, emit_async;
static pthread_t thread;
static struct md_api *api;
static char dir[48], rw[96], ro[96];
static int stream_peer = -1;
static volatile int stream_ended;

/* ---- test methods (on the loop's thread) ---- */

static void m_echo(void *opaque, struct md_api_call *call, json_object *params)
{
    (void)opaque;
    md_api_reply(call, params ? json_object_get(params) : NULL);
}

static void m_change(void *opaque, struct md_api_call *call, json_object *params)
{
    const char *name;
    json_object *r;

    (void)opaque;
    if (!md_api_params_only(call, params, (const char *const[]){ "name", NULL }) ||
        !md_api_param_str(call, params, "name", true, &name))
        return;
    r = json_object_new_object();
    json_object_object_add(r, "changed", json_object_new_string(name));
    json_object_object_add(r, "uid", json_object_new_int((int)md_api_call_peer(call)->uid));
    md_api_reply(call, r);
}

struct later {
    uv_timer_t t;
    struct md_api_call *call;
};

static void later_closed(uv_handle_t *h)
{
    free(h);
}

static void on_later(uv_timer_t *t)
{
    struct later *l = (struct later *)t;

    md_api_fail(l->call, MD_API_TIMEOUT, "answered later, as an error");
    uv_close((uv_handle_t *)t, later_closed);
}

static void m_later(void *opaque, struct md_api_call *call, json_object *params)
{
    struct later *l = calloc(1, sizeof(*l));

    (void)opaque;
    (void)params;
    l->call = call;
    uv_timer_init(&loop, &l->t);
    uv_timer_start(&l->t, on_later, 100, 0);
}

static void m_subscribe(void *opaque, struct md_api_call *call, json_object *params)
{
    (void)opaque;
    (void)params;
    md_api_subscribe(call);
    md_api_reply(call, NULL);
}

static void ended(void *opaque)
{
    (void)opaque;
    stream_ended = 1;
}

static void m_stream(void *opaque, struct md_api_call *call, json_object *params)
{
    int sv[2];

    (void)opaque;
    (void)params;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    stream_peer = sv[1];
    md_api_reply_stream(call, sv[0], ended, NULL);
}

static const struct md_api_method methods[] = {
    { "test.echo", false, m_echo },    { "test.change", true, m_change },
    { "test.later", false, m_later },  { "events.subscribe", false, m_subscribe },
    { "test.stream", true, m_stream }, { NULL, false, NULL },
};

static void on_stop(uv_async_t *h)
{
    md_api_destroy(api);
    api = NULL;
    uv_close((uv_handle_t *)h, NULL);
    uv_close((uv_handle_t *)&emit_async, NULL);
}

static void on_emit(uv_async_t *h)
{
    json_object *ev = json_object_new_object();

    (void)h;
    json_object_object_add(ev, "event", json_object_new_string("test"));
    md_api_broadcast(api, ev);
}

static void *run_loop(void *arg)
{
    (void)arg;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static void setup(void)
{
    struct md_api_config cfg = { .admin_gid = (gid_t)-1, .methods = methods };
    struct md_err err;

    snprintf(dir, sizeof(dir), "/tmp/test_md_api.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    chmod(dir, 0755);
    snprintf(rw, sizeof(rw), "%s/rw.sock", dir);
    snprintf(ro, sizeof(ro), "%s/ro.sock", dir);
    cfg.rw_path = rw;
    cfg.ro_path = ro;
    uv_loop_init(&loop);
    md_err_clear(&err);
    api = md_api_create(&loop, &cfg, &err);
    ck_assert_msg(api, "%s", err.msg);
    uv_async_init(&loop, &stop_async, on_stop);
    uv_async_init(&loop, &emit_async, on_emit);
    stream_ended = 0;
    stream_peer = -1;
    ck_assert_int_eq(pthread_create(&thread, NULL, run_loop, NULL), 0);
}

static void teardown(void)
{
    uv_async_send(&stop_async);
    pthread_join(thread, NULL);
    uv_loop_close(&loop);
    /* The sockets went with the server. */
    ck_assert_int_ne(access(rw, F_OK), 0);
    rmdir(dir);
}

static struct md_client *connect_to(const char *path)
{
    char err[256];
    struct md_client *c = md_client_connect(path, err, sizeof(err));

    ck_assert_msg(c, "%s", err);
    return c;
}

static json_object *call_ok(struct md_client *c, const char *method, const char *params)
{
    json_object *r = md_client_call(c, method, params ? json_tokener_parse(params) : NULL);

    ck_assert_msg(r, "%s: %s", method, md_client_error(c));
    return r;
}

static void call_fails(struct md_client *c, const char *method, const char *params, int code,
                       const char *text)
{
    json_object *r = md_client_call(c, method, params ? json_tokener_parse(params) : NULL);

    ck_assert_msg(!r, "%s succeeded", method);
    ck_assert_int_eq(md_client_code(c), code);
    ck_assert_msg(strstr(md_client_error(c), text), "'%s' lacks '%s'", md_client_error(c), text);
}

/* One raw line and the one answer it gets. */
static json_object *raw(const char *path, const char *line)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    char buf[4096];
    size_t n = 0;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    while (n < sizeof(buf) - 1) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);

        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf, '\n', n))
            break;
    }
    buf[n] = '\0';
    close(fd);
    return json_tokener_parse(buf);
}

static int error_code(json_object *msg)
{
    json_object *e = NULL, *c = NULL;

    ck_assert_ptr_nonnull(msg);
    ck_assert(json_object_object_get_ex(msg, "error", &e));
    ck_assert(json_object_object_get_ex(e, "code", &c));
    return json_object_get_int(c);
}

START_TEST(answers_now_and_later)
{
    struct md_client *c = connect_to(rw);
    json_object *r;

    r = call_ok(c, "test.echo", "{\"a\": [1, 2], \"b\": \"x\"}");
    ck_assert_str_eq(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN),
                     "{\"a\":[1,2],\"b\":\"x\"}");
    json_object_put(r);
    r = call_ok(c, "test.echo", NULL);
    ck_assert_int_eq(json_object_object_length(r), 0);
    json_object_put(r);
    call_fails(c, "test.later", NULL, MD_API_TIMEOUT, "answered later, as an error");
    r = call_ok(c, "test.change", "{\"name\": \"web\"}");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "changed")), "web");
    ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "uid")), (int)getuid());
    json_object_put(r);
    md_client_close(c);
}
END_TEST

START_TEST(bad_requests)
{
    struct md_client *c = connect_to(rw);
    json_object *m;

    call_fails(c, "no.such", NULL, MD_API_UNKNOWN_METHOD, "unknown method 'no.such'");
    call_fails(c, "test.change", NULL, MD_API_INVALID_PARAMS, "parameter 'name' is missing");
    call_fails(c, "test.change", "{\"name\": 3}", MD_API_INVALID_PARAMS, "must be a string");
    call_fails(c, "test.change", "{\"name\": \"a\", \"x\": 1}", MD_API_INVALID_PARAMS,
               "unknown parameter 'x'");
    md_client_close(c);
    m = raw(rw, "not json\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    json_object_put(m);
    m = raw(rw, "[1, 2]\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    json_object_put(m);
    m = raw(rw, "{\"id\": 1, \"method\": \"test.echo\", \"extra\": 1}\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(m, "id")), 1);
    json_object_put(m);
    m = raw(rw, "{\"id\": 2, \"method\": 5}\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    json_object_put(m);
    m = raw(rw, "{\"id\": 3, \"method\": \"test.echo\", \"params\": [1]}\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    json_object_put(m);
    m = raw(rw, "{\"id\": 4, \"method\": \"test.echo\"} {\"id\": 5}\n");
    ck_assert_int_eq(error_code(m), MD_API_INVALID_REQUEST);
    json_object_put(m);
    /* Still serving. */
    c = connect_to(rw);
    json_object_put(call_ok(c, "test.echo", NULL));
    md_client_close(c);
}
END_TEST

START_TEST(read_only_socket)
{
    struct md_client *c = connect_to(ro);
    struct stat st;

    json_object_put(call_ok(c, "test.echo", "{\"x\": 1}"));
    call_fails(c, "test.change", "{\"name\": \"web\"}", MD_API_DENIED,
               "test.change changes state: not allowed on the read-only socket");
    md_client_close(c);
    ck_assert_int_eq(stat(ro, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0666);
    ck_assert_int_eq(stat(rw, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* Another user, even with the file mode loosened, is refused on the
 * read-write socket by its credentials, and served on the read-only one. */
START_TEST(peer_credentials)
{
    const struct passwd *pw = getpwnam("nobody");
    int status;
    pid_t pid;

    if (geteuid() != 0 || !pw) {
        /* Not root: the test runs as one user; the check is the same code
         * path as for root's uid, which answers_now_and_later covers. */
        ck_assert_int_ne(geteuid(), 0);
        return;
    }
    ck_assert_int_eq(chmod(rw, 0666), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[256];
        struct md_client *c;
        json_object *r;

        if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
            _exit(10);
        c = md_client_connect(rw, err, sizeof(err));
        if (!c)
            _exit(11);
        r = md_client_call(c, "test.echo", NULL);
        if (r || md_client_code(c) != MD_API_DENIED ||
            !strstr(md_client_error(c), "may not use the read-write socket"))
            _exit(12);
        md_client_close(c);
        c = md_client_connect(ro, err, sizeof(err));
        if (!c)
            _exit(13);
        r = md_client_call(c, "test.echo", NULL);
        if (!r)
            _exit(14);
        json_object_put(r);
        r = md_client_call(c, "test.change", json_tokener_parse("{\"name\": \"x\"}"));
        if (r || md_client_code(c) != MD_API_DENIED)
            _exit(15);
        md_client_close(c);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child step %d failed",
                  WEXITSTATUS(status));
}
END_TEST

START_TEST(oversized_request)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    size_t n = MD_API_MAX_MESSAGE + 65536;
    char *big = malloc(n), buf[4096];
    size_t got = 0;
    struct md_client *c;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", rw);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    memset(big, 'a', n);
    /* The server may hang up before all of it is sent. */
    for (size_t off = 0; off < n;) {
        ssize_t w = send(fd, big + off, n - off, MSG_NOSIGNAL);

        if (w <= 0)
            break;
        off += (size_t)w;
    }
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    ck_assert_msg(strstr(buf, "longer than 4 MiB"), "%s", buf);
    close(fd);
    free(big);
    c = connect_to(rw);
    json_object_put(call_ok(c, "test.echo", NULL));
    md_client_close(c);
}
END_TEST

START_TEST(hundred_clients)
{
    struct md_client *c[100];

    for (int i = 0; i < 100; i++)
        c[i] = connect_to(i % 2 ? ro : rw);
    /* Each sends first, then all read: answers come to the right ones. */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 100; i++) {
            char p[64];
            json_object *r;

            snprintf(p, sizeof(p), "{\"n\": %d}", i * 10 + round);
            r = call_ok(c[i], "test.echo", p);
            ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "n")), i * 10 + round);
            json_object_put(r);
        }
    for (int i = 0; i < 100; i++)
        md_client_close(c[i]);
}
END_TEST

START_TEST(events_reach_subscribers_only)
{
    struct md_client *sub = connect_to(ro), *other = connect_to(rw);
    json_object *ev;

    json_object_put(call_ok(sub, "events.subscribe", NULL));
    json_object_put(call_ok(other, "test.echo", NULL));
    uv_async_send(&emit_async);
    ev = md_client_next_event(sub, 5000);
    ck_assert_msg(ev, "%s", md_client_error(sub));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(ev, "event")), "test");
    json_object_put(ev);
    ck_assert_ptr_null(md_client_next_event(other, 300));
    md_client_close(sub);
    md_client_close(other);
}
END_TEST

START_TEST(byte_stream)
{
    struct md_client *c = connect_to(rw);
    char buf[64];
    size_t len;
    char *early;
    int fd;

    json_object_put(call_ok(c, "test.stream", NULL));
    fd = md_client_fd(c);
    early = md_client_take_buffered(c, &len);
    ck_assert_uint_eq(len, 0);
    free(early);
    for (int i = 0; i < 1000 && stream_peer < 0; i++)
        usleep(1000);
    ck_assert_int_ge(stream_peer, 0);
    /* Both ways, raw. */
    ck_assert_int_eq(write(fd, "to\x01\n", 4), 4);
    ck_assert_int_eq(read(stream_peer, buf, sizeof(buf)), 4);
    ck_assert_mem_eq(buf, "to\x01\n", 4);
    ck_assert_int_eq(write(stream_peer, "from", 4), 4);
    ck_assert_int_eq(read(fd, buf, sizeof(buf)), 4);
    ck_assert_mem_eq(buf, "from", 4);
    /* The client leaves: the other end sees it, and the daemon is told. */
    md_client_close(c);
    ck_assert_int_eq(read(stream_peer, buf, sizeof(buf)), 0);
    for (int i = 0; i < 1000 && !stream_ended; i++)
        usleep(1000);
    ck_assert(stream_ended);
    close(stream_peer);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("md_api");
    TCase *tc = tcase_create("api");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, answers_now_and_later);
    tcase_add_test(tc, bad_requests);
    tcase_add_test(tc, read_only_socket);
    tcase_add_test(tc, peer_credentials);
    tcase_add_test(tc, oversized_request);
    tcase_add_test(tc, hundred_clients);
    tcase_add_test(tc, events_reach_subscribers_only);
    tcase_add_test(tc, byte_stream);
    suite_add_tcase(s, tc);
    return s;
}
