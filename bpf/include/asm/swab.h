/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* Strata: the BPF target has no arch-specific byte swapping; linux/swab.h
 * falls back to its generic code. (Replaces the x86 header.) */
#ifndef _ASM_BPF_SWAB_H
#define _ASM_BPF_SWAB_H
#endif
