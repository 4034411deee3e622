/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libkvmcore: a small C library over /dev/kvm. Include this one header. */
#ifndef KVMCORE_KVMCORE_H
#define KVMCORE_KVMCORE_H

#include <kvmcore/log.h>
#include <kvmcore/kvm.h>
#include <kvmcore/mem.h>
#include <kvmcore/bus.h>
#include <kvmcore/exit.h>
#include <kvmcore/cpuid.h>
#include <kvmcore/vm.h>
#include <kvmcore/vcpu.h>
#include <kvmcore/x86.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, as "MAJOR.MINOR.PATCH". */
const char *kc_version(void);

#ifdef __cplusplus
}
#endif

#endif
