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

/* ---- Rule matching (bench/k_match.c) ----------------------------------- */

struct k_match;

/**
 * Load a workload (rules.tsv + numbers.csv, the shape of ../shared/workload), compile it with sipwarp (flags: SW_RULES_*) and, when
 * with_naive, the naive evaluator (every rule in order with PCRE2-JIT).
 * NULL when the files are missing or do not compile. Allocates.
 */
struct k_match *k_match_open(const char *rules_tsv, const char *numbers_csv, unsigned flags,
			     int with_naive);
/** Numbers in the workload. */
size_t k_match_n(const struct k_match *k);
/** Route number i (mod n) through the ruleset; no allocation. Returns a checksum. */
uint64_t k_match(struct k_match *k, size_t i);
/** Route number i (mod n) with the naive evaluator. Returns a checksum. */
uint64_t k_match_naive(struct k_match *k, size_t i);
/** Median (and 99th percentile) per-number match time over the workload, ns. */
double k_match_p50_ns(struct k_match *k, int naive, double *p99);
/** Build time, approximate bytes per rule, number of rules. */
void k_match_stats(const struct k_match *k, double *build_s, double *bytes_per_rule,
		   unsigned *rules);
void k_match_close(struct k_match *k);

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
