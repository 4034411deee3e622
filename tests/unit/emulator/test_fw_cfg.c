/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw_cfg through its ports, as SeaBIOS and Linux's qemu_fw_cfg read it:
 * every numbered item, the file directory, etc/e820 against the memory
 * map, reads past the end, unknown selectors, adding files (and every
 * way that can fail, with nothing lost), and reset.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev/fw_cfg.h"
#include "devices.h"
#include "fake_machine.h"

#define MIB (1ull << 20)

static struct log_capture cap;
static struct em_machine *m;
static struct em_fw_cfg *fc;

static void make(uint64_t ram, unsigned ncpus)
{
    log_capture_init(&cap);
    m = fake_machine_create(ram, ncpus, &cap);
    ck_assert_int_eq(em_fw_cfg_create(m), 0);
    fc = em_machine_device(m, "fw_cfg");
    ck_assert_ptr_nonnull(fc);
}

static void setup(void)
{
    make(256 * MIB, 2);
}

static void teardown(void)
{
    fake_machine_free(m);
    m = NULL;
}

static void select_item(uint16_t key)
{
    fake_out(m, EM_FW_CFG_PORT, key, 2);
}

static void read_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < n; i++)
        p[i] = fake_inb(m, EM_FW_CFG_DATA_PORT);
}

static uint64_t read_le(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;

    read_bytes(b, n);
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint64_t read_be(unsigned n)
{
    uint8_t b[8];
    uint64_t v = 0;

    read_bytes(b, n);
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | b[i];
    return v;
}

static void expect_zeros(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_eq(fake_inb(m, EM_FW_CFG_DATA_PORT), 0);
}

struct dir_entry {
    uint32_t size;
    uint16_t select;
    char name[EM_FW_CFG_NAME_LEN];
};

/* Parses the whole directory; returns the count. */
static unsigned read_dir(struct dir_entry *out, unsigned max)
{
    unsigned n;

    select_item(EM_FW_CFG_FILE_DIR);
    n = (unsigned)read_be(4);
    ck_assert_uint_le(n, max);
    for (unsigned i = 0; i < n; i++) {
        out[i].size = (uint32_t)read_be(4);
        out[i].select = (uint16_t)read_be(2);
        ck_assert_uint_eq(read_be(2), 0); /* reserved */
        read_bytes(out[i].name, EM_FW_CFG_NAME_LEN);
        ck_assert_msg(memchr(out[i].name, 0, EM_FW_CFG_NAME_LEN), "entry %u: unterminated", i);
    }
    expect_zeros(4); /* nothing after the last entry */
    return n;
}

static const struct dir_entry *find_file(const struct dir_entry *d, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(d[i].name, name))
            return &d[i];
    return NULL;
}

START_TEST(signature_and_id)
{
    char sig[5] = { 0 };

    select_item(EM_FW_CFG_SIGNATURE);
    read_bytes(sig, 4);
    ck_assert_str_eq(sig, "QEMU");
    expect_zeros(8); /* past the end */
    select_item(EM_FW_CFG_ID);
    ck_assert_uint_eq(read_le(4), EM_FW_CFG_ID_TRADITIONAL);
    expect_zeros(1);
}
END_TEST

START_TEST(numbered_items)
{
    select_item(EM_FW_CFG_UUID);
    expect_zeros(16);
    select_item(EM_FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), 256 * MIB);
    select_item(EM_FW_CFG_NOGRAPHIC);
    ck_assert_uint_eq(read_le(2), 1);
    select_item(EM_FW_CFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), 2);
    expect_zeros(2);
    select_item(EM_FW_CFG_MAX_CPUS);
    ck_assert_uint_eq(read_le(2), 2);
}
END_TEST

START_TEST(other_machine_sizes)
{
    fake_machine_free(m);
    make(6ull << 30, 7);
    select_item(EM_FW_CFG_RAM_SIZE);
    ck_assert_uint_eq(read_le(8), 6ull << 30);
    select_item(EM_FW_CFG_NB_CPUS);
    ck_assert_uint_eq(read_le(2), 7);
}
END_TEST

