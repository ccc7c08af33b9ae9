/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reload under load: a worker lcore forwards INVITEs without pause over
 * net_ring ports while this thread makes 1,000 reloads, alternating two
 * valid dial plans, with a bad file every tenth. Every message must come
 * out (0 lost), each wholly routed by one plan (its two headers agree),
 * every bad file must be refused, and the worker must still be healthy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "control/control.h"
#include "eal_util.h"
#include "nic/nic.h"
#include "rules/ruleset.h"

#define RELOADS 1000
#define PER_RELOAD 64 /* messages offered between two reloads */

static struct rte_ring *rxr[2], *txr[2];
static struct rte_mempool *pool;
static char prefix[64];
static uint16_t port_id[2];
static struct rte_ether_addr port_mac[2];
static const struct rte_ether_addr peer_mac[2] = {{{2, 0, 0, 0, 1, 2}}, {{2, 0, 0, 0, 2, 2}}};
static struct sw_dp *dp;
static char plan[3][64];
static char frame[1024];
static uint16_t frame_len;

static void
write_plan(const char *path, const char *tag)
{
	FILE *f = fopen(path, "w");

	fprintf(f,
		"# plan %s\n[Rule r%s]\n[Matching Patterns]\n$request = ^INVITE\n"
		"$geturi(To) = ^sip:(1[0-9]{3})@\n[Deploy Patterns]\nTo = sip:%%1@198.18.2.2:5060\n"
		"X-Plan = %s\nX-Check = %s-%s\n",
		tag, tag, tag, tag, tag);
	fclose(f);
}

static void
make_frame(void)
{
	static const char sip[] = "INVITE sip:1000@198.18.1.1 SIP/2.0\r\n"
				  "Via: SIP/2.0/UDP 198.18.1.2:5061;branch=z9hG4bK-load\r\n"
				  "Max-Forwards: 70\r\n"
				  "From: <sip:a@198.18.1.2>;tag=1\r\n"
				  "To: <sip:1000@198.18.1.1>\r\n"
				  "Call-ID: load@198.18.1.2\r\n"
				  "CSeq: 1 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	static const uint8_t a1[4] = {198, 18, 1, 1}, a2[4] = {198, 18, 1, 2};

	frame_len = (uint16_t)sw_nic_udp_frame(frame, sizeof(frame), port_mac[0].addr_bytes,
					       peer_mac[0].addr_bytes, AF_INET, a2, 5061, a1, 5060,
					       sip, sizeof(sip) - 1);
}

/* The callee (198.18.2.2) asks who has 198.18.2.1: sipwarp learns its MAC. */
static void
arp_in(void)
{
	static const uint8_t sip[4] = {198, 18, 2, 2}, tip[4] = {198, 18, 2, 1};
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char raw[64];
	size_t n = sw_nic_arp_frame(raw, RTE_ARP_OP_REQUEST, peer_mac[1].addr_bytes, NULL, sip, tip);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, n), raw, n);
	rte_ring_enqueue(rxr[1], m);
}

struct tally {
	uint64_t a, b, mixed, other;
};

