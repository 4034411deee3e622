/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw_cfg, as QEMU's I/O-port interface without DMA: the items firmware
 * and Linux's qemu_fw_cfg driver look for (signature, interface ID, UUID,
 * RAM size, CPU counts) and a file directory, with "etc/e820" describing
 * the memory map. Reading past an item's end, or any unknown selector,
 * gives zeros.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fw_cfg.h"
#include "devices.h"

#define E820_ENTRY_SIZE 20 /* u64 addr, u64 length, u32 type, little-endian */
#define FIXED_ITEMS     8  /* the numbered items, file directory included */
#define MAX_ITEMS       (FIXED_ITEMS + EM_FW_CFG_MAX_FILES)

struct item {
    uint16_t key;
    uint32_t size;
    uint8_t *data;
};

struct em_fw_cfg {
    const struct kc_logger *log;
    pthread_mutex_t lock;
    struct item items[MAX_ITEMS];
    unsigned nr_items;
    /* Files, in the order they were added: items[first_file...]. */
    unsigned first_file, nr_files;
    char names[EM_FW_CFG_MAX_FILES][EM_FW_CFG_NAME_LEN];
    /* The guest's position: the selected item (NULL if unknown). */
    const struct item *cur;
    uint32_t offset;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static struct item *find(struct em_fw_cfg *fc, uint16_t key)
{
    for (unsigned i = 0; i < fc->nr_items; i++)
        if (fc->items[i].key == key)
            return &fc->items[i];
    return NULL;
}

/* Adds an item that takes ownership of data (freed with the device). */
static int add_item(struct em_fw_cfg *fc, uint16_t key, uint8_t *data, uint32_t size)
{
    if (fc->nr_items == MAX_ITEMS) {
        free(data);
        return -ENOSPC;
    }
    fc->items[fc->nr_items++] = (struct item){ key, size, data };
    return 0;
}

static int add_copy(struct em_fw_cfg *fc, uint16_t key, const void *src, uint32_t size)
{
    uint8_t *data = malloc(size ? size : 1);

    if (!data)
        return -ENOMEM;
    if (size)
        memcpy(data, src, size);
    return add_item(fc, key, data, size);
}

static int add_le(struct em_fw_cfg *fc, uint16_t key, uint64_t v, unsigned n)
{
    uint8_t buf[8];

    put_le(buf, v, n);
    return add_copy(fc, key, buf, n);
}

/* Rebuilds the directory item from the file list. Lock held. */
static int rebuild_dir(struct em_fw_cfg *fc)
{
    struct item *dir = find(fc, EM_FW_CFG_FILE_DIR);
    uint32_t size = 4 + EM_FW_CFG_DIR_ENTRY * fc->nr_files;
    uint8_t *data = calloc(1, size);

    if (!data)
        return -ENOMEM;
    put_be(data, fc->nr_files, 4);
    for (unsigned i = 0; i < fc->nr_files; i++) {
        const struct item *f = &fc->items[fc->first_file + i];
        uint8_t *e = data + 4 + EM_FW_CFG_DIR_ENTRY * i;

        put_be(e, f->size, 4);
        put_be(e + 4, f->key, 2);
        memcpy(e + 8, fc->names[i], EM_FW_CFG_NAME_LEN);
    }
    free(dir->data);
    dir->data = data;
    dir->size = size;
    return 0;
}

int em_fw_cfg_add_file(struct em_fw_cfg *fc, const char *name, const void *data, size_t len)
{
    size_t name_len = strlen(name);
    const char *problem = NULL;
    int ret = 0;

    pthread_mutex_lock(&fc->lock);
    if (name_len == 0) {
        problem = "the name is empty";
        ret = -EINVAL;
    } else if (name_len >= EM_FW_CFG_NAME_LEN) {
        problem = "the name is longer than 55 bytes";
        ret = -ENAMETOOLONG;
    } else if (len > UINT32_MAX) {
        problem = "larger than 4 GiB";
        ret = -EFBIG;
    } else if (fc->nr_files == EM_FW_CFG_MAX_FILES) {
        problem = "the directory is full";
        ret = -ENOSPC;
    }
    for (unsigned i = 0; !problem && i < fc->nr_files; i++) {
        if (!strcmp(fc->names[i], name)) {
            problem = "a file of that name exists";
            ret = -EEXIST;
        }
    }
    if (!problem) {
        uint16_t key = (uint16_t)(EM_FW_CFG_FILE_FIRST + fc->nr_files);

        ret = add_copy(fc, key, data, (uint32_t)len);
        if (ret == 0) {
            memcpy(fc->names[fc->nr_files], name, name_len + 1);
            fc->nr_files++;
            ret = rebuild_dir(fc);
            if (ret < 0) {
                /* Undo, so that the directory and the items agree. */
                fc->nr_files--;
                free(fc->items[--fc->nr_items].data);
            }
        }
        if (ret < 0)
            problem = "out of memory";
        else
            ret = key;
    }
    pthread_mutex_unlock(&fc->lock);
    if (problem)
        kc_log(fc->log, KC_LOG_ERROR, "fw_cfg: cannot add file '%.80s' (%zu bytes): %s", name, len,
               problem);
    return ret;
}

/* ---- ports: 0x510 selector (16-bit write), 0x511 data (8-bit read) ---- */

static uint64_t fw_cfg_read(void *opaque, uint64_t offset, unsigned size)
{
    struct em_fw_cfg *fc = opaque;
    uint8_t v = 0;

    (void)offset;
    /* As QEMU: any single-byte read is a data read. */
    if (size != 1)
        return 0;
    pthread_mutex_lock(&fc->lock);
    if (fc->cur && fc->offset < fc->cur->size)
        v = fc->cur->data[fc->offset++];
    pthread_mutex_unlock(&fc->lock);
    return v;
}

static void fw_cfg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct em_fw_cfg *fc = opaque;