START_TEST(unknown_selectors_read_zeros)
{
    static const uint16_t keys[] = { 0x0006, 0x0018, 0x0021, 0x1234, 0x4000, 0x8000, 0xffff };

    for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        select_item(keys[i]);
        expect_zeros(16);
    }
}
END_TEST

START_TEST(e820_matches_memmap)
{
    const struct em_memmap *mm = em_machine_memmap(m);
    struct dir_entry dir[EM_FW_CFG_MAX_FILES];
    const struct dir_entry *e;
    unsigned n = read_dir(dir, EM_FW_CFG_MAX_FILES);

    ck_assert_uint_eq(n, 1);
    e = find_file(dir, n, "etc/e820");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_ge(e->select, EM_FW_CFG_FILE_FIRST);
    ck_assert_uint_gt(mm->nr_e820, 3);
    ck_assert_uint_eq(e->size, mm->nr_e820 * 20);
    select_item(e->select);
    for (unsigned i = 0; i < mm->nr_e820; i++) {
        ck_assert_uint_eq(read_le(8), mm->e820[i].addr);
        ck_assert_uint_eq(read_le(8), mm->e820[i].size);
        ck_assert_uint_eq(read_le(4), mm->e820[i].type);
    }
    expect_zeros(20);
}
END_TEST

START_TEST(add_file_appears_in_directory)
{
    static const char blob[] = "hello, firmware";
    struct dir_entry dir[EM_FW_CFG_MAX_FILES];
    const struct dir_entry *e;
    char buf[sizeof(blob)];
    int key = em_fw_cfg_add_file(fc, "opt/test/blob", blob, sizeof(blob));
    unsigned n;

    ck_assert_int_eq(key, EM_FW_CFG_FILE_FIRST + 1);
    n = read_dir(dir, EM_FW_CFG_MAX_FILES);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(find_file(dir, n, "etc/e820"));
    e = find_file(dir, n, "opt/test/blob");
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->select, key);
    ck_assert_uint_eq(e->size, sizeof(blob));
    select_item((uint16_t)key);
    read_bytes(buf, sizeof(buf));
    ck_assert_mem_eq(buf, blob, sizeof(blob));
    expect_zeros(1);
    /* An empty file is fine too. */
    ck_assert_int_eq(em_fw_cfg_add_file(fc, "opt/empty", NULL, 0), EM_FW_CFG_FILE_FIRST + 2);
    select_item(EM_FW_CFG_FILE_FIRST + 2);
    expect_zeros(2);
    ck_assert_uint_eq(cap.count, 0);
}
END_TEST

START_TEST(bad_files_refused_nothing_lost)
{
    char name[EM_FW_CFG_NAME_LEN + 1];
    struct dir_entry dir[EM_FW_CFG_MAX_FILES];
    unsigned n;

    ck_assert_int_eq(em_fw_cfg_add_file(fc, "", "x", 1), -EINVAL);
    ck_assert(log_has(&cap, "the name is empty"));
    memset(name, 'a', EM_FW_CFG_NAME_LEN);
    name[EM_FW_CFG_NAME_LEN] = '\0';
    ck_assert_int_eq(em_fw_cfg_add_file(fc, name, "x", 1), -ENAMETOOLONG);
    ck_assert(log_has(&cap, "longer than 55"));
    ck_assert_int_eq(em_fw_cfg_add_file(fc, "etc/e820", "x", 1), -EEXIST);
    ck_assert(log_has(&cap, "'etc/e820'") && log_has(&cap, "exists"));
    ck_assert_uint_eq(cap.count, 3);
    /* 55 bytes is the longest name that fits. */
    name[EM_FW_CFG_NAME_LEN - 1] = '\0';
    ck_assert_int_eq(em_fw_cfg_add_file(fc, name, "y", 1), EM_FW_CFG_FILE_FIRST + 1);
    /* Fill the directory, then one more. */
    for (unsigned i = 2; i < EM_FW_CFG_MAX_FILES; i++) {
        char nm[16];

        snprintf(nm, sizeof(nm), "f%u", i);
        ck_assert_int_eq(em_fw_cfg_add_file(fc, nm, &i, sizeof(i)),
                         (int)(EM_FW_CFG_FILE_FIRST + i));
    }
    ck_assert_int_eq(em_fw_cfg_add_file(fc, "one-too-many", "z", 1), -ENOSPC);
    ck_assert(log_has(&cap, "'one-too-many'") && log_has(&cap, "full"));
    ck_assert_uint_eq(cap.count, 4);
    /* Every file that was accepted is intact, none of the refused ones. */
    n = read_dir(dir, EM_FW_CFG_MAX_FILES);
    ck_assert_uint_eq(n, EM_FW_CFG_MAX_FILES);
    ck_assert_ptr_nonnull(find_file(dir, n, name));
    ck_assert_ptr_null(find_file(dir, n, "one-too-many"));
    ck_assert_uint_eq(find_file(dir, n, "etc/e820")->size, em_machine_memmap(m)->nr_e820 * 20);
    select_item(EM_FW_CFG_FILE_FIRST + 63);
    ck_assert_uint_eq(read_le(4), 63);
}
END_TEST

