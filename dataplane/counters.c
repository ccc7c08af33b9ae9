/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "dp_pvt.h"

static const char *const names[SW_CNT__COUNT] = {
#define SW_CNT(e, name, help) [SW_CNT_##e] = #name,
#include "counters.def"
#undef SW_CNT
};

static const char *const helps[SW_CNT__COUNT] = {
#define SW_CNT(e, name, help) [SW_CNT_##e] = help,
#include "counters.def"
#undef SW_CNT
};

const char *
sw_counter_name(enum sw_counter c)
{
	return (unsigned)c < SW_CNT__COUNT ? names[c] : "?";
}

const char *
sw_counter_help(enum sw_counter c)
{
	return (unsigned)c < SW_CNT__COUNT ? helps[c] : "?";
}

int
sw_dp_worker_counters(const struct sw_dp *dp, unsigned worker, uint64_t *out)
{
	if (worker >= dp->conf.nb_workers)
		return -EINVAL;
	/* Plain loads of another core's counters: at worst a loop old. */
	for (unsigned c = 0; c < SW_CNT__COUNT; c++)
		out[c] = __atomic_load_n(&dp->workers[worker].cnt[c], __ATOMIC_RELAXED);
	return 0;
}

void
sw_dp_counters(const struct sw_dp *dp, uint64_t *out)
{
	uint64_t one[SW_CNT__COUNT];

	for (unsigned c = 0; c < SW_CNT__COUNT; c++)
		out[c] = __atomic_load_n(&dp->sp_cnt[c], __ATOMIC_RELAXED);
	for (unsigned w = 0; w < dp->conf.nb_workers; w++) {
		sw_dp_worker_counters(dp, w, one);
		for (unsigned c = 0; c < SW_CNT__COUNT; c++)
			out[c] += one[c];
	}
}
