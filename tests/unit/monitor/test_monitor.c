/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The monitor's socket server on the fake machine, with real clients
 * (tests/qmp/qmp_client): the socket file and its mode, listening and
 * connected descriptors, several clients each negotiating on its own,
 * events only for clients past negotiation, a client that leaves in the
 * middle of a command, oversized input and a client that does not read
 * (each disconnected alone), and the last replies flushed at the end.
 * Under ASan, anything a departed client left behind is a leak report.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_machine.h"
#include "qmp_client.h"
#include "testutil.h"

const bool test_needs_kvm = false;

#define T 5000 /* ms: every wait's deadline */

static struct fake_machine f;
static struct log_capture cap;
static char dir[48], path[80];

static void setup(void)
{
    fake_machine_init(&f);
    log_capture_init(&cap);
    snprintf(dir, sizeof(dir), "/tmp/test_monitor.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/qmp.sock", dir);
    f.mon = em_monitor_create(&f.m, &cap.logger);
    ck_assert_ptr_nonnull(f.mon);
}

static void teardown(void)
{
    em_monitor_destroy(f.mon);
    fake_machine_fini(&f);
    unlink(path);
    rmdir(dir);
}

static void serve(void)
{
    ck_assert_int_eq(em_monitor_listen_unix(f.mon, path), 0);
    ck_assert_int_eq(em_monitor_start(f.mon), 0);
}

static void connect_ready(struct qc *c)
{
    ck_assert_msg(qc_connect_ready(c, path, T) == 0, "%s", c->error);
}

static bool wait_clients(unsigned n)
{
    for (int i = 0; i < T && em_monitor_clients(f.mon) != n; i++)
        usleep(1000);
    return em_monitor_clients(f.mon) == n;
}

static void expect_return(struct qc *c, const char *req)
{
    json_object *r = qc_cmd(c, req, T);

    ck_assert_msg(r, "no reply to %s: %s", req, c->error);
    ck_assert_msg(json_object_object_get_ex(r, "return", NULL), "%s",
                  json_object_to_json_string(r));
    json_object_put(r);
}

START_TEST(socket_file)
{
    struct stat st;
    struct qc c;

    serve();
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    /* Only its owner may connect: the monitor controls the VM. */
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    connect_ready(&c);
    expect_return(&c, "{\"execute\": \"query-status\"}");
    qc_close(&c);
    em_monitor_destroy(f.mon);
    f.mon = NULL;
    ck_assert_int_eq(lstat(path, &st), -1);
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(stale_socket_replaced_other_files_kept)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), file;
    struct qc c;
    char buf[8] = "";

    /* A socket left behind by a kvmemu that died is replaced. */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    serve();
    connect_ready(&c);
    qc_close(&c);
    em_monitor_destroy(f.mon);

    /* Anything else at the path is not ours to remove. */
    file = open(path, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(file, 0);
    ck_assert_int_eq(write(file, "keep", 4), 4);
    close(file);
    f.mon = em_monitor_create(&f.m, &cap.logger);
    ck_assert_int_eq(em_monitor_listen_unix(f.mon, path), -EEXIST);
    ck_assert_msg(log_has(&cap, "exists and is not a socket"), "%s", cap.text);
    ck_assert_msg(log_has(&cap, path), "%s", cap.text);
    file = open(path, O_RDONLY);
    ck_assert_int_eq(read(file, buf, sizeof(buf)), 4);
    close(file);
    ck_assert_str_eq(buf, "keep");
    unlink(path);
    /* A directory that does not exist: named in the error. */
    ck_assert_int_lt(em_monitor_listen_unix(f.mon, "/nonexistent/dir/qmp.sock"), 0);
    ck_assert_msg(log_has(&cap, "monitor /nonexistent/dir/qmp.sock: "), "%s", cap.text);
}
END_TEST

