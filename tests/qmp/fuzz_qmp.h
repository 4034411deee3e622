/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fuzz target's entry (libFuzzer's name), for fuzz_replay.c. */
#ifndef QMP_FUZZ_QMP_H
#define QMP_FUZZ_QMP_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
