/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file control.h
 * The control door: command-line configuration, the slow-path thread, and
 * (later) the control socket and the RCU writer. Used by control/main.c and
 * by tests; the dataplane never includes it.
 */
#ifndef SW_CONTROL_H
#define SW_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/dataplane.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SW_CFG_MAX_PORTS SW_DP_MAX_PORTS

/** sipwarp's own options (those after the EAL's "--"). */
struct sw_config {
	const char *dialplan;      /**< -d, --dialplan FILE (required) */
	const char *gateways;      /**< -g, --gateways FILE */
	const char *ars;           /**< -r, --ars FILE */
	const char *ctl_socket;    /**< -s, --ctl-socket PATH */
	const char *explain;       /**< --explain FILE: print the decision for a message and exit */
	const char *explain_src;   /**< --explain-src ADDR:PORT */
	uint16_t nb_port_specs;
	const char *port_specs[SW_CFG_MAX_PORTS]; /**< -p, --port SPEC */
	const char *workers;       /**< -w, --workers LCORES ("1-3", "2,4") */
	unsigned mbufs;            /**< --mbufs N */
	int log_stats;             /**< --stats-interval SECONDS, 0 = off */
	/** Filled into a struct sw_dp_conf once ports are open. */
	struct sw_dp_conf dp;
	/** Local addresses as given; port index is the --port order. */
};

/**
 * Parse sipwarp's options (argv after the EAL ones).
 * @return 0 to run, 1 when --help/--version printed and we should exit 0,
 *         -EINVAL with err filled (one line) on a bad option.
 */
int sw_config_parse(struct sw_config *cfg, int argc, char **argv, char *err, size_t err_len);

/** Print the usage text of sipwarp's own options. */
void sw_config_usage(FILE *f, const char *prog);

/** Parse "198.18.0.1", "2001:db8::1" or "[2001:db8::1]". 0 or -EINVAL. */
int sw_addr_parse(const char *s, size_t len, struct sw_addr *a);

/** Start the slow-path thread (a pthread, not an lcore) on dp. 0 or -errno. */
int sw_ctl_slowpath_start(struct sw_dp *dp);
/** Stop and join it. */
void sw_ctl_slowpath_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* SW_CONTROL_H */