START_TEST(descriptors)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), pair[2], pipefd[2];
    struct qc a, b;

    /* A listening socket, as mgmtd passes one. */
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);
    ck_assert_int_eq(em_monitor_listen_fd(f.mon, lfd), 0);
    /* One client, already connected. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    ck_assert_int_eq(em_monitor_listen_fd(f.mon, pair[1]), 0);
    /* Not a socket: refused, named. */
    ck_assert_int_eq(pipe(pipefd), 0);
    ck_assert_int_eq(em_monitor_listen_fd(f.mon, pipefd[0]), -ENOTSOCK);
    ck_assert_msg(log_has(&cap, "monitor fd="), "%s", cap.text);
    close(pipefd[0]);
    close(pipefd[1]);
    ck_assert_int_eq(em_monitor_start(f.mon), 0);

    connect_ready(&a);
    ck_assert_msg(qc_open_fd(&b, pair[0], T) == 0, "%s", b.error);
    expect_return(&b, "{\"execute\": \"qmp_capabilities\"}");
    expect_return(&a, "{\"execute\": \"query-name\"}");
    expect_return(&b, "{\"execute\": \"query-name\"}");
    ck_assert(wait_clients(2));
    qc_close(&a);
    qc_close(&b);
    ck_assert(wait_clients(0));
    /* The socket file was not ours: it stays. */
    em_monitor_destroy(f.mon);
    f.mon = NULL;
    ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(clients_negotiate_alone_and_events_skip_negotiating_ones)
{
    struct qc a, b;
    json_object *r, *ev;

    serve();
    connect_ready(&a);
    ck_assert_msg(qc_connect(&b, path, T) == 0, "%s", b.error);
    /* B still negotiates: its commands are refused, A's are not. */
    r = qc_cmd(&b, "{\"execute\": \"stop\"}", T);
    ck_assert_str_eq(qc_error_class(r), "CommandNotFound");
    json_object_put(r);
    ck_assert_uint_eq(fake_machine_calls(&f, &f.stops), 0);
    expect_return(&a, "{\"execute\": \"stop\"}");
    ev = qc_event(&a, "STOP", T);
    ck_assert_msg(ev, "%s", a.error);
    ck_assert_int_eq(json_object_get_int64(json_object_object_get(
                         json_object_object_get(ev, "timestamp"), "seconds")) > 1600000000,
                     1);
    ck_assert_ptr_null(json_object_object_get(ev, "data")); /* STOP has none */
    json_object_put(ev);
    /* B negotiates now: only events raised after that reach it. */
    expect_return(&b, "{\"execute\": \"qmp_capabilities\"}");
    expect_return(&a, "{\"execute\": \"cont\"}");
    ev = qc_event(&b, "RESUME", T);
    ck_assert_msg(ev, "%s", b.error);
    json_object_put(ev);
    ck_assert_uint_eq(qc_events_queued(&b, "STOP"), 0);
    ev = qc_event(&a, "RESUME", T);
    ck_assert_ptr_nonnull(ev);
    json_object_put(ev);
    qc_close(&a);
    qc_close(&b);
}
END_TEST

START_TEST(client_leaves_mid_command)
{
    struct qc a, b;

    serve();
    connect_ready(&a);
    connect_ready(&b);
    /* A asks for a stop that takes a while, and hangs up at once. */
    f.stop_delay_ms = 300;
    ck_assert_int_eq(qc_send_raw(&a, "{\"execute\": \"stop\"}\r\n", 21), 0);
    qc_close(&a);
    ck_assert(wait_clients(1));
    /* The command ran to its end; B is served, then a new client. */
    ck_assert_uint_eq(fake_machine_calls(&f, &f.stops), 1);
    f.stop_delay_ms = 0;
    expect_return(&b, "{\"execute\": \"query-status\"}");
    qc_close(&b);
    connect_ready(&a);
    expect_return(&a, "{\"execute\": \"cont\"}");
    qc_close(&a);
    ck_assert(wait_clients(0));
}
END_TEST

START_TEST(oversized_input_disconnects_that_client_only)
{
    struct qc a, b;
    size_t n = 2u << 20;
    static const char head[] = "{\"execute\": \"stop\", \"arguments\": {\"x\": \"";
    char *big = malloc(n);
    json_object *r;

    serve();
    connect_ready(&a);
    connect_ready(&b);
    memcpy(big, head, sizeof(head) - 1);
    memset(big + sizeof(head) - 1, 'a', n - (sizeof(head) - 1));
    /* The server may close before it has read everything. */
    qc_send_raw(&a, big, n);
    r = qc_read(&a, T);
    ck_assert_msg(r, "%s", a.error);
    ck_assert_str_eq(qc_error_class(r), "GenericError");
    ck_assert(strstr(qc_str(r, "error.desc"), "message too long"));
    json_object_put(r);
    ck_assert(qc_wait_eof(&a, T));
    expect_return(&b, "{\"execute\": \"query-status\"}");
    ck_assert_uint_eq(fake_machine_calls(&f, &f.stops), 0);
    qc_close(&a);
    qc_close(&b);
    free(big);
}
END_TEST

