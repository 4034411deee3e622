/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The chardev backends on a real libuv loop, without a machine: files,
 * unix sockets (clients coming and going, stale and foreign paths), ptys
 * nobody reads, stdio on pipes and on a terminal (raw mode put back, the
 * Ctrl-A escapes), flow control that loses nothing, and every error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "testutil.h"

/* ---- a fake frontend ---- */

struct fe {
    uint8_t got[65536];
    size_t len;
    size_t room; /* bytes it takes before refusing */
    unsigned refusals;
    unsigned quits;
};

static size_t fe_receive(void *opaque, const uint8_t *buf, size_t n)
{
    struct fe *f = opaque;
    size_t k = n < f->room ? n : f->room;

    ck_assert_uint_le(f->len + k, sizeof(f->got));
    memcpy(f->got + f->len, buf, k);
    f->len += k;
    f->room -= k;
    if (k < n)
        f->refusals++;
    return k;
}

static void fe_quit(void *opaque)
{
    struct fe *f = opaque;

    f->quits++;
}

static const struct em_chardev_frontend fe_ops = { fe_receive, fe_quit };

/* ---- fixture: a loop, a log, a scratch directory, a notices stream ---- */

static uv_loop_t loop;
static struct log_capture cap;
static char dir[64];
static char *notes;
static size_t notes_len;
static FILE *notices;
static struct fe fe;

static void setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    log_capture_init(&cap);
    snprintf(dir, sizeof(dir), "/tmp/chardev-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    notices = open_memstream(&notes, &notes_len);
    ck_assert_ptr_nonnull(notices);
    memset(&fe, 0, sizeof(fe));
    fe.room = SIZE_MAX;
}

static void teardown(void)
{
    char cmd[128];

    /* Every handle the chardev made must be closed and freed by now. */
    uv_run(&loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    fclose(notices);
    free(notes);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs the loop until *flag-like condition holds or 3 s pass. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        double deadline_ = now_ms() + 3000;                                                        \
        while (!(cond) && now_ms() < deadline_) {                                                  \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            usleep(500);                                                                           \
        }                                                                                          \
        ck_assert_msg((cond), "timed out waiting for: %s", #cond);                                 \
    } while (0)

static void run_a_while(int ms)
{
    double deadline = now_ms() + ms;

    while (now_ms() < deadline) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
}

static struct em_chardev *open_spec(enum em_chardev_kind kind, const char *path)
{
    struct em_chardev_spec spec = { .kind = kind, .path = path };
    struct em_chardev_config cfg;

    em_chardev_config_init(&cfg);
    cfg.spec = &spec;
    cfg.loop = &loop;
    cfg.log = &cap.logger;
    cfg.notices = notices;
    return em_chardev_open(&cfg);
}

static struct em_chardev *open_stdio(int in, int out)
{
    struct em_chardev_spec spec = { .kind = EM_CHARDEV_STDIO };
    struct em_chardev_config cfg;

    em_chardev_config_init(&cfg);
    cfg.spec = &spec;
    cfg.loop = &loop;
    cfg.log = &cap.logger;
    cfg.notices = notices;
    cfg.stdin_fd = in;
    cfg.stdout_fd = out;
    return em_chardev_open(&cfg);
}

static void put(struct em_chardev *c, const char *s)
{
    em_chardev_write(c, (const uint8_t *)s, strlen(s));
}

static void close_chardev(struct em_chardev *c)
{
    em_chardev_close(c);
    uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks */
}

static char *path_in_dir(const char *name)
{
    static char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static const char *notes_text(void)
{
    fflush(notices);
    return notes ? notes : "";
}

static ssize_t read_some(int fd, void *buf, size_t n, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, timeout_ms) <= 0)
        return -1;
    return read(fd, buf, n);
}

/* ---- the escape filter ---- */

static size_t filter(struct em_escape *e, const char *in, size_t n, uint8_t *out,
                     enum em_escape_action *actions)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        enum em_escape_action a;

        len += em_escape_feed(e, (uint8_t)in[i], out + len, &a);
        actions[i] = a;
    }
    return len;
}

