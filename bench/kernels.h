/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file kernels.h
 * The bench door: C kernels timed by bench_main.cc (Google Benchmark).
 */
#ifndef SW_BENCH_KERNELS_H
#define SW_BENCH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* SW_BENCH_KERNELS_H */
