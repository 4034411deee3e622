/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's firmware configuration interface, the traditional (port) form:
 * a 16-bit selector written to 0x510 picks an item, whose bytes are then
 * read one at a time from 0x511. The device is em_machine_device(m,
 * "fw_cfg"); others add named files to it.
 */
#ifndef EM_DEV_FW_CFG_H
#define EM_DEV_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#define EM_FW_CFG_PORT      0x510 /* selector; the data port is 0x511 */
#define EM_FW_CFG_DATA_PORT 0x511

/* Item selectors. */
#define EM_FW_CFG_SIGNATURE  0x0000
#define EM_FW_CFG_ID         0x0001
#define EM_FW_CFG_UUID       0x0002
#define EM_FW_CFG_RAM_SIZE   0x0003
#define EM_FW_CFG_NOGRAPHIC  0x0004
#define EM_FW_CFG_NB_CPUS    0x0005
#define EM_FW_CFG_MAX_CPUS   0x000f
#define EM_FW_CFG_FILE_DIR   0x0019
#define EM_FW_CFG_FILE_FIRST 0x0020

#define EM_FW_CFG_ID_TRADITIONAL 0x1
#define EM_FW_CFG_MAX_FILES      64
/* A file directory entry: be32 size, be16 select, be16 reserved, name. */
#define EM_FW_CFG_NAME_LEN  56
#define EM_FW_CFG_DIR_ENTRY 64

struct em_fw_cfg;

/*
 * Adds a file item holding a copy of data; returns its selector. Errors,
 * logged: -EINVAL for an empty name, -ENAMETOOLONG for a name of 56 bytes
 * or more, -EEXIST for a name already present, -ENOSPC beyond
 * EM_FW_CFG_MAX_FILES, -EFBIG beyond 4 GiB, -ENOMEM.
 */
int em_fw_cfg_add_file(struct em_fw_cfg *fc, const char *name, const void *data, size_t len);

#endif
