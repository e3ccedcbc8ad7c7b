/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* Strata: BPF is a 64-bit target. (Replaces the x86 header, which keys off
 * __x86_64__ and would say 32 here.) */
#ifndef __ASM_BPF_BITSPERLONG_H
#define __ASM_BPF_BITSPERLONG_H
#define __BITS_PER_LONG 64
#include <asm-generic/bitsperlong.h>
#endif
