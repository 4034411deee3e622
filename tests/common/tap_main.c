/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main() of every Check test program: runs test_suite() and writes TAP
 * to stdout, so that meson counts and names each test case. A program that
 * sets test_needs_kvm skips as a whole, with the reason on one line, when
 * /dev/kvm is absent; when it is present, it runs (and a KVM that does not
 * work is a failure, not a skip).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/*
 * Copies Check's TAP to stdout. A failure message may span several lines;
 * TAP has no such thing, so every line that is not a TAP line becomes a
 * comment, and the failure stays a plain "not ok" with its whole message.
 */
static int relay_tap(const char *path)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    bool continuation = false;

    if (!f) {
        printf("Bail out! cannot read Check's TAP output %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        bool tap = !continuation && (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7) ||
                                     !strncmp(line, "1..", 3) || line[0] == '#');

        fputs(tap ? "" : "# ", stdout);
        fputs(line, stdout);
        /* A line longer than the buffer continues in the next read. */
        continuation = strchr(line, '\n') == NULL;
    }
    fclose(f);
    return 0;
}

int main(void)
{
    char path[] = "/tmp/kvmstack-tap-XXXXXX";
    SRunner *sr;
    int failed, fd;

    if (test_needs_kvm && access("/dev/kvm", F_OK) != 0) {
        printf("1..0 # SKIP /dev/kvm is absent (%s): these tests need KVM%s%s\n", strerror(errno),
               test_skip_note ? "; " : "", test_skip_note ? test_skip_note : "");
        return 0;
    }
    fd = mkstemp(path);
    if (fd < 0) {
        printf("Bail out! cannot create a file for Check's TAP output: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    close(fd);
    sr = srunner_create(test_suite());
    srunner_set_tap(sr, path);
    srunner_run_all(sr, CK_SILENT);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (relay_tap(path) < 0)
        failed = 1;
    unlink(path);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
