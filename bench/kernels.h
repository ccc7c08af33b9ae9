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

/* ---- RCU publish and read side (bench/k_rcu.c) ------------------------- */

/** Most background reader threads k_rcu_readers_start() takes. */
#define K_RCU_MAX_READERS 4

/**
 * Start n reader threads that loop as workers do (QSBR registered; read
 * lock, rcu_dereference, unlock, quiescent state). Returns 0 or -errno.
 * Not thread safe: one benchmark thread drives all k_rcu_* calls.
 */
int k_rcu_readers_start(unsigned n);
/** Stop and join them. @return the reader loops they ran in total. */
uint64_t k_rcu_readers_stop(void);
/**
 * One publish as control/reload.c does it: rcu_xchg_pointer() of the slot,
 * then urcu_qsbr_synchronize_rcu(). The caller must not be a registered
 * reader. @return the version replaced.
 */
uint64_t k_rcu_publish(void);
/** Register / unregister the calling thread as a QSBR reader. */
void k_rcu_reader_register(void);
void k_rcu_reader_unregister(void);
/** n reader loops in the calling (registered) thread. @return a checksum. */
uint64_t k_rcu_read(unsigned n);
/** A thread that publishes back to back (for the read side under a writer). */
int k_rcu_writer_start(void);
/** Stop it; call after k_rcu_reader_unregister(). @return publishes done. */
uint64_t k_rcu_writer_stop(void);

/* ---- In-place rewrite of a forwarded INVITE (bench/k_rewrite.c) ------- */

/** What k_rewrite() does per message. */
enum k_rw_mode {
	K_RW_COPY,          /**< only the copy of the original (the baseline) */
	K_RW_REWRITE,       /**< copy, build the splices, apply them */
	K_RW_PARSE_REWRITE, /**< copy, sw_sip_parse(), splices, apply */
	K_RW__COUNT
};

/** Parse the K_PARSE_INVITE message once. @return its length or -1. */
int k_rewrite_init(void);
/**
 * Rewrite the INVITE n times in place (Via push + received=, Max-Forwards,
 * Request-URI, a header set, a header removal, double Record-Route).
 * No allocation. @return a checksum for benchmark::DoNotOptimize.
 */
uint64_t k_rewrite(enum k_rw_mode mode, unsigned n);
/** The rewritten message once (for a look at it); NULL on failure. */
const char *k_rewrite_result(size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* SW_BENCH_KERNELS_H */
