/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * End-to-end benchmark on net_ring ports: a generator lcore feeds prebuilt
 * INVITEs (one per called number of a workload) into the callers' port,
 * worker lcores route them with the real worker loop, and the generator
 * drains the callee side. Latency: the generator writes the TSC into the
 * Call-ID, the sink reads it back from the forwarded message.
 *
 *   sipwarp-bench-ring [EAL] -- -d DIALPLAN -n NUMBERS.csv [-t SECONDS]
 *                      [-q INFLIGHT] [-o OUT.json]
 *
 * EAL: -l GEN,W1[,W2...] --no-huge -m 1024 --no-pci --file-prefix NAME.
 * The first lcore generates; every other one is a worker.
 *
 * -q caps the messages in flight (sent, not yet back): 0 (the default)
 * keeps the rings full, which measures throughput but makes the latency
 * the time spent queued in a 4096-deep ring; a small cap (e.g. 32) measures
 * the latency of a worker that is not overloaded.
 *
 * Cost per message comes two ways: the worker's busy cycles per packet
 * (TSC over bursts that had packets: exact on a quiet core, inflated when the
 * kernel preempts the lcore mid-burst) and the worker thread's CPU time per
 * packet (pthread_getcpuclockid: includes idle polling, so an upper bound).
 * The JSON has both, the CPU share the worker got, and the latency histogram.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-qsbr.h>

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

#include "bench/invite.h"
#include "control/control.h"
#include "dataplane/dataplane.h"
#include "nic/nic.h"
#include "rules/ruleset.h"

#define MAX_NUMBERS 100000
#define RING 4096
#define BURST 32
/* Log-linear latency buckets: 16 per power of two (6 % wide), 1 ns to ~18 min. */
#define LAT_SUB 16
#define LAT_BUCKETS ((40 - 3) * LAT_SUB + LAT_SUB)

static const char *dialplan, *numbers_path, *out_path;
static double seconds = 5.0;
static unsigned reload_ms;        /* -R: reload the dial plan every N ms during the run */
static volatile int reload_stop;
static uint64_t reloads_done;
static unsigned max_inflight; /* 0: no cap */
static uint64_t lost_total;    /* given up on while capped (dropped by the worker) */
static pthread_t worker_thread[SW_DP_MAX_WORKERS];
static volatile unsigned nb_started;
static unsigned nb_workers;
static struct sw_dp *dp;
static struct rte_mempool *pool;
static struct rte_ring *rx[2][SW_DP_MAX_WORKERS], *tx[2][SW_DP_MAX_WORKERS];
static uint16_t port_id[2];
static struct rte_ether_addr port_mac[2];
static const struct rte_ether_addr peer_mac[2] = {{{2, 0, 0, 0, 1, 2}}, {{2, 0, 0, 0, 2, 2}}};
static struct tmpl {
	uint16_t len;
	uint16_t cid; /**< offset of the Call-ID value (its 16 hex digits) in frame */
	char *frame;
} *tmpls;
static unsigned nb_tmpls;
static volatile int running = 1;
static uint64_t lat[LAT_BUCKETS + 1];

static unsigned
lat_bucket(uint64_t ns)
{
	unsigned msb, b;

	if (ns < LAT_SUB)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	b = (msb - 3) * LAT_SUB + (unsigned)((ns >> (msb - 4)) & (LAT_SUB - 1));
	return b > LAT_BUCKETS ? LAT_BUCKETS : b;
}

/* Bucket b holds [lo, hi) ns. */
static void
lat_bounds(unsigned b, double *lo, double *hi)
{
	unsigned msb = b / LAT_SUB + 3, sub = b % LAT_SUB;

	if (b < LAT_SUB) {
		*lo = b;
		*hi = b + 1;
		return;
	}
	*lo = (double)((uint64_t)(LAT_SUB + sub) << (msb - 4));
	*hi = (double)((uint64_t)(LAT_SUB + sub + 1) << (msb - 4));
}
static uint64_t sent_total, recv_total, other_total, lat_max;

