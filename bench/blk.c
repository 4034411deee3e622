/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blk: the virtio-blk device model against the host's own best I/O on
 * the same file, in the same run.
 *
 *   blk-bin [--json] [--file PATH] [--size MIB] [--seconds S] [--rounds N]
 *           [--buffered] [--always-bounce] [--quick] [--workload NAME]
 *
 * Workloads: 4 KiB random reads and writes at queue depth 1 and 32, and
 * 1 MiB sequential reads and writes at depth 8. Each runs on:
 *  - "sync":   pread/pwrite from one thread (depth 1 only);
 *  - "uring":  io_uring at the workload's depth, the reference at depth > 1;
 *  - "model":  a host-side virtio driver (tests/virtio/vdriver, with
 *              EVENT_IDX as Linux negotiates it) keeping the depth's worth
 *              of requests in the device's queue, through the virtio core
 *              and the device's I/O thread, on the default engine (io_uring);
 *  - "pool":   the same device on the worker-pool engine.
 * Rounds alternate the sides (sync, uring, model, pool, ...), so drift of
 * the machine hits them alike; medians are compared. ratio = model / the
 * best raw side at that depth; ratio_qd32 is the one for random reads.
 *
 * Page cache: by default every side opens the file with O_DIRECT (the
 * device with cache=none), so no side is served from memory and none
 * depends on what an earlier round left cached. --buffered runs every
 * side through the page cache instead, after reading the whole file once
 * so that all reads hit it: that measures the device model's CPU cost
 * per request with the disk out of the picture.
 *
 * --always-bounce makes the device copy every request through its aligned
 * bounce buffer (cache=none), to measure what bouncing only unaligned
 * requests saves.
 *
 * The file (default 1 GiB) is written in full when it is missing or of
 * another size, so that reads hit real blocks, and is kept for the next
 * run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/virtio_blk.h>

#include "vdriver.h"
#include "virtio/blk.h"

#define PROG       "blk"
#define MAX_DEPTH  32
#define MAX_ROUNDS 50
#define RAM_SIZE   (64ull << 20)
#define ARENA      0x100000ull
#define TARGET     0.90

enum side { SYNC, URING, MODEL, POOL, SIDES };
static const char *const side_names[SIDES] = { "sync", "uring", "model", "pool" };

struct workload {
    const char *name;
    bool write, seq;
    uint32_t bs;
    unsigned depth;
};

static const struct workload workloads[] = {
    { "randread_4k_qd1", false, false, 4096, 1 },   { "randread_4k_qd32", false, false, 4096, 32 },
    { "randwrite_4k_qd1", true, false, 4096, 1 },   { "randwrite_4k_qd32", true, false, 4096, 32 },
    { "seqread_1m_qd8", false, true, 1u << 20, 8 }, { "seqwrite_1m_qd8", true, true, 1u << 20, 8 },
};
#define NWORK (sizeof(workloads) / sizeof(workloads[0]))

struct options {
    bool json, buffered, quick, always_bounce;
    const char *file;
    const char *only; /* --workload: just this one */
    uint64_t size;
    double seconds;
    unsigned rounds;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Offsets: random (xorshift) or sequential, block-aligned, in the file. */
struct offsets {
    uint64_t state, next, blocks;
    uint32_t bs;
    bool seq;
};

static uint64_t next_offset(struct offsets *o)
{
    uint64_t b;

    if (o->seq) {
        b = o->next++ % o->blocks;
    } else {
        o->state ^= o->state << 13;
        o->state ^= o->state >> 7;
        o->state ^= o->state << 17;
        b = o->state % o->blocks;
    }
    return b * o->bs;
}

static struct offsets offsets_for(const struct workload *w, uint64_t size, unsigned round)
{
    return (struct offsets){ 0x2545f4914f6cdd1dull * (round + 1), 0, size / w->bs, w->bs, w->seq };
}

/* ---- the file ---- */

static void prepare_file(const struct options *o)
{
    struct stat st;
    uint8_t *buf;
    int fd;

    if (stat(o->file, &st) == 0 && (uint64_t)st.st_size == o->size &&
        (uint64_t)st.st_blocks * 512 >= o->size)
        return;
    fprintf(stderr, PROG ": writing %llu MiB to %s\n", (unsigned long long)(o->size >> 20),
            o->file);
    fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("cannot create %s: %s", o->file, strerror(errno));
    buf = malloc(1 << 20);
    if (!buf)
        die("out of memory");
    for (uint64_t off = 0; off < o->size; off += 1 << 20) {
        for (unsigned i = 0; i < (1u << 20) / 8; i++)
            ((uint64_t *)buf)[i] = (off + i * 8) * 0x9e3779b97f4a7c15ull;
        if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20)
            die("writing %s: %s", o->file, strerror(errno));
    }
    if (fsync(fd) < 0)
        die("fsync %s: %s", o->file, strerror(errno));
    close(fd);
    free(buf);
}

