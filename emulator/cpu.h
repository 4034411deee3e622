/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine's vCPUs: created with the --cpu model and a CPUID topology
 * that matches --smp, their power-on state kept for resets, the boot
 * image's entry state applied to the BSP, and the handler for the exits
 * no device takes (triple fault, internal errors).
 */
#ifndef EM_CPU_H
#define EM_CPU_H

#include "machine.h"

struct em_cpus;

struct em_cpus *em_cpus_create(struct em_machine *m);
void em_cpus_destroy(struct em_cpus *c);

/* Every vCPU back to its power-on state; the BSP then enters `boot`. The
 * APs wait for INIT/SIPI from the guest, as on a PC. */
int em_cpus_reset(struct em_cpus *c, const struct em_boot *boot);
int em_cpus_start(struct em_cpus *c);
/* Stops and joins every vCPU thread. */
void em_cpus_stop(struct em_cpus *c);

/* How many instructions kvmemu completed for the host (insn_complete.h). */
void em_cpus_completed(struct em_cpus *c, unsigned long *int3, unsigned long *fwait);

/* Sets the topology leaves (1, 4, 0xb, 0x1f, 0x80000008) for n CPUs,
 * one core each in one package. Exposed for tests. */
void em_cpuid_set_topology(struct kc_cpuid *cpuid, unsigned n);

#endif