static char **
read_numbers(const char *path, unsigned *n)
{
	FILE *f = fopen(path, "r");
	char line[256], **v;

	if (f == NULL)
		return NULL;
	v = calloc(MAX_NUMBERS, sizeof(*v));
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL && *n < MAX_NUMBERS) {
		char *semi = strchr(line, ';');

		if (strncmp(line, "SEQUENTIAL", 10) == 0 || strncmp(line, "RANDOM", 6) == 0 ||
		    semi == NULL)
			continue;
		*semi = '\0';
		v[(*n)++] = strdup(line);
	}
	fclose(f);
	return v;
}

/* Ethernet + IPv4 + UDP + an INVITE; the Call-ID starts with 16 hex digits for the TSC. */
static void
make_template(struct tmpl *t, const char *number, unsigned i)
{
	static const uint8_t src[4] = {198, 18, 1, 2}, dst[4] = {198, 18, 1, 1};
	char sip[1024];
	int n = bench_invite(sip, sizeof(sip), number, "0000000000000000-", i);

	t->frame = calloc(1, (size_t)n + 64);
	t->len = (uint16_t)sw_nic_udp_frame(t->frame, (size_t)n + 64, port_mac[0].addr_bytes,
					    peer_mac[0].addr_bytes, AF_INET, src, 5061, dst, 5060,
					    sip, (size_t)n);
	t->cid = (uint16_t)((char *)memmem(t->frame, t->len, "Call-ID: ", 9) + 9 - t->frame);
}

/*
 * The generator core is the worker's only peer: its cost per message bounds
 * what the run can show. So no memmem, strtoull or snprintf per message:
 * the Call-ID's place in a template is known, the TSC goes in as 16 hex
 * digits by hand, and the sink finds "Call-ID: " by its 'C' (the first
 * 'C' of a forwarded INVITE is usually that one).
 */
static const char *
find_call_id(const char *s, uint32_t len)
{
	const char *p = s, *end = s + len;

	while ((p = memchr(p, 'C', (size_t)(end - p))) != NULL && end - p >= 9 + 16) {
		if (memcmp(p, "Call-ID: ", 9) == 0)
			return p + 9;
		p++;
	}
	return NULL;
}

static void
put_hex64(char *o, uint64_t v)
{
	for (int i = 15; i >= 0; i--, v >>= 4)
		o[i] = "0123456789abcdef"[v & 0xf];
}

/* 16 hex digits (lower case, as put_hex64 writes them); UINT64_MAX if not. */
static uint64_t
get_hex64(const char *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 16; i++) {
		unsigned c = (unsigned char)s[i], d = c - '0';

		if (d > 9) {
			d = c - 'a' + 10;
			if (d < 10 || d > 15)
				return UINT64_MAX;
		}
		v = v << 4 | d;
	}
	return v;
}

/* The peer on port pi asks for our address: sipwarp learns its MAC. */
static void
arp_from_peer(uint16_t pi, uint32_t sender, uint32_t target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint32_t s = rte_cpu_to_be_32(sender), t = rte_cpu_to_be_32(target);
	char raw[64];
	size_t n = sw_nic_arp_frame(raw, RTE_ARP_OP_REQUEST, peer_mac[pi].addr_bytes, NULL, &s, &t);

	memcpy(rte_pktmbuf_append(m, (uint16_t)n), raw, n);
	rte_ring_enqueue(rx[pi][0], m);
}