START_TEST(escape_filter)
{
    struct em_escape e = { 0 };
    enum em_escape_action act[16];
    uint8_t out[32];
    size_t n;

    n = filter(&e, "ab\r", 3, out, act);
    ck_assert_uint_eq(n, 3);
    ck_assert_mem_eq(out, "ab\r", 3);

    n = filter(&e, "\x01\x01", 2, out, act); /* C-a C-a: one C-a */
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0], 0x01);
    ck_assert_int_eq(act[1], EM_ESCAPE_NONE);

    n = filter(&e, "\x01q", 2, out, act); /* not a command: both bytes */
    ck_assert_uint_eq(n, 2);
    ck_assert_mem_eq(out, "\x01q", 2);

    n = filter(&e, "\x01h", 2, out, act);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(act[0], EM_ESCAPE_NONE);
    ck_assert_int_eq(act[1], EM_ESCAPE_HELP);

    n = filter(&e, "\x01X", 2, out, act); /* commands are case-sensitive */
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(act[1], EM_ESCAPE_NONE);

    /* A C-a at the end of one read pairs with the start of the next. */
    n = filter(&e, "z\x01", 2, out, act);
    ck_assert_uint_eq(n, 1);
    n = filter(&e, "x", 1, out, act);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(act[0], EM_ESCAPE_QUIT);
    ck_assert(!e.armed);
    ck_assert_ptr_nonnull(strstr(em_escape_help, "C-a x"));
}
END_TEST

/* ---- none ---- */

START_TEST(none_drops_output)
{
    struct em_chardev *c = open_spec(EM_CHARDEV_NONE, NULL);

    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    put(c, "into the void");
    ck_assert_uint_eq(em_chardev_written(c), 0);
    ck_assert_uint_eq(em_chardev_dropped(c), 13);
    ck_assert_str_eq(em_chardev_pty_path(c), "");
    close_chardev(c);
    em_chardev_write(NULL, (const uint8_t *)"x", 1); /* NULL is a no-op */
    em_chardev_close(NULL);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

/* ---- file ---- */

static char *slurp(const char *path, size_t *len)
{
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    ck_assert_int_ge(fd, 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

START_TEST(file_creates_truncates_and_writes)
{
    const char *p = path_in_dir("console.log");
    struct em_chardev *c;
    struct stat st;
    size_t len;
    int fd;

    fd = open(p, O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "an older, longer run\n", 21), 21);
    close(fd);

    c = open_spec(EM_CHARDEV_FILE, p);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    ck_assert_str_eq(slurp(p, &len), ""); /* truncated, as QEMU does */
    put(c, "boot\n");
    put(c, "ok\n");
    ck_assert_str_eq(slurp(p, &len), "boot\nok\n");
    ck_assert_uint_eq(em_chardev_written(c), 8);
    close_chardev(c);
    ck_assert_int_eq(stat(p, &st), 0);

    /* A new file gets mode 0644 (less the umask). */
    p = path_in_dir("new.log");
    c = open_spec(EM_CHARDEV_FILE, p);
    ck_assert_ptr_nonnull(c);
    close_chardev(c);
    ck_assert_int_eq(stat(p, &st), 0);
    {
        mode_t mask = umask(0);

        umask(mask);
        ck_assert_uint_eq(st.st_mode & 0777, 0644 & ~mask);
    }
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(file_errors_name_the_path)
{
    char p[PATH_MAX];

    snprintf(p, sizeof(p), "%s/no-such-dir/out.log", dir);
    ck_assert_ptr_null(open_spec(EM_CHARDEV_FILE, p));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, "serial file:") && log_has(&cap, p) &&
                      log_has(&cap, "No such file or directory"),
                  "%s", cap.text);

    log_capture_init(&cap);
    ck_assert_ptr_null(open_spec(EM_CHARDEV_FILE, dir));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, dir) && log_has(&cap, "Is a directory"), "%s", cap.text);
}
END_TEST

START_TEST(file_write_error_is_reported_once)
{
    struct em_chardev *c = open_spec(EM_CHARDEV_FILE, "/dev/full");

    ck_assert_ptr_nonnull(c);
    put(c, "abc");
    put(c, "de");
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, "/dev/full") && log_has(&cap, "No space left"), "%s", cap.text);
    ck_assert_uint_eq(em_chardev_dropped(c), 5);
    close_chardev(c);
}
END_TEST

