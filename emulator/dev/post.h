/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POST codes (port 0x80): what the guest wrote there, for tests and the
 * monitor. The device is em_machine_device(m, "post").
 */
#ifndef EM_DEV_POST_H
#define EM_DEV_POST_H

#include <stdint.h>

#define EM_POST_PORT      0x80
#define EM_POST_MAX_CODES 64

struct em_post;

/* Copies up to max of the first EM_POST_MAX_CODES codes written, oldest
 * first; returns how many were copied. */
unsigned em_post_codes(struct em_post *p, uint8_t *codes, unsigned max);
/* Every write since kvmemu started, kept or not. */
uint64_t em_post_count(struct em_post *p);

#endif