START_TEST(only_16bit_selector_writes_select)
{
    select_item(EM_FW_CFG_NB_CPUS);
    /* A byte write to either port, data writes: ignored. */
    fake_outb(m, EM_FW_CFG_PORT, EM_FW_CFG_SIGNATURE);
    fake_outb(m, EM_FW_CFG_DATA_PORT, 0x55);
    ck_assert_uint_eq(read_le(2), 2);
    /* Wider reads give nothing and do not advance. */
    select_item(EM_FW_CFG_SIGNATURE);
    ck_assert_uint_eq(fake_in(m, EM_FW_CFG_PORT, 2), 0);
    ck_assert_uint_eq(fake_inb(m, EM_FW_CFG_DATA_PORT), 'Q');
    /* A byte read of the selector port reads data, as QEMU does. */
    ck_assert_uint_eq(fake_inb(m, EM_FW_CFG_PORT), 'E');
}
END_TEST

START_TEST(reselect_restarts)
{
    select_item(EM_FW_CFG_SIGNATURE);
    (void)read_le(3);
    select_item(EM_FW_CFG_SIGNATURE);
    ck_assert_uint_eq(fake_inb(m, EM_FW_CFG_DATA_PORT), 'Q');
}
END_TEST

START_TEST(reset_selects_signature)
{
    select_item(EM_FW_CFG_RAM_SIZE);
    (void)read_le(2);
    fake_machine_reset(m);
    ck_assert_uint_eq(read_le(4), 0x554d4551); /* "QEMU" */
}
END_TEST

START_TEST(port_taken_is_an_error)
{
    struct log_capture c2;
    struct em_machine *m2;

    log_capture_init(&c2);
    m2 = fake_machine_create(128 * MIB, 1, &c2);
    ck_assert_int_eq(kc_bus_register(fake_pio(m2), EM_FW_CFG_DATA_PORT, 1,
                                     &(const struct kc_io_ops){ 0 }, NULL, "squatter"),
                     0);
    ck_assert_int_eq(em_fw_cfg_create(m2), -EEXIST);
    ck_assert_uint_eq(c2.count, 1);
    ck_assert(log_has(&c2, "'fw_cfg'") && log_has(&c2, "'squatter'"));
    fake_machine_free(m2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("em_fw_cfg");
    TCase *tc = tcase_create("fw_cfg");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, signature_and_id);
    tcase_add_test(tc, numbered_items);
    tcase_add_test(tc, other_machine_sizes);
    tcase_add_test(tc, unknown_selectors_read_zeros);
    tcase_add_test(tc, e820_matches_memmap);
    tcase_add_test(tc, add_file_appears_in_directory);
    tcase_add_test(tc, bad_files_refused_nothing_lost);
    tcase_add_test(tc, only_16bit_selector_writes_select);
    tcase_add_test(tc, reselect_restarts);
    tcase_add_test(tc, reset_selects_signature);
    tcase_add_test(tc, port_taken_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

const bool test_needs_kvm = false;
