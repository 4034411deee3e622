/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kvmemu: one process per virtual machine. */
#include <stdio.h>

#include "machine.h"
#include "options.h"
#include "timeline.h"

int main(int argc, char **argv)
{
    struct em_timeline *tl = em_timeline_create(); /* t = 0: as close to exec as we get */
    struct em_config cfg;
    struct em_machine *m;
    int ret;

    if (!tl) {
        fprintf(stderr, "kvmemu: out of memory\n");
        return EM_EXIT_ERROR;
    }
    ret = em_options_parse(argc, argv, &cfg, stdout, stderr);
    if (ret != 0) {
        em_timeline_destroy(tl);
        return ret < 0 ? EM_EXIT_OK : ret;
    }
    m = em_machine_create(&cfg, tl);
    ret = m ? em_machine_run(m) : EM_EXIT_ERROR;
    em_machine_destroy(m);
    if (cfg.trace_boot)
        em_timeline_print(tl, stderr);
    em_timeline_destroy(tl);
    return ret;
}
