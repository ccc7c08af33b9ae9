// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark registrations for the C kernels of bench/kernels.h.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
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
	state.counters["ns_per_msg"] = benchmark::Counter(
		static_cast<double>(state.iterations() * c->n),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_parse)
	->Arg(K_PARSE_INVITE)
	->Arg(K_PARSE_OK200)
	->Arg(K_PARSE_ACK)
	->Arg(K_PARSE_TORTURE);

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