/* ---- unix ---- */

static void set_sun_path(struct sockaddr_un *sa, const char *path)
{
    ck_assert_uint_lt(strlen(path), sizeof(sa->sun_path));
    memcpy(sa->sun_path, path, strlen(path) + 1);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    set_sun_path(&sa, path);
    ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s: %s", path,
                  strerror(errno));
    return fd;
}

/* A connect that does not wait for the backlog: the test thread is the
 * one that runs the loop which accepts. */
static int connect_retrying(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    double deadline = now_ms() + 3000;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    ck_assert_int_ge(fd, 0);
    set_sun_path(&sa, path);
    while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        ck_assert_msg(errno == EAGAIN && now_ms() < deadline, "connect %s: %s", path,
                      strerror(errno));
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    return fd;
}

static void expect_read(int fd, const char *want)
{
    char buf[256];
    size_t got = 0, n = strlen(want);

    while (got < n) {
        ssize_t r = read_some(fd, buf + got, n - got, 3000);

        ck_assert_msg(r > 0, "expected '%s', got %zu bytes", want, got);
        got += (size_t)r;
    }
    ck_assert_mem_eq(buf, want, n);
}

START_TEST(unix_serves_one_client_after_another)
{
    const char *p = path_in_dir("serial.sock");
    struct em_chardev *c = open_spec(EM_CHARDEV_UNIX, p);
    struct stat st;
    int cl;

    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    em_chardev_attach(c, &fe_ops, &fe);

    /* No client: output is dropped, not kept. */
    put(c, "lost");
    ck_assert_uint_eq(em_chardev_dropped(c), 4);

    for (int round = 0; round < 3; round++) {
        char msg[32];

        cl = connect_to(p);
        RUN_UNTIL(em_chardev_connected(c));
        snprintf(msg, sizeof(msg), "to client %d", round);
        put(c, msg);
        expect_read(cl, msg);
        snprintf(msg, sizeof(msg), "from client %d;", round);
        fe.len = 0;
        ck_assert_int_eq(write(cl, msg, strlen(msg)), (int)strlen(msg));
        RUN_UNTIL(fe.len == strlen(msg));
        ck_assert_mem_eq(fe.got, msg, strlen(msg));
        close(cl);
        RUN_UNTIL(!em_chardev_connected(c));
    }
    ck_assert_uint_eq(em_chardev_dropped(c), 4);
    close_chardev(c);
    /* The socket file goes with it. */
    ck_assert_int_eq(access(p, F_OK), -1);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

static struct em_chardev *open_fd(int fd)
{
    struct em_chardev_spec spec = { .kind = EM_CHARDEV_UNIX, .fd = fd };
    struct em_chardev_config cfg;

    em_chardev_config_init(&cfg);
    cfg.spec = &spec;
    cfg.loop = &loop;
    cfg.log = &cap.logger;
    return em_chardev_open(&cfg);
}

/* fd=N: mgmtd made the socket; the chardev serves it and leaves it be. */
START_TEST(unix_inherited_listener)
{
    const char *p = path_in_dir("made-by-mgmtd.sock");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0), pair[2], cl;
    struct em_chardev *c;
    char name[160];

    ck_assert_uint_lt(strlen(p), sizeof(sa.sun_path));
    memcpy(sa.sun_path, p, strlen(p) + 1);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    c = open_fd(lfd);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    cl = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    put(c, "hello");
    expect_read(cl, "hello");
    ck_assert(em_chardev_filename(c, name, sizeof(name)));
    ck_assert_str_eq(name + strlen(name) - strlen("made-by-mgmtd.sock,server=on"),
                     "made-by-mgmtd.sock,server=on");
    close(cl);
    close_chardev(c);
    /* Not ours: the file stays. */
    ck_assert_int_eq(access(p, F_OK), 0);
    ck_assert_uint_eq(cap.count, 0);

    /* A descriptor that is not a listening unix socket is refused. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    ck_assert_ptr_null(open_fd(pair[0]));
    ck_assert_msg(log_has(&cap, "fd="), "%s", cap.text);
    ck_assert_msg(log_has(&cap, "not a listening unix socket"), "%s", cap.text);
    close(pair[0]);
    close(pair[1]);
}
END_TEST

START_TEST(unix_second_client_waits_for_the_first)
{
    const char *p = path_in_dir("serial.sock");
    struct em_chardev *c = open_spec(EM_CHARDEV_UNIX, p);
    char buf[8];
    int a, b;

    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    a = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    b = connect_to(p); /* queued in the backlog */
    run_a_while(20);
    put(c, "A");
    expect_read(a, "A");
    ck_assert_int_eq(read_some(b, buf, sizeof(buf), 50), -1); /* b gets nothing */
    ck_assert_int_eq(write(b, "b", 1), 1);
    run_a_while(20);
    ck_assert_uint_eq(fe.len, 0); /* b is not read yet */
    close(a);
    /* b is taken next, and what it sent meanwhile arrives. */
    RUN_UNTIL(fe.len == 1);
    ck_assert_uint_eq(fe.got[0], 'b');
    put(c, "B");
    expect_read(b, "B");
    close(b);
    close_chardev(c);
}
END_TEST

