// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark registrations for the C kernels of bench/kernels.h.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <vector>

#include "bench/kernels.h"

// Count allocations by interposing glibc's malloc family, so a kernel that
// claims "0 allocations" is checked, not trusted.
extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
static uint64_t n_allocs;
void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}
}

#ifndef SW_SEED_CORPUS
#define SW_SEED_CORPUS "tests/fuzz/corpus/sip"
#endif

static void BM_parse(benchmark::State &state)
{
	const k_corpus *c =
		k_parse_corpus(static_cast<k_parse_set>(state.range(0)), SW_SEED_CORPUS);

	if (c == nullptr) {
		state.SkipWithError("corpus not found");
		return;
	}
	uint64_t before = n_allocs;
	for (int i = 0; i < 1000; i++)
		benchmark::DoNotOptimize(k_parse(c));
	uint64_t allocs = n_allocs - before;

	for (auto _ : state)
		benchmark::DoNotOptimize(k_parse(c));
	state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(c->n));
	state.SetLabel(c->name);
	state.counters["msgs"] = static_cast<double>(c->n);
	state.counters["allocs_per_parse"] = static_cast<double>(allocs) / (1000.0 * c->n);
	state.counters["time_per_msg"] = benchmark::Counter(
		static_cast<double>(state.iterations() * c->n),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_parse)
	->Arg(K_PARSE_INVITE)
	->Arg(K_PARSE_OK200)
	->Arg(K_PARSE_ACK)
	->Arg(K_PARSE_TORTURE);

// One worker iteration (parse, match, rewrite, send) per burst of 32
// INVITEs, at 10, 1k and 10k rules of the reference workload. CPU time, so
// a busy machine does not inflate it; BM_worker_feed is the feeding alone.
static const char *const workloads[] = {"r10", "r1000", "r10000"};