START_TEST(a_client_that_does_not_read_is_dropped)
{
    struct qc slow, fast;
    unsigned got = 0;

    serve();
    connect_ready(&slow);
    connect_ready(&fast);
    /* 6 MiB of events: more than a client may leave unread (4 MiB). The
     * fast one reads them as they come. */
    for (unsigned i = 0; i < 60000; i++) {
        json_object *d = json_object_new_object();

        json_object_object_add(d, "pad",
                               json_object_new_string("0123456789012345678901234567890123456789"));
        em_monitor_event(f.mon, "TEST_FLOOD", d);
        /* The fast one keeps up: it reads all there is so far. */
        if (i % 1000 == 999) {
            json_object *ev;

            while (got < i + 1 && (ev = qc_read(&fast, T)) != NULL) {
                got++;
                json_object_put(ev);
            }
            ck_assert_uint_eq(got, i + 1);
        }
    }
    ck_assert_msg(log_has(&cap, "has not read"), "%s", cap.text);
    ck_assert(wait_clients(1));
    expect_return(&fast, "{\"execute\": \"query-status\"}");
    qc_close(&slow);
    qc_close(&fast);
}
END_TEST

static void quit_ends_server(struct fake_machine *fm)
{
    (void)fm;
}

START_TEST(last_words_are_flushed)
{
    struct qc a;
    json_object *r, *ev;

    f.on_quit = quit_ends_server;
    serve();
    connect_ready(&a);
    /* As kvmemu does: "quit", then the monitor is destroyed at once. The
     * reply and the SHUTDOWN event still reach the client, then EOF. */
    ck_assert_int_eq(qc_send_raw(&a, "{\"execute\": \"quit\", \"id\": 9}\r\n", 30), 0);
    while (fake_machine_calls(&f, &f.quits) == 0)
        usleep(1000);
    em_monitor_destroy(f.mon);
    f.mon = NULL;
    r = qc_read(&a, T);
    ck_assert_msg(r, "%s", a.error);
    ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "id")), 9);
    json_object_put(r);
    ev = qc_event(&a, "SHUTDOWN", T);
    ck_assert_msg(ev, "%s", a.error);
    ck_assert_str_eq(qc_str(ev, "data.reason"), "host-qmp-quit");
    json_object_put(ev);
    ck_assert(qc_wait_eof(&a, T));
    qc_close(&a);
}
END_TEST

START_TEST(garbage_then_a_command)
{
    static const char garbage[] = "\x00\xff\xfe garbage\n";
    struct qc a;
    json_object *r;

    serve();
    connect_ready(&a);
    ck_assert_int_eq(qc_send_raw(&a, garbage, sizeof(garbage) - 1), 0);
    r = qc_read(&a, T);
    ck_assert_msg(r, "%s", a.error);
    ck_assert_str_eq(qc_error_class(r), "GenericError");
    json_object_put(r);
    expect_return(&a, "{\"execute\": \"query-status\"}");
    qc_close(&a);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("monitor");
    TCase *tc = tcase_create("sockets");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, socket_file);
    tcase_add_test(tc, stale_socket_replaced_other_files_kept);
    tcase_add_test(tc, descriptors);
    tcase_add_test(tc, clients_negotiate_alone_and_events_skip_negotiating_ones);
    tcase_add_test(tc, client_leaves_mid_command);
    tcase_add_test(tc, oversized_input_disconnects_that_client_only);
    tcase_add_test(tc, a_client_that_does_not_read_is_dropped);
    tcase_add_test(tc, last_words_are_flushed);
    tcase_add_test(tc, garbage_then_a_command);
    suite_add_tcase(s, tc);
    return s;
}