START_TEST(unix_survives_clients_that_come_and_go)
{
    const char *p = path_in_dir("serial.sock");
    struct em_chardev *c = open_spec(EM_CHARDEV_UNIX, p);
    int cl;

    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    for (int i = 0; i < 200; i++) {
        cl = connect_retrying(p);
        if (i % 3 == 0)
            ck_assert_int_eq(write(cl, "x", 1), 1);
        close(cl);
        if (i % 10 == 0)
            run_a_while(1);
        put(c, "y"); /* to whoever is there, or nobody */
    }
    run_a_while(50);
    fe.len = 0;
    cl = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    /* Drain what earlier clients sent before they left. */
    run_a_while(20);
    fe.len = 0;
    put(c, "still here");
    expect_read(cl, "still here");
    ck_assert_int_eq(write(cl, "ok", 2), 2);
    RUN_UNTIL(fe.len == 2);
    ck_assert_mem_eq(fe.got, "ok", 2);
    close(cl);
    close_chardev(c);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(unix_flow_control_loses_nothing)
{
    const char *p = path_in_dir("serial.sock");
    struct em_chardev *c = open_spec(EM_CHARDEV_UNIX, p);
    uint8_t data[5000];
    int cl;

    ck_assert_ptr_nonnull(c);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
    fe.room = 16; /* a UART's FIFO */
    em_chardev_attach(c, &fe_ops, &fe);
    cl = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    ck_assert_int_eq(write(cl, data, sizeof(data)), (int)sizeof(data));
    while (fe.len < sizeof(data)) {
        size_t before = fe.len;

        RUN_UNTIL(fe.room == 0 || fe.len == sizeof(data));
        /* Refused: nothing more arrives until the frontend has room. */
        run_a_while(2);
        ck_assert_uint_eq(fe.len, before + 16 > sizeof(data) ? sizeof(data) : before + 16);
        fe.room = 16;
        em_chardev_input_ready(c);
    }
    ck_assert_mem_eq(fe.got, data, sizeof(data));
    ck_assert_uint_gt(fe.refusals, 100);
    close(cl);
    close_chardev(c);
}
END_TEST

/* The byte a UART-like writer sends at position i. */
static uint8_t pattern_at(size_t i)
{
    return (uint8_t)(i * 131 + i / 4093);
}

/* Writes n pattern bytes one at a time, as a UART does. */
static void put_bytewise(struct em_chardev *c, size_t from, size_t n)
{
    for (size_t i = from; i < from + n; i++) {
        uint8_t b = pattern_at(i);

        em_chardev_write(c, &b, 1);
    }
}

/* Reads from fd, running the loop, until `want` bytes came or nothing more
 * comes for 2 s; returns how many, checking each against the pattern. */
static size_t drain_pattern(int fd, size_t want, size_t *first_bad)
{
    static uint8_t buf[65536];
    size_t got = 0;
    double idle_until = now_ms() + 2000;

    *first_bad = SIZE_MAX;
    while (got < want && now_ms() < idle_until) {
        ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (r <= 0) {
            uv_run(&loop, UV_RUN_NOWAIT);
            usleep(200);
            continue;
        }
        for (ssize_t i = 0; i < r && *first_bad == SIZE_MAX; i++)
            if (buf[i] != pattern_at(got + (size_t)i))
                *first_bad = got + (size_t)i;
        got += (size_t)r;
        idle_until = now_ms() + 2000;
    }
    return got;
}

/* A unix-socket chardev, attached, with a client connected: its socket. */
static struct em_chardev *open_with_client(int *client)
{
    const char *p = path_in_dir("serial.sock");
    struct em_chardev *c = open_spec(EM_CHARDEV_UNIX, p);

    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    *client = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    return c;
}

START_TEST(unix_slow_reader_loses_nothing_of_a_burst)
{
    struct em_chardev *c;
    size_t burst = 40000, got, bad;
    int cl;

    c = open_with_client(&cl);
    /* The client reads nothing while 40,000 one-byte writes come: a
     * socket takes a few hundred of those before it is full. */
    put_bytewise(c, 0, burst);
    ck_assert_uint_eq(em_chardev_dropped(c), 0);
    ck_assert_uint_gt(em_chardev_buffered(c), 0);
    got = drain_pattern(cl, burst, &bad);
    ck_assert_uint_eq(got, burst);
    ck_assert_msg(bad == SIZE_MAX, "byte %zu arrived out of order or changed", bad);
    ck_assert_uint_eq(em_chardev_written(c), burst);
    ck_assert_uint_eq(em_chardev_buffered(c), 0);
    ck_assert_uint_eq(em_chardev_dropped(c), 0);
    close(cl);
    close_chardev(c);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(unix_reader_far_behind_gets_an_unbroken_start)
{
    struct em_chardev *c;
    size_t total = 400000, got, bad;
    int cl;

    c = open_with_client(&cl);
    put_bytewise(c, 0, total);
    /* More than the socket and the 64 KiB kept can hold: the rest is
     * dropped, and the writer was never held up. */
    ck_assert_uint_eq(em_chardev_buffered(c), 64 * 1024);
    ck_assert_uint_gt(em_chardev_dropped(c), 0);
    got = drain_pattern(cl, total, &bad);
    /* What arrives is the start of the stream, with no gap in it. */
    ck_assert_msg(bad == SIZE_MAX, "byte %zu arrived out of order or changed", bad);
    ck_assert_uint_eq(got, em_chardev_written(c));
    ck_assert_uint_eq(got + em_chardev_dropped(c), total);
    /* Output after the backlog cleared flows again, straight after it. */
    put_bytewise(c, got, 100);
    ck_assert_uint_eq(drain_pattern(cl, 100, &bad), 100);
    close(cl);
    close_chardev(c);
}
END_TEST

START_TEST(unix_next_client_does_not_get_the_last_ones_backlog)
{
    struct em_chardev *c;
    uint64_t kept;
    char buf[64];
    int cl;

    c = open_with_client(&cl);
    put_bytewise(c, 0, 20000);
    kept = em_chardev_buffered(c);
    ck_assert_uint_gt(kept, 0);
    close(cl);
    RUN_UNTIL(!em_chardev_connected(c));
    ck_assert_uint_eq(em_chardev_buffered(c), 0);
    ck_assert_uint_eq(em_chardev_dropped(c), kept);
    cl = connect_to(path_in_dir("serial.sock"));
    RUN_UNTIL(em_chardev_connected(c));
    put(c, "fresh");
    expect_read(cl, "fresh");
    ck_assert_int_eq(read_some(cl, buf, sizeof(buf), 50), -1);
    close(cl);
    close_chardev(c);
}
END_TEST

START_TEST(unix_close_gives_the_reader_the_last_words)
{
    struct em_chardev *c;
    size_t got = 0, bad = SIZE_MAX, n = 30000;
    static uint8_t buf[65536];
    int cl;

    c = open_with_client(&cl);
    put_bytewise(c, 0, n);
    ck_assert_uint_gt(em_chardev_buffered(c), 0);
    /* A reader in another process drains while kvmemu closes. */
    if (fork() == 0) {
        /* It shares the chardev's descriptors, so no end of file comes:
         * it stops after n bytes, or after 2 s without any. */
        while (got < n) {
            ssize_t r = read_some(cl, buf, sizeof(buf), 2000);

            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                if (bad == SIZE_MAX && buf[i] != pattern_at(got + (size_t)i))
                    bad = got + (size_t)i;
            got += (size_t)r;
        }
        _exit(got == n && bad == SIZE_MAX ? 0 : 1);
    }
    close_chardev(c);
    close(cl);
    {
        int status;

        ck_assert_int_gt(wait(&status), 0);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "the reader did not get all %zu bytes in order", n);
    }
}
END_TEST

START_TEST(unix_refuses_a_path_that_is_not_a_socket)
{
    const char *p = path_in_dir("precious.txt");
    size_t len;
    int fd = open(p, O_WRONLY | O_CREAT, 0644);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "keep me", 7), 7);
    close(fd);
    ck_assert_ptr_null(open_spec(EM_CHARDEV_UNIX, p));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, p) && log_has(&cap, "not a socket"), "%s", cap.text);
    ck_assert_str_eq(slurp(p, &len), "keep me");
}
END_TEST