static void BM_worker(benchmark::State &state)
{
	static k_worker *ks[3];
	char err[256];
	int w = static_cast<int>(state.range(0));
	std::string dir = std::string(SW_SHARED_WORKLOAD) + "/" + workloads[w];

	if (ks[w] == nullptr && (ks[w] = k_worker_new(dir.c_str(), err, sizeof(err))) == nullptr) {
		state.SkipWithError(err);
		return;
	}
	for (auto _ : state)
		benchmark::DoNotOptimize(k_worker_burst(ks[w]));
	uint64_t fwd, other;
	k_worker_counters(ks[w], &fwd, &other);
	state.SetItemsProcessed(state.iterations() * 32);
	state.SetLabel(workloads[w]);
	state.counters["not_forwarded"] = static_cast<double>(other);
	state.counters["ns_per_msg"] = benchmark::Counter(
		static_cast<double>(state.iterations() * 32),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_worker)->Arg(0)->Arg(1)->Arg(2);

static void BM_worker_feed(benchmark::State &state)
{
	static k_worker *k;
	char err[256];
	std::string dir = std::string(SW_SHARED_WORKLOAD) + "/r10";

	if (k == nullptr && (k = k_worker_new(dir.c_str(), err, sizeof(err))) == nullptr) {
		state.SkipWithError(err);
		return;
	}
	for (auto _ : state)
		benchmark::DoNotOptimize(k_worker_feed_only(k));
	state.SetItemsProcessed(state.iterations() * 32);
	state.counters["ns_per_msg"] = benchmark::Counter(
		static_cast<double>(state.iterations() * 32),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_worker_feed);

// ---- Rule matching: sipwarp vs the naive linear PCRE2 evaluator ----------

#ifndef SW_SHARED
#define SW_SHARED "../shared"
#endif
#ifndef SW_BENCH_GEN
#define SW_BENCH_GEN "."
#endif

// 10, 1k, 10k: ../shared/workload; 100k: rules/tools/gen_workload.py at build time.
static struct k_match *match_workload(int64_t size, int naive, unsigned flags = 0)
{
	static struct k_match *cache[3][4];
	int which = flags ? 2 : naive;
	int slot = size == 10 ? 0 : size == 1000 ? 1 : size == 10000 ? 2 : 3;
	if (cache[which][slot] == nullptr) {
		std::string rules, numbers;
		if (slot < 3) {
			std::string dir = std::string(SW_SHARED) + "/workload/r" + std::to_string(size);
			rules = dir + "/rules.tsv";
			numbers = dir + "/numbers.csv";
		} else {
			rules = std::string(SW_BENCH_GEN) + "/r100000.rules.tsv";
			numbers = std::string(SW_BENCH_GEN) + "/r100000.numbers.csv";
		}
		cache[which][slot] = k_match_open(rules.c_str(), numbers.c_str(), flags, naive);
	}
	return cache[which][slot];
}

// range(1): 0 = trie + Hyperscan (default), 1 = SW_RULES_NO_TRIE (Hyperscan decides alone)
static void BM_match(benchmark::State &state)
{
	struct k_match *k = match_workload(state.range(0), 0, state.range(1) ? 1u : 0u);
	if (k == nullptr) {
		state.SkipWithError("workload not found");
		return;
	}
	size_t i = 0;
	uint64_t before = n_allocs;
	for (size_t j = 0; j < 1000; j++)
		benchmark::DoNotOptimize(k_match(k, j));
	uint64_t allocs = n_allocs - before;
	for (auto _ : state)
		benchmark::DoNotOptimize(k_match(k, i++));
	double p99 = 0, p50 = k_match_p50_ns(k, 0, &p99);
	double build_s, bpr;
	unsigned rules;
	k_match_stats(k, &build_s, &bpr, &rules);
	state.SetItemsProcessed(state.iterations());
	state.counters["rules"] = rules;
	state.counters["p50_ns"] = p50;
	state.counters["p99_ns"] = p99;
	state.counters["allocs_per_match"] = static_cast<double>(allocs) / 1000.0;
	state.SetLabel(state.range(1) ? "hyperscan only" : "trie + hyperscan");
	state.counters["build_s"] = build_s;
	state.counters["bytes_per_rule"] = bpr;
}
BENCHMARK(BM_match)
	->Args({10, 0})
	->Args({1000, 0})
	->Args({10000, 0})
	->Args({100000, 0})
	->Args({10, 1})
	->Args({1000, 1})
	->Args({10000, 1});

static void BM_match_naive(benchmark::State &state)
{
	struct k_match *k = match_workload(state.range(0), 1);
	if (k == nullptr) {
		state.SkipWithError("workload not found");
		return;
	}
	size_t i = 0;
	for (auto _ : state)
		benchmark::DoNotOptimize(k_match_naive(k, i++));
	state.SetItemsProcessed(state.iterations());
	if (state.range(0) <= 10000) {
		double p99 = 0;
		state.counters["p50_ns"] = k_match_p50_ns(k, 1, &p99);
		state.counters["p99_ns"] = p99;
	}
}
BENCHMARK(BM_match_naive)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000);

// Build time of the ruleset (compile + scratch) per size.
static void BM_build(benchmark::State &state)
{
	for (auto _ : state) {
		struct k_match *k = nullptr;
		std::string rules, numbers;
		int64_t size = state.range(0);
		if (size < 100000) {
			std::string dir = std::string(SW_SHARED) + "/workload/r" + std::to_string(size);
			rules = dir + "/rules.tsv";
			numbers = dir + "/numbers.csv";
		} else {
			rules = std::string(SW_BENCH_GEN) + "/r100000.rules.tsv";
			numbers = std::string(SW_BENCH_GEN) + "/r100000.numbers.csv";
		}
		k = k_match_open(rules.c_str(), numbers.c_str(), 0, 0);
		if (k == nullptr) {
			state.SkipWithError("workload not found");
			return;
		}
		double build_s, bpr;
		unsigned n;
		k_match_stats(k, &build_s, &bpr, &n);
		state.SetIterationTime(build_s);
		state.counters["bytes_per_rule"] = bpr;
		state.counters["rules"] = n;
		k_match_close(k);
	}
}
BENCHMARK(BM_build)->Arg(10)->Arg(1000)->Arg(10000)->Arg(100000)->UseManualTime()->Unit(benchmark::kMillisecond);

// RCU publish latency: rcu_xchg_pointer + urcu_qsbr_synchronize_rcu with
// range(0) reader threads looping like workers. With readers the grace
// period depends on when the kernel runs them (2 readers + the writer on a
// 2-vCPU machine are one thread too many), so the spread is reported too
// and the iteration count is fixed: an estimate made in a fast moment would
// otherwise run for minutes when the machine gets busy.
static void BM_rcu_publish(benchmark::State &state)
{
	unsigned readers = static_cast<unsigned>(state.range(0));
	std::vector<double> us;

	if (k_rcu_readers_start(readers) != 0) {
		state.SkipWithError("cannot start reader threads");
		return;
	}
	us.reserve(static_cast<size_t>(state.max_iterations));
	for (auto _ : state) {
		auto t0 = std::chrono::steady_clock::now();
		benchmark::DoNotOptimize(k_rcu_publish());
		us.push_back(std::chrono::duration<double, std::micro>(
				     std::chrono::steady_clock::now() - t0)
				     .count());
	}
	uint64_t loops = k_rcu_readers_stop();
	std::sort(us.begin(), us.end());
	state.SetItemsProcessed(state.iterations());
	state.counters["readers"] = static_cast<double>(readers);
	state.counters["reader_loops_per_publish"] =
		static_cast<double>(loops) / static_cast<double>(state.iterations());
	if (!us.empty()) {
		state.counters["p50_us"] = us[us.size() / 2];
		state.counters["p99_us"] = us[us.size() * 99 / 100];
		state.counters["max_us"] = us.back();
	}
}
BENCHMARK(BM_rcu_publish)->Arg(0)->UseRealTime();
BENCHMARK(BM_rcu_publish)->Arg(1)->Arg(2)->Iterations(500)->UseRealTime();

// RCU read side per worker loop: read lock, rcu_dereference, unlock,
// quiescent state; range(0) = 1 with a writer publishing back to back.
static void BM_rcu_read(benchmark::State &state)
{
	const unsigned n = 1000;
	bool with_writer = state.range(0) != 0;

	if (with_writer && k_rcu_writer_start() != 0) {
		state.SkipWithError("cannot start the writer thread");
		return;
	}
	k_rcu_reader_register();
	for (auto _ : state)
		benchmark::DoNotOptimize(k_rcu_read(n));
	k_rcu_reader_unregister();
	if (with_writer)
		state.counters["publishes"] = static_cast<double>(k_rcu_writer_stop());
	state.SetItemsProcessed(state.iterations() * n);
	state.SetLabel(with_writer ? "writer publishing" : "no writer");
	state.counters["ns_per_loop"] = benchmark::Counter(
		static_cast<double>(state.iterations() * n),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_rcu_read)->Arg(0)->Arg(1);

// In-place rewrite of the 1 KB INVITE (dataplane/rewrite.h splices).
static void BM_rewrite(benchmark::State &state)
{
	static const char *const names[] = {"copy only", "copy+rewrite", "copy+parse+rewrite"};
	k_rw_mode mode = static_cast<k_rw_mode>(state.range(0));
	const unsigned n = 100;
	int len = k_rewrite_init();

	if (len < 0) {
		state.SkipWithError("INVITE does not parse");
		return;
	}
	uint64_t before = n_allocs;
	benchmark::DoNotOptimize(k_rewrite(mode, 1000));
	uint64_t allocs = n_allocs - before;
	for (auto _ : state)
		benchmark::DoNotOptimize(k_rewrite(mode, n));
	state.SetItemsProcessed(state.iterations() * n);
	state.SetLabel(names[mode]);
	state.counters["msg_bytes"] = static_cast<double>(len);
	state.counters["allocs_per_msg"] = static_cast<double>(allocs) / 1000.0;
	state.counters["ns_per_msg"] = benchmark::Counter(
		static_cast<double>(state.iterations() * n),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_rewrite)->Arg(K_RW_COPY)->Arg(K_RW_REWRITE)->Arg(K_RW_PARSE_REWRITE);

BENCHMARK_MAIN();
