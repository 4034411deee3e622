/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Asynchronous teardown, as QEMU's -run-with async-teardown=on: a child
 * process, forked once the VM and its RAM exist, holds its own references
 * to them and does nothing until kvmemu dies. Destroying a VM and freeing
 * its memory then happens in that child's exit, not in kvmemu's: kvmemu's
 * exit (what mgmtd and a waiting shell see) is immediate, however large
 * the guest. On this project's nested host the kernel's VM destruction
 * alone takes 8-25 ms even for a tiny guest.
 */
#ifndef EM_TEARDOWN_H
#define EM_TEARDOWN_H

#include <sys/types.h>

#include <kvmcore/kvmcore.h>

/*
 * Forks the teardown process, which keeps only the descriptors in `keep`
 * (the VM and the RAM memfds) and closes every other one, stdio included,
 * so it holds no pipe, socket or terminal open. It is killed when the
 * calling thread exits: call from the main thread. Returns its pid, or
 * -errno (kvmemu then simply tears down synchronously).
 */
pid_t em_teardown_spawn(const int *keep, unsigned n, const struct kc_logger *log);

#endif