START_TEST(unix_replaces_a_stale_socket)
{
    const char *p = path_in_dir("serial.sock");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct em_chardev *c;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), cl;

    set_sun_path(&sa, p);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd); /* the file stays, nobody listens: stale */
    c = open_spec(EM_CHARDEV_UNIX, p);
    ck_assert_msg(c != NULL, "%s", cap.text);
    em_chardev_attach(c, &fe_ops, &fe);
    cl = connect_to(p);
    RUN_UNTIL(em_chardev_connected(c));
    close(cl);
    close_chardev(c);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(unix_refuses_a_socket_in_use)
{
    const char *p = path_in_dir("serial.sock");
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), cl;

    set_sun_path(&sa, p);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    ck_assert_ptr_null(open_spec(EM_CHARDEV_UNIX, p));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, p) && log_has(&cap, "another process is listening"), "%s",
                  cap.text);
    /* The other listener was left alone. */
    cl = connect_to(p);
    close(cl);
    close(fd);
}
END_TEST

START_TEST(unix_errors_name_the_path)
{
    char p[400];

    snprintf(p, sizeof(p), "%s/no-such-dir/serial.sock", dir);
    ck_assert_ptr_null(open_spec(EM_CHARDEV_UNIX, p));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, p) && log_has(&cap, "No such file or directory"), "%s", cap.text);

    log_capture_init(&cap);
    memset(p, 'a', 200);
    p[0] = '/';
    p[200] = '\0';
    ck_assert_ptr_null(open_spec(EM_CHARDEV_UNIX, p));
    ck_assert_uint_eq(cap.count, 1);
    ck_assert_msg(log_has(&cap, "longer than 107 bytes"), "%s", cap.text);
}
END_TEST

