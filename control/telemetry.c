/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands, so dpdk-telemetry.py shows sipwarp next to the
 * ports: /sipwarp/stats (counters summed over workers), /sipwarp/ruleset,
 * /sipwarp/ars (ARS session counts).
 * And pdump, so dpdk-dumpcap captures from a running sipwarp.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_pdump.h>
#include <rte_telemetry.h>

#include "control/control.h"
#include "rules/ruleset.h"

static struct sw_dp *tel_dp;

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t c[SW_CNT__COUNT];

	(void)cmd;
	(void)params;
	if (tel_dp == NULL)
		return -1;
	sw_dp_counters(tel_dp, c);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < SW_CNT__COUNT; i++)
		rte_tel_data_add_dict_u64(d, sw_counter_name(i), c[i]);
	return 0;
}

static int
tel_ruleset(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct sw_ruleset *rs = *sw_ctl_ruleset_slot();
	struct sw_ruleset_info info;
	struct sw_ctl_loaded l;
	char sha[65];

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (rs == NULL)
		return 0;
	/* The control thread may swap meanwhile: the info read is a snapshot. */
	sw_ruleset_get_info(rs, &info);
	sw_ctl_loaded(&l);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", info.sha256[i]);
	rte_tel_data_add_dict_u64(d, "version", l.version);
	rte_tel_data_add_dict_string(d, "dialplan", l.dialplan);
	rte_tel_data_add_dict_string(d, "sha256", sha);
	rte_tel_data_add_dict_u64(d, "rules", info.rules);
	rte_tel_data_add_dict_u64(d, "routes", info.routes);
	rte_tel_data_add_dict_u64(d, "gateways", info.gateways);
	rte_tel_data_add_dict_u64(d, "build_us", info.build_ns / 1000);
	return 0;
}

/* ARS Max Sessions counts: "route/pattern" -> calls up. */
static int
tel_ars(const char *cmd, const char *params, struct rte_tel_data *d)
{
	/* each telemetry client has a thread of its own: no static buffer */
	struct sw_ars_slot_info *info = calloc(SW_ARS_SLOTS, sizeof(*info));
	unsigned n;

	(void)cmd;
	(void)params;
	if (info == NULL)
		return -ENOMEM;
	n = sw_ars_state_list(sw_ctl_ars_state(), 0, info, SW_ARS_SLOTS);
	rte_tel_data_start_dict(d);
	for (unsigned i = 0; i < n && i < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		char name[RTE_TEL_MAX_STRING_LEN];

		snprintf(name, sizeof(name), "%.60s/%u", info[i].route, info[i].pattern);
		rte_tel_data_add_dict_u64(d, name, (uint64_t)info[i].sessions);
	}
	free(info);
	return 0;
}

int
sw_ctl_telemetry_init(struct sw_dp *dp)
{
	tel_dp = dp;
	rte_telemetry_register_cmd("/sipwarp/stats", tel_stats,
				   "sipwarp counters summed over workers. No parameters");
	rte_telemetry_register_cmd("/sipwarp/ruleset", tel_ruleset,
				   "the loaded ruleset: version, SHA-256, counts. No parameters");
	rte_telemetry_register_cmd("/sipwarp/ars", tel_ars,
				   "ARS calls up per route/pattern with Max Sessions or CPS. No parameters");
	return rte_pdump_init();
}
