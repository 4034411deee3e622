/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's QMP client against kvmemu's own monitor server (on the
 * fake machine of tests/qmp): negotiation, replies in order, events, and
 * the end of the connection (pending commands fail, closed is called
 * once, and never after the owner closed it); and against a server that
 * does not speak QMP.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_machine.h"
#include "qmpc.h"
#include "testutil.h"

const bool test_needs_kvm = false;

static struct fake_machine f;
static struct log_capture cap;
static char dir[48], path[80];
static uv_loop_t loop;

struct record {
    bool ready;
    unsigned closed;
    char why[160];
    char events[8][32];
    unsigned nevents;
    unsigned replies;
    char last_status[32];
    char last_error[160];
    unsigned failures;
};

static struct record rec;

static void on_ready(void *opaque)
{
    ((struct record *)opaque)->ready = true;
}

static void on_event(void *opaque, const char *name, json_object *data)
{
    struct record *r = opaque;

    (void)data;
    if (r->nevents < 8)
        snprintf(r->events[r->nevents++], sizeof(r->events[0]), "%s", name);
}

static void on_closed(void *opaque, const char *why)
{
    struct record *r = opaque;

    r->closed++;
    snprintf(r->why, sizeof(r->why), "%s", why);
}

static const struct md_qmpc_ops ops = { on_ready, on_event, on_closed };

static void on_reply(void *opaque, json_object *ret, const char *error)
{
    struct record *r = opaque;
    json_object *st = NULL;

    if (!ret) {
        r->failures++;
        snprintf(r->last_error, sizeof(r->last_error), "%s", error);
        return;
    }
    r->replies++;
    if (json_object_object_get_ex(ret, "status", &st))
        snprintf(r->last_status, sizeof(r->last_status), "%s", json_object_get_string(st));
}

/* Runs the loop until cond or 5 s. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        for (int i_ = 0; i_ < 5000 && !(cond); i_++) {                                             \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            usleep(1000);                                                                          \
        }                                                                                          \
        ck_assert_msg((cond), "timed out: %s", #cond);                                             \
    } while (0)

static void setup(void)
{
    memset(&rec, 0, sizeof(rec));
    fake_machine_init(&f);
    log_capture_init(&cap);
    snprintf(dir, sizeof(dir), "/tmp/test_md_qmpc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/qmp.sock", dir);
    uv_loop_init(&loop);
}

static void teardown(void)
{
    em_monitor_destroy(f.mon);
    fake_machine_fini(&f);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    unlink(path);
    rmdir(dir);
}

static void serve(void)
{
    f.mon = em_monitor_create(&f.m, &cap.logger);
    ck_assert_int_eq(em_monitor_listen_unix(f.mon, path), 0);
    ck_assert_int_eq(em_monitor_start(f.mon), 0);
}

START_TEST(commands_and_events)
{
    struct md_qmpc *q;

    serve();
    q = md_qmpc_connect(&loop, path, &ops, &rec);
    ck_assert_ptr_nonnull(q);
    /* Queued before negotiation: sent after it, in order. */
    md_qmpc_execute(q, "query-status", NULL, on_reply, &rec);
    md_qmpc_execute(q, "stop", NULL, on_reply, &rec);
    md_qmpc_execute(q, "query-status", NULL, on_reply, &rec);
    RUN_UNTIL(rec.replies == 3);
    ck_assert(rec.ready);
    ck_assert(md_qmpc_is_ready(q));
    ck_assert_str_eq(rec.last_status, "paused");
    RUN_UNTIL(rec.nevents == 1);
    ck_assert_str_eq(rec.events[0], "STOP");
    /* An error reply reaches its callback with the server's text. */
    md_qmpc_execute(q, "no-such-command", NULL, on_reply, &rec);
    RUN_UNTIL(rec.failures == 1);
    ck_assert_msg(strstr(rec.last_error, "has not been found"), "%s", rec.last_error);
    /* Arguments go through (and a refused argument is an error). */
    {
        json_object *args = json_object_new_object();

        json_object_object_add(args, "bogus", json_object_new_int(1));
        md_qmpc_execute(q, "cont", args, on_reply, &rec);
    }
    RUN_UNTIL(rec.failures == 2);
    ck_assert_msg(strstr(rec.last_error, "Parameter 'bogus' is unexpected"), "%s", rec.last_error);
    ck_assert_uint_eq(fake_machine_calls(&f, &f.conts), 0);
    md_qmpc_close(q);
    uv_run(&loop, UV_RUN_NOWAIT);
    ck_assert_uint_eq(rec.closed, 0); /* closed by us: no callback */
}
END_TEST