/* Reads the whole file once, so that buffered reads hit the page cache. */
static void warm_cache(const struct options *o)
{
    uint8_t *buf = malloc(1 << 20);
    int fd = open(o->file, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || !buf)
        die("cannot read %s: %s", o->file, strerror(errno));
    for (uint64_t off = 0; off < o->size; off += 1 << 20)
        if (pread(fd, buf, 1 << 20, (off_t)off) < 0)
            die("reading %s: %s", o->file, strerror(errno));
    close(fd);
    free(buf);
}

static int open_file(const struct options *o)
{
    int fd = open(o->file, O_RDWR | O_CLOEXEC | (o->buffered ? 0 : O_DIRECT));

    if (fd < 0)
        die("cannot open %s: %s", o->file, strerror(errno));
    return fd;
}

static void *aligned(size_t len)
{
    void *p;

    if (posix_memalign(&p, 4096, len))
        die("out of memory");
    memset(p, 0x5a, len);
    return p;
}

/* ---- raw sides ---- */

static uint64_t run_sync(const struct options *o, const struct workload *w, unsigned round,
                         double *secs)
{
    struct offsets off = offsets_for(w, o->size, round);
    int fd = open_file(o);
    uint8_t *buf = aligned(w->bs);
    double start = now(), end = start + o->seconds, t;
    uint64_t n = 0;

    do {
        for (int k = 0; k < 16; k++) {
            uint64_t at = next_offset(&off);
            ssize_t r =
                w->write ? pwrite(fd, buf, w->bs, (off_t)at) : pread(fd, buf, w->bs, (off_t)at);

            if (r != (ssize_t)w->bs)
                die("%s at %llu: %s", w->write ? "pwrite" : "pread", (unsigned long long)at,
                    r < 0 ? strerror(errno) : "short");
            n++;
        }
    } while ((t = now()) < end);
    *secs = t - start;
    free(buf);
    close(fd);
    return n;
}

static void uring_prep(struct io_uring *ring, const struct workload *w, uint8_t *buf, uint64_t at,
                       unsigned slot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

    if (w->write)
        io_uring_prep_write(sqe, 0, buf, w->bs, at);
    else
        io_uring_prep_read(sqe, 0, buf, w->bs, at);
    sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, slot);
}

static uint64_t run_uring(const struct options *o, const struct workload *w, unsigned round,
                          double *secs)
{
    struct offsets off = offsets_for(w, o->size, round);
    int fd = open_file(o);
    uint8_t *buf = aligned((size_t)w->bs * w->depth);
    struct io_uring ring;
    double start, end, t = 0;
    uint64_t n = 0;
    unsigned inflight = 0;
    bool stopping = false;

    if (io_uring_queue_init(64, &ring, 0) < 0 || io_uring_register_files(&ring, &fd, 1) < 0)
        die("io_uring setup failed");
    start = now();
    end = start + o->seconds;
    for (unsigned k = 0; k < w->depth; k++)
        uring_prep(&ring, w, buf + (size_t)k * w->bs, next_offset(&off), k);
    inflight = w->depth;
    io_uring_submit(&ring);
    while (inflight) {
        struct io_uring_cqe *cqe;
        unsigned head, seen = 0;

        if (io_uring_wait_cqe(&ring, &cqe) < 0)
            die("io_uring_wait_cqe failed");
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            unsigned slot = (unsigned)io_uring_cqe_get_data64(cqe);

            if (cqe->res != (int)w->bs)
                die("io_uring %s: %s", w->write ? "write" : "read",
                    cqe->res < 0 ? strerror(-cqe->res) : "short");
            seen++;
            inflight--;
            n++;
            if (!stopping) {
                uring_prep(&ring, w, buf + (size_t)slot * w->bs, next_offset(&off), slot);
                inflight++;
            }
        }
        io_uring_cq_advance(&ring, seen);
        if (!stopping && (t = now()) >= end)
            stopping = true;
        io_uring_submit(&ring);
    }
    *secs = now() - start;
    io_uring_queue_exit(&ring);
    free(buf);
    close(fd);
    (void)t;
    return n;
}