/* ---- pty ---- */

START_TEST(pty_carries_bytes_both_ways_in_raw_mode)
{
    struct em_chardev *c = open_spec(EM_CHARDEV_PTY, NULL);
    char want[128], buf[64];
    const char *path;
    int fd;

    ck_assert_ptr_nonnull(c);
    path = em_chardev_pty_path(c);
    ck_assert_msg(!strncmp(path, "/dev/pts/", 9), "%s", path);
    snprintf(want, sizeof(want), "kvmemu: serial: redirected to %s\n", path);
    ck_assert_str_eq(notes_text(), want); /* exactly once */
    em_chardev_attach(c, &fe_ops, &fe);

    fd = open(path, O_RDWR | O_NOCTTY);
    ck_assert_int_ge(fd, 0);
    put(c, "line\n");
    expect_read(fd, "line\n"); /* raw: no \r added */
    ck_assert_int_eq(write(fd, "typed\r\x03", 7), 7);
    RUN_UNTIL(fe.len == 7);
    ck_assert_mem_eq(fe.got, "typed\r\x03", 7); /* raw: nothing translated */
    /* Nothing is echoed back to the terminal. */
    ck_assert_int_eq(read_some(fd, buf, sizeof(buf), 50), -1);
    close(fd);
    /* The terminal's user leaving is not the end of input. */
    run_a_while(20);
    fd = open(path, O_RDWR | O_NOCTTY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "again", 5), 5);
    RUN_UNTIL(fe.len == 12);
    close(fd);
    close_chardev(c);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(pty_nobody_reads_does_not_block)
{
    struct em_chardev *c = open_spec(EM_CHARDEV_PTY, NULL);
    static uint8_t chunk[4096];
    double t0;

    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    memset(chunk, 'x', sizeof(chunk));
    t0 = now_ms();
    for (int i = 0; i < 256; i++)
        em_chardev_write(c, chunk, sizeof(chunk));
    for (int i = 0; i < 4096; i++)
        em_chardev_write(c, chunk, 1);
    ck_assert_msg(now_ms() - t0 < 2000, "1 MiB to an unread pty took %.0f ms", now_ms() - t0);
    ck_assert_uint_eq(em_chardev_written(c) + em_chardev_buffered(c) + em_chardev_dropped(c),
                      (1u << 20) + 4096);
    ck_assert_uint_gt(em_chardev_dropped(c), 1u << 19);
    ck_assert_uint_eq(cap.count, 0); /* a full pty is not an error */
    close_chardev(c);
}
END_TEST

