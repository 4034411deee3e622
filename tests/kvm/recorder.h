/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device that records every access it receives and answers reads with a
 * pattern that depends on offset and size: byte i of a read at offset o is
 * 0xa0 + o + i. Tests compare the record with what the guest did.
 */
#ifndef KVM_RECORDER_H
#define KVM_RECORDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <kvmcore/kvmcore.h>

#define REC_MAX 64

struct rec_access {
    char bus; /* 'p' or 'm' */
    bool write;
    uint64_t offset;
    unsigned size;
    uint64_t value;
};

struct recorder {
    char bus;
    pthread_mutex_t lock;
    struct rec_access log[REC_MAX];
    unsigned n;
};

extern const struct kc_io_ops recorder_ops;

void recorder_init(struct recorder *r, char bus);
uint64_t recorder_pattern(uint64_t offset, unsigned size);
/* Asserts that the record equals the expected accesses, in order. */
void recorder_expect(struct recorder *r, const struct rec_access *want, unsigned n);

#endif
