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
	K_PARSE_INVITE,  /**< a 911 B INVITE with SDP, through two proxies */
	K_PARSE_OK200,   /**< its 368 B 200 OK (no body) */
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

/* ---- one worker iteration over net_ring ports (bench/k_worker.c) ------ */

struct k_worker;

/**
 * EAL (--no-huge, in this process, once), two net_ring ports, a dataplane
 * with one worker on this thread, and the workload in workload_dir
 * (rules.tsv converted, a $target added to each rule; numbers.csv as
 * INVITEs with SDP). NULL with err filled on failure.
 */
struct k_worker *k_worker_new(const char *workload_dir, char *err, size_t err_len);
/** Feed a burst of 32 INVITEs, run one worker iteration, drain. Returns 32. */
uint64_t k_worker_burst(struct k_worker *k);
/** The feeding and draining alone (mbuf alloc + copy + free). Returns 32. */
uint64_t k_worker_feed_only(struct k_worker *k);
/** Requests forwarded and requests answered or dropped so far. */
void k_worker_counters(const struct k_worker *k, uint64_t *fwd, uint64_t *other);

#ifdef __cplusplus
}
#endif

#endif /* SW_BENCH_KERNELS_H */