/* Read what the worker sent on port 1; check each message is all one plan. */
static void
drain(struct tally *t)
{
	struct rte_mbuf *ms[64];
	unsigned n;

	while ((n = rte_ring_dequeue_burst(txr[1], (void **)ms, 64, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			const char *s = rte_pktmbuf_mtod(ms[i], const char *);
			uint32_t len = rte_pktmbuf_data_len(ms[i]);
			const char *p = memmem(s, len, "X-Plan: ", 8);
			const char *c = memmem(s, len, "X-Check: ", 9);

			if (p == NULL || c == NULL)
				t->other++;
			else if (p[8] != c[9] || c[9] != c[11])
				t->mixed++;
			else if (p[8] == 'A')
				t->a++;
			else
				t->b++;
		}
		rte_pktmbuf_free_bulk(ms, n);
	}
	while ((n = rte_ring_dequeue_burst(txr[0], (void **)ms, 64, NULL)) > 0) {
		t->other += n;
		rte_pktmbuf_free_bulk(ms, n);
	}
}

static void
reloads_lose_nothing(void **state)
{
	struct tally t = {0};
	uint64_t sent = 0, refused = 0, c[SW_CNT__COUNT];
	struct rte_mbuf *ms[PER_RELOAD];

	(void)state;
	for (unsigned i = 1; i <= RELOADS; i++) {
		struct sw_diag diag;
		unsigned n = PER_RELOAD;
		int r;

		if (rte_pktmbuf_alloc_bulk(pool, ms, n) == 0) {
			for (unsigned k = 0; k < n; k++)
				memcpy(rte_pktmbuf_append(ms[k], frame_len), frame, frame_len);
			unsigned q = rte_ring_enqueue_burst(rxr[0], (void **)ms, n, NULL);

			sent += q;
			if (q < n)
				rte_pktmbuf_free_bulk(ms + q, n - q);
		}
		sw_diag_init(&diag);
		r = sw_ctl_reload(i % 10 == 0 ? plan[2] : plan[i % 2], &diag);
		if (i % 10 == 0) {
			assert_int_equal(r, -EINVAL);
			assert_non_null(strstr(diag.text, ": error: "));
			refused++;
		} else {
			assert_int_equal(r, 0);
		}
		sw_diag_free(&diag);
		drain(&t);
	}
	/* Let the worker finish what is queued, then count. */
	for (int k = 0; k < 200 && t.a + t.b + t.mixed + t.other < sent; k++) {
		rte_delay_ms(5);
		drain(&t);
	}
	sw_dp_counters(dp, c);
	print_message("# sent %" PRIu64 ", plan A %" PRIu64 ", plan B %" PRIu64 ", mixed %" PRIu64
		      ", other %" PRIu64 ", refused %" PRIu64 "\n",
		      sent, t.a, t.b, t.mixed, t.other, refused);
	for (unsigned k = 0; k < SW_CNT__COUNT; k++)
		if (c[k] != 0)
			print_message("#   %s %" PRIu64 "\n", sw_counter_name(k), c[k]);
	/* How much got in depends on how much CPU the worker lcore got; what
	 * counts is that all of it came out, each message from one plan. */
	assert_true(sent > 0);
	assert_int_equal(t.mixed, 0);
	assert_int_equal(t.other, 0);
	assert_int_equal(t.a + t.b, sent);
	assert_true(t.a > 0 && t.b > 0);
	assert_int_equal(refused, RELOADS / 10);
	assert_int_equal(c[SW_CNT_FWD_REQUESTS], sent);
	{
		struct sw_ctl_loaded l;

		sw_ctl_loaded(&l);
		assert_int_equal(l.version, 1 + RELOADS - refused);
	}
}

static int
setup(void **state)
{
	char *eal[] = {"test", "--no-huge", "-m", "512", "--no-pci", "-l", "0-1",
		       "--log-level", "lib.eal:error", "--log-level", "user.sipwarp.*:warning",
		       "--file-prefix", prefix, NULL};
	static struct sw_config cfg;
	struct sw_diag diag;
	const char *err;

	(void)state;
	snprintf(prefix, sizeof(prefix), "sw-load-%d", getpid());
	if (rte_eal_init(13, eal) < 0 || rte_lcore_count() < 2)
		return -1;
	for (int i = 0; i < 3; i++)
		snprintf(plan[i], sizeof(plan[i]), "/tmp/sw-load-%d-%d.dialplan", getpid(), i);
	write_plan(plan[0], "A");
	write_plan(plan[1], "B");
	FILE *f = fopen(plan[2], "w");
	fputs("[Rule bad]\n[Matching Patterns]\n$request = ^(INVITE\n", f);
	fclose(f);

	pool = sw_nic_pool_create("load_pool", 8191, SW_DP_MBUF_PRIV_SIZE, 0);
	if (pool == NULL)
		return -1;
	for (int p = 0; p < 2; p++) {
		char n[32];

		snprintf(n, sizeof(n), "lring%d", p);
		/* TX larger than anything the RX ring can hold back: the sink (this
		 * thread) may be slower than the worker, and that is not a loss. */
		if (sw_nic_ring_port(n, 1, 1024, 4096, pool, &rxr[p], &txr[p], &port_id[p]) != 0)
			return -1;
		rte_eth_macaddr_get(port_id[p], &port_mac[p]);
		cfg.dp.port_ids[p] = port_id[p];
	}
	cfg.dialplan = plan[0];
	cfg.dp.nb_ports = 2;
	cfg.dp.nb_locals = 2;
	sw_addr_parse("198.18.1.1", 10, &cfg.dp.locals[0].addr);
	cfg.dp.locals[0].plen = 24;
	sw_addr_parse("198.18.2.1", 10, &cfg.dp.locals[1].addr);
	cfg.dp.locals[1].plen = 24;
	cfg.dp.locals[1].port = 1;
	cfg.dp.sip_port = 5060;
	cfg.dp.nomatch_code = 404;
	cfg.dp.nb_workers = 1;
	cfg.dp.worker_lcores[0] = rte_get_next_lcore(-1, 1, 0);
	cfg.dp.pool = pool;
	cfg.dp.ruleset_slot = sw_ctl_ruleset_slot();
	sw_diag_init(&diag);
	if (sw_ctl_rules_init(&cfg, 1, &diag) != 0)
		return -1;
	sw_diag_free(&diag);
	dp = sw_dp_create(&cfg.dp, &err);
	if (dp == NULL || sw_ctl_slowpath_start(dp) != 0)
		return -1;
	make_frame();
	arp_in();
	rte_eal_remote_launch(sw_dp_worker_main, dp, cfg.dp.worker_lcores[0]);
	rte_delay_ms(100);
	struct tally t = {0};
	drain(&t); /* the ARP answer */
	return 0;
}

static int
teardown(void **state)
{
	struct tally t = {0};

	(void)state;
	sw_dp_stop(dp);
	rte_eal_mp_wait_lcore();
	sw_ctl_slowpath_stop();
	drain(&t);
	sw_dp_free(dp);
	sw_ctl_rules_fini();
	for (int p = 0; p < 2; p++) {
		rte_eth_dev_stop(port_id[p]);
		rte_eth_dev_close(port_id[p]);
	}
	rte_mempool_free(pool);
	for (int i = 0; i < 3; i++)
		unlink(plan[i]);
	eal_cleanup_all(prefix);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reloads_lose_nothing),
	};
	return cmocka_run_group_tests_name("eal_reload_load", tests, setup, teardown);
}