/* ---- stdio ---- */

START_TEST(stdio_on_pipes_passes_bytes_through)
{
    int in[2], out[2], flags;
    struct em_chardev *c;

    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    flags = fcntl(in[0], F_GETFL);
    c = open_stdio(in[0], out[1]);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    /* Not a terminal: C-a is an ordinary byte, nothing quits. */
    ck_assert_int_eq(write(in[1],
                           "\x01x\x01\x01"
                           "abc",
                           7),
                     7);
    RUN_UNTIL(fe.len == 7);
    ck_assert_mem_eq(fe.got,
                     "\x01x\x01\x01"
                     "abc",
                     7);
    ck_assert_uint_eq(fe.quits, 0);
    put(c, "guest says hi\n");
    expect_read(out[0], "guest says hi\n");
    /* libuv's non-blocking flag did not stay on our stdin. */
    ck_assert_int_eq(fcntl(in[0], F_GETFL), flags);
    /* End of input: reading stops, output goes on. */
    close(in[1]);
    run_a_while(20);
    put(c, "more");
    expect_read(out[0], "more");
    close_chardev(c);
    close(in[0]);
    close(out[0]);
    close(out[1]);
    ck_assert_uint_eq(cap.count, 0);
    ck_assert_str_eq(notes_text(), "");
}
END_TEST

START_TEST(stdio_flow_control_loses_nothing)
{
    static uint8_t data[20000];
    int in[2], out[2];
    struct em_chardev *c;
    size_t sent = 0;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    c = open_stdio(in[0], out[1]);
    ck_assert_ptr_nonnull(c);
    fe.room = 16;
    em_chardev_attach(c, &fe_ops, &fe);
    while (fe.len < sizeof(data)) {
        if (sent < sizeof(data)) {
            ssize_t n = write(in[1], data + sent, sizeof(data) - sent);

            if (n > 0)
                sent += (size_t)n;
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        if (fe.room == 0) {
            fe.room = 16;
            em_chardev_input_ready(c);
        }
    }
    ck_assert_mem_eq(fe.got, data, sizeof(data));
    close_chardev(c);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}
END_TEST

START_TEST(stdio_null_input_is_no_input)
{
    int null = open("/dev/null", O_RDONLY), out[2];
    struct em_chardev *c;

    ck_assert_int_ge(null, 0);
    ck_assert_int_eq(pipe(out), 0);
    c = open_stdio(null, out[1]);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    run_a_while(10);
    ck_assert_uint_eq(fe.len, 0);
    put(c, "out");
    expect_read(out[0], "out");
    close_chardev(c);
    close(null);
    close(out[0]);
    close(out[1]);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

static bool same_mode(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc));
}