static void
sink(unsigned q, uint64_t hz)
{
	struct rte_mbuf *ms[BURST];

	for (int p = 0; p < 2; p++) {
		unsigned n = rte_ring_sc_dequeue_burst(tx[p][q], (void **)ms, BURST, NULL);
		uint64_t now = rte_rdtsc();

		for (unsigned i = 0; i < n; i++) {
			char *s = rte_pktmbuf_mtod(ms[i], char *);
			uint32_t len = rte_pktmbuf_data_len(ms[i]);
			const char *cid = p == 1 && len > 64 ? find_call_id(s, len) : NULL;
			uint64_t t = cid != NULL ? get_hex64(cid) : UINT64_MAX;

			if (t != UINT64_MAX) {
				uint64_t ns = (now - t) * 1000000000ull / hz;
				lat[lat_bucket(ns)]++;
				recv_total++;
				lat_max = ns > lat_max ? ns : lat_max;
			} else {
				other_total++;
			}
		}
		rte_pktmbuf_free_bulk(ms, n);
	}
}

static int
generator(void *arg)
{
	uint64_t hz = rte_get_tsc_hz(), end;
	struct rte_mbuf *ms[BURST];
	unsigned next = 0;
	char hex[16];

	(void)arg;
	end = rte_rdtsc() + (uint64_t)(seconds * (double)hz);
	while (rte_rdtsc() < end) {
		for (unsigned q = 0; q < nb_workers; q++) {
			unsigned room = rte_ring_free_count(rx[0][q]);
			unsigned n = room < BURST ? room : BURST;

			if (max_inflight != 0) {
				uint64_t back = recv_total + other_total + lost_total;
				uint64_t in = sent_total > back ? sent_total - back : 0;
				static uint64_t stuck_since, last_back;

				if (back != last_back) {
					last_back = back;
					stuck_since = 0;
				}
				if (in >= max_inflight) {
					/* Nothing back for 200 ms: the worker dropped them. */
					uint64_t t = rte_rdtsc();

					if (stuck_since == 0)
						stuck_since = t;
					else if (t - stuck_since > hz / 5) {
						lost_total += in;
						stuck_since = 0;
					}
					n = 0;
				} else if (n > max_inflight - in) {
					n = (unsigned)(max_inflight - in);
				}
			}

			if (n == 0 || rte_pktmbuf_alloc_bulk(pool, ms, n) != 0) {
				sink(q, hz);
				continue;
			}
			uint64_t now = rte_rdtsc();
			put_hex64(hex, now);
			for (unsigned i = 0; i < n; i++) {
				struct tmpl *t = &tmpls[next];
				char *d = rte_pktmbuf_append(ms[i], t->len);

				if (++next == nb_tmpls)
					next = 0;
				memcpy(d, t->frame, t->len);
				memcpy(d + t->cid, hex, 16);
			}
			sent_total += rte_ring_sp_enqueue_burst(rx[0][q], (void **)ms, n, NULL);
			sink(q, hz);
		}
	}
	running = 0;
	for (int i = 0; i < 1000; i++)
		for (unsigned q = 0; q < nb_workers; q++)
			sink(q, hz);
	return 0;
}

static void *
reload_loop(void *arg)
{
	(void)arg;
	while (!reload_stop) {
		struct sw_diag diag;

		sw_diag_init(&diag);
		if (sw_ctl_reload(NULL, &diag) == 0)
			reloads_done++;
		sw_diag_free(&diag);
		usleep(reload_ms * 1000u);
	}
	return NULL;
}

static double
pct(double p)
{
	uint64_t target = (uint64_t)(p * (double)recv_total), acc = 0;

	for (unsigned b = 0; b <= LAT_BUCKETS; b++) {
		acc += lat[b];
		if (acc >= target && acc > 0) {
			double lo, hi;

			lat_bounds(b, &lo, &hi);
			return (lo + hi) / 2 / 1000.0;
		}
	}
	return 0;
}

/* The worker loop, with its thread noted so its CPU time can be read. */
static int
worker_main(void *arg)
{
	unsigned i = __atomic_fetch_add(&nb_started, 1, __ATOMIC_SEQ_CST);

	worker_thread[i] = pthread_self();
	return sw_dp_worker_main(arg);
}