/* ---- the device model ---- */

struct model {
    /* The queue's interrupt, as an irqfd delivers it to a vCPU: an eventfd
     * the device's I/O thread writes and the driver waits on. A look at the
     * used ring after the eventfd was cleared cannot miss an interrupt
     * (vdrv_wait_used() can, and then sleeps a 1 ms tick). */
    int irqfd;
    struct kc_mem *mem;
    struct em_virtio_dev *vd;
    struct em_vblk *blk;
    struct vdrv *drv;
    uint64_t hdr[MAX_DEPTH], data[MAX_DEPTH], status[MAX_DEPTH];
    int slot_of_head[256];
};

static void on_queue_irq(void *opaque, unsigned q)
{
    struct model *m = opaque;
    uint64_t one = 1;

    (void)q;
    if (write(m->irqfd, &one, sizeof(one)) < 0)
        die("writing the interrupt eventfd: %s", strerror(errno));
}

static void on_config_irq(void *opaque)
{
    (void)opaque;
}

static const struct em_virtio_transport_ops model_irqs = {
    .notify_queue = on_queue_irq,
    .notify_config = on_config_irq,
};

/* The next used entry, waiting up to 10 s for an interrupt. */
static void model_wait_used(struct model *m, uint16_t *head, uint32_t *len)
{
    for (;;) {
        struct pollfd p = { .fd = m->irqfd, .events = POLLIN };
        uint64_t count;

        if (vdrv_poll_used(m->drv, 0, head, len))
            return;
        if (poll(&p, 1, 10000) != 1)
            die("the device did not complete a request in 10 s");
        /* Cleared before the next look at the used ring. */
        if (read(m->irqfd, &count, sizeof(count)) < 0 && errno != EAGAIN)
            die("reading the interrupt eventfd: %s", strerror(errno));
    }
}

static void model_open(struct model *m, const struct options *o, enum em_vblk_engine engine)
{
    struct em_vdev_env env;
    struct em_disk_spec spec = { .path = o->file, .fd = -1, .cache_none = !o->buffered };
    struct em_vblk_opts opts = { .engine = engine, .always_bounce = o->always_bounce };
    uint64_t want;

    memset(m, 0, sizeof(*m));
    m->irqfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m->irqfd < 0)
        die("eventfd: %s", strerror(errno));
    m->mem = kc_mem_create(NULL);
    if (!m->mem || !kc_mem_add_ram(m->mem, 0, RAM_SIZE, 0, "ram"))
        die("cannot allocate guest RAM");
    env = (struct em_vdev_env){ m->mem, NULL, NULL };
    m->vd = em_vblk_create_opts(&env, &spec, &opts, &m->blk);
    if (!m->vd)
        die("cannot create the device on %s", o->file);
    m->drv = vdrv_create(m->mem, ARENA, RAM_SIZE - ARENA);
    vdrv_attach_core(m->drv, m->vd);
    em_virtio_set_transport(m->vd, &model_irqs, m);
    if (em_virtio_start(m->vd) < 0)
        die("cannot start the device");
    want = em_virtio_device_features(m->vd) | EM_VIRTIO_F_VERSION_1;
    want &= ~EM_VIRTIO_F_INDIRECT_DESC; /* vdriver's indirect tables are not reused */
    if (!vdrv_negotiate(m->drv, want) || vdrv_setup_queue(m->drv, 0, 0, true) < 0)
        die("cannot set the device up");
    vdrv_driver_ok(m->drv);
    for (unsigned k = 0; k < MAX_DEPTH; k++) {
        m->hdr[k] = vdrv_alloc(m->drv, 16, 16);
        m->data[k] = vdrv_alloc(m->drv, 1u << 20, 4096);
        m->status[k] = vdrv_alloc(m->drv, 1, 1);
        if (!m->hdr[k] || !m->data[k] || !m->status[k])
            die("guest RAM too small");
    }
}