START_TEST(the_end_fails_what_is_pending)
{
    struct md_qmpc *q;

    serve();
    q = md_qmpc_connect(&loop, path, &ops, &rec);
    RUN_UNTIL(rec.ready);
    /* The server goes away with a command in flight. */
    f.stop_delay_ms = 200;
    md_qmpc_execute(q, "stop", NULL, on_reply, &rec);
    md_qmpc_execute(q, "query-status", NULL, on_reply, &rec);
    uv_run(&loop, UV_RUN_NOWAIT);
    em_monitor_destroy(f.mon);
    f.mon = NULL;
    RUN_UNTIL(rec.closed == 1);
    /* The stop was answered before the monitor went; what was not answered
     * failed, and nothing was dropped silently. */
    ck_assert_uint_eq(rec.replies + rec.failures, 2);
    ck_assert_msg(strstr(rec.why, "closed"), "%s", rec.why);
    /* q went with the closed callback. */
}
END_TEST

/* The owner closes a connection whose end is already under way (the
 * peer's EOF read in this loop iteration, its close callback not run yet):
 * as mgmtd does when an emulator exits and its exit is seen then. */
static struct md_qmpc *owned;
static uv_check_t check; /* closed by the teardown's loop run: not on the stack */
static bool released;
static unsigned done_at_release;

static void release_when_ending(uv_check_t *h)
{
    if (released || md_qmpc_is_ready(owned))
        return;
    released = true;
    md_qmpc_close(owned);
    done_at_release = rec.replies + rec.failures;
    uv_check_stop(h);
}

START_TEST(closing_an_ending_connection)
{
    serve();
    owned = md_qmpc_connect(&loop, path, &ops, &rec);
    RUN_UNTIL(rec.ready);
    released = false;
    /* Commands in flight as the server goes. */
    f.stop_delay_ms = 200;
    md_qmpc_execute(owned, "stop", NULL, on_reply, &rec);
    md_qmpc_execute(owned, "query-status", NULL, on_reply, &rec);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_check_init(&loop, &check);
    uv_check_start(&check, release_when_ending);
    em_monitor_destroy(f.mon);
    f.mon = NULL;
    RUN_UNTIL(released);
    /* Each command was answered or failed before md_qmpc_close()
     * returned... */
    ck_assert_uint_eq(done_at_release, 2);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    /* ... and nothing called back after it: no closed callback, and no
     * second answer. */
    ck_assert_uint_eq(rec.closed, 0);
    ck_assert_uint_eq(rec.replies + rec.failures, 2);
    uv_close((uv_handle_t *)&check, NULL);
}
END_TEST

START_TEST(nobody_listening)
{
    struct md_qmpc *q = md_qmpc_connect(&loop, path, &ops, &rec);

    ck_assert_ptr_nonnull(q);
    RUN_UNTIL(rec.closed == 1);
    ck_assert_msg(strstr(rec.why, "cannot connect to the monitor"), "%s", rec.why);
    ck_assert(!rec.ready);
}
END_TEST

/* A server that answers with something else than QMP. */
START_TEST(not_qmp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0), cfd;
    struct md_qmpc *q;

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    q = md_qmpc_connect(&loop, path, &ops, &rec);
    ck_assert_ptr_nonnull(q);
    md_qmpc_execute(q, "query-status", NULL, on_reply, &rec);
    for (int i = 0; i < 100; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    cfd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(cfd, 0);
    ck_assert_int_eq(write(cfd, "HTTP/1.0 200 OK\r\n", 17), 17);
    RUN_UNTIL(rec.closed == 1);
    ck_assert_msg(strstr(rec.why, "not QMP"), "%s", rec.why);
    ck_assert_uint_eq(rec.failures, 1);
    close(cfd);
    close(lfd);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("md_qmpc");
    TCase *tc = tcase_create("qmpc");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, commands_and_events);
    tcase_add_test(tc, the_end_fails_what_is_pending);
    tcase_add_test(tc, closing_an_ending_connection);
    tcase_add_test(tc, nobody_listening);
    tcase_add_test(tc, not_qmp);
    suite_add_tcase(s, tc);
    return s;
}