static double
workers_cpu_seconds(void)
{
	double t = 0;

	for (unsigned i = 0; i < nb_started; i++) {
		clockid_t cid;
		struct timespec ts;

		if (pthread_getcpuclockid(worker_thread[i], &cid) == 0 &&
		    clock_gettime(cid, &ts) == 0)
			t += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	}
	return t;
}

/* The histogram as [[from µs, to µs, count], ...], non-empty buckets only. */
static void
json_histogram(FILE *f)
{
	const char *sep = "";

	fprintf(f, "[");
	for (unsigned b = 0; b <= LAT_BUCKETS; b++) {
		if (lat[b] == 0)
			continue;
		double lo, hi;

		lat_bounds(b, &lo, &hi);
		fprintf(f, "%s[%.3f, %.3f, %" PRIu64 "]", sep, lo / 1000.0, hi / 1000.0, lat[b]);
		sep = ", ";
	}
	fprintf(f, "]");
}

static int
setup_ports(void)
{
	for (int p = 0; p < 2; p++) {
		char n[32];
		int id;

		for (unsigned q = 0; q < nb_workers; q++) {
			snprintf(n, sizeof(n), "brx%d_%u", p, q);
			rx[p][q] = rte_ring_create(n, RING, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(n, sizeof(n), "btx%d_%u", p, q);
			tx[p][q] = rte_ring_create(n, RING, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (rx[p][q] == NULL || tx[p][q] == NULL)
				return -ENOMEM;
		}
		snprintf(n, sizeof(n), "bring%d", p);
		id = rte_eth_from_rings(n, rx[p], nb_workers, tx[p], nb_workers, 0);
		if (id < 0)
			return id;
		port_id[p] = (uint16_t)id;
		struct rte_eth_conf ec = {0};
		if (rte_eth_dev_configure(port_id[p], nb_workers, nb_workers, &ec) != 0)
			return -EINVAL;
		for (unsigned q = 0; q < nb_workers; q++) {
			rte_eth_rx_queue_setup(port_id[p], q, RING, 0, NULL, pool);
			rte_eth_tx_queue_setup(port_id[p], q, RING, 0, NULL);
		}
		rte_eth_dev_start(port_id[p]);
		rte_eth_macaddr_get(port_id[p], &port_mac[p]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct sw_config cfg;
	struct sw_diag diag;
	const char *why;
	char **numbers;
	unsigned gen_lcore, l, nn, wi = 0;
	int n, c;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	while ((c = getopt(argc, argv, "d:n:t:o:q:R:")) != -1) {
		switch (c) {
		case 'd':
			dialplan = optarg;
			break;
		case 'n':
			numbers_path = optarg;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'R':
			reload_ms = (unsigned)atoi(optarg);
			break;
		case 'q':
			max_inflight = (unsigned)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [EAL] -- -d DIALPLAN -n NUMBERS [-t S] [-q INFLIGHT] [-R RELOAD_MS] [-o JSON]\n",
				argv[0]);
			return 2;
		}
	}
	if (dialplan == NULL || numbers_path == NULL || rte_lcore_count() < 2) {
		fprintf(stderr, "bench: need -d, -n and at least two lcores (generator, worker)\n");
		return 2;
	}
	numbers = read_numbers(numbers_path, &nn);
	if (numbers == NULL || nn == 0) {
		fprintf(stderr, "bench: no numbers in %s\n", numbers_path);
		return 2;
	}
	gen_lcore = rte_get_main_lcore();
	cfg.dialplan = dialplan;
	cfg.dp.sip_port = 5060;
	cfg.dp.nomatch_code = 404;
	cfg.dp.record_route = true;
	RTE_LCORE_FOREACH_WORKER(l)
	cfg.dp.worker_lcores[wi++] = l;
	nb_workers = cfg.dp.nb_workers = wi;
	pool = sw_nic_pool_create("bench_pool", 65535, SW_DP_MBUF_PRIV_SIZE, 0);
	if (pool == NULL || setup_ports() != 0) {
		fprintf(stderr, "bench: cannot set up pool/ports (raise -m)\n");
		return 1;
	}
	sw_diag_init(&diag);
	if (sw_ctl_rules_init(&cfg, nb_workers, &diag) != 0) {
		fprintf(stderr, "%s", diag.text ? diag.text : "bench: dial plan refused\n");
		return 1;
	}
	sw_diag_free(&diag);
	cfg.dp.nb_ports = 2;
	cfg.dp.port_ids[0] = port_id[0];
	cfg.dp.port_ids[1] = port_id[1];
	cfg.dp.nb_locals = 2;
	sw_addr_parse("198.18.1.1", 10, &cfg.dp.locals[0].addr);
	cfg.dp.locals[0].plen = 24;
	cfg.dp.locals[0].port = 0;
	sw_addr_parse("198.18.2.1", 10, &cfg.dp.locals[1].addr);
	cfg.dp.locals[1].plen = 24;
	cfg.dp.locals[1].port = 1;
	/* Everything off-net goes to the callee side's next hop. */
	cfg.dp.nb_routes = 1;
	sw_addr_parse("198.18.2.2", 10, &cfg.dp.routes[0].via);
	cfg.dp.routes[0].prefix.family = AF_INET;
	cfg.dp.pool = pool;
	cfg.dp.ruleset_slot = sw_ctl_ruleset_slot();
	dp = sw_dp_create(&cfg.dp, &why);
	if (dp == NULL) {
		fprintf(stderr, "bench: %s\n", why);
		return 1;
	}
	tmpls = calloc(nn, sizeof(*tmpls));
	for (unsigned i = 0; i < nn; i++)
		make_template(&tmpls[i], numbers[i], i);
	nb_tmpls = nn;

	/* Neighbours learned the normal way: ARP through the slow path. */
	sw_ctl_slowpath_start(dp);
	arp_from_peer(0, 0xc6120102, 0xc6120101);
	arp_from_peer(1, 0xc6120202, 0xc6120201);
	RTE_LCORE_FOREACH_WORKER(l)
	rte_eal_remote_launch(worker_main, dp, l);
	rte_delay_ms(200);
	for (unsigned q = 0; q < nb_workers; q++)
		for (int p = 0; p < 2; p++) {
			struct rte_mbuf *m = NULL;

			while (rte_ring_dequeue(tx[p][q], (void **)&m) == 0)
				rte_pktmbuf_free(m);
		}
	uint64_t c0[SW_CNT__COUNT], c1[SW_CNT__COUNT];
	sw_dp_counters(dp, c0);
	double cpu0 = workers_cpu_seconds();
	pthread_t reloader;

	/* -R: the control side rebuilds and swaps the ruleset every N ms while
	 * traffic flows, so the latency below is latency during swaps. */
	if (reload_ms > 0)
		pthread_create(&reloader, NULL, reload_loop, NULL);
	generator(NULL);
	if (reload_ms > 0) {
		reload_stop = 1;
		pthread_join(reloader, NULL);
	}
	double cpu1 = workers_cpu_seconds();
	sw_dp_counters(dp, c1);
	sw_dp_stop(dp);
	rte_eal_mp_wait_lcore();
	sw_ctl_slowpath_stop();
	(void)gen_lcore;

	double busy = (double)(c1[SW_CNT_BUSY_CYCLES] - c0[SW_CNT_BUSY_CYCLES]);
	double pkts = (double)(c1[SW_CNT_BUSY_PKTS] - c0[SW_CNT_BUSY_PKTS]);
	double mps = (double)recv_total / seconds;
	double cpm = pkts > 0 ? busy / pkts : 0;
	double hz = (double)rte_get_tsc_hz();
	/* What one worker core could do if the generator kept it busy all the time. */
	double capacity = cpm > 0 ? hz / cpm : 0;

	printf("workers            %u\n", nb_workers);
	printf("numbers            %u (%s)\n", nn, numbers_path);
	printf("sent               %" PRIu64 "\n", sent_total);
	printf("forwarded          %" PRIu64 " (%.0f msg/s offered by one generator core)\n",
	       recv_total, mps);
	printf("other              %" PRIu64 " (answers, ...)\n", other_total);
	printf("cycles per message %.0f (busy cycles / packets, TSC %.2f GHz)\n", cpm, hz / 1e9);
	printf("worker capacity    %.2f M msg/s per core (TSC / cycles per message)\n",
	       capacity / 1e6);
	double cpu = cpu1 - cpu0, share = cpu / (seconds * nb_workers);
	double cpu_us = pkts > 0 ? cpu * 1e6 / pkts : 0;

	printf("worker CPU         %.2f s of %.2f s (%.0f %% of its core; the rest went to other "
	       "processes)\n",
	       cpu, seconds * nb_workers, 100 * share);
	printf("CPU per message    %.3f us (worker thread CPU time / packets, idle polls included)\n",
	       cpu_us);
	printf("in flight cap      %u%s, lost %" PRIu64 "\n", max_inflight,
	       max_inflight ? "" : " (none: rings kept full)", lost_total);
	if (reload_ms > 0)
		printf("reloads            %" PRIu64 " (one every %u ms, each a full build + RCU swap)\n",
		       reloads_done, reload_ms);
	printf("latency us         p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(0.5),
	       pct(0.9), pct(0.99), pct(0.999), (double)lat_max / 1000.0);
	for (unsigned i = 0; i < SW_CNT__COUNT; i++)
		if (c1[i] - c0[i] != 0)
			printf("  %-22s %" PRIu64 "\n", sw_counter_name(i), c1[i] - c0[i]);
	if (out_path != NULL) {
		FILE *f = fopen(out_path, "w");

		if (f != NULL) {
			fprintf(f,
				"{\"workers\": %u, \"rules_file\": \"%s\", \"numbers\": %u, "
				"\"seconds\": %.2f, \"sent\": %" PRIu64 ", \"forwarded\": %" PRIu64
				", \"msgs_per_sec\": %.0f, \"cycles_per_msg\": %.1f, "
				"\"capacity_msgs_per_sec_per_core\": %.0f, \"tsc_hz\": %.0f, "
				"\"max_inflight\": %u, \"lost\": %" PRIu64 ", \"reload_ms\": %u, "
				"\"reloads\": %" PRIu64 ", "
				"\"worker_cpu_seconds\": %.3f, \"worker_cpu_share\": %.3f, "
				"\"cpu_us_per_msg\": %.4f, \"busy_us_per_msg\": %.4f, "
				"\"latency_us\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
				"\"p999\": %.3f, \"max\": %.3f, "
				"\"histogram\": ",
				nb_workers, dialplan, nn, seconds, sent_total, recv_total, mps, cpm,
				capacity, hz, max_inflight, lost_total, reload_ms, reloads_done, cpu,
				share, cpu_us,
				cpm * 1e6 / hz, pct(0.5), pct(0.9), pct(0.99), pct(0.999),
				(double)lat_max / 1000.0);
			json_histogram(f);
			fprintf(f, "}, \"counters\": {");
			const char *sep = "";
			for (unsigned i = 0; i < SW_CNT__COUNT; i++)
				if (c1[i] - c0[i] != 0) {
					fprintf(f, "%s\"%s\": %" PRIu64, sep, sw_counter_name(i),
						c1[i] - c0[i]);
					sep = ", ";
				}
			fprintf(f, "}}\n");
			fclose(f);
		}
	}
	sw_dp_free(dp);
	sw_ctl_rules_fini();
	rte_eal_cleanup();
	return 0;
}