static void model_close(struct model *m)
{
    em_virtio_destroy(m->vd);
    vdrv_destroy(m->drv);
    kc_mem_destroy(m->mem);
    close(m->irqfd);
}

static void model_add(struct model *m, const struct workload *w, unsigned slot, uint64_t at)
{
    struct virtio_blk_outhdr h = { .type = w->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
                                   .sector = at / 512 };
    struct vdrv_buf b[3] = { { m->hdr[slot], 16, false },
                             { m->data[slot], w->bs, !w->write },
                             { m->status[slot], 1, true } };
    int head;

    memcpy(vdrv_host(m->drv, m->hdr[slot], 16), &h, 16);
    *(uint8_t *)vdrv_host(m->drv, m->status[slot], 1) = 0xee;
    head = vdrv_add(m->drv, 0, b, 3, false);
    if (head < 0)
        die("the queue is full");
    m->slot_of_head[head] = (int)slot;
}

static uint64_t run_model(struct model *m, const struct options *o, const struct workload *w,
                          unsigned round, double *secs)
{
    struct offsets off = offsets_for(w, o->size, round);
    double start = now(), end = start + o->seconds;
    unsigned inflight = w->depth;
    bool stopping = false;
    uint64_t n = 0;

    for (unsigned k = 0; k < w->depth; k++)
        model_add(m, w, k, next_offset(&off));
    vdrv_kick(m->drv, 0);
    while (inflight) {
        uint16_t head;
        uint32_t len;
        bool added = false;

        model_wait_used(m, &head, &len);
        do {
            int slot = m->slot_of_head[head];

            if (*(uint8_t *)vdrv_host(m->drv, m->status[slot], 1) != VIRTIO_BLK_S_OK)
                die("the device failed a request");
            inflight--;
            n++;
            if (!stopping) {
                model_add(m, w, (unsigned)slot, next_offset(&off));
                inflight++;
                added = true;
            }
        } while (vdrv_poll_used(m->drv, 0, &head, &len));
        if (added)
            vdrv_kick(m->drv, 0);
        if (!stopping && now() >= end)
            stopping = true;
    }
    *secs = now() - start;
    return n;
}

/* ---- rounds ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
    double iops[SIDES]; /* medians; 0: not run */
    double ratio;
};

static void measure(const struct options *o, struct model *models, const struct workload *w,
                    struct result *res)
{
    double iops[SIDES][MAX_ROUNDS];

    for (unsigned r = 0; r < o->rounds; r++) {
        for (int s = 0; s < SIDES; s++) {
            double secs = 0;
            uint64_t n = 0;

            if (s == SYNC && w->depth != 1) {
                iops[s][r] = 0;
                continue;
            }
            switch (s) {
            case SYNC:
                n = run_sync(o, w, r, &secs);
                break;
            case URING:
                n = run_uring(o, w, r, &secs);
                break;
            default:
                n = run_model(&models[s == MODEL ? 0 : 1], o, w, r, &secs);
                break;
            }
            iops[s][r] = (double)n / secs;
        }
    }
    for (int s = 0; s < SIDES; s++)
        res->iops[s] = median(iops[s], o->rounds);
    res->ratio = res->iops[MODEL] /
                 (res->iops[SYNC] > res->iops[URING] ? res->iops[SYNC] : res->iops[URING]);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: blk-bin [--json] [--file PATH] [--size MIB] [--seconds S] [--rounds N]\n"
               "               [--buffered] [--always-bounce] [--quick] [--workload NAME]\n");
}

