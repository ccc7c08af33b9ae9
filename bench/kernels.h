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

/* ---- SIP parse (bench/k_parse.c) --------------------------------------- */

/** A set of messages a kernel runs over, each once per call. */
struct k_corpus {
	const char *name;
	size_t n;
	const char *const *msg;
	const size_t *len;
};

/** Parse corpora for k_parse_corpus(). */
enum k_parse_set {
	K_PARSE_INVITE,  /**< a 900 B INVITE with SDP, through two proxies */
	K_PARSE_OK200,   /**< a 350 B 200 OK to it (no body) */
	K_PARSE_ACK,     /**< the ACK for the 200 */
	K_PARSE_TORTURE, /**< every RFC 4475 message (tests/fuzz/corpus/sip/rfc4475-*) */
	K_PARSE__COUNT
};

/**
 * The corpus `which`; the torture set is read from dir (the seed corpus)
 * on first use. Returns NULL when it cannot be built. Not thread safe.
 */
const struct k_corpus *k_parse_corpus(enum k_parse_set which, const char *dir);

/**
 * Parse every message of c once with sw_sip_parse(). No allocation.
 * @return a checksum of the indexes, for benchmark::DoNotOptimize.
 */
uint64_t k_parse(const struct k_corpus *c);

#ifdef __cplusplus
}
#endif

#endif /* SW_BENCH_KERNELS_H */
