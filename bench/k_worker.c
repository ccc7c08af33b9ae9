/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One worker iteration over net_ring ports, on this thread: a burst of 32
 * INVITEs (the workload's called numbers) goes into the callers' RX ring,
 * sw_dp_worker_poll() parses, matches, rewrites and sends them, and the
 * callee side's TX ring is emptied. The EAL runs --no-huge in this process.
 * k_feed() does the same feeding and draining without the worker, so the
 * worker's own cost is the difference.
 *
 * K_WORKER_COLD=1 in the environment flushes every line the feeding wrote
 * (mbuf, private area, frame) from the caches before the worker runs, as
 * when another core (the net_ring generator, a NIC's DMA) wrote them: the
 * worker then pays for fetching them, which BM_worker otherwise hides.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <immintrin.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "bench/invite.h"
#include "bench/kernels.h"
#include "control/control.h"
#include "nic/nic.h"
#include "rules/ruleset.h"

#define BURST 32
#define MAX_NUMS 4096

struct k_worker {
	struct sw_dp *dp;
	struct sw_ruleset *rs, *slot;
	struct rte_ring *rx[2], *tx[2];
	uint16_t port[2];
	unsigned nframes, next;
	char *frames[MAX_NUMS];
	uint16_t flen[MAX_NUMS];
	char err[256];
};

static struct rte_mempool *pool;
static int eal_ok = -1;
static unsigned seq;
static int cold = -1;
static const struct rte_ether_addr peer[2] = {{{2, 0, 0, 0, 1, 2}}, {{2, 0, 0, 0, 2, 2}}};

static int
eal_once(void)
{
	char prefix[64];
	char *argv[] = {"k_worker", "--no-huge", "-m", "512", "--no-pci", "-l", "0",
			"--log-level", "*:error", "--file-prefix", prefix, NULL};

	if (eal_ok >= 0)
		return eal_ok;
	snprintf(prefix, sizeof(prefix), "swbench-%d", getpid());
	eal_ok = rte_eal_init(11, argv) >= 0 &&
		 (pool = sw_nic_pool_create("kw_pool", 8191, SW_DP_MBUF_PRIV_SIZE, 0)) != NULL;
	return eal_ok;
}

/* The converted workload plus a $target on every rule, so each call is forwarded. */
static char *
make_plan(const char *rules_tsv, char *err, size_t n)
{
	static char out[256];
	char cmd[1024], line[4096];
	FILE *in, *f;

	snprintf(out, sizeof(out), "/tmp/swbench-%d-%u.dialplan", getpid(), seq++);
	snprintf(cmd, sizeof(cmd), "python3 %s/rules/tools/wl2dialplan.py %s %s.src", SW_SOURCE_ROOT,
		 rules_tsv, out);
	if (system(cmd) != 0) {
		snprintf(err, n, "cannot convert %s", rules_tsv);
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "%s.src", out);
	in = fopen(cmd, "r");
	f = fopen(out, "w");
	if (in == NULL || f == NULL) {
		snprintf(err, n, "cannot write %s", out);
		return NULL;
	}
	while (fgets(line, sizeof(line), in) != NULL) {
		fputs(line, f);
		if (strcmp(line, "[Deploy Patterns]\n") == 0)
			fputs("$target = 198.18.2.2:5060\n", f);
	}
	fclose(in);
	fclose(f);
	unlink(cmd);
	return out;
}

static void
add_frame(struct k_worker *k, const char *number, unsigned i, const struct rte_ether_addr *dst)
{
	char sip[1400];
	int n = bench_invite(sip, sizeof(sip), number, "k", i);
	static const uint8_t a1[4] = {198, 18, 1, 1}, a2[4] = {198, 18, 1, 2};
	char *fr = malloc(n + 64);
	uint16_t len = (uint16_t)sw_nic_udp_frame(fr, n + 64, dst->addr_bytes, peer[0].addr_bytes,
						  AF_INET, a2, 5061, a1, 5060, sip, n);

	k->frames[k->nframes] = fr;
	k->flen[k->nframes++] = len;
}

static void
drain(struct k_worker *k)
{
	struct rte_mbuf *ms[BURST];
	unsigned n;

	for (int p = 0; p < 2; p++)
		while ((n = rte_ring_dequeue_burst(k->tx[p], (void **)ms, BURST, NULL)) > 0)
			rte_pktmbuf_free_bulk(ms, n);
}

static void
feed(struct k_worker *k)
{
	struct rte_mbuf *ms[BURST];

	if (rte_pktmbuf_alloc_bulk(pool, ms, BURST) != 0)
		return;
	for (unsigned i = 0; i < BURST; i++) {
		unsigned f = k->next++ % k->nframes;

		memcpy(rte_pktmbuf_append(ms[i], k->flen[f]), k->frames[f], k->flen[f]);
	}
	if (cold < 0) {
		const char *e = getenv("K_WORKER_COLD");

		cold = e != NULL && atoi(e) != 0;
	}
	for (unsigned i = 0; cold && i < BURST; i++) {
		const char *b = (const char *)ms[i];
		const char *end = rte_pktmbuf_mtod_offset(ms[i], char *, ms[i]->data_len);

		for (; b < end; b += RTE_CACHE_LINE_SIZE)
			_mm_clflush(b);
		_mm_clflush(end - 1);
	}
	if (cold)
		_mm_mfence();
	rte_ring_enqueue_burst(k->rx[0], (void **)ms, BURST, NULL);
}

struct k_worker *
k_worker_new(const char *workload_dir, char *err, size_t err_len)
{
	struct k_worker *k = calloc(1, sizeof(*k));
	char path[512], line[256], *plan;
	struct sw_dp_conf c;
	struct sw_diag diag;
	const char *why;
	struct rte_ether_addr mac0;
	FILE *f;

	if (eal_once() != 1) {
		snprintf(err, err_len, "EAL init failed");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/rules.tsv", workload_dir);
	plan = make_plan(path, err, err_len);
	if (plan == NULL)
		return NULL;
	struct sw_rules_src src = {.dialplan = plan, .nb_workers = 1};
	sw_diag_init(&diag);
	k->rs = sw_ruleset_compile(&src, &diag);
	unlink(plan);
	if (k->rs == NULL) {
		snprintf(err, err_len, "dial plan refused: %.200s", diag.text ? diag.text : "");
		return NULL;
	}
	sw_diag_free(&diag);
	k->slot = k->rs;
	memset(&c, 0, sizeof(c));
	for (int p = 0; p < 2; p++) {
		char n[32];

		snprintf(n, sizeof(n), "kw%u_%d", seq, p);
		if (sw_nic_ring_port(n, 1, 1024, 1024, pool, &k->rx[p], &k->tx[p], &k->port[p]) != 0) {
			snprintf(err, err_len, "ring port");
			return NULL;
		}
		c.port_ids[p] = k->port[p];
	}
	rte_eth_macaddr_get(k->port[0], &mac0);
	c.nb_ports = 2;
	c.nb_locals = 2;
	sw_addr_parse("198.18.1.1", 10, &c.locals[0].addr);
	c.locals[0].plen = 24;
	sw_addr_parse("198.18.2.1", 10, &c.locals[1].addr);
	c.locals[1].plen = 24;
	c.locals[1].port = 1;
	c.sip_port = 5060;
	c.nomatch_code = 404;
	c.record_route = true;
	c.nb_workers = 1;
	c.worker_lcores[0] = 0;
	c.pool = pool;
	c.ruleset_slot = &k->slot;
	k->dp = sw_dp_create(&c, &why);
	if (k->dp == NULL) {
		snprintf(err, err_len, "%s", why);
		return NULL;
	}
	/* Learn the callee's MAC the normal way: its ARP request for us. */
	{
		static const uint8_t sip[4] = {198, 18, 2, 2}, tip[4] = {198, 18, 2, 1};
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		char raw[64];
		size_t n = sw_nic_arp_frame(raw, 1, peer[1].addr_bytes, NULL, sip, tip);

		memcpy(rte_pktmbuf_append(m, n), raw, n);
		rte_ring_enqueue(k->rx[1], m);
		for (int i = 0; i < 3; i++) {
			sw_dp_worker_poll(k->dp, 0);
			sw_dp_slowpath_poll(k->dp);
		}
		sw_dp_worker_poll(k->dp, 0);
		sw_dp_worker_flush(k->dp, 0);
		drain(k);
	}
	snprintf(path, sizeof(path), "%s/numbers.csv", workload_dir);
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL && k->nframes < MAX_NUMS) {
		char *semi = strchr(line, ';');

		if (semi == NULL || strncmp(line, "SEQUENTIAL", 10) == 0)
			continue;
		*semi = '\0';
		add_frame(k, line, k->nframes, &mac0);
	}
	if (f != NULL)
		fclose(f);
	if (k->nframes == 0) {
		snprintf(err, err_len, "no numbers in %s", path);
		return NULL;
	}
	return k;
}

uint64_t
k_worker_burst(struct k_worker *k)
{
	feed(k);
	sw_dp_worker_poll(k->dp, 0);
	sw_dp_worker_flush(k->dp, 0);
	drain(k);
	return BURST;
}

uint64_t
k_worker_feed_only(struct k_worker *k)
{
	struct rte_mbuf *ms[BURST];
	unsigned n;

	feed(k);
	while ((n = rte_ring_dequeue_burst(k->rx[0], (void **)ms, BURST, NULL)) > 0)
		rte_pktmbuf_free_bulk(ms, n);
	return BURST;
}

void
k_worker_counters(const struct k_worker *k, uint64_t *fwd, uint64_t *other)
{
	uint64_t c[SW_CNT__COUNT];

	sw_dp_counters(k->dp, c);
	*fwd = c[SW_CNT_FWD_REQUESTS];
	*other = c[SW_CNT_SIP_REQUESTS] - c[SW_CNT_FWD_REQUESTS];
}
