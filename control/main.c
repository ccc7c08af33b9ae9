/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sipwarp: EAL, options, the first ruleset, ports, workers, the slow path;
 * then wait for a signal and shut down in reverse order. rte_exit() is not
 * used: every failure before launch prints one "sipwarp: " line and exits
 * non-zero after releasing what was set up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "control/control.h"
#include "nic/nic.h"
#include "rules/ruleset.h"

static struct sw_dp *the_dp;
static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		sw_ctl_request_reload();
		return;
	}
	got_signal = sig;
	if (the_dp != NULL)
		sw_dp_stop(the_dp);
}

static int
die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
die(const char *fmt, ...)
{
	va_list ap;

	fputs("sipwarp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILURE;
}

static bool
files_readable(const struct sw_config *cfg)
{
	const char *paths[] = {cfg->dialplan, cfg->ars, cfg->gateways};

	for (unsigned i = 0; i < 3; i++)
		if (paths[i] != NULL && access(paths[i], R_OK) != 0) {
			die("cannot read %s: %s", paths[i], strerror(errno));
			return false;
		}
	return true;
}

static void
refused(const struct sw_config *cfg, struct sw_diag *diag)
{
	if (diag->text != NULL)
		fputs(diag->text, stderr);
	die("%s refused: %u error%s", cfg->dialplan, diag->errors, diag->errors == 1 ? "" : "s");
}

static struct sw_ruleset *
load_rules(const struct sw_config *cfg, unsigned nb_workers)
{
	struct sw_rules_src src = {
		.dialplan = cfg->dialplan,
		.ars = cfg->ars,
		.gateways = cfg->gateways,
		.nb_workers = nb_workers,
	};
	struct sw_ruleset *rs;
	struct sw_diag diag;

	if (!files_readable(cfg))
		return NULL;
	sw_diag_init(&diag);
	rs = sw_ruleset_compile(&src, &diag);
	if (rs == NULL)
		refused(cfg, &diag);
	else if (diag.text != NULL)
		fputs(diag.text, stderr);
	sw_diag_free(&diag);
	return rs;
}

/* Offline explain: no EAL, no ports. */
static int
explain(const struct sw_config *cfg)
{
	static char buf[SW_SIP_MAX_MSG + 1], crlf[2 * SW_SIP_MAX_MSG];
	static struct sw_sip_msg msg;
	struct sw_match_in in = {.msg = &msg, .src_port = 5060, .local_port = cfg->dp.sip_port,
				 .now = (int64_t)time(NULL)};
	struct sw_ruleset *rs;
	const char *src = cfg->explain_src ? cfg->explain_src : "198.18.0.2:5060";
	const char *colon = strrchr(src, ':');
	size_t n, k = 0;
	FILE *f;
	char *text;

	if (colon == NULL || sw_addr_parse(src, colon - src, &in.src) != 0)
		return die("--explain-src \"%s\": expected ADDR:PORT", src);
	in.src_port = (uint16_t)atoi(colon + 1);
	f = fopen(cfg->explain, "rb");
	if (f == NULL)
		return die("cannot read %s: %s", cfg->explain, strerror(errno));
	n = fread(buf, 1, SW_SIP_MAX_MSG, f);
	fclose(f);
	/* A message saved by an editor has bare LFs: SIP wants CRLF. */
	for (size_t i = 0; i < n && k < sizeof(crlf) - 1; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			crlf[k++] = '\r';
		crlf[k++] = buf[i];
	}
	if (k > SW_SIP_MAX_MSG)
		k = SW_SIP_MAX_MSG;
	rs = load_rules(cfg, 1);
	if (rs == NULL)
		return EXIT_FAILURE;
	if (sw_sip_parse(&msg, crlf, k) != SW_SIP_OK)
		printf("message: %u %s\n", msg.reply_code, msg.reason ? msg.reason : "malformed");
	text = sw_ruleset_explain(rs, &in);
	if (text != NULL)
		fputs(text, stdout);
	free(text);
	sw_ruleset_free(rs);
	return EXIT_SUCCESS;
}

static bool
wants_explain(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--explain") == 0)
			return true;
	return false;
}

static int
pick_workers(struct sw_config *cfg)
{
	struct sw_dp_conf *c = &cfg->dp;
	unsigned l;

	if (c->nb_workers == 0) {
		if (rte_lcore_count() == 1) {
			c->worker_lcores[c->nb_workers++] = rte_get_main_lcore();
		} else {
			RTE_LCORE_FOREACH_WORKER(l)
			{
				if (c->nb_workers < SW_DP_MAX_WORKERS)
					c->worker_lcores[c->nb_workers++] = l;
			}
		}
	}
	for (unsigned i = 0; i < c->nb_workers; i++)
		if (!rte_lcore_is_enabled(c->worker_lcores[i]))
			return die("worker lcore %u is not in the EAL core list (-l)",
				   c->worker_lcores[i]);
	return 0;
}

static void
print_counters(FILE *f, const struct sw_dp *dp)
{
	uint64_t c[SW_CNT__COUNT];

	sw_dp_counters(dp, c);
	for (unsigned i = 0; i < SW_CNT__COUNT; i++)
		fprintf(f, "%s %" PRIu64 "\n", sw_counter_name(i), c[i]);
}

int
main(int argc, char **argv)
{
	static struct sw_config cfg;
	char err[256];
	struct rte_mempool *pool = NULL;
	struct sw_diag diag;
	uint16_t nb_open = 0;
	bool main_is_worker = false;
	int rc = EXIT_FAILURE, n, r;

	if (wants_explain(argc, argv)) {
		char **a = argv;
		int m = argc;

		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--") == 0) {
				a = argv + i;
				m = argc - i;
				a[0] = argv[0];
				break;
			}
		n = sw_config_parse(&cfg, m, a, err, sizeof(err));
		if (n != 0)
			return n > 0 ? EXIT_SUCCESS : die("%s", err);
		return explain(&cfg);
	}
	/* Help and version need no EAL. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			sw_config_usage(stdout, "sipwarp");
			printf("\nEAL options go before \"--\"; the usual ones: -l CORELIST (main lcore\n"
			       "first, then workers), -a PCI_ADDR, --no-huge -m MB, --no-pci,\n"
			       "--file-prefix NAME (one per DPDK process), --log-level=user.sipwarp.*:debug\n");
			return EXIT_SUCCESS;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("sipwarp %s\n", SW_VERSION);
			return EXIT_SUCCESS;
		}
	}

	n = rte_eal_init(argc, argv);
	if (n < 0)
		return die("EAL initialisation failed: %s", rte_strerror(rte_errno));
	argv[n] = argv[0];
	n = sw_config_parse(&cfg, argc - n, argv + n, err, sizeof(err));
	if (n != 0) {
		rc = n > 0 ? EXIT_SUCCESS : die("%s", err);
		goto out_eal;
	}
	if (pick_workers(&cfg) != 0)
		goto out_eal;
	for (unsigned i = 0; i < cfg.dp.nb_workers; i++)
		if (cfg.dp.worker_lcores[i] == rte_get_main_lcore())
			main_is_worker = true;

	if (!files_readable(&cfg))
		goto out_eal;
	sw_diag_init(&diag);
	if (sw_ctl_rules_init(&cfg, cfg.dp.nb_workers, &diag) != 0) {
		refused(&cfg, &diag);
		sw_diag_free(&diag);
		goto out_eal;
	}
	if (diag.text != NULL)
		fputs(diag.text, stderr); /* warnings */
	sw_diag_free(&diag);

	pool = sw_nic_pool_create("sw_pool", cfg.mbufs, SW_DP_MBUF_PRIV_SIZE, (int)rte_socket_id());
	if (pool == NULL) {
		die("cannot create the mbuf pool (%u mbufs): %s; raise -m", cfg.mbufs,
		    rte_strerror(errno));
		goto out_rules;
	}
	for (nb_open = 0; nb_open < cfg.nb_port_specs; nb_open++) {
		if (sw_nic_port_open(cfg.port_specs[nb_open], cfg.dp.nb_workers, pool,
				     &cfg.dp.port_ids[nb_open], err, sizeof(err)) != 0) {
			die("%s", err);
			goto out_ports;
		}
		cfg.dp.tx_offloads[nb_open] = sw_nic_port_tx_offloads(cfg.dp.port_ids[nb_open]);
	}
	cfg.dp.nb_ports = cfg.nb_port_specs;
	cfg.dp.pool = pool;
	cfg.dp.ruleset_slot = sw_ctl_ruleset_slot();
	cfg.dp.ars = sw_ctl_ars_state();
	{
		const char *why = NULL;

		the_dp = sw_dp_create(&cfg.dp, &why);
		if (the_dp == NULL) {
			die("%s", why);
			goto out_ports;
		}
	}
	if (sw_ctl_telemetry_init(the_dp) != 0)
		fprintf(stderr, "sipwarp: warning: pdump not available (%s)\n",
			rte_strerror(rte_errno));
	if (sw_ctl_slowpath_start(the_dp) != 0) {
		die("cannot start the slow-path thread");
		goto out_dp;
	}
	r = sw_ctl_start(cfg.ctl_socket, the_dp);
	if (r != 0) {
		die("cannot serve the control socket %s: %s", cfg.ctl_socket, strerror(-r));
		goto out_sp;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	for (unsigned i = 0; i < cfg.dp.nb_workers; i++) {
		unsigned l = cfg.dp.worker_lcores[i];

		if (l != rte_get_main_lcore())
			rte_eal_remote_launch(sw_dp_worker_main, the_dp, l);
	}
	{
		struct sw_ruleset_info info;

		sw_ruleset_get_info(*sw_ctl_ruleset_slot(), &info);
		printf("sipwarp: ready (%u port%s, %u worker%s, %u rule%s)\n", cfg.dp.nb_ports,
		       cfg.dp.nb_ports == 1 ? "" : "s", cfg.dp.nb_workers,
		       cfg.dp.nb_workers == 1 ? "" : "s", info.rules, info.rules == 1 ? "" : "s");
		fflush(stdout);
	}
	if (main_is_worker) {
		sw_dp_worker_main(the_dp);
	} else {
		const struct timespec tick = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
		unsigned ticks = 0;

		while (!sw_dp_stopping(the_dp)) {
			nanosleep(&tick, NULL);
			if (cfg.log_stats > 0 && ++ticks % (cfg.log_stats * 10u) == 0) {
				print_counters(stdout, the_dp);
				fflush(stdout);
			}
		}
	}
	rte_eal_mp_wait_lcore();
	sw_ctl_stop();
	sw_ctl_slowpath_stop();
	printf("sipwarp: stopping on signal %d; counters:\n", (int)got_signal);
	print_counters(stdout, the_dp);
	fflush(stdout);
	rc = EXIT_SUCCESS;
	goto out_dp;
out_sp:
	sw_ctl_slowpath_stop();
out_dp:
	sw_dp_free(the_dp);
	the_dp = NULL;
out_ports:
	while (nb_open > 0)
		sw_nic_port_close(cfg.dp.port_ids[--nb_open]);
	rte_mempool_free(pool);
out_rules:
	sw_ctl_rules_fini();
out_eal:
	rte_eal_cleanup();
	return rc;
}