    /* Only the selector is writable: data writes are ignored, as QEMU
     * has done since 2.4. */
    if (offset != 0 || size != 2)
        return;
    pthread_mutex_lock(&fc->lock);
    fc->cur = find(fc, (uint16_t)value);
    fc->offset = 0;
    pthread_mutex_unlock(&fc->lock);
}

static const struct kc_io_ops fw_cfg_ops = { .read = fw_cfg_read, .write = fw_cfg_write };

/* ---- life cycle ---- */

static int add_e820(struct em_fw_cfg *fc, const struct em_memmap *mm)
{
    uint8_t buf[EM_E820_MAX * E820_ENTRY_SIZE];

    for (unsigned i = 0; i < mm->nr_e820; i++) {
        uint8_t *e = buf + i * E820_ENTRY_SIZE;

        put_le(e, mm->e820[i].addr, 8);
        put_le(e + 8, mm->e820[i].size, 8);
        put_le(e + 16, mm->e820[i].type, 4);
    }
    int ret = em_fw_cfg_add_file(fc, "etc/e820", buf, mm->nr_e820 * E820_ENTRY_SIZE);

    return ret < 0 ? ret : 0;
}

static int add_fixed(struct em_fw_cfg *fc, const struct em_machine *m)
{
    static const uint8_t uuid[16];
    unsigned ncpus = em_machine_ncpus(m);
    int ret = add_copy(fc, EM_FW_CFG_SIGNATURE, "QEMU", 4);

    if (ret == 0)
        ret = add_le(fc, EM_FW_CFG_ID, EM_FW_CFG_ID_TRADITIONAL, 4);
    if (ret == 0)
        ret = add_copy(fc, EM_FW_CFG_UUID, uuid, sizeof(uuid));
    if (ret == 0)
        ret = add_le(fc, EM_FW_CFG_RAM_SIZE, em_machine_memmap(m)->ram_size, 8);
    if (ret == 0)
        ret = add_le(fc, EM_FW_CFG_NOGRAPHIC, 1, 2);
    if (ret == 0)
        ret = add_le(fc, EM_FW_CFG_NB_CPUS, ncpus, 2);
    /* No CPU hotplug: the most there can be is what there is. */
    if (ret == 0)
        ret = add_le(fc, EM_FW_CFG_MAX_CPUS, ncpus, 2);
    if (ret == 0)
        ret = add_item(fc, EM_FW_CFG_FILE_DIR, NULL, 0);
    if (ret == 0)
        ret = rebuild_dir(fc);
    return ret;
}

static void fw_cfg_reset(void *state)
{
    struct em_fw_cfg *fc = state;

    pthread_mutex_lock(&fc->lock);
    fc->cur = find(fc, EM_FW_CFG_SIGNATURE);
    fc->offset = 0;
    pthread_mutex_unlock(&fc->lock);
}

static void fw_cfg_destroy(void *state)
{
    struct em_fw_cfg *fc = state;

    for (unsigned i = 0; i < fc->nr_items; i++)
        free(fc->items[i].data);
    pthread_mutex_destroy(&fc->lock);
    free(fc);
}

static const struct em_device_ops fw_cfg_dev = { .reset = fw_cfg_reset, .destroy = fw_cfg_destroy };

int em_fw_cfg_create(struct em_machine *m)
{
    struct em_fw_cfg *fc = calloc(1, sizeof(*fc));
    int ret;

    if (!fc) {
        kc_log(em_machine_logger(m), KC_LOG_ERROR, "fw_cfg: out of memory");
        return -ENOMEM;
    }
    fc->log = em_machine_logger(m);
    pthread_mutex_init(&fc->lock, NULL);
    ret = add_fixed(fc, m);
    if (ret < 0)
        kc_log(fc->log, KC_LOG_ERROR, "fw_cfg: out of memory");
    fc->first_file = fc->nr_items;
    if (ret == 0)
        ret = add_e820(fc, em_machine_memmap(m)); /* logs its own failure */
    if (ret < 0) {
        fw_cfg_destroy(fc);
        return ret;
    }
    fw_cfg_reset(fc);
    ret = em_machine_add_device(m, "fw_cfg", fc, &fw_cfg_dev);
    if (ret < 0) {
        fw_cfg_destroy(fc);
        return ret;
    }
    return em_machine_pio(m, EM_FW_CFG_PORT, 2, &fw_cfg_ops, fc, "fw_cfg");
}
