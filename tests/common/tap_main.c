/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main() of every Check test program: runs test_suite() and writes TAP
 * to stdout, so that meson counts and names each test case. A program that
 * sets test_needs_kvm skips as a whole, with the reason on one line, when
 * /dev/kvm is absent; when it is present, it runs (and a KVM that does not
 * work is a failure, not a skip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

int main(void)
{
    SRunner *sr;
    int failed;

    if (test_needs_kvm && access("/dev/kvm", F_OK) != 0) {
        printf("1..0 # SKIP /dev/kvm is absent (%s): these tests need KVM\n", strerror(errno));
        return 0;
    }
    sr = srunner_create(test_suite());
    srunner_set_tap(sr, "-");
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
