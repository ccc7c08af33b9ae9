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

/* ---- rules and RCU (reload.c): the only writer of the ruleset slot ---- */

struct sw_diag;
struct sw_ruleset;

/** What is loaded, for ruleset.info. */
struct sw_ctl_loaded {
	uint64_t version;       /**< 1 for the first ruleset, +1 per successful reload */
	int64_t loaded_at;      /**< unix time */
	uint64_t publish_ns;    /**< swap + grace period of the last reload */
	char dialplan[4096];
};

/**
 * Compile the first ruleset from cfg's files and publish it.
 * @return 0, or -EINVAL with every error in *diag.
 */
int sw_ctl_rules_init(const struct sw_config *cfg, unsigned nb_workers, struct sw_diag *diag);

/** The RCU slot workers read (give it to the dataplane). */
struct sw_ruleset **sw_ctl_ruleset_slot(void);
/** The ARS call counters (Max Sessions, CPS) every ruleset is bound to. */
struct sw_ars_state *sw_ctl_ars_state(void);

/**
 * Build a new ruleset (from dialplan, or the current path when NULL), swap it
 * in with rcu_xchg_pointer, wait for a grace period, free the old one.
 * Serialized: one reload at a time, whatever thread asks. A bad file leaves
 * the running ruleset in place and returns -EINVAL with the errors in *diag.
 */
int sw_ctl_reload(const char *dialplan, struct sw_diag *diag);

/** What is loaded now. */
void sw_ctl_loaded(struct sw_ctl_loaded *out);

/** Unpublish and free the ruleset (after the workers stopped). */
void sw_ctl_rules_fini(void);

/* ---- control socket (ctl_socket.c) ---- */

/**
 * Serve JSON-RPC 2.0 on a unix stream socket at path (mode 0660), one
 * request per line, in a thread of its own. Also runs SIGHUP reloads.
 * @return 0 or -errno.
 */
int sw_ctl_start(const char *path, struct sw_dp *dp);
/** Stop the control thread and remove the socket. */
void sw_ctl_stop(void);
/** Ask for a reload from a signal handler (async-signal-safe). */
void sw_ctl_request_reload(void);
/**
 * Handle one JSON-RPC request text; returns the response text (malloc'd,
 * one line) or NULL for a notification. Control thread or tests.
 */
char *sw_ctl_handle(struct sw_dp *dp, const char *req, size_t len);

/**
 * Register /sipwarp/stats and /sipwarp/ruleset telemetry commands and
 * initialise pdump (for dpdk-dumpcap). After rte_eal_init. 0 or -errno.
 */
int sw_ctl_telemetry_init(struct sw_dp *dp);

/** Start the slow-path thread (a pthread, not an lcore) on dp. 0 or -errno. */
int sw_ctl_slowpath_start(struct sw_dp *dp);
/** Stop and join it. */
void sw_ctl_slowpath_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* SW_CONTROL_H */
