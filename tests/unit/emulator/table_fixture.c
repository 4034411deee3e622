/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "table_fixture.h"

struct log_capture cap;
struct kc_mem *mem;

void table_setup(void)
{
    log_capture_init(&cap);
    mem = kc_mem_create(&cap.logger);
    ck_assert_ptr_nonnull(mem);
    ck_assert_ptr_nonnull(kc_mem_add_ram(mem, 0, MIB, 0, "low"));
}

void table_teardown(void)
{
    kc_mem_destroy(mem);
    mem = NULL;
}