static void parse(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {
        { "json", no_argument, NULL, 'j' },
        { "file", required_argument, NULL, 'f' },
        { "size", required_argument, NULL, 's' },
        { "seconds", required_argument, NULL, 't' },
        { "rounds", required_argument, NULL, 'r' },
        { "buffered", no_argument, NULL, 'b' },
        { "quick", no_argument, NULL, 'q' },
        { "always-bounce", no_argument, NULL, 'a' },
        { "workload", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct options){
        .file = "/tmp/kvm-stack-blk-bench.img", .size = 1ull << 30, .seconds = 2, .rounds = 3
    };
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'j':
            o->json = true;
            break;
        case 'f':
            o->file = optarg;
            break;
        case 's':
            o->size = strtoull(optarg, NULL, 10) << 20;
            break;
        case 't':
            o->seconds = strtod(optarg, NULL);
            break;
        case 'r':
            o->rounds = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'b':
            o->buffered = true;
            break;
        case 'q':
            o->quick = true;
            break;
        case 'a':
            o->always_bounce = true;
            break;
        case 'w':
            o->only = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (o->quick) {
        o->size = 64ull << 20;
        o->seconds = 0.2;
        o->rounds = 1;
    }
    if (o->size < (16ull << 20) || o->seconds <= 0 || o->rounds == 0 || o->rounds > MAX_ROUNDS)
        die("--size must be at least 16 (MiB), --seconds positive, --rounds 1 to %d", MAX_ROUNDS);
}

static bool selected(const struct options *o, unsigned i)
{
    return !o->only || strcmp(o->only, workloads[i].name) == 0;
}

static void print_text(const struct options *o, const struct result *res)
{
    printf("blk: %s, %llu MiB, %s, %u rounds of %.1f s per side (medians)\n", o->file,
           (unsigned long long)(o->size >> 20), o->buffered ? "buffered (warm cache)" : "O_DIRECT",
           o->rounds, o->seconds);
    printf("%-18s %10s %10s %10s %10s %8s %9s\n", "workload", "sync", "uring", "model", "pool",
           "MB/s", "ratio");
    for (unsigned i = 0; i < NWORK; i++) {
        const struct result *r = &res[i];

        if (!selected(o, i))
            continue;
        printf("%-18s", workloads[i].name);
        for (int s = 0; s < SIDES; s++) {
            if (r->iops[s] > 0)
                printf(" %10.0f", r->iops[s]);
            else
                printf(" %10s", "-");
        }
        printf(" %8.1f %8.1f%%\n", r->iops[MODEL] * workloads[i].bs / 1e6, 100 * r->ratio);
    }
    if (selected(o, 1))
        printf("ratio_qd32 (4 KiB random reads, model / io_uring): %.3f (target %.2f)\n",
               res[1].ratio, TARGET);
}

static void print_json(const struct options *o, const struct result *res)
{
    printf("{\"file\": \"%s\", \"size_mib\": %llu, \"cache\": \"%s\", \"rounds\": %u, "
           "\"seconds\": %.3f, \"engine\": \"io_uring\"",
           o->file, (unsigned long long)(o->size >> 20), o->buffered ? "buffered" : "none",
           o->rounds, o->seconds);
    for (unsigned i = 0; i < NWORK; i++) {
        const struct result *r = &res[i];

        if (!selected(o, i))
            continue;
        printf(", \"%s\": {", workloads[i].name);
        for (int s = 0; s < SIDES; s++)
            printf("\"%s_iops\": %.0f, ", side_names[s], r->iops[s]);
        printf("\"model_mbps\": %.1f, \"ratio\": %.4f, \"pool_vs_model\": %.4f}",
               r->iops[MODEL] * workloads[i].bs / 1e6, r->ratio, r->iops[POOL] / r->iops[MODEL]);
    }
    if (selected(o, 1))
        printf(", \"ratio_qd32\": %.4f", res[1].ratio);
    printf(", \"target\": %.2f}\n", TARGET);
}

int main(int argc, char **argv)
{
    struct options o;
    struct model models[2];
    struct result res[NWORK];

    parse(argc, argv, &o);
    prepare_file(&o);
    if (o.buffered)
        warm_cache(&o);
    model_open(&models[0], &o, EM_VBLK_ENGINE_URING);
    model_open(&models[1], &o, EM_VBLK_ENGINE_POOL);
    memset(res, 0, sizeof(res));
    for (unsigned i = 0; i < NWORK; i++)
        if (selected(&o, i))
            measure(&o, models, &workloads[i], &res[i]);
    model_close(&models[0]);
    model_close(&models[1]);
    if (o.json)
        print_json(&o, res);
    else
        print_text(&o, res);
    return 0;
}
