/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net (virtio 1.2, 5.1) on a tap device: queue 0 receives, queue 1
 * transmits. Offered: MAC and STATUS (the link is up until the tap goes
 * away). Not offered: checksum and segmentation offloads (so every header
 * is all zeros but num_buffers), a control queue, several queue pairs,
 * MTU advice, and mergeable receive buffers: without offloads the tap
 * hands over frames of at most its MTU plus the Ethernet header, which fit
 * the 1526-byte buffers a driver posts without MRG_RXBUF (5.1.6.3), and
 * one buffer per frame lets a frame go from the tap into guest memory in
 * one readv, with no copy and no rollback of half-filled buffers.
 *
 * What a driver sends is checked, not trusted. A transmit chain shorter
 * than the header or than an Ethernet header, longer than 65550 bytes of
 * frame, asking for a checksum or a segmentation that was not negotiated,
 * or in more pieces than a writev takes, is dropped, counted and given
 * back; the first of each kind is logged. The tap never sees the driver's
 * header: it gets a zero header of the device's own. A receive chain too
 * small for a header and an Ethernet header (or in more pieces than a
 * readv takes) is given back empty; a frame too large for the chain at
 * hand is dropped and the chain kept for the next; readable parts of a
 * receive chain are ignored. None of these is worth a reset: the frame or
 * the buffer is lost, the device goes on. Bad rings (em_vq_pop() < 0) set
 * NEEDS_RESET. A tap that fails for good (deleted) takes the link down.
 *
 * Flow control without spinning: the tap is read only while the driver
 * has receive buffers (otherwise frames wait in the tap's queue, which
 * drops when full, like a NIC's ring), and written until it says EAGAIN,
 * when the frame is kept and the tap watched for room.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <linux/if_ether.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio/devices.h"
#include "virtio/tap.h"

#define RXQ        0
#define TXQ        1
#define QUEUE_SIZE 256
#define HDR_LEN    sizeof(struct virtio_net_hdr_v1)
#define MAX_FRAME  65550u /* a frame behind the header, at most */
#define TX_BURST   256    /* frames per turn, before other events get theirs */
#define RX_BURST   64

enum drop {
    DROP_TX_SHORT,   /* shorter than the header */
    DROP_TX_RUNT,    /* no room for an Ethernet header */
    DROP_TX_BIG,     /* over MAX_FRAME */
    DROP_TX_OFFLOAD, /* NEEDS_CSUM or GSO, not negotiated */
    DROP_TX_PIECES,  /* more segments than a writev takes */
    DROP_TX_TAP,     /* the tap refused it */
    DROP_RX_BUFFER,  /* a receive chain that can hold no frame (given back empty) */
    DROP_RX_BIG,     /* a frame larger than the receive chain */
    DROP_RX_RUNT,    /* a frame shorter than an Ethernet header */
    DROP_RX_OFFLOAD, /* the tap sent a partial checksum or a GSO frame */
    NR_DROPS,
};

static const char *const drop_what[NR_DROPS] = {
    [DROP_TX_SHORT] = "a transmit chain shorter than the 12-byte header",
    [DROP_TX_RUNT] = "a transmitted frame shorter than an Ethernet header",
    [DROP_TX_BIG] = "a transmitted frame over 65550 bytes",
    [DROP_TX_OFFLOAD] = "a transmitted frame asking for a checksum or segmentation offload that "
                        "was not negotiated",
    [DROP_TX_PIECES] = "a transmit chain in more pieces than a writev takes",
    [DROP_TX_TAP] = "a frame the tap refused",
    [DROP_RX_BUFFER] = "a receive chain that cannot hold a frame (under 26 bytes, or in over "
                       "1022 pieces)",
    [DROP_RX_BIG] = "a received frame larger than the receive chain",
    [DROP_RX_RUNT] = "a received frame shorter than an Ethernet header",
    [DROP_RX_OFFLOAD] = "a received frame needing a checksum or segmentation offload",
};

struct vnet {
    struct em_virtio_dev *vd;
    const struct kc_logger *log;
    struct em_tap tap;
    struct em_virtio_watch *watch;
    uint8_t mac[ETH_ALEN];
    uint16_t status; /* VIRTIO_NET_S_LINK_UP, or 0 once the tap is gone */

    bool started;               /* DRIVER_OK, until a reset */
    bool rx_wanted;             /* the driver has (or may have) receive buffers */
    bool tap_gone;              /* the tap failed for good (its interface was deleted) */
    int events;                 /* what the watch is set to */
    struct em_vq_elem *tx_held; /* a frame the tap had no room for */
    struct em_vq_elem *rx_held; /* a receive chain waiting for a frame */

    uint64_t tx_frames, rx_frames;
    uint64_t drops[NR_DROPS];
    bool told[NR_DROPS];

    struct virtio_net_hdr_v1 tx_hdr; /* what the tap gets: all zeros */
    struct virtio_net_hdr_v1 rx_hdr; /* what the tap says */
    uint8_t overflow;                /* a byte past the chain: a frame too large */
    struct iovec iov[IOV_MAX];
};

static void drop(struct vnet *n, enum drop kind, const char *detail)
{
    n->drops[kind]++;
    if (n->told[kind])
        return;
    n->told[kind] = true;
    kc_log(n->log, KC_LOG_WARN, "virtio-net %s: dropped %s%s%s; further ones are only counted",
           n->tap.name, drop_what[kind], detail ? ": " : "", detail ? detail : "");
}

/* The tap cannot be used any more: stop watching it, tell the driver the
 * link is down. Every frame sent from now on is dropped. */
static void tap_failed(struct vnet *n, const char *op, int err)
{
    if (n->tap_gone)
        return;
    kc_log(n->log, KC_LOG_ERROR, "virtio-net %s: cannot %s the tap: %s; the link is down",
           n->tap.name, op, strerror(err));
    n->tap_gone = true;
    n->status = 0;
    em_virtio_config_changed(n->vd);
}

static void update_watch(struct vnet *n)
{
    int events = 0;

    if (n->started && !n->tap_gone && !em_virtio_needs_reset(n->vd)) {
        if (n->rx_wanted)
            events |= UV_READABLE;
        if (n->tx_held)
            events |= UV_WRITABLE;
    }
    if (events != n->events) {
        n->events = events;
        em_virtio_watch_events(n->watch, events);
    }
}

/*
 * Points iov at segments [first, first + count) of e, less their first
 * `skip` bytes. Returns the number of entries, or -1 if more than max.
 */
static int elem_iov(const struct em_vq_elem *e, unsigned first, unsigned count, uint64_t skip,
                    struct iovec *iov, int max)
{
    int n = 0;

    for (unsigned i = first; i < first + count; i++) {
        const struct em_vq_seg *s = &e->seg[i];

        if (skip >= s->len) {
            skip -= s->len;
            continue;
        }
        if (n == max)
            return -1;
        iov[n++] = (struct iovec){ (uint8_t *)s->host + skip, s->len - skip };
        skip = 0;
    }
    return n;
}

/* ---- transmit ---- */

/* Sends one frame, or drops it; false (e kept) when the tap is full. */
static bool tx_one(struct vnet *n, struct em_vq *vq, struct em_vq_elem *e)
{
    struct virtio_net_hdr_v1 hdr;
    unsigned base = 0;
    uint64_t len;
    ssize_t r;
    int cnt;

    if (e->out_bytes < HDR_LEN) {
        drop(n, DROP_TX_SHORT, NULL);
        goto done;
    }
    len = e->out_bytes - HDR_LEN;
    if (len < ETH_HLEN || len > MAX_FRAME) {
        drop(n, len < ETH_HLEN ? DROP_TX_RUNT : DROP_TX_BIG, NULL);
        goto done;
    }
    /* The header may be split anywhere (VERSION_1 implies ANY_LAYOUT). */
    em_vq_read(e, 0, &hdr, HDR_LEN);
    /* Other flag bits are ignored, as 5.1.6.2.2 asks. */
    if ((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        drop(n, DROP_TX_OFFLOAD, NULL);
        goto done;
    }
    if (n->tap_gone) {
        drop(n, DROP_TX_TAP, "the tap is gone");
        goto done;
    }
    if (n->tap.hdr_len)
        n->iov[base++] = (struct iovec){ &n->tx_hdr, n->tap.hdr_len };
    cnt = elem_iov(e, 0, e->n_out, HDR_LEN, n->iov + base, IOV_MAX - (int)base);
    if (cnt < 0) {
        drop(n, DROP_TX_PIECES, NULL);
        goto done;
    }
    do
        r = writev(n->tap.fd, n->iov, cnt + (int)base);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return false;
    if (r < 0) {
        int err = errno;

        /* EBADFD: the interface was deleted. EIO (interface down) and
         * EINVAL (a frame the kernel refuses) are about this frame. */
        if (err == EBADFD)
            tap_failed(n, "write to", err);
        drop(n, DROP_TX_TAP, strerror(err));
        goto done;
    }
    n->tx_frames++;
done:
    em_vq_push(vq, e, 0);
    free(e);
    return true;
}

static void tx_run(struct vnet *n)
{
    struct em_vq *vq = em_virtio_vq(n->vd, TXQ);
    unsigned budget = TX_BURST;
    bool pushed = false;

    if (!vq)
        return;
    for (;;) {
        em_vq_disable_notify(vq);
        while (budget) {
            struct em_vq_elem *e = n->tx_held;
            int ret;

            n->tx_held = NULL;
            if (!e) {
                ret = em_vq_pop(vq, &e);
                if (ret < 0) {
                    em_virtio_queue_broken(n->vd, TXQ);
                    goto out;
                }
                if (ret == 0)
                    break;
            }
            if (!tx_one(n, vq, e)) {
                /* Kicks stay off: the tap's room brings us back. */
                n->tx_held = e;
                goto out;
            }
            pushed = true;
            budget--;
        }
        if (!budget) {
            /* More to send: after whatever else is waiting. */
            em_virtio_kick(n->vd, TXQ);
            break;
        }
        if (!em_vq_enable_notify(vq))
            break;
    }
out:
    if (pushed)
        em_virtio_notify(n->vd, TXQ);
}

/* ---- receive ---- */

/* Whether a receive chain can hold a header and an Ethernet frame, in
 * pieces a readv takes (with the tap's header and the overflow byte). */
static bool rx_usable(const struct vnet *n, const struct em_vq_elem *e)
{
    (void)n;
    return e->in_bytes >= HDR_LEN + ETH_HLEN && e->n_in + 2 <= IOV_MAX;
}

/*
 * Reads one frame into e. 1: delivered (e pushed); 0: the frame was
 * dropped and e is kept; -EAGAIN: no frame (e kept); -EIO: the tap failed.
 */
static int rx_one(struct vnet *n, struct em_vq *vq, struct em_vq_elem *e)
{
    struct virtio_net_hdr_v1 hdr;
    uint64_t room = e->in_bytes - HDR_LEN, len;
    unsigned base = 0;
    ssize_t r;
    int cnt;

    if (n->tap.hdr_len)
        n->iov[base++] = (struct iovec){ &n->rx_hdr, n->tap.hdr_len };
    /* Cannot fail: rx_usable() left room for every segment. */
    cnt = elem_iov(e, e->n_out, e->n_in, HDR_LEN, n->iov + base, IOV_MAX - (int)base - 1);
    /* One byte more than the chain holds: the tap truncates silently, so a
     * frame that fills it did not fit. */
    n->iov[base + (unsigned)cnt] = (struct iovec){ &n->overflow, 1 };
    do
        r = readv(n->tap.fd, n->iov, cnt + (int)base + 1);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -EAGAIN;
        tap_failed(n, "read from", errno);
        return -EIO;
    }
    if ((size_t)r < n->tap.hdr_len + ETH_HLEN) {
        drop(n, DROP_RX_RUNT, NULL);
        return 0;
    }
    len = (uint64_t)r - n->tap.hdr_len;
    if (len > room) {
        drop(n, DROP_RX_BIG, NULL);
        return 0;
    }
    /* Without offloads the kernel resolves checksums and segments before
     * the tap; a frame that still needs either cannot be given as is. */
    if (n->tap.hdr_len && ((n->rx_hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
                           n->rx_hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE)) {
        drop(n, DROP_RX_OFFLOAD, NULL);
        return 0;
    }
    /* Our own header: flags (DATA_VALID from the tap) stay clear, since
     * GUEST_CSUM was not negotiated; num_buffers is 1 (5.1.6.4). */
    memset(&hdr, 0, sizeof(hdr));
    hdr.num_buffers = htole16(1);
    em_vq_write(e, 0, &hdr, HDR_LEN);
    em_vq_push(vq, e, (uint32_t)(HDR_LEN + len));
    return 1;
}

static void rx_run(struct vnet *n)
{
    struct em_vq *vq = em_virtio_vq(n->vd, RXQ);
    bool pushed = false;

    if (!vq)
        return;
    for (unsigned budget = RX_BURST; budget; budget--) {
        struct em_vq_elem *e = n->rx_held;
        int ret;

        n->rx_held = NULL;
        if (!e) {
            ret = em_vq_pop(vq, &e);
            if (ret < 0) {
                em_virtio_queue_broken(n->vd, RXQ);
                break;
            }
            if (ret == 0) {
                if (em_vq_enable_notify(vq))
                    continue;
                /* No buffers: leave frames in the tap until a kick. */
                n->rx_wanted = false;
                break;
            }
            if (!rx_usable(n, e)) {
                drop(n, DROP_RX_BUFFER, NULL);
                em_vq_push(vq, e, 0);
                free(e);
                pushed = true;
                continue;
            }
        }
        ret = rx_one(n, vq, e);
        if (ret == 1) {
            free(e);
            n->rx_frames++;
            pushed = true;
            continue;
        }
        n->rx_held = e;
        if (ret < 0)
            break;
    }
    if (pushed)
        em_virtio_notify(n->vd, RXQ);
}

/* ---- the device ---- */

static void on_tap(void *dev, int events)
{
    struct vnet *n = dev;

    if (n->started && !n->tap_gone && !em_virtio_needs_reset(n->vd)) {
        if ((events & UV_WRITABLE) && n->tx_held)
            tx_run(n);
        if (events & UV_READABLE)
            rx_run(n);
    }
    update_watch(n);
}

static void vnet_notify(void *dev, unsigned q)
{
    struct vnet *n = dev;

    if (q == RXQ) {
        struct em_vq *vq = em_virtio_vq(n->vd, RXQ);

        /* Buffers again: read the tap; no kicks needed while it is read. */
        if (vq)
            em_vq_disable_notify(vq);
        n->rx_wanted = true;
    } else if (q == TXQ && !n->tx_held) {
        tx_run(n);
    }
    update_watch(n);
}

static uint64_t vnet_features(void *dev)
{
    (void)dev;
    return 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS;
}

static void vnet_config_read(void *dev, uint32_t offset, void *buf, uint32_t len)
{
    struct vnet *n = dev;
    struct virtio_net_config c;

    memset(&c, 0, sizeof(c));
    memcpy(c.mac, n->mac, ETH_ALEN);
    c.status = htole16(n->status);
    c.max_virtqueue_pairs = htole16(1);
    memcpy(buf, (uint8_t *)&c + offset, len);
}

static int vnet_start(void *dev)
{
    struct vnet *n = dev;

    n->started = true;
    n->rx_wanted = true;
    update_watch(n);
    return 0;
}

static void vnet_reset(void *dev)
{
    struct vnet *n = dev;

    /* The rings are gone: held chains are forgotten, not returned. */
    free(n->tx_held);
    free(n->rx_held);
    n->tx_held = n->rx_held = NULL;
    n->started = false;
    n->rx_wanted = false;
    update_watch(n);
}

static void vnet_destroy(void *dev)
{
    struct vnet *n = dev;
    uint64_t tx = 0, rx = 0;

    for (int k = 0; k < NR_DROPS; k++)
        *(k < DROP_RX_BUFFER ? &tx : &rx) += n->drops[k];
    kc_log(n->log, KC_LOG_INFO,
           "virtio-net %s: %llu frames sent, %llu received; dropped %llu to send (short %llu, "
           "runt %llu, oversized %llu, offload %llu, pieces %llu, tap %llu), %llu received "
           "(empty buffers %llu, oversized %llu, runt %llu, offload %llu)",
           n->tap.name, (unsigned long long)n->tx_frames, (unsigned long long)n->rx_frames,
           (unsigned long long)tx, (unsigned long long)n->drops[DROP_TX_SHORT],
           (unsigned long long)n->drops[DROP_TX_RUNT], (unsigned long long)n->drops[DROP_TX_BIG],
           (unsigned long long)n->drops[DROP_TX_OFFLOAD],
           (unsigned long long)n->drops[DROP_TX_PIECES], (unsigned long long)n->drops[DROP_TX_TAP],
           (unsigned long long)rx, (unsigned long long)n->drops[DROP_RX_BUFFER],
           (unsigned long long)n->drops[DROP_RX_BIG], (unsigned long long)n->drops[DROP_RX_RUNT],
           (unsigned long long)n->drops[DROP_RX_OFFLOAD]);
    em_tap_close(&n->tap);
    free(n);
}

static const struct em_virtio_device_ops vnet_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max_size = QUEUE_SIZE,
    /* mac, status, max_virtqueue_pairs; mtu and on need features not offered */
    .config_size = offsetof(struct virtio_net_config, mtu),
    .features = vnet_features,
    .config_read = vnet_config_read,
    .start = vnet_start,
    .queue_notify = vnet_notify,
    .reset = vnet_reset,
    .destroy = vnet_destroy,
};

struct em_virtio_dev *em_vnet_create(const struct em_vdev_env *env, const struct em_net_spec *spec)
{
    struct vnet *n = calloc(1, sizeof(*n));
    int ret;

    if (!n) {
        kc_log(env->log, KC_LOG_ERROR, "virtio-net: out of memory");
        return NULL;
    }
    ret = spec->ifname ? em_tap_open(&n->tap, spec->ifname, env->log)
                       : em_tap_adopt(&n->tap, spec->fd, env->log);
    if (ret < 0) {
        free(n);
        return NULL;
    }
    memcpy(n->mac, spec->mac, ETH_ALEN);
    n->status = VIRTIO_NET_S_LINK_UP;
    n->vd = em_virtio_create(&vnet_ops, n, env->mem, env->log);
    if (!n->vd) {
        em_tap_close(&n->tap);
        free(n);
        return NULL;
    }
    n->log = em_virtio_logger(n->vd);
    /* Paused until DRIVER_OK. From here on, destroying the core frees n. */
    n->watch = em_virtio_watch_fd(n->vd, n->tap.fd, 0, on_tap, n);
    if (!n->watch) {
        em_virtio_destroy(n->vd);
        return NULL;
    }
    return n->vd;
}