START_TEST(stdio_terminal_raw_mode_is_restored)
{
    struct termios before, during, after;
    int master, slave, flags;
    struct em_chardev *c;

    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    ck_assert_int_eq(tcgetattr(slave, &before), 0);
    ck_assert(before.c_lflag & ICANON); /* a fresh terminal is cooked */
    flags = fcntl(slave, F_GETFL);
    c = open_stdio(slave, slave);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);
    ck_assert_int_eq(tcgetattr(slave, &during), 0);
    ck_assert_uint_eq(during.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
    ck_assert_uint_eq(during.c_iflag & (ICRNL | IXON), 0);
    ck_assert_uint_eq(during.c_oflag & OPOST, before.c_oflag & OPOST); /* output untouched */
    close_chardev(c);
    ck_assert_int_eq(tcgetattr(slave, &after), 0);
    ck_assert(same_mode(&before, &after));
    ck_assert_int_eq(fcntl(slave, F_GETFL), flags);
    close(master);
    close(slave);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(stdio_terminal_escapes)
{
    struct em_chardev *c;
    int master, slave;

    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    c = open_stdio(slave, slave);
    ck_assert_ptr_nonnull(c);
    em_chardev_attach(c, &fe_ops, &fe);

    ck_assert_int_eq(write(master,
                           "a\x01\x01"
                           "b\x01zc\x03",
                           8),
                     8);
    RUN_UNTIL(fe.len == 7);
    /* C-a C-a is one C-a, C-a z both bytes, and Ctrl-C reaches the guest. */
    ck_assert_mem_eq(fe.got,
                     "a\x01"
                     "b\x01zc\x03",
                     7);

    ck_assert_int_eq(write(master, "\x01h", 2), 2);
    RUN_UNTIL(strstr(notes_text(), "C-a x") != NULL);
    ck_assert_uint_eq(fe.len, 7);

    ck_assert_int_eq(write(master, "q\x01xlost", 7), 7);
    RUN_UNTIL(fe.quits == 1);
    ck_assert_ptr_nonnull(strstr(notes_text(), "kvmemu: terminated by Ctrl-A x"));
    run_a_while(20);
    ck_assert_uint_eq(fe.len, 8); /* 'q' came, nothing after C-a x */
    ck_assert_uint_eq(fe.got[7], 'q');
    ck_assert_int_eq(write(master, "after", 5), 5);
    run_a_while(20);
    ck_assert_uint_eq(fe.len, 8);
    ck_assert_uint_eq(fe.quits, 1);
    close_chardev(c);
    close(master);
    close(slave);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("chardev");
    TCase *tc = tcase_create("backends");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, escape_filter);
    tcase_add_test(tc, none_drops_output);
    tcase_add_test(tc, file_creates_truncates_and_writes);
    tcase_add_test(tc, file_errors_name_the_path);
    tcase_add_test(tc, file_write_error_is_reported_once);
    tcase_add_test(tc, unix_serves_one_client_after_another);
    tcase_add_test(tc, unix_second_client_waits_for_the_first);
    tcase_add_test(tc, unix_survives_clients_that_come_and_go);
    tcase_add_test(tc, unix_flow_control_loses_nothing);
    tcase_add_test(tc, unix_slow_reader_loses_nothing_of_a_burst);
    tcase_add_test(tc, unix_reader_far_behind_gets_an_unbroken_start);
    tcase_add_test(tc, unix_next_client_does_not_get_the_last_ones_backlog);
    tcase_add_test(tc, unix_close_gives_the_reader_the_last_words);
    tcase_add_test(tc, unix_refuses_a_path_that_is_not_a_socket);
    tcase_add_test(tc, unix_replaces_a_stale_socket);
    tcase_add_test(tc, unix_refuses_a_socket_in_use);
    tcase_add_test(tc, unix_errors_name_the_path);
    tcase_add_test(tc, unix_inherited_listener);
    tcase_add_test(tc, pty_carries_bytes_both_ways_in_raw_mode);
    tcase_add_test(tc, pty_nobody_reads_does_not_block);
    tcase_add_test(tc, stdio_on_pipes_passes_bytes_through);
    tcase_add_test(tc, stdio_flow_control_loses_nothing);
    tcase_add_test(tc, stdio_null_input_is_no_input);
    tcase_add_test(tc, stdio_terminal_raw_mode_is_restored);
    tcase_add_test(tc, stdio_terminal_escapes);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
