/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk through the virtio-pci transport (tests/virtio/pci_harness):
 * the same driver, now reaching the device through its PCI registers and
 * taking MSI-X interrupts, with and without ioeventfd/irqfd.
 */
#include <string.h>

#include "blk_fixture.h"
#include "pci_harness.h"

const bool test_needs_kvm = false;

static struct vph *h;
static struct vph_dev *dev;

static void setup(void)
{
    bf_setup();
    h = NULL;
}

static void teardown(void)
{
    /* The harness owns the device, its driver and RAM. */
    vph_destroy(h);
    bf_vd = NULL;
    bf_drv = NULL;
    bf_teardown();
}

static void plug(bool fds)
{
    struct em_vdev_env env;
    struct em_disk_spec spec = { .path = bf_path, .fd = -1 };

    h = vph_create(&(struct vph_opts){
        .ram_size = 32ull << 20, .log = &bf_cap.logger, .irqfd = fds, .ioeventfd = fds });
    ck_assert_ptr_nonnull(h);
    env = (struct em_vdev_env){ vph_mem(h), &bf_cap.logger, NULL };
    snprintf(spec.serial, sizeof(spec.serial), "pci-disk");
    bf_vd = em_vblk_create_opts(&env, &spec, NULL, &bf_blk);
    dev = vph_plug(h, bf_vd, "blk");
    ck_assert_msg(dev != NULL, "%s", bf_cap.text);
    bf_drv = vph_vdrv(dev);
    vph_use_msix(dev, true);
}

START_TEST(pci_round_trip)
{
    struct bf_req w, r, id, bad;
    uint8_t file[8192];
    uint64_t cap = 0;

    plug(_i);
    ck_assert_uint_eq(vph_cfg_read(dev, EM_PCI_DEVICE_ID, 2), 0x1042); /* 0x1040 + blk */
    vdrv_config_read(bf_drv, 0, &cap, 8);
    ck_assert_uint_eq(cap, BF_SECTORS);
    bf_bring_up(0);
    w = bf_req(VIRTIO_BLK_T_OUT, 100, 8192, false);
    bf_fill(bf_host(w.data, 8192), 8192, 21);
    ck_assert_uint_eq(bf_do(&w, NULL), VIRTIO_BLK_S_OK);
    bf_file_read(100 * 512, file, 8192);
    ck_assert_mem_eq(file, bf_host(w.data, 8192), 8192);
    r = bf_req(VIRTIO_BLK_T_IN, 100, 8192, true);
    ck_assert_uint_eq(bf_do(&r, NULL), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(bf_host(r.data, 8192), file, 8192);
    id = bf_req(VIRTIO_BLK_T_GET_ID, 0, 20, true);
    ck_assert_uint_eq(bf_do(&id, NULL), VIRTIO_BLK_S_OK);
    ck_assert_str_eq((char *)bf_host(id.data, 20), "pci-disk");
    bad = bf_req(VIRTIO_BLK_T_IN, BF_SECTORS, 512, true);
    ck_assert_uint_eq(bf_do(&bad, NULL), VIRTIO_BLK_S_IOERR);
    /*
     * Completions came as MSI-X on the queue's vector (1). With irqfds the
     * MSI arrives through the harness's irqfd thread, after the used ring
     * was already visible, so wait for it rather than sample it.
     */
    ck_assert_msg(vph_wait_msi(dev, 1, 1, 5000), "no MSI-X on vector 1");
    ck_assert_uint_eq(vph_stray_msis(h), 0);
}
END_TEST

START_TEST(pci_queue_depth_32)
{
    enum { N = 32 };
    struct bf_req rq[N];

    plug(_i);
    bf_bring_up(0);
    for (unsigned k = 0; k < N; k++) {
        rq[k] = bf_req(VIRTIO_BLK_T_IN, 8 * k * 11, 4096, true);
        bf_add(&rq[k]);
    }
    vdrv_kick(bf_drv, 0);
    bf_wait(N, NULL, NULL);
    for (unsigned k = 0; k < N; k++) {
        uint8_t file[4096];

        ck_assert_uint_eq(bf_status(&rq[k]), VIRTIO_BLK_S_OK);
        bf_file_read(8 * 512 * k * 11, file, 4096);
        ck_assert_mem_eq(bf_host(rq[k].data, 4096), file, 4096);
    }
    /* A reset through the status register, then the device works again. */
    bf_bring_up(0);
    rq[0] = bf_req(VIRTIO_BLK_T_IN, 0, 512, true);
    ck_assert_uint_eq(bf_do(&rq[0], NULL), VIRTIO_BLK_S_OK);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_virtio_blk_pci");
    TCase *tc = tcase_create("pci");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    /* 0: MMIO doorbells and direct MSIs; 1: ioeventfds and irqfds. */
    tcase_add_loop_test(tc, pci_round_trip, 0, 2);
    tcase_add_loop_test(tc, pci_queue_depth_32, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
