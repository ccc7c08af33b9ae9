// SPDX-License-Identifier: BSD-3-Clause
// Google Benchmark registrations for the C kernels of bench/kernels.h.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>

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

BENCHMARK_MAIN();
